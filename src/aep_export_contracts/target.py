"""A target of traffic, as every source meets one: whether a URL is one, who may write to it, what of
it is masked, and why it could not be reached."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import httpx

from .options import OptionError
from .spec.api import PRODUCTION_URL

PRODUCTION_HOSTS = frozenset({urlsplit(PRODUCTION_URL).hostname or ""})


class UnsafeTarget(OptionError):
    """The run would write where it is not allowed to: a usage error, nothing is sent."""


def is_http_url(url: str) -> bool:
    """Whether ``url`` is an http:// or https:// URL with a host (a malformed one is not)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (reading it checks it: a port that is no number in range raises)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # "http://[::1/", a port that is no number
        return False


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_writes(url: str, *, read_only: bool, allow_writes: bool, sandbox: str) -> bool:
    """Whether the run may write; raises ``UnsafeTarget`` when writes were not allowed explicitly."""
    if read_only:
        return False
    if is_loopback(url):
        return True
    if not allow_writes:
        raise UnsafeTarget(f"{urlsplit(url).hostname} is not loopback: pass --allow-writes to create datasets "
                           "and jobs there, or --read-only to send only GET requests")
    if (urlsplit(url).hostname or "") in PRODUCTION_HOSTS and sandbox.strip().lower() in ("", "prod"):
        raise UnsafeTarget("writes against the production host need a sandbox other than 'prod' (--sandbox)")
    return True


def mask(value: str, secrets: list[str]) -> str:
    """``value`` with every secret replaced by a fixed mask."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        value = value.replace(secret, "***")
    return value


def unreachable_cause(exc: BaseException) -> str:
    """Why a connection failed, in a user's words: refused, no such host, TLS, timed out."""
    import socket
    import ssl

    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return "connection refused (nothing listens on that port)"
        if isinstance(e, socket.gaierror):
            return "the host name does not resolve"
        if isinstance(e, ssl.SSLCertVerificationError):
            return f"TLS: the certificate is not trusted ({e.verify_message})"
        if isinstance(e, ssl.SSLError):
            return f"TLS handshake failed ({e.reason or e})"
        if isinstance(e, httpx.ConnectTimeout | TimeoutError):
            return "the connection timed out"
        if isinstance(e, httpx.UnsupportedProtocol):
            return "the URL's scheme is not http or https"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
