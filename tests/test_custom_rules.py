"""Rules a team writes itself run everywhere the built-in rules run.

A small package is installed the way pip lays one out (the module beside a .dist-info folder with
its entry point) on the path of a fresh interpreter; every command then sees its rules.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = '''
    """ACME's own rules for the Export Jobs API."""
    from aep_export_contracts import Hit, rule


    @rule("ACME001", "merge-policy-named", "error", contracts=("export-job-request",))
    def merge_policy_named(request):
        """Every export job names its merge policy.

        ACME exports must be reproducible: the default merge policy changes when someone edits it.
        """
        if isinstance(request, dict) and "mergePolicy" not in request:
            yield Hit("/mergePolicy", "no merge policy is named", "add mergePolicy.id")


    @rule("ACME002", "acme-instance", "error", contracts=("export-job",))
    def acme_instance(job):
        """Jobs run on ACME's profile instance."""
        if isinstance(job, dict) and job.get("profileInstanceId", "acme") != "acme":
            return [Hit("/profileInstanceId", f"instance {job['profileInstanceId']!r} is not 'acme'")]
        return []


    @rule("ACME010", "ci-sandbox", "warning", scope="exchange", operations=("createExportJob",))
    def ci_sandbox(view):
        """Jobs are created in ci-* sandboxes only."""
        sandbox = view.exchange.request_headers.get("x-sandbox-name", "")
        if not sandbox.startswith("ci-"):
            yield Hit("/request/headers/x-sandbox-name", f"sandbox {sandbox!r} is not a ci-* sandbox")
'''
REQUEST = {"destination": {"datasetId": "5b020a27e7040801dedba61b"}, "schema": {"name": "_xdm.context.profile"}}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out as pip installs a package: the module and its .dist-info with the entry point."""
    root = tmp_path_factory.mktemp("site")
    (root / "acme_rules.py").write_text(textwrap.dedent(RULES), encoding="utf-8")
    info = root / "acme_rules-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-rules\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[aep_export_contracts.rules]\nacme = acme_rules\n", encoding="utf-8")
    return root


def cli(site: Path | None, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(site) if site else "",
                                                                     os.environ.get("PYTHONPATH", "")) if p)}
    return subprocess.run([sys.executable, "-m", "aep_export_contracts", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300, check=False)


def test_the_rules_command_lists_installed_rules(site: Path) -> None:
    done = cli(site, "rules")
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines()}
    assert "Every export job names its merge policy." in lines["ACME001"]
    assert "warning" in lines["ACME010"] and "AEC001" in lines
    assert "ACME001" not in cli(None, "rules").stdout  # not installed: not there


def test_lint_reports_a_custom_rule_in_every_format(site: Path, tmp_path: Path) -> None:
    payload = tmp_path / "request.json"
    payload.write_text(json.dumps(REQUEST), encoding="utf-8")
    text = cli(site, "lint", "--contract", "export-job-request", str(payload))
    assert text.returncode == 1 and "ACME001" in text.stdout and "no merge policy is named" in text.stdout
    rows = json.loads(cli(site, "lint", "--format", "json", str(payload)).stdout)
    assert [(f["rule"], f["pointer"], f["hint"]) for f in rows[0]["findings"]] == \
        [("ACME001", "/mergePolicy", "add mergePolicy.id")]
    sarif = json.loads(cli(site, "lint", "--format", "sarif", str(payload)).stdout)
    run = sarif["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["ACME001"]
    described = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert described["ACME001"]["fullDescription"]["text"].startswith("Every export job names its merge policy.")
    # selection and ignoring work on custom ids and prefixes like on built-in ones
    assert cli(site, "lint", "--ignore", "ACME", str(payload)).returncode == 0
    assert cli(site, "lint", "--select", "ACME001", "--format", "json", str(payload)).returncode == 1


def test_replay_runs_custom_payload_and_exchange_rules(site: Path, tmp_path: Path) -> None:
    report = tmp_path / "replay.json"
    # a team's own recording (no metadata of the check's workflows): both sides are judged, requests too
    recording = json.loads((ROOT / "cassettes" / "reference" / "lifecycle.json").read_text(encoding="utf-8"))
    recording.pop("aec", None)
    team = tmp_path / "team.json"
    team.write_text(json.dumps(recording), encoding="utf-8")
    done = cli(site, "replay", "--no-playback", "--strict", "--report", f"json:{report}", str(team))
    assert done.returncode == 1, done.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    fired = {v["rule"] for v in data["violations"]}
    assert {"ACME001", "ACME002", "ACME010"} <= fired, fired
    pointers = {v["pointer"] for v in data["violations"] if v["rule"] == "ACME002"}
    # on a job answer, and on every record of a list (a list's records are jobs)
    assert "/response/body/profileInstanceId" in pointers and "/response/body/records/0/profileInstanceId" in pointers
    assert all(p.endswith("/profileInstanceId") for p in pointers)


def test_check_runs_custom_rules_on_the_answers(site: Path, tmp_path: Path) -> None:
    report = tmp_path / "check.json"
    done = cli(site, "check", "--layer", "lifecycle", "--report", f"json:{report}")
    assert done.returncode == 1, done.stdout + done.stderr
    by_rule = json.loads(report.read_text(encoding="utf-8"))["by_rule"]
    assert by_rule.get("ACME002", 0) > 0, by_rule


def test_rules_from_a_file_and_a_clash_is_a_usage_error(site: Path, tmp_path: Path) -> None:
    other = tmp_path / "more_rules.py"
    other.write_text(textwrap.dedent('''
        from aep_export_contracts import Hit, rule

        @rule("ACME001", "again", "error", contracts=("export-job",))
        def again(job):
            """The same id a second time."""
            return []
    '''), encoding="utf-8")
    payload = tmp_path / "request.json"
    payload.write_text(json.dumps(REQUEST), encoding="utf-8")
    done = cli(site, "lint", "--rules", str(other), str(payload))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "ACME001 is registered twice" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_rules_module_given_by_name(tmp_path: Path) -> None:
    (tmp_path / "team_rules.py").write_text(textwrap.dedent('''
        from aep_export_contracts import Hit, rule

        @rule("TEAM001", "named-dataset", "warning", contracts=("dataset-request",))
        def named(request):
            """Datasets carry a description."""
            if "description" not in request:
                yield Hit("/description", "no description")
    '''), encoding="utf-8")
    payload = tmp_path / "dataset.json"
    payload.write_text(json.dumps({"name": "d", "schemaRef": {"id": "x", "contentType": "y"}}), encoding="utf-8")
    done = cli(tmp_path, "lint", "--rules", "team_rules", "--strict", "--format", "json", str(payload))
    rules = {f["rule"] for f in json.loads(done.stdout)[0]["findings"]}
    assert "TEAM001" in rules and done.returncode == 1
    missing = cli(tmp_path, "lint", "--rules", "no_such_module", str(payload))
    assert missing.returncode == 2 and "cannot load rules from no_such_module" in missing.stderr


def test_a_bad_rule_declaration_says_what_is_wrong() -> None:
    from aep_export_contracts import rule
    from aep_export_contracts.rules import RuleError

    with pytest.raises(RuleError, match="unknown: export-jobs"):
        rule("ACME900", "x", "error", contracts=("export-jobs",))
    with pytest.raises(RuleError, match="severity"):
        rule("ACME901", "x", "fatal", contracts=("export-job",))
    with pytest.raises(RuleError, match="three digits"):
        rule("acme-1", "x", "error", contracts=("export-job",))
    with pytest.raises(RuleError, match="docstring"):
        rule("ACME902", "x", "error", contracts=("export-job",))(lambda job: [])
    with pytest.raises(RuleError, match="AEC201 is registered twice"):
        rule("AEC201", "x", "error", contracts=("export-job",))(_documented)
    with pytest.raises(RuleError, match="ACME903 is named 'undocumented-status-code', the name of AEC504"):
        rule("ACME903", "undocumented-status-code", "error", contracts=("export-job",))(_documented)



def _documented(job: object) -> list[object]:
    """A rule body."""
    return []


def test_a_rule_registered_in_process_runs_at_once() -> None:
    """Validators compiled before a rule was registered pick it up (the engine forgets its rule sets)."""
    from aep_export_contracts import Hit, rule, validate, validate_bytes
    from aep_export_contracts.rules import unregister

    before = validate_bytes(json.dumps(REQUEST).encode(), "export-job-request")
    assert before.findings == []

    @rule("INPROC001", "schema-name", "error", contracts=("export-job-request",))
    def schema_name(request: object) -> list[Hit]:
        """The schema is the profile schema."""
        return [Hit("/schema/name", "always")]

    try:
        assert validate_bytes(json.dumps(REQUEST).encode(), "export-job-request").rules() == {"INPROC001"}
        assert validate(REQUEST, "export-job-request").rules() == {"INPROC001"}
    finally:
        unregister("INPROC001")
    assert validate(REQUEST, "export-job-request").findings == []


def test_installed_rules_leave_the_reference_server_as_the_api_is(site: Path) -> None:
    """ACME001 refuses a create without mergePolicy; the API accepts one, and so does the reference server
    with ACME's rules installed: the server embodies the contract, not a user's policy."""
    code = textwrap.dedent('''
        import json
        from aep_export_contracts.rules import get_rule
        from aep_export_contracts.server import in_process_client
        assert get_rule("ACME001")  # installed, and loaded
        headers = {"Authorization": "Bearer aec-local-token", "x-api-key": "aec-local-key",
                   "x-gw-ims-org-id": "AEC0000000000000000000000@AdobeOrg", "x-sandbox-name": "dev"}
        with in_process_client(job_seconds=0) as client:
            answer = client.post("/data/core/ups/export/jobs", headers=headers, json=REQUEST)
        print(json.dumps({"status": answer.status_code, "body": answer.json()}))
    ''').replace("REQUEST", json.dumps(REQUEST))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200 and "ACME001" not in json.dumps(answer["body"]), answer


ACROSS = '''
    """A rule across exchanges: a job is read again (as every source's traffic does while it polls)."""
    from aep_export_contracts import Hit, rule


    @rule("ACME601", "job-read-again", "error", scope="traffic", operations=("getExportJob",))
    def job_read_again(view):
        """A job is read once in a scope: a second read is a finding (a rule a test can see fire)."""
        here = view.current
        if any(seen.exchange.path == here.exchange.path and seen.scope == here.scope for seen in view.history):
            yield Hit("/response/body/id", f"{here.exchange.path} is read again")


    @rule("ACME011", "every-answer", "warning", scope="exchange", on="any")
    def every_answer(view):
        """Every answer is seen (an exchange rule a test can see fire)."""
        yield Hit("/response/status", "seen")
'''


def test_a_users_rules_across_and_of_exchanges_fire_in_every_source(tmp_path: Path) -> None:
    rules = tmp_path / "across.py"
    rules.write_text(textwrap.dedent(ACROSS), encoding="utf-8")

    def by_rule(path: Path) -> dict[str, int]:
        data = json.loads(path.read_text(encoding="utf-8"))
        fired: dict[str, int] = {}
        for row in data["violations"] + data["warnings"]:
            fired[row["rule"]] = fired.get(row["rule"], 0) + 1
        return fired

    # check
    done = cli(None, "check", "--layer", "lifecycle", "--rules", str(rules), "--report", f"json:{tmp_path / 'check.json'}")
    assert done.returncode == 1, done.stdout + done.stderr
    fired = by_rule(tmp_path / "check.json")
    assert fired.get("ACME601", 0) > 0 and fired.get("ACME011", 0) > 0, fired
    # replay
    done = cli(None, "replay", "--no-playback", "--rules", str(rules), "--report", f"json:{tmp_path / 'replay.json'}",
               str(ROOT / "cassettes" / "reference" / "lifecycle.json"))
    assert done.returncode == 1, done.stdout + done.stderr
    fired = by_rule(tmp_path / "replay.json")
    assert fired.get("ACME601", 0) > 0 and fired.get("ACME011", 0) > 0, fired
    # proxy: a job created, then read twice
    proc = subprocess.Popen([sys.executable, "-m", "aep_export_contracts", "proxy", "--port", "0", "--rules", str(rules),
                             "--report", f"json:{tmp_path / 'proxy.json'}"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[2]
        headers = {"Authorization": "Bearer aec-local-token", "x-api-key": "aec-local-key",
                   "x-gw-ims-org-id": "ACME@AdobeOrg", "x-sandbox-name": "dev"}
        job = httpx.post(f"{url}/data/core/ups/export/jobs", headers=headers, json=REQUEST, timeout=300).json()
        for _ in range(2):
            httpx.get(f"{url}/data/core/ups/export/jobs/{job['id']}", headers=headers, timeout=300)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, out + err
    assert by_rule(tmp_path / "proxy.json") == {"ACME601": 1, "ACME011": 3}  # three exchanges, one read again


def test_a_users_rule_across_exchanges_fires_in_the_pytest_plugin(pytester: pytest.Pytester, tmp_path: Path) -> None:
    rules = tmp_path / "across.py"
    rules.write_text(textwrap.dedent(ACROSS), encoding="utf-8")
    pytester.makepyfile(
        """
        def test_recorded(aec_exchange, aec_findings):
            assert "ACME601" not in {f.rule for f in aec_findings}
        """
    )
    # in a subprocess: the rules it loads stay out of this process's registry
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--aep-cassettes={ROOT / 'cassettes' / 'reference'}",
                                           f"--aep-rules={rules}")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) > 0 and outcomes.get("passed", 0) > 0, outcomes  # the re-reads, and only they


def test_a_users_rule_that_raises_is_its_own_finding_and_leaves_the_server_as_the_api_is() -> None:
    import httpx

    from aep_export_contracts import Hit, rule, validate_bytes
    from aep_export_contracts.rules import unregister
    from aep_export_contracts.server import running_server

    @rule("RAISES001", "note-is-text", "error", contracts=("export-job-request",))
    def note_is_text(request: object) -> list[Hit]:
        """A request's note is text."""
        note = request["note"]  # type: ignore[index]  # raises on a list (and on a request without a note)
        return [] if isinstance(note, str) else [Hit("/note", "not text")]

    try:
        report = validate_bytes(b"[null, null]", "export-job-request")
        [raised] = [f for f in report.findings if f.rule == "RAISES001"]
        assert "raised TypeError" in raised.message and raised.pointer == ""
        headers = {"Authorization": "Bearer aec-local-token", "x-api-key": "aec-local-key",
                   "x-gw-ims-org-id": "ORG@AdobeOrg", "x-sandbox-name": "dev", "content-type": "application/json"}
        with running_server() as server:
            answer = httpx.post(f"{server.url}/data/core/ups/export/jobs", content=b"[null, null]", headers=headers)
        assert answer.status_code == 400 and "RAISES001" not in answer.text
    finally:
        unregister("RAISES001")
