"""Rules across the traffic: the status history of a job, what it was created with, a cancel, a walk."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aep_export_contracts import Exchange
from aep_export_contracts.engine.traffic import Traffic

BASE = "https://platform.adobe.io/data/core/ups/export/jobs"
HEADERS = {"authorization": "Bearer t", "x-api-key": "k", "x-gw-ims-org-id": "O@AdobeOrg", "x-sandbox-name": "dev"}


def _job(job_id: int, status: str, created: int = 1_700_000_000_000, dataset: str = "d" * 24) -> dict[str, Any]:
    return {"id": job_id, "status": status, "creationTime": created, "destination": {"datasetId": dataset},
            "schema": {"name": "_xdm.context.profile"}}


def _ex(method: str, url: str, status: int, body: Any = None, request: Any = None, **headers: str) -> Exchange:
    return Exchange.make(method, url, request_headers={**HEADERS, **headers}, status=status,
                         request_body=None if request is None else json.dumps(request).encode(),
                         response_body=None if body is None else json.dumps(body).encode())


def _create(job_id: int, **headers: str) -> Exchange:
    request = {"destination": {"datasetId": "d" * 24}, "schema": {"name": "_xdm.context.profile"}}
    return _ex("POST", BASE, 200, _job(job_id, "NEW"), request, **headers)


def _rules(traffic: Traffic, *exchanges: Exchange) -> list[tuple[str, str]]:
    return [(f.rule, f.pointer) for ex in exchanges for f in traffic.see(ex)]


def test_a_job_that_goes_back_is_named() -> None:
    t = Traffic()
    assert _rules(t, _create(1), _ex("GET", f"{BASE}/1", 200, _job(1, "SUCCEEDED"))) == []
    assert _rules(t, _ex("GET", f"{BASE}/1", 200, _job(1, "PROCESSING"))) == [("AEC601", "/response/body/status")]


def test_a_job_read_back_names_what_it_was_created_with() -> None:
    t = Traffic()
    found = _rules(t, _create(1), _ex("GET", f"{BASE}/1", 200, _job(1, "NEW", dataset="e" * 24)))
    assert found == [("AEC508", "/response/body/destination/datasetId")]


def test_a_cancelled_job_that_succeeds_is_named_once() -> None:
    t = Traffic()
    running = _ex("GET", f"{BASE}/1", 200, _job(1, "PROCESSING"))
    cancel = _ex("DELETE", f"{BASE}/1", 200, {"status": True, "message": "marked"})
    done = _ex("GET", f"{BASE}/1", 200, _job(1, "SUCCEEDED"))
    assert _rules(t, _create(1), running, cancel, done, done) == [("AEC608", "/response/body/status")]


def test_scopes_are_kept_apart() -> None:
    t = Traffic()
    other = {"x-gw-ims-org-id": "P@AdobeOrg"}
    assert _rules(t, _create(1), _ex("GET", f"{BASE}/1", 200, _job(1, "SUCCEEDED"), **other),
                  _ex("GET", f"{BASE}/1", 200, _job(1, "NEW"), **other)) == []


def _page(ids: list[int], nxt: str | None, created: list[int] | None = None) -> dict[str, Any]:
    created = created or [1_700_000_000_000 + i for i in ids]
    return {"records": [_job(i, "NEW", c) for i, c in zip(ids, created, strict=True)],
            "page": {"pageSize": 2}, "link": {"next": nxt or ""}}


@pytest.mark.parametrize(("pages", "expected"), [
    ([[3, 2], [1]], []),
    ([[3, 2], [2, 1]], [("AEC603", "/response/body/records/0/id")]),  # a record repeated across pages
    ([[3, 2], [3]], [("AEC603", "/response/body/records/0/id"), ("AEC603", "/response/body/records/0/id"),
                     ("AEC602", "/response/body/records")]),  # 3 again, out of order, and 1 never listed
    ([[3], [1]], [("AEC602", "/response/body/records")]),  # job 2 was created and is on no page
])
def test_a_walk_through_the_list(pages: list[list[int]], expected: list[tuple[str, str]]) -> None:
    t = Traffic()
    found = _rules(t, *(_create(i) for i in (1, 2, 3)))
    cursor = None
    for n, ids in enumerate(pages):
        last = n == len(pages) - 1
        nxt = None if last else f"/data/core/ups/export/jobs?limit=2&offset=1700000000000_{ids[-1]}"
        url = f"{BASE}?limit=2" + (f"&offset={cursor}" if cursor else "")
        found += _rules(t, _ex("GET", url, 200, _page(ids, nxt)))
        cursor = f"1700000000000_{ids[-1]}"
    assert found == expected


def test_a_page_of_no_walk_is_not_judged_for_gaps() -> None:
    t = Traffic()
    _rules(t, *(_create(i) for i in (1, 2, 3)))
    assert _rules(t, _ex("GET", f"{BASE}?limit=2&offset=1700000000000_9", 200, _page([1], None))) == []
