"""The session's own logic, apart from the rules it runs: what counts as the consequence of a violation."""

from __future__ import annotations

from typing import Any

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
