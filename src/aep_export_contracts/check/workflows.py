"""Lifecycle and negative workflows: explicit, deterministic sequences of calls with their checks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx

from ..findings import RunReport
from ..generation.strategies import generate
from ..http import split_url
from ..rules import live as LIVE
from ..rules.dataset import PROFILE_UNION_IDS, XED_CONTENT_TYPE
from ..spec.api import HEADERS, JOB_STATUSES, PATHS
from .client import Client, Credentials, Observed, TargetUnstable

STATUS = JOB_STATUSES
JOBS = PATHS.jobs
UNION = {"id": PROFILE_UNION_IDS[0], "contentType": XED_CONTENT_TYPE}
UNKNOWN_ID = 9_007_199_254_740_991


@dataclass
class Context:
    client: Client
    report: RunReport
    writes: bool
    max_jobs: int
    deadline: float
    seed: int
    created_jobs: list[int] = field(default_factory=list)
    progress: Callable[[str], None] = lambda _msg: None
    unreachable: str | None = None  # why no connection could be made, once a request found out
    on_created: Callable[[int], None] = lambda _job_id: None  # told of every job this run creates
    now: Callable[[], float] = time.monotonic  # seconds on the target's clock: the deadline is measured on it

    def may_create(self) -> bool:
        return self.writes and len(self.created_jobs) < self.max_jobs

    def note_job(self, observed: Observed) -> int | None:
        if 200 <= observed.status < 300 and isinstance(observed.body, dict) and isinstance(observed.body.get("id"), int):
            job_id = int(observed.body["id"])
            if job_id not in self.created_jobs:
                self.created_jobs.append(job_id)
                self.on_created(job_id)
            return job_id
        return None


def create_dataset(ctx: Context) -> str | None:
    body = {"name": f"aep-export-contracts check {ctx.seed}", "schemaRef": UNION,
            "fileDescription": {"persisted": True, "containerFormat": "parquet", "format": "parquet"}}
    r = ctx.client.request("POST", PATHS.datasets, json_body=body, name="create dataset")
    ctx.report.add("lifecycle", "create target dataset", "createDataset")
    if r.status == 201 and isinstance(r.body, list) and r.body and isinstance(r.body[0], str):
        return r.body[0].rsplit("/", 1)[-1]
    return None


def job_shapes(dataset: str) -> list[tuple[str, dict[str, Any]]]:
    base: dict[str, Any] = {"destination": {"datasetId": dataset}, "schema": {"name": "_xdm.context.profile"}}
    segments = [{"segmentId": "4edc8488-2c35-4f6d-b4c6-9075c68d2df4", "segmentNs": "ups", "status": ["realized"]},
                {"segmentId": "52c26d0d-45f2-47a2-ab30-ed06abc981ff", "segmentNs": "ups",
                 "status": ["realized", "existing"]}]
    return [
        ("no filter", base),
        ("segments", {**base, "filter": {"segments": segments}}),
        ("segments per batch", {**base, "filter": {"segments": segments},
                                "destination": {"datasetId": dataset, "segmentPerBatch": True}}),
        ("event list", {**base, "fields": "identities.id,personalEmail.address",
                        "additionalFields": {"eventList": {"fields": "eventType",
                                                           "filter": {"fromIngestTimestamp": "2018-10-25T13:22:04-07:00"}}}}),
        ("empty profiles", {**base, "filter": {"emptyProfiles": True,
                                               "segmentQualificationTime": {"startTime": "2019-09-01T00:00:00Z",
                                                                            "endTime": "2019-09-02T00:00:00Z"}}}),
        ("evaluation info", {**base, "evaluationInfo": {"segmentation": True},
                             "mergePolicy": {"id": "timestampOrdered-none-mp", "version": 1}}),
    ]


@dataclass
class Watch:
    """What polling saw of one job: its statuses in order and its last body."""

    job_id: int
    label: str
    seen: list[str] = field(default_factory=list)
    last: dict[str, Any] | None = None
    reads_after_end: int = 2  # a terminal status is read twice more: it must stay
    done: bool = False


def poll_all(ctx: Context, jobs: list[tuple[str, int]]) -> dict[int, Watch]:
    """Read every job in rounds until each is terminal (and read twice more), all under one deadline.

    A status that is no documented value ends a job's watch at once: the answer's own finding names it,
    and there is nothing to wait for.
    """
    watches = {job_id: Watch(job_id, label) for label, job_id in jobs}
    until = ctx.now() + ctx.deadline
    delay = 0.05
    while True:
        for w in watches.values():
            if not w.done:
                _read(ctx, w)
            while not w.done and w.seen and w.seen[-1] in STATUS.terminal:
                _read(ctx, w)  # the reads after the end come at once: nothing is left to wait for
        waiting = [w for w in watches.values() if not w.done]
        if not waiting:
            return watches
        if ctx.now() > until:
            for w in waiting:
                last = w.seen[-1] if w.seen else "no answer"
                ctx.report.unstable.append(f"job {w.job_id} ({w.label}) not finished within {ctx.deadline:.0f}s "
                                           f"(last: {last})")
            return watches
        ctx.progress(f"waiting for {len(waiting)} job(s) to finish")
        ctx.client.sleep(delay)
        delay = min(delay * 2, 2.0)


def _read(ctx: Context, w: Watch) -> None:
    r = ctx.client.request("GET", PATHS.of_job(w.job_id), name=f"poll {w.label}")
    if r.status != 200 or not isinstance(r.body, dict):
        w.done = True
        return
    w.last = r.body
    status = str(w.last.get("status"))  # a status that goes back is the session's to judge (AEC601)
    w.seen.append(status)
    if status not in STATUS.all:
        w.done = True  # not a status at all: reported by the answer's own check, not waited for
    elif status in STATUS.terminal:
        w.reads_after_end -= 1
        w.done = w.reads_after_end < 0


def list_all(ctx: Context, limit: int, label: str, credentials: Credentials | None = None,
             max_pages: int = 200, status: str | None = None) -> tuple[list[dict[str, Any]], list[Observed]]:
    records: list[dict[str, Any]] = []
    pages: list[Observed] = []
    params: dict[str, str] = {"limit": str(limit), **({"status": status} if status else {})}
    for _ in range(max_pages):
        r = ctx.client.request("GET", JOBS, params=params, credentials=credentials, name=label)
        pages.append(r)
        if r.status != 200 or not isinstance(r.body, dict):
            break
        page_records = r.body.get("records")
        records.extend(x for x in page_records if isinstance(x, dict)) if isinstance(page_records, list) else None
        link = r.body.get("link")
        nxt = link.get("next") if isinstance(link, dict) else None
        if not isinstance(nxt, str) or not nxt:
            break
        params = dict(parse_qsl(split_url(nxt).query))
        if "limit" not in params:
            params["limit"] = str(limit)
    return records, pages


def walk_the_list(ctx: Context) -> None:
    """Follow link.next from the first page to the last, two records a page: the session judges the walk
    (every job once, newest first, every job created before it on some page)."""
    list_all(ctx, 2, "list all pages")


def list_by_status(ctx: Context, finished: dict[int, str]) -> None:
    """List by each status the run's jobs ended in: the session judges that every record has it, and that
    every job known to have it is there."""
    for status in sorted(set(finished.values()) & set(STATUS.documented)):
        list_all(ctx, 5, f"list {status} jobs", status=status)


def lifecycle(ctx: Context) -> None:
    if not ctx.writes:
        records, pages = list_all(ctx, 5, "list (read-only)", max_pages=3)
        ctx.report.add("lifecycle", f"read {len(pages)} page(s) of jobs", "listExportJobs")
        for record in records[:3]:
            if isinstance(record.get("id"), int):
                ctx.client.request("GET", PATHS.of_job(record['id']), name="get listed job")
                ctx.report.add("lifecycle", "get a listed job", "getExportJob")
        unknown_ids(ctx)
        return
    ctx.progress("create a target dataset")
    dataset = create_dataset(ctx)
    if dataset is None:
        ctx.report.errors.append("the target dataset could not be created: lifecycle workflows skipped")
        return
    created: list[tuple[str, int]] = []
    for label, body in job_shapes(dataset):
        if not ctx.may_create():
            break
        ctx.progress(f"create job: {label}")
        r = ctx.client.request("POST", JOBS, json_body=body, name=f"create job ({label})")
        job_id = ctx.note_job(r)
        ctx.report.add("lifecycle", f"create job ({label})", "createExportJob")
        if job_id is not None:
            created.append((label, job_id))
    cancelled = cancel_running(ctx, dataset)
    ctx.progress(f"poll {len(created) + (cancelled is not None)} job(s)")
    watches = poll_all(ctx, created + ([("cancelled", cancelled)] if cancelled is not None else []))
    for label, job_id in created:
        w = watches[job_id]
        ctx.report.add("lifecycle", f"job reaches a terminal status ({label}): {' → '.join(dict.fromkeys(w.seen))}",
                       "getExportJob")
        if w.last is not None and w.last.get("status") == STATUS.succeeded:
            data_access(ctx, w.last, label)
    ctx.progress("list every page")
    walk_the_list(ctx)
    list_by_status(ctx, {job_id: str(watches[job_id].seen[-1]) for _, job_id in created if watches[job_id].seen})
    unknown_ids(ctx)


def cancel_running(ctx: Context, dataset: str) -> int | None:
    """Create a job and cancel it at once (the session judges that it does not succeed after): its id, or None."""
    if not ctx.may_create():
        return None
    body = {"destination": {"datasetId": dataset}, "schema": {"name": "_xdm.context.profile"}}
    r = ctx.client.request("POST", JOBS, json_body=body, name="create job (to cancel)")
    job_id = ctx.note_job(r)
    if job_id is None:
        return None
    ctx.progress(f"cancel job {job_id}")
    ctx.client.request("DELETE", PATHS.of_job(job_id), name="cancel a running job")
    ctx.report.add("lifecycle", "cancel a running job", "cancelExportJob")
    return job_id


def data_access(ctx: Context, job: dict[str, Any], label: str) -> None:
    destination = job.get("destination") if isinstance(job.get("destination"), dict) else {}
    assert isinstance(destination, dict)
    batch_ids = [destination["batchId"]] if isinstance(destination.get("batchId"), str) else []
    if isinstance(destination.get("batches"), list):
        batch_ids += [b.get("batchId") for b in destination["batches"] if isinstance(b, dict)]
    rows = 0
    for batch in [b for b in batch_ids if isinstance(b, str) and b]:
        r = ctx.client.request("GET", PATHS.of_batch_files(batch), name="list batch files")
        if r.status == 404 and not rows:
            return  # the target does not offer Data Access here
        files = r.body.get("data", []) if isinstance(r.body, dict) else []
        for f in files:
            if isinstance(f, dict) and isinstance(f.get("dataSetFileId"), str):
                content = ctx.client.request("GET", PATHS.of_file(f["dataSetFileId"]), name="read file")
                if isinstance(content.body, bytes | bytearray):
                    rows += len(content.body.splitlines())
                elif isinstance(content.body, dict | list):
                    rows += 1
    counter = (job.get("metrics") or {}).get("totalExportedProfileCounter") if isinstance(job.get("metrics"), dict) else None
    problems = []
    if isinstance(counter, int) and counter != rows:
        problems.append(LIVE.EXPORT_COUNT.finding("/metrics/totalExportedProfileCounter",
                                f"the job reports {counter} exported profiles, its batch files hold {rows} rows"))
    ctx.report.add("lifecycle", f"read the exported files ({label})", "dataAccess", problems)


def unknown_ids(ctx: Context) -> None:
    methods = ("GET", "DELETE") if ctx.writes else ("GET",)
    for method in methods:
        r = ctx.client.request(method, PATHS.of_job(UNKNOWN_ID), name=f"{method} unknown id")
        problems = []
        if r.status != 404:
            problems.append(LIVE.UNKNOWN_ID.finding("/response/status",
                                    f"{method} of unknown job {UNKNOWN_ID} answered {r.status}", "answer 404"))
        ctx.report.add("negative", f"{method} of an unknown id is 404", "getExportJob" if method == "GET" else
                       "cancelExportJob", problems, r.exchange)


def negative(ctx: Context) -> None:
    creds = ctx.client.credentials
    for header in HEADERS.credentials:
        r = ctx.client.request("GET", JOBS, params={"limit": "1"}, drop=(header,), name=f"without {header}")
        problems = []
        if not 400 <= r.status < 500:
            problems.append(LIVE.AUTH.finding("/response/status", f"a list request without {header} answered {r.status}",
                                    "refuse it with 4xx"))
        ctx.report.add("negative", f"missing {header} is refused", "listExportJobs", problems, r.exchange)
    for label, wrong in (("a wrong token", Credentials("aec-wrong-token", creds.api_key, creds.org, creds.sandbox)),
                         ("a wrong API key", Credentials(creds.token, "aec-wrong-key", creds.org, creds.sandbox))):
        r = ctx.client.request("GET", JOBS, params={"limit": "1"}, credentials=wrong, name=f"with {label}")
        problems = []
        if r.status not in (401, 403):
            problems.append(LIVE.AUTH.finding("/response/status", f"a request with {label} answered {r.status}",
                                    "answer 401 or 403"))
        ctx.report.add("negative", f"{label} is refused with 401/403", "listExportJobs", problems, r.exchange)
    if ctx.writes:
        isolation(ctx)
        invalid_payloads(ctx)


def isolation(ctx: Context) -> None:
    if not ctx.created_jobs:
        return
    job_id = ctx.created_jobs[0]
    creds = ctx.client.credentials
    others = (("another sandbox", Credentials(creds.token, creds.api_key, creds.org, f"{creds.sandbox}-aec-probe")),
              ("another org", Credentials(creds.token, creds.api_key, "AECPROBE0000000000000000@AdobeOrg", creds.sandbox)))
    for label, other in others:
        problems = []
        r = ctx.client.request("GET", PATHS.of_job(job_id), credentials=other, name=f"get from {label}")
        if 200 <= r.status < 300:
            problems.append(LIVE.ISOLATION.finding("/response/status", f"job {job_id} is readable from {label}",
                                    "scope every lookup by org and sandbox"))
        listed, _pages = list_all(ctx, 50, f"list from {label}", credentials=other, max_pages=20)
        if job_id in [x.get("id") for x in listed]:
            problems.append(LIVE.ISOLATION.finding("/response/body/records", f"job {job_id} is listed in {label}",
                                    "scope the list by org and sandbox"))
        ctx.report.add("negative", f"a job is invisible from {label}", "getExportJob", problems, r.exchange)


def invalid_payloads(ctx: Context, count: int = 12) -> None:
    from ..rules import get_rule

    before, _ = list_all(ctx, 100, "list before invalid requests", max_pages=20)
    sent = 0
    for record in generate("export-job-request", count * 3, seed=ctx.seed, invalid=True):
        violation = record["violation"]
        if get_rule(violation["rule"]).severity != "error" or violation["rule"] in ("AEC005", "AEC006", "AEC009"):
            continue
        if sent >= count:
            break
        sent += 1
        r = ctx.client.request("POST", JOBS, json_body=record["payload"],
                               name=f"invalid request ({violation['rule']} at {violation['pointer']})")
        problems = []
        if 200 <= r.status < 300:
            ctx.note_job(r)
            problems.append(LIVE.INVALID_CREATED.finding("/response/status",
                                    f"a body breaking {violation['rule']} at {violation['pointer'] or '/'} was "
                                    f"answered {r.status}", "refuse invalid bodies with 400"))
        ctx.report.add("negative", f"invalid body ({violation['mutation']}) is refused", "createExportJob", problems,
                       r.exchange)
    after, pages = list_all(ctx, 100, "list after invalid requests", max_pages=20)
    new = {x.get("id") for x in after} - {x.get("id") for x in before} - set(ctx.created_jobs)
    problems = []
    if new:
        problems.append(LIVE.INVALID_CREATED.finding("/response/body/records",
                                f"{len(new)} job(s) appeared after invalid requests only", ""))
    ctx.report.add("negative", "invalid bodies create no job", "listExportJobs", problems,
                   pages[-1].exchange if pages else None)


def cleanup(ctx: Context) -> list[int]:
    """Cancel every job this run created that has not finished; returns the ids cancelled."""
    cancelled = []
    for job_id in ctx.created_jobs:
        try:
            r = ctx.client.request("GET", PATHS.of_job(job_id), name="cleanup: read")
            if isinstance(r.body, dict) and r.body.get("status") in STATUS.terminal:
                continue
            ctx.client.request("DELETE", PATHS.of_job(job_id), name="cleanup: cancel")
            cancelled.append(job_id)
        except (httpx.HTTPError, TargetUnstable):  # cleanup must reach every job even if one call fails
            continue
    return cancelled
