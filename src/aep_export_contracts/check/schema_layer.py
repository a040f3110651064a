"""The schema-driven layer: schemathesis generates requests from the OpenAPI description.

Requests go through the project's recording client (credentials, retries, write budget); every
answer is judged by the project's exchange validation (registered for every exchange) and, for
positive data, by schemathesis's own response checks. Negative data is judged only by the project's
rules, which call a 2xx answer a violation only when the contract itself rejects the request.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

from ..rules import live as LIVE
from ..spec.api import HEADERS, JSON_MEDIA_TYPE
from ..spec.contracts import bundled_openapi
from .client import TargetUnreachable
from .workflows import JOBS, UNKNOWN_ID, Context

STANDARD_CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
                   "response_headers_conformance", "response_schema_conformance")
AUTH_HEADERS = tuple(h.lower() for h in HEADERS.credentials)


def _checks() -> list[Any]:
    from schemathesis import checks

    return [getattr(checks, name) for name in STANDARD_CHECKS if hasattr(checks, name)]


def run(ctx: Context, examples_per_operation: int) -> None:
    import hypothesis
    import schemathesis
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_dict(bundled_openapi())
    checks = _checks()
    for result in schema.get_all_operations():
        op: Any = result.ok()  # type: ignore[union-attr]
        op_id = op.definition.raw.get("operationId", op.label)
        writes = op.method.upper() in ("POST", "DELETE")
        if writes and not ctx.writes:
            continue
        modes = [("positive", GenerationMode.POSITIVE)]
        if op.method.upper() == "POST" or op_id == "listExportJobs":
            modes.append(("negative", GenerationMode.NEGATIVE))
        strategies: list[tuple[str, Any]] = []
        try:
            strategies += [("examples", s) for s in op.get_strategies_from_examples()]
        except Exception as exc:  # an example schemathesis cannot use is reported, not fatal
            ctx.report.errors.append(f"{op_id}: examples unavailable ({type(exc).__name__})")
        for label, mode in modes:
            strategies.append((label, op.as_strategy(generation_mode=mode)))
        for label, strategy in strategies:
            ctx.progress(f"schemathesis {op_id} ({label})")
            count = 1 if label == "examples" else examples_per_operation

            drive = _driver(ctx, strategy, op_id, label, checks, count)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with contextlib.suppress(hypothesis.errors.Unsatisfiable):
                    drive()
            if ctx.unreachable is not None:
                raise TargetUnreachable(ctx.unreachable)


def _driver(ctx: Context, strategy: Any, op_id: str, label: str, checks: list[Any], count: int) -> Any:
    import hypothesis
    from hypothesis import HealthCheck, given, settings

    @hypothesis.seed(ctx.seed)
    @settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck),
              phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
    @given(case=strategy)
    def drive(case: Any) -> None:
        send(ctx, case, op_id, label, checks)

    return drive


def send(ctx: Context, case: Any, op_id: str, label: str, checks: list[Any]) -> None:
    from schemathesis.core import NotSet

    if ctx.unreachable is not None or (op_id == "createExportJob" and not ctx.may_create()):
        return
    path_parameters = dict(case.path_parameters or {})
    if op_id == "cancelExportJob":
        # never cancel what this run did not create
        path_parameters["EXPORT_JOB_ID"] = ctx.created_jobs[-1] if ctx.created_jobs else UNKNOWN_ID
    path = case.operation.path
    for key, value in path_parameters.items():
        path = path.replace("{" + key + "}", str(value))
    headers = {k: str(v) for k, v in (case.headers or {}).items() if k.lower() not in AUTH_HEADERS}
    body = None if isinstance(case.body, NotSet) else case.body
    params = {k: v if isinstance(v, str) else str(v) for k, v in (case.query or {}).items()}
    if body is not None:
        headers.setdefault(HEADERS.content_type, JSON_MEDIA_TYPE)
    try:
        raw = body if isinstance(body, bytes | bytearray) else None
        observed = ctx.client.request(case.method.upper(), path, json_body=None if raw is not None else body,
                                      content=bytes(raw) if raw is not None else None, headers=headers, params=params,
                                      name=f"schemathesis {op_id} ({label})")
    except TargetUnreachable as exc:  # kept, and raised once hypothesis is out of the way
        ctx.unreachable = str(exc)
        return
    except Exception as exc:  # the target is unstable: reported apart from violations
        ctx.report.unstable.append(f"{op_id}: {type(exc).__name__}")
        return
    if op_id == "createExportJob":
        ctx.note_job(observed)
    ctx.report.add("schema", f"{op_id} ({label})", op_id)
    if label == "negative" or observed.response is None:
        return
    try:
        case.validate_response(observed.response, checks=checks)
    except BaseException as exc:  # schemathesis reports failures as exceptions (groups)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        for failure in getattr(exc, "exceptions", [exc]):
            title = getattr(failure, "title", type(failure).__name__)
            lines = str(getattr(failure, "message", "") or failure).strip().splitlines()
            message = lines[0][:300] if lines else type(failure).__name__
            ctx.report.add("schema", f"schemathesis: {title}", op_id,
                           [LIVE.SCHEMATHESIS.finding("/response", f"{title}: {message}")], observed.exchange)


__all__ = ["JOBS", "run"]
