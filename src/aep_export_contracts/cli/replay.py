"""``replay``: re-validate recorded exchanges offline (and re-run recorded workflows in playback)."""

from __future__ import annotations

import argparse

from .common import (
    UsageError,
    add_coverage_option,
    add_policy_arguments,
    add_report_option,
    apply_coverage_gate,
    console,
    policy_from,
    run_exit,
    write_reports,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("replay", help="re-validate recorded exchanges offline")
    p.add_argument("paths", nargs="+", metavar="PATH", help="cassette files or folders")
    add_report_option(p)
    add_coverage_option(p)
    p.add_argument("--no-playback", action="store_true", help="validate exchanges only; do not re-run workflows")
    p.add_argument("--jobs", type=int, default=1, help="validate with N processes (same output order)")
    add_policy_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..cassettes import replay
    from ..reporting.check_text import render_check

    if args.jobs < 1:
        raise UsageError("--jobs is a positive number of processes")
    policy = policy_from(args)
    try:
        report = replay(args.paths, policy=policy, playback=not args.no_playback, jobs=args.jobs)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    apply_coverage_gate(report, args.min_coverage)
    render_check(report, console())
    write_reports(report, args.report)
    return run_exit(report)
