"""Headless Chromium (the system's, driven by Playwright) for browser tests.

`.ci/run` installs the `chromium` package; a machine without it fails these
tests rather than skipping them.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, sync_playwright

# Nothing but loopback answers: other hosts resolve nowhere and any proxied
# request goes to a closed port.
OFFLINE_ARGS = [
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1;localhost",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


@contextmanager
def chromium(offline: bool = False) -> Iterator[Browser]:
    """A headless Chromium (offline: loopback only)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("chromium is not installed (apt-get install -y chromium)")
    args = ["--no-sandbox", "--disable-dev-shm-usage"]
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=args + (OFFLINE_ARGS if offline else []),
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def page_server(html: str, port: int = 0) -> Iterator[str]:
    """Serve one HTML page at ``/`` from a loopback port; yield its origin."""
    body = html.encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
