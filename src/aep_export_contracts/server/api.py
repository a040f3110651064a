"""The reference server's behaviour: the Export Jobs API over a store, answers as ``Reply`` values.

``ReferenceApi.handle`` takes a request already routed (which route, which path parameter) and
answers it; it knows nothing of sockets or ASGI. ``asgi.create_app`` puts it on Starlette, and
``app.ReferenceServer`` serves that on a socket with uvicorn.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode

from ..engine.payload import validate_bytes
from ..findings import Severity
from ..rules import is_builtin
from ..rules.dataset import PROFILE_UNION_IDS
from ..spec.api import (
    HEADERS,
    JOB_STATUSES,
    JSON_MEDIA_TYPE,
    PAGING,
    PATHS,
    RESPONSE_HEADERS,
    Operation,
    operation,
    operations,
    tolerated,
)
from . import jobs as J
from .clock import Clock
from .faults import FAULTS
from .profiles import export_rows
from .store import JobRow, Store

#: how long a job of the reference server runs, from NEW to its end, unless told otherwise: the one default
#: of serve, the proxy's embedded upstream, and the check's and record's embedded server
JOB_SECONDS = 5.0
DEFAULT_TOKEN = "aec-local-token"
DEFAULT_API_KEY = "aec-local-key"
STATUS = JOB_STATUSES


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 0
    token: str = DEFAULT_TOKEN
    api_key: str = DEFAULT_API_KEY
    faults: frozenset[str] = frozenset()
    state: str | None = None
    delete_status: int = 200
    job_seconds: float = JOB_SECONDS
    rate_limit: float | None = None
    max_body: int = 1 << 20
    clock: Clock = field(default_factory=Clock)
    read_timeout: float = 30.0  # seconds a client may take to send a request's head, and its body
    idle_timeout: float = 5.0  # seconds a kept-alive connection may sit idle between requests

    def __post_init__(self) -> None:
        unknown = sorted(set(self.faults) - set(FAULTS))
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(unknown)}; known: {', '.join(FAULTS)}")
        if self.delete_status not in (200, 204):
            raise ValueError("delete status is 200 or 204")
        if self.max_body < 0 or not self.read_timeout > 0 or not self.idle_timeout > 0:
            raise ValueError("max_body is not negative; read_timeout and idle_timeout are positive")


def _bounded(digits: str) -> int:
    """A cursor part as a number no larger than any SQLite integer (a longer one is past them all)."""
    return int(digits) if len(digits) <= 18 else (1 << 63) - 1


class Reply(Exception):
    """An answer decided early (auth, validation, limits)."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def gateway(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error_code": code, "message": message})


def service_error(status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None) -> Reply:
    body: dict[str, Any] = {"type": f"https://aep-export-contracts.invalid/errors/{status}", "status": status,
                            "title": title, "detail": detail, "requestId": secrets.token_hex(16)}
    if errors is not None:
        body["errors"] = {str(status): errors}
    return Reply(status, body)


class RateLimiter:
    """A token bucket of ``per_second`` tokens, refilled by the server's clock (a manual one in tests)."""

    def __init__(self, per_second: float, clock: Clock) -> None:
        self.rate = per_second
        self.tokens = per_second
        self.clock = clock
        self.stamp = clock.now_ms() / 1000
        self.lock = threading.Lock()

    def take(self) -> float | None:
        """None when allowed, else seconds until a token is free."""
        with self.lock:
            now = self.clock.now_ms() / 1000
            self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return None
            return (1 - self.tokens) / self.rate


class ReferenceApi:
    """The API's behaviour over one store; thread-safe, shared by every connection."""

    def __init__(self, config: ServerConfig | None = None, **options: Any) -> None:
        self.config = config or ServerConfig(**options)
        self.store = Store(self.config.state)
        self.limiter = RateLimiter(self.config.rate_limit, self.config.clock) if self.config.rate_limit else None
        self._reads: dict[int, int] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.store.close()

    def has(self, fault: str) -> bool:
        return fault in self.config.faults

    # auth and scope
    def scope(self, headers: dict[str, str]) -> tuple[str, str]:
        cfg = self.config
        if not self.has("ignore-auth"):
            auth = headers.get(HEADERS.authorization.lower())
            if not auth:
                raise gateway(401, "401013", "Oauth token is missing.")
            prefix = HEADERS.bearer_prefix
            if not auth.startswith(prefix) or not secrets.compare_digest(auth[len(prefix):], cfg.token):
                raise gateway(401, "401013", "Oauth token is not valid")
            key = headers.get(HEADERS.api_key)
            if not key or not secrets.compare_digest(key, cfg.api_key):
                raise gateway(403, "403000", "Api Key is invalid")
        org = headers.get(HEADERS.org, "")
        sandbox = headers.get(HEADERS.sandbox, "")
        if not org:
            raise gateway(400, "400003", f"Header {HEADERS.org} is required")
        if not sandbox:
            raise gateway(400, "400003", f"Header {HEADERS.sandbox} is required")
        return org, sandbox

    def sandbox_filter(self, sandbox: str) -> str | None:
        return None if self.has("ignore-sandbox") else sandbox

    # bodies
    def parse_body(self, raw: bytes, headers: dict[str, str], contract: str) -> dict[str, Any]:
        content_type = headers.get(HEADERS.content_type.lower(), "").split(";")[0].strip().lower()
        if content_type != JSON_MEDIA_TYPE:
            raise service_error(415, "UnsupportedMediaType", f"send {HEADERS.content_type}: {JSON_MEDIA_TYPE}")
        report = validate_bytes(raw, contract)
        # the server is the API, not a policy: what it accepts never depends on the rules a user installed
        errors = [f for f in report.findings if f.severity is Severity.ERROR and is_builtin(f.rule)]
        if errors and not self.has("accept-invalid"):
            title = "BadRequestError"
            detail = "the request body is not valid JSON" if errors[0].rule == "AEC005" else \
                f"the request body breaks the {contract} contract"
            raise service_error(400, title, detail, [{"code": f.rule, "rule": f.rule, "pointer": f.pointer,
                                                     "message": f.message} for f in errors[:50]])
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise service_error(400, "BadRequestError", "the request body is not valid JSON") from exc
        return payload if isinstance(payload, dict) else {}

    # datasets
    def create_dataset(self, org: str, sandbox: str, body: dict[str, Any]) -> Reply:
        now = self.config.clock.now_ms()
        dataset_id = hashlib.sha256(f"{org}|{sandbox}|{now}|{secrets.token_hex(8)}".encode()).hexdigest()[:24]
        self.store.add_dataset(org, sandbox, dataset_id, body, now)
        return Reply(operation("createDataset").success_status, [f"@/dataSets/{dataset_id}"],
                     {RESPONSE_HEADERS.dataset_location: f"{PATHS.datasets}/{dataset_id}"})

    # jobs
    def create_job(self, org: str, sandbox: str, headers: dict[str, str], body: dict[str, Any]) -> Reply:
        now = self.config.clock.now_ms()
        destination: Any = body.get("destination")
        dataset_id: str = ""
        if isinstance(destination, dict) and isinstance(destination.get("datasetId"), str):
            dataset_id = destination["datasetId"]
        dataset = self.store.dataset(org, sandbox, dataset_id) if dataset_id else None
        failure = None
        schema_ref = dataset.get("schemaRef") if dataset is not None else None
        if dataset is None:
            failure = f"Dataset {dataset_id[:64]!r} not found in this organization and sandbox"
        elif not isinstance(schema_ref, dict) or schema_ref.get("id") not in PROFILE_UNION_IDS:
            failure = f"Dataset {dataset_id!r} is not based on the profile union schema"
        instance = headers.get("x-profile-instance-id") or "ups"
        job_id = self.store.add_job(org, sandbox, now, body, secrets.token_hex(16), failure, instance)
        row = self.store.job(job_id, None, None)
        assert row is not None
        job = self.present(J.render(row, now, self.config.job_seconds, force=STATUS.created), row)
        status = 201 if self.has("create-201") else operation("createExportJob").success_status
        headers_out = {} if self.has("no-x-location") else {RESPONSE_HEADERS.job_location: PATHS.of_job(job_id)}
        return Reply(status, job, headers_out)

    def job_view(self, row: JobRow, *, reading: bool = False, now: int | None = None) -> dict[str, Any]:
        """A job as an answer shows it, at ``now`` (the request's one instant; the clock's now if not given)."""
        now = self.config.clock.now_ms() if now is None else now
        status, _ = J.status_at(row, now, self.config.job_seconds)
        exported = self.write_batches(row) if status == STATUS.succeeded else None
        job = J.render(row, now, self.config.job_seconds, exported=exported)
        if reading and self.has("status-backwards") and job["status"] == STATUS.succeeded:
            with self._lock:
                self._reads[row.id] = self._reads.get(row.id, 0) + 1
                odd = self._reads[row.id] % 2 == 0
            if odd:
                job["status"] = STATUS.running
        return self.present(job, row)

    def present(self, job: dict[str, Any], row: JobRow) -> dict[str, Any]:
        """Apply the answer-shaping faults."""
        destination = job["destination"]
        if self.has("dataset-id-spelling"):
            destination["dataSetId"] = destination.pop("datasetId")
        if self.has("seconds-timestamps"):
            job["creationTime"] //= 1000
            job["updateTime"] //= 1000
        if self.has("wrong-total") and "totalTimeInMs" in job["metrics"]["totalTime"]:
            job["metrics"]["totalTime"]["totalTimeInMs"] += 1
        if self.has("batches-object") and isinstance(destination.get("batches"), list):
            destination["batches"] = {b.get("segmentId", str(i)): b for i, b in enumerate(destination["batches"])}
        if self.has("failed-without-errors"):
            job.pop("errors", None)
        if self.has("lower-case-status"):
            job["status"] = str(job["status"]).lower()
        return job

    def write_batches(self, row: JobRow) -> int:
        """Write a finished job's batch files (once: they are made from the job alone) and count its rows."""
        total = 0
        dataset = J.render(row, row.created, self.config.job_seconds)["destination"]["datasetId"]
        for bid, segment in J.batches(row):
            written = self.store.files(row.org, row.sandbox, bid)
            if written:
                total += sum(records for _, _, records, _ in written)
                continue
            rows = export_rows(row.org, row.sandbox, row.request, segment)
            content = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode()
            self.store.add_file(f"{bid}-0", bid, row.org, row.sandbox, dataset, content, len(rows))
            total += len(rows)
        return total

    def find(self, job_id: str, org: str, sandbox: str) -> JobRow:
        # an id is decimal digits and fits SQLite's integer: anything else is no job (404, never 500)
        known = job_id.isascii() and job_id.isdigit() and len(job_id) < 19
        row = self.store.job(int(job_id), org, self.sandbox_filter(sandbox)) if known else None
        if row is None:
            if self.has("unknown-id-500"):
                raise service_error(500, "InternalServerError", "unexpected error")
            raise service_error(404, "NotFound", f"export job {job_id[:40]!r} not found")
        return row

    def cancel(self, row: JobRow) -> Reply:
        now = self.config.clock.now_ms()
        status, _ = J.status_at(row, now, self.config.job_seconds)
        if status not in STATUS.cancellable:
            return Reply(200, {"status": False, "message": f"Export job has already finished ({status})"})
        if not self.has("cancel-ignored"):
            self.store.cancel(row.id, now)
        if self.config.delete_status == 204:
            return Reply(204)
        return Reply(200, {"status": True, "message": "Export job has been marked for cancelling"})

    def list_jobs(self, org: str, sandbox: str, query: dict[str, list[str]]) -> Reply:
        # the parameters' forms were judged by the description in handle()
        digits = query.get("limit", ["50"])[0].lstrip("0")
        limit = min(int(digits), 500) if len(digits) <= 3 else 500  # pages hold at most 500 records
        offset = query.get("offset", [None])[0]
        cursor = None
        if offset is not None:  # an empty offset is no cursor either (the description's pattern, AEC503)
            created, _, job_id = offset.partition("_")
            # a part longer than any stored number is past every job: compared as the largest one
            cursor = (_bounded(created), _bounded(job_id))
        status_filter = query.get("status", [""])[0]
        ascending = self.has("list-ascending")
        now = self.config.clock.now_ms()
        # one index range from the cursor on (the record at the cursor too, with the repeat-records fault),
        # read until the page and one record beyond it are found: a page costs its own size, not the scope's
        rows = self.store.iter_jobs(org, self.sandbox_filter(sandbox), cursor, ascending,
                                    inclusive=cursor is not None and self.has("repeat-records"))
        if status_filter and not self.has("status-filter-ignored"):
            rows = (r for r in rows if J.status_at(r, now, self.config.job_seconds)[0] == status_filter)
        if cursor is not None and self.has("skip-records"):
            next(rows, None)
        take = limit + 1 if self.has("page-over-limit") else limit
        found = list(itertools.islice(rows, take + 1))
        page, more = found[:take], len(found) > take
        last = page[-1] if page else None
        next_cursor = f"{last.created}_{last.id}" if last else ""
        link = ""
        if more and last is not None:
            params = {"limit": str(limit), "offset": next_cursor}
            if status_filter:
                params["status"] = status_filter
            link = PAGING.link(urlencode(params))
        body = {"records": [self.job_view(r, now=now) for r in page],  # the instant the page was filtered at
                "page": {"sortField": PAGING.sort_field, "sort": "asc" if ascending else PAGING.sort,
                         "pageOffset": next_cursor, "pageSize": limit},
                "link": {"next": link}}
        return Reply(200, body)

    # data access
    def batch_files(self, org: str, sandbox: str, batch: str) -> Reply:
        files = self.store.files(org, sandbox, batch)
        if not files:
            raise service_error(404, "NotFound", f"batch {batch[:40]!r} has no files here")
        data = [{"dataSetFileId": fid, "dataSetId": ds, "version": "1.0.0", "records": n, "size": size,
                 "_links": {"self": {"href": PATHS.of_file(fid)}}}
                for fid, ds, n, size in files]
        return Reply(200, {"data": data, "_page": {"limit": 100, "count": len(data)}, "_links": {}})

    def file(self, org: str, sandbox: str, file_id: str) -> Reply:
        content = self.store.file(org, sandbox, file_id)
        if content is None:
            raise service_error(404, "NotFound", f"file {file_id[:60]!r} not found")
        return Reply(200, content, {HEADERS.content_type: "application/x-ndjson"})

    # routing
    #: (route name, path template, methods), in the order they are tried
    ROUTES: ClassVar[tuple[tuple[str, str, tuple[str, ...]], ...]] = (
        ("dataset", PATHS.datasets, ("POST",)), ("jobs", PATHS.jobs, ("GET", "POST")),
        ("job", PATHS.job, ("GET", "DELETE")), ("batch-files", PATHS.batch_files, ("GET",)),
        ("file", PATHS.file, ("GET",)))
    METHODS: ClassVar[dict[str, tuple[str, ...]]] = {name: methods for name, _, methods in ROUTES}
    #: the operation of the description behind each (route, method)
    OPERATIONS: ClassVar[dict[tuple[str, str], Operation]] = {
        (name, op.method): op for name, template, _ in ROUTES for op in operations() if op.template == template}

    def handle(self, name: str, method: str, param: str, query_string: str, headers: dict[str, str],
               raw: bytes) -> Reply:
        """Answer a request routed to ``name`` (``param``: its one path parameter, if any)."""
        allowed = self.METHODS[name]
        if method == "HEAD" and "GET" in allowed:
            method = "GET"  # answered as GET; the body is left out when it is written
        elif method not in allowed:
            reply = gateway(405, "405000", f"{method[:20]} is not allowed here")
            reply.headers["Allow"] = ", ".join([*allowed, "HEAD"] if "GET" in allowed else allowed)
            raise reply
        if self.limiter is not None:
            wait = self.limiter.take()
            if wait is not None:
                seconds = max(1, int(wait + 0.999))
                raise Reply(429, {"message": "Too many requests", "cause": "rate limit", "statusCode": "429",
                                  "retryAfterMs": str(seconds * 1000)}, {RESPONSE_HEADERS.retry_after: str(seconds)})
        org, sandbox = self.scope(headers)
        op = self.OPERATIONS.get((name, method))  # None for Data Access, which the description leaves out
        query: dict[str, list[str]] = {}
        for key, value in parse_qsl(query_string, keep_blank_values=True):
            problem = op.query_problem(key, value) if op is not None else None  # as rule AEC503 judges it
            if problem is not None:
                raise service_error(400, "BadRequestError", f"{key[:40]} {value[:40]!r} {problem}")
            if value == "" and op is not None and tolerated(op.query_parameter(key), value) is not None:
                continue  # an empty value the API tolerates is read as absent
            query.setdefault(key, []).append(value)
        if name == "dataset":
            return self.create_dataset(org, sandbox, self.parse_body(raw, headers, "dataset-request"))
        if name == "jobs" and method == "POST":
            return self.create_job(org, sandbox, headers, self.parse_body(raw, headers, "export-job-request"))
        if name == "jobs":
            return self.list_jobs(org, sandbox, query)
        if name == "job":
            row = self.find(param, org, sandbox)
            if method == "DELETE":
                return self.cancel(row)
            return Reply(200, self.job_view(row, reading=True))
        if name == "batch-files":
            return self.batch_files(org, sandbox, param)
        return self.file(org, sandbox, param)
