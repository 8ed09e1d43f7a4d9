#!/usr/bin/env bash
# Read and run the chapters in JupyterLab, with MyST rendered (jupyterlab-myst).
#   bash scripts/lab.sh install    make .venv-lab (JupyterLab, pinned in requirements-lab.txt)
#                                  and register the book's .venv as its "python3" kernel
#   bash scripts/lab.sh [ARGS...]  start JupyterLab on 127.0.0.1 at chapters/ (installs first
#                                  when .venv-lab is missing); ARGS go to `jupyter lab`
# The kernel shares the book build's numba cache (.numba_cache), so after a build a
# chapter's first run loads compiled kernels instead of compiling them again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
py=${PYTHON:-python3}

install_lab() {
  if [ ! -x .venv/bin/python ]; then
    "$py" -m venv .venv
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt 2>&1 \
    | grep -v "is neither a file nor a directory" || true
  if [ ! -x .venv-lab/bin/python ]; then
    "$py" -m venv .venv-lab
  fi
  .venv-lab/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-lab.txt 2>&1 \
    | grep -v "is neither a file nor a directory" || true
  # The notebooks' kernel: the book's own environment, under the name the chapters ask for.
  .venv/bin/python -m ipykernel install --prefix "$root/.venv-lab" --name python3 \
    --display-name "Python 3 (mtlib, .venv)" >/dev/null
  .venv-lab/bin/jupyter labextension list 2>&1 | grep -q "jupyterlab-myst .*enabled.*OK" \
    || { echo "error: jupyterlab-myst is not enabled in .venv-lab" >&2; exit 1; }
  echo "JupyterLab installed in .venv-lab; start it with: bash scripts/lab.sh"
}

if [ "${1:-}" = "install" ]; then
  install_lab
  exit 0
fi
if [ ! -x .venv-lab/bin/jupyter-lab ] || [ ! -x .venv/bin/python ]; then
  install_lab
fi

export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-$root/.numba_cache}
export MPLCONFIGDIR=${MPLCONFIGDIR:-$root/.mplconfig}
# Kernel specs from .venv-lab first, so "python3" is the book's .venv.
export JUPYTER_PATH="$root/.venv-lab/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
defaults=(--ip=127.0.0.1)
case " $* " in *" --ServerApp.root_dir="*) ;; *) defaults+=(--ServerApp.root_dir="$root") ;; esac
case " $* " in *" --LabApp.default_url="*) ;; *) defaults+=(--LabApp.default_url=/lab/tree/chapters) ;; esac
if [ "$(id -u)" = 0 ]; then
  defaults+=(--allow-root)
fi
exec .venv-lab/bin/jupyter lab "${defaults[@]}" "$@"
