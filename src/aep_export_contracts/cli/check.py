"""``check``: the contract check against an endpoint (by default the embedded reference server)."""

from __future__ import annotations

import argparse
from typing import Any

from ..check.check import CheckOptions
from ..options import add_arguments, from_namespace
from .common import EXIT_OK, EXIT_VIOLATIONS, UsageError, add_report_option, console, run_exit, write_reports


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="run the contract check against an endpoint (default: the embedded server)")
    add_arguments(p, CheckOptions)
    add_report_option(p)
    p.add_argument("--fault-matrix", action="store_true",
                   help="run the check once per fault of the embedded server and print what detects each")
    p.add_argument("--markdown", action="store_true", help="with --fault-matrix: print a Markdown table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..check.check import run_check
    from ..reporting.check_text import render_check

    out = console()
    status = out.status("starting", spinner="dots") if out.is_terminal else None

    def progress(message: str) -> None:
        if status is not None:
            status.update(message)

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
    render_check(report, out)
    write_reports(report, args.report)
    return run_exit(report)


def _fault_matrix(args: argparse.Namespace, out: Any) -> int:
    from rich.table import Table

    from ..check.check import fault_matrix
    from ..server import FAULTS

    if args.base_url:
        raise UsageError("--fault-matrix runs against the embedded server only")
    rows = fault_matrix(sorted(args.fault or FAULTS), seed=args.seed, examples=args.examples)
    if args.markdown:
        from ..reporting.catalogue import detection_markdown

        print(detection_markdown(rows, {name: f.breaks for name, f in FAULTS.items()}))
    else:
        table = Table(title="fault matrix (embedded reference server)", title_justify="left")
        for column in ("fault", "detected", "rules"):
            table.add_column(column)
        for fault, detected, rules in rows:
            table.add_row(fault, "yes" if detected else "NO", ", ".join(rules))
        out.print(table)
    return EXIT_OK if all(detected for _, detected, _ in rows) else EXIT_VIOLATIONS
