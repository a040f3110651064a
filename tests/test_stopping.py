"""Stopping a command (SIGTERM, or SIGINT) ends it as a finished run ends: its recording and every report
hold what it saw. Each command runs in a subprocess started as a script starts a background job (SIGINT
ignored), and is stopped once it has shown, by its own output or its traffic, that it is under way."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from aep_export_contracts.cassettes import replay
from aep_export_contracts.check.runner import LOCAL_ORG, LOCAL_SANDBOX
from aep_export_contracts.server import ReferenceServer, ServerConfig, running_server
from aep_export_contracts.server.api import DEFAULT_API_KEY, DEFAULT_TOKEN

LOCAL = {"Authorization": f"Bearer {DEFAULT_TOKEN}", "x-api-key": DEFAULT_API_KEY, "x-gw-ims-org-id": LOCAL_ORG,
         "x-sandbox-name": LOCAL_SANDBOX}
JOBS = "/data/core/ups/export/jobs"
#: a safety net against a hang, far beyond what any step takes: never what decides a test
PATIENCE = 300.0


def _start(*argv: str) -> subprocess.Popen[str]:
    def background() -> None:  # as a shell starts `cmd &` from a script: SIGINT ignored
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen([sys.executable, "-m", "aep_export_contracts", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=background)


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, "the process never got under way"
        time.sleep(0.05)


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=PATIENCE)
    return out, err


def test_sigterm_ends_the_proxy_with_its_report_and_recording(tmp_path: Path) -> None:
    record, report = tmp_path / "session.har", tmp_path / "report.json"
    proc = _start("proxy", "--port", "0", "--fault", "create-201", "--record", str(record), "--report", f"json:{report}")
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[2]
        answer = httpx.post(f"{url}{JOBS}", headers=LOCAL, timeout=PATIENCE,
                            json={"destination": {"datasetId": "0" * 24}, "schema": {"name": "_xdm.context.profile"}})
        assert answer.status_code == 201
    finally:
        out, err = _stop(proc)
    assert proc.returncode == 1, (out, err)  # the verdict of the session: a violation
    assert json.loads(report.read_text())["by_rule"] == {"AEC504": 1}
    assert replay([record]).by_rule() == {"AEC504": 1} and "Traceback" not in out + err


def test_a_dead_upstream_is_an_error_of_the_proxys_run_and_its_password_is_never_shown(tmp_path: Path) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    report = tmp_path / "report.json"
    proc = _start("proxy", "--port", "0", "--upstream", f"http://svcuser:S3cretPW@127.0.0.1:{port}",
                  "--report", f"json:{report}")
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        answer = httpx.get(f"{banner.split()[2]}{JOBS}", headers=LOCAL, timeout=PATIENCE)
        assert answer.status_code == 502 and "S3cretPW" not in answer.text
    finally:
        out, err = _stop(proc)
    assert proc.returncode == 2, (out, err)
    assert err.splitlines()[0] == (f"aep-export-contracts: error: cannot reach the upstream http://127.0.0.1:{port}: "
                                   "connection refused (nothing listens on that port)"), err
    data = json.loads(report.read_text())
    assert data["ok"] is True and data["unreachable"]  # no violation seen, and still no pass
    assert "S3cretPW" not in banner + out + err + report.read_text()


def test_sigterm_ends_the_check_with_its_reports_and_cancels_its_jobs(tmp_path: Path) -> None:
    report = tmp_path / "check.json"
    with running_server(job_seconds=3600) as server:  # jobs that never finish while the check waits on them
        proc = _start("check", "--base-url", server.url, "--layer", "lifecycle", "--deadline", "3000",
                      "--report", f"json:{report}")
        try:
            assert proc.stderr is not None
            _until(lambda: "waiting for" in (proc.stderr.readline() if proc.poll() is None else "waiting for"))
        finally:
            out, err = _stop(proc)
        jobs = httpx.get(f"{server.url}{JOBS}", headers=LOCAL, params={"limit": "50"}).json()["records"]
    assert proc.returncode == 130, (out, err)
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["exchanges"] > 0
    assert jobs and all(job["status"] == "FAILED" for job in jobs)  # every job it made was cancelled


def test_sigterm_ends_record_with_a_recording_replay_reads(tmp_path: Path) -> None:
    cassette = tmp_path / "stopped.json"
    with running_server(job_seconds=3600) as server:
        proc = _start("record", "--base-url", server.url, "--out", str(cassette))
        try:
            _until(lambda: proc.poll() is not None or bool(
                httpx.get(f"{server.url}{JOBS}", headers=LOCAL, params={"limit": "1"}).json()["records"]))
        finally:
            out, err = _stop(proc)
    assert proc.returncode == 130, (out, err)
    data = json.loads(cassette.read_text())
    assert data["aec"]["interrupted"] is True and data["interactions"]
    replayed = replay([cassette])  # its workflow is not played back: it was not recorded to its end
    assert replayed.errors == [] and replayed.exchanges == len(data["interactions"]), replayed.to_json()


def _other_threads(pid: int) -> list[int]:
    return [int(task) for task in os.listdir(f"/proc/{pid}/task") if int(task) != pid]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="naming a process's threads needs /proc")
@pytest.mark.parametrize(("command", "last_line", "said"), [("serve", "state:", "stopping"),
                                                           ("proxy", "point your", "0 exchanges")])
def test_a_stop_signal_delivered_to_a_server_thread_still_stops_the_command(command: str, last_line: str,
                                                                           said: str) -> None:
    """The kernel hands a signal sent to a process to any thread that does not block it. `kill` given one of
    the server's thread ids asks it to pick that thread: the command stops all the same, with its report."""
    proc = _start(command, "--port", "0")
    try:
        assert proc.stdout is not None
        while last_line not in (line := proc.stdout.readline()):  # the whole announcement: it waits now
            assert line, "the command ended before it announced itself"
        threads = _other_threads(proc.pid)
        assert threads, "the server runs in a thread of its own"
        for thread in threads:
            os.kill(thread, signal.SIGTERM)
        out, err = proc.communicate(timeout=PATIENCE)
    finally:
        proc.kill()
    assert proc.returncode == 0 and said in out and "Traceback" not in err, (out, err)


def test_stopping_the_server_ends_its_thread_while_a_request_body_is_still_awaited() -> None:
    """A client that sends a head and then no body would hold the server for its read timeout; on stop it
    gets a grace period, then its request is cancelled, so the thread is gone once stop() returns."""
    server = ReferenceServer(ServerConfig(read_timeout=PATIENCE)).start()
    thread = server._served._thread
    assert thread is not None
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=PATIENCE) as conn:
        head = "\r\n".join([f"POST {JOBS} HTTP/1.1", f"Host: {host}", "Content-Type: application/json",
                            "Content-Length: 100", "Expect: 100-continue",
                            *(f"{k}: {v}" for k, v in LOCAL.items())])
        conn.sendall(head.encode() + b"\r\n\r\n")
        assert conn.recv(1024).startswith(b"HTTP/1.1 100 "), "the server is reading the body"
        server.stop()
    assert not thread.is_alive()
