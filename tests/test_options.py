"""One option model behind the CLI and the pytest plugin, one strictness rule, one place for usage errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from aep_export_contracts.check.runner import CheckOptions
from aep_export_contracts.cli import main
from aep_export_contracts.options import OptionError, make
from consumers import junit_agrees

FIXTURES = Path(__file__).parent / "fixtures" / "docs"
#: a job whose findings are all warnings (the tutorial's 'dataSetId' spelling, AEC209, among them)
WARNING_ONLY = FIXTURES / "export-job-created.json"
CASSETTES = Path(__file__).parent.parent / "cassettes"


def _recorded_get(job_file: Path, cassette: Path) -> Path:
    """A cassette of one GET that answered the job in ``job_file``."""
    body = json.loads(job_file.read_text(encoding="utf-8"))
    cassette.write_text(json.dumps({"interactions": [{
        "request": {"method": "GET", "uri": f"https://platform.adobe.io/data/core/ups/export/jobs/{body['id']}",
                    "headers": {"Authorization": ["Bearer {ACCESS_TOKEN}"], "x-api-key": ["{API_KEY}"],
                                "x-gw-ims-org-id": [body["imsOrgId"]], "x-sandbox-name": ["dev"]}, "body": None},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {"Content-Type": ["application/json"]},
                     "body": {"string": json.dumps(body)}}}]}), encoding="utf-8")
    return cassette


def test_the_plugin_takes_the_cli_names() -> None:
    opts = make(CheckOptions, {"fault": ["create-201"], "layer": ["lifecycle"], "examples": 1, "seed": 3,
                               "strict": False, "select": "AEC5", "max_jobs": 4})
    assert (opts.fault, opts.layer, opts.examples, opts.seed, opts.max_jobs) == (("create-201",), ("lifecycle",), 1, 3, 4)
    with pytest.raises(OptionError, match=r"unknown option\(s\) faults; known: .*fault"):
        make(CheckOptions, {"faults": ["create-201"]})
    with pytest.raises(OptionError, match="fault: unknown value"):
        make(CheckOptions, {"fault": ["no-such-fault"]})
    with pytest.raises(OptionError, match="base_url"):
        make(CheckOptions, {"fault": ["create-201"], "base_url": "http://127.0.0.1:1"})


def test_the_cli_and_the_plugin_build_the_same_options() -> None:
    from aep_export_contracts.cli import build_parser
    from aep_export_contracts.options import from_namespace

    args = build_parser().parse_args(["check", "--fault", "create-201", "--layer", "lifecycle", "--examples", "1",
                                      "--seed", "3", "--strict", "--select", "AEC5,AEC6", "--max-jobs", "4"])
    assert from_namespace(CheckOptions, args) == make(CheckOptions, {
        "fault": ["create-201"], "layer": ["lifecycle"], "examples": 1, "seed": 3, "strict": True,
        "select": ["AEC5,AEC6"], "max_jobs": 4})


def test_aec_check_fails_the_calling_test_with_the_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_broken_endpoint(aec_check):
            aec_check(fault=["create-201"], layer=["lifecycle"], examples=1)

        def test_report_returned_when_asked(aec_check):
            report = aec_check(fault=["create-201"], layer=["lifecycle"], examples=1, fail=False)
            assert not report.ok and "AEC504" in report.by_rule()

        def test_clean_endpoint_returns_the_report(aec_check):
            report = aec_check(layer=["negative"], examples=1)
            assert report.ok and report.results
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*AEC504*", "*violation(s)*"])
    assert "Traceback" not in result.stdout.str().split("short test summary")[0].split("test_broken_endpoint")[-1]


def test_aec_check_against_a_target_it_cannot_reach_fails_the_calling_test(pytester: pytest.Pytester) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pytester.makepyfile(
        """
        def test_staging_keeps_the_contract(aec_check):
            aec_check(layer=["lifecycle"], examples=1)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--aep-base-url", f"http://127.0.0.1:{port}")
    result.assert_outcomes(failed=1)  # a run that could not see is no pass
    result.stdout.fnmatch_lines([f"*cannot reach http://127.0.0.1:{port}: connection refused*"])


def test_aec_check_names_a_wrong_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_typo(aec_check):
            aec_check(faults=["create-201"])
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*aec_check: unknown option(s) faults; known:*fault*"])
    assert result.ret != 0


@pytest.mark.parametrize(("argv", "says"), [
    (["lint", "--select", "NOPE", str(WARNING_ONLY)], "--select NOPE: no rule has that id or prefix; known prefixes: "),
    (["lint", "--ignore", "XYZ1", str(WARNING_ONLY)], "--ignore XYZ1: no rule"),
    (["lint", "--workers", "0", str(WARNING_ONLY)], "--workers is a positive number"),
    (["lint", "--baseline", "/nonexistent/b.json", str(WARNING_ONLY)], "cannot read baseline /nonexistent/b.json"),
    (["replay", "--select", "NOPE", str(CASSETTES)], "--select NOPE"),
    (["check", "--select", "NOPE"], "--select NOPE"),
    (["check", "--max-jobs", "-1"], "max_jobs and examples are not negative"),
    (["check", "--deadline", "0"], "deadline is a positive number"),
    (["serve", "--port", "70000"], "--port is a port, 0 to 65535 (0: any free one), not 70000"),
    (["serve", "--port", "-1"], "--port is a port, 0 to 65535 (0: any free one), not -1"),
    (["serve", "--job-seconds", "-5"], "-5 is negative"),
    (["serve", "--max-body", "-1"], "-1 is negative"),
    (["serve", "--read-timeout", "0"], "a timeout is a positive number of seconds"),
    (["serve", "--idle-timeout", "x"], "'x' is not a number"),
    (["serve", "--idle-timeout", "nan"], "'nan' is not a finite number"),
    (["serve", "--read-timeout", "inf"], "'inf' is not a finite number"),
    (["proxy", "--job-seconds", "nan"], "--job-seconds is a finite number of seconds, not negative"),
    (["proxy", "--port", "99999"], "--port is a port, 0 to 65535 (0: any free one), not 99999"),
    (["proxy", "--record", "."], "--record '.' is a folder"),
    (["proxy", "--queue-timeout", "0"], "--queue-timeout is a positive number of seconds"),
    (["coverage", "/nonexistent/folder"], "no such file or folder"),
    (["lint", "/nonexistent/payload.json"], "/nonexistent/payload.json: cannot read"),
    (["lint", "--format", "xml", str(WARNING_ONLY)], "invalid choice: 'xml'"),
    (["record", "--out", "x.txt"], "--out 'x.txt': the file's name ends in .json, .yaml, .yml or .har"),
    (["record", "--out", "missing/x.yaml"], "the folder 'missing' does not exist"),
    (["check", "--report", "json:missing/out.json"], "--report: 'missing/out.json': the folder"),
    (["replay", "--report", "sarif:/", str(CASSETTES)], "'/' is a folder"),
    (["proxy", "--record", "session.txt"], "--record 'session.txt': the file's name ends in"),
    (["check", "--fault-matrix", "--report", "json:x.json"], "--report is for a single run (leave out --fault-matrix)"),
    (["check", "--fault-matrix", "--strict", "--select", "AEC5", "--min-coverage", "operations=100"],
     "--min-coverage, --select, --strict are for a single run"),
    (["serve", "--fault", "nope"], "invalid choice: 'nope'"),
    (["generate", "export-job", "-n", "-1"], "-n must not be negative"),
    (["scan", "/nonexistent/folder"], "no such file or folder"),
])
def test_a_usage_mistake_is_one_line_and_exit_2(argv: list[str], says: str, capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a mistake that is not caught must not write into the work tree
    assert main(argv) == 2
    assert list(tmp_path.iterdir()) == []  # nothing written
    out, err = capsys.readouterr()
    assert says in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("aep-export-contracts: error: "), err  # one form for every command
    assert "Traceback" not in out + err


def _state_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("not a database\n")
    foreign = tmp_path / "foreign.db"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE jobs (a, b)")
    db.commit()
    db.close()
    return {
        "folder": (tmp_path, "is a folder"),
        "missing folder": (tmp_path / "nowhere" / "state.db", "its folder does not exist"),
        "not sqlite": (not_sqlite, "file is not a database"),
        "another program's tables": (foreign, "holds a 'jobs' table that is not the reference server's"),
    }


@pytest.mark.parametrize("case", ["folder", "missing folder", "not sqlite", "another program's tables"])
def test_serve_refuses_a_state_file_it_cannot_use(case: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path, says = _state_files(tmp_path)[case]
    before = path.read_bytes() if path.is_file() else None
    assert main(["serve", "--port", "0", "--state", str(path)]) == 2
    out, err = capsys.readouterr()
    assert says in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in out + err
    # the file it refused is left as it was
    assert (path.read_bytes() if path.is_file() else None) == before


def test_the_known_prefixes_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    main(["lint", "--select", "NOPE", str(WARNING_ONLY)])
    err = capsys.readouterr().err
    for prefix in ("AEC0", "AEC1", "AEC2", "AEC3", "AEC5", "AEC6"):
        assert prefix in err


def test_one_strictness_rule_for_lint_replay_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # lint: a warning alone passes; --strict makes it fail
    assert main(["lint", "--format", "json", str(WARNING_ONLY)]) == 0
    findings = json.loads(capsys.readouterr().out)[0]["findings"]
    assert "AEC209" in {f["rule"] for f in findings} and {f["severity"] for f in findings} == {"warning"}
    assert main(["lint", "--strict", str(WARNING_ONLY)]) == 1
    # replay: the same exchange, recorded
    cassette = _recorded_get(WARNING_ONLY, tmp_path / "one.json")
    assert main(["replay", "--no-playback", str(cassette)]) == 0
    assert main(["replay", "--no-playback", "--strict", str(cassette)]) == 1
    # check: a server whose only fault is a warning-level one
    assert main(["check", "--fault", "dataset-id-spelling", "--layer", "lifecycle", "--examples", "1"]) == 0
    assert main(["check", "--fault", "dataset-id-spelling", "--layer", "lifecycle", "--examples", "1",
                 "--strict"]) == 1
    out = capsys.readouterr().out
    assert "AEC209" in out


def test_every_run_writes_every_report_format(tmp_path: Path) -> None:
    """check and replay write JSON, JUnit and SARIF from the one run model, with the same findings."""
    cassette = _recorded_get(WARNING_ONLY, tmp_path / "one.json")
    out = {kind: tmp_path / f"r.{kind}" for kind in ("json", "junit", "sarif")}
    assert main(["replay", "--no-playback", "--strict", *[a for k, p in out.items() for a in ("--report", f"{k}:{p}")],
                 str(cassette)]) == 1
    data = json.loads(out["json"].read_text(encoding="utf-8"))
    violations, groups = data["violations"], data["groups"]
    sarif = json.loads(out["sarif"].read_text(encoding="utf-8"))["runs"][0]["results"]
    junit = out["junit"].read_text(encoding="utf-8")
    assert sorted(v["rule"] for v in violations) == sorted(r["ruleId"] for r in sarif)
    assert {r["level"] for r in sarif} == {"error"}  # --strict: the warnings fail, so they are errors here
    # the same grouping everywhere: a JUnit failure per JSON group, whose counts add up to the violations
    assert groups and sum(g["count"] + g["consequences"] for g in groups) == len(violations)
    assert junit_agrees(junit, data)


def test_without_the_optional_packages_each_command_works_or_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """After a plain install (no vcrpy, no schemathesis): re-validation works, the rest names its extra."""
    import sys

    for name in ("vcr", "vcr.errors", "schemathesis"):
        monkeypatch.setitem(sys.modules, name, None)
    root = Path(__file__).resolve().parents[1] / "cassettes"
    assert main(["replay", "--no-playback", str(root)]) == 0
    capsys.readouterr()
    assert main(["replay", str(root / "reference" / "lifecycle.json")]) == 2  # playback cannot run: said first
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == ("aep-export-contracts: error: re-running recorded workflows needs vcr, which is "
                                         "not installed: pip install 'aep-export-contracts[cassettes]' (or judge the "
                                         "exchanges only: --no-playback)")
    assert main(["record", "--out", str(tmp_path / "c.json")]) == 2
    assert "record needs vcr, which is not installed" in capsys.readouterr().err
    assert main(["check", "--layer", "schema", "--examples", "1"]) == 2
    assert "the check's schema layer needs schemathesis, which is not installed" in capsys.readouterr().err
    # coverage and the proxy need neither
    assert main(["coverage", str(root)]) == 0
    from aep_export_contracts.proxy.sample_client import proxied_session

    session, _ = proxied_session(record=str(tmp_path / "s.har"))
    assert session.report.ok and session.write_recording() is not None


def test_every_sarif_report_meets_code_scanning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """lint (given an absolute path, as CI scripts pass them), check, replay and a proxy session."""
    from aep_export_contracts.proxy.sample_client import proxied_session
    from aep_export_contracts.reporting.sarif import run_to_sarif
    from consumers import sarif_meets_code_scanning, sarif_tools_reads

    monkeypatch.chdir(FIXTURES.parent.parent.parent)  # the repository: the fixtures lie below it
    lint = tmp_path / "lint.sarif"
    with open(lint, "w") as out:
        monkeypatch.setattr("sys.stdout", out)
        assert main(["lint", "--format", "sarif", str(FIXTURES.resolve() / "export-job-created.json")]) == 0
    monkeypatch.undo()
    monkeypatch.chdir(FIXTURES.parent.parent.parent)
    assert main(["check", "--fault", "create-201", "--layer", "lifecycle", "--report", f"sarif:{tmp_path / 'c.sarif'}"]) == 1
    assert main(["replay", "--no-playback", "--report", f"sarif:{tmp_path / 'r.sarif'}", str(CASSETTES)]) == 0
    session, _ = proxied_session(faults=("create-201",), record=str(tmp_path / "p.har"))
    session.write_recording()
    (tmp_path / "p.sarif").write_text(run_to_sarif(session.report))
    proxied = json.loads((tmp_path / "p.sarif").read_text())["runs"][0]["results"]
    # a proxied exchange's finding lies at its entry in the session's recording
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in proxied} == \
        {(tmp_path / "p.har").as_uri()}
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] > 1 for r in proxied)
    for name in ("lint", "c", "p"):
        doc = json.loads((tmp_path / f"{name}.sarif").read_text())
        assert doc["runs"][0]["results"], name  # each has results to hold to the rules
        assert sarif_meets_code_scanning(doc)
        assert sarif_tools_reads(str(tmp_path / f"{name}.sarif"))
    lint_uri = json.loads(lint.read_text())["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert lint_uri["artifactLocation"] == {"uri": "tests/fixtures/docs/export-job-created.json", "uriBaseId": "SRCROOT"}
    assert sarif_meets_code_scanning(json.loads((tmp_path / "r.sarif").read_text()))
    # a recorded exchange's finding lies at the exchange in its recording
    recorded = _recorded_get(WARNING_ONLY, tmp_path / "one.json")
    recorded.write_text(json.dumps(json.loads(recorded.read_text()), indent=2))  # the interaction on line 3
    assert main(["replay", "--no-playback", "--strict", "--report", f"sarif:{tmp_path / 'w.sarif'}", str(recorded)]) == 1
    doc = json.loads((tmp_path / "w.sarif").read_text())
    assert sarif_meets_code_scanning(doc)
    places = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
               r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in doc["runs"][0]["results"]}
    assert places == {(recorded.as_uri(), 3)}
