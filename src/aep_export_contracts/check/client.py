"""An HTTP client for the Export Jobs API that records every exchange it makes."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..http import Exchange
from ..spec.api import HEADERS, JSON_MEDIA_TYPE, RESPONSE_HEADERS
from ..target import unreachable_cause

RETRYABLE = (429, 503)


@dataclass
class Credentials:
    token: str
    api_key: str
    org: str
    sandbox: str

    def headers(self) -> dict[str, str]:
        return {HEADERS.authorization: HEADERS.bearer_prefix + self.token, HEADERS.api_key: self.api_key,
                HEADERS.org: self.org, HEADERS.sandbox: self.sandbox}

    def secrets(self) -> list[str]:
        """What a report must never show: the token, the key and the org id (a sandbox name is too short
        and common a word to mask inside text; its header is masked by name)."""
        return [s for s in (self.token, self.api_key, self.org) if s]


class TargetUnstable(Exception):
    """The target kept answering 429/503 or timing out beyond the retry budget."""


class TargetUnreachable(Exception):
    """No connection could be made to the target; the message names the cause."""


@dataclass
class Observed:
    exchange: Exchange
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, raw bytes when not JSON, None when empty
    response: httpx.Response | None = None


@dataclass
class Client:
    base_url: str
    credentials: Credentials
    timeout: float = 15.0
    retries: int = 4
    max_wait: float = 10.0
    on_exchange: Callable[[Exchange], None] | None = None
    unstable: list[str] = field(default_factory=list)
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    _http: httpx.Client | None = None

    def __post_init__(self) -> None:
        self._http = httpx.Client(base_url=self.base_url.rstrip("/"), timeout=self.timeout,
                                  transport=self.transport, follow_redirects=False)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, json_body: Any = None, content: bytes | None = None,
                headers: Mapping[str, str] | None = None, drop: tuple[str, ...] = (),
                credentials: Credentials | None = None, params: Mapping[str, str] | None = None,
                name: str | None = None) -> Observed:
        """Send one request (retrying 429/503/timeouts within the budget) and record the exchange."""
        assert self._http is not None
        creds = credentials or self.credentials
        sent = {**creds.headers(), **(headers or {})}
        if json_body is not None or content is not None:
            sent.setdefault(HEADERS.content_type, JSON_MEDIA_TYPE)
        for key in drop:
            sent = {k: v for k, v in sent.items() if k.lower() != key.lower()}
        body = content if content is not None else (None if json_body is None else _dumps(json_body))
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(method, path, headers=sent, content=body, params=params)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
                raise TargetUnreachable(unreachable_cause(exc)) from exc
            except httpx.TimeoutException as exc:
                self.unstable.append(f"{method} {path}: timeout")
                if attempt > self.retries:
                    raise TargetUnstable(f"{method} {path}: timed out {attempt} times") from exc
                self.sleep(min(self.max_wait, 0.2 * 2 ** attempt))
                continue
            if response.status_code in RETRYABLE and attempt <= self.retries:
                wait = _retry_after(response, attempt, self.max_wait)
                self.unstable.append(f"{method} {path}: {response.status_code}, retried after {wait:.1f}s")
                self.sleep(wait)
                continue
            break
        raw = response.content
        parsed: Any = None
        if raw:
            try:
                parsed = response.json()
            except ValueError:
                parsed = raw
        url = str(response.request.url)
        exchange = Exchange.make(method, url, request_headers=sent, request_body=body,
                                 status=response.status_code, response_headers=dict(response.headers),
                                 response_body=raw, name=name)
        if self.on_exchange is not None:
            self.on_exchange(exchange)
        return Observed(exchange, response.status_code, response.headers, parsed, response)


def _dumps(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


def _retry_after(response: httpx.Response, attempt: int, cap: float) -> float:
    header = str(response.headers.get(RESPONSE_HEADERS.retry_after, ""))
    try:
        wait = float(header)
    except ValueError:
        wait = 0.25 * 2.0**attempt
    return float(min(cap, max(0.0, wait)))
