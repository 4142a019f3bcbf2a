"""A local web site for capture tests: pages by path, and a log of who was asked what."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Site:
    port: int = 0
    # path -> (status, headers, body)
    pages: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    # (address the request arrived at, path)
    hits: list[tuple[str, str]] = field(default_factory=list)
    hold: threading.Event | None = None  # when set up, /slow waits for it

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def html(self, path: str, body: str, status: int = 200) -> None:
        self.pages[path] = (status, {"Content-Type": "text/html; charset=utf-8"}, body.encode())

    def addresses(self) -> set[str]:
        return {address for address, _ in self.hits}


@contextmanager
def local_site() -> Iterator[Site]:
    site = Site()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            site.hits.append((self.connection.getsockname()[0], self.path))
            if self.path == "/slow" and site.hold is not None:
                site.hold.wait(60)
            status, headers, body = site.pages.get(self.path, (404, {"Content-Type": "text/plain"}, b"not found"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    # All of 127.0.0.0/8 reaches it, so a test can tell which address a browser asked.
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), Handler)  # noqa: S104
    server.daemon_threads = True
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        if site.hold is not None:
            site.hold.set()
        server.shutdown()
        server.server_close()
