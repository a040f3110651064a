"""Drift: where recorded answers depart from what the description says, grouped by cause.

A ``Drift`` is fed answered exchanges in the order they were recorded and keeps, per departure (kind,
operation, contract, folded pointer), how often it was seen, the first and last exchange that showed it and
up to three example values. It judges nothing: a run's verdict is the session's; drift says where the live
API and its description part ways, and what change to the description would accept what was seen.

The kinds: ``property`` (a key the contract does not name), ``enum`` (a value outside a documented enum),
``type`` (a JSON type the contract does not allow), ``status-code``, ``header`` and ``media-type`` (of an
answer, where the operation does not document them), and ``unseen`` (a documented property no answer
carried: information, never a failure).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from ..findings import fold_pointer
from ..http import Exchange
from ..spec.api import HEADERS, find_operation, operation
from ..spec.contracts import KeyTree, escape, key_tree, on_reload, schema_location, unescape
from ..spec.contracts import pointer as json_pointer
from .compiled import _fast, has_no_unknown_key
from .exchange import Facts, parse_body
from .explain import json_type

__all__ = ["KINDS", "SEVERITY", "Departure", "Drift"]

#: every kind of departure, in the order a report lists them
KINDS = ("type", "enum", "property", "status-code", "media-type", "header", "unseen")
#: how much a kind weighs for ``--fail-on``: an answer whose values the contract refuses is an error; what the
#: contract does not mention is a warning; a documented property never seen is information
SEVERITY = {"type": "error", "enum": "error", "property": "warning", "status-code": "warning",
            "media-type": "warning", "header": "warning", "unseen": "info"}
CONTENT_TYPE = HEADERS.content_type.lower()
#: headers of HTTP itself (RFC 9110, 9111 and the usual gateway and CORS lines), which no API description lists
GENERIC_HEADERS = frozenset({
    "date", "content-length", CONTENT_TYPE, "content-encoding", "connection", "keep-alive", "transfer-encoding",
    "server", "vary", "cache-control", "pragma", "expires", "etag", "last-modified", "age", "via", "trailer",
    "upgrade", "strict-transport-security", "x-content-type-options", "x-frame-options", "x-xss-protection",
    "access-control-allow-origin", "access-control-allow-credentials", "access-control-expose-headers",
    "access-control-allow-headers", "access-control-allow-methods", "access-control-max-age", "set-cookie",
    "alt-svc", "x-request-id", "x-b3-traceid", "x-b3-spanid", "traceparent", "tracestate",
})
_EXAMPLES = 3
_VALUES = 50
#: bodies remembered: at most this long, at most this many, at most this many bytes in all
_MEMO_BYTES, _MEMO_ENTRIES, _MEMO_HELD = 1 << 16, 4096, 1 << 22
_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
_ID = re.compile(r"[0-9a-fA-F-]{16,}|[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z-]+")
_ENUM_LIKE = re.compile(r"[A-Z][A-Z0-9_]{1,40}")


@cache
def _answer(operation_id: str, status: int) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """Of one documented answer: the headers it names, those with the headers of HTTP itself, its media types."""
    op = operation(operation_id)
    named = frozenset(op.response_header_names(status))
    return named, named | GENERIC_HEADERS, op.response_media_types(status)


on_reload(_answer.cache_clear)


def _media(content_type: str) -> str:
    """The media type a Content-Type names, in lower case, without its parameters."""
    return _media_of(content_type) if len(content_type) <= 200 else _media_of.__wrapped__(content_type)


@lru_cache(maxsize=256)  # (a short value: the common ones, kept at a bounded cost)
def _media_of(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def _shape(value: Any) -> str | None:
    """What a string looks like, where it looks like something: a date-time, an id, an enum value."""
    if not isinstance(value, str):
        return None
    if _DATE_TIME.match(value):
        return "date-time"
    if _ID.fullmatch(value):
        return "id"
    return "enum" if _ENUM_LIKE.fullmatch(value) else None


def _example(value: Any) -> Any:
    """A short stand-in for a value (recordings are scrubbed already; long text and big values are cut)."""
    if isinstance(value, str):
        return value[:80]
    if isinstance(value, dict):
        return {"(object with keys)": sorted(map(str, value))[:8]}
    if isinstance(value, list):
        return {"(array of)": len(value)}
    return value


@dataclass
class Departure:
    """One cause of drift: what kind, where (operation, contract, folded pointer) and the evidence."""

    kind: str
    operation: str
    contract: str | None
    pointer: str  # folded: array indices and ids are '*'
    count: int = 0
    first_seen: tuple[str, int | str] = ("", 0)  # (recording, the exchange's index or pointer in it)
    last_seen: tuple[str, int | str] = ("", 0)
    examples: list[Any] = field(default_factory=list)
    types: set[str] = field(default_factory=set)  # the JSON types seen (property, type)
    shapes: set[str] = field(default_factory=set)  # what seen strings look like (property)
    documented: Any = None  # what the description says instead (the enum, the types, the documented codes)
    status: int | None = None  # the answer's status (status-code, header, media-type, property, enum, type)
    #: where the schema that would change lies in the bundled description: (component, path within it)
    location: tuple[str, tuple[str | int, ...]] | None = None
    key: str | None = None  # a property: the key itself
    values: list[Any] = field(default_factory=list)  # the distinct values seen (at most _VALUES), for a proposal
    bodies: list[Any] = field(default_factory=list)  # a status code: the bodies its answers carried (a proposal)

    @property
    def severity(self) -> str:
        return SEVERITY[self.kind]

    def to_dict(self, total: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind, "severity": self.severity, "operation": self.operation, "contract": self.contract,
            "pointer": self.pointer, "count": self.count, "share": round(self.count / total, 4) if total else 0.0,
            "first_seen": {"file": self.first_seen[0], "exchange": self.first_seen[1]},
            "last_seen": {"file": self.last_seen[0], "exchange": self.last_seen[1]},
            "examples": self.examples,
        }
        if self.status is not None:
            out["status"] = self.status
        if self.types:
            out["types"] = sorted(self.types)
        if self.shapes:
            out["looks_like"] = sorted(self.shapes)
        if self.documented is not None:
            out["documented"] = self.documented
        return out


def _tokens(payload: Any, pointer: str) -> tuple[list[str], Any] | None:
    """The schema path of a pointer into a payload (object keys as they are, array indices as '*'), and the
    value there; None where the pointer leads nowhere."""
    out: list[str] = []
    node = payload
    for raw in pointer.split("/")[1:] if pointer else []:
        token = unescape(raw)
        if isinstance(node, list):
            if not token.isdigit() or int(token) >= len(node):
                return None
            node, token = node[int(token)], "*"
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            return None
        out.append(token)
    return out, node


def _documented_paths(tree: KeyTree, prefix: str = "", depth: int = 0) -> Iterator[str]:
    """Every property path a contract names, array items as '*' (what 'unseen' is checked against)."""
    if depth > 12:
        return
    for key, sub in tree.keys.items():
        path = f"{prefix}/{escape(key)}"
        yield path
        yield from _documented_paths(sub, path, depth + 1)
    if tree.items is not None:
        yield from _documented_paths(tree.items, f"{prefix}/*", depth + 1)


@cache
def _documented(contract: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every property path a contract names, with its keys (read once per contract and overlay)."""
    return tuple((path, tuple(unescape(t) for t in path.split("/")[1:])) for path in _documented_paths(key_tree(contract)))


@cache
def _full_trie(contract: str) -> Trie:
    return _trie({path: list(keys) for path, keys in _documented(contract)})


on_reload(_documented.cache_clear)
on_reload(_full_trie.cache_clear)


#: a trie of property paths: each key (or '*' for an array's items) to (the paths below it, the path it ends)
Trie = dict[str, tuple["Trie", str | None]]


def _trie(paths: dict[str, list[str]]) -> Trie:
    root: Trie = {}
    for path, keys in paths.items():
        node = root
        for i, key in enumerate(keys):
            below, ends = node.get(key, ({}, None))
            node[key] = (below, path if i == len(keys) - 1 else ends)
            node = below
    return root


def _forget(trie: Trie, keys: list[str]) -> None:
    """Take one path out of a trie, and every branch left with no path to end."""
    below, ends = trie[keys[0]]
    if len(keys) == 1:
        ends = None
    else:
        _forget(below, keys[1:])
    if below or ends is not None:
        trie[keys[0]] = (below, ends)
    else:
        del trie[keys[0]]


def _carried(value: Any, trie: Trie, out: list[str]) -> None:
    """Add the paths of the trie that the value carries (walking only where the value has the trie's keys)."""
    if isinstance(value, dict):
        for key, (below, ends) in trie.items():
            if key in value:
                if ends is not None:
                    out.append(ends)
                if below:
                    _carried(value[key], below, out)
    elif isinstance(value, list) and "*" in trie:
        below, _ = trie["*"]
        for item in value:
            _carried(item, below, out)


class Drift:
    """Departures of recorded answers from the description, collected exchange by exchange."""

    def __init__(self, *, unseen: bool = True) -> None:
        """``unseen``: also keep track of the documented properties no answer carried (the drift command does;
        a replay or a proxy session, which judges its traffic first, leaves that to it)."""
        self.track_unseen = unseen
        self.exchanges = 0  # answered exchanges of the API's operations
        self._found: dict[tuple[str, str, str | None, str, int | None], Departure] = {}
        #: contract: its documented property paths no answer has carried yet (each with its keys)
        self._missing: dict[str, dict[str, list[str]]] = {}
        self._tries: dict[str, Trie] = {}  # contract: its missing paths as a trie (made again when one is seen)
        #: an answer's body as recorded (operation, status, bytes or text): the departures it showed, so that the
        #: same body seen again (a job polled until it finishes) is counted without being read again
        self._memo: dict[tuple[str, int, Any], list[tuple[Any, ...]]] = {}
        self._memo_held = 0  # the bytes of the bodies remembered
        self._noted: list[tuple[Any, ...]] | None = None
        self._first_of: dict[str, tuple[str, int | str]] = {}  # contract: the first exchange that carried it

    def see(self, exchange: Exchange, where: tuple[str, int | str], facts: Facts | None = None) -> None:
        """Note how one recorded exchange's answer departs from the description (``where``: the recording and
        the exchange's place in it; ``facts``: what the judge already worked out of it, not worked out again)."""
        op = facts.operation if facts is not None else find_operation(exchange.method, exchange.path)[0]
        if op is None or exchange.status is None:
            return
        self.exchanges += 1
        status, name = exchange.status, op.operation_id
        documented, contract = op.response_contract(status)
        if facts is not None:
            body, problem, present = facts.response, None, facts.response is not None
        else:
            body, problem, present = parse_body(exchange.response_body)
        if not documented:
            codes = sorted(code for code in op.responses if code.isdigit())
            departure = self._note("status-code", name, None, "/response/status", where, status, status=status,
                                   documented=codes)
            if present and problem is None and len(departure.bodies) < _VALUES and body not in departure.bodies:
                departure.bodies.append(body)
        headers = exchange.response_headers
        if documented:
            named, allowed, types = _answer(name, status)
            if not headers.keys() <= allowed:  # the common case: every header named, asked without a set made
                for header in headers.keys() - allowed:
                    if not header.startswith("x-aec"):
                        self._note("header", name, None, f"/response/headers/{header}", where, headers[header][:80],
                                   status=status, documented=sorted(named))
            media = _media(headers.get(CONTENT_TYPE, ""))
            if present and media and types and media not in types:
                self._note("media-type", name, None, f"/response/headers/{CONTENT_TYPE}", where, media,
                           status=status, documented=list(types))
        if not documented or contract is None or not present or problem is not None:
            return
        raw = exchange.response_body
        memo = (name, status, raw) if isinstance(raw, bytes | str) and len(raw) <= _MEMO_BYTES else None
        seen = self._memo.get(memo) if memo is not None else None
        if seen is not None:  # the same body again: the same departures, one more time each
            for key in seen:
                departure = self._found[key]
                departure.count += 1
                departure.last_seen = where
            return
        self._noted = []
        try:
            self._body(name, contract, status, body, where, facts is not None and facts.response_ok)
        finally:
            noted, self._noted = self._noted, None
        if memo is not None and len(self._memo) < _MEMO_ENTRIES and self._memo_held + len(raw) <= _MEMO_HELD:
            self._memo[memo] = noted
            self._memo_held += len(raw)

    def _body(self, name: str, contract: str, status: int, body: Any, where: tuple[str, int | str],
              valid: bool = False) -> None:
        """``valid``: the judge found the body meets its schema (no type or enum to look for)."""
        if self.track_unseen:
            self._carry(contract, body, where)
        # the two questions asked in Rust first: most answers have no unknown key and are valid
        unknown = () if has_no_unknown_key(body, contract) else key_tree(contract).walk(body)
        for parent, key, _node in unknown:
            pointer = f"{parent}/{escape(key)}"
            found = _tokens(body, pointer)
            tokens, value = found if found is not None else (None, None)
            departure = self._note("property", name, contract, pointer, where, value, status=status)
            departure.key = key
            departure.types.add(json_type(value))
            shape = _shape(value)
            if shape:
                departure.shapes.add(shape)
            if departure.location is None and tokens is not None:
                departure.location = _place(contract, tokens[:-1])
        validator = _fast(contract)
        try:  # a value the Rust side cannot take (nested beyond its depth) has no drift to say: the judge says why
            errors = [] if valid or validator.is_valid(body) else list(validator.iter_errors(body))
        except (ValueError, TypeError, OverflowError, RecursionError):
            errors = []
        for error in errors:
            kind = type(error.kind).__name__
            if kind not in ("Type", "Enum", "Constant"):
                continue
            pointer = json_pointer(error.instance_path)
            what = "type" if kind == "Type" else "enum"
            said = sorted(map(str, error.kind.types)) if kind == "Type" else list(getattr(error.kind, "options", [])) \
                if kind == "Enum" else [getattr(error.kind, "expected_value", None)]
            departure = self._note(what, name, contract, pointer, where, error.instance, status=status, documented=said)
            departure.types.add(json_type(error.instance))
            found = _tokens(body, pointer)
            if departure.location is None and found is not None:
                departure.location = _place(contract, found[0])

    def _carry(self, contract: str, body: Any, where: tuple[str, int | str]) -> None:
        """Take the documented properties the body carries off the contract's list of those never seen."""
        found: list[str] = []
        trie = self._tries.get(contract)
        if trie is None:  # the contract's first answer: what it carries, read against every documented path
            self._first_of[contract] = where
            _carried(body, _full_trie(contract), found)
            seen = set(found)
            missing = self._missing[contract] = {p: list(keys) for p, keys in _documented(contract) if p not in seen}
            self._tries[contract] = _trie(missing)
        else:  # the paths no answer carried yet: few, and the walk follows only what the answer has of them
            _carried(body, trie, found)
            missing = self._missing[contract]
            for path in found:
                keys = missing.pop(path, None)
                if keys is not None:
                    _forget(trie, keys)

    def _note(self, kind: str, operation: str, contract: str | None, pointer: str, where: tuple[str, int | str],
              example: Any, *, status: int | None = None, documented: Any = None) -> Departure:
        folded = fold_pointer(pointer)
        key = (kind, operation, contract, folded, status if kind in ("status-code", "header", "media-type") else None)
        departure = self._found.get(key)
        if departure is None:
            departure = self._found[key] = Departure(kind, operation, contract, folded, first_seen=where,
                                                     documented=documented, status=status)
        departure.count += 1
        departure.last_seen = where
        if self._noted is not None:
            self._noted.append(key)
        sample = _example(example)
        if len(departure.examples) < _EXAMPLES and sample not in departure.examples:
            departure.examples.append(sample)
        if len(departure.values) < _VALUES and example not in departure.values:
            departure.values.append(example)
        return departure

    def unseen(self) -> list[Departure]:
        """Documented properties of each contract an answer carried that no answer carried (information)."""
        return [Departure("unseen", "", contract, path, 0, self._first_of[contract], self._first_of[contract])
                for contract, missing in sorted(self._missing.items()) for path in missing]

    def merge(self, other: Drift) -> Drift:
        """This drift and another's (a later part of the same run: its first sightings come after these)."""
        self.exchanges += other.exchanges
        for key, theirs in other._found.items():
            mine = self._found.get(key)
            if mine is None:
                self._found[key] = theirs
                continue
            mine.count += theirs.count
            mine.last_seen = theirs.last_seen
            mine.types |= theirs.types
            mine.shapes |= theirs.shapes
            mine.location = mine.location or theirs.location
            mine.examples.extend(e for e in theirs.examples if e not in mine.examples)
            del mine.examples[_EXAMPLES:]
            mine.values.extend(v for v in theirs.values if v not in mine.values)
            del mine.values[_VALUES:]
            mine.bodies.extend(b for b in theirs.bodies if b not in mine.bodies)
            del mine.bodies[_VALUES:]
        for contract, their_missing in other._missing.items():
            my_missing = self._missing.get(contract)
            if my_missing is None:
                self._missing[contract] = dict(their_missing)
                self._first_of[contract] = other._first_of[contract]
            else:  # seen in either part: seen
                for path in [path for path in my_missing if path not in their_missing]:
                    del my_missing[path]
            self._tries[contract] = _trie(self._missing[contract])
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"exchanges": self.exchanges, "departures": [d.to_dict(self.exchanges) for d in self.departures()]}

    def departures(self, *, unseen: bool = True) -> list[Departure]:
        """Every departure, the weightiest kinds first, then by how often it was seen."""
        found = list(self._found.values()) + (self.unseen() if unseen else [])
        return sorted(found, key=lambda d: (KINDS.index(d.kind), -d.count, d.operation, d.contract or "", d.pointer))


def _place(contract: str, tokens: list[str]) -> tuple[str, tuple[str | int, ...]] | None:
    found = schema_location(contract, tokens)
    return None if found is None else (found[0], found[1])
