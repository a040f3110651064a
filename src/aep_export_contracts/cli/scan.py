"""``scan``: fail on anything that looks like a secret in files."""

from __future__ import annotations

import argparse

from .common import EXIT_OK, EXIT_VIOLATIONS, UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("scan", help="fail on anything that looks like a secret in files")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..cassettes import scan

    try:
        hits = scan(args.paths)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    for path, line, what in hits:
        print(f"{path}:{line}: looks like a secret ({what})")
    print(f"{len(hits)} possible secret(s)" if hits else "no secret found")
    return EXIT_VIOLATIONS if hits else EXIT_OK
