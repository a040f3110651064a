"""``aep-export-contracts check``: three layers against one target, one report."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..engine.exchange import validate_exchange
from ..findings import Policy
from ..http import Exchange
from ..spec.api import PATHS
from . import schema_layer, workflows
from .client import Client, Credentials, TargetUnstable
from .report import CheckReport
from .safety import check_writes


@dataclass
class CheckOptions:
    base_url: str | None = None
    token: str | None = None
    api_key: str | None = None
    org: str | None = None
    sandbox: str | None = None
    read_only: bool = False
    allow_writes: bool = False
    max_jobs: int = 20
    seed: int = 0
    examples: int = 5
    deadline: float = 60.0
    strict: bool = True
    faults: tuple[str, ...] = ()
    layers: tuple[str, ...] = ("schema", "lifecycle", "negative")
    job_seconds: float = 0.3
    progress: Callable[[str], None] = field(default=lambda _m: None)


def credentials(opts: CheckOptions, embedded: bool) -> Credentials:
    from ..server.app import DEFAULT_API_KEY, DEFAULT_TOKEN

    env = os.environ
    token = opts.token or env.get("AEP_ACCESS_TOKEN") or (DEFAULT_TOKEN if embedded else "")
    api_key = opts.api_key or env.get("AEP_API_KEY") or (DEFAULT_API_KEY if embedded else "")
    org = opts.org or env.get("AEP_IMS_ORG") or ("AECCHECK0000000000000000@AdobeOrg" if embedded else "")
    sandbox = opts.sandbox or env.get("AEP_SANDBOX") or ("aec-check" if embedded else "")
    missing = [name for name, value in (("access token (--token or AEP_ACCESS_TOKEN)", token),
                                        ("API key (--api-key or AEP_API_KEY)", api_key),
                                        ("org id (--org or AEP_IMS_ORG)", org),
                                        ("sandbox (--sandbox or AEP_SANDBOX)", sandbox)) if not value]
    if missing:
        raise ValueError("missing credentials: " + "; ".join(missing))
    return Credentials(token, api_key, org, sandbox)


@contextlib.contextmanager
def target(opts: CheckOptions) -> Iterator[str]:
    if opts.base_url:
        yield opts.base_url.rstrip("/")
        return
    from ..server import ReferenceServer, ServerConfig

    with ReferenceServer(ServerConfig(faults=frozenset(opts.faults), job_seconds=opts.job_seconds)) as server:
        yield server.url


def run_check(opts: CheckOptions) -> CheckReport:
    """Run the check; raises ``ValueError`` or ``UnsafeTarget`` on usage problems before sending anything."""
    embedded = opts.base_url is None
    creds = credentials(opts, embedded)
    with target(opts) as url:
        writes = check_writes(url, read_only=opts.read_only, allow_writes=opts.allow_writes, sandbox=creds.sandbox)
        policy = Policy.make(strict=opts.strict)
        report = CheckReport(url if not embedded else "embedded reference server", opts.seed, policy, creds.secrets())

        def on_exchange(exchange: Exchange) -> None:
            report.exchanges += 1
            report.methods[exchange.method] += 1
            if not PATHS.is_contract_path(exchange.path):
                return
            # what the check itself sent is not the target's fault: only the answer is judged
            findings = [f for f in validate_exchange(exchange, policy=policy).findings
                        if f.pointer.startswith("/response")]
            if findings:
                report.add("contract", exchange.name or f"{exchange.method} {exchange.path}",
                           _operation(exchange), findings, exchange)

        client = Client(url, creds, on_exchange=on_exchange, unstable=report.unstable)
        ctx = workflows.Context(client, report, writes, opts.max_jobs, opts.deadline, opts.seed, progress=opts.progress)
        try:
            for layer in opts.layers:
                try:
                    if layer == "lifecycle":
                        workflows.lifecycle(ctx)
                    elif layer == "negative":
                        workflows.negative(ctx)
                    elif layer == "schema":
                        schema_layer.run(ctx, opts.examples)
                except TargetUnstable as exc:
                    report.unstable.append(f"{layer}: {exc}")
                except Exception as exc:  # connection refused, DNS, TLS: the target, not the contract
                    import httpx

                    if isinstance(exc, httpx.HTTPError):
                        report.errors.append(f"{layer}: cannot reach the target ({type(exc).__name__})")
                        break
                    raise
        finally:
            if ctx.created_jobs:
                opts.progress("cancel the jobs this run created")
                workflows.cleanup(ctx)
            client.close()
        return report


def _operation(exchange: Exchange) -> str:
    from ..spec.api import find_operation

    op, _ = find_operation(exchange.method, exchange.path)
    return op.operation_id if op else f"{exchange.method} {exchange.path}"


def fault_matrix(faults: list[str], **options: object) -> list[tuple[str, bool, list[str]]]:
    """Run the check against the embedded server once per fault: (fault, detected, rules that fired)."""
    rows = []
    for fault in faults:
        report = run_check(CheckOptions(faults=(fault,), **options))  # type: ignore[arg-type]
        rows.append((fault, not report.ok, sorted(report.by_rule())))
    return rows
