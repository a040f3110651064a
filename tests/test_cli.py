from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

import payloads as P
from aep_export_contracts.cli import main

DOCS = Path(__file__).parent / "fixtures" / "docs"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, payload: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(payload))
    return str(path)


def test_clean_file_exits_0(capsys, tmp_path) -> None:
    code, out, _ = run(capsys, "lint", write(tmp_path, "job.json", P.job()))
    assert code == 0
    assert "contract: export-job (detected)" in out


def test_violation_exits_1_and_names_rule_and_pointer(capsys, tmp_path) -> None:
    code, out, _ = run(capsys, "lint", "--format", "json", str(DOCS / "export-job-request-table-keys.json"))
    assert code == 1
    [entry] = json.loads(out)
    assert entry["contract"] == "export-job-request" and entry["valid"] is False
    assert {"rule": "AEC105", "severity": "error", "pointer": "/filter/fromTimestamp",
            "message": "unknown key 'fromTimestamp' in a request",
            "hint": "did you mean 'fromIngestTimestamp'?"} in entry["findings"]


def test_json_output_has_one_object_per_input(capsys) -> None:
    files = sorted(str(p) for p in DOCS.glob("*.json"))
    code, out, _ = run(capsys, "lint", "--format", "json", *files)
    data = json.loads(out)
    assert [d["file"] for d in data] == files
    assert all(set(d) == {"file", "contract", "valid", "findings"} for d in data)
    assert code == 1


def test_strict_makes_warnings_fail(capsys) -> None:
    target = str(DOCS / "export-job-get.json")
    assert run(capsys, "lint", target)[0] == 0
    assert run(capsys, "lint", "--strict", target)[0] == 1
    assert run(capsys, "lint", "--strict", "--ignore", "AEC106,AEC209,AEC212,AEC213", target)[0] == 0
    assert run(capsys, "lint", "--strict", "--select", "AEC3", target)[0] == 0


def test_baseline_silences_one_finding_not_the_rule(capsys, tmp_path) -> None:
    job = P.job()
    job["destination"]["dataSetId"] = job["destination"].pop("datasetId")
    target = write(tmp_path, "job.json", job)
    baseline = write(tmp_path, "baseline.json", {"accepted": [{"rule": "AEC209", "pointer": "/destination/dataSetId"}]})
    assert run(capsys, "lint", "--strict", target)[0] == 1
    assert run(capsys, "lint", "--strict", "--baseline", baseline, target)[0] == 0
    other = write(tmp_path, "list.json", P.listing([job], page_size=1))
    code, out, _ = run(capsys, "lint", "--strict", "--format", "json", "--baseline", baseline, other)
    assert code == 1 and json.loads(out)[0]["findings"][0]["pointer"] == "/records/0/destination/dataSetId"


def test_bad_baseline_is_a_usage_error(capsys, tmp_path) -> None:
    bad = write(tmp_path, "baseline.json", {"accepted": "all"})
    code, _, err = run(capsys, "lint", "--baseline", bad, str(DOCS / "export-job-list.json"))
    assert code == 2 and "baseline" in err and "Traceback" not in err


def test_unreadable_and_invalid_files_exit_2_without_traceback(capsys, tmp_path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": 1,')
    files = [str(tmp_path / "missing.json"), str(broken), str(DOCS / "export-job-list.json")]
    code, out, err = run(capsys, "lint", *files)
    assert code == 2
    assert "missing.json" in err and "Traceback" not in out + err
    assert "AEC005" in out and "export-job-list.json" in out


def test_an_unreadable_path_is_named_exactly_as_given(capsys, tmp_path) -> None:
    # a long name with markup-like brackets is neither wrapped nor eaten as console markup
    missing = tmp_path / ("[bold]" + "x" * 150 + ".json")
    code, _, err = run(capsys, "lint", str(missing))
    assert code == 2
    assert str(missing) in err


def test_yaml_input_and_explicit_contract(capsys, tmp_path) -> None:
    path = tmp_path / "request.yaml"
    path.write_text("destination: {datasetId: abc}\nschema: {name: _xdm.context.profile}\nfields: 'a,,b'\n")
    code, out, _ = run(capsys, "lint", "--format", "json", "--contract", "export-job-request", str(path))
    assert code == 1 and json.loads(out)[0]["findings"][0]["rule"] == "AEC103"
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1,\n")
    assert run(capsys, "lint", str(bad))[0] == 2


def test_stdin(capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(P.new_job()).encode())))
    code, out, _ = run(capsys, "lint", "--format", "json", "-")
    assert code == 0 and json.loads(out)[0]["file"] == "<stdin>"


def test_sarif(capsys) -> None:
    code, out, _ = run(capsys, "lint", "--format", "sarif", str(DOCS / "export-job-request-table-keys.json"))
    doc = json.loads(out)
    assert code == 1 and doc["version"] == "2.1.0"
    run_ = doc["runs"][0]
    ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    result = next(r for r in run_["results"] if r["ruleId"] == "AEC105")
    assert ids[result["ruleIndex"]] == "AEC105" and result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("table-keys.json")


def test_usage_errors(capsys) -> None:
    assert run(capsys, "lint")[0] == 2
    assert run(capsys, "lint", "--contract", "nope", "x.json")[0] == 2
    assert run(capsys)[0] == 2
    assert run(capsys, "lint", str(DOCS))[0] == 2


def test_rules_listing(capsys) -> None:
    code, out, _ = run(capsys, "rules")
    assert code == 0 and "AEC105" in out and "unknown-request-key" in out


def test_lint_with_workers_keeps_order_and_output(capsys, tmp_path) -> None:
    files = []
    for i in range(12):
        payload = P.job(id=i) if i % 3 else {"destination": {"datasetId": ""}, "schema": {"name": "n"}}
        files.append(write(tmp_path, f"p{i:02}.json", payload))
    one = run(capsys, "lint", "--format", "json", *files)
    two = run(capsys, "lint", "--format", "json", "--workers", "2", *files)
    assert one[0] == two[0] == 1
    assert json.loads(one[1]) == json.loads(two[1])
    assert [r["file"] for r in json.loads(two[1])] == files


def test_the_text_report_shows_every_finding_with_its_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from aep_export_contracts.generation.strategies import generate

    jobs = [r["payload"] for r in generate("export-job", 30, seed=1)]
    for job in jobs:
        job["status"] = "done"
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps({"records": jobs, "page": {"pageSize": 30}}), encoding="utf-8")
    assert main(["lint", str(listing)]) == 1
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if "AEC003" in line]
    assert len(rows) == 30 and all("'done' is not an allowed value" in row for row in rows)
    assert out.count("→ use one of: NEW, PROCESSING") == 30
    assert "\x1b[" not in out  # no colour codes when the output is not a terminal


def test_an_unquoted_yaml_timestamp_is_judged_as_its_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payload = tmp_path / "request.yaml"
    payload.write_text("destination: {datasetId: d}\nschema: {name: n}\nfilter:\n  fromIngestTimestamp: 2018-10-25 13:22:04Z\n",
                       encoding="utf-8")
    assert main(["lint", "--format", "json", str(payload)]) == 1
    [row] = json.loads(capsys.readouterr().out)
    assert row["contract"] == "export-job-request"
    assert ("AEC101", "/filter/fromIngestTimestamp") in {(f["rule"], f["pointer"]) for f in row["findings"]}


def test_sarif_results_point_at_the_line_and_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    request = tmp_path / "request.json"
    request.write_text('{\n  "destination": {"datasetId": "d"},\n  "schema": {"name": "n"},\n'
                       '  "filter": {\n    "fromTimestamp": "2019-01-01T00:00:00Z"\n  }\n}\n', encoding="utf-8")
    job = tmp_path / "job.yaml"
    job.write_text("destination:\n  datasetId: d\nschema:\n  name: n\nfilter:\n  segments:\n"
                   "    - segmentId: ''\n", encoding="utf-8")
    main(["lint", "--format", "sarif", "--contract", "export-job-request", str(request), str(job)])
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    where = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].rsplit("/", 1)[-1]):
             r["locations"][0]["physicalLocation"]["region"] for r in results}
    assert where[("AEC105", "request.json")] == {"startLine": 5, "startColumn": 22}  # the value of fromTimestamp
    assert where[("AEC004", "job.yaml")] == {"startLine": 7, "startColumn": 18}  # the empty segment id


ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize(("missing", "argv", "extra"), [
    ("schemathesis", ["check"], "live"),
    ("vcr", ["replay", str(ROOT / "cassettes")], "cassettes"),
    ("vcr", ["record", "--out", "out.yaml"], "cassettes"),
])
def test_a_command_whose_extra_is_missing_says_so_before_it_starts(
        missing: str, argv: list[str], extra: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, missing, None)  # what an import finds when the package is not installed
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""  # nothing ran: no table, no verdict
    assert len(err.strip().splitlines()) == 1, err  # no progress line either
    assert f"needs {missing}, which is not installed: pip install 'aep-export-contracts[{extra}]'" in err
    assert list(tmp_path.iterdir()) == []


def test_what_needs_no_extra_runs_without_it(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "vcr", None)
    monkeypatch.setitem(sys.modules, "schemathesis", None)
    code, out, err = run(capsys, "replay", "--no-playback", str(ROOT / "cassettes"))
    assert code == 0 and "no contract violation" in out, err
    from aep_export_contracts.cassettes.har import to_har

    har = tmp_path / "session.har"  # a HAR file holds no workflow to re-run: replay needs no vcrpy for it
    har.write_text(json.dumps(to_har(json.loads((ROOT / "cassettes" / "reference" / "lifecycle.json").read_text())
                                     ["interactions"][:5])))
    code, out, err = run(capsys, "replay", str(har))
    assert code == 0 and "no contract violation" in out, err
    code, out, err = run(capsys, "check", "--layer", "lifecycle", "--layer", "negative")
    assert code == 0 and "no contract violation" in out, err


def test_version_says_whether_the_engine_runs_compiled(capsys, tmp_path: Path) -> None:
    """--version names the build: the modules compiled to C, found by their extension files, or pure Python."""
    from importlib.machinery import EXTENSION_SUFFIXES

    from aep_export_contracts.about import compiled_modules

    package = tmp_path / "pkg"
    (package / "engine").mkdir(parents=True)
    (package / "engine" / "payload.py").write_text("")
    (package / "engine" / f"payload{EXTENSION_SUFFIXES[0]}").write_bytes(b"")
    (package / f"findings{EXTENSION_SUFFIXES[-1]}").write_bytes(b"")
    (package / "engine" / f"__init__{EXTENSION_SUFFIXES[0]}").write_bytes(b"")
    (package / "notes.txt").write_text("")
    assert compiled_modules(package) == ["pkg.engine", "pkg.engine.payload", "pkg.findings"]
    assert main(["--version"]) == 0
    line = capsys.readouterr().out.strip()
    compiled = compiled_modules()
    assert line.endswith(f"(compiled: {len(compiled)} modules)" if compiled else "(pure Python)"), line
