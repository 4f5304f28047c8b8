"""SERVE (an edge): build the log into a private folder, serve it on localhost, rebuild on every save
and reload the open tabs (Server-Sent Events). `serve_site` wires the parts together."""

from __future__ import annotations

import errno
import threading
import webbrowser
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .events import LiveState
from .preview import Preview, PreviewOptions, Say
from .server import PreviewServer

PORT_TRIES = 20


class ServeError(Exception):
    """The server cannot start (the port is taken with --strict-port, or not ours to bind)."""


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    strict_port: bool = False
    open_browser: bool = True
    preview: PreviewOptions = field(default_factory=PreviewOptions)


def bind(host: str, port: int, strict: bool, site_dir: Path, live: LiveState, say: Say) -> PreviewServer:
    """A server on `port`, or (unless strict) the next free port after it."""
    candidates = [port] if strict or port == 0 else list(range(port, min(port + PORT_TRIES, 65536)))
    for candidate in candidates:
        try:
            server = PreviewServer((host, candidate), site_dir, live)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise ServeError(f"cannot listen on {host}:{candidate}: {exc.strerror}") from None
            if strict:
                raise ServeError(f"port {candidate} is taken (drop --strict-port to take the next free one)") \
                    from None
            continue
        if candidate != port:
            say(f"Port {port} is taken; serving on port {candidate} instead.")
        return server
    raise ServeError(f"ports {candidates[0]} to {candidates[-1]} are all taken; pass another --port")


def site_url(host: str, port: int) -> str:
    shown = "localhost" if host in ("", "0.0.0.0", "::") else host
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def start(root: Path, options: ServeOptions, say: Say, overrides: dict[str, Any] | None = None
          ) -> tuple[PreviewServer, Preview]:
    """Bind, build once, start the rebuild and watch threads. The caller runs `server.serve_forever()`."""
    from ..config import load_config

    config, _ = load_config(root, overrides)
    site_dir = config.path("cache_dir").resolve() / "serve-site"
    live = LiveState()
    server = bind(options.host, options.port, options.strict_port, site_dir, live, say)
    url = site_url(options.host, server.server_address[1])
    preview = Preview(root, site_dir, url, options.preview, live, say, overrides)
    try:  # Ctrl-C from here on (the first build, say) stops the warm workers and the snippets running
        preview.build_once()
        for target in (preview.run_builds, preview.watch):
            threading.Thread(target=target, daemon=True, name=f"logbuild-{target.__name__}").start()
        server.url = url
    except BaseException:
        preview.stop()
        server.server_close()
        raise
    return server, preview


def serve_site(root: Path, options: ServeOptions, say: Say, overrides: dict[str, Any] | None = None) -> None:
    """Serve until Ctrl-C (KeyboardInterrupt reaches the caller after everything is stopped)."""
    server, preview = start(root, options, say, overrides)
    try:  # at once: a Ctrl-C while saying where the site is must stop the background snippets too
        say(f"Serving {server.url} (Ctrl-C to stop); watching for changes.")
        if options.open_browser:
            threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
        server.serve_forever(poll_interval=0.25)
    finally:
        preview.stop()
        server.server_close()


__all__ = ["PreviewOptions", "ServeError", "ServeOptions", "serve_site", "start"]
