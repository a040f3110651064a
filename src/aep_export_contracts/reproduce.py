"""Reproductions of what a check sent: the request, with every secret masked."""

from __future__ import annotations

import json
from typing import Any

from .http import Exchange
from .spec.api import HEADERS
from .target import mask

SECRET_HEADERS = HEADERS.secret
#: headers that name the account: masked in reproductions too (the org id also wherever it appears)
ACCOUNT_HEADERS = (HEADERS.org.lower(), HEADERS.sandbox.lower())


class Reproducer:
    """Turns an exchange into its reproduction with the run's secrets masked (picklable: replay shares
    cassettes out among processes and their reports come back whole)."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = list(secrets)

    def __call__(self, exchange: Exchange) -> dict[str, Any]:
        secrets = self.secrets
        headers = {k: ("***" if k in SECRET_HEADERS or k in ACCOUNT_HEADERS else mask(v, secrets))
                   for k, v in exchange.request_headers.items()}
        body = exchange.request_body
        if isinstance(body, bytes | bytearray):
            body = body.decode("utf-8", "replace")
        text = None if body is None else mask(body if isinstance(body, str) else json.dumps(body), secrets)
        if text is not None and len(text) > 4000:
            text = text[:4000] + "…"
        return {"method": exchange.method, "url": mask(exchange.url, secrets), "headers": headers,
                "body": text, "status": exchange.status}

