"""The on-disk cache of :func:`mtlib.sweep`: one checksummed JSON file per run, and its lock.

Each finished run is stored at once in ``<root>/<function name>-<hash>/<run hash>.json``,
keyed by the function (its source, name and module), the parameters, the seed and the
mtlib version. Files are written atomically (a temporary file, then ``os.replace``) and
carry a SHA-256 checksum, so an interrupted sweep resumes where it stopped and a corrupt
file is recomputed rather than trusted. On Linux a lock file per run (host, pid, process
start time) lets concurrent sweeps on one cache compute each run once. Results and
parameters are the scalars checked by :func:`scalar` and :func:`check_result`.
"""

import hashlib
import inspect
import json
import os
import socket
import tempfile
import warnings
from pathlib import Path

import numpy as np

SCALARS = (bool, int, float, str)  # the value types of parameters and results


def scalar(value, what):
    """Return ``value`` as a Python bool, int, float or str; TypeError otherwise."""
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, SCALARS):
        raise TypeError(f"{what} must be a bool, int, float or str, got {type(value).__name__} ({value!r})")
    return value


def check_result(result, params):
    """Return ``result`` as a dict of Python scalars keyed by names unused by the table."""
    if not isinstance(result, dict):
        raise TypeError(f"func must return a dict of scalar results, got {type(result).__name__}")
    out = {}
    for name, value in result.items():
        if not isinstance(name, str) or name == "seed" or name in params:
            raise ValueError(f"result names must be strings other than 'seed' and the parameter names, got {name!r}")
        out[name] = scalar(value, f"result {name!r}")
    return out


def digest(obj):
    """SHA-256 hex digest of the canonical JSON of ``obj`` (floats written exactly)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def cache_root(cache_dir):
    """``cache_dir`` as a Path, refused (TypeError/ValueError) unless it can be a folder."""
    path = os.fspath(cache_dir) if isinstance(cache_dir, (str, os.PathLike)) else None
    if not isinstance(path, str):
        raise TypeError(f"cache_dir must be a folder path (str or path-like) or None, got {type(cache_dir).__name__}")
    if not path.strip():
        raise ValueError("cache_dir must not be empty: give a folder ('.' for the current one), or None for no cache")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"cache_dir {path!r} is a file, not a folder")
    return Path(path)


def process_tag(pid):
    """The start time of the running process ``pid`` (field 22 of Linux's /proc/<pid>/stat),
    which tells a reused pid apart; None if none runs (a zombie counts as gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def stale(lock):
    """Whether a lock file's sweep is gone: its process no longer runs on this host.

    A lock gone or unreadable (read while being written) is stale too: at worst two
    sweeps then compute the same run, which costs time only.
    """
    try:
        host, pid, tag = lock.read_text().split()
        return host == socket.gethostname() and process_tag(int(pid)) != tag
    except (OSError, ValueError):
        return True


class Cache:
    """One JSON file per finished run under ``root/<func name>-<func hash>/``, and its lock."""

    def __init__(self, root, func):
        from . import __version__  # read at call time: mtlib/__init__.py sets it after importing us

        try:
            source = inspect.getsource(func)
        except (OSError, TypeError) as exc:
            raise TypeError(
                f"cache_dir needs the source of func to key the cache, and inspect.getsource failed "
                f"({exc}); define func with def in a file or notebook cell, or pass cache_dir=None"
            ) from exc
        name = getattr(func, "__qualname__", type(func).__name__)
        self.identity = {"source": source, "name": name, "module": getattr(func, "__module__", None), "mtlib": __version__}
        label = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)[:40]
        self.folder = root / f"{label}-{digest(self.identity)[:16]}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"cache_dir {str(root)!r} cannot be used: creating {self.folder} failed ({exc})") from exc
        self.owner = f"{socket.gethostname()} {os.getpid()} {process_tag(os.getpid())}"
        self.held = set()  # the lock files this sweep holds

    def _key(self, params, seed):
        return digest({"function": self.identity, "params": params, "seed": seed})

    def claim(self, params, seed):
        """Take the run's lock file (True), or False while a live sweep holds it (see stale).

        Without Linux's /proc (no check that a process runs) there are no locks: True.
        """
        lock = self.folder / f"{self._key(params, seed)}.lock"
        if not Path("/proc/self/stat").exists():
            return True
        for _ in range(3):  # a stale lock is broken, then taken
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if not stale(lock):
                    return False
                lock.unlink(missing_ok=True)
            else:
                with os.fdopen(fd, "w") as f:
                    f.write(self.owner)
                self.held.add(lock)
                return True
        return False

    def release(self, params, seed):
        """Remove the run's lock file if this sweep holds it."""
        lock = self.folder / f"{self._key(params, seed)}.lock"
        if lock in self.held:
            self.held.remove(lock)
            lock.unlink(missing_ok=True)

    def load(self, params, seed):
        """``(result, None)`` from a valid cache file, or None (missing or corrupt file)."""
        key = self._key(params, seed)
        path = self.folder / f"{key}.json"
        try:
            record = json.loads(path.read_text())
            body = record["body"]
            valid = record["sha256"] == digest(body) and body["key"] == key
            result = check_result(body["result"], params) if valid else None
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, RecursionError, OSError):  # OSError: e.g. a folder there
            valid = False
        if not valid:
            warnings.warn(f"corrupt sweep cache file {path} (params={params}, seed={seed}): recomputing", stacklevel=3)
            return None
        return result, None

    def store(self, params, seed, result):
        """Write the run's record atomically (temporary file, then ``os.replace``); an OSError
        (a folder in the way, a full disk) only warns that the run is not cached."""
        key = self._key(params, seed)
        body = {"key": key, "params": params, "seed": seed, "result": result, "function": self.identity["name"]}
        text = json.dumps({"body": body, "sha256": digest(body)}, allow_nan=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{key[:16]}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.replace(tmp, self.folder / f"{key}.json")
        except BaseException as exc:
            os.unlink(tmp)
            if not isinstance(exc, OSError):
                raise
            warnings.warn(f"could not write sweep cache file {self.folder / key}.json ({exc}): run not cached", stacklevel=3)
