"""Builders of valid payloads for every contract, over an abstract source of choices.

The same builders serve hypothesis (``HypothesisSource``: every choice is a draw, so examples
shrink) and bulk generation (``RandomSource``: a seeded ``random.Random``, thousands per second).
Every value they build satisfies the contract with zero error findings.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol, TypeVar

from ..spec.api import JOB_STATUSES as STATUS
from ..spec.api import PAGING

T = TypeVar("T")

__all__ = ["BUILDERS", "HypothesisSource", "RandomSource", "Source"]


class Source(Protocol):
    def integer(self, lo: int, hi: int) -> int: ...
    def choice(self, options: Sequence[T]) -> T: ...
    def boolean(self) -> bool: ...
    def hex(self, n: int) -> str: ...


class RandomSource:
    """Choices from a seeded ``random.Random``."""

    def __init__(self, seed: int | None = None) -> None:
        self.rng = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def boolean(self) -> bool:
        return self.rng.random() < 0.5

    def hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"


#: one strategy object per range, built once: building and unwrapping a strategy on every draw
#: costs more than the draw itself
_RANGES: dict[tuple[int, int], Any] = {}


class HypothesisSource:
    """Choices drawn through hypothesis, so that failing examples shrink.

    Where the engine behind ``draw`` offers choice-level draws (``draw_integer``, ``draw_boolean``:
    hypothesis is pinned, see pyproject.toml), each choice is one such draw, which shrinks as a
    strategy draw does at a fraction of its cost; otherwise each choice draws a cached strategy.
    """

    def __init__(self, draw: Callable[[Any], Any]) -> None:
        from hypothesis import strategies as st

        self.draw = draw
        self.st = st
        engine = getattr(draw, "__self__", None)
        self._draw_integer = getattr(engine, "draw_integer", None)
        self._draw_boolean = getattr(engine, "draw_boolean", None)

    def integer(self, lo: int, hi: int) -> int:
        if self._draw_integer is not None:
            return int(self._draw_integer(lo, hi))
        strategy = _RANGES.get((lo, hi))
        if strategy is None:
            lazy = self.st.integers(lo, hi)
            strategy = _RANGES[(lo, hi)] = getattr(lazy, "wrapped_strategy", lazy)  # unwrapped once, if lazy
        return int(self.draw(strategy))

    def choice(self, options: Sequence[T]) -> T:
        return options[self.integer(0, len(options) - 1)]

    def boolean(self) -> bool:
        if self._draw_boolean is not None:
            return bool(self._draw_boolean(0.5))
        return self.integer(0, 1) == 1

    def hex(self, n: int) -> str:
        return f"{self.integer(0, 16**n - 1):0{n}x}"


FIELD_PATHS = ("identities.id", "personalEmail.address", "person.name.firstName", "person.name.lastName",
               "homeAddress.city", "mobilePhone.number", "_acme.loyalty.tier", "segmentMembership.ups")
EVENT_FIELD_PATHS = ("environment.browserDetails.name", "environment.browserDetails.version",
                     "web.webPageDetails.URL", "commerce.order.priceTotal", "eventType")
NAMESPACES = ("ups", "UPS", "AAM", "AdCloud")
STATUSES = ("realized", "existing", "exited")
MERGE_POLICIES = ("timestampOrdered-none-mp", "dataSetPrecedence-mp")
OFFSETS = ("Z", "+00:00", "-07:00", "+05:30", "+01:00", "-03:00", "+09:45", "z")
EPOCH_2018 = 1514764800000
EPOCH_2026 = 1798761600000


def hexes(src: Source, n: int) -> str:
    return src.hex(n)


def uuid(src: Source) -> str:
    h = hexes(src, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def dataset_id(src: Source) -> str:
    return hexes(src, 24) if src.integer(0, 5) else uuid(src)


def batch_id(src: Source) -> str:
    return hexes(src, 32)


def request_id(src: Source) -> str:
    if src.boolean():
        return uuid(src)
    alphabet = string.ascii_letters + string.digits
    number = int(src.hex(48), 16)
    out = []
    for _ in range(32):
        number, digit = divmod(number, 62)
        out.append(alphabet[digit])
    return "".join(out)


def timestamp(src: Source, at_ms: int | None = None) -> tuple[str, int]:
    """An RFC 3339 date-time with a varied offset, and its epoch milliseconds."""
    ms = at_ms if at_ms is not None else src.integer(EPOCH_2018, EPOCH_2026)
    offset = src.choice(OFFSETS)
    if offset in ("Z", "z"):
        tz: timezone = UTC
    else:
        sign = -1 if offset[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    fraction = src.integer(0, 2)
    ms = -(-ms // 1000) * 1000 if fraction == 0 else ms  # whole seconds, rounded up: windows stay ordered
    moment = datetime.fromtimestamp(ms / 1000, tz)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += f".{ms % 1000:03d}"
    return text + offset, ms


def field_list(src: Source, pool: Sequence[str]) -> str:
    n = src.integer(1, 4)
    chosen: list[str] = []
    for _ in range(n):
        path = src.choice(pool)
        if path not in chosen:
            chosen.append(path)
    return ",".join(chosen)


def status_list(src: Source) -> list[str]:
    first = src.integer(0, 2)
    out = [STATUSES[first]]
    for i in range(3):
        if i != first and src.integer(0, 3) == 0:
            out.append(STATUSES[i])
    return out


def segment(src: Source) -> dict[str, Any]:
    seg: dict[str, Any] = {"segmentId": uuid(src)}
    if src.boolean():
        seg["segmentNs"] = src.choice(NAMESPACES)
    if src.boolean():
        seg["status"] = status_list(src)
    return seg


def window(src: Source, start_key: str, end_key: str) -> dict[str, Any]:
    start_text, start_ms = timestamp(src)
    end_text, _ = timestamp(src, start_ms + src.integer(0, 90 * 86_400_000))
    out: dict[str, Any] = {}
    shape = src.integer(0, 2)
    if shape in (0, 2):
        out[start_key] = start_text
    if shape in (1, 2):
        out[end_key] = end_text
    return out


def export_job_request(src: Source) -> dict[str, Any]:
    req: dict[str, Any] = {}
    if src.boolean():
        req["fields"] = field_list(src, FIELD_PATHS)
    if src.boolean():
        mp: dict[str, Any] = {"id": uuid(src) if src.boolean() else src.choice(MERGE_POLICIES)}
        if src.boolean():
            mp["version"] = src.integer(1, 5)
        req["mergePolicy"] = mp
    if src.boolean():
        flt: dict[str, Any] = {}
        if src.boolean():
            segments: dict[str, dict[str, Any]] = {}
            for _ in range(src.integer(1, 4)):
                seg = segment(src)
                segments.setdefault(seg["segmentId"], seg)  # one entry per segment id
            flt["segments"] = list(segments.values())
        if src.boolean():
            flt["segmentQualificationTime"] = window(src, "startTime", "endTime")
        if src.boolean():
            flt["fromIngestTimestamp"] = timestamp(src)[0]
        if src.boolean():
            flt["emptyProfiles"] = src.boolean()
        req["filter"] = flt
    if src.boolean():
        events: dict[str, Any] = {}
        if src.boolean():
            events["fields"] = field_list(src, EVENT_FIELD_PATHS)
        if src.boolean():
            events["filter"] = window(src, "fromIngestTimestamp", "toIngestTimestamp")
        req["additionalFields"] = {"eventList": events}
    destination: dict[str, Any] = {"datasetId": dataset_id(src)}
    if src.boolean():
        destination["segmentPerBatch"] = src.boolean()
    req["destination"] = destination
    req["schema"] = {"name": "_xdm.context.profile"}
    if src.boolean():
        req["evaluationInfo"] = {"segmentation": src.boolean()}
    return req


def _timing(start: int, end: int | None) -> dict[str, int]:
    out = {"startTimeInMs": start}
    if end is not None:
        out["endTimeInMs"] = end
        out["totalTimeInMs"] = end - start
    return out


def export_job(src: Source, *, status: str | None = None, created: int | None = None,
               job_id: int | None = None, org: str | None = None,
               request: dict[str, Any] | None = None) -> dict[str, Any]:
    """A job in any status, with the invariants that hold in it (echoing ``request`` when given)."""
    status = status or src.choice(STATUS.all)
    request = request if request is not None else export_job_request(src)
    created = created if created is not None else src.integer(EPOCH_2018, EPOCH_2026)
    job: dict[str, Any] = {"profileInstanceId": "ups", "jobType": "BATCH" if src.integer(0, 4) else "STREAMING"}
    for key in ("fields", "filter", "additionalFields", "evaluationInfo"):
        if key in request:
            job[key] = request[key]
    job["id"] = job_id if job_id is not None else src.integer(1, 10**7)
    job["schema"] = request["schema"]
    job["mergePolicy"] = request.get("mergePolicy", {"id": src.choice(MERGE_POLICIES), "version": 1})
    job["status"] = status
    job["requestId"] = request_id(src)
    finished = status in STATUS.terminal
    started = status != STATUS.created
    job["computeGatewayJobId"] = {"exportJob": uuid(src)} if started else {}
    if status == STATUS.succeeded:
        job["computeGatewayJobId"]["pushJob"] = uuid(src)
    start = created + src.integer(0, 500)
    metrics: dict[str, Any] = {}
    end = start + src.integer(1000, 3_600_000) if finished else None
    metrics["totalTime"] = _timing(start, end)
    if started and src.boolean():
        p_start = start + src.integer(0, 1000)
        p_end = p_start + src.integer(0, 1000) if finished or src.boolean() else None
        if end is not None and p_end is not None and p_end > end:
            p_end = end
            p_start = min(p_start, p_end)
        metrics["profileExportTime"] = _timing(p_start, p_end)
    if status == STATUS.succeeded and src.boolean():
        assert end is not None
        metrics["aCPDatasetWriteTime"] = _timing(end - 600, end - 10)
        metrics["totalExportedProfileCounter"] = src.integer(0, 10**6)
    job["metrics"] = metrics
    segments = request.get("filter", {}).get("segments", [])
    per_batch = request["destination"].get("segmentPerBatch", False) and bool(segments)
    destination: dict[str, Any] = {"datasetId": request["destination"]["datasetId"]}
    if "segmentPerBatch" in request["destination"] or per_batch:
        destination["segmentPerBatch"] = per_batch
    if per_batch:
        destination["batches"] = [{**seg, "batchId": batch_id(src)} for seg in segments]
    else:
        destination["batchId"] = "" if status == STATUS.failed and src.boolean() else batch_id(src)
    job["destination"] = destination
    if status == STATUS.failed or (status in STATUS.terminal and status in STATUS.undocumented and src.boolean()):
        job["errors"] = [{"code": src.choice(("0090000009", "unknown", "0090000003")),
                          "msg": src.choice(("Job aborted.", "Export job was cancelled", "Dataset not found")),
                          "callStack": "com.adobe.aep.unifiedprofile.common.logging.Logger"}
                         for _ in range(src.integer(1, 2))]
    job["updateTime"] = end if end is not None else start + src.integer(0, 1000)
    job["imsOrgId"] = org or f"{hexes(src, 24).upper()}@AdobeOrg"
    job["creationTime"] = created
    return job


def export_job_list(src: Source) -> dict[str, Any]:
    limit = src.integer(1, 6)
    count = src.integer(0, limit)
    created = src.integer(EPOCH_2018, EPOCH_2026)
    job_id = src.integer(count + 1, 10**6)
    org = f"{hexes(src, 24).upper()}@AdobeOrg"
    records = []
    for _ in range(count):
        records.append(export_job(src, created=created, job_id=job_id, org=org))
        created -= src.integer(0, 86_400_000)
        job_id -= src.integer(1, 50) if job_id > count else 1
    cursor = f"{records[-1]['creationTime']}_{records[-1]['id']}" if records else ""
    listing: dict[str, Any] = {
        "records": records,
        "page": {"sortField": PAGING.sort_field, "sort": PAGING.sort, "pageOffset": cursor, "pageSize": limit},
    }
    if count == limit:
        listing["link"] = {"next": PAGING.link(f"limit={limit}&offset={cursor}")}
    elif src.boolean():
        listing["link"] = {"next": ""}
    return listing


def export_job_cancel(src: Source) -> dict[str, Any]:
    return {"status": True, "message": "Export job has been marked for cancelling"} if src.integer(0, 3) \
        else {"status": False, "message": "Export job is already finished"}


def dataset_request(src: Source) -> dict[str, Any]:
    req: dict[str, Any] = {
        "name": f"{src.choice(('Profile Data Export', 'Nightly export', 'Loyalty export'))} {src.integer(1, 999)}",
        "schemaRef": {"id": src.choice(("https://ns.adobe.com/xdm/context/profile__union",
                                         "_xdm.context.profile__union")),
                      "contentType": "application/vnd.adobe.xed+json;version=1"},
        "fileDescription": {"persisted": True, "containerFormat": "parquet", "format": "parquet"},
    }
    if src.boolean():
        req["description"] = "Target dataset of a profile export"
    if src.boolean():
        req["tags"] = {"unifiedProfile": ["enabled:true"]}
    if src.boolean():
        req["enableErrorDiagnostics"] = src.boolean()
    if src.boolean():
        req["fileDescription"]["header"] = src.boolean()
        req["fileDescription"]["charset"] = "UTF-8"
        req["fileDescription"]["delimiters"] = [","]
    if src.boolean():
        req["unifiedTags"] = ["export"]
        req["systemLabels"] = []
        req["aspect"] = "production"
    if src.boolean():
        req["dataSourceId"] = src.integer(1, 99999)
    return req


def dataset_response(src: Source) -> list[str]:
    return [f"@/{src.choice(('dataSets', 'datasets'))}/{dataset_id(src)}"]


def error(src: Source) -> dict[str, Any]:
    shape = src.integer(0, 3)
    if shape == 0:
        code, message = src.choice((("403010", "Oauth token is missing."), ("401013", "Oauth token is not valid"),
                                    ("403000", "Api Key is invalid"), ("400003", "Bad request")))
        return {"error_code": code, "message": message}
    if shape == 1:
        status = src.choice((400, 404, 500))
        return {"type": "http://ns.adobe.com/aep/errors/UPAPI-113000-404", "status": status,
                "title": "BadRequestError" if status == 400 else "NotFound", "detail": "See the request."}
    if shape == 2:
        return {"requestId": uuid(src), "errors": {"404": [{"code": "UPAPI-113000-404", "message": "Not found"}]},
                "type": "http://ns.adobe.com/aep/errors/UPAPI-113000-404", "title": "NotFound", "status": 404}
    return {"message": "Too many requests", "cause": "rate limit", "statusCode": "429",
            "retryAfterMs": str(src.integer(100, 5000))}


BUILDERS: dict[str, Callable[[Source], Any]] = {
    "export-job-request": export_job_request,
    "export-job": export_job,
    "export-job-list": export_job_list,
    "export-job-cancel": export_job_cancel,
    "dataset-request": dataset_request,
    "dataset-response": dataset_response,
    "error": error,
}
