"""Contract coverage: the figures on known inputs, the gate, and the command over recordings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aep_export_contracts.cassettes import replay
from aep_export_contracts.check.runner import CheckOptions, run_check
from aep_export_contracts.cli import main
from aep_export_contracts.engine.coverage import DIMENSIONS, parse_minimums

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "cassettes" / "docs" / "tutorial.yaml"
REFERENCE = ROOT / "cassettes" / "reference" / "lifecycle.json"


def _figures(report) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {d: report.coverage.figure(d) for d in DIMENSIONS}


def test_the_tutorials_five_exchanges() -> None:
    c = replay([DOCS], playback=False).coverage
    # create dataset, create, list, get answered; the cancel is sent as POST, so it is no operation at all
    assert c.missing("operations") == ["cancelExportJob"]
    assert sorted(c.covered["job-statuses"]) == ["FAILED", "NEW", "SUCCEEDED"] and c.missing("job-statuses") == ["PROCESSING"]
    assert c.covered["transitions"] == set()  # no job is read twice
    assert c.covered["headers"] == {"x-sandbox-name"}  # the list curl's missing backslash
    assert c.figure("request-shapes") == 100.0  # its one create request shows every shape
    assert c.covered["listing"] == set()  # one list call, no limit, and its page is not the last


def test_the_check_against_the_reference_server_exercises_every_operation_status_and_transition() -> None:
    report = run_check(CheckOptions(examples=1))
    figures = _figures(report)
    for dimension in ("operations", "job-statuses", "transitions", "listing", "request-shapes"):
        assert figures[dimension] == 100.0, (dimension, report.coverage.missing(dimension))
    assert report.coverage.missing("headers") == ["content-type"]  # the check always sends a body's type
    assert report.coverage.missing("rules") == ["AEC501"]  # it never sends a method the API does not serve


def test_the_reference_recording_shows_what_the_check_shows() -> None:
    recorded = replay([REFERENCE], playback=False).coverage
    assert recorded.figure("operations") == recorded.figure("job-statuses") == 100.0
    assert "cancelled while running" in recorded.covered["transitions"]


def _without_failed_jobs(tmp_path: Path) -> Path:
    data = json.loads(REFERENCE.read_text())
    kept = [i for i in data["interactions"] if '"FAILED"' not in str(i["response"]["body"].get("string"))]
    path = tmp_path / "no-failures.json"
    path.write_text(json.dumps({"version": 1, "interactions": kept}), encoding="utf-8")
    return path


def test_the_gate_fails_and_names_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cassette = _without_failed_jobs(tmp_path)
    assert main(["replay", "--no-playback", str(cassette), "--min-coverage", "job-statuses=100",
                 "--report", f"json:{tmp_path / 'r.json'}"]) == 1
    out = capsys.readouterr().out
    assert "coverage of job-statuses is 75%, below 100%: missing FAILED" in out
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["coverage"]["job-statuses"]["missing"] == ["FAILED"] and data["below_coverage"]
    # the full recording passes the same gate
    assert main(["replay", "--no-playback", str(REFERENCE), "--min-coverage", "job-statuses=100"]) == 0


def test_the_coverage_command_says_what_to_record_next(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cassette = _without_failed_jobs(tmp_path)
    assert main(["coverage", str(cassette)]) == 0
    out = capsys.readouterr().out
    assert "job-statuses: record a job whose status is FAILED" in out
    assert main(["coverage", str(cassette), "--format", "json", "--min-coverage", "job-statuses=90"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["coverage"]["job-statuses"]["percent"] == 75.0


@pytest.mark.parametrize(("text", "says"), [("nope=5", "DIM one of operations"), ("rules=x", "not a percentage"),
                                             ("rules=150", "0 to 100"), ("rules", "DIM=PCT")])
def test_a_bad_minimum_is_a_usage_error(text: str, says: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match=says):
        parse_minimums([text])
    assert main(["replay", str(DOCS), "--min-coverage", text]) == 2
    assert says in capsys.readouterr().err
