"""Outgoing HTTP that only reaches public hosts.

Webhook deliveries and page captures (through ``evidence.egress``) go to addresses that
users type in. Every name is resolved here, every address checked, and the connection is
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
from django.utils.translation import gettext as _

_METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


class UnsafeURL(ValueError):
    """The URL may not be fetched; the message says why, for the user."""


class ResolutionFailed(OSError):
    """The host name did not resolve just now; worth trying again later."""


# IPv6 forms that carry an IPv4 address in their last 32 bits: NAT64 (RFC 6052, 8215)
# and SIIT. On a network with DNS64/NAT64 they reach the IPv4 address inside.
_EMBEDDING_V4 = [
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
]
_ALWAYS_BLOCKED_V6 = [
    ipaddress.IPv6Network("fec0::/10"),  # site-local (deprecated, still routed internally)
    ipaddress.IPv6Network("::/96"),  # IPv4-compatible (deprecated)
]


def _blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return _blocked(embedded)
        if address.teredo is not None or any(address in net for net in _ALWAYS_BLOCKED_V6):
            return True
        for net in _EMBEDDING_V4:
            if address in net:
                return _blocked(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
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
    addresses: tuple[str, ...]  # the checked IPs the connection may go to, in order


def resolve(url: str, *, schemes: frozenset[str] = frozenset({"https"})) -> Target:
    """Check ``url`` and pick the address to connect to; raise ``UnsafeURL`` otherwise."""
    allow_private = settings.ALLOW_PRIVATE_URLS
    parts = urlsplit(url)
    allowed = schemes | ({"http"} if allow_private else set())
    if parts.scheme not in allowed:
        names = sorted(allowed)
        if len(names) == 1:
            raise UnsafeURL(_("Only %(scheme)s addresses are allowed.") % {"scheme": names[0]})
        raise UnsafeURL(
            _("Only %(schemes)s or %(last)s addresses are allowed.")
            % {"schemes": ", ".join(names[:-1]), "last": names[-1]}
        )
    if parts.username or parts.password:
        raise UnsafeURL(_("Addresses with a user name or password are not allowed."))
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeURL(_("The address has no host name."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL(_("The port is not a number between 0 and 65535.")) from None
    if not allow_private and (host in _METADATA_HOSTS or host == "localhost" or host.endswith(".localhost")):
        raise UnsafeURL(_("Local and cloud-metadata hosts are not allowed."))
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError:
        raise UnsafeURL(_("The host name %(host)s is not valid.") % {"host": host}) from None
    except socket.gaierror as error:
        raise ResolutionFailed(
            _("The host name %(host)s does not resolve (%(error)s).") % {"host": host, "error": error.strerror}
        ) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise ResolutionFailed(_("The host name %(host)s does not resolve.") % {"host": host})
    if not allow_private:
        refused = [a for a in addresses if not is_public_address(a)]
        if refused:
            raise UnsafeURL(_("Private, loopback, link-local and reserved addresses are not allowed."))
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port, path, tuple(addresses))


@dataclass(frozen=True)
class Response:
    status: int
    excerpt: str
    duration_ms: int


def post(
    url: str, *, body: bytes, headers: dict[str, str], timeout: float = 10.0, excerpt_bytes: int = 500
) -> Response:
    """POST to a checked public address; redirects are answered, never followed.

    Raises ``UnsafeURL`` for a refused address (final), ``ResolutionFailed`` when DNS
    does not answer, and ``urllib3.exceptions.HTTPError`` or ``OSError`` for network
    failures (all three worth retrying later). Each resolved address is tried in turn;
    the whole exchange is bounded by twice ``timeout``, however slowly a server drips.
    """
    target = resolve(url)
    last_error: Exception | None = None
    for address in target.addresses:
        try:
            return _post_to(target, address, body, headers, timeout, excerpt_bytes)
        except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as error:
            last_error = error  # try the next address of the host
    assert last_error is not None
    raise last_error


def _post_to(
    target: Target, address: str, body: bytes, headers: dict[str, str], timeout: float, excerpt_bytes: int
) -> Response:
    common = {
        "timeout": urllib3.Timeout(connect=timeout, read=timeout, total=timeout * 2),
        "retries": False,
        "maxsize": 1,
    }
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            **common,  # type: ignore[arg-type]
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, **common)  # type: ignore[arg-type]
    name = f"[{target.host}]" if ":" in target.host else target.host
    host_header = name if target.port in (80, 443) else f"{name}:{target.port}"
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
