"""Labelled mutations: each turns a valid payload into one that breaks exactly one named rule.

A mutation changes a payload in place and returns the JSON pointer where its rule must fire, or
None when it does not apply to this payload. Whether the rule really fires is verified by the
caller (``strategies``) after a round trip through JSON bytes: an example that does not trigger
its label is discarded, never passed on as negative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..engine.payload import MAX_DEPTH
from ..spec.api import JOB_STATUSES as STATUS
from ..spec.api import PAGING
from ..spec.contracts import CONTRACT_NAMES, escape, required_paths
from .builders import Source, batch_id, hexes

__all__ = ["MUTATIONS", "Mutation", "mutations_for"]

Apply = Callable[[Any, Source], str | None]


@dataclass(frozen=True)
class Mutation:
    name: str
    rule: str
    contracts: tuple[str, ...]
    apply: Apply
    detect: bool = False  # validated without naming the contract


MUTATIONS: list[Mutation] = []

REQ = ("export-job-request",)
JOB = ("export-job",)
JOBS = ("export-job-request", "export-job")
LIST = ("export-job-list",)


def mutation(rule: str, contracts: tuple[str, ...], *, detect: bool = False) -> Callable[[Apply], Apply]:
    def wrap(fn: Apply) -> Apply:
        MUTATIONS.append(Mutation(fn.__name__, rule, contracts, fn, detect))
        if contracts == JOB or ("export-job" in contracts and rule.startswith("AEC2")):
            MUTATIONS.append(Mutation(f"{fn.__name__}@record", rule, LIST, _in_record(fn), detect))
        return fn
    return wrap


def _in_record(fn: Apply) -> Apply:
    def apply(listing: Any, src: Source) -> str | None:
        records = listing.get("records") if isinstance(listing, dict) else None
        if not records:
            return None
        i = src.integer(0, len(records) - 1)
        where = fn(records[i], src)
        return None if where is None else f"/records/{i}{where}"
    return apply


def _p(*parts: str | int) -> str:
    return "".join("/" + escape(str(p)) for p in parts)


# ---- schema rules ------------------------------------------------------------------------------

#: the paths each contract requires, read from the contracts (those with none have no drop mutation)
REQUIRED_PATHS = {name: list(paths) for name in CONTRACT_NAMES if (paths := required_paths(name))}


def _drop(contract: str) -> Apply:
    def apply(payload: Any, src: Source) -> str | None:
        path = src.choice(REQUIRED_PATHS[contract])
        node = payload
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]
        return _p(*path)
    return apply


for _name in REQUIRED_PATHS:
    MUTATIONS.append(Mutation(f"drop-required-{_name}", "AEC001", (_name,), _drop(_name)))


TYPE_SWAPS: dict[str, list[tuple[tuple[str, ...], Any]]] = {
    "export-job-request": [(("destination", "datasetId"), 42), (("schema",), "_xdm.context.profile"),
                           (("destination", "segmentPerBatch"), "true"), (("filter",), [])],
    "export-job": [(("id",), "726"), (("id",), True), (("creationTime",), "1538615973895"),
                   (("destination",), "5b7c86968f7b6501e21ba9df"), (("imsOrgId",), None)],
    "export-job-list": [(("records",), {}), (("page", "pageSize"), "2")],
    "export-job-cancel": [(("status",), "true")],
    "dataset-request": [(("name",), ["x"]), (("fileDescription", "persisted"), "yes")],
    "dataset-response": [((), {"id": "x"})],
}


def _swap(contract: str) -> Apply:
    def apply(payload: Any, src: Source) -> str | None:
        path, value = src.choice(TYPE_SWAPS[contract])
        node = payload
        for step in path[:-1]:
            if not isinstance(node, dict) or step not in node:
                return None
            node = node[step]
        if not isinstance(node, dict) or (path and path[-1] not in node and path[-1] != "segmentPerBatch"):
            return None
        node[path[-1]] = value
        return _p(*path)
    return apply


for _name in TYPE_SWAPS:
    if _name != "dataset-response":
        MUTATIONS.append(Mutation(f"wrong-type-{_name}", "AEC002", (_name,), _swap(_name)))


@mutation("AEC002", ("dataset-response",))
def response_not_an_array(payload: Any, src: Source) -> str | None:
    payload.clear()
    payload.append(7)
    return "/0"


@mutation("AEC003", JOB)
def status_out_of_enum(job: Any, src: Source) -> str | None:
    job["status"] = src.choice(("DONE", "succeeded", "RUNNING", "QUEUED"))
    return "/status"


def _a_segment(req: Any, src: Source) -> tuple[list[Any], int] | None:
    """The request's segments and the index of one of them, or None when it names none."""
    segments = req.get("filter", {}).get("segments")
    return (segments, src.integer(0, len(segments) - 1)) if segments else None


@mutation("AEC003", REQ)
def segment_status_out_of_enum(req: Any, src: Source) -> str | None:
    if (picked := _a_segment(req, src)) is None:
        return None
    segments, i = picked
    segments[i]["status"] = [src.choice(("qualified", "REALIZED", "active"))]
    return _p("filter", "segments", i, "status", 0)


@mutation("AEC003", ("dataset-request",))
def file_format_out_of_enum(req: Any, src: Source) -> str | None:
    req["fileDescription"]["format"] = src.choice(("xml", "Parquet", "orc"))
    return "/fileDescription/format"


@mutation("AEC004", REQ)
def empty_dataset_id(req: Any, src: Source) -> str | None:
    req["destination"]["datasetId"] = ""
    return "/destination/datasetId"


@mutation("AEC004", REQ)
def merge_policy_version_zero(req: Any, src: Source) -> str | None:
    req["mergePolicy"] = {"id": "timestampOrdered-none-mp", "version": src.choice((0, -1))}
    return "/mergePolicy/version"


@mutation("AEC004", ("dataset-response",))
def empty_dataset_answer(payload: Any, src: Source) -> str | None:
    payload.clear()
    return ""


@mutation("AEC005", ("export-job", "export-job-request", "dataset-request"))
def nan_value(payload: Any, src: Source) -> str | None:
    payload["__nan__"] = float("nan")
    return ""  # NaN is not JSON: the document as a whole does not parse


@mutation("AEC006", ("export-job", "export-job-list"))
def nested_too_deep(payload: Any, src: Source) -> str | None:
    value: Any = []
    for _ in range(1100):
        value = [value]
    payload["extra"] = value
    return "/extra" + "/0" * MAX_DEPTH  # where the nesting passes the deepest a payload may go


@mutation("AEC007", ("export-job",))
def oversized_string(job: Any, src: Source) -> str | None:
    job["requestId"] = "x" * ((1 << 20) + 1)
    return "/requestId"


@mutation("AEC008", ("error",))
def unknown_error_shape(err: Any, src: Source) -> str | None:
    err.clear()
    err["error"] = src.choice(("denied", "boom"))
    return ""


@mutation("AEC009", ("export-job", "export-job-request", "dataset-request"), detect=True)
def unrecognisable_shape(payload: Any, src: Source) -> str | None:
    payload.clear()
    payload["payload"] = {"kind": "unknown"}
    return ""


# ---- request rules -----------------------------------------------------------------------------

@mutation("AEC101", REQ)
def timestamp_without_offset(req: Any, src: Source) -> str | None:
    flt = req.setdefault("filter", {})
    flt["fromIngestTimestamp"] = src.choice(("2018-10-25T13:22:04", "2018-10-25 13:22:04Z", "2018-02-30T00:00:00Z",
                                             "25/10/2018", "2018-10-25T25:00:00Z", "1540498924"))
    return "/filter/fromIngestTimestamp"


@mutation("AEC102", REQ)
def inverted_window(req: Any, src: Source) -> str | None:
    flt = req.setdefault("filter", {})
    flt["segmentQualificationTime"] = {"startTime": "2019-09-02T00:00:00Z",
                                       "endTime": src.choice(("2019-09-01T00:00:00Z", "2019-09-02T01:00:00+02:00"))}
    return "/filter/segmentQualificationTime/endTime"


@mutation("AEC103", JOBS)
def bad_fields_syntax(payload: Any, src: Source) -> str | None:
    payload["fields"] = src.choice(("identities.id,", ",identities.id", "a,,b", "identities. id", "identities..id",
                                    "", "personalEmail.address;identities.id"))
    return "/fields"


@mutation("AEC104", REQ)
def duplicate_status(req: Any, src: Source) -> str | None:
    if (picked := _a_segment(req, src)) is None:
        return None
    segments, i = picked
    value = src.choice(("realized", "existing", "exited"))
    segments[i]["status"] = [value, value]
    return _p("filter", "segments", i, "status", 1)


@mutation("AEC105", REQ)
def unknown_request_key(req: Any, src: Source) -> str | None:
    key = src.choice(("fromTimestamp", "segmentPerBatches", "dataSetId", "limit"))
    if key == "fromTimestamp":
        req.setdefault("filter", {})[key] = "2018-10-25T13:22:04Z"
        return "/filter/fromTimestamp"
    if key in ("segmentPerBatches", "dataSetId"):
        req["destination"][key] = True if key == "segmentPerBatches" else "5b020a27e7040801dedba61b"
        return f"/destination/{key}"
    req[key] = 10
    return "/limit"


@mutation("AEC105", ("dataset-request",))
def unknown_dataset_key(req: Any, src: Source) -> str | None:
    req["schemaId"] = "https://ns.adobe.com/xdm/context/profile__union"
    return "/schemaId"


@mutation("AEC106", JOBS)
def corrupted_uuid(payload: Any, src: Source) -> str | None:
    payload["mergePolicy"] = {"id": "1rfe8422-334d-12f4-3sd4-12cf6g990g51", "version": 1}
    return "/mergePolicy/id"


# ---- job rules ---------------------------------------------------------------------------------

@mutation("AEC201", JOB)
def seconds_not_milliseconds(job: Any, src: Source) -> str | None:
    job["creationTime"] //= 1000
    return "/creationTime"


@mutation("AEC202", JOB)
def total_does_not_add_up(job: Any, src: Source) -> str | None:
    timing = job["metrics"]["totalTime"]
    if "endTimeInMs" not in timing:
        return None
    timing["totalTimeInMs"] += src.choice((1, -1, 1000))
    if timing["totalTimeInMs"] < 0:
        timing["totalTimeInMs"] += 2000
    return "/metrics/totalTime/totalTimeInMs"


@mutation("AEC203", JOB)
def ends_before_start(job: Any, src: Source) -> str | None:
    timing = job["metrics"]["totalTime"]
    if "endTimeInMs" not in timing:
        return None
    timing["endTimeInMs"] = timing["startTimeInMs"] - src.integer(1, 10_000)
    timing.pop("totalTimeInMs", None)
    return "/metrics/totalTime/endTimeInMs"


@mutation("AEC204", JOB)
def updated_before_created(job: Any, src: Source) -> str | None:
    job["updateTime"] = job["creationTime"] - src.integer(1, 10_000)
    return "/updateTime"


@mutation("AEC205", JOB)
def succeeded_without_end(job: Any, src: Source) -> str | None:
    job["status"] = STATUS.succeeded
    job.pop("errors", None)
    job["metrics"]["totalTime"].pop("endTimeInMs", None)
    job["metrics"]["totalTime"].pop("totalTimeInMs", None)
    return "/metrics/totalTime/endTimeInMs"


@mutation("AEC206", JOB)
def failed_without_errors(job: Any, src: Source) -> str | None:
    job["status"] = STATUS.failed
    job.pop("errors", None)
    return "/errors"


@mutation("AEC207", JOB)
def new_with_end_time(job: Any, src: Source) -> str | None:
    job["status"] = STATUS.created
    timing = job["metrics"]["totalTime"]
    timing["endTimeInMs"] = timing["startTimeInMs"] + 1000
    timing["totalTimeInMs"] = 1000
    return "/metrics/totalTime/endTimeInMs"


@mutation("AEC208", JOB)
def per_batch_without_batches(job: Any, src: Source) -> str | None:
    destination = job["destination"]
    destination["segmentPerBatch"] = True
    destination.pop("batches", None)
    destination["batchId"] = batch_id(src)
    return "/destination/batches"


@mutation("AEC209", JOB)
def dataset_id_spelling(job: Any, src: Source) -> str | None:
    job["destination"]["dataSetId"] = job["destination"].pop("datasetId")
    return "/destination/dataSetId"


@mutation("AEC210", JOB)
def cancelling_status(job: Any, src: Source) -> str | None:
    job["status"] = STATUS.undocumented[0]
    return "/status"


@mutation("AEC211", JOB)
def unknown_response_key(job: Any, src: Source) -> str | None:
    key = src.choice(("exportJobId", "datasetID", "progress"))
    job[key] = 1
    return f"/{key}"


@mutation("AEC212", JOB)
def bad_batch_id(job: Any, src: Source) -> str | None:
    destination = job["destination"]
    value = src.choice(("df4gssdfb93a09f7e37fa53ad52", hexes(src, 24), hexes(src, 32).upper()))
    if "batches" in destination:
        destination["batches"][0]["batchId"] = value
        return "/destination/batches/0/batchId"
    destination["batchId"] = value
    return "/destination/batchId"


@mutation("AEC213", JOB)
def metrics_before_creation(job: Any, src: Source) -> str | None:
    job["metrics"]["totalTime"]["startTimeInMs"] = job["creationTime"] - src.integer(1, 10**9)
    timing = job["metrics"]["totalTime"]
    if "endTimeInMs" in timing:
        timing["totalTimeInMs"] = timing["endTimeInMs"] - timing["startTimeInMs"]
    return "/metrics/totalTime/startTimeInMs"


@mutation("AEC214", JOB)
def batch_missing_for_segment(job: Any, src: Source) -> str | None:
    batches = job["destination"].get("batches")
    if not batches:
        return None
    batches.append(dict(batches[0]))
    return "/destination/batches"


# ---- list rules --------------------------------------------------------------------------------

@mutation("AEC301", LIST)
def records_out_of_order(listing: Any, src: Source) -> str | None:
    records = listing["records"]
    if len(records) < 2:
        return None
    records[1]["creationTime"] = records[0]["creationTime"] + src.integer(1, 10**6)
    records[1]["updateTime"] = max(records[1]["updateTime"], records[1]["creationTime"])
    listing["page"]["pageOffset"] = f"{records[-1]['creationTime']}_{records[-1]['id']}"
    if listing.get("link", {}).get("next"):
        page = listing["page"]
        listing["link"]["next"] = PAGING.link(f"limit={page['pageSize']}&offset={page['pageOffset']}")
    return "/records/1"


@mutation("AEC302", LIST)
def page_longer_than_size(listing: Any, src: Source) -> str | None:
    if not listing["records"]:
        return None
    listing["page"]["pageSize"] = len(listing["records"]) - 1
    listing.pop("link", None)
    return "/records"


@mutation("AEC303", LIST)
def next_on_last_page(listing: Any, src: Source) -> str | None:
    listing["page"]["pageSize"] = len(listing["records"]) + 1
    listing["link"] = {"next": PAGING.link(f"limit={len(listing['records']) + 1}&offset=1538573416687_722")}
    return "/link/next"


@mutation("AEC304", LIST)
def wrong_cursor(listing: Any, src: Source) -> str | None:
    if not listing["records"]:
        return None
    last = listing["records"][-1]
    listing["page"]["pageOffset"] = f"{last['creationTime']}_{last['id'] + src.integer(1, 9)}"
    return "/page/pageOffset"


# ---- dataset rules -----------------------------------------------------------------------------

@mutation("AEC401", ("dataset-response",))
def bare_dataset_id(payload: Any, src: Source) -> str | None:
    payload[0] = payload[0].rsplit("/", 1)[-1] if src.boolean() else "@/batches/" + payload[0].rsplit("/", 1)[-1]
    return "/0"


@mutation("AEC402", ("dataset-request",))
def not_the_union_schema(req: Any, src: Source) -> str | None:
    req["schemaRef"]["id"] = "https://ns.adobe.com/acme/schemas/" + hexes(src, 16)
    return "/schemaRef/id"


def mutations_for(contract: str) -> list[Mutation]:
    return [m for m in MUTATIONS if contract in m.contracts]
