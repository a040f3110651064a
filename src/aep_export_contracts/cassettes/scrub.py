"""Scrubbing: what a recording keeps of a request and its answer, with every credential, org id and
e-mail address replaced by a placeholder before anything touches disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..spec.api import HEADERS
from .scan import EMAIL

__all__ = ["EMAIL_PLACEHOLDER", "PLACEHOLDERS", "SECRET_HEADERS", "Scrubber"]

PLACEHOLDERS = {"token": "{ACCESS_TOKEN}", "api_key": "{API_KEY}", "org": "{IMS_ORG}", "sandbox": "{SANDBOX_NAME}"}
EMAIL_PLACEHOLDER = "[redacted-email]"
SECRET_HEADERS = dict(zip(HEADERS.secret, (HEADERS.bearer_prefix + PLACEHOLDERS["token"], PLACEHOLDERS["api_key"]),
                          strict=True))

@dataclass
class Scrubber:
    """Replaces secrets by header name and by value, in requests and responses alike."""

    token: str
    api_key: str
    org: str
    sandbox: str
    extra: list[str] = field(default_factory=list)
    other_orgs: dict[str, str] = field(default_factory=dict)  # another org id seen → its own placeholder

    def pairs(self) -> list[tuple[str, str]]:
        values = [(self.token, PLACEHOLDERS["token"]), (self.api_key, PLACEHOLDERS["api_key"]),
                  (self.org, PLACEHOLDERS["org"]), (self.sandbox, PLACEHOLDERS["sandbox"])]
        values += [(x, "[redacted]") for x in self.extra]
        # longest first, so that a value containing another is replaced whole
        return sorted(((v, p) for v, p in values if v and len(v) >= 3), key=lambda vp: -len(vp[0]))

    def text(self, value: str) -> str:
        for secret, placeholder in self.pairs():
            value = value.replace(secret, placeholder)
        return EMAIL.sub(EMAIL_PLACEHOLDER, value)

    def body(self, body: Any) -> Any:
        if body is None:
            return None
        if isinstance(body, bytes | bytearray):
            try:
                return self.text(bytes(body).decode("utf-8")).encode("utf-8")
            except UnicodeDecodeError:
                return b"[binary body removed]"
        return self.text(str(body))

    def header(self, name: str, value: str) -> str:
        lowered = name.lower()
        if lowered in SECRET_HEADERS:
            return SECRET_HEADERS[lowered]
        if lowered == HEADERS.org:
            # every org id is masked; another org than the run's gets a placeholder of its own, so that a
            # recording still shows which requests shared a scope
            if value == self.org:
                return PLACEHOLDERS["org"]
            return self.other_orgs.setdefault(value, PLACEHOLDERS["org"][:-1] + f"_{len(self.other_orgs) + 2}}}")
        if lowered == HEADERS.sandbox:
            return PLACEHOLDERS["sandbox"] if value == self.sandbox else self.text(value)
        return self.text(value)

    # vcrpy hooks
    def request(self, request: Any) -> Any:
        request.uri = self.text(request.uri)
        for name in list(request.headers):
            request.headers[name] = self.header(name, str(request.headers[name]))
        request.body = self.body(request.body)
        return request

    def interaction(self, item: dict[str, Any]) -> dict[str, Any]:
        """A scrubbed copy of a cassette interaction (request and response as dicts, headers as lists)."""
        request = dict(item["request"])
        request["uri"] = self.text(request["uri"])
        request["headers"] = {k: [self.header(k, str(v)) for v in values] for k, values in request["headers"].items()}
        request["body"] = None if request.get("body") is None else self.body(request["body"])
        response = dict(item["response"])
        response["headers"] = dict(response.get("headers") or {})
        response["body"] = dict(response.get("body") or {})
        return {"request": request, "response": self.response(response)}

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers", {})
        for name in list(headers):
            headers[name] = [self.header(name, str(v)) for v in headers[name]]
        body = response.get("body", {})
        if "string" in body:
            body["string"] = self.body(body["string"])
        return response


