"""HAR 1.2 (HTTP Archive) as a recording: read into the interactions a cassette holds, and written.

Browsers' developer tools, Postman, Insomnia and mitmproxy export HAR. Reading keeps what a replay
needs (method, URL, headers, bodies, status) and ignores the rest (timings, cookies, cache, pages,
the tools' own underscore fields); a base64 body is decoded. Writing makes a minimal HAR 1.2 that
those tools open.
"""

from __future__ import annotations

import base64
import binascii
import time
from datetime import UTC, datetime
from typing import Any

from ..about import NAME, __version__
from ..spec.api import HEADERS, JSON_MEDIA_TYPE

__all__ = ["HarError", "from_har", "to_har"]


class HarError(ValueError):
    """A HAR file that cannot be read as one (the message names the part)."""


def _headers(raw: Any, where: str) -> dict[str, list[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise HarError(f"{where} headers are not a list")
    out: dict[str, list[str]] = {}
    for h in raw:
        if not isinstance(h, dict) or not isinstance(h.get("name"), str):
            raise HarError(f"a {where} header has no name")
        value = h.get("value", "")
        if not isinstance(value, str | int | float):  # a number is read as its text; a list or object is no value
            raise HarError(f"the {where} header {h['name'][:60]!r} has a value that is not text")
        out.setdefault(h["name"], []).append(str(value))
    return out


def _content(content: Any) -> str | None:
    if not isinstance(content, dict) or content.get("text") is None:
        return None
    text = str(content["text"])
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            raise HarError("a base64 body does not decode") from None
    return text


def from_har(data: Any) -> list[dict[str, Any]]:
    """The entries of a HAR document as cassette interactions (request, response)."""
    log = data.get("log") if isinstance(data, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise HarError("not a HAR file (no log.entries list)")
    interactions: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):
        request = entry.get("request") if isinstance(entry, dict) else None
        response = entry.get("response") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or not isinstance(request.get("url"), str):
            raise HarError(f"entry {i} has no request URL")
        post = request.get("postData")
        body = post.get("text") if isinstance(post, dict) else None
        answer: dict[str, Any] = {}
        if isinstance(response, dict):
            status = response.get("status")
            # status 0: the tool recorded no answer (blocked, aborted)
            if isinstance(status, int) and not isinstance(status, bool) and status > 0:
                answer = {"status": {"code": status, "message": str(response.get("statusText", ""))},
                          "headers": _headers(response.get("headers"), "response"),
                          "body": {"string": _content(response.get("content"))}}
        interactions.append({"request": {"method": str(request.get("method", "GET")), "uri": request["url"],
                                         "headers": _headers(request.get("headers"), "request"), "body": body},
                             "response": answer})
    return interactions


def _pairs(headers: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for name, values in headers.items():
        for value in values if isinstance(values, list) else [values]:
            out.append({"name": name, "value": str(value)})
    return out


def to_har(interactions: list[dict[str, Any]], aec: dict[str, Any] | None = None) -> dict[str, Any]:
    """A HAR 1.2 document of cassette interactions (already scrubbed); ``aec``, a cassette's metadata (which
    workflow made it, its annotations), goes into the custom field ``log._aec``."""
    entries = []
    written = time.time()  # the start of an exchange recorded without its time (vcrpy keeps none)
    for item in interactions:
        request, response = item["request"], item.get("response") or {}
        body = request.get("body")
        req: dict[str, Any] = {"method": request["method"], "url": request["uri"], "httpVersion": "HTTP/1.1",
                               "headers": _pairs(request.get("headers") or {}), "queryString": [], "cookies": [],
                               "headersSize": -1, "bodySize": len(body.encode()) if isinstance(body, str) else 0}
        if isinstance(body, str):
            content_type = next((v[0] if isinstance(v, list) else v for k, v in (request.get("headers") or {}).items()
                                 if k.lower() == HEADERS.content_type.lower()), JSON_MEDIA_TYPE)
            req["postData"] = {"mimeType": content_type, "text": body}
        status = response.get("status") or {}
        text = (response.get("body") or {}).get("string")
        res_headers = response.get("headers") or {}
        mime = next((v[0] if isinstance(v, list) else v for k, v in res_headers.items()
                     if k.lower() == HEADERS.content_type.lower()), "")
        timing = item.get("timing") or {}
        started, ms = float(timing.get("started", written)), float(timing.get("ms", 0))
        entries.append({
            "pageref": PAGE, "startedDateTime": _iso(started), "time": ms, "cache": {},
            "timings": {"send": 0, "wait": ms, "receive": 0},
            "request": req,
            "response": {"status": status.get("code", 0), "statusText": status.get("message", ""),
                         "httpVersion": "HTTP/1.1", "headers": _pairs(res_headers), "cookies": [],
                         "content": {"size": len(text.encode()) if isinstance(text, str) else 0, "mimeType": mime,
                                     **({"text": text} if isinstance(text, str) else {})},
                         "redirectURL": "", "headersSize": -1,
                         "bodySize": len(text.encode()) if isinstance(text, str) else 0},
        })
    agent = next((str(v[0] if isinstance(v, list) else v) for item in interactions
                  for k, v in (item["request"].get("headers") or {}).items() if k.lower() == "user-agent"), "")
    name, _, version = agent.partition(" ")[0].partition("/")
    first = min((str(e["startedDateTime"]) for e in entries), default=_iso(written))
    page = {"startedDateTime": first, "id": PAGE, "title": f"a session recorded by {NAME}",
            "pageTimings": {}}
    return {"log": {"version": "1.2", "creator": {"name": NAME, "version": __version__},
                    "browser": {"name": name or "unknown client", "version": version or ""},
                    "pages": [page], "entries": entries, **({"_aec": aec} if aec else {})}}


#: the one page a recorded session is, in HAR's terms (a viewer groups entries by page)
PAGE = "session"


def _iso(seconds: float) -> str:
    """An instant as HAR writes it (ISO 8601, milliseconds, UTC)."""
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
