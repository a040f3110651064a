"""Rules of a whole exchange: operation, headers, status codes, and request/response cross rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..spec.api import HEADERS, JOB_STATUSES, JSON_MEDIA_TYPE, operations, tolerated
from . import Hit, rule
from .util import as_int, as_list, dig, ptr

if TYPE_CHECKING:
    from ..http import ExchangeView

EXCHANGE = ("exchange",)
#: the operation id under which rules run for an exchange that no operation matches
NO_OPERATION = "-"

#: translated header names the tutorial prints, and the real header each stands for
TRANSLATED = {"behörighet": HEADERS.authorization, "innehållstyp": HEADERS.content_type,
              "auktorisering": HEADERS.authorization}
#: the spelling of each required header, by its lower-case name
SPELLING = {h.lower(): h for h in (*HEADERS.credentials, HEADERS.content_type)}
_AUTHORIZATION, _CONTENT_TYPE = HEADERS.authorization.lower(), HEADERS.content_type.lower()
_EMPTY: list[Hit] = []


@rule("AEC501", "unknown-operation", "error", scope="exchange", operations=(NO_OPERATION,), on="any")
def unknown_operation(view: ExchangeView) -> Iterator[Hit]:
    """The method and path name no operation of the API.

    The exchange's path matches none of the five operations, or the path is known but not with this
    method. The tutorial sends its cancel as POST …/export/jobs/726: cancel is DELETE.
    """
    exchange, candidates = view.exchange, view.candidates
    if view.operation is not None:
        return
    if not candidates:
        yield Hit("/request/path", f"{exchange.path!r} is not a path of the API", "check the path against the API description")
        return
    methods = sorted({op.method for op in candidates})
    hint = "use " + " or ".join(methods)
    if exchange.method == "POST" and "DELETE" in methods:
        hint = "cancel is DELETE on the job's path, not POST"
    yield Hit("/request/method", f"{exchange.method} is not an operation of {candidates[0].template}", hint)


@rule("AEC502", "missing-header", "error", scope="exchange", on="any")
def missing_headers(view: ExchangeView) -> list[Hit]:
    """A required request header is missing or malformed.

    Every call sends Authorization (Bearer token), x-api-key, x-gw-ims-org-id and x-sandbox-name;
    POST adds Content-Type: application/json. Translated header names (the tutorial's 'Behörighet',
    'Innehållstyp') are not headers the platform reads.
    """
    sent = view.exchange.request_headers
    out: list[Hit] = []
    for name in view.matched.required_headers:
        value = sent.get(name)
        if value is None:
            proper = SPELLING.get(name, name)
            translated = {TRANSLATED[k]: k for k in sent if k in TRANSLATED}
            hint = f"send '{proper}'"
            if proper in translated:
                hint = f"'{translated[proper]}' is a translated header name: send '{proper}'"
            out.append(Hit(ptr("request", "headers", name), f"required header {proper!r} is not sent", hint))
        elif not value.strip():
            out.append(Hit(ptr("request", "headers", name), f"required header {SPELLING.get(name, name)!r} is empty",
                           "send its value"))
        elif name == _AUTHORIZATION and not value.startswith(HEADERS.bearer_prefix):
            out.append(Hit(ptr("request", "headers", name),
                           f"{HEADERS.authorization} is not a {HEADERS.bearer_prefix.strip()} token",
                           f"send '{HEADERS.bearer_prefix}{{ACCESS_TOKEN}}'"))
        elif name == _CONTENT_TYPE and value.split(";")[0].strip().lower() != JSON_MEDIA_TYPE:
            out.append(Hit(ptr("request", "headers", name), f"{HEADERS.content_type} is {value[:60]!r}",
                           f"send {JSON_MEDIA_TYPE}"))
    return out


#: advice for the parameters people get wrong; the rule's verdict comes from the description alone
_QUERY_HINTS = {
    "limit": "send e.g. limit=50",
    "offset": "follow link.next (or page.pageOffset) of the previous page; the offset is the cursor "
              "'{creationTimeMs}_{id}', not a record count",
    "status": "use " + ", ".join(JOB_STATUSES.documented),
    "requestDataSource": "send requestDataSource=true or false",
}


@rule("AEC503", "query-parameter", "error", scope="exchange", on="any", operations=tuple(
    op.operation_id for op in operations() if any(p.get("in") == "query" for p in op.parameters)))
def query_parameters(view: ExchangeView) -> list[Hit]:
    """A query parameter has the wrong form.

    Each query parameter the description gives an operation is judged by its schema there: on the job
    list, 'limit' is a positive integer, 'offset' the opaque cursor '{creationTimeMs}_{id}' of the last
    record of the previous page (not a numeric offset, as the tutorial's 'offset=2' suggests), and
    'status' one of NEW, PROCESSING, SUCCEEDED, FAILED; on dataset creation 'requestDataSource' is true
    or false.
    """
    out: list[Hit] = []
    for key, value in view.exchange.query:
        problem = view.matched.query_problem(key, value)
        if problem is not None:
            out.append(Hit(ptr("request", "query", key), f"{key} {value[:40]!r} {problem}", _QUERY_HINTS.get(key, "")))
    return out


@rule("AEC504", "undocumented-status-code", "error", scope="exchange", on="any")
def status_documented(view: ExchangeView) -> list[Hit]:
    """The answer's status code is not one the operation gives.

    Success codes are exact: create-job answers 200 (not 201), dataset creation 201, cancel 200 with a
    body or 204 without. Error codes: 400, 401, 403, 404 (by id), 413, 415, 429, 500, 503.
    """
    if view.exchange.status is None or view.documented:
        return _EMPTY
    op = view.matched
    codes = ", ".join(sorted(op.responses))
    return [Hit("/response/status", f"{op.operation_id} does not answer {view.exchange.status} (documented: {codes})")]


@rule("AEC505", "response-header", "error", scope="exchange", on="any")
def response_headers(view: ExchangeView) -> list[Hit]:
    """A required response header is missing.

    Create-job answers carry X-Location (the job's href), dataset creation Location, and 429
    Retry-After.
    """
    exchange, op = view.exchange, view.matched
    if exchange.status is None:
        return _EMPTY
    required = op.required_response_headers(exchange.status)
    if not required:  # most answers require none
        return _EMPTY
    return [Hit(ptr("response", "headers", name.lower()), f"a {exchange.status} answer of {op.operation_id} lacks {name}")
            for name in required if name.lower() not in exchange.response_headers]


@rule("AEC506", "body-presence", "error", scope="exchange", on="any")
def body_presence(view: ExchangeView) -> list[Hit]:
    """A body is missing where one is required, or present where none is.

    POST requests carry a JSON body; a 204 answer carries none; a 200 answer of an operation that
    documents a body carries one.
    """
    op, status = view.matched, view.exchange.status
    out: list[Hit] = []
    if op.request_contract and not view.request_present:
        out.append(Hit("/request/body", f"{op.operation_id} needs a JSON body"))
    if status is not None and view.response_present and view.documented and view.response_contract is None:
        out.append(Hit("/response/body", f"a {status} answer carries no body, but this one has one", "send an empty body"))
    elif status is not None and view.response_contract is not None and not view.response_present:
        out.append(Hit("/response/body", f"a {status} answer of {op.operation_id} has a {view.response_contract} "
                       "body, but this one is empty"))
    return out


#: the check attributes the findings on a job made from an invalid request to this rule's violation
INVALID_REQUEST_ACCEPTED = "AEC507"


@rule(INVALID_REQUEST_ACCEPTED, "invalid-request-accepted", "error", scope="exchange", on="any")
def invalid_request_accepted(view: ExchangeView) -> list[Hit]:
    """An invalid request was answered with success.

    A request body that breaks its contract must be rejected with a 4xx answer; a 2xx answer means the
    server accepted a payload the API does not allow.
    """
    if not view.succeeded or not view.request_body_errors:  # (a refused request's errors are not read)
        return _EMPTY
    first = view.request_body_errors[0]
    return [Hit("/response/status", f"the request body breaks the contract ({first.rule} at {first.pointer}) but "
                f"the answer is {view.exchange.status}", "reject an invalid body with 400")]


def _is_job_answer(view: ExchangeView) -> bool:
    return view.matched.operation_id in ("createExportJob", "getExportJob") and isinstance(view.response, dict)


@rule("AEC508", "job-echo", "error", EXCHANGE, scope="exchange",
      operations=("createExportJob",))
def job_echo(view: ExchangeView) -> list[Hit]:
    """A created job echoes the request's destination dataset and schema name.

    The job that create-job answers with names the same destination.datasetId (or its 'dataSetId'
    spelling) and schema.name that the request sent.
    """
    if not isinstance(view.response, dict):  # the rule runs on its operations only (operations=)
        return _EMPTY
    out: list[Hit] = []
    sent_ds = dig(view.request, "destination", "datasetId")
    got = dig(view.response, "destination")
    got_ds = dig(got, "datasetId") if dig(got, "datasetId") is not None else dig(got, "dataSetId")
    if isinstance(sent_ds, str) and got_ds is not None and got_ds != sent_ds:
        out.append(Hit("/response/body/destination/datasetId",
                       f"the job's dataset {got_ds!r} is not the requested {sent_ds!r}", ""))
    sent_schema, got_schema = dig(view.request, "schema", "name"), dig(view.response, "schema", "name")
    if isinstance(sent_schema, str) and got_schema is not None and got_schema != sent_schema:
        out.append(Hit("/response/body/schema/name",
                       f"the job's schema {got_schema!r} is not the requested {sent_schema!r}", ""))
    return out


@rule("AEC509", "org-echo", "error", EXCHANGE, scope="exchange",
      operations=("createExportJob", "getExportJob", "listExportJobs"), concern="security")
def org_echo(view: ExchangeView) -> list[Hit]:
    """A job's imsOrgId is the org the request was sent for (x-gw-ims-org-id)."""
    org = view.exchange.request_headers.get(HEADERS.org.lower())
    if not org:
        return []
    if _is_job_answer(view):
        got = view.response.get("imsOrgId")
        return [_other_org("/response/body", got)] if isinstance(got, str) and got != org else _EMPTY
    if view.matched.operation_id != "listExportJobs":
        return _EMPTY
    out: list[Hit] = []
    for i, job in enumerate(as_list(dig(view.response, "records"))):
        got = job.get("imsOrgId") if isinstance(job, dict) else None
        if isinstance(got, str) and got != org:  # (a record's pointer is written only for a hit)
            out.append(_other_org(f"/response/body/records/{i}", got))
    return out


def _other_org(where: str, got: str) -> Hit:
    return Hit(f"{where}/imsOrgId", f"imsOrgId {got!r} is not the org the request named", "")


@rule("AEC510", "batches-as-requested", "error", EXCHANGE, scope="exchange",
      operations=("createExportJob",))
def batches_as_requested(view: ExchangeView) -> list[Hit]:
    """A created job's batches follow the request's segmentPerBatch.

    segmentPerBatch true in a request that names segments gives destination.batches with one entry per
    requested segment; otherwise (false, absent, or no segment named, so nothing to split by) the job
    reports a single destination.batchId.
    """
    if not isinstance(view.response, dict):  # the rule runs on its operations only (operations=)
        return _EMPTY
    destination = dig(view.response, "destination")
    if not isinstance(destination, dict):
        return _EMPTY
    segments = as_list(dig(view.request, "filter", "segments"))
    if not (dig(view.request, "destination", "segmentPerBatch") is True and segments):
        if "batchId" not in destination:
            return [Hit("/response/body/destination/batchId", "a job without segmentPerBatch reports no batchId", "")]
        return _EMPTY
    batches = destination.get("batches")
    if not isinstance(batches, list):
        return [Hit("/response/body/destination/batches", "segmentPerBatch was requested but the job has "
                    "no batches array", "")]
    wanted = [dig(s, "segmentId") for s in segments]
    got = sorted(str(dig(b, "segmentId")) for b in batches)
    if wanted and sorted(map(str, wanted)) != got:
        return [Hit("/response/body/destination/batches", f"{len(batches)} batches for {len(wanted)} "
                    "requested segments: one batch per requested segment is expected", "")]
    return _EMPTY


@rule("AEC511", "job-id-echo", "error", EXCHANGE, scope="exchange",
      operations=("getExportJob",))
def job_id_echo(view: ExchangeView) -> list[Hit]:
    """GET of job N answers job N."""
    if not isinstance(view.response, dict):  # the rule runs on its operations only (operations=)
        return []
    m = view.matched.pattern.fullmatch(view.exchange.path)
    asked = m.group(1) if m else None
    got = as_int(view.response.get("id"))
    # compared as decimal text: an id of any length (or a digit of another script) never raises
    if asked is not None and asked.isascii() and asked.isdigit() and got is not None \
            and (asked.lstrip("0") or "0") != str(got):
        return [Hit("/response/body/id", f"asked for job {asked}, got job {got}", "")]
    return []


@rule("AEC512", "page-over-limit", "error", EXCHANGE, scope="exchange",
      operations=("listExportJobs",))
def page_over_limit(view: ExchangeView) -> list[Hit]:
    """A list page holds no more records than the 'limit' the request asked for."""
    limits = [v for k, v in view.exchange.query if k == "limit" and v.isascii() and v.isdigit() and len(v) < 19]
    records = dig(view.response, "records")
    if limits and isinstance(records, list) and len(records) > int(limits[0]):
        return [Hit("/response/body/records", f"{len(records)} records for limit={limits[0]}",
                    "return at most 'limit' records")]
    return []


@rule("AEC513", "tolerated-query-value", "warning", scope="exchange", on="any", operations=tuple(
    op.operation_id for op in operations() if any(p.get("in") == "query" for p in op.parameters)))
def tolerated_query_value(view: ExchangeView) -> list[Hit]:
    """A query value the API accepts although its description does not: a client's spelling, or a
    value the docs leave out.

    The API accepts a boolean written 'True' or 'False' (Python's requests writes a bool so, and the
    public client aepp sends requestDataSource=False), but the description's spelling is 'true' and
    'false'. The list's status filter is documented for NEW, SUCCEEDED and FAILED; PROCESSING is a
    job's status too, and the reference server filters on it, but the API does not promise to. An
    empty limit, offset or status (a Postman variable left empty) is read as absent.
    """
    out: list[Hit] = []
    for key, value in view.exchange.query:
        schema = view.matched.query_parameter(key)
        why = tolerated(schema, value)
        if why is None:
            continue
        documented = [v for v in ("true", "false") if v == value.lower()] if schema.get("type") == "boolean" \
            else [str(v) for v in schema.get("enum", ()) if v not in schema.get("x-tolerated", {})]
        fix = f"leave {key} out" if value == "" else f"send {key}=" + " or ".join(documented) if documented else ""
        out.append(Hit(ptr("request", "query", key), f"{key}={value}: {why}", fix))
    return out
