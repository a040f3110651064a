"""Hypothesis strategies: valid payloads, and verified-invalid ones, for every contract.

``valid(contract)`` builds payloads with zero error findings. ``invalid(contract)`` applies one
labelled mutation to a valid payload and keeps the example only if, after a round trip through
JSON bytes, the validator reports the labelled rule at the labelled pointer: a negative example is
proven negative. ``exchanges()`` and ``invalid_exchanges()`` do the same for whole HTTP exchanges.
``generate()`` is the bulk path (a seeded ``random.Random``, same builders, same verification).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from hypothesis import assume
from hypothesis import strategies as st

from ..engine.exchange import validate_exchange
from ..engine.payload import validate_bytes
from ..http import Exchange
from ..rules import get_rule
from ..spec.api import HEADERS, JOB_STATUSES, JSON_MEDIA_TYPE, PATHS, PRODUCTION_URL, RESPONSE_HEADERS, operation
from ..spec.contracts import CONTRACT_NAMES
from . import builders as B
from .builders import BUILDERS, HypothesisSource, RandomSource, Source
from .mutations import Mutation, mutations_for

__all__ = ["TALLY", "Draft", "Labelled", "Tally", "draft", "dumps", "exchanges", "generate", "invalid",
           "invalid_exchanges", "valid", "verify"]


@dataclass(frozen=True)
class Labelled:
    """A verified-invalid example: the payload, and the rule it triggers at which pointer."""

    payload: Any
    rule: str
    pointer: str
    mutation: str
    contract: str

    @property
    def severity(self) -> str:
        return str(get_rule(self.rule).severity)

    def to_dict(self) -> dict[str, Any]:
        return {"payload": self.payload, "violation": {"rule": self.rule, "pointer": self.pointer,
                                                       "mutation": self.mutation, "severity": self.severity}}


def json_line(record: dict[str, Any]) -> str:
    """A record as one line of strict JSON (RFC 8259 text that any parser reads, UTF-8 throughout).

    A payload with no such form (a NaN, an infinity, a lone surrogate: what some mutations make) is
    carried as its text in ``payload_text`` (as Python's json module writes it), ``payload`` is null
    and ``strict_json`` is false, so that a consumer can still read it exactly.
    """
    try:
        line = json.dumps(record, ensure_ascii=False, allow_nan=False)
        line.encode("utf-8")
        return line
    except (ValueError, UnicodeEncodeError, RecursionError):
        carried = {**record, "payload": None, "payload_text": _text(record["payload"]), "strict_json": False}
        return json.dumps(carried, ensure_ascii=False, allow_nan=False)


def _text(value: Any) -> str:
    """The value as Python's json module writes it: NaN as a token, a lone surrogate as a \\u escape."""
    try:
        return json.dumps(value)
    except RecursionError:
        return _dumps_deep(value)


def dumps(value: Any) -> str:
    """JSON text of any value, however deep (NaN is written as the token NaN, as json.dumps does)."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except RecursionError:
        return _dumps_deep(value)


def _dumps_deep(value: Any) -> str:
    """``dumps`` without recursion: for values nested deeper than the interpreter's recursion limit."""
    out: list[str] = []
    stack: list[Any] = [value]
    close = object()
    while stack:
        item = stack.pop()
        if item is close:
            out.append("]")
        elif isinstance(item, list):
            depth = 0  # a chain of one-item lists, the usual shape of deep nesting, is written in one go
            while len(item) == 1 and isinstance(item[0], list):
                depth, item = depth + 1, item[0]
            if depth:
                out.append("[" * depth)
                stack.append((close, "]" * depth))
            out.append("[")
            stack.append(close)
            for i, sub in enumerate(reversed(item)):
                stack.append(sub)
                if i < len(item) - 1:
                    stack.append((close, ", "))
        elif isinstance(item, tuple) and len(item) == 2 and item[0] is close:
            out.append(item[1])
        elif isinstance(item, dict):
            out.append("{")
            stack.append((close, "}"))
            entries = list(item.items())
            for i, (k, sub) in enumerate(reversed(entries)):
                stack.append(sub)
                stack.append((close, json.dumps(_key_text(k), ensure_ascii=False) + ": "))
                if i < len(entries) - 1:
                    stack.append((close, ", "))
        else:
            out.append(json.dumps(item, ensure_ascii=False))
    return "".join(out)


def _key_text(key: Any) -> str:
    """An object key as json.dumps writes it (it refuses the same keys)."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool | float):
        return json.dumps(key)  # null, true, false, 1.5, Infinity, NaN
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _json_bytes(value: Any) -> bytes:
    """The JSON bytes of a value: orjson's where they say the same as ``dumps``, else ``dumps``'s.

    orjson writes NaN and infinities as null, so any null in its output sends the value the slow way;
    values it refuses (non-string keys, huge integers, deep nesting, lone surrogates) go that way too.
    """
    out: bytes | None
    try:
        out = orjson.dumps(value)
    except (TypeError, ValueError) as exc:
        if "ecursion" in str(exc):  # orjson stops at 255 levels: deeper than json.dumps goes too, so skip it
            return _dumps_deep(value).encode("utf-8", "surrogatepass")
        out = None
    if out is None or _has_null(out):
        return dumps(value).encode("utf-8", "surrogatepass")
    return out


def _has_null(out: bytes) -> bool:
    """``b"null" in out``, quicker on a large output: a one-byte search runs at memchr speed, so
    the output is searched for its 'l' bytes (few, outside long strings) and each is looked at."""
    if len(out) < 65536:
        return b"null" in out
    at = out.find(b"l", 3)
    for _ in range(256):
        if at == -1:
            return False
        if out[at - 3:at + 1] == b"null":
            return True
        at = out.find(b"l", at + 1)
    return b"null" in out  # many 'l' bytes: the plain search


def verify(contract: str, payload: Any, rule: str, pointer: str, *, detect: bool = False) -> bool:
    """True when the validator reports ``rule`` at ``pointer`` for the payload's JSON bytes."""
    report = validate_bytes(_json_bytes(payload), None if detect else contract)
    return any(f.rule == rule and f.pointer == pointer for f in report.findings)


@dataclass(frozen=True)
class Draft:
    """One mutation tried on a freshly built payload: applied or not, confirmed by the validator or not."""

    contract: str
    mutation: Mutation
    payload: Any
    pointer: str | None  # None: the mutation did not apply to this payload
    confirmed: bool


class Tally:
    """Drafts per (contract, mutation): how many were tried, did not apply, or were not confirmed.

    A mutation whose drafts the validator stops confirming is a blind spot of the validator or a
    broken mutation; either way the invalid strategies would hide it by discarding those drafts, so
    the counts are kept where a test can read them.
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], list[int]] = {}

    def add(self, d: Draft) -> None:
        row = self.counts.setdefault((d.contract, d.mutation.name), [0, 0, 0])
        row[0] += 1
        row[1] += d.pointer is None
        row[2] += d.pointer is not None and not d.confirmed

    def rows(self) -> dict[tuple[str, str], dict[str, int]]:
        return {key: {"drafts": a, "not applicable": b, "unconfirmed": c} for key, (a, b, c) in sorted(self.counts.items())}

    def clear(self) -> None:
        self.counts.clear()


#: every draft the invalid strategies and bulk generation make is counted here
TALLY = Tally()


def draft(contract: str, src: Source) -> Draft:
    """Build a valid payload, apply one labelled mutation chosen by ``src``, and ask the validator."""
    payload = BUILDERS[contract](src)  # freshly built: mutated in place, no copy needed
    chosen: Mutation = src.choice(mutations_for(contract))
    where = chosen.apply(payload, src)
    confirmed = where is not None and verify(contract, payload, chosen.rule, where, detect=chosen.detect)
    made = Draft(contract, chosen, payload, where, confirmed)
    TALLY.add(made)
    return made


def _mutate(contract: str, src: Source) -> Labelled | None:
    d = draft(contract, src)
    if not d.confirmed or d.pointer is None:
        return None
    return Labelled(d.payload, d.mutation.rule, d.pointer, d.mutation.name, contract)


def _check_name(contract: str) -> None:
    if contract not in CONTRACT_NAMES:
        raise KeyError(f"unknown contract {contract!r}; known contracts: {', '.join(CONTRACT_NAMES)}")


def valid(contract: str) -> st.SearchStrategy[Any]:
    """Valid payloads of a contract: every one gets zero error findings."""
    _check_name(contract)
    build = BUILDERS[contract]
    return st.composite(lambda draw: build(HypothesisSource(draw)))()


def invalid(contract: str) -> st.SearchStrategy[Labelled]:
    """Verified-invalid payloads, each with the rule it must trigger and where."""
    _check_name(contract)

    @st.composite
    def draw_one(draw: Any) -> Labelled:
        example = _mutate(contract, HypothesisSource(draw))
        assume(example is not None)
        assert example is not None
        return example

    return draw_one()


# ---- exchanges ---------------------------------------------------------------------------------

BASE = PRODUCTION_URL
JOBS = PATHS.jobs


def _headers(org: str, post: bool) -> dict[str, str]:
    headers = {HEADERS.authorization: HEADERS.bearer_prefix + "aec-local-token", HEADERS.api_key: "aec-local-key",
               HEADERS.org: org, HEADERS.sandbox: "dev"}
    if post:
        headers[HEADERS.content_type] = JSON_MEDIA_TYPE
    return headers


def _ok(operation_id: str) -> int:
    return operation(operation_id).success_status


def build_exchange(src: Source) -> dict[str, Any]:
    """A valid exchange of one of the five operations, as a JSON-ready dict."""
    org = f"{B.hexes(src, 24).upper()}@AdobeOrg"
    kind = src.choice(("create", "get", "list", "cancel", "dataset"))
    if kind == "create":
        request = B.export_job_request(src)
        job = copy.deepcopy(B.export_job(src, status=JOB_STATUSES.created, org=org, request=request))
        return {"method": "POST", "url": BASE + JOBS, "request_headers": _headers(org, True),
                "request_body": request, "status": _ok("createExportJob"),
                "response_headers": {RESPONSE_HEADERS.job_location: BASE + PATHS.of_job(job["id"])}, "response_body": job}
    if kind == "get":
        job = B.export_job(src, org=org)
        return {"method": "GET", "url": BASE + PATHS.of_job(job["id"]), "request_headers": _headers(org, False),
                "request_body": None, "status": _ok("getExportJob"), "response_headers": {}, "response_body": job}
    if kind == "list":
        listing = B.export_job_list(src)
        for record in listing["records"]:
            record["imsOrgId"] = org
        return {"method": "GET", "url": f"{BASE}{JOBS}?limit={listing['page']['pageSize']}",
                "request_headers": _headers(org, False), "request_body": None, "status": _ok("listExportJobs"),
                "response_headers": {}, "response_body": listing}
    if kind == "cancel":
        with_body = src.boolean()
        codes = operation("cancelExportJob").success_statuses  # with a body, then without
        return {"method": "DELETE", "url": BASE + PATHS.of_job(src.integer(1, 10**6)),
                "request_headers": _headers(org, False), "request_body": None, "status": codes[0] if with_body else codes[-1],
                "response_headers": {}, "response_body": B.export_job_cancel(src) if with_body else None}
    request = B.dataset_request(src)
    answer = B.dataset_response(src)
    return {"method": "POST", "url": BASE + PATHS.datasets, "request_headers": _headers(org, True),
            "request_body": request, "status": _ok("createDataset"),
            "response_headers": {RESPONSE_HEADERS.dataset_location: answer[0][1:]},
            "response_body": answer}


def to_exchange(data: dict[str, Any]) -> Exchange:
    return Exchange.make(data["method"], data["url"], request_headers=data["request_headers"],
                         request_body=data["request_body"], status=data["status"],
                         response_headers=data["response_headers"], response_body=data["response_body"])


def _op(ex: dict[str, Any]) -> str:
    if ex["url"].endswith("dataSets"):
        return "dataset"
    if ex["method"] == "POST":
        return "create"
    if ex["method"] == "DELETE":
        return "cancel"
    return "list" if "?" in ex["url"] else "get"


#: the exchange mutations that apply to each operation (chosen among these, few draws are wasted)
_MUTATIONS_BY_OP = {
    "cancel": ("method", "header", "body"),
    "list": ("header", "query", "limit", "spelling"),
    "create": ("header", "status", "location", "accepted", "echo", "org", "batches"),
    "dataset": ("header", "location", "spelling"),
    "get": ("header", "body", "org", "id"),
}


def _exchange_mutation(ex: dict[str, Any], src: Source) -> tuple[str, str, str] | None:
    """Apply one exchange mutation; (rule, pointer, name) or None where it does not apply."""
    op = _op(ex)
    name = src.choice(_MUTATIONS_BY_OP[op])
    if name == "method" and op == "cancel":
        ex["method"] = "POST"
        return "AEC501", "/request/method", "cancel-sent-as-post"
    if name == "header":
        key = src.choice(sorted(ex["request_headers"]))
        del ex["request_headers"][key]
        return "AEC502", f"/request/headers/{key.lower()}", "drop-header"
    if name == "query" and op == "list":
        ex["url"] = ex["url"].split("?")[0] + src.choice(("?offset=2", "?limit=ten", "?status=DONE"))
        key = ex["url"].split("?")[1].split("=")[0]
        return "AEC503", f"/request/query/{key}", "bad-query"
    if name == "spelling" and op == "dataset":
        ex["url"] += "?requestDataSource=" + src.choice(("True", "False"))
        return "AEC513", "/request/query/requestDataSource", "python-bool-spelling"
    if name == "spelling" and op == "list" and "status=" not in ex["url"]:
        # a filter on PROCESSING with an empty page: no record can break the filter
        ex["url"] += ("&" if "?" in ex["url"] else "?") + "status=PROCESSING"
        ex["response_body"] = {**ex["response_body"], "records": [], "link": {"next": ""}}
        return "AEC513", "/request/query/status", "undocumented-filter-value"
    if name == "status" and op == "create":
        ex["status"] = 201
        return "AEC504", "/response/status", "created-201"
    if name == "location" and op in ("create", "dataset"):
        header = RESPONSE_HEADERS.job_location if op == "create" else RESPONSE_HEADERS.dataset_location
        ex["response_headers"].pop(header)
        return "AEC505", f"/response/headers/{header.lower()}", "no-location"
    if name == "body" and op in ("cancel", "get"):
        if op == "cancel" and ex["status"] == 204:
            ex["response_body"] = {"status": True, "message": "done"}
        else:
            ex["response_body"] = None
        return "AEC506", "/response/body", "body-presence"
    if name == "accepted" and op == "create":
        del ex["request_body"]["schema"]
        return "AEC507", "/response/status", "invalid-accepted"
    if name == "echo" and op == "create":
        ex["response_body"]["schema"]["name"] = "_xdm.context.experienceevent"
        return "AEC508", "/response/body/schema/name", "schema-not-echoed"
    if name == "org" and op in ("create", "get"):
        ex["response_body"]["imsOrgId"] = "0000@AdobeOrg"
        return "AEC509", "/response/body/imsOrgId", "other-org"
    if name == "batches" and op == "create":
        ex["request_body"]["destination"]["segmentPerBatch"] = False
        destination = ex["response_body"]["destination"]
        for key in ("batchId", "batches"):
            destination.pop(key, None)
        destination["segmentPerBatch"] = False
        return "AEC510", "/response/body/destination/batchId", "no-batch"
    if name == "id" and op == "get":
        ex["url"] = BASE + PATHS.of_job(ex['response_body']['id'] + 1)
        return "AEC511", "/response/body/id", "other-job"
    if name == "limit" and op == "list" and len(ex["response_body"]["records"]) >= 2:
        ex["url"] = f"{BASE}{JOBS}?limit={len(ex['response_body']['records']) - 1}"
        return "AEC512", "/response/body/records", "page-over-limit"
    return None


def _verify_exchange(ex: dict[str, Any], rule: str, pointer: str) -> bool:
    data = json.loads(dumps(ex))
    report = validate_exchange(to_exchange(data))
    return any(f.rule == rule and f.pointer == pointer for f in report.findings)


def _mutated_exchange(src: Source) -> Labelled | None:
    ex = build_exchange(src)
    label = _exchange_mutation(ex, src)
    if label is None or not _verify_exchange(ex, label[0], label[1]):
        return None
    return Labelled(ex, label[0], label[1], label[2], "exchange")


def exchanges() -> st.SearchStrategy[dict[str, Any]]:
    """Valid exchanges (JSON-ready dicts; ``to_exchange`` makes an ``Exchange``)."""
    return st.composite(lambda draw: build_exchange(HypothesisSource(draw)))()


def invalid_exchanges() -> st.SearchStrategy[Labelled]:
    @st.composite
    def draw_one(draw: Any) -> Labelled:
        example = _mutated_exchange(HypothesisSource(draw))
        assume(example is not None)
        assert example is not None
        return example

    return draw_one()


def generate(contract: str, n: int, *, seed: int | None = None, invalid: bool = False) -> Iterator[dict[str, Any]]:
    """Bulk generation: ``n`` JSON-ready records, each ``{"payload": ...}`` (plus ``violation``)."""
    if contract != "exchange":
        _check_name(contract)
    src = RandomSource(seed)
    made = attempts = 0
    while made < n:
        attempts += 1
        if attempts > 50 * n + 1000:
            raise RuntimeError(f"could not generate {n} verified examples for {contract}")
        if not invalid:
            payload = build_exchange(src) if contract == "exchange" else BUILDERS[contract](src)
            yield {"payload": payload}
            made += 1
            continue
        example = _mutated_exchange(src) if contract == "exchange" else _mutate(contract, src)
        if example is not None:
            yield example.to_dict()
            made += 1
