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
        assert d["first_seen"]["file"] == str(recording)
        assert d["first_seen"]["exchange"].startswith(("/interactions/", "/log/entries/"))
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
    assert len(overlay["actions"]) == 5  # the four, and the new job status placed in the description's lifecycle
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
    assert list(responses) == ["418"]  # judged by the contract its bodies meet
    assert responses["418"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ExportJobCancel"}
    assert by_target["$['x-job-lifecycle']['stages'][3]"] == ["ARCHIVED"]


def test_a_recording_that_cannot_be_read_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["drift", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.json" in err[0] and "not valid JSON" in err[0]


FOUR = {("AEC211", "/response/body/archivedAt"), ("AEC003", "/response/body/status"),
        ("AEC002", "/response/body/imsOrgId"), ("AEC504", "/response/status")}


def _replayed(capsys: pytest.CaptureFixture[str], tmp_path: Path, recording: Path, *extra: str) -> dict[str, Any]:
    report = tmp_path / f"replay-{len(extra)}.json"
    main(["replay", "--no-playback", "--report", f"json:{report}", *extra, str(recording)])
    capsys.readouterr()
    return json.loads(report.read_text())


def test_replay_with_the_drift_overlay_reports_none_of_the_four(
        recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay = tmp_path / "drift.overlay.yaml"
    assert main(["drift", "--write-overlay", str(overlay), str(recording)]) == 0
    before = _replayed(capsys, tmp_path, recording)
    every = lambda data: {(v["rule"], v["pointer"]) for v in data["violations"] + data["warnings"]}  # noqa: E731
    assert every(before) >= FOUR and before["overlay"] is None
    after = _replayed(capsys, tmp_path, recording, "--overlay", str(overlay))
    assert not FOUR & every(after), sorted(FOUR & every(after))
    assert after["overlay"]["path"] == str(overlay) and len(after["overlay"]["sha256"]) == 64
    # the process gets the bundled contract back once the command ends
    assert _replayed(capsys, tmp_path, recording)["overlay"] is None


def test_lint_with_the_drift_overlay_accepts_the_payloads(
        recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay = tmp_path / "drift.overlay.json"
    assert main(["drift", "--write-overlay", str(overlay), str(recording)]) == 0
    job = _body(next(it for it in REFERENCE["interactions"] if it["request"]["uri"].endswith("/export/jobs/1")))
    job.update({"archivedAt": "2026-11-30T08:00:00Z", "status": "ARCHIVED", "imsOrgId": 1234})
    payload = tmp_path / "job.json"
    payload.write_text(json.dumps(job), encoding="utf-8")
    capsys.readouterr()
    assert main(["lint", "--contract", "export-job", "--format", "json", str(payload)]) == 1
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)[0]["findings"]}
    assert {"AEC002", "AEC003", "AEC211"} <= rules
    assert main(["lint", "--contract", "export-job", "--format", "json", "--overlay", str(overlay), str(payload)]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert not {"AEC002", "AEC003", "AEC211"} & {f["rule"] for f in row["findings"]}, row
    assert row["overlay"]["path"] == str(overlay) and len(row["overlay"]["sha256"]) == 64  # the report names it
    assert main(["lint", "--contract", "export-job", "--format", "sarif", "--overlay", str(overlay), str(payload)]) == 0
    from consumers import sarif_schema_valid

    sarif = json.loads(capsys.readouterr().out)
    assert sarif_schema_valid(sarif) and sarif["runs"][0]["properties"]["overlay"] == row["overlay"]
    assert main(["lint", "--contract", "export-job", "--overlay", str(overlay), str(payload)]) == 0
    assert capsys.readouterr().out.startswith(f"the contract with overlay {overlay} (sha256 {row['overlay']['sha256'][:12]})")
    assert main(["lint", "--contract", "export-job", "--format", "json", str(payload)]) == 1
    assert "overlay" not in json.loads(capsys.readouterr().out)[0]  # without one, the report is as it was


@pytest.mark.parametrize(("text", "said"), [
    ("overlay: [1\n", "does not parse as YAML or JSON"),
    ('{"overlay": "2.0.0", "info": {"title": "t", "version": "1"}, "actions": []}', "not an Overlay 1.0 document"),
    ('{"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "$.paths.nothing", '
     '"update": {}}]}', "selects nothing in the bundled description"),
    ('{"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "$[", "update": {}}]}',
     "is not a JSONPath query"),
    ('{"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": '
     '"$.components.schemas.ExportJob", "update": {"type": "banana"}}]}', "an invalid JSON Schema"),
    ('{"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": '
     '"$.paths", "update": {"/x": {"get": {"responses": "none"}}}}]}', "invalid OpenAPI"),
    ('{"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": '
     '"$.components.schemas.ExportJob.properties.status.enum", "update": ["ARCHIVED"]}]}', "does not hold together"),
])
@pytest.mark.parametrize("command", ["lint", "replay", "drift"])
def test_an_overlay_that_cannot_be_used_is_one_error_line_and_nothing_runs(
        command: str, text: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay = tmp_path / "bad-overlay.yaml"
    overlay.write_text(text, encoding="utf-8")
    target = ROOT / ("tests/fixtures/docs/export-job-created.json" if command == "lint" else "cassettes")
    argv = [command, "--overlay", str(overlay), *(["--no-playback"] if command == "replay" else []), str(target)]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and said in err, (out[:200], err)
    from aep_export_contracts.spec.api import JOB_STATUSES
    from aep_export_contracts.spec.contracts import active_overlay

    assert active_overlay() is None and "ARCHIVED" not in JOB_STATUSES.all  # nothing changed


def test_the_plugin_judges_recordings_with_the_overlay(pytester: pytest.Pytester, tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    (recordings / "drifted.json").write_text(json.dumps(drifted()), encoding="utf-8")
    overlay = tmp_path / "drift.overlay.yaml"
    assert main(["drift", "--write-overlay", str(overlay), str(recordings)]) == 0
    pytester.makepyfile(
        """
        def test_recorded(aec_exchange, aec_findings):
            assert not {f.rule for f in aec_findings} & {"AEC002", "AEC003", "AEC504"}
        """
    )
    bare = pytester.runpytest("-p", "no:cacheprovider", f"--aep-cassettes={recordings}")
    assert bare.parseoutcomes()["failed"] == 3  # the type, the enum value and the status code: one exchange each
    overlaid = pytester.runpytest("-p", "no:cacheprovider", f"--aep-cassettes={recordings}", f"--aep-overlay={overlay}")
    assert overlaid.parseoutcomes().get("failed", 0) == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("overlay: [1\n", encoding="utf-8")
    refused = pytester.runpytest("-p", "no:cacheprovider", f"--aep-cassettes={recordings}", f"--aep-overlay={broken}")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR and "does not parse" in refused.stderr.str()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_replay_reports_the_same_drift_as_the_drift_command(
        workers: str, recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, alone = _drift(capsys, str(recording), str(ROOT / "cassettes"))
    report = tmp_path / "replay.json"
    main(["replay", "--no-playback", "--workers", workers, "--report", f"json:{report}", str(recording),
          str(ROOT / "cassettes")])
    assert "drift in" in capsys.readouterr().out  # the text report has the section too
    replayed = json.loads(report.read_text())["drift"]
    key = lambda d: (d["kind"], d["operation"], d["pointer"], d["count"], d["first_seen"]["file"])  # noqa: E731
    counted = [d for d in alone["departures"] if d["kind"] != "unseen"]  # what no answer carried is drift's to say
    assert sorted(map(key, replayed["departures"])) == sorted(map(key, counted)) and len(counted) == 4
    assert replayed["exchanges"] == alone["exchanges"]


def test_the_bodies_drift_remembers_stay_within_their_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """Distinct answers, each with an undocumented property, seen twice: drift remembers no more bytes than its
    bound, and counts every sighting whether it remembered the body or not."""
    import aep_export_contracts.engine.drift as drift_module
    from aep_export_contracts.engine.drift import Drift
    from aep_export_contracts.http import Exchange

    gets = [it for it in REFERENCE["interactions"] if it["request"]["method"] == "GET"
            and "/export/jobs/" in it["request"]["uri"] and it["response"]["status"]["code"] == 200
            and isinstance(_body(it), dict) and "id" in _body(it)]
    template = _body(gets[0])
    bodies = [json.dumps({**template, "archivedAt": f"2026-11-30T08:00:{i:02d}Z"}) for i in range(30)]
    monkeypatch.setattr(drift_module, "_MEMO_HELD", 3 * len(bodies[0]))
    found = Drift(unseen=False)
    for _ in range(2):
        for i, body in enumerate(bodies):
            found.see(Exchange.make("GET", gets[0]["request"]["uri"], status=200, response_body=body,
                                    response_headers={"content-type": "application/json"}), ("t", i))
    assert len(found._memo) == 3 and found._memo_held <= 3 * len(bodies[0])
    departure = next(d for d in found.departures() if d.pointer.endswith("/archivedAt"))
    assert departure.count == 60
