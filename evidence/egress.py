"""The only way out for the capture browser: a local proxy that checks every connection.

Chromium is started with this proxy for every scheme and host, loopback included, so
it resolves no host name itself. For each request (the page, each redirect hop, every
script, image, frame, fetch and WebSocket) the proxy resolves the host with
``netguard``, refuses private, loopback, link-local and metadata addresses, and connects
to the address it checked, so DNS cannot swap in another between check and use. HTTPS
is tunnelled (CONNECT) without being decrypted. Bytes are counted against the capture's
budget; a capture that runs over it is cut off.
"""

from __future__ import annotations

import selectors
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from evidence import netguard

_MAX_HEADER_LINES = 200
_MAX_LINE = 65536
_CHUNK = 65536
_HOP_HEADERS = {"proxy-connection", "proxy-authorization", "connection", "keep-alive"}


@dataclass
class Egress:
    """What one capture may fetch, and what it was refused."""

    budget: int
    deadline: float
    refused: list[str] = field(default_factory=list)
    too_large: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def spend(self, count: int) -> bool:
        with self.lock:
            self.budget -= count
            if self.budget < 0:
                self.too_large = True
            return self.budget >= 0

    def refuse(self, what: str, why: str) -> None:
        with self.lock:
            self.refused.append(f"{what[:200]}: {why}")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    egress: Egress | None = None


class _Handler(socketserver.StreamRequestHandler):
    server: _Server
    timeout = 30

    def _reply(self, status: str, message: str) -> None:
        body = message.encode()
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        self.wfile.write(head.encode() + body)

    def _connect(self, egress: Egress, url: str, scheme: str) -> socket.socket | None:
        try:
            target = netguard.resolve(url, schemes=frozenset({scheme}))
        except netguard.UnsafeURL as error:
            egress.refuse(url, str(error))
            self._reply("403 Forbidden", f"casemanager refused this address: {error}")
            return None
        except netguard.ResolutionFailed as error:
            self._reply("502 Bad Gateway", str(error))
            return None
        remaining = max(egress.deadline - time.monotonic(), 1.0)
        for address in target.addresses:
            try:
                return socket.create_connection((address, target.port), timeout=min(remaining, 20.0))
            except OSError:
                continue
        self._reply("502 Bad Gateway", f"{target.host} did not accept the connection")
        return None

    def handle(self) -> None:
        egress = self.server.egress
        request_line = self.rfile.readline(_MAX_LINE).decode("latin-1").strip()
        parts = request_line.split(" ")
        if egress is None or len(parts) != 3:
            self._reply("403 Forbidden", "no capture is running")
            return
        method, target, _ = parts
        headers: list[tuple[str, str]] = []
        for _ in range(_MAX_HEADER_LINES):
            line = self.rfile.readline(_MAX_LINE).decode("latin-1")
            if line in ("\r\n", "\n", ""):
                break
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        if method == "CONNECT":
            self._tunnel(egress, target)
        else:
            self._forward(egress, method, target, headers)

    def _tunnel(self, egress: Egress, target: str) -> None:
        host, _, port = target.rpartition(":")
        upstream = self._connect(egress, f"https://{host}:{port}/", "https")
        if upstream is None:
            return
        with upstream:
            self.wfile.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            self.wfile.flush()
            _pipe(self.connection, upstream, egress)

    def _forward(self, egress: Egress, method: str, url: str, headers: list[tuple[str, str]]) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http":
            egress.refuse(url, "only http and https are allowed")
            self._reply("403 Forbidden", "only http and https are allowed")
            return
        length = next((int(v) for k, v in headers if k.lower() == "content-length" and v.isdigit()), 0)
        if any(k.lower() == "transfer-encoding" for k, _ in headers):
            self._reply("411 Length Required", "chunked request bodies are not forwarded")
            return
        upstream = self._connect(egress, url, "http")
        if upstream is None:
            return
        with upstream:
            path = parts.path or "/"
            if parts.query:
                path += f"?{parts.query}"
            kept = [(k, v) for k, v in headers if k.lower() not in _HOP_HEADERS]
            head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept)
            upstream.sendall((head + "Connection: close\r\n\r\n").encode("latin-1"))
            if length:
                upstream.sendall(self.rfile.read(min(length, 50 * 1024 * 1024)))
            # Only the answer flows back: a next request on this connection would reach this
            # host unchecked, whatever host it names, so the browser must open another.
            _pipe(self.connection, upstream, egress, answer_only=True)


def _pipe(client: socket.socket, upstream: socket.socket, egress: Egress, *, answer_only: bool = False) -> None:
    """Copy until either side closes, the capture's time is up or its bytes are spent."""
    with selectors.DefaultSelector() as selector:
        if not answer_only:
            selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        while True:
            remaining = egress.deadline - time.monotonic()
            if remaining <= 0:
                return
            events = selector.select(timeout=min(remaining, 5.0))
            if not events:
                continue
            for key, _ in events:
                source: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    data = source.recv(_CHUNK)
                except OSError:
                    return
                if not data:
                    return
                if source is upstream and not egress.spend(len(data)):
                    return
                try:
                    key.data.sendall(data)
                except OSError:
                    return


class EgressProxy:
    """The proxy of this process; captures take turns at it, each with its own ``Egress``."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self._server.serve_forever, name="egress-proxy", daemon=True).start()

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def open(self, *, budget: int, seconds: float) -> Egress:
        egress = Egress(budget=budget, deadline=time.monotonic() + seconds)
        self._server.egress = egress
        return egress

    def close(self, egress: Egress) -> None:
        if self._server.egress is egress:
            self._server.egress = None

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
