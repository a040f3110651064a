"""What users read, pinned: the output of lint, check, replay, coverage and a proxy session's report.

A change to any of it fails here and shows as a diff of ``tests/__snapshots__/test_snapshots.ambr``;
when the change is meant, ``pytest tests/test_snapshots.py --snapshot-update`` writes the new output
for review with the rest of the change. The inputs are fixed (the docs' payloads, the bundled
cassettes, a seeded check of the embedded server), so the output is too.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from syrupy.assertion import SnapshotAssertion

from aep_export_contracts.cli import main
from aep_export_contracts.options import make
from aep_export_contracts.proxy import ProxyOptions, create_proxy_app
from aep_export_contracts.reporting.check_text import render_plain
from aep_export_contracts.server import IN_PROCESS_URL, InProcessTransport, create_app

ROOT = Path(__file__).parent.parent
DOCS_DIR = ROOT / "tests" / "fixtures" / "docs"
DOCS = sorted(str(p.relative_to(ROOT)) for p in DOCS_DIR.glob("*.json"))


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the paths in the output are the relative paths a user types


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    code = main(argv)
    out = capsys.readouterr().out
    return {"exit": code, "stdout": out}


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_lint(fmt: str, at_root: None, capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion) -> None:
    assert _run(["lint", "--format", fmt, *DOCS], capsys) == snapshot


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_coverage(fmt: str, at_root: None, capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion) -> None:
    assert _run(["coverage", "--format", fmt, "cassettes"], capsys) == snapshot


def test_replay(at_root: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion) -> None:
    report = tmp_path / "replay.json"
    ran = _run(["replay", "--report", f"json:{report}", "cassettes"], capsys)
    assert ran == snapshot(name="text")
    assert json.loads(report.read_text()) == snapshot(name="json")


def test_replay_of_a_file_that_is_no_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                snapshot: SnapshotAssertion, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("notes.yaml").write_text("{}\n")
    assert _run(["replay", "notes.yaml"], capsys) == snapshot


def test_check(tmp_path: Path, capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion) -> None:
    report = tmp_path / "check.json"
    ran = _run(["check", "--seed", "0", "--report", f"json:{report}"], capsys)
    assert ran == snapshot(name="text")
    assert json.loads(report.read_text()) == snapshot(name="json")


def test_check_with_a_faulty_server_at_80_columns(tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    from aep_export_contracts.check.runner import CheckOptions, run_check

    report = run_check(make(CheckOptions, {"fault": ["create-201", "lower-case-status"], "seed": 0}))
    text = render_plain(report, width=80)
    assert text == snapshot
    table = [line for line in text.splitlines() if line[:1] in "┏┃┡│└"]
    assert table and max(len(line) for line in table) <= 80


def test_a_proxy_sessions_report(snapshot: SnapshotAssertion) -> None:
    upstream = create_app(job_seconds=10, faults=frozenset({"lower-case-status"}))
    app = create_proxy_app(make(ProxyOptions, {}), upstream_app=upstream)
    headers = {"Authorization": "Bearer aec-local-token", "x-api-key": "aec-local-key", "x-gw-ims-org-id": "ACME@AdobeOrg",
               "x-sandbox-name": "dev"}
    with httpx.Client(base_url=IN_PROCESS_URL, transport=InProcessTransport(app), headers=headers) as client:
        client.get("/data/core/ups/export/jobs", params={"offset": "2"})  # the client's mistake (AEC503)
        created = client.post("/data/core/ups/export/jobs", content=(DOCS_DIR / "export-job-request.json").read_bytes(),
                              headers={"Content-Type": "application/json"})
        client.get(f"/data/core/ups/export/jobs/{created.json()['id']}")  # the server's lowercase status
    report = app.state.session.report
    upstream.state.api.close()
    assert render_plain(report, width=120) == snapshot(name="text")
    assert report.to_dict() == snapshot(name="json")
