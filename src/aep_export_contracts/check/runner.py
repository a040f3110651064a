"""``aep-export-contracts check``: three layers against one target, one report."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import httpx

from ..about import not_installed
from ..findings import SERVER, RunReport
from ..http import Exchange, without_userinfo
from ..options import OptionError, PolicyOptions, make, option
from ..reproduce import Reproducer
from ..server.api import JOB_SECONDS
from ..server.faults import FAULTS
from ..session import Session
from ..target import check_writes, is_http_url, is_loopback
from . import schema_layer, workflows
from .client import Client, Credentials, TargetUnreachable, TargetUnstable


def _quiet(_message: str) -> None:
    return None


LAYERS = ("schema", "lifecycle", "negative")


@dataclass(frozen=True)
class CheckOptions(PolicyOptions):
    """What a check run does: the flags of ``check`` and the keyword arguments of ``aec_check``."""

    base_url: str | None = option(None, "the target (default: start the embedded reference server)", metavar="URL")
    token: str | None = option(None, "access token (default: AEP_ACCESS_TOKEN)", metavar="TOKEN")
    api_key: str | None = option(None, "API key (default: AEP_API_KEY)", metavar="KEY")
    org: str | None = option(None, "IMS org id (default: AEP_IMS_ORG)", metavar="ORG")
    sandbox: str | None = option(None, "sandbox name (default: AEP_SANDBOX)", metavar="NAME")
    read_only: bool = option(False, "send only GET requests")
    allow_writes: bool = option(False, "allow creating datasets and jobs on a non-loopback host")
    max_jobs: int = option(20, "most export jobs this run may create", metavar="N")
    seed: int = option(0, "the seed of every generated request (same seed, same requests)", metavar="N")
    examples: int = option(5, "generated requests per operation and mode (schema and negative layers)", metavar="N")
    deadline: float = option(60.0, "how long a job may take to finish, in seconds on the clock its jobs run on "
                             "(the embedded server's own clock, which the check's waits move on: nothing waits "
                             "for real)", metavar="SECONDS")
    layer: tuple[str, ...] = option(LAYERS, "run only this layer (repeatable): schema (generated requests), "
                                    "lifecycle (the workflows), negative (requests the API must refuse)",
                                    choices=LAYERS, metavar="NAME")
    fault: tuple[str, ...] = option((), "with the embedded server: inject this fault (repeatable)",
                                    choices=sorted(FAULTS), metavar="NAME")
    job_seconds: float = option(JOB_SECONDS, "how long a job of the embedded server runs", cli=False)
    fail_on_existing: bool = option(False, "fail the run on findings about jobs it did not create (data "
                                    "already on the target); by default they are reported apart")
    progress: Callable[[str], None] = field(default=_quiet, metadata={"help": "called with a line on each step"})

    def check(self) -> None:
        """Raise ``OptionError`` for values no run can use."""
        if self.max_jobs < 0 or self.examples < 0:
            raise OptionError("max_jobs and examples are not negative")
        if not self.deadline > 0:
            raise OptionError("deadline is a positive number of seconds")
        if self.fault and self.base_url:
            raise OptionError("faults are injected into the embedded server: leave out base_url")
        if self.base_url is not None and not is_http_url(self.base_url):
            raise OptionError(f"base_url {without_userinfo(self.base_url)[:80]!r} is not an http:// or https:// URL "
                              "with a host")


#: said when the target's URL carries a user and password
USERINFO_NOTE = ("the user and password in --base-url are not sent: the run sends its own credentials "
                 "(--token, --api-key, --org, --sandbox)")
#: what a loopback target is sent when no credential is given: the reference server's defaults
LOCAL_ORG, LOCAL_SANDBOX = "AECCHECK0000000000000000@AdobeOrg", "aec-check"


def credentials(opts: CheckOptions, embedded: bool) -> Credentials:
    """The run's credentials: the options, then the environment; the embedded server's defaults for it,
    and for a loopback target when none at all is given (``serve`` prints them, and a note says so)."""
    from ..server.api import DEFAULT_API_KEY, DEFAULT_TOKEN

    env = os.environ
    given = [opts.token or env.get("AEP_ACCESS_TOKEN"), opts.api_key or env.get("AEP_API_KEY"),
             opts.org or env.get("AEP_IMS_ORG"), opts.sandbox or env.get("AEP_SANDBOX")]
    local = embedded or (not any(given) and opts.base_url is not None and is_loopback(opts.base_url))
    token, api_key, org, sandbox = (value or (default if local else "") for value, default in
                                    zip(given, (DEFAULT_TOKEN, DEFAULT_API_KEY, LOCAL_ORG, LOCAL_SANDBOX), strict=True))
    missing = [name for name, value in (("access token (--token or AEP_ACCESS_TOKEN)", token),
                                        ("API key (--api-key or AEP_API_KEY)", api_key),
                                        ("org id (--org or AEP_IMS_ORG)", org),
                                        ("sandbox (--sandbox or AEP_SANDBOX)", sandbox)) if not value]
    if missing:
        raise OptionError("missing credentials: " + "; ".join(missing))
    return Credentials(token, api_key, org, sandbox)


def default_credentials_note(opts: CheckOptions, creds: Credentials) -> str | None:
    """What to tell a user whose loopback target was sent the reference server's default credentials."""
    from ..server.api import DEFAULT_TOKEN

    if opts.base_url is None or creds.token != DEFAULT_TOKEN or opts.token or os.environ.get("AEP_ACCESS_TOKEN"):
        return None
    return (f"no credentials given for loopback {without_userinfo(opts.base_url)}: sent the reference server's defaults "
            f"(token and API key as `serve` prints them, org {LOCAL_ORG}, sandbox {LOCAL_SANDBOX})")


@dataclass(frozen=True)
class Target:
    """Where the check sends its requests: a base URL, how to wait on the target (for real, or by
    advancing the embedded server's virtual clock), and a transport (the in-process server's) or None."""

    url: str
    wait: Callable[[float], None]
    transport: httpx.BaseTransport | None = None
    embedded: bool = False
    now: Callable[[], float] = time.monotonic  # seconds on the clock the target's jobs run on


@contextlib.contextmanager
def target(opts: CheckOptions, *, on_socket: bool = False) -> Iterator[Target]:
    """The target of a run: ``base_url``, or the embedded reference server (in this process unless
    ``on_socket``, as a recording needs, since a cassette keeps the URL it was made on)."""
    if opts.base_url:  # a user and password in the URL are never sent (nor shown): the run sends its own credentials
        yield Target(without_userinfo(opts.base_url).rstrip("/"), time.sleep)
        return
    from ..server import IN_PROCESS_URL, InProcessTransport, ReferenceServer, ServerConfig, create_app
    from ..server.clock import ManualClock

    # the embedded server's jobs run on a clock of their own that each of the check's waits moves on: a job
    # takes its documented-looking seconds, and no run waits for them for real
    clock = ManualClock(int(time.time() * 1000))

    def wait(seconds: float) -> None:
        clock.advance(max(1, int(seconds * 1000)))

    def now() -> float:
        return clock.current / 1000

    config = ServerConfig(faults=frozenset(opts.fault), job_seconds=opts.job_seconds, clock=clock)
    if on_socket:
        with ReferenceServer(config) as server:
            yield Target(server.url, wait, embedded=True, now=now)
        return
    app = create_app(config)
    transport = InProcessTransport(app)
    try:
        yield Target(IN_PROCESS_URL, wait, transport, embedded=True, now=now)
    finally:
        transport.close()
        app.state.api.close()


def run_check(opts: CheckOptions) -> RunReport:
    """Run the check; raises ``ValueError`` or ``UnsafeTarget`` on usage problems before sending anything."""
    embedded = opts.base_url is None
    creds = credentials(opts, embedded)
    with target(opts) as where:
        url = where.url
        writes = not opts.read_only if where.embedded else check_writes(
            url, read_only=opts.read_only, allow_writes=opts.allow_writes, sandbox=creds.sandbox)
        policy = opts.policy()
        report = RunReport(without_userinfo(url) if not embedded else "embedded reference server", opts.seed, policy,
                           reproduce=Reproducer(creds.secrets()))
        note = default_credentials_note(opts, creds)
        if note:
            report.notes.append(note)
        if opts.base_url and without_userinfo(opts.base_url) != opts.base_url:
            report.notes.append(USERINFO_NOTE)

        report.existing_fails = opts.fail_on_existing
        created: set[str] = set()
        # the check tests the server: what it sent (invalid on purpose, at times) is not judged, only the answers
        session = Session(report, sides=frozenset({SERVER}), layer="contract", created=created)

        def on_exchange(exchange: Exchange) -> None:
            session.see(exchange)  # what it finds goes into the report

        client = Client(url, creds, on_exchange=on_exchange, unstable=report.unstable, sleep=where.wait,
                        transport=where.transport)
        ctx = workflows.Context(client, report, writes, opts.max_jobs, opts.deadline, opts.seed, progress=opts.progress,
                                on_created=lambda job_id: created.add(str(job_id)), now=where.now)
        try:
            for layer in opts.layer:
                try:
                    if layer == "lifecycle":
                        workflows.lifecycle(ctx)
                    elif layer == "negative":
                        workflows.negative(ctx)
                    elif layer == "schema":
                        schema_layer.run(ctx, opts.examples)
                except TargetUnreachable as exc:
                    report.unreachable = f"cannot reach {without_userinfo(url)}: {exc}"
                    break
                except TargetUnstable as exc:
                    report.unstable.append(f"{layer}: {exc}")
                except ModuleNotFoundError as exc:
                    if (exc.name or "").split(".")[0] != "schemathesis":
                        raise
                    report.errors.append(not_installed("schemathesis", f"{layer}: the schema layer",
                                                       "or run the other layers (--layer)"))
                except KeyboardInterrupt:  # SIGINT or SIGTERM: the jobs are cancelled, the report keeps what was seen
                    report.interrupted = True
                    break
                except Exception as exc:  # connection refused, DNS, TLS: the target, not the contract
                    if isinstance(exc, httpx.HTTPError):
                        report.errors.append(f"{layer}: cannot reach the target ({type(exc).__name__})")
                        break
                    raise
        finally:
            if ctx.created_jobs and report.unreachable is None:
                opts.progress("cancel the jobs this run created")
                workflows.cleanup(ctx)
            client.close()
        if report.unreachable is None:
            blind = session.could_not_see()
            if blind is not None:
                report.unreachable = f"{without_userinfo(url)}: {blind}"
        return report


class FaultRow(NamedTuple):
    """One fault's run in the matrix: detected or not, by which rules, and the run itself."""

    fault: str
    detected: bool
    rules: list[str]
    report: RunReport


def fault_matrix(faults: list[str], on_row: Callable[[FaultRow], None] | None = None,
                 **options: Any) -> list[FaultRow]:
    """Run the check against the embedded server once per fault, telling ``on_row`` each row as it is done.

    Strict: a fault is detected when any finding, a warning too, fails the run.
    """
    rows = []
    for fault in faults:
        report = run_check(make(CheckOptions, {**options, "fault": (fault,), "strict": True}))
        row = FaultRow(fault, not report.ok, sorted(report.by_rule()), report)
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows
