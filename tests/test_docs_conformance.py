"""The tutorial's examples: what it gets right is clean, and each known fault is named by a finding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aep_export_contracts import Exchange, detect_contract, from_curl, validate, validate_bytes, validate_exchange

DOCS = Path(__file__).parent / "fixtures" / "docs"


def load(name: str) -> Any:
    return json.loads((DOCS / name).read_text())


@pytest.mark.parametrize("name, contract", [
    ("dataset-request.json", "dataset-request"),
    ("dataset-response.json", "dataset-response"),
    ("export-job-request.json", "export-job-request"),
    ("export-job-list.json", "export-job-list"),
    ("export-job-created.json", "export-job"),
    ("export-job-get.json", "export-job"),
])
def test_examples_are_detected_and_free_of_errors(name: str, contract: str) -> None:
    report = validate_bytes((DOCS / name).read_bytes(), source=name)
    assert report.contract == contract
    assert report.errors == []


def test_correct_examples_are_clean() -> None:
    for name in ("dataset-request.json", "dataset-response.json", "export-job-list.json"):
        assert validate_bytes((DOCS / name).read_bytes()).findings == [], name


def _pairs(report: Any) -> set[tuple[str, str]]:
    return {(f.rule, f.pointer) for f in report.findings}


def test_fault_1_cancel_sent_as_post() -> None:
    report = validate_exchange(from_curl((DOCS / "cancel-job.sh").read_text(), status=204))
    assert ("AEC501", "/request/method") in _pairs(report)
    assert "DELETE" in report.findings[0].hint


def test_fault_2_list_curl_never_sends_the_sandbox() -> None:
    ex = from_curl((DOCS / "list-jobs.sh").read_text(), status=200, response_body=load("export-job-list.json"))
    assert "x-sandbox-name" not in ex.request_headers
    report = validate_exchange(ex)
    assert _pairs(report) == {("AEC502", "/request/headers/x-sandbox-name")}


def test_fault_3_invented_segment_and_batch_ids() -> None:
    report = validate(load("export-job-created.json"))
    assert ("AEC106", "/filter/segments/1/segmentId") in _pairs(report)
    assert ("AEC212", "/destination/batches/1/batchId") in _pairs(report)
    request = validate(load("export-job-request.json"))
    assert _pairs(request) == {("AEC106", "/filter/segments/1/segmentId")}
    assert request.valid and not validate(load("export-job-request.json"),
                                          policy=__import__("aep_export_contracts").Policy.make(strict=True)).valid


def test_fault_4_dataSetId_spelling() -> None:
    for name in ("export-job-created.json", "export-job-get.json"):
        report = validate(load(name))
        assert ("AEC209", "/destination/dataSetId") in _pairs(report)
        assert report.valid  # a warning: accepted, but named
    assert "AEC209" not in validate(load("export-job-created-single-batch.json")).rules()


def test_fault_5_translated_header_names() -> None:
    headers = dict(line.split(": ", 1) for line in (DOCS / "headers.txt").read_text().splitlines())
    ex = Exchange.make("POST", "https://platform.adobe.io/data/core/ups/export/jobs", request_headers=headers,
                       request_body=load("export-job-request.json"))
    report = validate_exchange(ex)
    missing = {f.pointer: f for f in report.findings if f.rule == "AEC502"}
    assert set(missing) == {"/request/headers/authorization", "/request/headers/content-type"}
    assert "behörighet" in missing["/request/headers/authorization"].hint.lower()
    assert "innehållstyp" in missing["/request/headers/content-type"].hint.lower()


def test_fault_5_rfc_3339_not_339() -> None:
    from aep_export_contracts.rules import get_rule

    rule = get_rule("AEC101")
    assert "RFC 3339" in rule.description and "'RFC 339' is a typo" in rule.description


def test_fault_6_fromTimestamp_does_not_exist() -> None:
    report = validate(load("export-job-request-table-keys.json"))
    hit = [f for f in report.findings if f.rule == "AEC105"]
    assert [f.pointer for f in hit] == ["/filter/fromTimestamp"]
    assert "fromIngestTimestamp" in hit[0].hint and not report.valid


def test_fault_7_numeric_offset() -> None:
    line = (DOCS / "list-jobs-offset.http").read_text().split()
    ex = Exchange.make(line[0], "https://platform.adobe.io" + line[1],
                       request_headers={"Authorization": "Bearer t", "x-api-key": "k", "x-gw-ims-org-id": "o",
                                        "x-sandbox-name": "s"})
    report = validate_exchange(ex)
    assert _pairs(report) == {("AEC503", "/request/query/offset")}
    assert "cursor" in report.findings[0].hint


def test_fault_8_create_returns_a_job_not_a_dataset() -> None:
    created = load("export-job-created.json")
    assert detect_contract(created) == "export-job"
    as_claimed = validate(created, "dataset-response")
    assert _pairs(as_claimed) == {("AEC002", "")}


def test_fault_9_metrics_before_creation_is_only_a_warning() -> None:
    report = validate(load("export-job-get.json"))
    hit = [f for f in report.findings if f.rule == "AEC213"]
    assert [f.pointer for f in hit] == ["/metrics/totalTime/startTimeInMs"]
    assert hit[0].severity == "warning" and report.valid


CANCELLED = {"status": True, "message": "Export job has been marked for cancelling"}


@pytest.mark.parametrize("status, body", [(204, None), (200, CANCELLED)])
def test_fault_10_cancel_answers_204_or_200_and_both_are_accepted(status: int, body: Any) -> None:
    text = (DOCS / "cancel-job.sh").read_text().replace("curl -X POST", "curl -X DELETE")
    report = validate_exchange(from_curl(text, status=status, response_body=body))
    assert report.findings == []


def test_cancel_204_with_a_body_and_200_without() -> None:
    text = (DOCS / "cancel-job.sh").read_text().replace("curl -X POST", "curl -X DELETE")
    assert "AEC506" in validate_exchange(from_curl(text, status=204, response_body={"status": True})).rules()
    assert "AEC506" in validate_exchange(from_curl(text, status=200, response_body=b"")).rules()
    report = validate_exchange(from_curl(text, status=200, response_body={"status": "yes"}))
    assert ("AEC002", "/response/body/status") in _pairs(report)


def test_create_job_exchange_from_the_tutorial() -> None:
    ex = from_curl((DOCS / "create-job.sh").read_text(), status=200, response_body=load("export-job-created.json"),
                   response_headers={"X-Location": "/data/core/ups/export/jobs/24115"})
    report = validate_exchange(ex)
    # beyond the ten known faults: the tutorial's request names dataset 5b020a27…, its answer 5cf6bcf7…
    assert [(f.rule, f.pointer) for f in report.errors] == [("AEC508", "/response/body/destination/datasetId")]
    assert {f.rule for f in report.warnings} == {"AEC106", "AEC209", "AEC212"}
