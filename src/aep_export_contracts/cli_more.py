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


def _rate(text: str) -> float:
    value = text.removesuffix("/s")
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a rate is N/s, e.g. 5/s") from None
    if rate <= 0:
        raise argparse.ArgumentTypeError("a rate is a positive number of requests per second")
    return rate


def cmd_serve(args: argparse.Namespace) -> int:
    import time

    from .server import FAULTS, ReferenceServer, ServerConfig

    unknown = sorted(set(args.fault) - set(FAULTS))
    if unknown:
        print(f"aep-export-contracts: error: unknown fault(s) {', '.join(unknown)}; "
              f"known: {', '.join(FAULTS)}", file=sys.stderr)
        return 2
    config = ServerConfig(host=args.host, port=args.port, token=args.token, api_key=args.api_key,
                          faults=frozenset(args.fault), state=args.state, delete_status=args.delete_status,
                          job_seconds=args.job_seconds, rate_limit=args.rate_limit, max_body=args.max_body)
    try:
        server = ReferenceServer(config).start()
    except OSError as exc:
        print(f"aep-export-contracts: error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    print(f"reference server at {server.url}")
    print(f"  access token: {args.token}   API key: {args.api_key}   (any org id and sandbox name)")
    if args.fault:
        print(f"  faults: {', '.join(sorted(args.fault))}")
    print(f"  state: {args.state or 'in memory'}   jobs take {args.job_seconds}s   DELETE answers {args.delete_status}")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping")
    finally:
        server.stop()
    return 0


def add_commands(sub: Any) -> None:
    from .server.app import DEFAULT_API_KEY, DEFAULT_TOKEN

    serve = sub.add_parser("serve", help="run the reference server (the Export Jobs API on loopback)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--fault", action="append", default=[], metavar="NAME",
                       help="misbehave on purpose (repeatable); see README for the list")
    serve.add_argument("--state", metavar="PATH", help="keep state in this SQLite file (default: memory)")
    serve.add_argument("--delete-status", type=int, choices=(200, 204), default=200)
    serve.add_argument("--job-seconds", type=float, default=5.0, help="how long a job runs (0 for tests)")
    serve.add_argument("--token", default=DEFAULT_TOKEN)
    serve.add_argument("--api-key", default=DEFAULT_API_KEY)
    serve.add_argument("--rate-limit", type=_rate, metavar="N/s", help="answer 429 above N requests per second")
    serve.add_argument("--max-body", type=int, default=1 << 20, help="largest request body in bytes (413 above)")
    serve.set_defaults(func=cmd_serve)

    gen = sub.add_parser("generate", help="write generated payloads as JSON lines")
    gen.add_argument("contract", choices=[*CONTRACT_NAMES, "exchange"])
    gen.add_argument("--invalid", action="store_true",
                     help="verified-invalid payloads, each with the violation it triggers")
    gen.add_argument("-n", type=int, default=10, help="how many (default 10)")
    gen.add_argument("--seed", type=int, default=None, help="same seed, same output")
    gen.set_defaults(func=cmd_generate)
