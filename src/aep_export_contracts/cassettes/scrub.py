"""Scrubbing: what a recording keeps of a request and its answer, with every credential, org id and
e-mail address replaced by a placeholder before anything touches disk."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..spec.api import HEADERS
from .scan import EMAIL

__all__ = ["EMAIL_PLACEHOLDER", "PLACEHOLDERS", "SECRET_HEADERS", "Scrubber"]

PLACEHOLDERS = {"token": "{ACCESS_TOKEN}", "api_key": "{API_KEY}", "org": "{IMS_ORG}", "sandbox": "{SANDBOX_NAME}"}
EMAIL_PLACEHOLDER = "[redacted-email]"
SECRET_HEADERS = dict(zip(HEADERS.secret, (HEADERS.bearer_prefix + PLACEHOLDERS["token"], PLACEHOLDERS["api_key"]),
                          strict=True))

#: a value a scrubber wrote: never a secret of its own
_PLACEHOLDER = re.compile("|".join(re.escape(p[:-1]) + r"(?:_[0-9]+)?\}" for p in PLACEHOLDERS.values()))


@dataclass
class Scrubber:
    """Replaces secrets by header name and by value, in requests and responses alike."""

    token: str
    api_key: str
    org: str
    sandbox: str
    extra: list[str] = field(default_factory=list)
    other_orgs: dict[str, str] = field(default_factory=dict)  # another org id seen → its own placeholder
    other_sandboxes: dict[str, str] = field(default_factory=dict)  # another sandbox seen → its own placeholder

    @classmethod
    def of(cls, interactions: list[dict[str, Any]], extra: list[str] | None = None) -> Scrubber:
        """A scrubber for recorded interactions whose credentials nobody told it: every value of a credential
        or scope header in any request, wherever it first appears, is scrubbed everywhere in the recording
        (the first value of each is the run's; another org or sandbox gets a numbered placeholder)."""
        seen: dict[str, list[str]] = {name.lower(): [] for name in (HEADERS.authorization, HEADERS.api_key,
                                                                     HEADERS.org, HEADERS.sandbox)}
        for item in interactions:
            for name, values in (item.get("request", {}).get("headers") or {}).items():
                mine = seen.get(name.lower())
                for value in values if isinstance(values, list) else [values]:
                    text = str(value)
                    if name.lower() == HEADERS.authorization.lower():
                        text = text.removeprefix(HEADERS.bearer_prefix)
                    if mine is not None and text and text not in mine:
                        mine.append(text)
        tokens, keys, orgs, sandboxes = seen.values()
        token, key, org, sandbox = (values[0] if values else "" for values in seen.values())
        scrubber = cls(token, key, org, sandbox, extra=[*(extra or []), *tokens[1:], *keys[1:]])
        for value in orgs[1:]:
            scrubber._numbered(scrubber.other_orgs, value, PLACEHOLDERS["org"])
        for value in sandboxes[1:]:
            scrubber._numbered(scrubber.other_sandboxes, value, PLACEHOLDERS["sandbox"])
        return scrubber

    @staticmethod
    def _numbered(others: dict[str, str], value: str, placeholder: str) -> str:
        if _PLACEHOLDER.fullmatch(value):  # scrubbed already (vcrpy may hand a request over twice)
            return value
        return others.setdefault(value, placeholder[:-1] + f"_{len(others) + 2}}}")

    def pairs(self) -> list[tuple[str, str]]:
        values = [(self.token, PLACEHOLDERS["token"]), (self.api_key, PLACEHOLDERS["api_key"]),
                  (self.org, PLACEHOLDERS["org"]), (self.sandbox, PLACEHOLDERS["sandbox"])]
        values += [(x, "[redacted]") for x in self.extra]
        values += [*self.other_orgs.items(), *self.other_sandboxes.items()]
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
        if lowered in (HEADERS.org, HEADERS.sandbox):
            # every org id and sandbox name is masked; another than the run's gets a placeholder of its own, so
            # that a recording still shows which requests shared a scope
            mine, others, placeholder = (self.org, self.other_orgs, PLACEHOLDERS["org"]) if lowered == HEADERS.org \
                else (self.sandbox, self.other_sandboxes, PLACEHOLDERS["sandbox"])
            return placeholder if value == mine else self._numbered(others, value, placeholder)
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
        timing = {"timing": item["timing"]} if isinstance(item.get("timing"), dict) else {}  # times are no secret
        return {"request": request, "response": self.response(response), **timing}

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers", {})
        for name in list(headers):
            headers[name] = [self.header(name, str(v)) for v in headers[name]]
        body = response.get("body", {})
        if "string" in body:
            body["string"] = self.body(body["string"])
        return response


