"""The live check: clean server clean, every fault detected, safe on a real target, secrets kept out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aep_export_contracts.check.check import CheckOptions, run_check
from aep_export_contracts.check.client import Client, Credentials
from aep_export_contracts.check.safety import UnsafeTarget, check_writes
from aep_export_contracts.cli import main
from aep_export_contracts.rules import all_rules
from aep_export_contracts.server import FAULTS, running_server

#: the rule that must name each fault (others may fire too)
EXPECTED = {
    "dataset-id-spelling": "AEC209",
    "seconds-timestamps": "AEC201",
    "create-201": "AEC504",
    "no-x-location": "AEC505",
    "status-backwards": "AEC601",
    "accept-invalid": "AEC606",
    "ignore-sandbox": "AEC604",
    "ignore-auth": "AEC605",
    "repeat-records": "AEC603",
    "wrong-total": "AEC202",
    "batches-object": "AEC002",
    "unknown-id-500": "AEC607",
    "list-ascending": "AEC301",
    "failed-without-errors": "AEC206",
    "cancel-ignored": "AEC608",
    "page-over-limit": "AEC512",
    "skip-records": "AEC602",
}
FAST = {"examples": 2, "job_seconds": 0.1, "virtual_time": True}
SEEN_RULES: set[str] = set()
RAN_FAULTS: set[str] = set()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_server_has_no_violation(seed: int) -> None:
    report = run_check(CheckOptions(seed=seed, strict=True, **FAST))
    assert report.ok, report.to_json()
    assert report.errors == [] and report.unstable == []
    assert {r.layer for r in report.results} == {"schema", "lifecycle", "negative"}
    assert report.methods["POST"] and report.methods["DELETE"] and report.methods["GET"]


def test_every_fault_is_known_to_the_matrix() -> None:
    assert set(EXPECTED) == set(FAULTS)


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_is_detected_and_named(fault: str) -> None:
    report = run_check(CheckOptions(fault=(fault,), strict=True, **FAST))
    assert not report.ok
    rules = set(report.by_rule())
    SEEN_RULES.update(rules)
    RAN_FAULTS.add(fault)
    assert EXPECTED[fault] in rules, rules
    violation = next(v for v in report.to_dict()["violations"] if v["rule"] == EXPECTED[fault])
    assert violation["message"] and violation["check"]


def test_every_workflow_rule_fires_in_the_matrix() -> None:
    workflow = {r.id for r in all_rules() if r.scope == "workflow"}
    # this process ran its share of the matrix already (under xdist, perhaps not all of it): run the
    # rest here, so that the answer does not depend on how the tests were shared out
    for fault in sorted(set(FAULTS) - RAN_FAULTS):
        SEEN_RULES.update(run_check(CheckOptions(fault=(fault,), strict=True, **FAST)).by_rule())
    assert workflow - SEEN_RULES == set()


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
    assert main(["check", "--base-url", "http://127.0.0.1:9"]) == 2  # no credentials
    assert main(["check", "--base-url", "http://127.0.0.1:9", "--token", "t", "--api-key", "k", "--org", "o",
                 "--sandbox", "s", "--layer", "negative"]) == 2  # nothing listens there
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "missing credentials" in err


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


def test_interrupted_run_still_cancels(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(message: str) -> None:
        if message.startswith("poll job"):
            raise KeyboardInterrupt

    with running_server(job_seconds=3600) as server:
        with pytest.raises(KeyboardInterrupt):
            run_check(CheckOptions(base_url=server.url, token="aec-local-token", api_key="aec-local-key",
                                   org="O@AdobeOrg", sandbox="dev", layer=("lifecycle",), progress=interrupt))
        jobs = _jobs(server.url)
    assert jobs and all(j["status"] == "FAILED" for j in jobs)


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


def test_with_virtual_time_the_check_waits_on_the_servers_clock() -> None:
    """Jobs that take two minutes finish within a one-second deadline: each wait advances the clock."""
    report = run_check(CheckOptions(layer=("lifecycle",), examples=1, job_seconds=120, deadline=1,
                                    virtual_time=True, strict=True))
    assert report.ok and report.unstable == [], (report.unstable, report.to_json())
    finished = [r.name for r in report.results if r.name.startswith("job reaches a terminal status")]
    assert finished and all("SUCCEEDED" in name or "FAILED" in name for name in finished)


def test_the_check_runs_the_embedded_server_in_process_without_a_socket() -> None:
    import pytest_socket

    pytest_socket.disable_socket(allow_unix_socket=True)  # the in-process portal's event loop may use a socketpair
    try:
        report = run_check(CheckOptions(layer=("lifecycle", "negative"), examples=1, virtual_time=True, strict=True))
    finally:
        pytest_socket.enable_socket()
    assert report.ok and report.errors == [] and report.exchanges > 20, report.to_json()
