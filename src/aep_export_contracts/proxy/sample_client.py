"""A small client of the Export Jobs API, as an application would be: the traffic a proxy judges.

It creates a target dataset and a few jobs, polls them to the end, pages through the list, reads the
list of finished jobs, cancels a job that is still running and reads it back. ``wait(seconds)`` is how
it lets time pass (a real sleep, or a reference server's manual clock moved on).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from ..rules.dataset import PROFILE_UNION_IDS, XED_CONTENT_TYPE
from ..spec.api import JOB_STATUSES, PATHS

__all__ = ["client_workflow"]


def client_workflow(client: httpx.Client, wait: Callable[[float], None] = time.sleep, *, jobs: int = 3,
                    page_size: int = 2, deadline: float = 60.0) -> dict[str, Any]:
    """Run the workflow through ``client`` (its base URL and credentials set); what it saw, for a test."""
    made = client.post(PATHS.datasets, json={
        "name": "proxied client", "schemaRef": {"id": PROFILE_UNION_IDS[0], "contentType": XED_CONTENT_TYPE},
        "fileDescription": {"persisted": True, "containerFormat": "parquet", "format": "parquet"}})
    dataset = made.json()[0].rsplit("/", 1)[-1] if made.status_code == 201 else "0" * 24
    request = {"destination": {"datasetId": dataset}, "schema": {"name": "_xdm.context.profile"}}
    created = [client.post(PATHS.jobs, json=request).json().get("id") for _ in range(jobs)]
    ids = [i for i in created if i is not None]
    statuses: dict[Any, str] = {}
    waited = 0.0
    while waited <= deadline:
        for job_id in ids:
            if statuses.get(job_id) not in JOB_STATUSES.terminal:
                statuses[job_id] = str(client.get(PATHS.of_job(job_id)).json().get("status"))
        if all(statuses.get(i) in JOB_STATUSES.terminal for i in ids):
            break
        wait(1.0)
        waited += 1.0
    for job_id in ids:  # a finished job read once more
        client.get(PATHS.of_job(job_id))
    listed: list[Any] = []
    params: dict[str, str] = {"limit": str(page_size)}
    for _ in range(100):
        page = client.get(PATHS.jobs, params=params).json()
        listed += [r.get("id") for r in page.get("records", [])]
        nxt = (page.get("link") or {}).get("next")
        if not nxt:
            break
        params = dict(httpx.URL(nxt).params)
    cancel_me = client.post(PATHS.jobs, json=request).json().get("id")
    # the finished jobs, while one is new
    client.get(PATHS.jobs, params={"limit": str(jobs + 1), "status": JOB_STATUSES.succeeded})
    cancelled = client.delete(PATHS.of_job(cancel_me)).status_code if cancel_me is not None else None
    wait(60.0)
    after = client.get(PATHS.of_job(cancel_me)).json().get("status") if cancel_me is not None else None
    return {"jobs": ids, "statuses": statuses, "listed": listed, "cancelled": cancelled, "after_cancel": after}


def proxied_session(faults: tuple[str, ...] = (), **options: Any) -> tuple[Any, dict[str, Any]]:
    """Run ``client_workflow`` through a proxy in front of a reference server with ``faults``, all in this
    process and on a manual clock: (the proxy's session, what the client saw)."""
    from ..options import make
    from ..server import IN_PROCESS_URL, InProcessTransport, ServerConfig, create_app
    from ..server.api import DEFAULT_API_KEY, DEFAULT_TOKEN
    from ..server.clock import ManualClock
    from ..spec.api import HEADERS
    from . import ProxyOptions, create_proxy_app

    clock = ManualClock()
    upstream = create_app(ServerConfig(faults=frozenset(faults), job_seconds=10, clock=clock))
    app = create_proxy_app(make(ProxyOptions, options), upstream_app=upstream)
    transport = InProcessTransport(app)
    headers = {HEADERS.authorization: HEADERS.bearer_prefix + DEFAULT_TOKEN, HEADERS.api_key: DEFAULT_API_KEY,
               HEADERS.org: "PROXYCLIENT00000000000000@AdobeOrg", HEADERS.sandbox: "dev"}
    try:
        with httpx.Client(base_url=IN_PROCESS_URL, transport=transport, headers=headers) as client:
            seen = client_workflow(client, lambda seconds: clock.advance(int(seconds * 1000)))
    finally:
        transport.close()
        upstream.state.api.close()
    return app.state.session, seen


def proxy_matrix(faults: list[str]) -> dict[str, list[str]]:
    """For each fault, the rules the proxy (strict) names on the client workflow's traffic; [] when unseen."""
    return {fault: sorted(proxied_session((fault,), strict=True)[0].report.by_rule()) for fault in faults}
