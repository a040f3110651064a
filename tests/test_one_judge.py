"""One judge: the same exchanges get the same findings whichever source feeds them.

The check's traffic against the embedded server (clean, and with each fault) is captured as the check's
session sees it, then fed to the proxy's session and replayed from the proxy's recording of it. The
check judges the server only; the proxy and a recording judge both sides, so the server's side is
compared across all three, and both sides between the proxy and replay.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from aep_export_contracts.cassettes import replay
from aep_export_contracts.check.runner import CheckOptions, run_check
from aep_export_contracts.findings import RunReport
from aep_export_contracts.http import Exchange
from aep_export_contracts.options import make
from aep_export_contracts.proxy import ProxyOptions, ProxySession
from aep_export_contracts.server import FAULTS
from aep_export_contracts.session import Session
from spies import calls

Key = tuple[str, str | None, str]


def _judged(report: RunReport, layer: str, side: str | None = None) -> Counter[Key]:
    """(rule, side, pointer) of every failing finding the session put into the report, counted."""
    return Counter((f.rule, f.side, f.pointer) for r in report.results if r.layer == layer for f in r.findings
                   if report.policy.fails(f) and (side is None or f.side == side))


@pytest.mark.parametrize("fault", ["", *sorted(FAULTS)])
def test_check_proxy_and_replay_judge_the_same_traffic_alike(fault: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Exchange] = calls(monkeypatch, Session, "see")
    checked = run_check(make(CheckOptions, {"examples": 1, "strict": True, "fault": (fault,) if fault else ()}))
    monkeypatch.undo()
    assert seen and checked.unreachable is None

    recording = tmp_path / "session.json"
    proxy = ProxySession(make(ProxyOptions, {"strict": True, "record": str(recording)}))
    for exchange in seen:
        proxy.judge(exchange)
    proxy.write_recording()
    replayed = replay([recording], playback=False)

    by_check = _judged(checked, "contract")
    assert by_check == _judged(proxy.report, "proxy", "server") == _judged(replayed, "replay", "server"), fault
    assert _judged(proxy.report, "proxy") == _judged(replayed, "replay"), fault
    if not fault:
        assert by_check == Counter()
