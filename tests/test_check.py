"""The live check: clean server clean, every fault detected, safe on a real target, secrets kept out."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from aep_export_contracts.check.client import Client, Credentials
from aep_export_contracts.check.runner import CheckOptions, run_check
from aep_export_contracts.cli import main
from aep_export_contracts.findings import group
from aep_export_contracts.options import make
from aep_export_contracts.reporting.check_text import render_plain
from aep_export_contracts.server import running_server
from aep_export_contracts.target import UnsafeTarget, check_writes

#: the rule that must name each fault (others may fire too)
FAST = {"examples": 2, "job_seconds": 0.1}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_server_has_no_violation(seed: int) -> None:
    report = run_check(CheckOptions(seed=seed, strict=True, **FAST))
    assert report.ok, report.to_json()
    assert report.errors == [] and report.unstable == []
    assert {r.layer for r in report.results} == {"contract", "schema", "lifecycle", "negative"}
    assert report.methods["POST"] and report.methods["DELETE"] and report.methods["GET"]


def test_reports_keep_secrets_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token, key = "tok-SECRET-5f1c9e", "key-SECRET-77aa"
    with running_server(token=token, api_key=key, faults=frozenset({"wrong-total"}), job_seconds=0.1) as server:
        code = main(["check", "--base-url", server.url, "--token", token, "--api-key", key, "--org", "O@AdobeOrg",
                     "--sandbox", "dev", "--examples", "1", "--report", f"json:{tmp_path / 'r.json'}",
                     "--report", f"junit:{tmp_path / 'r.xml'}"])
    out, err = capsys.readouterr()
    assert code == 1
    for text in (out, err, (tmp_path / "r.json").read_text(), (tmp_path / "r.xml").read_text()):
        assert token not in text and key not in text and "O@AdobeOrg" not in text
    data = json.loads((tmp_path / "r.json").read_text())
    sent = data["violations"][0]["reproduction"]["headers"]
    assert data["violations"] and sent["authorization"] == sent["x-api-key"] == "***"
    assert sent["x-gw-ims-org-id"] == sent["x-sandbox-name"] == "***"  # the account is not shown either
    assert "<testsuite" in (tmp_path / "r.xml").read_text()


def test_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--examples", "1"]) == 0
    assert main(["check", "--base-url", "https://staging.example.invalid", "--read-only"]) == 2  # no credentials
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "missing credentials" in err


@pytest.mark.parametrize(("url", "cause"), [
    ("http://127.0.0.1:9", "connection refused"),
    ("http://no-such-host.invalid", "the host name does not resolve"),
])
def test_an_unreachable_target_is_one_line_naming_the_cause(url: str, cause: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--base-url", url, "--token", "t", "--api-key", "k", "--org", "o", "--sandbox", "s",
                 "--read-only"]) == 2
    out, err = capsys.readouterr()
    progress = [line for line in err.splitlines() if line.startswith("… ")]
    result = [line for line in err.splitlines() if not line.startswith("… ")]
    assert progress and all(re.match(r"… \[ *\d+\.\ds\] \S", line) for line in progress)  # plain lines off a terminal
    assert out == "" and result == [f"aep-export-contracts: error: cannot reach {url}: {cause}" + (
        " (nothing listens on that port)" if "refused" in cause else "")]


@pytest.mark.parametrize("url", ["notaurl", "http://[::1/x", "http://host:port/", "http://host:70000/", "ftp://host/"])
@pytest.mark.parametrize("command", [["check", "--base-url"], ["proxy", "--upstream"]])
def test_a_target_that_is_no_url_is_a_usage_error(command: list[str], url: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, url]) == 2
    err = capsys.readouterr().err
    assert f"{url!r} is not an http:// or https:// URL with a host" in err and len(err.splitlines()) == 1


def test_writes_need_permission_off_loopback() -> None:
    assert check_writes("http://127.0.0.1:8080", read_only=False, allow_writes=False, sandbox="prod") is True
    assert check_writes("https://staging.example.invalid", read_only=True, allow_writes=False, sandbox="s") is False
    with pytest.raises(UnsafeTarget, match="--allow-writes"):
        check_writes("https://staging.example.invalid", read_only=False, allow_writes=False, sandbox="dev")
    assert check_writes("https://staging.example.invalid", read_only=False, allow_writes=True, sandbox="dev")
    with pytest.raises(UnsafeTarget, match="prod"):
        check_writes("https://platform.adobe.io", read_only=False, allow_writes=True, sandbox="prod")


def test_unsafe_target_sends_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    import pytest_socket

    pytest_socket.disable_socket()
    try:
        code = main(["check", "--base-url", "https://platform.adobe.io", "--token", "t", "--api-key", "k", "--org", "o",
                     "--sandbox", "prod", "--allow-writes"])
    finally:
        pytest_socket.enable_socket()
    assert code == 2 and "sandbox other than 'prod'" in capsys.readouterr().err


def test_read_only_sends_only_get() -> None:
    with running_server(job_seconds=0.1) as server:
        seed_client = Client(server.url, Credentials("aec-local-token", "aec-local-key", "O@AdobeOrg", "dev"))
        seed_client.request("POST", "/data/core/ups/export/jobs",
                            json_body={"destination": {"datasetId": "d"}, "schema": {"name": "n"}})
        seed_client.close()
        report = run_check(CheckOptions(base_url=server.url, token="aec-local-token", api_key="aec-local-key",
                                        org="O@AdobeOrg", sandbox="dev", read_only=True, examples=2))
    assert set(report.methods) == {"GET"} and report.exchanges > 5
    assert report.ok, report.to_json()


def _jobs(server_url: str) -> list[dict]:
    client = Client(server_url, Credentials("aec-local-token", "aec-local-key", "O@AdobeOrg", "dev"))
    records = client.request("GET", "/data/core/ups/export/jobs", params={"limit": "500"}).body["records"]
    client.close()
    return records


def test_created_jobs_are_cancelled_at_the_end_and_budget_holds() -> None:
    with running_server(job_seconds=3600) as server:
        report = run_check(CheckOptions(base_url=server.url, token="aec-local-token", api_key="aec-local-key",
                                        org="O@AdobeOrg", sandbox="dev", max_jobs=4, deadline=0.5, examples=2,
                                        layer=("lifecycle",)))
        jobs = _jobs(server.url)
    assert 0 < len(jobs) <= 4
    assert all(j["status"] == "FAILED" for j in jobs)  # cancelled, none left running
    assert report.unstable  # jobs that never finish within the deadline are 'unstable', not violations
    assert report.ok


def test_interrupted_run_still_cancels_and_reports_what_it_saw(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(message: str) -> None:
        if message.startswith("waiting for"):
            raise KeyboardInterrupt

    with running_server(job_seconds=3600) as server:
        report = run_check(CheckOptions(base_url=server.url, token="aec-local-token", api_key="aec-local-key",
                                        org="O@AdobeOrg", sandbox="dev", layer=("lifecycle", "negative"),
                                        progress=interrupt))
        jobs = _jobs(server.url)
    assert jobs and all(j["status"] == "FAILED" for j in jobs)
    assert report.interrupted and report.exchanges > 0
    assert {r.layer for r in report.results} <= {"contract", "lifecycle"}  # no layer ran after the stop


def test_rate_limited_target_is_unstable_not_broken() -> None:
    with running_server(rate_limit=8.0, job_seconds=0.1) as server:
        report = run_check(CheckOptions(base_url=server.url, token="aec-local-token", api_key="aec-local-key",
                                        org="O@AdobeOrg", sandbox="dev", layer=("negative",)))
    assert report.ok, report.to_json()
    assert any("429" in line for line in report.unstable)


def test_pytest_plugin_check_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_contract(aec_check, aec_reference_server):
            assert aec_reference_server.url.startswith("http://127.0.0.1:")
            report = aec_check(examples=1, layer=("negative",))
            assert report.ok, report.to_json()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_pytest_plugin_in_process_client(pytester: pytest.Pytester) -> None:
    """A user's own client code, tested against the in-process server: no port, time under control."""
    pytester.makepyfile(
        """
        JOBS = "/data/core/ups/export/jobs"
        UNION = {"id": "https://ns.adobe.com/xdm/context/profile__union",
                 "contentType": "application/vnd.adobe.xed+json;version=1"}

        def test_my_client(aec_client, aec_validate):
            made = aec_client.post("/data/foundation/catalog/dataSets", json={
                "name": "t", "schemaRef": UNION, "fileDescription": {"persisted": True, "format": "parquet"}})
            dataset = made.json()[0].rsplit("/", 1)[-1]
            job = aec_client.post(JOBS, json={"destination": {"datasetId": dataset},
                                              "schema": {"name": "_xdm.context.profile"}}).json()
            assert job["status"] == "NEW"
            aec_client.clock.advance(5_000)
            assert aec_client.get(f"{JOBS}/{job['id']}").json()["status"] == "PROCESSING"
            aec_client.clock.advance(5_000)
            done = aec_client.get(f"{JOBS}/{job['id']}").json()
            assert done["status"] == "SUCCEEDED" and aec_validate(done, "export-job").valid
            listed = aec_client.get(JOBS, params={"limit": "1"}).json()
            assert [r["id"] for r in listed["records"]] == [job["id"]]

        def test_each_test_gets_a_fresh_server(aec_client):
            assert aec_client.get(JOBS).json()["records"] == []
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_pytest_plugin_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_server_per_worker(n, aec_reference_server, aec_validate):
            import httpx
            headers = {"Authorization": "Bearer aec-local-token", "x-api-key": "aec-local-key",
                       "x-gw-ims-org-id": "ORG@AdobeOrg", "x-sandbox-name": "dev"}
            body = httpx.get(aec_reference_server.url + "/data/core/ups/export/jobs", headers=headers).json()
            assert aec_validate(body, "export-job-list").valid
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=4)


def test_the_check_waits_on_the_embedded_servers_clock() -> None:
    """Jobs that take two minutes finish within a deadline of three: each wait advances the server's clock,
    and the deadline is measured on that clock, however long the machine takes."""
    report = run_check(CheckOptions(layer=("lifecycle",), examples=1, job_seconds=120, deadline=180,
                                    strict=True))
    assert report.ok and report.unstable == [], (report.unstable, report.to_json())
    finished = [r.name for r in report.results if r.name.startswith("job reaches a terminal status")]
    assert finished and all("SUCCEEDED" in name or "FAILED" in name for name in finished)


def test_a_deadline_shorter_than_the_jobs_is_missed_on_the_embedded_servers_clock() -> None:
    """The same two-minute jobs miss a one-minute deadline: the server's clock, not the machine's, decides."""
    report = run_check(CheckOptions(layer=("lifecycle",), examples=1, job_seconds=120, deadline=60,
                                    strict=True))
    missed = [u for u in report.unstable if "not finished within 60s" in u]
    assert missed and all("(last: PROCESSING)" in u or "(last: NEW)" in u for u in missed), report.unstable


def test_the_check_runs_the_embedded_server_in_process_without_a_socket() -> None:
    import pytest_socket

    pytest_socket.disable_socket(allow_unix_socket=True)  # the in-process portal's event loop may use a socketpair
    try:
        report = run_check(CheckOptions(layer=("lifecycle", "negative"), examples=1, strict=True))
    finally:
        pytest_socket.enable_socket()
    assert report.ok and report.errors == [] and report.exchanges > 20, report.to_json()


def test_the_fault_matrix_writes_each_row_when_its_run_is_done(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A row is on screen before the next fault's run starts (the whole matrix takes a while)."""
    from aep_export_contracts.check import runner as check_module

    printed_before_each_run: list[str] = []
    real = check_module.run_check

    def spy(opts: CheckOptions) -> Any:
        printed_before_each_run.append(capsys.readouterr().out)
        return real(make(CheckOptions, {**opts.__dict__}))

    monkeypatch.setattr(check_module, "run_check", spy)
    assert main(["check", "--fault-matrix", "--examples", "1",
                 "--fault", "create-201", "--fault", "wrong-total"]) == 0
    first, second = printed_before_each_run
    assert first.startswith("fault matrix:") and "create-201" not in first
    assert re.search(r"^create-201 +detected ", second, re.M)  # the first row, before the second run began
    assert re.search(r"^wrong-total +detected ", capsys.readouterr().out, re.M)


def test_a_job_whose_status_is_no_status_is_not_waited_for() -> None:
    """Lower-case statuses: the first read shows the value is not a status; each job is read once more at most."""
    report = run_check(CheckOptions(fault=("lower-case-status",), layer=("lifecycle",), examples=1,
                                    deadline=3600))
    polls = [r for r in report.results if r.name.startswith("poll ")]
    assert not [line for line in report.unstable if "not finished" in line]
    jobs = {s for r in polls for s in r.subjects}
    assert jobs and len(polls) <= len(jobs)  # one read each: no job was polled until the deadline
    [status_group] = [g for g in report.groups() if g.rule == "AEC003" and g.operation == "getExportJob"]
    assert status_group.pointer == "/response/body/status" and set(status_group.subjects) == jobs


def test_findings_on_data_already_on_the_target_are_reported_apart() -> None:
    """A job someone else made, whose answer breaks the contract, passes the run unless asked to fail it."""
    from aep_export_contracts.server import ReferenceServer, ServerConfig

    with ReferenceServer(ServerConfig(job_seconds=0)) as server:
        broken = {"destination": {"datasetId": "d" * 24}, "schema": {"name": "_xdm.context.profile"},
                  "filter": {"segments": "everyone"}}  # stored as is: the API would never have accepted it
        other = server.store.add_job("O@AdobeOrg", "dev", 1_700_000_000_000, broken, "r", None, "ups")
        options = dict(base_url=server.url, token="aec-local-token", api_key="aec-local-key", org="O@AdobeOrg",
                       sandbox="dev", layer=("lifecycle",), examples=1)
        passing = run_check(CheckOptions(**options))
        failing = run_check(CheckOptions(**options, fail_on_existing=True))
    assert passing.ok, render_plain(passing)
    [existing] = group(passing.on_existing())
    assert existing.subjects == [str(other)] and existing.rule == "AEC002"
    assert "data already on the target" in render_plain(passing)
    assert not failing.ok and {s for g in failing.groups() for s in g.subjects} == {str(other)}


def test_a_target_that_answers_404_to_everything_is_an_error_of_the_run(capsys: pytest.CaptureFixture[str],
                                                                       tmp_path: Path) -> None:
    """A base URL with a path of its own (or another service): nothing of the API was seen, so no pass."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse

    from aep_export_contracts.server.app import ThreadedServer

    async def nothing(scope: Any, receive: Any, send: Any) -> None:
        await JSONResponse({"message": "not here"}, status_code=404)(scope, receive, send)

    app = Starlette()
    app.mount("/", nothing)
    served = ThreadedServer(app).start()
    try:
        code = main(["check", "--base-url", served.url, "--layer", "lifecycle", "--report", f"json:{tmp_path / 'r.json'}"])
    finally:
        served.stop()
    err = capsys.readouterr().err
    assert code == 2, err
    first = next(line for line in err.splitlines() if not line.startswith("… "))
    assert first.startswith("aep-export-contracts: error: ") and "was 404 Not Found" in first, err
    assert "404 Not Found" in json.loads((tmp_path / "r.json").read_text())["unreachable"]


def test_credentials_refused_everywhere_are_an_error_of_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    with running_server(job_seconds=0) as server:
        code = main(["check", "--base-url", server.url, "--token", "not-the-token", "--api-key", "aec-local-key",
                     "--org", "O@AdobeOrg", "--sandbox", "dev", "--layer", "lifecycle"])
    err = capsys.readouterr().err
    assert code == 2 and "refused the credentials (401 or 403)" in err, err


def test_security_and_isolation_findings_lead_the_report() -> None:
    """A target that lets in a wrong token and shows jobs across sandboxes, and also gets timestamps wrong:
    the credentials and isolation causes come first in the groups, the text and the JSON, whatever the
    order the run met them in."""
    report = run_check(CheckOptions(fault=("seconds-timestamps", "ignore-auth", "ignore-sandbox"), **FAST))
    rules = [g.rule for g in report.groups()]
    assert {"AEC604", "AEC605"} <= set(rules) and len(set(rules)) > 2, rules
    lead = [r for r in rules if r in ("AEC604", "AEC605", "AEC509")]
    assert rules[:len(lead)] == lead, rules
    first_met = [f.rule for r in report.results for f in r.findings]
    assert first_met.index("AEC201") < min(first_met.index("AEC604"), first_met.index("AEC605")), first_met
    text = render_plain(report)
    assert text.index("AEC605") < text.index("AEC201") and text.index("AEC604") < text.index("AEC201")
    assert [g["rule"] for g in json.loads(report.to_json())["groups"]][:len(lead)] == lead


@pytest.mark.parametrize(("command", "url"), [
    (command, url) for command in (["check", "--base-url"], ["record", "--base-url"], ["proxy", "--upstream"])
    for url in ("http://svcuser:S3cretPW@127.0.0.1:1", "http://svcuser:S3cretPW@host:port/",
                "http://svcuser:S3cretPW@[::1/x")
    if command[0] != "proxy" or "127.0.0.1" not in url  # a proxy with a valid upstream starts and waits: see
])                                                      # test_proxy_hostile for its masking
def test_a_password_in_the_target_is_printed_nowhere(command: list[str], url: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    report, cassette = tmp_path / "r.json", tmp_path / "c.json"
    extra = {"check": ["--report", f"json:{report}"], "record": ["--out", str(cassette)], "proxy": []}[command[0]]
    assert main([*command, url, *extra]) == 2
    said = capsys.readouterr()
    assert "S3cretPW" not in said.out + said.err and "svcuser" not in said.out + said.err, said
    errors = [line for line in said.err.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("aep-export-contracts: error: "), said.err
    assert not report.exists() or "S3cretPW" not in report.read_text()
    assert not cassette.exists()
