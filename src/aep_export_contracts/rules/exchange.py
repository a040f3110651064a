"""Rules of a whole exchange: operation, headers, status codes, and request/response cross rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..findings import Finding
from ..spec.api import HEADERS, JOB_STATUSES, JSON_MEDIA_TYPE, PAGING
from . import Hit, Rule, meta_rule, rule
from .util import as_int, as_list, dig, ptr

if TYPE_CHECKING:
    from ..http import Exchange, ExchangeView
    from ..spec.api import Operation

EXCHANGE = ("exchange",)


def _meta(rule_id: str, name: str, severity: str, summary: str, description: str) -> Rule:
    return meta_rule(rule_id, name, severity, "exchange", EXCHANGE, summary, description)


UNKNOWN_OPERATION = _meta(
    "AEC501", "unknown-operation", "error", "The method and path name no operation of the API.",
    "The exchange's path matches none of the five operations, or the path is known but not with this "
    "method. The tutorial sends its cancel as POST …/export/jobs/726: cancel is DELETE.")
MISSING_HEADER = _meta(
    "AEC502", "missing-header", "error", "A required request header is missing or malformed.",
    "Every call sends Authorization (Bearer token), x-api-key, x-gw-ims-org-id and x-sandbox-name; "
    "POST adds Content-Type: application/json. Translated header names (the tutorial's 'Behörighet', "
    "'Innehållstyp') are not headers the platform reads.")
QUERY = _meta(
    "AEC503", "query-parameter", "error", "A query parameter has the wrong form.",
    "On the job list, 'limit' is a positive integer, 'offset' the opaque cursor '{creationTimeMs}_{id}' "
    "of the last record of the previous page (not a numeric offset, as the tutorial's 'offset=2' "
    "suggests), and 'status' one of NEW, PROCESSING, SUCCEEDED, FAILED.")
UNDOCUMENTED_STATUS = _meta(
    "AEC504", "undocumented-status", "error", "The answer's status code is not one the operation gives.",
    "Success codes are exact: create-job answers 200 (not 201), dataset creation 201, cancel 200 with a "
    "body or 204 without. Error codes: 400, 401, 403, 404 (by id), 413, 415, 429, 500, 503.")
RESPONSE_HEADER = _meta(
    "AEC505", "response-header", "error", "A required response header is missing.",
    "Create-job answers carry X-Location (the job's href), dataset creation Location, and 429 "
    "Retry-After.")
BODY = _meta(
    "AEC506", "body-presence", "error", "A body is missing where one is required, or present where none is.",
    "POST requests carry a JSON body; a 204 answer carries none; a 200 answer of an operation that "
    "documents a body carries one.")
ACCEPTED_INVALID = _meta(
    "AEC507", "invalid-request-accepted", "error", "An invalid request was answered with success.",
    "A request body that breaks its contract must be rejected with a 4xx answer; a 2xx answer means the "
    "server accepted a payload the API does not allow.")

#: translated header names the tutorial prints, and the real header each stands for
TRANSLATED = {"behörighet": HEADERS.authorization, "innehållstyp": HEADERS.content_type,
              "auktorisering": HEADERS.authorization}
#: the spelling of each required header, by its lower-case name
SPELLING = {h.lower(): h for h in (*HEADERS.credentials, HEADERS.content_type)}


_AUTHORIZATION, _CONTENT_TYPE = HEADERS.authorization.lower(), HEADERS.content_type.lower()


def unknown_operation(exchange: Exchange, candidates: list[Operation]) -> Iterator[Finding]:
    if not candidates:
        yield UNKNOWN_OPERATION.finding("/request/path", f"{exchange.path!r} is not a path of the API",
                                        "check the path against the API description")
        return
    methods = sorted({op.method for op in candidates})
    hint = "use " + " or ".join(methods)
    if exchange.method == "POST" and "DELETE" in methods:
        hint = "cancel is DELETE on the job's path, not POST"
    yield UNKNOWN_OPERATION.finding("/request/method",
                                    f"{exchange.method} is not an operation of {candidates[0].template}",
                                    hint)


def missing_headers(exchange: Exchange, op: Operation) -> Iterator[Finding]:
    sent = exchange.request_headers
    for name in op.required_headers:
        value = sent.get(name)
        if value is None:
            proper = SPELLING.get(name, name)
            translated = {TRANSLATED[k]: k for k in sent if k in TRANSLATED}
            hint = f"send '{proper}'"
            if proper in translated:
                hint = f"'{translated[proper]}' is a translated header name: send '{proper}'"
            yield MISSING_HEADER.finding(ptr("request", "headers", name), f"required header {proper!r} is not sent",
                                         hint)
        elif name == _AUTHORIZATION and not value.startswith(HEADERS.bearer_prefix):
            yield MISSING_HEADER.finding(ptr("request", "headers", name),
                                         f"{HEADERS.authorization} is not a {HEADERS.bearer_prefix.strip()} token",
                                         f"send '{HEADERS.bearer_prefix}{{ACCESS_TOKEN}}'")
        elif name == _CONTENT_TYPE and value.split(";")[0].strip().lower() != JSON_MEDIA_TYPE:
            yield MISSING_HEADER.finding(ptr("request", "headers", name),
                                         f"{HEADERS.content_type} is {value[:60]!r}", f"send {JSON_MEDIA_TYPE}")


def query_parameters(exchange: Exchange, op: Operation) -> Iterator[Finding]:
    if op.operation_id != "listExportJobs":
        return
    for key, value in exchange.query:
        where = ptr("request", "query", key)
        if key == "limit" and not (value.isdigit() and int(value) >= 1):
            yield QUERY.finding(where, f"limit {value[:40]!r} is not a positive integer", "send e.g. limit=50")
        elif key == "offset" and not PAGING.cursor.fullmatch(value):
            yield QUERY.finding(where, f"offset {value[:40]!r} is not a paging cursor '{{creationTimeMs}}_{{id}}'",
                                "follow link.next (or page.pageOffset) of the previous page; the offset "
                                "is a cursor, not a record count")
        elif key == "status" and value not in JOB_STATUSES.documented:
            yield QUERY.finding(where, f"status {value[:40]!r} is not a job status",
                                "use " + ", ".join(JOB_STATUSES.documented))


def status_documented(exchange: Exchange, op: Operation, documented: bool) -> Iterator[Finding]:
    if not documented:
        codes = ", ".join(sorted(op.responses))
        yield UNDOCUMENTED_STATUS.finding("/response/status",
                                          f"{op.operation_id} does not answer {exchange.status} "
                                          f"(documented: {codes})", "")


def response_headers(exchange: Exchange, op: Operation) -> Iterator[Finding]:
    assert exchange.status is not None
    for name in op.required_response_headers(exchange.status):
        if name.lower() not in exchange.response_headers:
            yield RESPONSE_HEADER.finding(ptr("response", "headers", name.lower()),
                                          f"a {exchange.status} answer of {op.operation_id} lacks {name}", "")


def _is_job_answer(view: ExchangeView) -> bool:
    return view.operation.operation_id in ("createExportJob", "getExportJob") and isinstance(view.response, dict)


@rule("AEC508", "job-echo", "error", EXCHANGE, scope="exchange",
      operations=("createExportJob",))
def job_echo(view: ExchangeView) -> Iterator[Hit]:
    """A created job echoes the request's destination dataset and schema name.

    The job that create-job answers with names the same destination.datasetId (or its 'dataSetId'
    spelling) and schema.name that the request sent.
    """
    if view.operation.operation_id != "createExportJob" or not isinstance(view.response, dict):
        return
    sent_ds = dig(view.request, "destination", "datasetId")
    got = dig(view.response, "destination")
    got_ds = dig(got, "datasetId") if dig(got, "datasetId") is not None else dig(got, "dataSetId")
    if isinstance(sent_ds, str) and got_ds is not None and got_ds != sent_ds:
        yield Hit("/response/body/destination/datasetId",
                  f"the job's dataset {got_ds!r} is not the requested {sent_ds!r}", "")
    sent_schema, got_schema = dig(view.request, "schema", "name"), dig(view.response, "schema", "name")
    if isinstance(sent_schema, str) and got_schema is not None and got_schema != sent_schema:
        yield Hit("/response/body/schema/name",
                  f"the job's schema {got_schema!r} is not the requested {sent_schema!r}", "")


@rule("AEC509", "org-echo", "error", EXCHANGE, scope="exchange",
      operations=("createExportJob", "getExportJob", "listExportJobs"))
def org_echo(view: ExchangeView) -> Iterator[Hit]:
    """A job's imsOrgId is the org the request was sent for (x-gw-ims-org-id)."""
    org = view.exchange.request_headers.get(HEADERS.org.lower())
    jobs: list[tuple[str, Any]] = []
    if _is_job_answer(view):
        jobs.append(("/response/body", view.response))
    elif view.operation.operation_id == "listExportJobs":
        jobs.extend((f"/response/body/records/{i}", r) for i, r in enumerate(as_list(dig(view.response, "records"))))
    for where, job in jobs:
        got = dig(job, "imsOrgId")
        if org and isinstance(got, str) and got != org:
            yield Hit(f"{where}/imsOrgId", f"imsOrgId {got!r} is not the org the request named", "")


@rule("AEC510", "batches-as-requested", "error", EXCHANGE, scope="exchange",
      operations=("createExportJob",))
def batches_as_requested(view: ExchangeView) -> Iterator[Hit]:
    """A created job's batches follow the request's segmentPerBatch.

    segmentPerBatch true in a request that names segments gives destination.batches with one entry per
    requested segment; otherwise (false, absent, or no segment named, so nothing to split by) the job
    reports a single destination.batchId.
    """
    if view.operation.operation_id != "createExportJob" or not isinstance(view.response, dict):
        return
    per_batch = dig(view.request, "destination", "segmentPerBatch") is True \
        and bool(as_list(dig(view.request, "filter", "segments")))
    destination = dig(view.response, "destination")
    if not isinstance(destination, dict):
        return
    if per_batch:
        batches = destination.get("batches")
        if not isinstance(batches, list):
            yield Hit("/response/body/destination/batches", "segmentPerBatch was requested but the job has "
                      "no batches array", "")
            return
        wanted = [dig(s, "segmentId") for s in as_list(dig(view.request, "filter", "segments"))]
        got = sorted(str(dig(b, "segmentId")) for b in batches)
        if wanted and sorted(map(str, wanted)) != got:
            yield Hit("/response/body/destination/batches", f"{len(batches)} batches for {len(wanted)} "
                      "requested segments: one batch per requested segment is expected", "")
    elif "batchId" not in destination:
        yield Hit("/response/body/destination/batchId", "a job without segmentPerBatch reports no batchId", "")


@rule("AEC511", "job-id-echo", "error", EXCHANGE, scope="exchange",
      operations=("getExportJob",))
def job_id_echo(view: ExchangeView) -> Iterator[Hit]:
    """GET of job N answers job N."""
    if view.operation.operation_id != "getExportJob" or not isinstance(view.response, dict):
        return
    m = view.operation.pattern.fullmatch(view.exchange.path)
    asked = m.group(1) if m else None
    got = as_int(view.response.get("id"))
    if asked is not None and asked.isdigit() and got is not None and got != int(asked):
        yield Hit("/response/body/id", f"asked for job {asked}, got job {got}", "")


@rule("AEC512", "page-over-limit", "error", EXCHANGE, scope="exchange",
      operations=("listExportJobs",))
def page_over_limit(view: ExchangeView) -> Iterator[Hit]:
    """A list page holds no more records than the 'limit' the request asked for."""
    if view.operation.operation_id != "listExportJobs":
        return
    limits = [v for k, v in view.exchange.query if k == "limit" and v.isdigit()]
    records = dig(view.response, "records")
    if limits and isinstance(records, list) and len(records) > int(limits[0]):
        yield Hit("/response/body/records", f"{len(records)} records for limit={limits[0]}",
                  "return at most 'limit' records")
