"""A small headless-Chromium driver over the Chrome DevTools protocol (no Selenium needed).

Starts ``chromium --headless --remote-debugging-port=0`` with a throwaway profile, connects
to its first page over a websocket (tornado's client, already in the book's environment)
and offers three calls: ``goto(url)``, ``js(expression)`` (evaluated in the page, awaited
when it is a promise, its JSON value returned) and ``wait_for(expression, timeout)``.
Every network request outside 127.0.0.1 goes to a proxy that does not exist, so a page
that needs the internet shows it. Used by tests/test_jupyterlab.py and
tests/test_html_layout.py.
"""

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One headless Chromium page driven through the DevTools protocol."""

    def __init__(self, width=1280, height=2000):
        self._profile = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)
        self._proc = subprocess.Popen(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
                f"--user-data-dir={self._profile.name}", f"--window-size={width},{height}",
                "--remote-debugging-port=0", "about:blank",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self._ws = None
        try:
            self._connect()
        except BaseException:
            self.close()
            raise

    def _connect(self):
        from tornado.websocket import websocket_connect

        port_file = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.time() + 60
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if time.time() > deadline or self._proc.poll() is not None:
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        pages = []
        while not pages and time.time() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                pages = [t for t in json.load(r) if t["type"] == "page"]
            time.sleep(0.1)
        url = pages[0]["webSocketDebuggerUrl"]

        async def connect():
            return await websocket_connect(url, max_message_size=1 << 28)

        self._loop = asyncio.new_event_loop()
        self._ws = self._loop.run_until_complete(connect())
        self._id = 0
        self.console_errors = []
        self.call("Runtime.enable")
        self.call("Page.enable")

    def call(self, method, timeout=60, **params):
        """Send one DevTools command and return its result (raises on a protocol error)."""
        self._id += 1
        msg_id = self._id
        self._ws.write_message(json.dumps({"id": msg_id, "method": method, "params": params}))

        async def reply():
            while True:
                raw = await self._ws.read_message()
                if raw is None:
                    raise RuntimeError("the DevTools connection closed")
                msg = json.loads(raw)
                if msg.get("method") == "Runtime.exceptionThrown":
                    self.console_errors.append(msg["params"]["exceptionDetails"].get("text", ""))
                elif msg.get("method") == "Runtime.consoleAPICalled" and msg["params"]["type"] == "error":
                    self.console_errors.append(" ".join(
                        str(a.get("value", a.get("description", ""))) for a in msg["params"]["args"]))
                if msg.get("id") == msg_id:
                    if "error" in msg:
                        raise RuntimeError(f"{method}: {msg['error']}")
                    return msg["result"]

        return self._loop.run_until_complete(asyncio.wait_for(reply(), timeout))

    def js(self, expression, timeout=60):
        """Evaluate a JavaScript expression in the page and return its value."""
        result = self.call("Runtime.evaluate", timeout=timeout, expression=expression,
                           returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def goto(self, url, settle=1.0):
        """Load a URL and wait until the document is complete."""
        self.call("Page.navigate", url=url)
        time.sleep(0.2)
        self.wait_for("document.readyState === 'complete'", timeout=60)
        time.sleep(settle)

    def wait_for(self, expression, timeout=60, poll=0.25):
        """Poll a JavaScript expression until it is truthy; return its value or raise."""
        deadline = time.time() + timeout
        while True:
            value = self.js(expression)
            if value:
                return value
            if time.time() > deadline:
                raise TimeoutError(f"timed out after {timeout} s waiting for: {expression}")
            time.sleep(poll)

    def screenshot(self, path):
        """Save a PNG of the full page."""
        import base64

        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self):
        """Close the connection and end the Chromium process this object started."""
        if self._ws is not None:
            self._ws.close()
            self._loop.close()
            self._ws = None
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._profile.cleanup()
