"""replay, lint and drift on a Dask cluster: the same report as one process, and nothing lost with a worker."""

from __future__ import annotations

import contextlib
import copy
import json
import os
from itertools import permutations
from pathlib import Path

import pytest

from aep_export_contracts.cli import main
from aep_export_contracts.findings import Policy
from aep_export_contracts.generation.strategies import dumps, generate
from aep_export_contracts.scale import cluster, merge_replays, partitions, replay_partition, run_partitions
from conftest import write_overlay

pytest.importorskip("distributed")

ROOT = Path(__file__).parents[1]
REFERENCE = json.loads((ROOT / "cassettes" / "reference" / "lifecycle.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few hundred recordings (runs of the reference lifecycle's interactions, some answers broken or drifted)
    and a few hundred payload files (valid and invalid)."""
    root = tmp_path_factory.mktemp("archive")
    (root / "recordings").mkdir()
    (root / "payloads").mkdir()
    interactions = REFERENCE["interactions"]
    for n in range(240):
        chosen = copy.deepcopy(interactions[n % len(interactions): n % len(interactions) + 1 + n % 3])
        for it in chosen:
            body = it["response"]["body"].get("string")
            if n % 7 == 0 and body and body.startswith("{") and "\n" not in body.strip():  # a JSON object, not lines
                data = json.loads(body)
                data["status"] = "ARCHIVED" if n % 14 == 0 else data.get("status")
                data["note"] = f"drift {n % 5}"
                it["response"]["body"]["string"] = json.dumps(data)
        (root / "recordings" / f"r{n:03}.json").write_text(json.dumps({"version": 1, "interactions": chosen}))
    for i, item in enumerate(generate("export-job-request", 120, seed=5)):
        (root / "payloads" / f"ok{i:03}.json").write_text(dumps(item["payload"]))
    for i, item in enumerate(generate("export-job", 120, seed=6, invalid=True)):
        text = item.get("payload_text") or dumps(item["payload"])
        (root / "payloads" / f"bad{i:03}.json").write_text(text)
    return root


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().out


def test_replay_on_two_workers_writes_the_single_process_report(archive: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    recordings = str(archive / "recordings")
    alone, spread = tmp_path / "alone.json", tmp_path / "spread.json"
    code_alone, _ = _run(capsys, ["replay", "--no-playback", "--report", f"json:{alone}", recordings])
    code_spread, _ = _run(capsys, ["replay", "--no-playback", "--scheduler", "local:2", "--report", f"json:{spread}",
                                   recordings])
    first, second = json.loads(alone.read_text()), json.loads(spread.read_text())
    assert first["exchanges"] > 400 and first["violations"] and first["drift"]["departures"]
    assert second == first and code_spread == code_alone == 1


def test_lint_on_two_workers_prints_the_single_process_report(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in (archive / "payloads").iterdir())
    code_alone, alone = _run(capsys, ["lint", "--format", "json", *files])
    code_spread, spread = _run(capsys, ["lint", "--format", "json", "--scheduler", "local:2", *files])
    rows = json.loads(alone)
    assert len(rows) == 240 and any(not r["valid"] for r in rows) and any(r["valid"] for r in rows)
    assert json.loads(spread) == rows and code_spread == code_alone


def test_drift_on_two_workers_prints_the_single_process_report(archive: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    recordings = str(archive / "recordings")
    code_alone, alone = _run(capsys, ["drift", "--format", "json", recordings])
    code_spread, spread = _run(capsys, ["drift", "--format", "json", "--scheduler", "local:2", recordings])
    found = json.loads(alone)
    assert {d["kind"] for d in found["departures"]} >= {"property", "enum", "unseen"}
    assert json.loads(spread) == found and code_spread == code_alone == 0


def test_the_merge_is_order_independent_and_associative(archive: Path) -> None:
    files = sorted((archive / "recordings").iterdir())[:60]
    policy = Policy.make(strict=True)
    parts = [(i, replay_partition(part, policy)) for i, part in enumerate(partitions(files, 1, per_worker=3))]
    assert len(parts) == 3
    expected = merge_replays(parts, "archive", policy).to_dict()
    for order in permutations(parts):  # partial reports arriving in any order
        assert merge_replays([(i, copy.deepcopy(p)) for i, p in order], "archive", policy).to_dict() == expected
    a, b, c = (copy.deepcopy(p) for _, p in parts)
    left = merge_replays([(0, merge_replays([(0, a), (1, b)], "archive", policy)), (1, c)], "archive", policy)
    a, b, c = (copy.deepcopy(p) for _, p in parts)
    right = merge_replays([(0, a), (1, merge_replays([(0, b), (1, c)], "archive", policy))], "archive", policy)
    assert left.to_dict() == right.to_dict() == expected
    whole = merge_replays([(0, replay_partition(files, policy))], "archive", policy)
    assert whole.to_dict() == expected  # and equal to one partition of everything


def test_partitions_are_runs_of_the_inputs_in_order() -> None:
    items = list(range(23))
    parts = partitions(items, 2)
    assert [x for part in parts for x in part] == items and len(parts) == 8 and all(parts)
    assert partitions([], 4) == [] and partitions([1], 4) == [[1]]


def test_a_worker_that_dies_mid_run_loses_and_doubles_nothing(archive: Path) -> None:
    files = sorted((archive / "recordings").iterdir())
    policy = Policy.make(strict=True)
    expected = merge_replays([(0, replay_partition(files, policy))], "archive", policy).to_dict()
    killed: list[str] = []
    with cluster("local:2") as client:
        def kill_one(done: int, total: int, seconds: float) -> None:
            if not killed:  # after the first partition: one worker process dies, its tasks go to the other
                victim = sorted(client.scheduler_info()["workers"])[0]
                killed.append(victim)
                with contextlib.suppress(Exception):  # the worker dies before it answers
                    client.run(os._exit, 1, workers=[victim])
        found = run_partitions(client, replay_partition, partitions(files, 2), policy, False, progress=kill_one)
    assert killed
    merged = merge_replays(list(enumerate(found)), "archive", policy).to_dict()
    assert merged == expected


def test_a_scheduler_that_cannot_be_had_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--no-playback", "--scheduler", "local:zero", str(ROOT / "cassettes")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "local: takes a number of worker processes" in err[0]


def test_inputs_by_url_are_read_through_fsspec_on_every_worker(archive: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """file:// here; s3://, gs:// and the rest where their fsspec filesystems are installed."""
    from consumers import sarif_schema_valid

    url = (archive / "recordings").as_uri()
    by_path, by_url, spread = tmp_path / "path.json", tmp_path / "url.json", tmp_path / "spread.json"
    assert main(["replay", "--no-playback", "--report", f"json:{by_path}", str(archive / "recordings")]) == 1
    assert main(["replay", "--no-playback", "--report", f"json:{by_url}", "--report", f"sarif:{tmp_path / 'u.sarif'}",
                 url]) == 1
    assert main(["replay", "--no-playback", "--scheduler", "local:2", "--report", f"json:{spread}", url]) == 1
    capsys.readouterr()
    first, second = json.loads(by_path.read_text()), json.loads(by_url.read_text())
    assert second["exchanges"] == first["exchanges"] and len(second["violations"]) == len(first["violations"])
    assert json.loads(spread.read_text()) == second
    assert sarif_schema_valid(json.loads((tmp_path / "u.sarif").read_text()))
    payloads = (archive / "payloads").as_uri() + "/*.json"
    code, alone = _run(capsys, ["lint", "--format", "json", payloads])
    code_spread, spread_out = _run(capsys, ["lint", "--format", "json", "--scheduler", "local:2", payloads])
    rows = json.loads(alone)
    assert len(rows) == 240 and rows[0]["file"].startswith("file://") and json.loads(spread_out) == rows
    assert code == code_spread  # (2: some generated payloads are not JSON at all)
    _, found = _run(capsys, ["drift", "--format", "json", url])
    assert json.loads(found)["exchanges"] > 400
    assert main(["replay", "--no-playback", (archive / "nothing-here").as_uri()]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_a_json_lines_file_is_linted_in_ranges_and_reported_line_by_line(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    lines = [dumps(item["payload"]) for item in generate("export-job", 150, seed=9)]
    lines += [item.get("payload_text") or dumps(item["payload"]) for item in generate("export-job", 150, seed=8,
                                                                                       invalid=True)]
    lines = [line for line in lines if "\n" not in line]
    lines.insert(7, "")  # a blank line is no payload, and still counts as a line
    path = tmp_path / "payloads.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, alone = _run(capsys, ["lint", "--format", "json", "--contract", "export-job", str(path)])
    rows = json.loads(alone)
    assert len(rows) == len(lines) - 1 and [r["file"] for r in rows[6:8]] == [f"{path}:7", f"{path}:9"]
    for row in rows[::37]:  # each row is its own line's verdict
        number = int(row["file"].rsplit(":", 1)[1])
        single = tmp_path / "one.json"
        single.write_text(lines[number - 1], encoding="utf-8")
        main(["lint", "--format", "json", "--contract", "export-job", str(single)])
        assert json.loads(capsys.readouterr().out)[0]["findings"] == row["findings"]
    code_spread, spread = _run(capsys, ["lint", "--format", "json", "--contract", "export-job", "--scheduler", "local:2",
                                        str(path)])
    code_pool, pool = _run(capsys, ["lint", "--format", "json", "--contract", "export-job", "--workers", "2", str(path),
                                    str(path)])
    assert json.loads(spread) == rows and code_spread == code
    assert json.loads(pool) == rows + rows and code_pool == code


def test_workers_judge_with_this_processs_rules_and_overlay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A rule module given with --rules, and the overlay in use, reach every worker: the same report."""
    rules = tmp_path / "team_rules.py"
    rules.write_text(
        "from aep_export_contracts import Hit, rule\n\n\n"
        "@rule('SCALE001', 'team-note-says-why', 'error', contracts=('export-job-request',))\n"
        "def team_note(request):\n"
        "    \"\"\"A request's teamNote says why.\"\"\"\n"
        "    return [] if str(request.get('teamNote', 'why')).startswith('why') else [Hit('/teamNote', 'say why')]\n",
        encoding="utf-8")
    overlay = write_overlay(tmp_path, "$.components.schemas.ExportJobRequest.properties",
                            {"teamNote": {"type": "string"}}, "team")
    files = []
    for i, item in enumerate(generate("export-job-request", 24, seed=3)):
        payload = {**item["payload"], "teamNote": "why not" if i % 2 else "because"}
        files.append(tmp_path / f"p{i:02}.json")
        files[-1].write_text(dumps(payload), encoding="utf-8")
    argv = ["lint", "--format", "json", "--rules", str(rules), "--overlay", str(overlay), *map(str, files)]
    try:
        code, alone = _run(capsys, argv)
        code_spread, spread = _run(capsys, [*argv, "--scheduler", "local:2"])
    finally:  # the rule stays registered in this process otherwise
        from aep_export_contracts.rules import unregister

        unregister("SCALE001")
    rows = json.loads(alone)
    rules_seen = {f["rule"] for row in rows for f in row["findings"]}
    assert "SCALE001" in rules_seen and code == 1
    assert json.loads(spread) == rows and code_spread == code
