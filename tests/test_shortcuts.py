"""The validator's shortcuts never change a verdict.

A gate (a byte test) and a screen (a JSON Schema folded into the compiled validator) let a rule be
skipped when it cannot have anything to say. Both must be sound: whenever a shortcut skips a rule,
the rule run in full says nothing. And the whole fast path must report exactly what the long way does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import pytest

from aep_export_contracts import CONTRACT_NAMES
from aep_export_contracts.engine.compiled import _closed, _fast
from aep_export_contracts.engine.explain import explain
from aep_export_contracts.engine.payload import _sanity, _semantic, findings, shortcuts, validate_bytes
from aep_export_contracts.findings import Finding
from aep_export_contracts.generation.builders import BUILDERS, RandomSource
from aep_export_contracts.generation.mutations import mutations_for
from aep_export_contracts.generation.strategies import dumps, generate
from aep_export_contracts.rules import CLOSED, Hit, Rule, all_rules, rules_for
from aep_export_contracts.rules import schema as S
from aep_export_contracts.spec.contracts import component_name
from aep_export_contracts.spec.formats import fields_problem
from conftest import BULK_EXAMPLES, overlaid

SHORTCUT_RULES = [r for r in all_rules() if r.gate is not None or r.screen is not None]


def corpus(contract: str, n: int) -> list[Any]:
    """Valid payloads, and payloads each changed by one mutation of the contract.

    The mutants are deliberately not verified by the validator (the thing under test): whether a
    rule fires on them is decided here by running the rule itself.
    """
    src = RandomSource(7)
    out = [BUILDERS[contract](src) for _ in range(n // 2)]
    options = mutations_for(contract)
    for i in range(max(n // 2, 4 * len(options))):
        payload = BUILDERS[contract](src)
        options[i % len(options)].apply(payload, src)
        out.append(payload)
    return out


def long_way(payload: Any, contract: str) -> list[Finding]:
    """Every finding, with no shortcut: the plain schema check (no error's explanation kept), then every rule
    without gates."""
    out = [] if _fast(contract).is_valid(payload) else explain(payload, contract, memo=False)
    return out + _semantic(payload, contract, skip_closed=False)


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
def test_the_shortcuts_can_be_switched_off_without_changing_a_finding(contract: str) -> None:
    key = lambda f: (f.rule, f.pointer, f.message)  # noqa: E731
    for payload in corpus(contract, BULK_EXAMPLES // 6):
        raw = dumps(payload).encode()
        on = validate_bytes(raw, contract).findings
        with shortcuts(False):
            off = validate_bytes(raw, contract).findings
            by_value = findings(payload, contract)
        assert sorted(on, key=key) == sorted(off, key=key)
        sanity = _sanity(payload)
        if any(f.rule in (S.NOT_JSON.id, S.TOO_DEEP.id) for f in sanity):
            assert by_value == sanity
        else:
            assert sorted(by_value, key=key) == sorted(sanity + long_way(payload, contract), key=key)


def test_some_rules_have_shortcuts() -> None:
    assert any(r.screen for r in SHORTCUT_RULES)


def test_a_users_gate_spares_its_rule_the_payloads_without_its_token() -> None:
    """The built-in rules bail out on a key as cheaply as a byte test would, so none has a gate; a user's
    rule may still carry one, and it is honoured: closed, the check is not called; open, it is."""
    from aep_export_contracts.rules import any_of, rule, unregister

    calls: list[object] = []

    @rule("GATED001", "gated-note", "warning", contracts=("export-job",), gate=any_of(b'"CANCELLED"'))
    def gated_note(job: object) -> list[Hit]:
        """A cancelled job is noted."""
        calls.append(job)
        return [Hit("/status", "cancelled")] if isinstance(job, dict) and job.get("status") == "CANCELLED" else []

    try:
        with shortcuts(True):  # what is tested is a shortcut: on, whatever AEC_NO_SHORTCUTS says
            job = next(generate("export-job", 1, seed=11))["payload"]
            job["status"] = "PROCESSING"
            assert "GATED001" not in validate_bytes(orjson.dumps(job), "export-job").rules() and calls == []
            job["status"] = "CANCELLED"
            assert "GATED001" in validate_bytes(orjson.dumps(job), "export-job").rules() and len(calls) == 1
    finally:
        unregister("GATED001")


def test_rules_that_share_a_screen_in_python_are_screened_by_one_call() -> None:
    """Two rules of a user's name one function as their screen: it is called once per payload; when it passes the
    payload neither rule runs, when it does not both do; a screen that raises lets the rules decide."""
    from aep_export_contracts.rules import rule, unregister

    screened: list[object] = []
    checked: list[str] = []

    def quiet(job: object) -> bool:
        screened.append(job)
        if isinstance(job, dict) and job.get("status") == "FAILED":
            raise RuntimeError("a screen that cannot say")
        return not (isinstance(job, dict) and job.get("status") == "CANCELLED")

    def note(rule_id: str) -> Any:
        def check(job: object) -> list[Hit]:
            checked.append(rule_id)
            return [Hit("/status", "noted")] if isinstance(job, dict) and job.get("status") in ("CANCELLED", "FAILED") else []
        check.__doc__ = "A job's status is noted."
        return check

    rule("SCREENED001", "screened-one", "warning", contracts=("export-job",), screen=quiet)(note("SCREENED001"))
    rule("SCREENED002", "screened-two", "warning", contracts=("export-job",), screen=quiet)(note("SCREENED002"))
    try:
        with shortcuts(True):  # what is tested is a shortcut: on, whatever AEC_NO_SHORTCUTS says
            job = next(generate("export-job", 1, seed=11))["payload"]
            job["status"] = "PROCESSING"
            assert not {"SCREENED001", "SCREENED002"} & validate_bytes(orjson.dumps(job), "export-job").rules()
            assert (len(screened), checked) == (1, [])
            for status in ("CANCELLED", "FAILED"):
                screened.clear()
                job["status"] = status
                assert {"SCREENED001", "SCREENED002"} <= validate_bytes(orjson.dumps(job), "export-job").rules()
                assert (len(screened), sorted(checked)) == (1, ["SCREENED001", "SCREENED002"])
                checked.clear()
    finally:
        unregister("SCREENED001")
        unregister("SCREENED002")


@pytest.mark.parametrize("rule", SHORTCUT_RULES, ids=lambda r: r.id)
def test_a_skipped_rule_has_nothing_to_say(rule: Rule) -> None:
    skipped = fired = 0
    for contract in rule.contracts:
        screen = None
        if rule.screen is CLOSED:
            screen = _closed(contract).is_valid
        elif isinstance(rule.screen, dict):
            screen = jsonschema_rs.validator_for(rule.screen, validate_formats=True).is_valid  # as the validator folds it in
        elif rule.screen is not None:
            screen = rule.screen  # a screen in Python
        for payload in corpus(contract, BULK_EXAMPLES // 3):
            raw = dumps(payload).encode()
            gate_closed = rule.gate is not None and b"\\" not in raw and not rule.gate(raw)
            screened = screen is not None and screen(payload)
            hits = rule.run(payload)
            fired += bool(hits)
            if gate_closed or screened:
                skipped += 1
                assert hits == [], (rule.id, payload)
    assert skipped, f"{rule.id}: the corpus never exercised its shortcut"
    assert fired, f"{rule.id}: the corpus never made the rule fire, so the shortcut was not put to the test"


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
def test_the_unknown_key_check_in_rust_finds_what_the_walk_finds(contract: str) -> None:
    """has_no_unknown_key (one call into Rust) says exactly whether the key walk of the rules finds a key,
    on valid payloads and on mutants, invalid ones included: it spares those rules an invalid payload too."""
    from aep_export_contracts.engine.compiled import has_no_unknown_key
    from aep_export_contracts.spec.contracts import key_tree

    seen = set()
    for payload in corpus(contract, BULK_EXAMPLES // 3):
        walked = not list(key_tree(contract).walk(payload))
        assert has_no_unknown_key(payload, contract) == walked, payload
        seen.add(walked)
    if contract not in ("dataset-response", "export-job-cancel"):  # (no mutation of theirs adds a key)
        assert seen == {True, False}, seen
    if contract == "export-job":  # invalid and with an unknown key, deep down: both said
        job = next(generate("export-job", 1, seed=4))["payload"]
        job["status"], job["metrics"]["totalTime"]["startTimeInNs"] = 7, 1
        assert not _fast(contract).is_valid(job) and not has_no_unknown_key(job, contract)
        assert "AEC211" in validate_bytes(orjson.dumps(job), contract).rules()


def test_a_screen_that_fails_leaves_the_rule_to_decide() -> None:
    # a UUID-shaped id with letters beyond f trips the screen of AEC106, and the rule then reports it
    job = next(generate("export-job-request", 1, seed=3))["payload"]
    job["mergePolicy"] = {"id": "1rfe8422-334d-12f4-3sd4-12cf6g990g51"}
    report = validate_bytes(orjson.dumps(job), "export-job-request")
    assert ("AEC106", "/mergePolicy/id") in {(f.rule, f.pointer) for f in report}


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
def test_the_fast_path_reports_what_the_long_way_does(contract: str) -> None:
    key = lambda f: (f.rule, f.pointer, f.message)  # noqa: E731
    for payload in corpus(contract, BULK_EXAMPLES // 3):
        expected = long_way(payload, contract)
        sanity = _sanity(payload)  # a parsed value may carry what JSON cannot: checked here
        if any(f.rule in (S.NOT_JSON.id, S.TOO_DEEP.id) for f in sanity):
            assert findings(payload, contract) == sanity  # nothing else is said about such a value
            continue
        assert sorted(findings(payload, contract), key=key) == sorted(sanity + expected, key=key)
        raw = dumps(payload).encode()
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue  # nested deeper than the parser goes: the bytes path reports that, not these findings
        assert sorted(findings(orjson.loads(raw), contract, checked=True, raw=raw), key=key) == sorted(expected, key=key)
        assert sorted(validate_bytes(raw, contract).findings, key=key) == sorted(set(sanity + expected), key=key)


def test_list_records_are_screened_by_the_job_rules_screens() -> None:
    screened_job_rules = [r for r in rules_for("export-job") if r.screen is not None]
    assert screened_job_rules, "no job rule has a screen"
    listing = next(generate("export-job-list", 1, seed=5))["payload"]
    record = next(generate("export-job", 1, seed=5))["payload"]
    record["mergePolicy"] = {"id": "1rfe8422-334d-12f4-3sd4-12cf6g990g51"}
    listing["records"] = [record]
    pairs = {(f.rule, f.pointer) for f in validate_bytes(orjson.dumps(listing), "export-job-list")}
    assert ("AEC106", "/records/0/mergePolicy/id") in pairs


def _rust(schema: Any) -> Any:
    return jsonschema_rs.validator_for({"$schema": "https://json-schema.org/draft/2020-12/schema", **schema},
                                       validate_formats=True).is_valid


@pytest.mark.parametrize("contract", ["export-job-request", "export-job", "export-job-list"])
def test_the_folded_screens_pass_what_every_screen_passes(contract: str) -> None:
    """The screens are folded into one schema (each property's subschemas gathered) before they are compiled:
    on valid payloads and mutants, the folded schema passes exactly the payloads that pass every screen."""
    from aep_export_contracts.engine.compiled import _screening, fold

    screens = [r.screen for r in _screening(rules_for(contract))]
    if contract == "export-job-list":
        screens.append({"properties": {"records": {"items": {"allOf": [
            r.screen for r in _screening(rules_for("export-job"))]}}}})
    together, folded = _rust({"allOf": screens}), _rust(fold(screens))
    verdicts = set()
    for payload in corpus(contract, BULK_EXAMPLES // 3):
        assert together(payload) == folded(payload), payload
        verdicts.add(together(payload))
    assert verdicts == {True, False}, "the corpus did not exercise both verdicts"


@pytest.mark.parametrize(("schemas", "passes", "fails"), [
    # additionalProperties reads its siblings: the first schema is kept whole, not gathered with the second
    ([{"properties": {"a": {}}, "additionalProperties": False}, {"properties": {"b": {"type": "integer"}}}],
     [{"a": 1}], [{"b": 1}, {"a": 1, "c": 2}]),
    # two if/then pairs: each stays with its own if
    ([{"if": {"required": ["a"]}, "then": {"required": ["b"]}}, {"if": {"required": ["c"]}, "then": {"required": ["d"]}}],
     [{"a": 1, "b": 2}, {"c": 1, "d": 2}, {}], [{"a": 1}, {"c": 1}, {"a": 1, "b": 1, "c": 1}]),
    # nested allOf, items and properties, gathered at every level
    ([{"allOf": [{"items": {"properties": {"x": {"minimum": 2}}}}]}, {"items": {"properties": {"x": {"maximum": 5}}}}],
     [[{"x": 3}], []], [[{"x": 1}], [{"x": 6}], [{"x": 3}, {"x": 9}]]),
])
def test_fold_keeps_the_meaning_of_every_schema(schemas: list[Any], passes: list[Any], fails: list[Any]) -> None:
    from aep_export_contracts.engine.compiled import fold

    folded = _rust(fold(schemas))
    assert [folded(v) for v in passes] == [True] * len(passes)
    assert [folded(v) for v in fails] == [False] * len(fails)


@pytest.mark.parametrize("valid", [True, False])
def test_an_unknown_key_in_a_record_is_reported_on_a_list_valid_or_not(valid: bool) -> None:
    """A record's unknown key (AEC211, a job rule the closed contract screens) is found in a list whether the
    list is otherwise valid or not: an invalid list skips only the rules that nothing could say."""
    listing = next(generate("export-job-list", 1, seed=5))["payload"]
    record = next(generate("export-job", 1, seed=5))["payload"]
    record["destinationPath"] = "/exports"
    listing["records"] = [record]
    if not valid:
        listing["page"]["pageSize"] = "ten"
    for on in (True, False):
        with shortcuts(on):
            pairs = {(f.rule, f.pointer) for f in validate_bytes(orjson.dumps(listing), "export-job-list")}
        assert ("AEC211", "/records/0/destinationPath") in pairs, (on, pairs)
        assert (("AEC002", "/page/pageSize") in pairs) is not valid  # the wrong type, where there is one


def _job_at(status: str) -> dict[str, Any]:
    """A valid job (its metrics a start and, once finished, an end), at a status."""
    job = next(generate("export-job", 1, seed=21))["payload"]
    start = job["creationTime"] + 10
    job["status"], job["metrics"] = status, {"totalTime": {"startTimeInMs": start}}
    job["updateTime"] = start + 100
    if status in ("SUCCEEDED", "FAILED"):
        job["metrics"]["totalTime"].update(endTimeInMs=start + 100, totalTimeInMs=100)
    if status == "FAILED":
        job["errors"] = [{"code": "E1", "msg": "failed"}]
    return job


def _set(path: str, value: Any) -> Any:
    def change(job: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node = job
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return change


@pytest.mark.parametrize(("status", "change", "rule"), [
    ("SUCCEEDED", _set("destination/batchId", ""), "AEC205"),
    ("SUCCEEDED", lambda job: job["metrics"]["totalTime"].pop("endTimeInMs"), "AEC205"),
    ("FAILED", _set("errors", []), "AEC206"),
    ("NEW", _set("metrics/totalTime/endTimeInMs", 1_900_000_000_000), "AEC207"),
    ("PROCESSING", _set("status", "CANCELLING"), "AEC210"),
    ("PROCESSING", _set("creationTime", 1_553_022_362), "AEC201"),
    ("PROCESSING", _set("metrics/profileExportTime", {"startTimeInMs": 1_553_022_362, "endTimeInMs": 1_553_022_400}),
     "AEC201"),
    ("SUCCEEDED", _set("metrics/totalTime/totalTimeInMs", 7), "AEC202"),
    ("PROCESSING", _set("metrics/profileExportTime", {"startTimeInMs": 1_700_000_000_000, "endTimeInMs": 1_600_000_000_000}),
     "AEC203"),
    ("PROCESSING", lambda job: job.update(updateTime=job["creationTime"] - 1), "AEC204"),
    ("PROCESSING", lambda job: job["metrics"]["totalTime"].update(startTimeInMs=job["creationTime"] - 1), "AEC213"),
    ("PROCESSING", _set("destination/segmentPerBatch", True), "AEC208"),
    ("PROCESSING", lambda job: job["destination"].update(dataSetId=job["destination"].pop("datasetId")), "AEC209"),
])
def test_a_screen_in_python_lets_through_what_its_rules_report(status: str, change: Any, rule: str) -> None:
    """Each screen in Python fails on the cases its rules are about, at their edges: the rule reports, with the
    shortcuts on as off, alone and as a list's record."""
    job = _job_at(status)
    quiet = validate_bytes(orjson.dumps(job), "export-job")
    assert rule not in quiet.rules(), quiet.findings
    change(job)
    listing = next(generate("export-job-list", 1, seed=5))["payload"]
    listing["records"] = [job]
    for contract, payload, where in (("export-job", job, ""), ("export-job-list", listing, "/records/0")):
        found = []
        for on in (True, False):
            with shortcuts(on):
                found.append(sorted((f.rule, f.pointer, f.message) for f in validate_bytes(orjson.dumps(payload), contract)))
        assert found[0] == found[1]
        assert any(r == rule and p.startswith(where) for r, p, _ in found[0]), (rule, found[0])


def _page_change(path: str, value: Any) -> Any:
    def change(listing: dict[str, Any]) -> None:
        section, key = path.split("/")
        listing[section][key] = value
    return change


def _newer_by_id(listing: dict[str, Any]) -> None:  # the same creationTime, a larger id after a smaller one
    first, second = listing["records"]
    second["creationTime"], second["id"] = first["creationTime"], first["id"] + 1


@pytest.mark.parametrize(("change", "rule"), [
    (_newer_by_id, "AEC301"),
    (_page_change("page/pageSize", 1), "AEC302"),
    (lambda listing: listing["page"].update(pageSize=3), "AEC303"),  # a short page that links to a next one
    (_page_change("page/pageOffset", "1538573416687_723"), "AEC304"),
    (_page_change("link/next", "https://platform.adobe.io/export/jobs/?limit=2&offset=1538573416687_722"), "AEC304"),
    (_page_change("link/next", "//platform.adobe.io/export/jobs/?limit=2&offset=1538573416687_722"), "AEC304"),
    (_page_change("link/next", "/export/jobs/?limit=2&offset=1538573416687_721"), "AEC304"),
    (_page_change("link/next", "/export/jobs/?limit=2&offset=1538573416687%5F721"), "AEC304"),
])
def test_the_list_screen_lets_through_what_its_rules_report(change: Any, rule: str) -> None:
    """The one screen of the list rules fails on each case they are about, at its edge: the rule reports, with the
    shortcuts on as off."""
    import payloads as P

    listing = P.listing()
    quiet = validate_bytes(orjson.dumps(listing), "export-job-list")
    assert quiet.findings == [], quiet.findings
    change(listing)
    found = []
    for on in (True, False):
        with shortcuts(on):
            found.append(sorted((f.rule, f.pointer, f.message)
                                for f in validate_bytes(orjson.dumps(listing), "export-job-list").findings))
    assert found[0] == found[1]
    assert rule in {r for r, _, _ in found[0]}, (rule, found[0])


def test_the_list_screen_passes_a_page_whose_cursor_is_written_encoded() -> None:
    """An offset written with an escape names the same cursor: the screen and the rules agree it is right."""
    import payloads as P
    from aep_export_contracts.rules.listing import _paged_in_order

    listing = P.listing()
    assert _paged_in_order(listing)
    listing["link"]["next"] = "/export/jobs/?limit=2&offset=1538573416687%5F722"
    assert _paged_in_order(listing) and validate_bytes(orjson.dumps(listing), "export-job-list").findings == []


def _request(**changes: Any) -> dict[str, Any]:
    job = next(generate("export-job-request", 1, seed=3))["payload"]
    job.update(changes)
    return job


def test_an_explained_error_is_told_apart_by_the_class_of_its_value() -> None:
    # 1 and True are equal in Python (and hash alike): each keeps its own explanation
    said = []
    for value in (1, True, 1, True):
        report = validate_bytes(orjson.dumps(_request(fields=value)), "export-job-request")
        said.append(next(f.message for f in report if f.pointer == "/fields"))
    assert said[0] == said[2] and said[1] == said[3]
    assert "integer 1" in said[0] and "boolean True" in said[1]


def test_the_kept_explanations_are_bounded() -> None:
    from aep_export_contracts.engine import compiled

    for i in range(compiled.EXPLAINED_MAX + 50):
        report = validate_bytes(orjson.dumps(_request(fields=f"a,,b{i}")), "export-job-request")
        assert [f.message for f in report if f.pointer == "/fields"] == \
            [f"'fields' {fields_problem(f'a,,b{i}')}"]
        assert len(compiled.EXPLAINED) <= compiled.EXPLAINED_MAX
    long = "a,," + "b" * 300  # a long value is explained each time, not kept
    before = len(compiled.EXPLAINED)
    assert any(f.pointer == "/fields" for f in validate_bytes(orjson.dumps(_request(fields=long)), "export-job-request"))
    assert len(compiled.EXPLAINED) == before


def test_a_changed_contract_explains_its_errors_anew(tmp_path: Path) -> None:
    """A contract changed in the process (an overlay) is not explained from what was kept of the old one."""
    job = _request()
    job["filter"]["segments"][0]["status"] = ["bogus"]
    raw = orjson.dumps(job)

    def hint() -> str:
        return next(f.hint for f in validate_bytes(raw, "export-job-request") if f.pointer.endswith("/status/0"))

    assert hint() == "use one of: realized, existing, exited"
    with overlaid(tmp_path, f"$.components.schemas.{component_name('defs', 'segmentStatus')}",
                  {"enum": ["realized", "existing", "exited", "pending"]}):
        assert hint() == "use one of: realized, existing, exited, pending"
    assert hint() == "use one of: realized, existing, exited"


def test_two_errors_on_one_value_keep_their_own_explanations(tmp_path: Path) -> None:
    """A value may break two constraints at one place: each is kept by where it is in the schema."""
    raw = orjson.dumps(_request(fields="a,,bcd"))
    with overlaid(tmp_path, f"$.components.schemas.{component_name('defs', 'fieldList')}", {"maxLength": 3}):
        for _ in range(2):  # explained, then from what was kept
            said = sorted((f.rule, f.message) for f in validate_bytes(raw, "export-job-request") if f.pointer == "/fields")
            assert said == sorted([(S.FIELDS_SYNTAX.id, f"'fields' {fields_problem('a,,bcd')}"),
                                   (S.CONSTRAINT.id, "'a,,bcd' must not be longer than 3 characters")])
