"""``coverage``: what recordings exercise of the contract, and what to record next."""

from __future__ import annotations

import argparse
import json

from .common import (
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VIOLATIONS,
    UsageError,
    add_command,
    add_coverage_option,
    add_overlay_option,
    add_recordings_argument,
    apply_coverage_gate,
    console,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "coverage", "what recordings (cassettes, HAR files) exercise of the contract",
                    "Counts, per dimension, what the recorded exchanges reached, and lists what to record next.",
                    {0: "measured (and every --min-coverage gate met)", 1: "a --min-coverage gate not met",
                     2: "a recording that cannot be read, or a usage mistake"})
    add_recordings_argument(p, formats="coverage is")
    add_coverage_option(p)
    add_overlay_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.text import Text

    from ..cassettes import replay
    from ..engine.coverage import ADVICE, DIMENSIONS
    from ..reporting.check_text import print_coverage

    try:
        report = replay(args.paths, playback=False)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    apply_coverage_gate(report, args.min_coverage)
    coverage = report.coverage
    if args.format == "json":
        print(json.dumps({"coverage": coverage.to_dict() if coverage else None, "below_coverage": report.below_coverage,
                          "exchanges": report.exchanges, "errors": report.errors}, indent=2))
    else:
        out = console()
        for line in report.errors:
            out.print(Text(f"error: {line}", style="red"))
        if coverage is not None:
            print_coverage(report, out)
            gaps = [(d, item) for d in DIMENSIONS for item in coverage.missing(d)]
            if gaps:
                out.print(Text("to record next:", style="bold"))
                for dimension, item in gaps:
                    out.print(f"  {dimension}: {ADVICE[dimension]} {item}", markup=False, highlight=False)
        for line in report.below_coverage:
            out.print(Text(line, style="bold red"))
        out.print(Text(f"{report.exchanges} exchanges read", style="dim"))
    if report.below_coverage:
        return EXIT_VIOLATIONS
    return EXIT_USAGE if report.errors else EXIT_OK  # a recording that could not be read is not measured
