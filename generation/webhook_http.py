"""Sending one webhook over HTTP without becoming a proxy into our own network (SSRF).

- Only ``https://`` URLs (``http://`` too where ``WEBHOOK_ALLOW_HTTP`` is on: local and test settings), never with
  a user name or password in them.
- The host is resolved when the delivery is sent, and the delivery is refused when *any* of its addresses is not a
  public unicast address (loopback, private, link-local, multicast, unspecified, reserved, shared, documentation,
  IPv4-mapped/6to4/NAT64 forms of those). Loopback only where ``WEBHOOK_ALLOW_LOOPBACK`` is on (tests, local).
- The connection goes to the address that was checked (the Host header, SNI and the certificate check still use
  the host name), so a DNS answer that changes between the check and the connect cannot redirect it.
- Redirects are never followed: a 3xx is a failed delivery.
- Callers get a short generic reason (``"connection failed"``, ``"timeout"``, ``"HTTP 500"``,
  ``"refused: address not allowed"``), never the socket error text, so the delivery log is no port scanner.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

REFUSED_ADDRESS = "refused: address not allowed"
REFUSED_URL = "refused: URL not allowed"
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UrlRefused(ValueError):
    """The URL may not receive webhooks; ``str(exc)`` is a message for the store (translated)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower-case host name or address literal, without brackets
    port: int
    path: str  # path and query, "/" at least


@dataclass(frozen=True)
class Answer:
    status: int | None  # the HTTP status, None when no answer came
    reason: str  # "" when delivered (2xx), else a generic reason

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def parse_url(url: str) -> Target:
    """The URL's parts, or UrlRefused: wrong scheme, user name/password in it, no host, bad port."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(_("Enter a valid URL.")) from exc
    allowed = ("https", "http") if settings.WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        raise UrlRefused(_("Use an https:// URL.") if allowed == ("https",) else _("Use an http(s) URL."))
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise UrlRefused(_("A webhook URL cannot contain a user name or password."))
    if not parts.hostname:
        raise UrlRefused(_("Enter a valid URL."))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80), path)


def address_allowed(address: str) -> bool:
    """True for a public unicast address (or a loopback one where WEBHOOK_ALLOW_LOOPBACK is on)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
                                                      if ip in NAT64 else None)
        if embedded is not None:
            return address_allowed(str(embedded))
        if ip.teredo:
            return False
    if ip.is_loopback:
        return bool(settings.WEBHOOK_ALLOW_LOOPBACK)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_unspecified)


def resolve(host: str, port: int) -> list[str]:
    """Every address of ``host`` (an address literal stands for itself). Raises OSError when it does not resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _local_name(host: str) -> bool:
    return host == "localhost" or host.endswith((".localhost", ".localhost."))


def check_url(url: str) -> Target:
    """Registration-time check: the URL's form, and the host's addresses when it resolves now.

    A host that does not resolve yet is accepted (its addresses are checked at every delivery); one that resolves
    to an address that is not allowed is refused. Raises UrlRefused with a message for the store.
    """
    target = parse_url(url)
    if _local_name(target.host) and not settings.WEBHOOK_ALLOW_LOOPBACK:
        raise UrlRefused(_("Webhooks can only go to public internet addresses, not to this one."))
    try:
        addresses = resolve(target.host, target.port)
    except (OSError, UnicodeError):
        return target
    if not all(address_allowed(a) for a in addresses):
        raise UrlRefused(_("Webhooks can only go to public internet addresses, not to this one."))
    return target


# ---- sending -----------------------------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to ``address`` (already checked) while the request names the original host."""

    def __init__(self, host: str, port: int, address: str, connect_timeout: float, read_timeout: float) -> None:
        super().__init__(host, port, timeout=read_timeout)
        self.address, self.connect_timeout, self.read_timeout = address, connect_timeout, read_timeout

    on_open = None  # called with the TCP socket before any TLS handshake or byte of the request

    def _open(self) -> socket.socket:
        sock = socket.create_connection((self.address, self.port), timeout=self.connect_timeout)
        sock.settimeout(self.read_timeout)
        if self.on_open is not None:
            self.on_open(sock)
        return sock

    def connect(self) -> None:
        self.sock = self._open()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """TLS to the checked address, with SNI and certificate verification for the host name."""

    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        self.sock = tls_context().wrap_socket(self._open(), server_hostname=self.host)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """Certificates verified against the system's trust store, for the URL's host name (built once: loading the
    trust store on every delivery is the costly part)."""
    return ssl.create_default_context()


def _timeouts() -> tuple[float, float]:
    return float(settings.WEBHOOK_CONNECT_TIMEOUT), float(settings.WEBHOOK_READ_TIMEOUT)


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url`` once: checks, connects to a checked address, reads only the status line."""
    try:
        target = parse_url(url)
    except UrlRefused:
        return Answer(None, REFUSED_URL)
    if _local_name(target.host) and not settings.WEBHOOK_ALLOW_LOOPBACK:
        return Answer(None, REFUSED_ADDRESS)
    try:
        addresses = resolve(target.host, target.port)
    except (OSError, UnicodeError):
        return Answer(None, "DNS lookup failed")
    if not addresses or not all(address_allowed(a) for a in addresses):
        return Answer(None, REFUSED_ADDRESS)
    answer = Answer(None, "connection failed")
    for address in addresses:  # the next address only when this one could not be connected to (nothing sent)
        answer, connected = _post_to(target, address, body, headers)
        if connected:
            break
    return answer


def _failure(exc: Exception, connected: bool, timed_out: bool) -> Answer:
    if timed_out or isinstance(exc, TimeoutError):
        return Answer(None, "timeout")
    if not connected:
        return Answer(None, "TLS handshake failed" if isinstance(exc, ssl.SSLError) else "connection failed")
    return Answer(None, "connection failed" if isinstance(exc, OSError) else "invalid response")


def _post_to(target: Target, address: str, body: bytes, headers: dict[str, str]) -> tuple[Answer, bool]:
    """One attempt at one address: (the answer, whether a connection was made, i.e. the request may have gone)."""
    connect_timeout, read_timeout = _timeouts()
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    conn = kind(target.host, target.port, address, connect_timeout, read_timeout)
    connected, fired, armed = False, threading.Event(), []

    def arm(sock: socket.socket) -> None:
        # Everything after the TCP connect (TLS handshake included, a server dripping bytes included) is bounded
        # by the read timeout. The watchdog shuts down a duplicate of the socket: TLS wrapping detaches the
        # original object, and the duplicate keeps the descriptor from being reused before the watchdog is gone.
        handle = sock.dup()
        watchdog = threading.Timer(read_timeout, _shutdown, args=(handle, fired))
        armed.append((watchdog, handle))
        watchdog.start()

    conn.on_open = arm
    try:
        conn.connect()
        connected = True
        conn.request("POST", target.path, body=body, headers=headers)
        status = conn.getresponse().status
    except (OSError, http.client.HTTPException) as exc:  # ssl.SSLError and TimeoutError are OSErrors
        return _failure(exc, connected, fired.is_set()), connected
    finally:
        for watchdog, handle in armed:
            watchdog.cancel()
            handle.close()
        conn.close()
    if 200 <= status < 300:
        return Answer(status, ""), True
    if 300 <= status < 400:
        return Answer(status, f"HTTP {status} (redirects are not followed)"), True
    return Answer(status, f"HTTP {status}"), True


def _shutdown(sock: socket.socket | None, fired: threading.Event) -> None:
    fired.set()
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
