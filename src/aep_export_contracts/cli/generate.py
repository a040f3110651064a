"""``generate``: generated payloads (valid, or verified invalid) as JSON lines."""

from __future__ import annotations

import argparse
import sys

from ..spec.contracts import CONTRACT_NAMES
from .common import EXIT_OK, UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("generate", help="write generated payloads as JSON lines")
    p.add_argument("contract", choices=[*CONTRACT_NAMES, "exchange"])
    p.add_argument("--invalid", action="store_true", help="verified-invalid payloads, each with the violation it triggers")
    p.add_argument("-n", type=int, default=10, help="how many (default 10)")
    p.add_argument("--seed", type=int, default=None, help="same seed, same output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..generation.strategies import dumps, generate

    if args.n < 0:
        raise UsageError("-n must not be negative")
    out = sys.stdout
    for record in generate(args.contract, args.n, seed=args.seed, invalid=args.invalid):
        out.write(dumps(record))
        out.write("\n")
    out.flush()
    return EXIT_OK
