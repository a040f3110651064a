"""The session's own logic, apart from the rules it runs: what counts as the consequence of a violation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import payloads as P
from aep_export_contracts.findings import Policy, RunReport
from aep_export_contracts.http import Exchange
from aep_export_contracts.session import Session
from test_rules import HEADERS, JOBS_URL, create_exchange

DATASETS_URL = "https://platform.adobe.io/data/foundation/catalog/dataSets"


def _get(job_id: int, **changes: Any) -> Exchange:
    return Exchange.make("GET", f"{JOBS_URL}/{job_id}", request_headers=HEADERS, status=200,
                         response_body=P.job(id=job_id, **changes))


def _invalid_create(job_id: int) -> Exchange:
    def drop_schema(request: Any) -> None:
        del request["schema"]

    def name(job: Any) -> None:
        job["id"] = job_id
    return create_exchange(change_request=drop_schema, change_job=name)()


def _judge(*exchanges: Exchange) -> tuple[dict[tuple[str, str], tuple[int, int]], list[int]]:
    """Groups as {(rule, operation): (count, consequences)} summed over pointers, and the failing findings
    of each exchange."""
    session = Session(RunReport("t", 0, Policy.make()))
    failing = [len(session.see(exchange).failing) for exchange in exchanges]
    groups: dict[tuple[str, str], tuple[int, int]] = {}
    for g in session.report.groups():
        count, consequences = groups.get((g.rule, g.operation), (0, 0))
        groups[g.rule, g.operation] = (count + g.count, consequences + g.consequences)
    return groups, failing


def test_the_answers_about_a_job_an_invalid_create_made_are_its_consequences() -> None:
    groups, failing = _judge(_invalid_create(7), _get(7, status="DONE"), _get(7, status="DONE"))
    assert all(failing) and groups[("AEC507", "createExportJob")] == (1, sum(failing) - 1), (groups, failing)
    assert not any(op == "getExportJob" for _, op in groups), groups


def test_a_violation_taints_no_job_its_operation_did_not_make() -> None:
    """A target answering every request with job 100: an invalid dataset request accepted is one cause,
    and what is wrong with job 100's answers is another, not a consequence of the dataset's."""
    invalid_dataset = Exchange.make("POST", DATASETS_URL, request_headers={**HEADERS, "Content-Type": "application/json"},
                                    request_body={"name": 5}, status=200, response_body=P.job(id=100))
    groups, failing = _judge(invalid_dataset, _get(100, status="DONE"), _get(100, status="DONE"))
    assert groups[("AEC507", "createDataset")] == (1, failing[0] - 1), (groups, failing)
    assert sum(count for (_, op), (count, _) in groups.items() if op == "getExportJob") == sum(failing[1:]) > 0


def test_a_valid_create_answering_with_a_tainted_id_clears_it() -> None:
    valid = create_exchange(change_job=lambda job: job.update(id=7))()
    groups, failing = _judge(_invalid_create(7), _get(7, status="DONE"), valid, _get(7, status="DONE"))
    assert groups[("AEC507", "createExportJob")] == (1, failing[0] - 1 + failing[1]), (groups, failing)
    assert sum(count for (_, op), (count, _) in groups.items() if op == "getExportJob") == failing[3] > 0


def _polled(job_id: int, **changes: Any) -> Exchange:
    """A GET of a job with its answer as the bytes a recording or the proxy holds."""
    return Exchange.make("GET", f"{JOBS_URL}/{job_id}", request_headers=HEADERS, status=200,
                         response_body=json.dumps(P.job(id=job_id, **changes)))


@pytest.fixture
def memo() -> Iterator[None]:
    """The engine's shortcuts on (the memo of bodies is one), whatever AEC_NO_SHORTCUTS says."""
    from aep_export_contracts.engine.payload import shortcuts

    with shortcuts(True):
        yield


@pytest.fixture
def judged() -> Iterator[list[str]]:
    """The contract of each job or job request body the engine judges, an entry each: a rule of the test's per
    contract notes each body it is asked about and says nothing. (A rule is what every build runs, the compiled
    one included, where a spy on a module function sees no call.)"""
    from aep_export_contracts import Hit, rule
    from aep_export_contracts.rules import unregister

    seen: list[str] = []
    for rule_id, contract in (("INPROC003", "export-job"), ("INPROC004", "export-job-request")):
        def counted(body: object, contract: str = contract) -> list[Hit]:
            """Notes each body it is asked about."""
            seen.append(contract)
            return []

        rule(rule_id, f"counted-{contract}", "warning", contracts=(contract,))(counted)
    try:
        yield seen
    finally:
        unregister("INPROC003")
        unregister("INPROC004")


def test_a_body_polled_again_is_judged_once_with_the_same_findings(judged: list[str], memo: None) -> None:
    session = Session(RunReport("t", 0, Policy.make()))
    polls = [_polled(7, status="DONE") for _ in range(3)]
    found = [[(f.rule, f.pointer) for f in session.see(e).failing] for e in polls]
    assert found[0] and found[0] == found[1] == found[2], found
    assert judged == ["export-job"], judged
    other = session.see(_polled(7, status="FAILED"))  # other bytes: judged
    assert judged == ["export-job"] * 2 and [f.rule for f in other.failing] != [r for r, _ in found[0]]


def test_without_shortcuts_every_body_is_judged(judged: list[str]) -> None:
    from aep_export_contracts.engine.payload import shortcuts

    with shortcuts(False):
        session = Session(RunReport("t", 0, Policy.make()))
        for _ in range(3):
            session.see(_polled(7, status="DONE"))
    assert judged == ["export-job"] * 3


def test_a_rule_registered_between_two_polls_judges_the_second(memo: None) -> None:
    from aep_export_contracts import Hit, rule
    from aep_export_contracts.rules import unregister

    session = Session(RunReport("t", 0, Policy.make()))
    assert session.see(_polled(7)).failing == []

    @rule("INPROC002", "always", "error", contracts=("export-job",))
    def always(job: object) -> list[Hit]:
        """Every job breaks it."""
        return [Hit("/id", "always")]

    try:
        assert [f.rule for f in session.see(_polled(7)).failing] == ["INPROC002"]
    finally:
        unregister("INPROC002")
    assert session.see(_polled(7)).failing == []


def test_the_bodies_kept_stay_within_their_bound(monkeypatch: pytest.MonkeyPatch, judged: list[str], memo: None) -> None:
    from aep_export_contracts.engine.exchange import Bodies

    monkeypatch.setattr(Bodies, "MAX_HELD", 3000)
    session = Session(RunReport("t", 0, Policy.make()))
    polls = [_polled(i) for i in range(1, 40)]
    size = len(polls[0].response_body)
    for e in polls:
        session.see(e)
    kept = session._bodies
    assert len(kept) == 3000 // size and kept._held <= 3000, (len(kept), size)
    judged.clear()
    session.see(_polled(39))  # among the newest: known
    session.see(_polled(1))  # the oldest went first
    assert judged == ["export-job"]


def _refused(status: int) -> Exchange:
    """A create whose request lacks its schema (invalid), answered with ``status`` (a 4xx with an error body)."""
    def drop_schema(request: Any) -> None:
        del request["schema"]
    made = create_exchange(change_request=drop_schema, status=status)()
    if status >= 400:
        made.response_body = {"error_code": "400", "message": "schema is required"}
    return made


def test_a_server_only_session_judges_a_refused_request_by_its_parse_alone(judged: list[str], memo: None) -> None:
    from aep_export_contracts.findings import SERVER

    server = Session(RunReport("t", 0, Policy.make()), sides=frozenset({SERVER}))
    refused = _refused(400)
    assert server.see(refused).failing == []
    assert "export-job-request" not in judged, judged  # nothing reads the client's findings of a refusal
    both = Session(RunReport("t", 0, Policy.make()))
    assert {f.rule for f in both.see(refused).failing} == {"AEC001"}  # (the same request, judged in full)


def test_a_server_only_session_still_says_an_invalid_request_was_accepted(memo: None) -> None:
    from aep_export_contracts.findings import SERVER

    server = Session(RunReport("t", 0, Policy.make()), sides=frozenset({SERVER}))
    accepted = server.see(_refused(200)).failing
    assert [f.rule for f in accepted if f.pointer == "/response/status"] == ["AEC507"], accepted
    assert all(f.side == SERVER for f in accepted)
    assert server.see(create_exchange()()).failing == []  # a valid request accepted: nothing to say


def test_a_server_only_session_says_what_judging_both_sides_says_of_the_server(memo: None) -> None:
    """The bundled recordings, judged on the server's side alone, lazily and in full."""
    from pathlib import Path

    from aep_export_contracts.cassettes import load_exchanges
    from aep_export_contracts.engine.payload import shortcuts
    from aep_export_contracts.findings import SERVER

    exchanges = [e for _, e in load_exchanges([Path(__file__).resolve().parents[1] / "cassettes"])]

    def server_findings(lazy: bool) -> list[list[tuple[str, str, str]]]:
        with shortcuts(lazy):
            session = Session(RunReport("t", 0, Policy.make(strict=True)), sides=frozenset({SERVER}))
            return [[(f.rule, f.pointer, f.message) for f in session.see(e).failing] for e in exchanges]

    assert server_findings(True) == server_findings(False)
    assert any(server_findings(True)), "the recordings hold no finding of the server: the comparison says nothing"
