"""SERVE: the HTTP side of the preview. Files come only from the site folder; HTML responses get
the live-reload script (and the problems of the last build) injected here, never in the build output."""

from __future__ import annotations

import html
import mimetypes
import os
import shutil
import socket
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .events import LiveState, Snapshot
from .live_js import LIVE_JS

PREFIX = "/__logbuild/"
KEEPALIVE_S = 15.0
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8", ".json": "application/json", ".xml": "application/xml",
         ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8", ".png": "image/png",
         ".webmanifest": "application/manifest+json", ".woff2": "font/woff2", ".ico": "image/x-icon"}


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True  # an open event stream must not keep Ctrl-C waiting
    block_on_close = False
    url = ""  # what the browser opens, set once bound

    def __init__(self, address: tuple[str, int], site_dir: Path, live: LiveState):
        self.site_dir = site_dir
        self.live = live
        super().__init__(address, PreviewHandler)

    def server_bind(self) -> None:
        if ":" in self.server_address[0]:
            self.address_family = socket.AF_INET6
            self.socket = socket.socket(self.address_family, self.socket_type)
        super().server_bind()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a browser that hangs up mid-response is not our problem to print


def resolve(site_dir: Path, url_path: str) -> Path | None:
    """The file a URL path names inside `site_dir`, or None: `..`, NUL and links out of it never resolve."""
    path = urllib.parse.unquote(url_path.split("?", 1)[0].split("#", 1)[0], errors="strict")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if "\0" in path or any(p == ".." for p in parts) or any("\\" in p for p in parts):
        return None
    root = os.path.realpath(site_dir)
    real = os.path.realpath(os.path.join(root, *parts))
    if real != root and not real.startswith(root + os.sep):
        return None
    if os.path.isdir(real):
        real = os.path.join(real, "index.html")
    return Path(real) if os.path.isfile(real) else None


def content_type(path: Path) -> str:
    return TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def inject(page: bytes, snapshot: Snapshot) -> bytes:
    """Add the live-reload script (and an overlay listing problems) before the last </body>."""
    tag = (f'<script src="{PREFIX}live.js" data-build="{snapshot.build}" defer></script>'
           + overlay_html(snapshot)).encode()
    at = page.lower().rfind(b"</body>")
    return page + tag if at < 0 else page[:at] + tag + page[at:]


def overlay_html(snapshot: Snapshot) -> str:
    """Server-rendered overlay, so problems show even before (or without) the script."""
    if not (snapshot.errors or snapshot.warnings):
        return ""
    rows = "".join(f'<li class="{kind}">{html.escape(line)}</li>'
                   for kind, lines in (("error", snapshot.errors), ("warning", snapshot.warnings))
                   for line in lines)
    title = ("The last build failed; this is the last good site." if snapshot.errors
             else "Warnings while previewing.")
    return (f'<div id="logbuild-overlay" role="alert"><p>{html.escape(title)}</p><ul>{rows}</ul>'
            '<button type="button" data-close>Hide</button></div>')


def error_page(snapshot: Snapshot) -> bytes:
    """The whole page when no build ever succeeded: nothing good to show underneath."""
    body = overlay_html(snapshot) or "<p>Building the site…</p>"
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Build failed · logbuild"
            f"</title></head><body>{body}</body></html>").encode()


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"
    server_version = "logbuild-preview"
    # A reused connection must not wait on Nagle + the client's delayed ACK (~40 ms a response): the
    # headers and a body of up to 64 KiB leave in one write (flushed after each request, and by the
    # event stream after each event), and TCP_NODELAY covers what is larger.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the console shows builds, not every request

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        url_path = self.path.split("?", 1)[0]
        if url_path == PREFIX + "events":
            return self._events()
        if url_path == PREFIX + "live.js":
            return self._send(HTTPStatus.OK, "text/javascript; charset=utf-8", LIVE_JS, head)
        try:
            found = resolve(self.server.site_dir, url_path)
        except UnicodeDecodeError:
            found = None
        if found is not None and found.name == "index.html" and not url_path.endswith(("/", "/index.html")):
            return self._redirect("/" + url_path.lstrip("/") + "/")  # a folder: relative links need the slash
        snapshot = self.server.live.snapshot
        if found is None:
            return self._not_found(head, snapshot)
        self._send_file(HTTPStatus.OK, found, head, snapshot)

    def _not_found(self, head: bool, snapshot: Snapshot) -> None:
        page = self.server.site_dir / "404.html"
        if not page.is_file() and snapshot.errors:
            return self._send(HTTPStatus.SERVICE_UNAVAILABLE, "text/html; charset=utf-8",
                              inject(error_page(snapshot), snapshot), head)
        if page.is_file():
            return self._send_file(HTTPStatus.NOT_FOUND, page, head, snapshot)
        self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"404 not found\n", head)

    def _send_file(self, status: HTTPStatus, path: Path, head: bool, snapshot: Snapshot) -> None:
        kind = content_type(path)
        try:
            f = path.open("rb")  # an open file survives the site folder being swapped
        except OSError:
            return self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"404 not found\n", head)
        with f:
            if kind.startswith("text/html"):
                return self._send(status, kind, inject(f.read(), snapshot), head)
            size = os.fstat(f.fileno()).st_size
            self._headers(status, kind, size)
            if not head:
                shutil.copyfileobj(f, self.wfile, size)

    def _send(self, status: HTTPStatus, kind: str, data: bytes, head: bool) -> None:
        self._headers(status, kind, len(data))
        if not head:
            self.wfile.write(data)

    def _headers(self, status: HTTPStatus, kind: str, length: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _events(self) -> None:
        """Server-Sent Events: `hello` with the current state, then `reload` or `status` on each change."""
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        live = self.server.live
        current = live.snapshot
        try:
            self.wfile.write(b"retry: 500\n\n" + current.event("hello"))
            self.wfile.flush()
            while not live.closed:
                nxt = live.wait_after(current.version, KEEPALIVE_S)
                if nxt is None:
                    self.wfile.write(b": keep-alive\n\n")
                else:
                    self.wfile.write(nxt.event("reload" if nxt.build != current.build else "status"))
                    current = nxt
                self.wfile.flush()
        except OSError:  # the tab was closed or reloaded
            pass


