"""The validating proxy: a client's own traffic, judged as it passes, recorded for replay."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from aep_export_contracts.cassettes import replay, scan
from aep_export_contracts.options import make
from aep_export_contracts.proxy import VIOLATIONS_HEADER, ProxyOptions, create_proxy_app
from aep_export_contracts.proxy.sample_client import proxied_session, proxy_matrix
from aep_export_contracts.server import FAULTS, IN_PROCESS_URL, InProcessTransport, create_app
from aep_export_contracts.server.clock import ManualClock

TOKEN = "live-token-5ecret-0123456789"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "x-api-key": "aec-local-key", "x-gw-ims-org-id": "ACME@AdobeOrg",
           "x-sandbox-name": "dev"}


def test_a_clean_client_workflow_passes_clean() -> None:
    session, seen = proxied_session()
    assert session.report.ok and session.report.errors == [], session.report.to_json()
    assert set(seen["statuses"].values()) == {"SUCCEEDED"} and sorted(seen["listed"]) == sorted(seen["jobs"])
    assert seen["cancelled"] == 200 and seen["after_cancel"] == "FAILED"
    assert session.report.exchanges >= 15


# what the client's traffic can show of each fault; the others need requests a well-behaved client
# never sends (a wrong credential, another sandbox, an invalid body, an unknown id) or shapes it does
# not ask for (segments per batch)
UNSEEN = {"ignore-auth", "ignore-sandbox", "accept-invalid", "unknown-id-500", "batches-object"}


@pytest.fixture(scope="module")
def matrix() -> dict[str, list[str]]:
    return proxy_matrix(sorted(FAULTS))


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_the_proxy_names_each_fault_the_traffic_can_show(fault: str, matrix: dict[str, list[str]]) -> None:
    if fault in UNSEEN:
        assert matrix[fault] == []
    else:
        assert set(FAULTS[fault].detected_by) <= set(matrix[fault]), (fault, matrix[fault])


def test_a_violation_is_named_in_a_header_and_logged_without_credentials() -> None:
    lines: list[str] = []
    clock = ManualClock()
    upstream = create_app(job_seconds=10, clock=clock, faults=frozenset({"create-201"}), token=TOKEN)
    options = make(ProxyOptions, {})
    from aep_export_contracts.proxy import ProxySession

    session = ProxySession(options, log=lines.append)
    app = create_proxy_app(options, session, upstream_app=upstream)
    with httpx.Client(base_url=IN_PROCESS_URL, transport=InProcessTransport(app), headers=HEADERS) as client:
        answer = client.post("/data/core/ups/export/jobs", json={"destination": {"datasetId": "0" * 24},
                                                                  "schema": {"name": "_xdm.context.profile"}})
        listed = client.get("/data/core/ups/export/jobs")
    assert answer.status_code == 201 and answer.headers[VIOLATIONS_HEADER] == "AEC504"
    assert answer.json()["status"] == "NEW"  # the upstream's answer, unchanged
    assert VIOLATIONS_HEADER not in listed.headers and listed.status_code == 200
    assert lines and all(line.startswith("(server) AEC504 createExportJob /response/status: ") for line in lines)
    report = session.report.to_json()
    assert TOKEN not in report and TOKEN not in "\n".join(lines) and "ACME@AdobeOrg" not in report
    upstream.state.api.close()


def test_fail_on_violation_answers_502_with_the_violations() -> None:
    upstream = create_app(job_seconds=10, faults=frozenset({"create-201"}), token=TOKEN)
    app = create_proxy_app(make(ProxyOptions, {"fail_on_violation": True}), upstream_app=upstream)
    with httpx.Client(base_url=IN_PROCESS_URL, transport=InProcessTransport(app), headers=HEADERS) as client:
        answer = client.post("/data/core/ups/export/jobs", json={"destination": {"datasetId": "0" * 24},
                                                                  "schema": {"name": "_xdm.context.profile"}})
    body = answer.json()
    assert answer.status_code == 502 and body["title"] == "ContractViolation"
    assert [v["rule"] for v in body["violations"]] == ["AEC504"]
    upstream.state.api.close()


def _through_proxy(faults: frozenset[str] = frozenset(), **options: object) -> tuple[httpx.Client, object, object]:
    upstream = create_app(job_seconds=10, faults=faults, token=TOKEN)
    app = create_proxy_app(make(ProxyOptions, dict(options)), upstream_app=upstream)
    client = httpx.Client(base_url=IN_PROCESS_URL, transport=InProcessTransport(app), headers=HEADERS)
    return client, app, upstream


def test_the_clients_mistakes_are_client_findings_though_the_server_refused_them() -> None:
    client, app, upstream = _through_proxy()
    with client:
        without = {k: v for k, v in HEADERS.items() if k != "x-sandbox-name"}
        # send() sends the request as built: the client's default headers are not added
        no_sandbox = client.send(httpx.Request("GET", f"{IN_PROCESS_URL}/data/core/ups/export/jobs", headers=without))
        empty = client.get("/data/core/ups/export/jobs", headers={"x-sandbox-name": ""})
        paged = client.get("/data/core/ups/export/jobs", params={"offset": "2"})
    assert no_sandbox.status_code == empty.status_code == paged.status_code == 400  # the server refused each, rightly
    assert no_sandbox.headers[VIOLATIONS_HEADER] == empty.headers[VIOLATIONS_HEADER] == "AEC502"
    assert paged.headers[VIOLATIONS_HEADER] == "AEC503"
    data = app.state.session.report.to_dict()
    assert not data["ok"]
    assert {(v["rule"], v["side"], v["pointer"]) for v in data["violations"]} == {
        ("AEC502", "client", "/request/headers/x-sandbox-name"), ("AEC503", "client", "/request/query/offset")}
    assert {g["side"] for g in data["groups"]} == {"client"}
    # the side in every format: a heading in text, the case and its detail in JUnit, a property in SARIF
    from aep_export_contracts.reporting.check_text import render_plain
    from aep_export_contracts.reporting.junit import to_junit
    from aep_export_contracts.reporting.sarif import run_to_sarif

    report = app.state.session.report
    text = render_plain(report, width=200)
    assert "the client's requests:" in text and "the server's answers:" not in text
    assert text.index("the client's requests:") < text.index("AEC502 ")
    junit = to_junit(report)
    assert "at /request/headers/x-sandbox-name in listExportJobs" in junit and "side: client (the request breaks" in junit
    results = json.loads(run_to_sarif(report))["runs"][0]["results"]
    assert {r["properties"]["side"] for r in results} == {"client"}
    upstream.state.api.close()


def test_an_invalid_request_answered_with_success_is_the_servers_fault_too() -> None:
    client, _app, upstream = _through_proxy(frozenset({"accept-invalid"}), fail_on_violation=True)
    with client:
        answer = client.post("/data/core/ups/export/jobs", json={"destination": {"datasetId": "0" * 24}})
    body = answer.json()
    assert answer.status_code == 502 and body["sides"] == ["client", "server"]
    assert body["detail"].startswith("the request breaks the contract; the upstream's answer (200) breaks")
    sides = {(v["rule"], v["side"]) for v in body["violations"]}
    assert ("AEC001", "client") in sides and ("AEC507", "server") in sides
    upstream.state.api.close()


def test_fail_on_violation_answers_502_for_a_violating_answer_that_is_no_success() -> None:
    """An upstream that answers a valid request with an undocumented 418: the 502 names the server's answer."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def teapot(_request: object) -> JSONResponse:
        return JSONResponse({"title": "I'm a teapot"}, status_code=418)

    upstream = Starlette(routes=[Route("/data/core/ups/export/jobs", teapot)])
    app = create_proxy_app(make(ProxyOptions, {"fail_on_violation": True}), upstream_app=upstream)
    with httpx.Client(base_url=IN_PROCESS_URL, transport=InProcessTransport(app), headers=HEADERS) as client:
        answer = client.get("/data/core/ups/export/jobs")
        passed = make(ProxyOptions, {})  # without the option the upstream's answer goes through, named
        plain = httpx.Client(base_url=IN_PROCESS_URL, headers=HEADERS,
                             transport=InProcessTransport(create_proxy_app(passed, upstream_app=upstream)))
        through = plain.get("/data/core/ups/export/jobs")
        plain.close()
    body = answer.json()
    assert answer.status_code == 502 and body["sides"] == ["server"], body
    assert body["detail"] == "the upstream's answer (418) breaks the contract"
    assert ("AEC504", "/response/status") in {(v["rule"], v["pointer"]) for v in body["violations"]}
    assert through.status_code == 418 and "AEC504" in through.headers[VIOLATIONS_HEADER]


def test_fail_on_violation_never_blames_the_upstream_for_the_clients_mistake() -> None:
    client, _app, upstream = _through_proxy(fail_on_violation=True)
    with client:
        answer = client.post("/data/core/ups/export/jobs/12")  # cancel is DELETE: the upstream's 405 is right
    body = answer.json()
    assert answer.status_code == 502 and body["sides"] == ["client"], body
    assert body["detail"] == "the request breaks the contract" and "upstream" not in body["detail"]
    assert [(v["rule"], v["pointer"]) for v in body["violations"]] == [("AEC501", "/request/method")]
    upstream.state.api.close()


@pytest.mark.parametrize("name", ["session.json", "session.yaml", "session.har"])
def test_a_recorded_session_replays_with_the_sessions_findings(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    session, _ = proxied_session(("status-backwards",), record=str(path))
    written = session.write_recording()
    assert written == path and path.is_file()
    text = path.read_text(encoding="utf-8")
    assert "PROXYCLIENT" not in text and "aec-local-token" not in text and "{ACCESS_TOKEN}" in text
    assert scan([path]) == []
    replayed = replay([path], playback=False)
    key = lambda report: sorted((f.rule, f.pointer) for _, f in report.failing())  # noqa: E731
    assert replayed.exchanges == session.report.exchanges
    assert key(replayed) == key(session.report) and ("AEC601", "/response/body/status") in key(replayed)


def test_writes_to_a_remote_upstream_need_allow_writes() -> None:
    app = create_proxy_app(make(ProxyOptions, {"upstream": "https://staging.example.invalid"}))
    with httpx.Client(base_url=IN_PROCESS_URL, transport=InProcessTransport(app), headers=HEADERS) as client:
        refused = client.post("/data/core/ups/export/jobs", json={})
        reading = client.get("/data/core/ups/export/jobs")
    assert refused.status_code == 403 and refused.json()["title"] == "WritesNotAllowed"
    assert reading.status_code == 502 and "does not resolve" in reading.json()["detail"]  # forwarded, unreachable


def test_the_proxy_command_serves_logs_records_and_reports_on_ctrl_c(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    record, report = tmp_path / "session.har", tmp_path / "report.json"
    # started as from a terminal, where Ctrl-C reaches it (a suite run as a background job ignores SIGINT, and
    # its children would inherit that)
    proc = subprocess.Popen([sys.executable, "-m", "aep_export_contracts.cli", "proxy", "--port", "0",
                             "--fault", "create-201", "--record", str(record), "--report", f"json:{report}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("proxy at http://127.0.0.1:"), first
        url = first.split()[2]
        headers = {**HEADERS, "Authorization": "Bearer aec-local-token"}
        answer = httpx.post(f"{url}/data/core/ups/export/jobs", headers=headers, timeout=120,
                            json={"destination": {"datasetId": "0" * 24}, "schema": {"name": "_xdm.context.profile"}})
        assert answer.status_code == 201 and answer.headers[VIOLATIONS_HEADER] == "AEC504"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=300)  # a safety net for a hang, not a measure
    assert proc.returncode == 1, (out, err)
    assert "violation (server) AEC504 createExportJob /response/status" in err and "aec-local-token" not in out + err
    assert "recorded 1 exchanges" in out and "Traceback" not in out + err
    assert json.loads(report.read_text())["by_rule"] == {"AEC504": 1}
    assert replay([record]).by_rule() == {"AEC504": 1}


def test_a_bad_upstream_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from aep_export_contracts.cli import main

    assert main(["proxy", "--upstream", "notaurl"]) == 2
    assert "is not an http:// or https:// URL" in capsys.readouterr().err


def test_any_request_through_the_proxy_gets_an_answer_not_a_crash() -> None:
    """Odd paths, queries, headers and bodies: the proxy answers each (a 5xx only as its own 502)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    app = create_proxy_app(make(ProxyOptions, {}))
    client = httpx.Client(base_url=IN_PROCESS_URL, transport=InProcessTransport(app))
    printable = st.characters(min_codepoint=32, max_codepoint=126)

    @settings(max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(method=st.sampled_from(["GET", "POST", "DELETE", "PUT", "HEAD", "PATCH"]), path=st.text(max_size=30),
           query=st.text(max_size=20), body=st.binary(max_size=40),
           headers=st.dictionaries(st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12),
                                   st.text(printable, max_size=20), max_size=4))
    def send(method: str, path: str, query: str, body: bytes, headers: dict[str, str]) -> None:
        try:
            answer = client.request(method, "/data/core/ups/export/jobs/" + path, params={"q": query},
                                    headers=headers, content=body or None)
        except (httpx.InvalidURL, httpx.LocalProtocolError, UnicodeEncodeError):
            return  # the client itself refused to send it
        assert answer.status_code < 500 or answer.status_code == 502, (method, path, answer.text[:200])

    try:
        send()
    finally:
        client.close()
        app.state.embedded.state.api.close()


def test_an_in_process_transport_left_open_stops_quietly_at_exit() -> None:
    import subprocess
    import sys

    code = "from aep_export_contracts.server import create_app, InProcessTransport; t = InProcessTransport(create_app())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr


SCOPE = {"Authorization": f"Bearer {TOKEN}", "x-api-key": "aec-local-key", "x-gw-ims-org-id": "Z1Y2X3W4@AdobeOrg",
         "x-sandbox-name": "team-sbx-7"}
OTHER_SCOPE = {**SCOPE, "x-gw-ims-org-id": "Q9Q9Q9Q9@AdobeOrg", "x-sandbox-name": "other-sbx-3"}
CLEAR = (TOKEN, "aec-local-key", "Z1Y2X3W4", "team-sbx-7", "Q9Q9Q9Q9", "other-sbx-3")


def _session_without_auth_first(tmp_path: Path) -> tuple[Path, list[dict[str, object]]]:
    client, app, upstream = _through_proxy(record=str(tmp_path / "session.yaml"))
    with client:
        bare = httpx.Request("GET", f"{IN_PROCESS_URL}/data/core/ups/export/jobs")  # no credentials, no scope
        client.send(bare)
        client.get("/data/core/ups/export/jobs", headers=SCOPE)
        client.get("/data/core/ups/export/jobs", headers=OTHER_SCOPE)
        client.get("/data/core/ups/export/jobs/12345", headers=SCOPE)
    session = app.state.session
    path = session.write_recording()
    upstream.state.api.close()
    return path, session.interactions


def test_a_session_that_starts_without_credentials_leaves_no_scope_in_clear_text(tmp_path: Path) -> None:
    path, _ = _session_without_auth_first(tmp_path)
    text = path.read_text()
    assert [value for value in CLEAR if value in text] == []
    assert "{IMS_ORG}" in text and "{SANDBOX_NAME}" in text and "{IMS_ORG_2}" in text and "{SANDBOX_NAME_2}" in text
    assert scan([path]) == []  # the secret scan agrees


def test_scrubbing_does_not_depend_on_the_order_of_the_exchanges(tmp_path: Path) -> None:
    import itertools

    from aep_export_contracts.cassettes import Scrubber

    _, interactions = _session_without_auth_first(tmp_path)
    for order in itertools.permutations(interactions):
        scrubber = Scrubber.of(list(order))
        text = json.dumps([scrubber.interaction(item) for item in order])
        assert [value for value in CLEAR if value in text] == [], [i["request"]["headers"] for i in order]
