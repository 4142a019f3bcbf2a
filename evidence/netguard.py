"""Outgoing HTTP that only reaches public hosts.

Webhook deliveries (and later page captures) send requests to addresses that users
type in. Every name is resolved here, every address checked, and the connection is
made to the checked address itself, so DNS cannot swap in a private one between the
check and the request (rebinding). Redirects are never followed.
``ALLOW_PRIVATE_URLS=true`` lifts the address check, for tests and local development.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

_METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


class UnsafeURL(ValueError):
    """The URL may not be fetched; the message says why, for the user."""


def _blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return _blocked(embedded)
        if address.teredo is not None:
            return True
    return not address.is_global or address.is_multicast


def is_public_address(value: str) -> bool:
    try:
        address = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return False
    return not _blocked(address)


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP the connection must go to


def resolve(url: str, *, schemes: frozenset[str] = frozenset({"https"})) -> Target:
    """Check ``url`` and pick the address to connect to; raise ``UnsafeURL`` otherwise."""
    allow_private = settings.ALLOW_PRIVATE_URLS
    parts = urlsplit(url)
    allowed = schemes | ({"http"} if allow_private else set())
    if parts.scheme not in allowed:
        raise UnsafeURL(f"Only {' or '.join(sorted(allowed))} addresses are allowed.")
    if parts.username or parts.password:
        raise UnsafeURL("Addresses with a user name or password are not allowed.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeURL("The address has no host name.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL("The port is not a number between 0 and 65535.") from None
    if not allow_private and (host in _METADATA_HOSTS or host == "localhost" or host.endswith(".localhost")):
        raise UnsafeURL("Local and cloud-metadata hosts are not allowed.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL(f"The host name {host} does not resolve.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeURL(f"The host name {host} does not resolve.")
    if not allow_private:
        refused = [a for a in addresses if not is_public_address(a)]
        if refused:
            raise UnsafeURL("Private, loopback, link-local and reserved addresses are not allowed.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port, path, addresses[0])


@dataclass(frozen=True)
class Response:
    status: int
    excerpt: str
    duration_ms: int


def post(
    url: str, *, body: bytes, headers: dict[str, str], timeout: float = 10.0, excerpt_bytes: int = 500
) -> Response:
    """POST to a checked public address; redirects are answered, never followed.

    Raises ``UnsafeURL`` for a refused address and ``urllib3.exceptions.HTTPError``
    (or ``OSError``) for network failures.
    """
    target = resolve(url)
    common = {"timeout": urllib3.Timeout(connect=timeout, read=timeout), "retries": False, "maxsize": 1}
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            **common,  # type: ignore[arg-type]
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, **common)  # type: ignore[arg-type]
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    started = time.monotonic()
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            excerpt = response.read(excerpt_bytes, decode_content=False)
        finally:
            response.release_conn()
            response.close()
    finally:
        pool.close()
    duration_ms = int((time.monotonic() - started) * 1000)
    return Response(response.status, excerpt.decode("utf-8", "replace"), duration_ms)
