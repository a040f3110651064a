"""``scan``: fail on anything that looks like a secret in files."""

from __future__ import annotations

import argparse

from .common import EXIT_OK, EXIT_VIOLATIONS, UsageError, add_command


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "scan", "fail on anything that looks like a secret in files",
                    "Reads files (or every file in folders) with detect-secrets' plugins and the project's own "
                    "(AEP tokens, keys, org ids).", {0: "nothing looks like a secret", 1: "something looks like a secret",
                                                    2: "a path that does not exist"})
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to scan")
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
