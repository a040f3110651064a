"""The reference server: every operation and error path, isolation, paging, cancel, restart, faults."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aep_export_contracts import Exchange, validate
from aep_export_contracts.check.client import Client, Credentials, Observed
from aep_export_contracts.engine.exchange import validate_exchange
from aep_export_contracts.server import FAULTS, ReferenceServer, ServerConfig, running_server
from aep_export_contracts.server.clock import ManualClock

CREDS = Credentials("aec-local-token", "aec-local-key", "ORG1@AdobeOrg", "dev")
UNION = {"id": "https://ns.adobe.com/xdm/context/profile__union", "contentType": "application/vnd.adobe.xed+json;version=1"}
JOBS = "/data/core/ups/export/jobs"


class Api:
    """A client that also validates every exchange with the library."""

    def __init__(self, server: ReferenceServer, creds: Credentials = CREDS) -> None:
        self.server = server
        self.findings: list[Any] = []
        self.client = Client(server.url, creds, on_exchange=self._check, retries=0)

    def __enter__(self) -> Api:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        self.client.close()
        if kind is None:  # every answer it saw met the contract, unless the test took the findings it expected
            assert self.findings == [], self.findings

    def _check(self, exchange: Any) -> None:
        if exchange.path.startswith("/data/foundation/export/"):
            return  # Data Access is outside the contract's five operations
        # the server is under test: its answers are judged, not the requests a test sends wrong on purpose
        self.findings.extend(f for f in validate_exchange(exchange).failing if f.side == "server")

    def dataset(self, schema: dict[str, str] | None = None, creds: Credentials | None = None) -> str:
        r = self.client.request("POST", "/data/foundation/catalog/dataSets", credentials=creds,
                                json_body={"name": "export target", "schemaRef": schema or UNION,
                                           "fileDescription": {"persisted": True, "format": "parquet"}})
        assert r.status == 201, r.body
        return str(r.body[0].rsplit("/", 1)[-1])

    def create(self, dataset: str, creds: Credentials | None = None, **extra: Any) -> Observed:
        body = {"destination": {"datasetId": dataset}, "schema": {"name": "_xdm.context.profile"}, **extra}
        return self.client.request("POST", JOBS, json_body=body, credentials=creds)

    def get(self, job_id: Any, creds: Credentials | None = None) -> Observed:
        return self.client.request("GET", f"{JOBS}/{job_id}", credentials=creds)

    def delete(self, job_id: Any, creds: Credentials | None = None) -> Observed:
        return self.client.request("DELETE", f"{JOBS}/{job_id}", credentials=creds)

    def list(self, creds: Credentials | None = None, **params: str) -> Observed:
        return self.client.request("GET", JOBS, params=params, credentials=creds)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock: ManualClock) -> Iterator[ReferenceServer]:
    with ReferenceServer(ServerConfig(clock=clock, job_seconds=10)) as s:
        yield s


@pytest.fixture(params=["socket", "in-process"])
def either(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """A client of a fresh reference server: on a loopback socket, or in this process (the same app)."""
    if request.param == "socket":
        with running_server(job_seconds=0) as server, httpx.Client(base_url=server.url) as client:
            yield client
    else:
        from aep_export_contracts.server import in_process_client

        with in_process_client(job_seconds=0) as client:
            yield client


@pytest.fixture
def api(server: ReferenceServer) -> Iterator[Api]:
    a = Api(server)
    yield a
    a.client.close()
    assert a.findings == [], a.findings  # every answer of the clean server meets the contract


def test_lifecycle_new_processing_succeeded(api: Api, clock: ManualClock) -> None:
    dataset = api.dataset()
    created = api.create(dataset, filter={"segments": [{"segmentId": "s1"}, {"segmentId": "s2"}]},
                         destination={"datasetId": dataset, "segmentPerBatch": True})
    assert created.status == 200 and created.headers["x-location"] == f"{JOBS}/{created.body['id']}"
    job = created.body
    assert job["status"] == "NEW" and job["imsOrgId"] == CREDS.org
    assert [b["segmentId"] for b in job["destination"]["batches"]] == ["s1", "s2"]
    assert api.get(job["id"]).body["status"] == "NEW"
    clock.advance(5_000)
    assert api.get(job["id"]).body["status"] == "PROCESSING"
    clock.advance(5_000)
    done = api.get(job["id"]).body
    assert done["status"] == "SUCCEEDED"
    assert done["metrics"]["totalTime"]["totalTimeInMs"] == 10_000
    counted = 0
    for batch in done["destination"]["batches"]:
        files = api.client.request("GET", f"/data/foundation/export/batches/{batch['batchId']}/files").body["data"]
        for f in files:
            content = api.client.request("GET", f"/data/foundation/export/files/{f['dataSetFileId']}").body
            lines = content.decode().splitlines() if isinstance(content, bytes) else []
            counted += len(lines)
            assert len(lines) == f["records"]
    assert counted == done["metrics"]["totalExportedProfileCounter"]


def test_exported_batches_and_files_are_invisible_from_another_sandbox_or_org(api: Api, clock: ManualClock) -> None:
    dataset = api.dataset()
    job = api.create(dataset).body
    clock.advance(10_000)
    batch = api.get(job["id"]).body["destination"]["batchId"]
    files = api.client.request("GET", f"/data/foundation/export/batches/{batch}/files").body["data"]
    assert files
    file_path = f"/data/foundation/export/files/{files[0]['dataSetFileId']}"
    assert api.client.request("GET", file_path).status == 200
    for other in (Credentials(CREDS.token, CREDS.api_key, "ORG2@AdobeOrg", CREDS.sandbox),
                  Credentials(CREDS.token, CREDS.api_key, CREDS.org, "prod")):
        listed = api.client.request("GET", f"/data/foundation/export/batches/{batch}/files", credentials=other)
        read = api.client.request("GET", file_path, credentials=other)
        assert (listed.status, read.status) == (404, 404), (other.org, other.sandbox)


def test_export_honours_fields_and_events(api: Api, clock: ManualClock) -> None:
    dataset = api.dataset()
    job = api.create(dataset, fields="identities.id", filter={"emptyProfiles": True},
                     additionalFields={"eventList": {"fields": "eventType"}}).body
    clock.advance(10_000)
    done = api.get(job["id"]).body
    batch = done["destination"]["batchId"]
    file_id = api.client.request("GET", f"/data/foundation/export/batches/{batch}/files").body["data"][0]["dataSetFileId"]
    import json

    rows = [json.loads(x) for x in api.client.request("GET", f"/data/foundation/export/files/{file_id}").body.splitlines()]
    assert rows and all(set(r) == {"identities", "eventList"} for r in rows)
    assert all(set(e) <= {"eventType"} for r in rows for e in r["eventList"])
    plain = api.create(dataset).body
    clock.advance(10_000)
    plain_done = api.get(plain["id"]).body
    assert plain_done["metrics"]["totalExportedProfileCounter"] < done["metrics"]["totalExportedProfileCounter"]


def test_job_fails_without_a_union_dataset(api: Api, clock: ManualClock) -> None:
    missing = api.create("000000000000000000000000").body
    other = api.create(api.dataset({"id": "https://ns.adobe.com/acme/schemas/1", "contentType": UNION["contentType"]}))
    clock.advance(10_000)
    for job_id in (missing["id"], other.body["id"]):
        job = api.get(job_id).body
        assert job["status"] == "FAILED" and job["errors"] and job["destination"]["batchId"] == ""
    # the dataset on another schema is accepted by the server, and the contract warns about it (no error)
    request = {"name": "x", "schemaRef": {"id": "https://ns.adobe.com/acme/schemas/1", "contentType": UNION["contentType"]},
               "fileDescription": {"persisted": True, "format": "parquet"}}
    report = validate(request, "dataset-request")
    assert report.valid and [(f.rule, f.severity.value) for f in report.findings] == [("AEC402", "warning")]


def test_cancel_running_and_finished(api: Api, clock: ManualClock) -> None:
    dataset = api.dataset()
    job = api.create(dataset).body
    clock.advance(6_000)
    answer = api.delete(job["id"])
    assert answer.status == 200 and answer.body == {"status": True, "message": "Export job has been marked for cancelling"}
    clock.advance(10_000)
    after = api.get(job["id"]).body
    assert after["status"] == "FAILED" and "cancelled" in after["errors"][0]["msg"]
    again = api.delete(job["id"])
    assert again.status == 200 and again.body["status"] is False


def test_cancel_answers_204_when_configured(clock: ManualClock) -> None:
    with ReferenceServer(ServerConfig(clock=clock, job_seconds=10, delete_status=204)) as s, Api(s) as api:
        job = api.create(api.dataset()).body
        answer = api.delete(job["id"])
        assert answer.status == 204 and answer.body is None


def test_unknown_ids_are_404(api: Api) -> None:
    assert api.get(999_999).status == 404
    assert api.delete(999_999).status == 404
    assert api.get("abc").status == 404


def test_auth(api: Api) -> None:
    for header, status in (("Authorization", 401), ("x-api-key", 403), ("x-gw-ims-org-id", 400),
                           ("x-sandbox-name", 400)):
        r = api.client.request("GET", JOBS, drop=(header,))
        assert r.status == status, header
        assert set(r.body) == {"error_code", "message"}
    wrong = Credentials("stolen", CREDS.api_key, CREDS.org, CREDS.sandbox)
    assert api.list(creds=wrong).status == 401
    wrong_key = Credentials(CREDS.token, "nope", CREDS.org, CREDS.sandbox)
    assert api.list(creds=wrong_key).status == 403


def test_isolation_by_org_and_sandbox(api: Api, clock: ManualClock) -> None:
    dataset = api.dataset()
    job = api.create(dataset).body
    for other in (Credentials(CREDS.token, CREDS.api_key, "ORG2@AdobeOrg", CREDS.sandbox),
                  Credentials(CREDS.token, CREDS.api_key, CREDS.org, "prod")):
        assert api.get(job["id"], creds=other).status == 404
        assert api.delete(job["id"], creds=other).status == 404
        assert api.list(creds=other).body["records"] == []
        # a dataset of one sandbox does not exist in another: a job there that names it fails
        elsewhere = api.create(dataset, creds=other).body
        clock.advance(10_000)
        failed = api.get(elsewhere["id"], creds=other).body
        assert failed["status"] == "FAILED" and dataset in failed["errors"][0]["msg"]
        assert api.get(elsewhere["id"]).status == 404
    assert api.get(job["id"]).body["status"] == "SUCCEEDED"


def test_request_errors_never_500(server: ReferenceServer, api: Api) -> None:
    h = CREDS.headers()
    with httpx.Client(base_url=server.url) as raw:
        bad_json = raw.post(JOBS, content=b'{"destination": ', headers={**h, "Content-Type": "application/json"})
        assert bad_json.status_code == 400 and bad_json.json()["errors"]["400"][0]["rule"] == "AEC005"
        assert raw.post(JOBS, content=b"{}", headers={**h, "Content-Type": "text/plain"}).status_code == 415
        big = b'{"fields": "' + b"a" * (2 << 20) + b'"}'
        assert raw.post(JOBS, content=big, headers={**h, "Content-Type": "application/json"}).status_code == 413
        assert raw.put(JOBS, headers=h).status_code == 405
        assert raw.get("/nowhere", headers=h).status_code == 404
        assert raw.get(JOBS, params={"limit": "x"}, headers=h).status_code == 400
        assert raw.get(JOBS, params={"offset": "2"}, headers=h).status_code == 400
        assert raw.get(JOBS, params={"status": "DONE"}, headers=h).status_code == 400
    invalid = api.client.request("POST", JOBS, json_body={"destination": {"datasetId": "x"}, "schema": {"name": "n"},
                                                          "filter": {"fromTimestamp": "2018-10-25T13:22:04Z"}})
    assert invalid.status == 400
    [finding] = invalid.body["errors"]["400"]
    assert finding["rule"] == "AEC105" and finding["pointer"] == "/filter/fromTimestamp"
    assert api.list().body["records"] == []  # an invalid request created nothing


def _all_pages(api: Api, limit: int) -> list[int]:
    ids: list[int] = []
    params = {"limit": str(limit)}
    while True:
        page = api.list(**params).body
        ids.extend(r["id"] for r in page["records"])
        nxt = page["link"].get("next")
        if not nxt:
            return ids
        params = dict(httpx.URL(nxt).params)


def test_paging_is_consistent_under_concurrent_creation(server: ReferenceServer, clock: ManualClock) -> None:
    api = Api(server)
    dataset = api.dataset()
    first = [api.create(dataset).body["id"] for _ in range(7)]
    clock.advance(1)
    seen: list[int] = []
    params = {"limit": "2"}
    stop = threading.Event()

    def create_more() -> None:
        other = Api(server)
        while not stop.is_set():
            other.create(dataset)
            clock.advance(1)
        other.client.close()

    worker = threading.Thread(target=create_more)
    worker.start()
    try:
        while True:
            page = api.list(**params).body
            seen.extend(r["id"] for r in page["records"])
            if not page["link"].get("next"):
                break
            params = dict(httpx.URL(page["link"]["next"]).params)
    finally:
        stop.set()
        worker.join()
    assert len(seen) == len(set(seen))  # no duplicate
    assert set(first) <= set(seen)  # no gap among the jobs that existed when paging began
    assert api.findings == []


def test_status_filter_and_limit(api: Api, clock: ManualClock) -> None:
    dataset = api.dataset()
    old = api.create(dataset).body
    clock.advance(10_000)
    new = api.create(dataset).body
    assert [r["id"] for r in api.list(status="SUCCEEDED").body["records"]] == [old["id"]]
    assert [r["id"] for r in api.list(status="NEW").body["records"]] == [new["id"]]
    assert _all_pages(api, 1) == [new["id"], old["id"]]


def test_restart_with_state_loses_nothing(tmp_path: Path, clock: ManualClock) -> None:
    state = str(tmp_path / "state.sqlite")
    with ReferenceServer(ServerConfig(clock=clock, state=state, job_seconds=10)) as s, Api(s) as api:
        dataset = api.dataset()
        job = api.create(dataset).body
        clock.advance(10_000)
        batch = api.get(job["id"]).body["destination"]["batchId"]
    with ReferenceServer(ServerConfig(clock=clock, state=state, job_seconds=10)) as s, Api(s) as api:
        again = api.get(job["id"]).body
        assert again["status"] == "SUCCEEDED" and again["destination"]["batchId"] == batch
        assert api.client.request("GET", f"/data/foundation/export/batches/{batch}/files").status == 200
        second = api.create(dataset).body  # the dataset survived too
        assert second["id"] == job["id"] + 1
        clock.advance(10_000)
        assert api.get(second["id"]).body["status"] == "SUCCEEDED"


def test_rate_limit_answers_429_with_retry_after(clock: ManualClock) -> None:
    """The bucket refills by the server's clock: on a manual one, the answers are exact."""
    with ReferenceServer(ServerConfig(clock=clock, rate_limit=2.0)) as s, Api(s) as api:
        answers = [api.list() for _ in range(4)]
        assert [a.status for a in answers] == [200, 200, 429, 429]
        assert [a.headers["retry-after"] for a in answers[2:]] == ["1", "1"]
        assert answers[2].body["retryAfterMs"] == "1000"
        clock.advance(500)  # half a second buys one request at 2/s
        assert [api.list().status for _ in range(2)] == [200, 429]
        clock.advance(5_000)  # the bucket holds at most a second's worth
        assert [api.list().status for _ in range(3)] == [200, 200, 429]


def _fault_answer(fault: str) -> dict[str, Any]:
    """What a small scripted session sees from a server with one fault (and without)."""
    clock = ManualClock()
    out: dict[str, Any] = {}
    with ReferenceServer(ServerConfig(clock=clock, job_seconds=10, faults=frozenset({fault}) if fault else frozenset())) as s:
        api = Api(s)
        dataset = api.dataset()
        segs = {"segments": [{"segmentId": "s1"}, {"segmentId": "s2"}]}
        created = api.create(dataset, filter=segs, destination={"datasetId": dataset, "segmentPerBatch": True})
        out["create"] = (created.status, "x-location" in created.headers)
        jid = created.body["id"]
        for _ in range(2):
            api.create(dataset)
            clock.advance(1)
        running = api.create(dataset).body["id"]
        out["cancel"] = api.delete(running).status
        clock.advance(10_000)
        out["gets"] = [api.get(jid).body for _ in range(3)]
        out["cancelled"] = api.get(running).body.get("status")
        out["unknown"] = api.get(987654).status
        out["invalid"] = api.create(dataset, filter={"fromTimestamp": "x"}).status
        out["other-sandbox"] = api.list(creds=Credentials(CREDS.token, CREDS.api_key, CREDS.org, "other")).body
        out["no-auth"] = api.client.request("GET", JOBS, drop=("Authorization",)).status
        out["finished"] = sorted(r["id"] for r in api.list(status="SUCCEEDED").body["records"])
        out["page1"] = api.list(limit="2").body
        cursor = out["page1"]["page"]["pageOffset"]
        out["page2"] = api.list(limit="2", offset=cursor).body
        out["findings"] = sorted({f.rule for f in api.findings})
    return out


CLEAN = None


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_visibly_changes_the_answers(fault: str) -> None:
    global CLEAN
    if CLEAN is None:
        CLEAN = _fault_answer("")
    clean = CLEAN
    assert clean["findings"] == []
    faulty = _fault_answer(fault)
    changed = {k for k in clean if k not in ("findings",) and _strip(clean[k]) != _strip(faulty[k])}
    assert changed, f"fault {fault} changed nothing"


def _strip(value: Any) -> Any:
    """Drop the values that differ between any two runs (random ids)."""
    if isinstance(value, dict):
        return {k: "<varies>" if k in ("requestId", "datasetId", "dataSetId") else _strip(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def test_unknown_fault_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        ServerConfig(faults=frozenset({"nope"}))


def test_the_server_refuses_the_cursors_the_description_and_rules_refuse() -> None:
    """The description's offset pattern, rule AEC503 and the server agree (an empty offset is tolerated:
    test_the_requests_of_adobes_postman_collection_are_served)."""
    from aep_export_contracts import Exchange, validate_exchange

    headers = CREDS.headers()
    with running_server(job_seconds=0) as server:
        for offset in ("2", "1538573416687_", "x_1", "_"):
            url = f"{server.url}/data/core/ups/export/jobs?offset={offset}"
            answer = httpx.get(url, headers=headers)
            assert answer.status_code == 400, (offset, answer.text)
            sent = Exchange.make("GET", url, request_headers=headers)
            assert [(f.rule, f.pointer) for f in validate_exchange(sent).findings] == [("AEC503", "/request/query/offset")]
        assert httpx.get(f"{server.url}/data/core/ups/export/jobs?offset=1538573416687_722", headers=headers).status_code == 200


@pytest.mark.parametrize(("path", "status"), [
    ("/data/core/ups/export/jobs/99999999999999999999", 404), ("/data/core/ups/export/jobs/" + "9" * 5000, 404),
    ("/data/core/ups/export/jobs/%C2%B2", 404), ("/data/core/ups/export/jobs?limit=%C2%B2", 400),
    ("/data/core/ups/export/jobs?limit=" + "9" * 5000, 200), ("/data/core/ups/export/jobs?limit=0000", 400),
    ("/data/core/ups/export/jobs?offset=" + "9" * 5000 + "_1", 200),  # the description's pattern allows it
])
def test_a_client_mistake_is_never_a_server_error(path: str, status: int, either: httpx.Client) -> None:
    headers = CREDS.headers()
    assert either.get(path, headers=headers).status_code == status
    if "?" not in path:
        assert either.delete(path, headers=headers).status_code == status


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "CONNECT", "BREW", "PUT"])
def test_a_method_the_api_does_not_serve_is_405_json_with_allow(method: str, either: httpx.Client) -> None:
    answer = either.request(method, "/data/core/ups/export/jobs", headers=CREDS.headers())
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, POST, HEAD"
    assert answer.headers["content-type"] == "application/json" and answer.json()["error_code"] == "405000"


def test_a_lower_case_method_is_405_too() -> None:
    """Methods are case-sensitive (RFC 9110): 'get' is not GET (sent raw: HTTP clients upper-case it)."""
    import socket

    with running_server(job_seconds=0) as server:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as conn:
            conn.sendall(b"get /data/core/ups/export/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 405") and b"405000" in answer


def test_head_is_answered_where_get_is(either: httpx.Client) -> None:
    answer = either.head("/data/core/ups/export/jobs", headers=CREDS.headers())
    assert answer.status_code == 200 and answer.content == b""
    assert int(answer.headers["content-length"]) == len(either.get("/data/core/ups/export/jobs",
                                                                    headers=CREDS.headers()).content)


# ---- the HTTP edges, on a real socket ------------------------------------------------------------

def _raw(server: ReferenceServer, data: bytes, *, timeout: float = 60.0) -> bytes:
    """Send raw bytes on a fresh connection and read until the server closes it or stops talking."""
    import socket

    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as conn:
        conn.sendall(data)
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except TimeoutError:
            pass
    return answer


def _head(body: bytes, *extra: str) -> bytes:
    lines = [f"POST {JOBS} HTTP/1.1", "Host: x", "Content-Type: application/json",
             *(f"{k}: {v}" for k, v in CREDS.headers().items()), *extra, "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_a_chunked_body_is_read() -> None:
    body = json.dumps({"destination": {"datasetId": "0" * 24}, "schema": {"name": "_xdm.context.profile"}}).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:])) + b"0\r\n\r\n"
    with running_server(job_seconds=0) as server:
        answer = _raw(server, _head(chunked, "Transfer-Encoding: chunked"))
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        # the chunk bytes were the body, not a next request: exactly one job exists, and one answer came back
        assert answer.count(b"HTTP/1.1 ") == 1
        listed = httpx.get(server.url + JOBS, headers=CREDS.headers()).json()["records"]
        assert len(listed) == 1


@pytest.mark.parametrize("lengths", [("5", "7"), ("+5",), ("-1",), ("5x",)])
def test_a_conflicting_or_malformed_content_length_is_refused(lengths: tuple[str, ...]) -> None:
    with running_server(job_seconds=0) as server:
        answer = _raw(server, _head(b"{}", *(f"Content-Length: {n}" for n in lengths)))
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert httpx.get(server.url + JOBS, headers=CREDS.headers()).json()["records"] == []


def test_an_http_0_9_line_gets_a_status_line() -> None:
    with running_server(job_seconds=0) as server:
        assert _raw(server, b"GET /\r\n\r\n").startswith(b"HTTP/1.1 400")


def test_a_body_over_the_limit_is_413_for_a_client_that_writes_it_whole() -> None:
    with running_server(job_seconds=0, max_body=1000) as server:
        body = b'{"fields": "' + b"a" * 200_000 + b'"}'
        answer = _raw(server, _head(body, f"Content-Length: {len(body)}"))
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b'"PayloadTooLarge"' in answer
        # through httpx too (it writes the whole body before reading), and the connection is reusable
        with httpx.Client(base_url=server.url, headers=CREDS.headers()) as client:
            assert client.post(JOBS, content=body, headers={"Content-Type": "application/json"}).status_code == 413
            assert client.get(JOBS).status_code == 200


def test_a_body_announced_over_the_limit_to_a_client_waiting_on_100_continue_is_413_before_it_is_sent() -> None:
    """The head says 20 MiB and waits on Expect: 100-continue: the 413 comes from the head alone (it would
    otherwise wait for the read timeout's 408)."""
    with running_server(job_seconds=0, max_body=1000, read_timeout=120) as server:
        answer = _raw(server, _head(b"", "Content-Length: 20971520", "Expect: 100-continue"))
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"100 Continue" not in answer


def test_a_body_announced_over_the_limit_is_413_from_the_head_and_the_connection_stays_usable() -> None:
    """Headers alone announcing 20 MiB, no Expect: the 413 comes before any of the body (the server would
    otherwise wait for the body, and answer 408 after its read timeout); a body sent after it anyway is
    read and dropped, and the next request on the connection is answered."""
    import socket

    size = 20 << 20
    with running_server(job_seconds=0, max_body=1000, read_timeout=5) as server:
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=60) as conn:
            conn.sendall(_head(b"", f"Content-Length: {size}").replace(b"Connection: close\r\n", b""))
            answer = b""
            while b"PayloadTooLarge" not in answer and (chunk := conn.recv(65536)):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
            conn.sendall(b" " * size)
            conn.sendall(f"GET {JOBS} HTTP/1.1\r\nHost: x\r\n".encode() + b"".join(
                f"{k}: {v}\r\n".encode() for k, v in CREDS.headers().items()) + b"Connection: close\r\n\r\n")
            rest = b""
            while chunk := conn.recv(65536):
                rest += chunk
        assert rest.startswith(b"HTTP/1.1 200") and b'"records"' in rest, rest[:300]


def test_a_client_that_half_closes_after_its_request_gets_the_answer() -> None:
    import socket

    body = json.dumps({"destination": {"datasetId": "0" * 24}, "schema": {"name": "_xdm.context.profile"}}).encode()
    with running_server(job_seconds=0) as server:
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=60) as conn:
            conn.sendall(_head(body, f"Content-Length: {len(body)}").replace(b"Connection: close\r\n", b""))
            conn.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and b'"status": "NEW"' in answer, answer[:200]


def test_a_silent_or_slow_connection_is_closed_after_the_read_timeout() -> None:
    import socket

    with ReferenceServer(ServerConfig(read_timeout=0.3, idle_timeout=0.3)) as server:
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        for opening in (b"", b"GET / HTTP/1.1\r\nHost"):  # nothing at all; half a request head
            # the client's own timeout is far beyond the server's: were the connection left open, recv would
            # raise TimeoutError; an empty read is the server closing it
            with socket.create_connection((host, int(port)), timeout=60) as conn:
                conn.sendall(opening)
                assert conn.recv(100) == b""
        # a body that never arrives in full is a 408
        head = _head(b'{"a":', "Content-Length: 100")
        answer = _raw(server, head)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_an_idle_kept_alive_connection_is_closed() -> None:
    import socket

    with ReferenceServer(ServerConfig(idle_timeout=0.3, read_timeout=5)) as server:
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=60) as conn:  # recv raises if it stays open
            request = f"GET {JOBS} HTTP/1.1\r\nHost: x\r\n" + "".join(f"{k}: {v}\r\n" for k, v in CREDS.headers().items())
            conn.sendall(request.encode() + b"\r\n")
            first = conn.recv(65536)
            assert first.startswith(b"HTTP/1.1 200")
            while conn.recv(65536):
                pass


# ---- in-process: the ASGI application with no socket ------------------------------------------

def test_the_application_runs_in_process_with_the_same_answers() -> None:
    from aep_export_contracts.server import in_process_client

    clock = ManualClock()
    with in_process_client(job_seconds=10, clock=clock) as client:
        h = CREDS.headers()
        dataset = client.post("/data/foundation/catalog/dataSets", headers=h, json={
            "name": "t", "schemaRef": UNION, "fileDescription": {"persisted": True, "format": "parquet"}})
        assert dataset.status_code == 201
        dataset_id = dataset.json()[0].rsplit("/", 1)[-1]
        created = client.post(JOBS, headers=h, json={"destination": {"datasetId": dataset_id},
                                                      "schema": {"name": "_xdm.context.profile"}})
        assert created.status_code == 200 and created.headers["x-location"] == f"{JOBS}/{created.json()['id']}"
        clock.advance(10_000)
        assert client.get(f"{JOBS}/{created.json()['id']}", headers=h).json()["status"] == "SUCCEEDED"
        assert client.request("TRACE", JOBS, headers=h).status_code == 405
        assert client.get("/nowhere", headers=h).json()["error_code"] == "404000"
        head = client.head(JOBS, headers=h)
        assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0
        # the exchange meets the contract, judged by the library
        sent = Exchange.make("POST", "https://platform.adobe.io" + JOBS, request_headers=dict(created.request.headers),
                             request_body=created.request.content, status=created.status_code,
                             response_headers=dict(created.headers), response_body=created.content)
        assert validate_exchange(sent).failing == []


def test_create_app_mounts_in_a_users_async_tests() -> None:
    import anyio

    from aep_export_contracts.server import create_app

    app = create_app(job_seconds=0)

    async def main() -> int:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return (await client.get(JOBS, headers=CREDS.headers())).status_code

    try:
        assert anyio.run(main) == 200
    finally:
        app.state.api.close()


# ---- listing: a page costs its own size ------------------------------------------------------------

def test_a_page_renders_only_its_own_records(monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> None:
    from aep_export_contracts.server.api import ReferenceApi

    rendered: list[int] = []
    original = ReferenceApi.job_view

    def counting(self: ReferenceApi, row: Any, **kw: Any) -> dict[str, Any]:
        rendered.append(row.id)
        return original(self, row, **kw)

    monkeypatch.setattr(ReferenceApi, "job_view", counting)
    with ReferenceServer(ServerConfig(clock=clock, job_seconds=10)) as s, Api(s) as api:
        dataset = api.dataset()
        ids = []
        for _ in range(300):
            ids.append(api.create(dataset).body["id"])
            clock.advance(1)
        clock.advance(10_000)
        rendered.clear()
        page = api.list(limit="3").body
        assert [r["id"] for r in page["records"]] == ids[::-1][:3]
        assert sorted(rendered) == sorted(ids[-3:])  # three rendered, not three hundred
        rendered.clear()
        nxt = dict(httpx.URL(page["link"]["next"]).params)
        assert [r["id"] for r in api.list(**nxt).body["records"]] == ids[::-1][3:6]
        assert len(rendered) == 3


def test_paging_with_a_status_filter_walks_only_that_status(api: Api, clock: ManualClock) -> None:
    dataset = api.dataset()
    done = [api.create(dataset).body["id"] for _ in range(5)]
    clock.advance(10_000)
    fresh = [api.create(dataset).body["id"] for _ in range(4)]
    seen: list[int] = []
    params = {"limit": "2", "status": "SUCCEEDED"}
    while True:
        page = api.list(**params).body
        seen.extend(r["id"] for r in page["records"])
        assert all(r["status"] == "SUCCEEDED" for r in page["records"])
        if not page["link"]["next"]:
            break
        params = dict(httpx.URL(page["link"]["next"]).params)
        assert params["status"] == "SUCCEEDED"
    assert seen == done[::-1]
    assert [r["id"] for r in api.list(status="NEW").body["records"]] == fresh[::-1]


def _walk(api: Api, **params: str) -> list[int]:
    seen: list[int] = []
    while True:
        page = api.list(**params).body
        seen.extend(r["id"] for r in page["records"])
        if not page["link"]["next"]:
            return seen
        params = dict(httpx.URL(page["link"]["next"]).params)


def test_listing_walks_past_what_the_store_reads_at_once(api: Api, clock: ManualClock) -> None:
    """70 finished jobs behind 70 newer ones: more than one read of the store (64 rows) on each side, so
    a filtered page finds its matches behind a full read of others, and the whole list spans reads."""
    dataset = api.dataset()
    done = [api.create(dataset).body["id"] for _ in range(70)]
    clock.advance(10_000)
    fresh = [api.create(dataset).body["id"] for _ in range(70)]
    assert _walk(api, limit="30") == (done + fresh)[::-1]
    assert _walk(api, limit="50", status="SUCCEEDED") == done[::-1]
    assert _walk(api, limit="100", status="NEW") == fresh[::-1]


# ---- query parameters: the server refuses what rule AEC503 flags, by the description ----------------

@pytest.mark.parametrize(("path", "query", "refused"), [
    ("/data/foundation/catalog/dataSets", "requestDataSource=abc", True),
    ("/data/foundation/catalog/dataSets", "requestDataSource=true", False),
    (JOBS, "limit=0", True), (JOBS, "limit=7", False), (JOBS, "status=", False), (JOBS, "status=NEW", False),
    (JOBS, "limit=%7B%7Blimit%7D%7D", True), (JOBS, "limit=&offset=&status=", False),
    (JOBS, "offset=12_", True), (JOBS, "unknown=whatever", False), (JOBS, "status=DONE", True),
    (JOBS, "status=PROCESSING", False),
])
def test_the_server_and_rule_aec503_agree_on_query_parameters(path: str, query: str, refused: bool) -> None:
    headers = {**CREDS.headers(), "Content-Type": "application/json"}
    body = {"name": "t", "schemaRef": UNION, "fileDescription": {"persisted": True, "format": "parquet"}}
    method = "POST" if "dataSets" in path else "GET"
    with running_server(job_seconds=0) as server:
        answer = httpx.request(method, f"{server.url}{path}?{query}", headers=headers,
                               json=body if method == "POST" else None)
    assert (answer.status_code == 400) is refused, answer.text
    sent = Exchange.make(method, f"https://platform.adobe.io{path}?{query}", request_headers=headers,
                         request_body=body if method == "POST" else None)
    flagged = [f.pointer for f in validate_exchange(sent).findings if f.rule == "AEC503"]
    assert flagged == ([f"/request/query/{query.split('=')[0]}"] if refused else [])


def test_a_boolean_query_as_python_clients_write_it_is_accepted_and_warned_about(either: httpx.Client) -> None:
    """aepp's createDataSet sends requestDataSource=False (requests writes a bool so): the API accepts it."""
    from aep_export_contracts import Exchange, validate_exchange

    body = {"name": "from aepp", "schemaRef": UNION, "fileDescription": {"persisted": True, "format": "parquet"}}
    for spelling in ("False", "True", "false"):
        answer = either.post("/data/foundation/catalog/dataSets", params={"requestDataSource": spelling},
                             headers=CREDS.headers(), json=body)
        assert answer.status_code == 201, (spelling, answer.text)
        sent = Exchange.make("POST", f"https://platform.adobe.io/data/foundation/catalog/dataSets?requestDataSource={spelling}",
                             request_headers={**CREDS.headers(), "Content-Type": "application/json"}, request_body=body,
                             status=201, response_body=answer.json(),
                             response_headers={"location": answer.headers.get("location", "x")})
        rules = {(f.rule, f.severity.value) for f in validate_exchange(sent).findings}
        assert ("AEC513", "warning") in rules if spelling != "false" else not rules, (spelling, rules)
    refused = either.post("/data/foundation/catalog/dataSets", params={"requestDataSource": "no"},
                          headers=CREDS.headers(), json=body)
    assert refused.status_code == 400


def test_a_status_filter_the_docs_do_not_list_is_served_and_warned_about_on_the_client_side(
        either: httpx.Client) -> None:
    """The filter is documented for NEW, SUCCEEDED and FAILED; PROCESSING is served, with a client warning."""
    from aep_export_contracts import Exchange, validate_exchange

    verdicts = {}
    for value in ("PROCESSING", "NEW"):
        answer = either.get(JOBS, params={"status": value}, headers=CREDS.headers())
        assert answer.status_code == 200, answer.text
        sent = Exchange.make("GET", f"https://platform.adobe.io{JOBS}?status={value}", request_headers=CREDS.headers(),
                             status=200, response_body=answer.json())
        verdicts[value] = {(f.rule, f.severity.value, f.side, f.hint) for f in validate_exchange(sent).findings}
    assert verdicts == {"NEW": set(), "PROCESSING": {
        ("AEC513", "warning", "client", "send status=NEW or SUCCEEDED or FAILED")}}


def test_the_requests_of_adobes_postman_collection_are_served(either: httpx.Client) -> None:
    """As the Segmentation Service collection builds them: Accept on every request, x-profile-instance-id
    on a create, and the list's limit, offset and status sent from variables left empty."""
    from aep_export_contracts import Exchange, validate_exchange

    headers = {**CREDS.headers(), "Accept": "application/json"}
    made = either.post("/data/foundation/catalog/dataSets", headers=headers, json={
        "name": "t", "schemaRef": UNION, "fileDescription": {"persisted": True, "format": "parquet"}})
    dataset = made.json()[0].rsplit("/", 1)[-1]
    created = either.post(JOBS, headers={**headers, "x-profile-instance-id": "ups"},
                          json={"destination": {"datasetId": dataset}, "schema": {"name": "_xdm.context.profile"}})
    assert created.status_code == 200, created.text
    listed = either.get(f"{JOBS}?limit=&offset=&status=", headers=headers)
    assert listed.status_code == 200 and [r["id"] for r in listed.json()["records"]] == [created.json()["id"]]
    cancelled = either.delete(f"{JOBS}/{created.json()['id']}", headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    sent = Exchange.make("GET", f"https://platform.adobe.io{JOBS}?limit=&offset=&status=", request_headers=headers,
                         status=200, response_body=listed.json())
    found = {(f.rule, f.severity.value, f.pointer, f.hint) for f in validate_exchange(sent).findings}
    assert found == {("AEC513", "warning", f"/request/query/{key}", f"leave {key} out")
                     for key in ("limit", "offset", "status")}, found


class _TickingClock(ManualClock):
    """A clock that moves on 700 ms at every reading: two readings in one request would see two instants."""

    def _raw(self) -> int:
        self.current += 700
        return self.current


def test_a_filtered_list_sees_one_instant() -> None:
    from aep_export_contracts.server import in_process_client

    with in_process_client(job_seconds=2, clock=_TickingClock()) as client:
        made = client.post("/data/foundation/catalog/dataSets", headers=CREDS.headers(), json={
            "name": "t", "schemaRef": UNION, "fileDescription": {"persisted": True, "format": "parquet"}})
        dataset = made.json()[0].rsplit("/", 1)[-1]
        for _ in range(12):
            client.post(JOBS, headers=CREDS.headers(), json={"destination": {"datasetId": dataset},
                                                             "schema": {"name": "_xdm.context.profile"}})
        listed = 0
        for _ in range(5):
            for status in ("NEW", "PROCESSING", "SUCCEEDED"):
                records = client.get(JOBS, headers=CREDS.headers(), params={"status": status, "limit": "50"}).json()["records"]
                assert {r["status"] for r in records} <= {status}, (status, [r["status"] for r in records])
                listed += len(records)
    assert listed > 0


def test_a_thousand_filtered_lists_on_the_real_clock_hold_only_their_status() -> None:
    """Jobs of 50 ms made all along, so that some are always changing status while a list is rendered."""
    from aep_export_contracts.server import in_process_client

    with in_process_client(job_seconds=0.05) as client:
        made = client.post("/data/foundation/catalog/dataSets", headers=CREDS.headers(), json={
            "name": "t", "schemaRef": UNION, "fileDescription": {"persisted": True, "format": "parquet"}})
        dataset = made.json()[0].rsplit("/", 1)[-1]
        wrong, listed = [], 0
        for i in range(1000):
            if i % 4 == 0:
                client.post(JOBS, headers=CREDS.headers(), json={"destination": {"datasetId": dataset},
                                                                 "schema": {"name": "_xdm.context.profile"}})
            status = ("NEW", "PROCESSING", "SUCCEEDED")[i % 3]
            records = client.get(JOBS, headers=CREDS.headers(), params={"status": status, "limit": "20"}).json()["records"]
            wrong.extend((status, r["status"]) for r in records if r["status"] != status)
            listed += len(records)
    assert wrong == [] and listed > 0, wrong[:10]

