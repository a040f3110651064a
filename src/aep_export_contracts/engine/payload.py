"""Validate a payload against a contract: a fast path, and explanations when it fails.

The fast path is jsonschema-rs with format validation on; a payload it accepts costs nothing more
than the semantic rules. A payload it rejects is explained from jsonschema-rs's own errors, reduced
to one finding per problem (``explain``); python-jsonschema, on the same schemas and offline
registry, is the independent second engine the differential tests hold it to.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date
from typing import Any

import orjson
import yaml

from ..findings import DEFAULT_POLICY, Finding, Policy, Report
from ..rules import CLOSED, Rule, rules_for
from ..rules import schema as SCHEMA_RULES
from ..spec.contracts import CONTRACT_NAMES, linked_pointer, pointer
from .compiled import _READY, Checks, _closed, _fast, _passes, _Screened, _screened, has_no_unknown_key, in_python
from .explain import _short, explain, explain_errors, explain_reference
from .yamlload import AliasBomb, load_yaml

__all__ = ["detect_contract", "parse_json", "shortcuts", "validate", "validate_bytes", "validate_file"]

#: the deepest nesting a payload may have: what orjson parses (1,024 nested arrays or objects), so that
#: a value and its JSON bytes get the same verdict
MAX_DEPTH = 1023
#: the most digits an integer may have: Python writes and reads no longer one as JSON text
MAX_DIGITS = 4300
_MAX_INT = 10**MAX_DIGITS
MAX_STRING = 1 << 20
_NAMES = frozenset(CONTRACT_NAMES)


def _sanity(payload: Any) -> list[Finding]:
    """Findings for values JSON cannot carry, too-deep nesting and oversized strings.

    A node's path is a link to its parent's (built into a pointer only for a finding), so that deep
    nesting costs what its nodes cost, not the square of its depth.
    """
    out: list[Finding] = []
    stack: list[tuple[Any, int, Any]] = [(payload, 0, None)]
    while stack:
        value, depth, link = stack.pop()
        cls = value.__class__
        if cls is str:
            if len(value) > MAX_STRING:
                out.append(SCHEMA_RULES.OVERSIZED.finding(linked_pointer(link), f"a string of {len(value):,} characters", ""))
            if not value.isascii() and _surrogate(value):
                out.append(_lone_surrogate(linked_pointer(link)))
            continue
        if cls is int:
            if not -_MAX_INT < value < _MAX_INT:
                out.append(SCHEMA_RULES.NOT_JSON.finding(linked_pointer(link), f"an integer of more than {MAX_DIGITS:,} digits "
                                              "has no JSON text form here", "send a smaller number"))
            continue
        if cls is bool or value is None:
            continue
        if depth > MAX_DEPTH:
            out.append(_too_deep(linked_pointer(link)))
            continue
        if cls is dict:
            for key, sub in value.items():
                if key.__class__ is not str:
                    out.append(SCHEMA_RULES.NOT_JSON.finding(linked_pointer(link), f"object key {_short(key)} is not a "
                                                             "string", ""))
                    continue
                if not key.isascii() and _surrogate(key):
                    out.append(_lone_surrogate(linked_pointer((link, key))))
                    continue
                stack.append((sub, depth + 1, (link, key)))
        elif cls is list or cls is tuple:
            stack.extend((sub, depth + 1, (link, i)) for i, sub in enumerate(value))
        elif isinstance(value, float):
            if not math.isfinite(value):
                out.append(SCHEMA_RULES.NOT_JSON.finding(linked_pointer(link), f"{value} is not a JSON number",
                                              "JSON has no NaN or Infinity: send null or a number"))
        elif isinstance(value, str):
            stack.append((str(value), depth, link))
        elif isinstance(value, int) and not isinstance(value, bool):
            stack.append((int(value), depth, link))
        elif isinstance(value, dict | list | tuple):
            stack.append((dict(value) if isinstance(value, dict) else list(value), depth, link))
        elif isinstance(value, date):  # what YAML makes of an unquoted date or timestamp
            out.append(SCHEMA_RULES.NOT_JSON.finding(
                linked_pointer(link), f"a {type(value).__name__} ({value.isoformat()}) is not a JSON value",
                "YAML reads an unquoted date as a timestamp: quote it, e.g. '2019-09-01T00:00:00Z'"))
        elif not isinstance(value, bool | int):
            out.append(SCHEMA_RULES.NOT_JSON.finding(linked_pointer(link), f"a {type(value).__name__} is not a JSON value", ""))
    return out


def _surrogate(text: str) -> bool:
    """True when the text holds a lone surrogate (UTF-8, and so JSON text, cannot carry it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _lone_surrogate(pointer: str) -> Finding:
    return SCHEMA_RULES.NOT_JSON.finding(pointer.encode("utf-8", "backslashreplace").decode("ascii"),
                              "a string holds a lone surrogate, which JSON text cannot carry",
                              "send valid Unicode text")


def _run(rules: tuple[Rule, ...], payload: Any, raw: bytes | None = None, *, screens: bool = True,
         prefix: str = "") -> list[Finding]:
    """The rules' findings; with ``raw``, a rule whose gate finds nothing in those bytes is skipped, and with
    ``screens``, a rule whose screen in Python passes the payload (each such screen asked once)."""
    out: list[Finding] = []
    quiet: dict[Any, bool] = {}
    for r in rules:
        if raw is not None and r.gate is not None and not r.gate(raw):
            continue
        screen = r.screen
        if screens and screen is not None and in_python(r):
            said = quiet.get(screen)
            if said is None:
                said = quiet[screen] = screen(payload)  # type: ignore[operator]  # in_python: a function
            if said:
                continue
        hits = r.check(payload)  # type: ignore[misc]  # rules_for() holds rules with a check only
        if hits:  # an empty list: nothing built; a generator is always run out
            out.extend(r.findings_of(hits, prefix))
    return out


def _semantic(payload: Any, contract: str, raw: bytes | None = None, rules: tuple[Rule, ...] | None = None,
              record_rules: tuple[Rule, ...] | None = None, *, skip_closed: bool = True) -> list[Finding]:
    """The rules' findings of a payload (a list's records judged by the job rules); ``skip_closed=False`` is the
    long way: no shortcut at all (no gate, no screen)."""
    if rules is None:
        rules = rules_for(contract)
    record_list = contract == "export-job-list"
    if record_list and record_rules is None:
        record_rules = rules_for("export-job")
    # gates pay off on payloads of ordinary size; an escape could hide a token from a gate
    gate_bytes = raw if raw is not None and len(raw) < 65536 and b"\\" not in raw else None
    out = _run(rules, payload, gate_bytes, screens=skip_closed)
    if gate_bytes is not None and record_rules:
        record_rules = tuple(r for r in record_rules if r.gate is None or r.gate(gate_bytes))
    if record_list and record_rules and isinstance(payload, dict):
        records = payload.get("records")
        if isinstance(records, list):
            closed = tuple(r for r in record_rules if r.screen is CLOSED) if skip_closed else ()
            for i, record in enumerate(records):
                # a record the closed contract passes has no unknown key: its CLOSED-screened rules are silent
                skip = closed if closed and has_no_unknown_key(record, "export-job") else ()
                judged = tuple(r for r in record_rules if r not in skip) if skip else record_rules
                out.extend(_run(judged, record, screens=skip_closed, prefix=f"/records/{i}"))
    return out


def findings(payload: Any, contract: str, *, checked: bool = False, raw: bytes | None = None) -> list[Finding]:
    """All findings of a payload (no policy applied).

    ``checked``: the value came from a JSON parser; ``raw``: the bytes it was parsed from, which lets
    rules with a gate be skipped when the bytes show they have nothing to say.
    """
    if contract not in _NAMES:
        raise KeyError(f"unknown contract {contract!r}; known contracts: {', '.join(CONTRACT_NAMES)}")
    out = [] if checked else _sanity(payload)
    if out and any(f.rule in (SCHEMA_RULES.NOT_JSON.id, SCHEMA_RULES.TOO_DEEP.id) for f in out):
        return out
    out.extend(_judge(_screened(contract), payload, raw))
    if out and checked and raw is not None:
        exact = _exactly(raw)
        if exact is not _INEXACT:
            return findings(exact, contract)
    return out


#: bytes with every digit as b"0" and everything else as a space: a run of digits stays a run
_DIGITS_ONLY = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_LONG_RUN = b"0" * 19
_INEXACT: Any = object()


def _exactly(raw: bytes) -> Any:
    """The value of JSON bytes with every integer exact, when orjson may have read one as a float.

    orjson reads an integer beyond 64 bits as a float; Python's parser keeps it exact. Only bytes with
    a run of 19 digits can hold such an integer, and only a payload with findings is read again (its
    findings then name the integer as it was written). ``_INEXACT`` when there is nothing to do.
    """
    if len(raw) > MAX_STRING or _LONG_RUN not in raw.translate(_DIGITS_ONLY):
        return _INEXACT  # (a document over 1 MiB keeps orjson's reading: the search would cost more than it finds)
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return _INEXACT


def _judge(screened: _Screened, payload: Any, raw: bytes | None) -> list[Finding]:
    """Schema and rule findings of a JSON value: the quiet way when the screened validator passes it."""
    if not _SHORTCUTS[0]:
        return _long_way(payload, screened.contract)
    return _quiet(screened, payload, raw) if _passes(screened.is_valid, payload) else _loud(screened, payload, raw)


#: whether the engine takes its shortcuts (gates, screens, the screened validator); see ``shortcuts``
_SHORTCUTS = [os.environ.get("AEC_NO_SHORTCUTS", "") in ("", "0")]


@contextmanager
def shortcuts(enabled: bool) -> Iterator[None]:
    """Switch the engine's shortcuts off (or on) for the duration of a ``with`` block.

    Without them every rule runs on every payload and nothing is screened; the verdicts and findings
    are the same (tests hold the two ways together), only slower. ``AEC_NO_SHORTCUTS=1`` in the
    environment switches them off for a whole process.
    """
    before = _SHORTCUTS[0]
    _SHORTCUTS[0] = enabled
    try:
        yield
    finally:
        _SHORTCUTS[0] = before


def _long_way(payload: Any, contract: str) -> list[Finding]:
    """Every finding with no shortcut: the plain schema check (each error explained anew), then every rule of the
    contract in full."""
    out = [] if _passes(_fast(contract).is_valid, payload) else explain(payload, contract, memo=False)
    return out + _semantic(payload, contract, skip_closed=False)


def _quiet(screened: _Screened, payload: Any, raw: bytes | None) -> list[Finding]:
    """The findings of the rules no JSON Schema screens, for a payload every screen passed (valid or not) and that
    has no unknown key (those rules' screens in Python still asked)."""
    if not screened.plain:
        return _semantic(payload, screened.contract, raw, screened.rules, screened.record_rules)
    out: list[Finding] = []
    _plain(screened.checks, payload, out, "")
    if screened.record_checks is not None and isinstance(payload, dict):
        records = payload.get("records")
        if isinstance(records, list):  # a list's records: the job rules
            for i, record in enumerate(records):
                _plain(screened.record_checks, record, out, i)
    return out


def _plain(checks: Checks, payload: Any, out: list[Finding], where: str | int) -> None:
    """Run rules in turn: those with no screen, then each group screened by one function of the payload,
    when that function does not pass it. ``where``: the pointer the findings go under, or a list's record's index
    (its pointer is written only for a hit)."""
    for check, r in checks.plain:
        hits = check(payload)
        if hits:  # an empty list: nothing built; a generator is always run out
            out.extend(r.findings_of(hits, where if where.__class__ is str else f"/records/{where}"))
    for screen, members in checks.screened:
        if not screen(payload):
            for check, r in members:
                hits = check(payload)
                if hits:
                    out.extend(r.findings_of(hits, where if where.__class__ is str else f"/records/{where}"))


def _loud(screened: _Screened, payload: Any, raw: bytes | None) -> list[Finding]:
    """Findings of a payload the screened validator rejected: invalid, or some screen tripped.

    Which screen tripped is not asked of each screen: a call into the Rust validator costs more than
    running most rules, so the screened rules run (behind their gates), and only the closed contract
    says whether the rules about unknown keys may have something to say. An invalid payload is explained,
    and the rules screened by a JSON Schema run only when their screens, asked together, do not pass it.
    """
    contract = screened.contract
    try:  # the contract's errors (a payload the screens alone rejected has none): one call decides and explains
        errors: list[Any] | None = list(_fast(contract).iter_errors(payload))
    except (ValueError, TypeError, OverflowError, RecursionError):
        errors = None  # a value the Rust side cannot take: python-jsonschema explains it
    if errors is None or errors:  # invalid: explained, and the rules run
        # the rules about unknown keys run where there is one (a contract without such rules has none to run)
        no_unknown = not screened.closed_rules or has_no_unknown_key(payload, contract)
        explained = explain_reference(payload, contract) if errors is None else explain_errors(errors, contract)
        if no_unknown and (screened.screens is None or _passes(screened.screens, payload)):
            explained.extend(_quiet(screened, payload, raw))  # every screen passes: the rules no screen covers
        else:
            explained.extend(_semantic(payload, contract, raw, screened.open_rules if no_unknown else rules_for(contract)))
        return explained
    # valid, with an unknown key: every rule runs (no rule about unknown keys: the closed contract is not asked)
    if screened.closed_rules and not _passes(_closed(contract).is_valid, payload):
        return _semantic(payload, contract, raw)
    record_rules = screened.record_rules  # valid, and no unknown key: some screens of the rules tripped
    if screened.records is not None and not _passes(screened.records, payload):
        record_rules = tuple(r for r in rules_for("export-job") if r.screen is not CLOSED)
    return _semantic(payload, contract, raw, screened.open_rules, record_rules)


def validate(payload: Any, contract: str | None = None, *, policy: Policy = DEFAULT_POLICY,
             source: str | None = None) -> Report:
    """Validate a parsed payload against a named contract (detected from its shape when None).

    Never raises on a bad payload: every problem is a finding. Raises ``KeyError`` for an unknown
    contract name (a misuse, not a payload problem).
    """
    return _validate(payload, contract, policy, source, checked=False)


def _validate(payload: Any, contract: str | None, policy: Policy, source: str | None, checked: bool,
              raw: bytes | None = None) -> Report:
    if contract is None and not checked:
        # a value JSON cannot carry is that before it is any contract's (as its bytes would be: unparsed)
        sanity = _sanity(payload)
        if any(f.rule in (SCHEMA_RULES.NOT_JSON.id, SCHEMA_RULES.TOO_DEEP.id) for f in sanity):
            return Report.build(None, sanity, policy, source)
        chosen = detect_contract(payload)
        if chosen is not None:
            return Report.build(chosen, [*sanity, *findings(payload, chosen, checked=True, raw=raw)], policy, source)
    else:
        chosen = contract or detect_contract(payload)
    if chosen is None:
        finding = SCHEMA_RULES.UNDETECTED.finding("", "the payload matches none of the contracts' shapes",
                                       "name the contract with --contract (contract=...)")
        return Report.build(None, [finding], policy, source)
    return Report.build(chosen, findings(payload, chosen, checked=checked, raw=raw), policy, source)


def parse_json(data: bytes | str) -> tuple[Any, Finding | None, bool]:
    """Parse JSON text strictly (no NaN or Infinity): (value, problem, checked).

    orjson reads almost every document; ``checked`` says its value needs no sanity pass (orjson
    refuses what JSON cannot carry and nests no deeper than ``MAX_DEPTH``). What orjson refuses but
    the JSON grammar allows (an integer beyond 64 bits, a lone surrogate escape) is read by Python's
    parser and comes back unchecked, so that the value path judges it exactly as ``validate`` does.
    """
    try:
        return orjson.loads(data), None, True
    except orjson.JSONDecodeError as exc:
        detail = str(exc)
    if "recursion" in detail.lower() or "depth limit" in detail.lower():  # the wording of orjson versions
        text = data if isinstance(data, str) else data.decode("utf-8", "replace")
        return None, _too_deep(_too_deep_at(text)), True
    if not (data.strip() if isinstance(data, str) else data.strip(b" \t\r\n")):
        return None, SCHEMA_RULES.NOT_JSON.finding("", "the document is empty", "write a JSON value"), True
    try:
        return json.loads(data, parse_constant=_reject_constant), None, False
    except RecursionError:
        return None, SCHEMA_RULES.TOO_DEEP.finding("", "the document nests too deeply to parse", "flatten the payload"), True
    except ValueError as exc:  # UnicodeDecodeError is one too
        detail = str(exc)
    return None, SCHEMA_RULES.NOT_JSON.finding("", f"not valid JSON: {detail[:200]}", "fix the JSON syntax"), True


#: a JSON string, a run of opening brackets, or one of the other characters that give a document its structure
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|\[+|[\]{},]')


def _too_deep_at(text: str) -> str:
    """The pointer of the first container nested deeper than ``MAX_DEPTH``: where the value path
    puts its finding, found by reading only the document's structure (no parser recursion)."""
    objects: list[bool] = []  # per open container: is it an object
    keys: list[Any] = []  # per open container: the index or key of the value being read in it
    expect_key = False  # the top container is an object and its next string is a key
    limit = MAX_DEPTH + 1  # containers above the first one that is too deep
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        first = token[0]
        if first == "[":
            if len(keys) + len(token) > limit:  # a run of arrays, each at index 0, passes the limit
                return pointer(keys) + "/0" * (limit - len(keys))
            objects.extend([False] * len(token))
            keys.extend([0] * len(token))
            expect_key = False
        elif first == "{":
            if len(keys) >= limit:
                return pointer(keys[:limit])
            objects.append(True)
            keys.append(None)
            expect_key = True
        elif first == "]" or first == "}":
            if keys:
                keys.pop()
                objects.pop()
            expect_key = False
        elif first == ",":
            if keys:
                if objects[-1]:
                    expect_key = True
                else:
                    keys[-1] += 1
        elif expect_key and keys:
            key = token[1:-1]
            if "\\" in key:  # an escape: the key is what the JSON string means
                with suppress(ValueError):
                    key = json.loads(token)
            keys[-1], expect_key = key, False
    return ""


def _too_deep(pointer: str) -> Finding:
    return SCHEMA_RULES.TOO_DEEP.finding(pointer, f"nesting deeper than {MAX_DEPTH} levels", "flatten the payload")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def validate_bytes(data: bytes | str, contract: str | None = None, *, policy: Policy = DEFAULT_POLICY,
                   source: str | None = None) -> Report:
    """Parse and validate JSON bytes; invalid JSON is a finding (AEC005), never an exception."""
    screened = _READY.get(contract)
    if screened is None and contract in _NAMES:
        screened = _READY[contract] = _screened(contract)
    if screened is not None and isinstance(data, bytes) and len(data) <= MAX_STRING:
        # the common case, flattened: a named contract and bytes of ordinary size that parse
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # the general path below says why
        else:
            quiet = False
            if not _SHORTCUTS[0]:
                found = _long_way(payload, screened.contract)
            else:  # _judge, written out: this is the hottest line of the engine
                try:
                    quiet = screened.is_valid(payload)
                except (ValueError, TypeError, OverflowError, RecursionError):
                    quiet = False
                if quiet and screened.plain and screened.record_checks is None:  # _quiet, written out
                    found = []
                    _plain(screened.checks, payload, found, "")
                else:
                    found = _quiet(screened, payload, data) if quiet else _loud(screened, payload, data)
            if not found:
                return Report(contract, found, policy, 0, source)
            # (a payload the screened validator passed holds no integer read as a float, where the closed
            # contract bounds every number it can hold)
            exact = _INEXACT if quiet and screened.exact else _exactly(data)
            if exact is not _INEXACT:
                found = findings(exact, screened.contract)
            return Report.build(contract, found, policy, source)
    payload, problem, checked = parse_json(data)
    if problem is not None:
        return Report.build(contract, [problem], policy, source)
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    report = _validate(payload, contract, policy, source, checked=checked, raw=raw)
    if checked and len(data) > MAX_STRING:
        extra = [f for f in _sanity(payload) if f.rule == SCHEMA_RULES.OVERSIZED.id]
        if extra:
            report = Report.build(report.contract, [*report.findings, *extra], policy, source)
    return report


def validate_file(data: bytes, source: str, contract: str | None = None, *, policy: Policy = DEFAULT_POLICY) -> Report:
    """Validate a payload file's bytes: YAML by its name's ending (.yaml, .yml), JSON otherwise."""
    if source.endswith((".yaml", ".yml")):
        try:
            payload: Any = load_yaml(data, payload=True)
        except AliasBomb as exc:
            finding = SCHEMA_RULES.NOT_JSON.finding("", f"refused: {exc}", "")
            return Report.build(contract, [finding], policy, source)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            finding = SCHEMA_RULES.NOT_JSON.finding("", f"not valid YAML{where}", "fix the YAML syntax")
            return Report.build(contract, [finding], policy, source)
        return validate(payload, contract, policy=policy, source=source)
    return validate_bytes(data, contract, policy=policy, source=source)


def detect_contract(payload: Any) -> str | None:
    """Guess the contract from a payload's shape (None when nothing fits)."""
    if isinstance(payload, list):
        return "dataset-response" if payload and all(isinstance(x, str) for x in payload) else None
    if not isinstance(payload, dict):
        return None
    keys = payload.keys()
    if "records" in keys:
        return "export-job-list"
    if "error_code" in keys or "statusCode" in keys or ("title" in keys and "status" in keys):
        return "error"
    if keys and keys <= {"status", "message"} and isinstance(payload.get("status"), bool):
        return "export-job-cancel"
    if {"schemaRef", "fileDescription"} & keys or ("name" in keys and "destination" not in keys):
        return "dataset-request"
    job_keys = {"id", "jobType", "creationTime", "updateTime", "imsOrgId", "metrics", "computeGatewayJobId",
                "requestId", "profileInstanceId"}
    if job_keys & keys or isinstance(payload.get("status"), str):
        return "export-job"
    if {"destination", "schema", "filter", "fields", "mergePolicy", "additionalFields"} & keys:
        return "export-job-request"
    return None
