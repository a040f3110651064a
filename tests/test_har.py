"""HAR files are recordings: read as exported by real tools, replayed like cassettes, scanned for credentials."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from aep_export_contracts.cassettes import load_exchanges, replay, scan, to_har
from aep_export_contracts.cli import main

ROOT = Path(__file__).parents[1]
REFERENCE = ROOT / "cassettes" / "reference" / "lifecycle.json"
DOCS = ROOT / "cassettes" / "docs" / "tutorial.yaml"
JOBS = "https://platform.adobe.io/data/core/ups/export/jobs"


def _devtools_har(token: str = "Bearer {ACCESS_TOKEN}") -> dict:
    """What a browser's developer tools export: pages, timings, cookies, initiators, base64 bodies, and an
    entry the browser blocked (status 0: no answer)."""
    listing = {"records": [], "page": {"sortField": "createdTime", "sort": "desc", "pageOffset": "", "pageSize": 2},
               "link": {"next": ""}}
    return {"log": {
        "version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
        "pages": [{"startedDateTime": "2026-11-30T10:00:00.000Z", "id": "page_1", "title": "app", "pageTimings": {}}],
        "entries": [{
            "_initiator": {"type": "script"}, "_priority": "High", "_resourceType": "fetch", "pageref": "page_1",
            "startedDateTime": "2026-11-30T10:00:01.000Z", "time": 120.5, "serverIPAddress": "[::1]",
            "request": {"method": "GET", "url": f"{JOBS}?limit=2", "httpVersion": "http/2.0",
                        "headers": [{"name": ":authority", "value": "platform.adobe.io"},
                                    {"name": "authorization", "value": token},
                                    {"name": "x-api-key", "value": "{API_KEY}"},
                                    {"name": "x-gw-ims-org-id", "value": "{IMS_ORG}"},
                                    {"name": "x-sandbox-name", "value": "dev"}],
                        "queryString": [{"name": "limit", "value": "2"}], "cookies": [], "headersSize": -1,
                        "bodySize": 0},
            "response": {"status": 200, "statusText": "", "httpVersion": "http/2.0",
                         "headers": [{"name": "content-type", "value": "application/json"}], "cookies": [],
                         "content": {"size": 90, "mimeType": "application/json", "encoding": "base64",
                                     "text": base64.b64encode(json.dumps(listing).encode()).decode()},
                         "redirectURL": "", "headersSize": -1, "bodySize": -1, "_transferSize": 400},
            "cache": {}, "timings": {"blocked": 1, "dns": -1, "send": 0, "wait": 100, "receive": 2},
        }, {
            "startedDateTime": "2026-11-30T10:00:02.000Z", "time": 0,
            "request": {"method": "GET", "url": f"{JOBS}/1", "httpVersion": "http/2.0", "headers": [
                {"name": "authorization", "value": "Bearer {ACCESS_TOKEN}"}, {"name": "x-api-key", "value": "{API_KEY}"},
                {"name": "x-gw-ims-org-id", "value": "{IMS_ORG}"}, {"name": "x-sandbox-name", "value": "dev"}],
                        "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
            "response": {"status": 0, "statusText": "", "httpVersion": "", "headers": [], "cookies": [],
                         "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "", "headersSize": -1,
                         "bodySize": -1, "_error": "net::ERR_BLOCKED_BY_CLIENT"},
            "cache": {}, "timings": {"send": 0, "wait": 0, "receive": 0}}]}}


def test_a_developer_tools_export_loads(tmp_path: Path) -> None:
    har = tmp_path / "session.har"
    har.write_text(json.dumps(_devtools_har(), indent=2), encoding="utf-8")
    [(name, listed), (_, blocked)] = list(load_exchanges([tmp_path]))
    assert name == "session.har#0" and listed.status == 200 and json.loads(listed.response_body)["records"] == []
    assert listed.request_headers["x-sandbox-name"] == "dev" and blocked.status is None  # no answer recorded
    report = replay([har])
    assert report.exchanges == 2 and report.errors == [] and report.ok, report.to_json()


def test_a_har_replays_with_the_same_findings_as_its_cassette(tmp_path: Path) -> None:
    for source in (REFERENCE, DOCS):
        as_cassette = replay([source], playback=False)
        data = json.loads(source.read_text()) if source.suffix == ".json" else __import__("yaml").safe_load(
            source.read_text())
        har = tmp_path / f"{source.stem}.har"
        # the recording's metadata travels with it (the reference one was made by the check's workflows, whose
        # requests are invalid on purpose: only the server is judged); the tutorial's annotations are left out
        meta = {k: v for k, v in (data.get("aec") or {}).items() if k != "expected"}
        har.write_text(json.dumps(to_har(data["interactions"], meta)), encoding="utf-8")
        as_har = replay([har])
        assert as_har.exchanges == as_cassette.exchanges
        # the tutorial's annotations live in its cassette: without them, the HAR shows exactly the annotated faults
        annotated = sorted((e["interaction"], e["rule"], e["pointer"]) for e in (data.get("aec") or {}).get("expected", []))
        found = sorted((int(r.name.split("#")[1].split()[0]), f.rule, f.pointer) for r, f in as_har.failing())
        kept = sorted((int(r.name.split("#")[1].split()[0]), f.rule, f.pointer) for r, f in as_cassette.failing())
        assert found == sorted(annotated + kept), source.name


def test_scan_finds_credentials_in_a_har_by_header_name(tmp_path: Path) -> None:
    leaky = _devtools_har(token="Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl")
    leaky["log"]["entries"][0]["request"]["headers"][2]["value"] = "acme-live-key-0123456789"
    (tmp_path / "leaky.har").write_text(json.dumps(leaky, indent=2), encoding="utf-8")
    (tmp_path / "clean.har").write_text(json.dumps(_devtools_har(), indent=2), encoding="utf-8")
    hits = scan([tmp_path])
    assert {Path(h.path).name for h in hits} == {"leaky.har"}
    kinds = {k for h in hits for k in h.kind.split(", ")}
    assert {"authorization header in a HAR file", "x-api-key header in a HAR file"} <= kinds
    assert main(["scan", str(tmp_path)]) == 1


def test_a_broken_har_is_one_error_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "broken.har").write_text(json.dumps({"log": {"entries": [{"request": {}}]}}), encoding="utf-8")
    assert main(["replay", str(tmp_path / "broken.har")]) == 2
    errors = [line for line in capsys.readouterr().out.splitlines() if "error:" in line]
    assert len(errors) == 1 and "entry 0 has no request URL" in errors[0]


def test_a_proxied_sessions_har_carries_each_exchanges_real_time_and_reads_in_haralyzer(tmp_path: Path) -> None:
    import time
    from datetime import datetime

    from haralyzer import HarParser

    from aep_export_contracts.proxy.sample_client import proxied_session
    from consumers import har_schema_valid

    before = time.time()
    session, _ = proxied_session(record=str(tmp_path / "session.har"))
    after = time.time()
    har = json.loads(session.write_recording().read_text())
    assert har_schema_valid(har)
    entries = har["log"]["entries"]
    starts = [datetime.fromisoformat(e["startedDateTime"].replace("Z", "+00:00")).timestamp() for e in entries]
    assert all(before - 0.001 <= s <= after + 0.001 for s in starts), (before, starts[:3], after)
    assert starts == sorted(starts)  # in the order they were sent
    assert all(e["time"] >= 0 and e["time"] == e["timings"]["wait"] for e in entries)
    assert any(e["time"] > 0 for e in entries)
    parser = HarParser(har)  # a HAR consumer: it reads the client and the page the entries belong to
    assert parser.browser["name"] == "python-httpx"
    parser.hostname  # noqa: B018  (it raised without pages; it reads a header spelled "Host", ASGI gives "host")
    assert parser.pages[0].url == entries[0]["request"]["url"]
    assert [p.page_id for p in parser.pages] == ["session"] and len(parser.pages[0].entries) == len(entries)
