"""Real clients against the reference server: aepp, the public Python client for Adobe Experience
Platform, drives a whole workflow as its authors wrote it (its own defaults, its own paths), directly
on a socket, through the validating proxy and in this process.

aepp is configured the way its documentation offers for a gateway of one's own: environment
"support", the server's URL as its endpoint and an access token. One key aepp 0.6.0 forgets to set in
that mode (``connectionType``, which it sets itself after fetching a token from IMS) is set here, as
it would stand after a fetch; nothing else about the client is changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

aepp = pytest.importorskip("aepp")
requests = pytest.importorskip("requests")

from aep_export_contracts.options import make  # noqa: E402
from aep_export_contracts.proxy import ProxyOptions, ProxySession, create_proxy_app  # noqa: E402
from aep_export_contracts.server import IN_PROCESS_URL, InProcessTransport, create_app, running_server  # noqa: E402
from aep_export_contracts.server.api import DEFAULT_API_KEY, DEFAULT_TOKEN  # noqa: E402
from aep_export_contracts.server.app import ThreadedServer  # noqa: E402

ORG = "AECTEST000000000000000000@AdobeOrg"
UNION = "https://ns.adobe.com/xdm/context/profile__union"


class _InProcessAdapter(requests.adapters.BaseAdapter):  # type: ignore[misc]
    """requests' side of an httpx transport: aepp's session sends to an application in this process."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        super().__init__()
        self._client = httpx.Client(transport=transport)

    def send(self, request: Any, **_: Any) -> Any:
        answer = self._client.request(request.method, request.url, headers=dict(request.headers),
                                      content=request.body)
        response = requests.Response()
        response.status_code, response._content = answer.status_code, answer.content
        response.headers = requests.structures.CaseInsensitiveDict(answer.headers)
        response.url, response.request, response.encoding = request.url, request, "utf-8"
        return response

    def close(self) -> None:
        self._client.close()


def _aepp_workflow(base_url: str, adapter: Any = None) -> dict[str, Any]:
    """What each of aepp's calls returned, in order: a dataset, a job through each client class, reads,
    a paged list, a filtered list, cancels and an unknown id."""
    from aepp import catalog, customerprofile, segmentation

    aepp.configure(org_id=ORG, client_id=DEFAULT_API_KEY, environment="support", endpoint=base_url,
                   accesstoken=DEFAULT_TOKEN, sandbox="prod")
    aepp.config.config_object["connectionType"] = "oauthV2"
    clients = catalog.Catalog(), customerprofile.Profile(), segmentation.Segmentation()
    if adapter is not None:
        for client in clients:
            client.connector.session.mount(base_url, adapter)
    cat, profile, segments = clients
    seen: dict[str, Any] = {"dataset": cat.createDataSet(name="aepp export target", schemaId=UNION)}
    dataset_id = seen["dataset"][0].rsplit("/", 1)[-1]
    seen["profile_job"] = profile.createExportJob(fields=["identities.id", "personalEmail.address"],
                                                  mergePolicyId="mp-aepp", datasetId=dataset_id)
    seen["segment_job"] = segments.createExport({
        "fields": "identities.id", "mergePolicy": {"id": "mp-aepp", "version": 1},
        "filter": {"segments": [{"segmentId": "b3e0d2f1-7c6a-4f8e-9d21-5a4b3c2d1e0f"}]},
        "destination": {"datasetId": dataset_id, "segmentPerBatch": False},
        "schema": {"name": "_xdm.context.profile"}})
    ids = [seen["profile_job"].get("id"), seen["segment_job"].get("id")]
    seen["read"] = [profile.getExportJob(ids[0]), segments.getExport(ids[1])]
    seen["paged"] = segments.getExportJobs(limit=1)
    seen["listed"] = profile.getExportJobs()
    seen["new"] = segments.getExportJobs(status="NEW")
    seen["cancelled"] = [segments.deleteExport(ids[1]), profile.deleteExportJob(ids[0])]
    seen["after_cancel"] = segments.getExport(ids[1])
    seen["unknown"] = segments.getExport("987654321")
    seen["ids"] = ids
    return seen


def _assert_as_aepp_expects(seen: dict[str, Any]) -> None:
    assert len(seen["dataset"]) == 1 and re.fullmatch(r"@/dataSets/[0-9a-f]{24}", seen["dataset"][0]), seen["dataset"]
    dataset_id = seen["dataset"][0].rsplit("/", 1)[-1]
    for job in (seen["profile_job"], seen["segment_job"]):
        assert isinstance(job.get("id"), int) and job["status"] == "NEW", job
        assert job["destination"]["datasetId"] == dataset_id
    assert seen["profile_job"]["fields"] == "identities.id,personalEmail.address"
    assert [job["id"] for job in seen["read"]] == seen["ids"]
    # aepp follows link.next by its offset: every job, one per page, newest first
    assert [job["id"] for job in seen["paged"]] == seen["ids"][::-1]
    assert [job["id"] for job in seen["listed"]["records"]] == seen["ids"][::-1]
    assert sorted(job["id"] for job in seen["new"]) == sorted(seen["ids"])
    assert seen["cancelled"] == [200, 200]
    assert seen["after_cancel"]["id"] == seen["ids"][1]
    assert seen["unknown"]["status"] == 404


def test_aepp_on_a_socket() -> None:
    with running_server(job_seconds=3600) as server:
        _assert_as_aepp_expects(_aepp_workflow(server.url))


def test_aepp_in_process() -> None:
    app = create_app(job_seconds=3600)
    transport = InProcessTransport(app)
    try:
        _assert_as_aepp_expects(_aepp_workflow(IN_PROCESS_URL, _InProcessAdapter(transport)))
    finally:
        transport.close()
        app.state.api.close()


@pytest.fixture
def proxied() -> Iterator[tuple[str, ProxySession]]:
    with running_server(job_seconds=3600) as upstream:
        options = make(ProxyOptions, {"upstream": upstream.url})
        session = ProxySession(options, log=lambda line: None)
        served = ThreadedServer(create_proxy_app(options, session)).start()
        try:
            yield served.url, session
        finally:
            served.stop()


def test_aepp_through_the_proxy_is_served_and_judged_clean(proxied: tuple[str, ProxySession]) -> None:
    url, session = proxied
    _assert_as_aepp_expects(_aepp_workflow(url))
    report = session.report
    assert report.exchanges == 13 and report.errors == [] and report.ok, report.to_json()
    found = {(f.rule, f.severity.value, f.pointer, f.side) for result in report.results for f in result.findings}
    # what aepp sends that the description writes otherwise: its Python spelling of a boolean
    assert found == {("AEC513", "warning", "/request/query/requestDataSource", "client")}, found
