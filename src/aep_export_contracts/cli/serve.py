"""``serve``: the reference server on a socket until Ctrl-C."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable

from ..options import port
from ..server.api import DEFAULT_API_KEY, DEFAULT_TOKEN, JOB_SECONDS
from ..server.faults import FAULTS
from .common import EXIT_OK, UsageError, add_command, add_overlay_option, until_stopped


def _rate(text: str) -> float:
    value = text.removesuffix("/s")
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a rate is N/s, e.g. 5/s") from None
    if not rate > 0:
        raise argparse.ArgumentTypeError("a rate is a positive number of requests per second")
    return rate


def _port(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None


def _non_negative(kind: type[float] | type[int]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if value < 0:
            raise argparse.ArgumentTypeError(f"{text} is negative")
        return value
    return parse


def _positive(text: str) -> float:
    value = _non_negative(float)(text)
    if value == 0:
        raise argparse.ArgumentTypeError("a timeout is a positive number of seconds")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "serve", "run the reference server (the Export Jobs API on loopback)",
                    "A stateful server that answers as the documented API does, until Ctrl-C or SIGTERM.",
                    {0: "stopped by Ctrl-C or SIGTERM", 2: "a usage mistake (a port out of range or in use, a --state "
                                                          "file that cannot be read)"})
    p.add_argument("--host", default="127.0.0.1", metavar="ADDRESS", help="the address to listen on")
    p.add_argument("--port", type=_port, default=8080, metavar="N", help="the port to listen on (0: any free port)")
    p.add_argument("--fault", action="append", default=[], metavar="NAME", choices=sorted(FAULTS),
                   help="misbehave on purpose (repeatable): " + ", ".join(sorted(FAULTS)))
    p.add_argument("--state", metavar="PATH", help="keep state in this SQLite file (default: memory)")
    p.add_argument("--delete-status", type=int, choices=(200, 204), default=200, metavar="200|204",
                   help="the status a cancel (DELETE) answers with")
    p.add_argument("--job-seconds", type=_non_negative(float), default=JOB_SECONDS, metavar="SECONDS",
                   help="how long a job runs, in seconds (0: jobs finish at once)")
    p.add_argument("--token", default=DEFAULT_TOKEN, metavar="TOKEN",
                   help="the access token the server accepts (Authorization: Bearer TOKEN)")
    p.add_argument("--api-key", default=DEFAULT_API_KEY, metavar="KEY", help="the API key the server accepts (x-api-key)")
    p.add_argument("--rate-limit", type=_rate, metavar="N/s", help="answer 429 above N requests per second")
    p.add_argument("--max-body", type=_non_negative(int), default=1 << 20, metavar="BYTES",
                   help="largest request body, in bytes (413 above)")
    p.add_argument("--read-timeout", type=_positive, default=30.0, metavar="SECONDS",
                   help="longest a client may take to send a request's head or its body, in seconds (408 after)")
    p.add_argument("--idle-timeout", type=_positive, default=5.0, metavar="SECONDS",
                   help="longest a kept-alive connection may sit idle, in seconds")
    add_overlay_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..server import ReferenceServer, ServerConfig, StateError

    port("--port", args.port)  # said as the proxy says it
    config = ServerConfig(host=args.host, port=args.port, token=args.token, api_key=args.api_key,
                          faults=frozenset(args.fault), state=args.state, delete_status=args.delete_status,
                          job_seconds=args.job_seconds, rate_limit=args.rate_limit, max_body=args.max_body,
                          read_timeout=args.read_timeout, idle_timeout=args.idle_timeout)
    try:
        server = ReferenceServer(config).start()
    except StateError as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    try:  # from here on, a stop stops the server (its state file is closed whole)
        print(f"reference server at {server.url}")
        print(f"  access token: {args.token}   API key: {args.api_key}   (any org id and sandbox name)")
        if args.fault:
            print(f"  faults: {', '.join(sorted(args.fault))}")
        print(f"  state: {args.state or 'in memory'}   jobs take {args.job_seconds}s   "
              f"DELETE answers {args.delete_status}")
        sys.stdout.flush()
        until_stopped()
    except KeyboardInterrupt:
        print("stopping")
    finally:
        server.stop()
    return EXIT_OK
