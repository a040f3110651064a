"""Commands beyond lint and rules: generate."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .contracts import CONTRACT_NAMES


def cmd_generate(args: argparse.Namespace) -> int:
    from .strategies import dumps, generate

    if args.n < 0:
        print("aep-export-contracts: error: -n must not be negative", file=sys.stderr)
        return 2
    out = sys.stdout
    for record in generate(args.contract, args.n, seed=args.seed, invalid=args.invalid):
        out.write(dumps(record))
        out.write("\n")
    out.flush()
    return 0


def add_commands(sub: Any) -> None:
    gen = sub.add_parser("generate", help="write generated payloads as JSON lines")
    gen.add_argument("contract", choices=[*CONTRACT_NAMES, "exchange"])
    gen.add_argument("--invalid", action="store_true",
                     help="verified-invalid payloads, each with the violation it triggers")
    gen.add_argument("-n", type=int, default=10, help="how many (default 10)")
    gen.add_argument("--seed", type=int, default=None, help="same seed, same output")
    gen.set_defaults(func=cmd_generate)
