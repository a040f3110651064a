"""Benchmarks: side by side, in one run, on the same payloads; medians over repeats, reported as ratios.

    python -m bench.run                 # full size, writes bench/RESULTS.md
    python -m bench.run --size tiny --out /tmp/results.md

Absolute times on a shared machine are noise; the ratios between rows measured in the same run are
what the results quote. Nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"tiny": dict(payloads=60, repeats=2, gen=20, stream=2_000, hyp=10, passes=2, proxied=200, reads=20),
         "full": dict(payloads=3000, repeats=5, gen=300, stream=1_000_000, hyp=200, passes=10, proxied=5_000, reads=200)}


def interleaved(fns: dict[str, Callable[[], int]], repeats: int) -> dict[str, float]:
    """Items per second of each function: median over ``repeats`` rounds, each round running every
    function once (in a rotating order), so that a machine that speeds up or slows down during the run
    moves every row of a table alike and the ratios between them hold."""
    names = list(fns)
    rates: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            start = time.perf_counter()
            n = fns[name]()
            rates[name].append(n / (time.perf_counter() - start))
    return {name: statistics.median(r) for name, r in rates.items()}


class Table:
    def __init__(self, title: str, baseline: str) -> None:
        self.title, self.baseline, self.rows = title, baseline, []  # type: ignore[var-annotated]

    def measure(self, fns: dict[str, Callable[[], int]], repeats: int) -> None:
        """Add a row for each function, all measured in the same interleaved rounds."""
        for name, rate in interleaved(fns, repeats).items():
            self.add(name, rate)

    def rate(self, name: str) -> float | None:
        return next((r for n, r in self.rows if n == name), None)

    def add(self, name: str, rate: float) -> None:
        self.rows.append((name, rate))
        print(f"  {self.title:<48} {name:<58} {rate:>12,.0f}/s", flush=True)

    def markdown(self) -> str:
        base = dict(self.rows).get(self.baseline)
        out = [f"### {self.title}", "", f"Baseline: **{self.baseline}**.", "",
               "| what | per second | ratio to baseline |", "|---|---:|---:|"]
        for name, rate in self.rows:
            ratio = f"{rate / base:.2f}×" if base else "–"
            out.append(f"| {name} | {rate:,.0f} | {ratio} |")
        return "\n".join(out) + "\n"


def corpus(contract: str, n: int, invalid: bool) -> list[bytes]:
    from aep_export_contracts.generation.strategies import dumps, generate

    records = generate(contract, n, seed=1234, invalid=invalid)
    return [dumps(r["payload"]).encode() for r in records
            if not invalid or r["violation"]["rule"] not in ("AEC005", "AEC006", "AEC007")]


def validation(size: dict[str, int]) -> list[Table]:
    import jsonschema_rs
    from jsonschema import Draft202012Validator, FormatChecker

    from aep_export_contracts.engine.payload import validate, validate_bytes
    from aep_export_contracts.spec import contracts

    tables = []
    registry_rs = jsonschema_rs.Registry(list(contracts.schemas_by_uri().items()))
    for contract in ("export-job-request", "export-job", "export-job-list"):
        for invalid in (False, True):
            data = corpus(contract, size["payloads"], invalid)
            parsed = [orjson.loads(b) for b in data]
            kind = "invalid (all findings)" if invalid else "valid"
            t = Table(f"{contract}, {kind}", "python-jsonschema + FormatChecker" + (" iter_errors" if invalid else ""))
            py = Draft202012Validator(contracts.schema(contract), registry=contracts.registry(),
                                      format_checker=FormatChecker())
            rs = jsonschema_rs.validator_for(contracts.schema(contract), validate_formats=True, registry=registry_rs)
            few = parsed[: max(10, len(parsed) // 5)]
            fns: dict[str, Callable[[], int]] = {}
            if invalid:
                fns["python-jsonschema + FormatChecker iter_errors"] = \
                    lambda: sum(1 for p in few if list(py.iter_errors(p)) or True)
                fns["jsonschema-rs iter_errors (formats on)"] = \
                    lambda: sum(1 for p in parsed if list(rs.iter_errors(p)) or True)
            else:
                fns["python-jsonschema + FormatChecker"] = lambda: sum(1 for p in few if py.is_valid(p) or True)
                fns["jsonschema-rs is_valid (formats on)"] = lambda: sum(1 for p in parsed if rs.is_valid(p) or True)
            fns["orjson.loads (parse only)"] = lambda: sum(1 for b in data if orjson.loads(b) or True)
            fns["json.loads (parse only)"] = lambda: sum(1 for b in data if json.loads(b) or True)
            fns["aep_export_contracts.validate_bytes (full: schema + rules)"] = \
                lambda: sum(1 for b in data if validate_bytes(b, contract) or True)
            fns["aep_export_contracts.engine.payload (parsed value)"] = \
                lambda: sum(1 for p in parsed if validate(p, contract) or True)
            t.measure(fns, size["repeats"])
            tables.append(t)
    return tables


#: the row that ties a table to the machine the targets were set on
ANCHOR_ROW = "machine anchor: python-jsonschema + FormatChecker, valid export-job requests"


@cache
def anchor(payloads: int) -> Callable[[], int]:
    """Validate valid export-job requests with python-jsonschema (the targets' reference workload)."""
    from jsonschema import Draft202012Validator, FormatChecker

    from aep_export_contracts.spec import contracts

    py = Draft202012Validator(contracts.schema("export-job-request"), registry=contracts.registry(),
                              format_checker=FormatChecker())
    parsed = [orjson.loads(b) for b in corpus("export-job-request", max(10, payloads // 5), False)]
    return lambda: sum(1 for p in parsed if py.is_valid(p) or True)


def exchanges(size: dict[str, int]) -> Table:
    from aep_export_contracts.cassettes import load_exchanges, replay
    from aep_export_contracts.engine.exchange import validate_exchange

    items = [e for _, e in load_exchanges([ROOT / "cassettes"])]
    t = Table("exchange validation of recorded lifecycles", "validate_exchange (parsed cassette)")
    folder, passes = [ROOT / "cassettes"], size["passes"]

    def drift() -> int:
        from aep_export_contracts.engine.drift import Drift

        found = Drift()
        for i, exchange in enumerate(items):
            found.see(exchange, ("bench", i))
        found.departures()
        return len(items)

    t.measure({
        "validate_exchange (parsed cassette)": lambda: sum(1 for e in items if validate_exchange(e) or True),
        DRIFT_ROW: drift,
        REPLAY_ONCE: lambda: replay(folder, playback=False).exchanges,
        REPLAY_ROW.format(passes=passes):
            lambda: sum(replay(folder, playback=False).exchanges for _ in range(passes)),
        ANCHOR_ROW: anchor(size["payloads"]),
    }, size["repeats"])
    return t


def list_walks(size: dict[str, int]) -> Table:
    """The rules across exchanges over one walk through the job list, short and long (records per second): a
    rate that holds as the walk grows says the rules stay linear in the records they have seen."""
    from aep_export_contracts.engine.traffic import Traffic
    from aep_export_contracts.http import Exchange

    headers = {"x-gw-ims-org-id": "ORG@AdobeOrg", "x-sandbox-name": "dev"}
    per_page, jobs = 100, "https://platform.adobe.io/data/core/ups/export/jobs/"

    def pages(records: int) -> list[Exchange]:
        out, count, cursor = [], records // per_page, ""
        for p in range(count):
            made = [{"id": records - (p * per_page + i), "creationTime": 1_600_000_000_000 + records - (p * per_page + i),
                     "status": "SUCCEEDED"} for i in range(per_page)]
            last = f"{made[-1]['creationTime']}_{made[-1]['id']}"
            nxt = f"/data/core/ups/export/jobs/?limit={per_page}&offset={last}" if p < count - 1 else ""
            out.append(Exchange.make("GET", f"{jobs}?limit={per_page}" + (f"&offset={cursor}" if cursor else ""),
                                     request_headers=headers, status=200, response_body={"records": made, "link": {"next": nxt}}))
            cursor = last
        return out

    def walk(records: int) -> Callable[[], int]:
        walked = pages(records)

        def run() -> int:
            traffic = Traffic()
            for exchange in walked:
                assert traffic.see(exchange) == []
            return records
        return run

    short, long = 2_000, 20_000 if size["payloads"] >= 1000 else 5_000
    t = Table("rules across exchanges: one walk through the job list, records per second", f"a walk of {short:,} records")
    t.measure({f"a walk of {short:,} records": walk(short), f"a walk of {long:,} records": walk(long)},
              max(1, size["repeats"] // 2))
    return t


#: one pass of the bundled set is 86 exchanges, a few milliseconds: a sample that short also
#: measures the warm-up after the other rows ran, so the throughput row replays the set several times
DRIFT_ROW = "drift over the bundled cassettes' exchanges (parsed cassette)"
REPLAY_ONCE = "replay of bundled cassettes, one pass a sample (load + validation, no playback)"
REPLAY_ROW = "replay of bundled cassettes, {passes} passes a sample (load + validation, no playback)"


def generation(size: dict[str, int]) -> list[Table]:
    import hypothesis
    import jsonschema_rs
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from hypothesis_jsonschema import from_schema

    from aep_export_contracts.engine.payload import validate
    from aep_export_contracts.generation.strategies import generate, invalid, valid
    from aep_export_contracts.spec import contracts

    def hyp_run(strategy: Any, n: int, check: Callable[[Any], None] = lambda _x: None) -> Callable[[], int]:
        """One hypothesis test of ``n`` examples, as a function that runs it and says how many it drew."""
        @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck),
                  phases=[hypothesis.Phase.generate])
        @given(strategy)
        def run(x: Any) -> None:
            check(x)

        def once() -> int:
            run()
            return n

        return once

    n = size["hyp"]
    tables = []
    registry_rs = jsonschema_rs.Registry(list(contracts.schemas_by_uri().items()))
    for contract in ("export-job-request", "export-job"):
        t = Table(f"generation: {contract}", "hypothesis-jsonschema from_schema (verified)")
        schema = jsonschema_rs.dereference(contracts.schema(contract), registry=registry_rs, offline=True)

        def verify_valid(x: Any, c: str = contract) -> None:
            validate(x, c)

        fns = {"hypothesis-jsonschema from_schema (verified)": hyp_run(from_schema(schema), max(5, n // 10), verify_valid),
               "hypothesis floor: @given(st.integers())": hyp_run(st.integers(), n),
               "strategies.valid (verified)": hyp_run(valid(contract), n, verify_valid),
               "strategies.invalid (each verified by the validator)": hyp_run(invalid(contract), n)}
        try:
            t.measure(fns, max(1, size["repeats"] // 2))
        except Exception as exc:  # reported, not fatal: the hypothesis-jsonschema row is then missing
            print(f"  hypothesis-jsonschema failed on {contract}: {type(exc).__name__}: {exc}"[:200])
            del fns["hypothesis-jsonschema from_schema (verified)"]
            t.measure(fns, max(1, size["repeats"] // 2))
        bulk = size["gen"] * 10
        t.measure({
            "bulk generate --invalid (verified)": lambda c=contract: sum(1 for _ in generate(c, bulk, seed=5, invalid=True)),
            "bulk generate (valid)": lambda c=contract: sum(1 for _ in generate(c, bulk, seed=5)),
            ANCHOR_ROW: anchor(size["payloads"]),
        }, size["repeats"])
        tables.append(t)
    return tables


def big_list(folder: Path, megabytes: int) -> tuple[Path, int]:
    """A job list of about ``megabytes`` MB whose every record has a wrong status (error) and an unknown key
    (warning), as a user's export of a broken integration would; returns the file and its record count."""
    from aep_export_contracts.generation.strategies import generate

    jobs = [r["payload"] for r in generate("export-job", 400, seed=2)]
    for job in jobs:
        job["status"], job["bogus"] = "done", 1
    one = sum(len(json.dumps(j)) for j in jobs) / len(jobs)
    records = [jobs[i % len(jobs)] for i in range(int(megabytes * 1_000_000 / one))]
    path = folder / "big-list.json"
    path.write_text(json.dumps({"records": records, "page": {"pageSize": len(records)}}), encoding="utf-8")
    return path, len(records)


def lint_formats(size: dict[str, int]) -> tuple[list[str], dict[str, float]]:
    """``lint`` of one large list, whole command, text report against JSON (the user's complaint: 15× apart)."""
    import tempfile

    exe = [sys.executable, "-m", "aep_export_contracts.cli", "lint", "--contract", "export-job-list"]
    megabytes = 30 if size["payloads"] >= 1000 else 1
    rows, seconds = [], {}
    with tempfile.TemporaryDirectory() as folder:
        path, count = big_list(Path(folder), megabytes)
        for fmt in ("json", "text"):
            start = time.perf_counter()
            with open(Path(folder) / f"out.{fmt}", "w") as out:
                done = subprocess.run([*exe, "--format", fmt, str(path)], stdout=out, stderr=subprocess.PIPE)
            seconds[f"lint {fmt}"] = took = time.perf_counter() - start
            rows.append(f"| lint --format {fmt}, a {megabytes} MB list of {count:,} jobs | {took:.1f} s "
                        f"| exit {done.returncode} |")
    return rows, seconds


def wall_times(size: dict[str, int]) -> tuple[str, dict[str, float]]:
    exe = [sys.executable, "-m", "aep_export_contracts.cli"]
    rows, seconds = lint_formats(size)
    for label, args in (("check (defaults, embedded reference server)", ["check"]),
                        ("replay cassettes/ (with workflow playback)", ["replay", str(ROOT / "cassettes")])):
        if size["payloads"] < 100 and args[0] == "check":
            args = [*args, "--examples", "1", "--layer", "negative"]
            label += " [tiny: negative layer only]"
        start = time.perf_counter()
        done = subprocess.run(exe + args, capture_output=True, text=True)
        took = time.perf_counter() - start
        if "[tiny" not in label:
            seconds[args[0]] = took
        rows.append(f"| {label} | {took:.1f} s | exit {done.returncode} |")
    table = "### Wall time of whole commands\n\n| command | wall time | result |\n|---|---:|---|\n" + "\n".join(rows) + "\n"
    return table, seconds


#: python-jsonschema + FormatChecker on valid export-job requests, on the machine the targets were set on
ANCHOR = 1600.0


def targets(tables: dict[str, Table], seconds: dict[str, float]) -> str:
    """Each target of the performance issue beside what this run measured."""
    rows: list[tuple[str, str, str]] = []

    def ratio(title: str, row: str, base: str, goal: float, what: str) -> None:
        t = tables.get(title)
        a, b = (t.rate(row), t.rate(base)) if t else (None, None)
        if a and b:
            shown = f"{a / b:.2f}" if a / b >= 1 else f"{a / b:.3f}"
            rows.append((what, f"{shown}× (goal {goal:g}×)", "met" if a / b >= goal else "missed"))

    req, full = "export-job-request", "aep_export_contracts.validate_bytes (full: schema + rules)"
    ratio(f"{req}, valid", full, "python-jsonschema + FormatChecker", 35, "valid request from bytes vs python-jsonschema")
    ratio(f"{req}, valid", full, "orjson.loads (parse only)", 0.30, "valid request from bytes vs orjson parse only")
    for c in ("export-job", "export-job-list"):
        ratio(f"{c}, valid", full, "orjson.loads (parse only)", 0.25, f"valid {c} from bytes vs orjson parse only")
    for c in ("export-job-request", "export-job", "export-job-list"):
        ratio(f"{c}, invalid (all findings)", full, "orjson.loads (parse only)", 0.08,
              f"invalid {c}, all findings, from bytes vs orjson parse only")
    ratio(f"{req}, invalid (all findings)", full, "python-jsonschema + FormatChecker iter_errors", 5,
          "invalid request, all findings, vs iter_errors")
    for c in ("export-job-request", "export-job"):
        g = f"generation: {c}"
        ratio(g, "strategies.valid (verified)", "hypothesis-jsonschema from_schema (verified)", 15,
              f"{c}: strategies.valid vs hypothesis-jsonschema")
        ratio(g, "strategies.valid (verified)", "hypothesis floor: @given(st.integers())", 0.25,
              f"{c}: strategies.valid vs hypothesis's floor")
    listed = tables.get("listing: GET ?limit=1 (requests)")
    if listed and len(listed.rows) == 2:
        ratio(listed.title, listed.rows[1][0], listed.baseline, 0.5,
              "reference server: one page with thousands of jobs in scope vs with ten")
    proxied = tables.get("proxy: GET ?limit=5 with 20 jobs in scope (requests)")
    if proxied:
        ratio(proxied.title, "through the proxy", "direct", 0.5, "validating proxy: requests through it vs direct (a second hop)")
    first = tables.get(f"{req}, valid")
    anchor = first.rate("python-jsonschema + FormatChecker") if first else None

    def absolute(value: float | None, base: float | None, goal: float, what: str, unit: str,
                 higher: bool = True) -> None:
        if value is None:
            return
        scale = base / ANCHOR if base else 1.0
        scaled = value / scale if higher else value * scale
        met = scaled >= goal if higher else scaled <= goal
        rows.append((what, f"{value:,.1f} {unit} here; {scaled:,.1f} {unit} on the reference machine "
                     f"(goal {'≥' if higher else '≤'} {goal:,g})", "met" if met else "missed"))

    for c in ("export-job-request", "export-job"):
        g = tables.get(f"generation: {c}")
        if g:
            absolute(g.rate("bulk generate --invalid (verified)"), g.rate(ANCHOR_ROW), 2000,
                     f"{c}: bulk generate --invalid", "per s")
    ex = tables.get("exchange validation of recorded lifecycles")
    if ex:
        passes = next((n for n, _ in ex.rows if n.startswith("replay") and n != REPLAY_ONCE), None)
        if passes:
            absolute(ex.rate(passes), ex.rate(ANCHOR_ROW), 6000, "replay (no playback), several passes a sample",
                     "per s")
        absolute(ex.rate(REPLAY_ONCE), ex.rate(ANCHOR_ROW), 6000, "replay (no playback), one pass a sample", "per s")
    if "check" in seconds:
        absolute(seconds["check"], anchor, 60, "check with defaults", "s", higher=False)
    if seconds.get("lint json"):
        text_over_json = seconds["lint text"] / seconds["lint json"]
        rows.append(("lint of a large list: text report's wall time over the JSON one's",
                     f"{text_over_json:.2f}× (goal ≤ 2×)", "met" if text_over_json <= 2 else "missed"))
    head = ("Ratios are between rows of one table, measured in the same rounds. The absolute targets were set "
            f"on a machine where python-jsonschema + FormatChecker validated about {ANCHOR:,.0f} valid export-job "
            "requests per second; each table with an absolute figure also measures that workload (the "
            "machine anchor row), and the figure is scaled by it to the reference machine.\n\n")
    body = "\n".join(f"| {w} | {m} | {v} |" for w, m, v in rows)
    return "## Targets\n\n" + head + "| target | measured | |\n|---|---|---|\n" + body + "\n"


def cpu_model() -> str:
    """The processor's name as Linux gives it: the ratios to orjson's parse rate move with it (its SIMD parser
    gains more on some processors than the interpreter does)."""
    try:
        with open("/proc/cpuinfo") as fh:
            return next((line.partition(":")[2].strip() for line in fh if line.startswith("model name")), "unknown")
    except OSError:
        return platform.processor() or "unknown"


def rss_kib() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def memory(size: dict[str, int]) -> str:
    from aep_export_contracts.engine.payload import validate_bytes

    data = corpus("export-job", 200, False) + corpus("export-job", 100, True)
    total = size["stream"]
    marks = {total // 10, total // 2, total}
    points = []
    for i in range(1, total + 1):
        validate_bytes(data[i % len(data)], "export-job")
        if i in marks:
            points.append((i, rss_kib()))
    rows = "\n".join(f"| {i:,} | {kib / 1024:.1f} MiB |" for i, kib in points)
    return ("### Memory while validating a stream of payloads (export-job, valid and invalid)\n\n"
            f"| payloads validated | resident memory |\n|---:|---:|\n{rows}\n")


def describe() -> str:
    from aep_export_contracts.about import compiled_modules

    versions = []
    for name in ("aep-export-contracts", "jsonschema", "jsonschema-rs", "orjson", "hypothesis",
                 "hypothesis-jsonschema", "schemathesis", "vcrpy"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    compiled = compiled_modules()
    engine = (f"compiled by mypyc ({', '.join(compiled)})" if compiled
              else "pure Python (an editable install: install the wheel, `pip install .`, to measure the compiled one)")
    return (f"Machine: {platform.machine()} ({cpu_model()}), {os.cpu_count()} cores, "
            f"{platform.system()} {platform.release()}; Python {platform.python_version()}.\n\n"
            f"Versions: {', '.join(versions)}.\n\nEngine: {engine}.\n")


def reports(size: dict[str, int]) -> Table:
    """The lint report of one large job list with thousands of findings, in each format (baseline: JSON)."""
    import io

    from rich.console import Console

    from aep_export_contracts import validate
    from aep_export_contracts.generation.strategies import generate
    from aep_export_contracts.reporting import render_text, to_json, to_sarif

    jobs = [r["payload"] for r in generate("export-job", size["payloads"], seed=1)]
    for job in jobs:  # two findings a record: a wrong status (error) and an unknown key (warning)
        job["status"], job["bogus"] = "done", 1
    report = validate({"records": jobs, "page": {"pageSize": len(jobs)}}, "export-job-list", source="big.json")
    table = Table(f"lint report of one list with {len(report.findings):,} findings", "JSON")
    table.measure({
        "JSON": lambda: (to_json([report]), 1)[1],
        "text": lambda: (render_text([report], Console(file=io.StringIO(), width=160)), 1)[1],
        "SARIF": lambda: (to_sarif([report]), 1)[1],
    }, size["repeats"])
    return table


def _filled_server(jobs: int) -> Any:
    """A reference server on a socket whose one scope holds ``jobs`` finished jobs (stored directly)."""
    from aep_export_contracts.server import ReferenceServer, ServerConfig

    server = ReferenceServer(ServerConfig(job_seconds=0)).start()
    union = {"id": "https://ns.adobe.com/xdm/context/profile__union"}
    server.store.add_dataset("ORG@AdobeOrg", "dev", "d" * 24, {"schemaRef": union}, 0)
    request = {"destination": {"datasetId": "d" * 24}, "schema": {"name": "_xdm.context.profile"}}
    for i in range(jobs):
        server.store.add_job("ORG@AdobeOrg", "dev", 1_700_000_000_000 + i, request, f"r{i}", None, "ups")
    return server


def listing(size: dict[str, int]) -> list[Table]:
    """The reference server's list operation as the number of jobs in scope grows (baseline: 10 jobs)."""
    import httpx

    headers = {"Authorization": "Bearer aec-local-token", "x-api-key": "aec-local-key",
               "x-gw-ims-org-id": "ORG@AdobeOrg", "x-sandbox-name": "dev"}
    big = 2000 if size["payloads"] >= 1000 else 200
    servers = {n: _filled_server(n) for n in (10, big, 1000)}
    clients = {n: httpx.Client(base_url=s.url, headers=headers) for n, s in servers.items()}
    jobs = "/data/core/ups/export/jobs"

    def first_page(n: int) -> Callable[[], int]:
        def run() -> int:
            for _ in range(10):
                assert clients[n].get(jobs, params={"limit": "1"}).status_code == 200
            return 10
        return run

    def walk() -> int:
        params: dict[str, str] = {"limit": "7"}
        seen = pages = 0
        while True:
            page = clients[1000].get(jobs, params=params).json()
            seen, pages = seen + len(page["records"]), pages + 1
            if not page["link"]["next"]:
                break
            params = dict(httpx.URL(page["link"]["next"]).params)
        assert seen == 1000, seen
        return pages

    try:
        one = Table("listing: GET ?limit=1 (requests)", "10 jobs in scope")
        one.measure({"10 jobs in scope": first_page(10), f"{big:,} jobs in scope": first_page(big)}, size["repeats"])
        pages = Table("listing: pages read walking 1,000 jobs at limit=7", "walk")
        pages.measure({"walk": walk}, max(1, size["repeats"] // 2))
        return [one, pages]
    finally:
        for client in clients.values():
            client.close()
        for server in servers.values():
            server.stop()


def proxy_memory(size: dict[str, int]) -> str:
    """Resident memory of a process running the proxy (and, in it, the reference server behind it) as
    requests go through: after a warm-up of 1,000, then at marks up to ``proxied`` more."""
    import gc

    import httpx

    from aep_export_contracts.options import make
    from aep_export_contracts.proxy import ProxyOptions, create_proxy_app
    from aep_export_contracts.server.app import ThreadedServer

    server = _filled_server(20)
    proxy = ThreadedServer(create_proxy_app(make(ProxyOptions, {"upstream": server.url}))).start()
    headers = {"Authorization": "Bearer aec-local-token", "x-api-key": "aec-local-key",
               "x-gw-ims-org-id": "ORG@AdobeOrg", "x-sandbox-name": "dev"}
    total = size["proxied"]
    marks = {total // 5, total // 2, total}
    points = []
    try:
        with httpx.Client(base_url=proxy.url, headers=headers) as client:
            job = client.get("/data/core/ups/export/jobs", params={"limit": "1"}).json()["records"][0]["id"]
            paths = ["/data/core/ups/export/jobs", f"/data/core/ups/export/jobs/{job}"]
            for i in range(1000):
                client.get(paths[i % 2])
            gc.collect()
            points.append((0, rss_kib()))
            for i in range(1, total + 1):
                client.get(paths[i % 2])
                if i in marks:
                    gc.collect()
                    points.append((i, rss_kib()))
    finally:
        proxy.stop()
        server.stop()
    rows = "\n".join(f"| {i:,} | {kib / 1024:.1f} MiB | {(kib - points[0][1]) / 1024:+.1f} MiB |" for i, kib in points)
    return ("### Memory of the proxy under sustained traffic (GET a job and the list, alternately)\n\n"
            "| requests after 1,000 of warm-up | resident memory | growth |\n|---:|---:|---:|\n" + rows + "\n")


def proxy_overhead(size: dict[str, int]) -> Table:
    """Requests per second to the reference server directly and through the validating proxy (both on sockets)."""
    import httpx

    from aep_export_contracts.options import make
    from aep_export_contracts.proxy import ProxyOptions, create_proxy_app
    from aep_export_contracts.server.app import ThreadedServer

    server = _filled_server(20)
    proxy = ThreadedServer(create_proxy_app(make(ProxyOptions, {"upstream": server.url}))).start()
    headers = {"Authorization": "Bearer aec-local-token", "x-api-key": "aec-local-key",
               "x-gw-ims-org-id": "ORG@AdobeOrg", "x-sandbox-name": "dev"}
    clients = {"direct": httpx.Client(base_url=server.url, headers=headers),
               "through the proxy": httpx.Client(base_url=proxy.url, headers=headers)}

    count = size["reads"]  # a round of a few hundred requests: a round of twenty moved the ratio by a fifth

    def reads(client: httpx.Client) -> Callable[[], int]:
        def run() -> int:
            for _ in range(count):
                assert client.get("/data/core/ups/export/jobs", params={"limit": "5"}).status_code == 200
            return count
        return run

    try:
        table = Table("proxy: GET ?limit=5 with 20 jobs in scope (requests)", "direct")
        table.measure({name: reads(c) for name, c in clients.items()}, size["repeats"])
        return table
    finally:
        for c in clients.values():
            c.close()
        proxy.stop()
        server.stop()


def profile(size: dict[str, int]) -> str:
    """Where the time of a full validation goes, per contract: parse, the compiled validator (Rust), the
    rules (Python), and the report with the rest (measured as cumulative stages in the same rounds)."""
    from aep_export_contracts.engine.compiled import _screened
    from aep_export_contracts.engine.payload import _judge, validate_bytes

    out = ["### Where the time of a full validation goes", "",
           "Each stage is measured as a cumulative pipeline in the same interleaved rounds; a stage's time is "
           "the difference from the one before. The rules' stage holds every rule that runs (all of them on "
           "a payload the compiled validator rejects, with the explanation of its errors), run as C where the "
           "engine is compiled (the machine line says whether it is).", "",
           "| contract, payloads | parse | compiled validator (Rust) | rules and explanations "
           "| report and the rest | full, µs per payload |", "|---|---:|---:|---:|---:|---:|"]
    for contract in ("export-job-request", "export-job", "export-job-list"):
        for invalid in (False, True):
            data = corpus(contract, size["payloads"], invalid)
            screened = _screened(contract)
            rates = interleaved({
                "parse": lambda: sum(1 for b in data if orjson.loads(b) or True),
                "screen": lambda: sum(1 for b in data if screened.is_valid(orjson.loads(b)) or True),
                "judge": lambda: sum(1 for b in data if _judge(screened, orjson.loads(b), b) or True),
                "full": lambda: sum(1 for b in data if validate_bytes(b, contract) or True),
            }, size["repeats"])
            us = {k: 1e6 / v for k, v in rates.items()}
            stages = [us["parse"], us["screen"] - us["parse"], us["judge"] - us["screen"], us["full"] - us["judge"]]
            cells = " | ".join(f"{t:.2f} µs ({t / us['full']:.0%})" for t in stages)
            out.append(f"| {contract}, {'invalid' if invalid else 'valid'} | {cells} | {us['full']:.2f} |")
    return "\n".join(out) + "\n"


def scale(size: dict[str, int]) -> list[Table]:
    """Replay of many recordings in one process and on a local Dask cluster of two workers (started before the
    rounds: its start-up is not counted), and the merge of the partial reports alone."""
    import copy
    import shutil
    import tempfile

    try:
        from aep_export_contracts.scale import cluster, merge_replays, partitions, replay_partition, run_partitions
    except ModuleNotFoundError:  # pragma: no cover
        return []
    from aep_export_contracts.cassettes import replay
    from aep_export_contracts.cassettes.load import cassette_files
    from aep_export_contracts.findings import Policy

    copies = 60 if size["payloads"] >= 1000 else 2
    folder = Path(tempfile.mkdtemp(prefix="aec-bench-scale-"))
    try:
        for n in range(copies):
            for path in cassette_files([ROOT / "cassettes"]):
                shutil.copy(path, folder / f"{n:03}-{path.name}")
        files = cassette_files([folder])
        policy = Policy.make(strict=True)
        partial = [(i, replay_partition(part, policy)) for i, part in enumerate(partitions(files, 2))]
        total = sum(p.exchanges for _, p in partial)
        t = Table(f"scale: replay of {len(files)} recordings ({total:,} exchanges), exchanges per second",
                  "one process")
        with cluster("local:2") as client:
            def spread() -> int:
                found = run_partitions(client, replay_partition, partitions(files, 2), policy, False)
                return merge_replays(list(enumerate(found)), "bench", policy).exchanges

            t.measure({
                "one process": lambda: replay([folder], playback=False).exchanges,
                "local:2 (Dask, two worker processes)": spread,
                "the merge of the partial reports alone": lambda: merge_replays(copy.deepcopy(partial), "bench",
                                                                                policy).exchanges,
            }, max(2, size["repeats"] // 2))
        return [t]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


#: (the --skip name, the heading, what measures the section's tables), in the order they run
SECTIONS: tuple[tuple[str, str, Callable[[dict[str, int]], list[Table]]], ...] = (
    ("validation", "1–3. Validation, other validators, parsing", validation),
    ("exchanges", "4. Exchanges", lambda size: [exchanges(size), list_walks(size)]),
    ("generation", "5. Generation", generation),
    ("reports", "5b. Reports\n\nReports per second (a report is the whole list).", lambda size: [reports(size)]),
    ("listing", "5c. The reference server's listing, and the proxy",
     lambda size: [*listing(size), proxy_overhead(size)]),
    ("scale", "5d. Past one machine: a local Dask cluster", scale),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument("--skip", action="append", default=[],
                        choices=[*(name for name, _, _ in SECTIONS), "wall", "profile", "memory"])
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    parts = [f"# Benchmark results\n\nRegenerate with `python -m bench.run` (size `{args.size}`). "
             "Every figure in a table was measured in the same run as its baseline.\n\n" + describe()]
    tables: dict[str, Table] = {}
    seconds: dict[str, float] = {}
    sections: list[str] = []
    for name, heading, measure in SECTIONS:
        if name in args.skip:
            continue
        found = measure(size)
        tables.update((t.title, t) for t in found)
        sections.append(f"## {heading}\n\n" + "\n".join(t.markdown() for t in found))
    if "wall" not in args.skip:
        text, seconds = wall_times(size)
        sections.append("## 6. Whole commands\n\n" + text)
    if "profile" not in args.skip:  # beside the validation tables it explains
        sections.insert(1 if "validation" not in args.skip else 0, "## 1b. Profile of the validation\n\n" + profile(size))
    if "memory" not in args.skip:
        sections.append("## 7. Memory\n\n" + memory(size) + "\n" + proxy_memory(size))
    parts.append(targets(tables, seconds))
    parts.extend(sections)
    Path(args.out).write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
