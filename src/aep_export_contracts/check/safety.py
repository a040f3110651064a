"""Safety rails for a live target: who may write, and how much."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ..options import OptionError
from ..spec.api import PRODUCTION_URL

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
