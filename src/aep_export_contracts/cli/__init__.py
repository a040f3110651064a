"""The one command-line entry point, ``aep-export-contracts``: a module per command.

Every command raises a user's mistake as ``UsageError`` or ``OptionError`` (and a rule module that
cannot be loaded as ``RuleError``); ``main`` alone turns it into one line and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import NoReturn

from ..about import NAME, build
from ..options import OptionError
from ..rules import RuleError
from ..scale import ScaleError
from ..spec.overlay import OverlayError
from . import check, coverage, drift, generate, lint, proxy, record, replay, rules, scan, serve
from .common import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError, error, missing_extra

__all__ = ["UsageError", "build_parser", "main"]

COMMANDS = (lint, rules, generate, serve, check, proxy, record, replay, coverage, drift, scan)


class _Parser(argparse.ArgumentParser):
    """argparse, with a mistake said in one line (the usage is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        error(f"{message} (see {self.prog} --help)")
        self.exit(EXIT_USAGE)


class _Version(argparse.Action):
    """--version: the line is made only when asked (it looks on disk for the modules that run compiled), not
    at every start of a command."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str = "show program's version number and exit") -> None:
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> NoReturn:
        print(f"{parser.prog} {build()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=NAME, description="Contract checks for AEP's Profile Export Jobs API.")
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


@contextlib.contextmanager
def _stopped_as_interrupted() -> Iterator[None]:
    """SIGTERM (what timeout, docker, systemd and CI runners send) ends a command as Ctrl-C does: each command
    finishes its recording and reports with what it saw. It works where SIGINT is ignored (a job started in
    the background from a script)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse prints its own usage message
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    overlay = getattr(args, "overlay", None)
    try:
        if overlay is not None:
            _use_overlay(overlay)
        with _stopped_as_interrupted():
            return int(args.func(args))
    except (UsageError, OptionError, RuleError, OverlayError, ScaleError) as exc:
        error(str(exc))
        return EXIT_USAGE
    except ModuleNotFoundError as exc:
        message = missing_extra(exc)
        if message is None:
            raise
        error(message)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{NAME}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`... | head`): stop quietly, and keep Python from complaining at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    finally:
        if overlay is not None:  # a caller in the same process (a test, a script) gets the bundled contract back
            _use_overlay(None)


def _use_overlay(path: str | None) -> None:
    from ..spec.contracts import active_overlay, use_overlay

    if path is not None or active_overlay() is not None:
        use_overlay(path)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
