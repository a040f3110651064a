"""``check``: the contract check against an endpoint (by default the embedded reference server)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ..check.runner import LAYERS, CheckOptions
from ..options import add_arguments, from_namespace
from .common import (
    EXIT_OK,
    EXIT_VIOLATIONS,
    UsageError,
    add_command,
    add_coverage_option,
    add_overlay_option,
    add_report_option,
    apply_coverage_gate,
    console,
    error,
    require,
    run_exit,
    write_reports,
)

PROGRESS = "… "  # how a progress line starts, so that a log reader can tell it from a result

def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "check", "run the contract check against an endpoint (default: the embedded server)",
                    "Generated requests, the lifecycle workflows and requests the API must refuse, each answer "
                    "judged.", {0: "no violation", 1: "a violation, or coverage below a --min-coverage gate",
                                2: "the target could not be checked (unreachable, every answer 404 or 401), or a "
                                   "usage mistake", 130: "stopped (Ctrl-C, SIGTERM): the jobs it made are cancelled "
                                                         "and the report holds what it saw"})
    add_arguments(p, CheckOptions)
    add_report_option(p)
    add_coverage_option(p)
    p.add_argument("--fault-matrix", action="store_true",
                   help="run the check once per fault of the embedded server (or each --fault) and print what "
                        "detects each")
    add_overlay_option(p)
    p.set_defaults(func=run)

def run(args: argparse.Namespace) -> int:
    from ..check.runner import run_check
    from ..reporting.check_text import render_check

    out = console()
    status = out.status("starting", spinner="dots") if out.is_terminal else None
    started, last = time.monotonic(), [""]

    def progress(message: str) -> None:
        """A spinner on a terminal; elsewhere (CI logs) a plain line on stderr per new step."""
        if status is not None:
            status.update(message)
        elif message != last[0]:
            last[0] = message
            print(f"{PROGRESS}[{time.monotonic() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    if "schema" in (args.layer or LAYERS):
        require("schemathesis", "the check's schema layer", "or leave it out: --layer lifecycle --layer negative")
    if args.fault_matrix:
        return _fault_matrix(args, out)
    opts = from_namespace(CheckOptions, args, progress=progress)
    try:
        if status is not None:
            status.start()
        report = run_check(opts)
    finally:
        if status is not None:
            status.stop()
    apply_coverage_gate(report, args.min_coverage)
    write_reports(report, args.report)
    if report.unreachable:  # nothing was checked: one line says why, and no verdict is printed
        error(report.unreachable)
        return run_exit(report)
    render_check(report, out)
    return run_exit(report)

def _fault_matrix(args: argparse.Namespace, out: Any) -> int:
    from rich.text import Text

    from ..check.runner import FaultRow, fault_matrix
    from ..proxy.sample_client import proxy_matrix
    from ..server import FAULTS

    if args.base_url:
        raise UsageError("--fault-matrix runs against the embedded server only")
    # the matrix is one strict run per fault and prints one table: a single run's policy and reports do not apply
    single = {"--report": args.report, "--min-coverage": args.min_coverage, "--select": args.select,
              "--ignore": args.ignore, "--baseline": args.baseline, "--strict": args.strict, "--rules": args.rules,
              "--read-only": args.read_only, "--fail-on-existing": args.fail_on_existing}
    given = [flag for flag, value in single.items() if value]
    if given:
        raise UsageError(f"--fault-matrix runs each fault strictly and prints one table: {', '.join(given)} "
                         f"{'is' if len(given) == 1 else 'are'} for a single run (leave out --fault-matrix)")

    def row_done(row: FaultRow) -> None:  # each row as soon as its run is done: the matrix takes a while
        proxied = proxy_matrix([row.fault])[row.fault]  # the client workflow through the proxy, same fault
        mark, style = ("detected", "green") if row.detected else ("NOT DETECTED", "bold red")
        problems = len(row.report.groups())
        out.print(Text.assemble((f"{row.fault:<24}", "bold"), (f"{mark:<14}", style),
                                f"{problems} problem(s) by {', '.join(row.rules) or 'no rule'}; "
                                f"proxy: {', '.join(proxied) or 'not in a client traffic'}"))

    out.print(Text(f"fault matrix: one strict check of the embedded server per fault ({len(args.fault or FAULTS)})",
                   style="bold"))
    rows = fault_matrix(sorted(args.fault or FAULTS), row_done, seed=args.seed, examples=args.examples)
    missed = [r.fault for r in rows if not r.detected]
    out.print(Text(f"{len(rows) - len(missed)} of {len(rows)} faults detected" +
                   (f"; missed: {', '.join(missed)}" if missed else ""), style="bold red" if missed else "bold green"))
    return EXIT_OK if all(r.detected for r in rows) else EXIT_VIOLATIONS
