"""drift: where recorded answers depart from the description, and the overlay that would adopt it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonpath_rfc9535
import pytest

from aep_export_contracts.cassettes.har import to_har
from aep_export_contracts.cli import main
from aep_export_contracts.spec.contracts import bundled_openapi

ROOT = Path(__file__).parents[1]
REFERENCE = json.loads((ROOT / "cassettes" / "reference" / "lifecycle.json").read_text(encoding="utf-8"))


def _body(interaction: dict[str, Any]) -> Any:
    return json.loads(interaction["response"]["body"]["string"])


def _set_body(interaction: dict[str, Any], body: Any) -> None:
    interaction["response"]["body"]["string"] = json.dumps(body)


def drifted() -> dict[str, Any]:
    """The reference lifecycle with four departures in its answers: an undocumented property (every GET of job
    1), a status value no enum lists and a number where a string belongs (one GET each), and a status code the
    operation does not document (one cancel)."""
    data = copy.deepcopy(REFERENCE)
    interactions = data["interactions"]
    gets = [i for i, it in enumerate(interactions) if it["request"]["method"] == "GET"
            and it["request"]["uri"].endswith("/export/jobs/1") and it["response"]["status"]["code"] == 200]
    for i in gets:
        body = _body(interactions[i])
        body["archivedAt"] = "2026-11-30T08:00:00Z"
        _set_body(interactions[i], body)
    body = _body(interactions[gets[0]])
    body["status"] = "ARCHIVED"
    _set_body(interactions[gets[0]], body)
    body = _body(interactions[gets[1]])
    body["imsOrgId"] = 1234
    _set_body(interactions[gets[1]], body)
    cancel = next(it for it in interactions if it["request"]["method"] == "DELETE")
    cancel["response"]["status"] = {"code": 418, "message": "I'm a teapot"}
    return data


@pytest.fixture(params=["json", "har"])
def recording(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    data = drifted()
    if request.param == "har":
        path = tmp_path / "drifted.har"
        path.write_text(json.dumps(to_har(data["interactions"])), encoding="utf-8")
    else:
        path = tmp_path / "drifted.json"
        path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _drift(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["drift", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_drift_reports_exactly_the_four_departures(recording: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _drift(capsys, str(recording))
    assert code == 0
    found = [d for d in report["departures"] if d["kind"] != "unseen"]
    assert {(d["kind"], d["operation"], d["pointer"]) for d in found} == {
        ("property", "getExportJob", "/archivedAt"), ("enum", "getExportJob", "/status"),
        ("type", "getExportJob", "/imsOrgId"), ("status-code", "cancelExportJob", "/response/status")}, found
    by_kind = {d["kind"]: d for d in found}
    gets = sum(1 for it in REFERENCE["interactions"] if it["request"]["method"] == "GET"
               and it["request"]["uri"].endswith("/export/jobs/1") and it["response"]["status"]["code"] == 200)
    assert by_kind["property"]["count"] == gets and by_kind["property"]["types"] == ["string"]
    assert by_kind["property"]["looks_like"] == ["date-time"]
    assert by_kind["enum"]["count"] == 1 and by_kind["enum"]["examples"] == ["ARCHIVED"]
    assert "CANCELLED" in by_kind["enum"]["documented"]
    assert by_kind["type"]["types"] == ["integer"] and by_kind["type"]["documented"] == ["string"]
    assert by_kind["status-code"]["status"] == 418 and "200" in by_kind["status-code"]["documented"]
    for d in found:  # where each was first seen: the file and the exchange
        assert d["first_seen"]["file"] == str(recording) and d["first_seen"]["exchange"] >= 0
        assert 0 < d["share"] < 1
    assert report["exchanges"] > 50


def test_the_bundled_recordings_show_no_drift(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _drift(capsys, "--fail-on", "warning", str(ROOT / "cassettes"))
    assert code == 0 and {d["kind"] for d in report["departures"]} <= {"unseen"}, report["departures"][:3]


def test_fail_on_gates_by_gravity(recording: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "--fail-on", "error", str(recording)]) == 1
    err = capsys.readouterr().err
    assert "drift at or above error: 2 departure(s) (enum, type)" in err
    only_property = drifted()
    for it in only_property["interactions"]:  # keep the undocumented property alone
        if it["request"]["method"] == "DELETE":
            it["response"]["status"] = REFERENCE["interactions"][8]["response"]["status"]
    path = recording.parent / "property-only.json"
    data = copy.deepcopy(REFERENCE)
    for it, drifted_it in zip(data["interactions"], only_property["interactions"], strict=True):
        body = drifted_it["response"]["body"]["string"]
        if "archivedAt" in (body or ""):
            loaded = json.loads(body)
            original = json.loads(it["response"]["body"]["string"])
            _set_body(it, {**original, "archivedAt": loaded["archivedAt"]})
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["drift", "--fail-on", "error", str(path)]) == 0
    assert main(["drift", "--fail-on", "warning", str(path)]) == 1


def test_the_overlay_targets_the_bundled_description_and_carries_the_evidence(
        recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "overlay.json"
    assert main(["drift", "--write-overlay", str(out), str(recording)]) == 0
    overlay = json.loads(out.read_text())
    assert overlay["overlay"] == "1.0.0" and overlay["info"]["title"] and overlay["extends"]
    description = bundled_openapi()
    assert len(overlay["actions"]) == 4
    for action in overlay["actions"]:
        nodes = jsonpath_rfc9535.find(action["target"], description)
        assert len(nodes) == 1, action["target"]  # each action names one node of the bundled description
        assert "seen in" in action["description"] and "first in" in action["description"]
    by_target = {a["target"]: a["update"] for a in overlay["actions"]}
    assert by_target["$['components']['schemas']['ExportJob']['properties']['status']['enum']"] == ["ARCHIVED"]
    assert by_target["$['components']['schemas']['ExportJob']['properties']['imsOrgId']"] == \
        {"type": ["string", "integer"]}
    archived = by_target["$['components']['schemas']['ExportJob']['properties']"]["archivedAt"]
    assert archived["type"] == "string" and "required" not in archived
    responses = by_target["$['paths']['/data/core/ups/export/jobs/{EXPORT_JOB_ID}']['delete']['responses']"]
    assert list(responses) == ["418"]


def test_a_recording_that_cannot_be_read_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["drift", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.json" in err[0] and "not valid JSON" in err[0]
