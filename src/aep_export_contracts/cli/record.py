"""``record``: run the lifecycle workflows against a target into a scrubbed cassette."""

from __future__ import annotations

import argparse

from ..check.runner import CheckOptions
from ..options import RECORDING_SUFFIXES, add_arguments, from_namespace, writable_file
from .common import EXIT_OK, UsageError, add_command, require

#: the check's options that a recording takes too
RECORD_OPTIONS = ("base_url", "token", "api_key", "org", "sandbox", "seed", "allow_writes", "max_jobs")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "record", "record the lifecycle workflows into a scrubbed cassette",
                    "Runs the check's workflows against the target and writes every exchange, credentials "
                    "and ids of your org scrubbed, for replay.",
                    {0: "recorded", 2: "the target cannot be reached, or a usage mistake (the file is not written)"})
    p.add_argument("--out", required=True, metavar="PATH",
                   help="the recording to write: a cassette (.json, .yaml, .yml) or a HAR file (.har)")
    add_arguments(p, CheckOptions, only=RECORD_OPTIONS)
    p.set_defaults(func=run, max_jobs=10)


def run(args: argparse.Namespace) -> int:
    from ..cassettes import record
    from ..check.client import TargetUnreachable

    opts = from_namespace(CheckOptions, args)
    writable_file("--out", args.out, RECORDING_SUFFIXES)
    require("vcr", "record", "or record a client's traffic with proxy --record")
    try:
        count = record(args.out, opts)
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    except TargetUnreachable as exc:  # a run that could not see: said in one line, exit 2
        raise UsageError(str(exc)) from exc
    print(f"recorded {count} exchanges into {args.out} (secrets scrubbed)")
    return EXIT_OK
