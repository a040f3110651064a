"""What every command shares: exit codes, the usage error, the console, report targets, policy flags.

A user's mistake (a bad option, a missing file, a target that may not be written to) is raised as a
``UsageError`` or an ``OptionError`` anywhere below a command; ``main`` alone turns it into one line
on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ..about import EXTRAS, NAME, not_installed
from ..findings import Policy
from ..options import OptionError, PolicyOptions, add_arguments, from_namespace, writable_file

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
REPORT_KINDS = ("json", "junit", "sarif")


class UsageError(Exception):
    """A mistake of the user's: reported in one line, exit code 2."""


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help, with each option's default said after its help text when it has one worth saying
    (a switch's False, an empty list and None are not)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (action.option_strings and "%(default)" not in text and default not in (None, False, [], ())
                and default is not argparse.SUPPRESS and "default" not in text):
            text += " (default: %(default)s)"
        return text


#: each command's exit codes and what each means (its --help and the docs' tables say them)
EXIT_CODES: dict[str, dict[int, str]] = {}


def until_stopped() -> None:
    """Wait for Ctrl-C or SIGTERM, which end the wait as ``KeyboardInterrupt``. The servers' threads block both
    signals (``server.app``), so the kernel hands them to this thread and they cut its sleep short."""
    import time

    while True:
        time.sleep(3600)


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str,
                detail: str, exits: dict[int, str]) -> argparse.ArgumentParser:
    """A subcommand whose one-line summary shows in the command list and heads its own ``--help``, followed
    by what it does and its exit codes."""
    EXIT_CODES[name] = exits
    codes = "; ".join(f"{code}: {meaning}" for code, meaning in sorted(exits.items()))
    description = f"{summary[0].upper()}{summary[1:]}. {detail} Exit {codes}."
    return sub.add_parser(name, help=summary, description=description, formatter_class=HelpFormatter)


def require(module: str, what: str, otherwise: str) -> None:
    """Say before a command starts, in one line, that an optional dependency it needs is not installed."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise UsageError(not_installed(module, what, otherwise))


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """The one-line message for an optional dependency that is not installed (None for any other module)."""
    top = (exc.name or "").split(".")[0]
    if top not in EXTRAS:
        return None
    return not_installed(top, "this")


def console(*, stderr: bool = False) -> Any:
    """A console for reports: the terminal's width, or 160 columns in a log or a pipe."""
    from rich.console import Console

    out = Console(stderr=stderr)
    return out if out.is_terminal else Console(width=160, stderr=stderr)


def add_recordings_argument(parser: argparse.ArgumentParser, *, formats: str | None = None) -> None:
    """The recordings a command reads; with ``formats``, --format text|json saying what it prints."""
    parser.add_argument("paths", nargs="+", metavar="PATH", help="recordings (cassettes or HAR files), or folders of them")
    if formats is not None:
        parser.add_argument("--format", choices=("text", "json"), default="text", metavar="text|json",
                            help=f"how the {formats} printed on stdout")


def add_scheduler_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scheduler", metavar="ADDRESS|local:N",
                        help="share the inputs out in partitions on a Dask cluster: the address of a running scheduler, "
                             "or local:N for N worker processes on this machine (needs the [scale] extra); the "
                             "report is the one a single process writes")


def partition_progress(done: int, total: int, seconds: float) -> None:
    """Partitions done on a cluster, on stderr, as the check tells its steps."""
    print(f"… [{seconds:6.1f}s] partitions done: {done} of {total}", file=sys.stderr, flush=True)


def add_overlay_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overlay", metavar="FILE",
                        help="apply this OpenAPI Overlay 1.0 document (what drift --write-overlay writes) to the "
                             "bundled description and its contracts before anything runs; the report names it "
                             "and its digest")


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    """--strict, --select, --ignore, --baseline and --rules: the same on lint, replay and check."""
    add_arguments(parser, PolicyOptions)


def policy_from(args: argparse.Namespace) -> Policy:
    """The policy the policy flags describe (their rule modules loaded); raises ``OptionError``."""
    options: PolicyOptions = from_namespace(PolicyOptions, args)
    return options.policy()


def report_target(text: str) -> tuple[str, str]:
    """A ``--report`` value, its file checked writable before the run (a verdict is never lost at the end)."""
    kind, _, path = text.partition(":")
    if kind not in REPORT_KINDS or not path:
        raise argparse.ArgumentTypeError("a report is json:PATH, junit:PATH or sarif:PATH")
    try:
        writable_file("--report", path)
    except OptionError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--report ")) from None
    return kind, path


def error(message: str) -> None:
    """Say a mistake or a run's failure on stderr, in the one form every command uses."""
    print(f"{NAME}: error: {message}", file=sys.stderr, flush=True)


def add_report_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report", action="append", type=report_target, metavar="json|junit|sarif:PATH",
                        help="also write the report here (repeatable)")


def write_reports(report: Any, targets: Sequence[tuple[str, str]] | None) -> None:
    """Write the report in each requested format; raises ``UsageError`` when a file cannot be written."""
    from ..reporting import run_to_json, run_to_sarif, to_junit

    writers = {"json": run_to_json, "junit": to_junit, "sarif": run_to_sarif}
    for kind, path in targets or []:
        try:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(writers[kind](report))
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _minimum(text: str) -> tuple[str, float]:
    from ..engine.coverage import parse_minimums

    try:
        [(name, value)] = parse_minimums([text]).items()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return name, value


def add_coverage_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--min-coverage", action="append", type=_minimum, default=[], metavar="DIM=PCT",
                        help="fail (exit 1) when a coverage dimension is below PCT, naming what is missing "
                             "(repeatable; operations, status-codes, job-statuses, transitions, listing, headers, "
                             "request-shapes, rules)")


def apply_coverage_gate(report: Any, minimums: Sequence[tuple[str, float]]) -> None:
    """Set ``report.below_coverage`` from the run's coverage and the ``--min-coverage`` values."""
    if minimums and report.coverage is not None:
        report.below_coverage = report.coverage.gate(dict(minimums))


def run_exit(report: Any) -> int:
    """The exit code of a run: 1 for a violation or coverage below its gate, 2 when the target could not
    be checked, 130 when the run was stopped (SIGINT or SIGTERM) before it finished, else 0."""
    if getattr(report, "unreachable", None):
        return EXIT_USAGE
    if getattr(report, "interrupted", False):  # stopped before the end: not a verdict
        return EXIT_INTERRUPTED
    if not report.ok or getattr(report, "below_coverage", None):
        return EXIT_VIOLATIONS
    return EXIT_USAGE if report.errors else EXIT_OK
