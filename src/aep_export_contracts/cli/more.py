"""Commands beyond lint and rules: generate."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..spec.contracts import CONTRACT_NAMES


def cmd_generate(args: argparse.Namespace) -> int:
    from ..generation.strategies import dumps, generate

    if args.n < 0:
        print("aep-export-contracts: error: -n must not be negative", file=sys.stderr)
        return 2
    out = sys.stdout
    for record in generate(args.contract, args.n, seed=args.seed, invalid=args.invalid):
        out.write(dumps(record))
        out.write("\n")
    out.flush()
    return 0


def _rate(text: str) -> float:
    value = text.removesuffix("/s")
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a rate is N/s, e.g. 5/s") from None
    if rate <= 0:
        raise argparse.ArgumentTypeError("a rate is a positive number of requests per second")
    return rate


def cmd_serve(args: argparse.Namespace) -> int:
    import time

    from ..server import FAULTS, ReferenceServer, ServerConfig

    unknown = sorted(set(args.fault) - set(FAULTS))
    if unknown:
        print(f"aep-export-contracts: error: unknown fault(s) {', '.join(unknown)}; "
              f"known: {', '.join(FAULTS)}", file=sys.stderr)
        return 2
    config = ServerConfig(host=args.host, port=args.port, token=args.token, api_key=args.api_key,
                          faults=frozenset(args.fault), state=args.state, delete_status=args.delete_status,
                          job_seconds=args.job_seconds, rate_limit=args.rate_limit, max_body=args.max_body)
    try:
        server = ReferenceServer(config).start()
    except OSError as exc:
        print(f"aep-export-contracts: error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    print(f"reference server at {server.url}")
    print(f"  access token: {args.token}   API key: {args.api_key}   (any org id and sandbox name)")
    if args.fault:
        print(f"  faults: {', '.join(sorted(args.fault))}")
    print(f"  state: {args.state or 'in memory'}   jobs take {args.job_seconds}s   DELETE answers {args.delete_status}")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping")
    finally:
        server.stop()
    return 0


def _report_target(text: str) -> tuple[str, str]:
    kind, _, path = text.partition(":")
    if kind not in ("json", "junit") or not path:
        raise argparse.ArgumentTypeError("a report is json:PATH or junit:PATH")
    return kind, path


def cmd_check(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..check.check import CheckOptions, run_check
    from ..check.safety import UnsafeTarget
    from ..reporting.check_text import render_check

    console = Console(stderr=False)
    if not console.is_terminal:
        console = Console(width=160)
    status = console.status("starting", spinner="dots") if console.is_terminal else None

    def progress(message: str) -> None:
        if status is not None:
            status.update(message)

    if args.fault_matrix:
        return _fault_matrix(args, console)
    opts = CheckOptions(base_url=args.base_url, token=args.token, api_key=args.api_key, org=args.org,
                        sandbox=args.sandbox, read_only=args.read_only, allow_writes=args.allow_writes,
                        max_jobs=args.max_jobs, seed=args.seed, examples=args.examples, deadline=args.deadline,
                        strict=not args.lenient, faults=tuple(args.fault), progress=progress,
                        layers=tuple(args.layer or ("schema", "lifecycle", "negative")))
    try:
        if status is not None:
            status.start()
        report = run_check(opts)
    except (ValueError, UnsafeTarget) as exc:
        print(f"aep-export-contracts: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aep-export-contracts: interrupted (the jobs this run created were cancelled)", file=sys.stderr)
        return 130
    finally:
        if status is not None:
            status.stop()
    render_check(report, console)
    if _write_reports(report, args.report):
        return 2
    if not report.ok:
        return 1
    if report.errors:
        return 2
    return 0


def _fault_matrix(args: argparse.Namespace, console: Any) -> int:
    from rich.table import Table

    from ..check.check import fault_matrix
    from ..server import FAULTS

    if args.base_url:
        print("aep-export-contracts: error: --fault-matrix runs against the embedded server only", file=sys.stderr)
        return 2
    rows = fault_matrix(sorted(args.fault or FAULTS), seed=args.seed, examples=args.examples)
    if args.markdown:
        print("| fault | what it breaks | detected | by rules |")
        print("|---|---|---|---|")
        for fault, detected, rules in rows:
            print(f"| `{fault}` | {FAULTS[fault].breaks} | {'yes' if detected else '**no**'} | "
                  f"{', '.join(f'`{r}`' for r in rules)} |")
    else:
        table = Table(title="fault matrix (embedded reference server)", title_justify="left")
        for column in ("fault", "detected", "rules"):
            table.add_column(column)
        for fault, detected, rules in rows:
            table.add_row(fault, "yes" if detected else "NO", ", ".join(rules))
        console.print(table)
    return 0 if all(detected for _, detected, _ in rows) else 1


def _write_reports(report: Any, targets: list[tuple[str, str]] | None) -> int:
    for kind, path in targets or []:
        try:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(report.to_json() if kind == "json" else report.to_junit())
        except OSError as exc:
            print(f"aep-export-contracts: error: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from ..cassettes import record
    from ..check.safety import UnsafeTarget

    try:
        count = record(args.out, base_url=args.base_url, token=args.token, api_key=args.api_key, org=args.org,
                       sandbox=args.sandbox, seed=args.seed, allow_writes=args.allow_writes, max_jobs=args.max_jobs)
    except (ValueError, UnsafeTarget, OSError) as exc:
        print(f"aep-export-contracts: error: {exc}", file=sys.stderr)
        return 2
    print(f"recorded {count} exchanges into {args.out} (secrets scrubbed)")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..cassettes import replay
    from ..findings import Policy
    from ..reporting.check_text import render_check

    try:
        report = replay(args.paths, policy=Policy.make(strict=not args.lenient), playback=not args.no_playback,
                        jobs=args.jobs)
    except FileNotFoundError as exc:
        print(f"aep-export-contracts: error: {exc}", file=sys.stderr)
        return 2
    console = Console()
    render_check(report, console if console.is_terminal else Console(width=160))
    code = _write_reports(report, args.report)
    if code:
        return code
    if not report.ok:
        return 1
    return 2 if report.errors else 0


def cmd_scan(args: argparse.Namespace) -> int:
    from ..cassettes import scan

    try:
        hits = scan(args.paths)
    except FileNotFoundError as exc:
        print(f"aep-export-contracts: error: {exc}", file=sys.stderr)
        return 2
    for path, line, what in hits:
        print(f"{path}:{line}: looks like a secret ({what})")
    print(f"{len(hits)} possible secret(s)" if hits else "no secret found")
    return 1 if hits else 0


def _credential_options(p: Any) -> None:
    p.add_argument("--token", help="access token (default: AEP_ACCESS_TOKEN)")
    p.add_argument("--api-key", help="API key (default: AEP_API_KEY)")
    p.add_argument("--org", help="IMS org id (default: AEP_IMS_ORG)")
    p.add_argument("--sandbox", help="sandbox name (default: AEP_SANDBOX)")


def add_commands(sub: Any) -> None:
    rec = sub.add_parser("record", help="record the lifecycle workflows into a scrubbed cassette")
    rec.add_argument("--base-url", help="the target (default: the embedded reference server)")
    rec.add_argument("--out", required=True, help="the cassette to write (YAML)")
    rec.add_argument("--seed", type=int, default=0)
    rec.add_argument("--allow-writes", action="store_true")
    rec.add_argument("--max-jobs", type=int, default=10)
    _credential_options(rec)
    rec.set_defaults(func=cmd_record)

    rep = sub.add_parser("replay", help="re-validate recorded exchanges offline")
    rep.add_argument("paths", nargs="+", metavar="PATH", help="cassette files or folders")
    rep.add_argument("--report", action="append", type=_report_target, metavar="json:PATH|junit:PATH")
    rep.add_argument("--no-playback", action="store_true", help="validate exchanges only; do not re-run workflows")
    rep.add_argument("--lenient", action="store_true", help="warnings do not fail the run")
    rep.add_argument("--jobs", type=int, default=1, help="validate with N processes (same output order)")
    rep.set_defaults(func=cmd_replay)

    sc = sub.add_parser("scan", help="fail on anything that looks like a secret in files")
    sc.add_argument("paths", nargs="+", metavar="PATH")
    sc.set_defaults(func=cmd_scan)

    from ..server import FAULTS as _FAULTS

    check = sub.add_parser("check", help="run the contract check against an endpoint (default: the embedded server)")
    check.add_argument("--base-url", help="the target (default: start the embedded reference server)")
    check.add_argument("--read-only", action="store_true", help="send only GET requests")
    check.add_argument("--allow-writes", action="store_true", help="allow creating datasets and jobs on a non-loopback host")
    check.add_argument("--max-jobs", type=int, default=20, help="most jobs this run may create (default 20)")
    check.add_argument("--report", action="append", type=_report_target, metavar="json:PATH|junit:PATH")
    check.add_argument("--seed", type=int, default=0)
    check.add_argument("--examples", type=int, default=5, help="schemathesis examples per operation and mode")
    check.add_argument("--deadline", type=float, default=60.0, help="seconds a job may take to finish")
    check.add_argument("--lenient", action="store_true", help="warnings do not fail the run")
    check.add_argument("--layer", action="append", choices=("schema", "lifecycle", "negative"),
                       help="run only these layers (repeatable)")
    _credential_options(check)
    check.add_argument("--fault", action="append", default=[], choices=sorted(_FAULTS),
                       help="with the embedded server: inject this fault (repeatable)")
    check.add_argument("--fault-matrix", action="store_true",
                       help="run the check once per fault of the embedded server and print what detects each")
    check.add_argument("--markdown", action="store_true", help="with --fault-matrix: print a Markdown table")
    check.set_defaults(func=cmd_check)

    from ..server.app import DEFAULT_API_KEY, DEFAULT_TOKEN

    serve = sub.add_parser("serve", help="run the reference server (the Export Jobs API on loopback)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--fault", action="append", default=[], metavar="NAME",
                       help="misbehave on purpose (repeatable); see README for the list")
    serve.add_argument("--state", metavar="PATH", help="keep state in this SQLite file (default: memory)")
    serve.add_argument("--delete-status", type=int, choices=(200, 204), default=200)
    serve.add_argument("--job-seconds", type=float, default=5.0, help="how long a job runs (0 for tests)")
    serve.add_argument("--token", default=DEFAULT_TOKEN)
    serve.add_argument("--api-key", default=DEFAULT_API_KEY)
    serve.add_argument("--rate-limit", type=_rate, metavar="N/s", help="answer 429 above N requests per second")
    serve.add_argument("--max-body", type=int, default=1 << 20, help="largest request body in bytes (413 above)")
    serve.set_defaults(func=cmd_serve)

    gen = sub.add_parser("generate", help="write generated payloads as JSON lines")
    gen.add_argument("contract", choices=[*CONTRACT_NAMES, "exchange"])
    gen.add_argument("--invalid", action="store_true",
                     help="verified-invalid payloads, each with the violation it triggers")
    gen.add_argument("-n", type=int, default=10, help="how many (default 10)")
    gen.add_argument("--seed", type=int, default=None, help="same seed, same output")
    gen.set_defaults(func=cmd_generate)
