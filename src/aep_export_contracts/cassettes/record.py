"""``record``: the check's lifecycle and negative workflows through vcrpy, scrubbed, into a cassette."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..findings import Policy, RunReport
from ..http import Exchange, without_userinfo
from ..reproduce import Reproducer
from .har import to_har
from .load import _load, _serializer
from .scrub import Scrubber

if TYPE_CHECKING:
    from ..check.runner import CheckOptions

__all__ = ["record", "to_interaction", "write_recording"]

try:  # the C dumper is much faster where PyYAML was built with libyaml
    from yaml import CSafeDumper as _Dumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]


def _vcr(mode: str, scrubber: Scrubber | None = None) -> Any:
    import vcr

    return vcr.VCR(
        record_mode=mode,
        before_record_request=scrubber.request if scrubber else None,
        before_record_response=scrubber.response if scrubber else None,
        decode_compressed_response=True,
        match_on=("method", "scheme", "host", "port", "path", "query", "body"),
    )


def record(out: str | Path, options: CheckOptions | None = None, **named: Any) -> int:
    """Record the lifecycle and negative workflows into one scrubbed cassette; returns the interaction count.

    The check's options say the target, credentials, seed, writes and job budget: as ``options`` or
    by their names (``base_url=``, ``token=``, ...; ``max_jobs`` is 10 unless given). Raises
    ``OptionError`` for a bad option or a target that may not be written to, ``TargetUnreachable`` for a
    target that cannot be reached (no cassette is left).
    """
    from ..check.client import Client, TargetUnreachable
    from ..check.runner import CheckOptions, credentials, target
    from ..check.workflows import Context, cleanup, lifecycle, negative
    from ..options import make
    from ..target import check_writes

    if options is None:
        options = make(CheckOptions, {"max_jobs": 10, **named})
    opts = options
    base_url, seed, allow_writes, max_jobs = opts.base_url, opts.seed, opts.allow_writes, opts.max_jobs
    creds = credentials(opts, base_url is None)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    # vcrpy writes cassettes, not HAR: for a .har it records into a JSON cassette beside it, which the one
    # writer of recordings then turns into the HAR
    taped = path.with_name(path.name + ".cassette.json") if path.suffix == ".har" else path
    taped.unlink(missing_ok=True)
    scrubber = Scrubber(creds.token, creds.api_key, creds.org, creds.sandbox)
    with target(opts, on_socket=True) as where:
        url = where.url
        writes = check_writes(url, read_only=False, allow_writes=allow_writes, sandbox=creds.sandbox)
        report = RunReport(without_userinfo(url), seed, Policy(), reproduce=Reproducer(creds.secrets()))
        with _vcr("all", scrubber).use_cassette(str(taped), serializer=_serializer(taped)):
            client = Client(url, creds, sleep=where.wait)
            ctx = Context(client, report, writes, max_jobs, opts.deadline, seed, now=where.now)
            interrupted, unreachable = False, None
            try:
                lifecycle(ctx)
                negative(ctx)
            except KeyboardInterrupt:  # SIGINT or SIGTERM: what was recorded is kept, the jobs are cancelled
                interrupted = True
            except TargetUnreachable as exc:
                unreachable = str(exc)
            finally:
                if unreachable is None:
                    cleanup(ctx)
                client.close()
    if unreachable is not None:  # nothing was recorded: no cassette is left behind
        taped.unlink(missing_ok=True)
        raise TargetUnreachable(f"cannot reach {without_userinfo(url)}: {unreachable}")
    data = _load(taped)
    data["aec"] = {"workflow": "lifecycle+negative", "seed": seed, "base_url": scrubber.text(without_userinfo(url)),
                   "writes": writes, "max_jobs": max_jobs, **({"interrupted": True} if interrupted else {})}
    write_recording(path, data)
    if taped != path:
        taped.unlink()
    if interrupted:
        raise KeyboardInterrupt  # the recording is complete for what was seen; the command ends as stopped
    return len(data.get("interactions", []))


def write_recording(path: Path, data: dict[str, Any]) -> None:
    """Write a recording (``interactions``, already scrubbed, and its ``aec`` block) in the format its name
    says: HAR (.har), a JSON cassette (.json), else a YAML cassette. The one writer of every recording."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".har":
        text = json.dumps(to_har(data["interactions"], data.get("aec")), indent=1, ensure_ascii=False)
    elif _serializer(path) == "json":
        text = json.dumps(data, indent=2, ensure_ascii=False)
    else:
        text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def to_interaction(exchange: Exchange) -> dict[str, Any]:
    """An exchange as vcrpy writes an interaction (what ``to_exchange`` reads back)."""

    def text(body: Any) -> str | None:
        if body is None or body == b"":
            return None
        return body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)

    interaction: dict[str, Any] = {
        "request": {"method": exchange.method, "uri": exchange.url, "body": text(exchange.request_body),
                    "headers": {k: [v] for k, v in exchange.request_headers.items()}},
        "response": {"status": {"code": exchange.status, "message": ""},
                     "headers": {k: [v] for k, v in exchange.response_headers.items()},
                     "body": {"string": text(exchange.response_body) or ""}},
    }
    if exchange.started is not None:  # when it happened and how long it took: no secret, and what a HAR viewer shows
        interaction["timing"] = {"started": exchange.started, "ms": round((exchange.elapsed or 0.0) * 1000, 3)}
    return interaction
