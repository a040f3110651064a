"""``generate``: generated payloads (valid, or verified invalid) as lines of strict JSON."""

from __future__ import annotations

import argparse
import sys
from itertools import islice

from ..spec.contracts import CONTRACT_NAMES
from .common import EXIT_OK, UsageError, add_command, add_overlay_option

#: how many examples generation may draw for the ones it keeps (a bound, not a target)
_UNBOUNDED = 10**12


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "generate", "write generated payloads as JSON lines",
                    "Valid payloads of a contract, or with --invalid payloads that each break one rule (verified "
                    "by the validator), one JSON object a line on stdout.", {0: "written", 2: "a usage mistake"})
    kinds = [*CONTRACT_NAMES, "exchange"]
    p.add_argument("contract", choices=kinds, metavar="CONTRACT",
                   help="what to generate: " + ", ".join(kinds) + " (a whole request and its answer)")
    p.add_argument("--invalid", action="store_true",
                   help="verified-invalid payloads, each with the violation it triggers and its severity")
    p.add_argument("--strict", action="store_true",
                   help="with --invalid: also payloads whose violation is a warning (by default only those "
                        "the default policy rejects)")
    p.add_argument("-n", type=int, default=10, metavar="N", help="how many payloads")
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="the same seed gives the same output (default: a new one each run)")
    add_overlay_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..generation.strategies import generate, json_line

    if args.n < 0:
        raise UsageError("-n must not be negative")
    if args.strict and not args.invalid:
        raise UsageError("--strict goes with --invalid")
    records = generate(args.contract, _UNBOUNDED if args.invalid else args.n, seed=args.seed, invalid=args.invalid)
    if args.invalid and not args.strict:
        records = (r for r in records if r["violation"]["severity"] == "error")
    out = sys.stdout
    for record in islice(records, args.n):
        out.write(json_line(record))
        out.write("\n")
    out.flush()
    return EXIT_OK
