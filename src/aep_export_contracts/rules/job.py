"""Semantic rules of the job object (create and get answers, list records)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from ..spec.api import JOB_STATUSES as STATUS
from ..spec.contracts import escape, key_tree
from . import CLOSED, Hit, rule
from .util import HEX32, as_int, as_list, dig, ptr

JOB = ("export-job",)
TIMINGS = ("totalTime", "profileExportTime", "aCPDatasetWriteTime")
SECONDS_CEILING = 10**11  # 10^11 ms is March 1973; 10^11 s is the year 5138


# Screens (see rules.rule): JSON Schemas a job may pass only when the rule has nothing to say.

_HEX32_OR_NOTHING = {"pattern": "^(?:[0-9a-f]{32})?$"}  # a pattern passes anything but a string


# Screens in Python (see rules.rule): one pass over a job that says True only when every rule naming the
# screen has nothing to say. Each is the common case of its rules; anything else lets the rules decide.

def _times_agree(job: Any) -> bool:
    """Silent: AEC201 (seconds for milliseconds), AEC202 (totals), AEC203 (order of a block), AEC204 (creation
    before update) and AEC213 (metrics after creation). True when creation and update times are integers of
    milliseconds in order, and every metrics block has an integer start of milliseconds, then no end and no
    total, or an end not before it and no total or the end minus the start; the totalTime block starts no
    earlier than the creation."""
    # (isinstance narrows each value for mypy, and so for the compiled module: a dict's get and an int's
    # comparison are then direct calls, not generic ones)
    if not isinstance(job, dict):
        return False
    created, updated, metrics = job.get("creationTime"), job.get("updateTime"), job.get("metrics")
    if type(created) is not int or type(updated) is not int or not SECONDS_CEILING <= created <= updated \
            or not isinstance(metrics, dict):
        return False
    for block in TIMINGS:
        timing = metrics.get(block)
        if timing is None:
            continue
        if not isinstance(timing, dict):
            return False
        start, end, total = timing.get("startTimeInMs"), timing.get("endTimeInMs"), timing.get("totalTimeInMs")
        if type(start) is not int or start < SECONDS_CEILING:
            return False
        if end is None:
            if total is not None:
                return False
        elif type(end) is not int or end < start or (total is not None and (type(total) is not int
                                                                            or total != end - start)):
            return False
    first = metrics.get("totalTime")
    return first is None or first["startTimeInMs"] >= created


def _status_settled(job: Any) -> bool:
    """Silent: AEC205 (a SUCCEEDED job's end and batch), AEC206 (a FAILED job's errors), AEC207 (a NEW job's end)
    and AEC210 (an undocumented status). True for a job that is running, a SUCCEEDED job with an integer end
    time and one non-empty batch id, a FAILED job with errors, a NEW job with no end time."""
    if not isinstance(job, dict):
        return True
    status = job.get("status")
    if status == STATUS.running:
        return True
    if status == STATUS.succeeded:
        metrics, destination = job.get("metrics"), job.get("destination")
        total = metrics.get("totalTime") if isinstance(metrics, dict) else None
        end = total.get("endTimeInMs") if isinstance(total, dict) else None
        if end.__class__ is not int or not isinstance(destination, dict) or "batches" in destination:
            return False  # (a batches[] array: the rules read it)
        batch = destination.get("batchId")
        return batch.__class__ is str and batch != ""
    if status == STATUS.failed:
        errors = job.get("errors")
        return isinstance(errors, list) and len(errors) > 0
    if status == STATUS.created:
        metrics = job.get("metrics")
        if isinstance(metrics, dict):
            for block in TIMINGS:
                timing = metrics.get(block)
                if isinstance(timing, dict) and timing.get("endTimeInMs") is not None:
                    return False
        return True
    return False


def _one_batch(job: Any) -> bool:
    """Silent: AEC208 (the shape segmentPerBatch gives), AEC209 (dataSetId) and AEC214 (a batch per segment).
    True for a destination without segmentPerBatch true, batches[] or dataSetId."""
    destination = job.get("destination") if isinstance(job, dict) else None
    return not isinstance(destination, dict) or (destination.get("segmentPerBatch") is not True
                                                 and "batches" not in destination and "dataSetId" not in destination)


def _date(ms: int) -> str:
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")
    except (OverflowError, ValueError, OSError):
        return "out of range"


def _obj(node: Any, key: str) -> dict[str, Any]:
    """The object at ``key`` of ``node``, or an empty one (whatever either is instead)."""
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, dict) else {}


def _timings(job: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    metrics = _obj(job, "metrics")
    for block in TIMINGS:
        timing = metrics.get(block)
        if timing.__class__ is dict:
            yield block, timing


def _epoch_fields(job: Any) -> Iterator[tuple[tuple[str, ...], int]]:
    if job.__class__ is not dict:
        return
    for key in ("creationTime", "updateTime"):
        value = job.get(key)
        if value.__class__ is int:
            yield (key,), value
    for block, timing in _timings(job):
        for key in ("startTimeInMs", "endTimeInMs"):
            value = timing.get(key)
            if value.__class__ is int:
                yield ("metrics", block, key), value


@rule("AEC201", "epoch-milliseconds", "error", JOB, screen=_times_agree)
def epoch_milliseconds(job: Any) -> Iterator[Hit]:
    """Times are epoch milliseconds, not seconds.

    creationTime, updateTime and every metrics start and end time are milliseconds since the epoch
    (13 digits today). The official schema says seconds; every real value is milliseconds, so a
    value below 10^11 (a date before March 1973 if it were milliseconds) is read as seconds.
    """
    for path, value in _epoch_fields(job):
        if 0 < value < SECONDS_CEILING:
            yield Hit(ptr(*path), f"{value} looks like seconds since the epoch (as milliseconds it is "
                      f"{_date(value)}; as seconds {_date(value * 1000)})",
                      "send epoch milliseconds: multiply by 1000")


@rule("AEC202", "metrics-total", "error", JOB, screen=_times_agree)
def metrics_total(job: Any) -> list[Hit]:
    """A metrics block's totalTimeInMs is its end minus its start.

    In every timing block of 'metrics' (totalTime, profileExportTime, aCPDatasetWriteTime) that has
    all three values, totalTimeInMs equals endTimeInMs - startTimeInMs.
    """
    metrics = job.get("metrics") if isinstance(job, dict) else None
    if not isinstance(metrics, dict):
        return []
    out = []
    for block in TIMINGS:
        timing = metrics.get(block)
        if not isinstance(timing, dict) or "totalTimeInMs" not in timing:
            continue
        start, end, total = timing.get("startTimeInMs"), timing.get("endTimeInMs"), timing["totalTimeInMs"]
        if start.__class__ is int and end.__class__ is int and total.__class__ is int and total == end - start:
            continue  # the common case: three integers that agree
        start, end, total = as_int(start), as_int(end), as_int(total)
        if start is not None and end is not None and total is not None and total != end - start:
            out.append(Hit(ptr("metrics", block, "totalTimeInMs"),
                           f"totalTimeInMs is {total} but endTimeInMs - startTimeInMs is {end - start}",
                           "compute totalTimeInMs as endTimeInMs - startTimeInMs"))
    return out


@rule("AEC203", "metrics-order", "error", JOB, screen=_times_agree)
def metrics_order(job: Any) -> list[Hit]:
    """A metrics block does not end before it starts."""
    metrics = job.get("metrics") if isinstance(job, dict) else None
    if not isinstance(metrics, dict):
        return []
    out = []
    for block in TIMINGS:
        timing = metrics.get(block)
        if not isinstance(timing, dict) or "endTimeInMs" not in timing:
            continue
        start, end = timing.get("startTimeInMs"), timing["endTimeInMs"]
        if start.__class__ is int and end.__class__ is int and end >= start:
            continue  # the common case: two integers in order
        start, end = as_int(start), as_int(end)
        if start is not None and end is not None and end < start:
            out.append(Hit(ptr("metrics", block, "endTimeInMs"),
                           f"endTimeInMs {end} is earlier than startTimeInMs {start}", ""))
    return out


@rule("AEC204", "creation-before-update", "error", JOB, screen=_times_agree)
def creation_before_update(job: Any) -> list[Hit]:
    """A job is not updated before it was created (creationTime <= updateTime)."""
    if job.__class__ is not dict:
        return []
    created, updated = job.get("creationTime"), job.get("updateTime")
    if created.__class__ is int and updated.__class__ is int and updated >= created:
        return []  # the common case: two integers in order
    created, updated = as_int(created), as_int(updated)
    if created is not None and updated is not None and updated < created:
        return [Hit(ptr("updateTime"), f"updateTime {updated} is earlier than creationTime {created}", "")]
    return []


def _batch_ids(destination: dict[str, Any]) -> list[tuple[str, Any]]:
    """Each batch id of a job's destination, with its pointer."""
    ids = [("/destination/batchId", destination["batchId"])] if "batchId" in destination else []
    batches = destination.get("batches")
    if isinstance(batches, list):
        ids.extend((f"/destination/batches/{i}/batchId", batch.get("batchId") if isinstance(batch, dict) else None)
                   for i, batch in enumerate(batches))
    return ids


@rule("AEC205", "succeeded-complete", "error", JOB, screen=_status_settled)
def succeeded_complete(job: Any) -> list[Hit]:
    """A SUCCEEDED job has its end time and its batch ids.

    Once a job has SUCCEEDED, metrics.totalTime has an endTimeInMs and every batch the export wrote
    (destination.batchId, or each destination.batches[].batchId) is a non-empty id: a reader needs
    them to fetch the exported data.
    """
    if not isinstance(job, dict) or job.get("status") != STATUS.succeeded:
        return []
    out = []
    if as_int(_obj(_obj(job, "metrics"), "totalTime").get("endTimeInMs")) is None:
        out.append(Hit(ptr("metrics", "totalTime", "endTimeInMs"),
                       f"a {STATUS.succeeded} job has no metrics.totalTime.endTimeInMs",
                       "set the end time when the job finishes"))
    ids = _batch_ids(_obj(job, "destination"))
    if not ids:
        out.append(Hit(ptr("destination"), f"a {STATUS.succeeded} job names no batch (neither batchId nor batches[])",
                       "report the batch the export wrote"))
    out.extend(Hit(pointer, f"a {STATUS.succeeded} job has an empty batch id", "report the batch the export wrote")
               for pointer, value in ids if not isinstance(value, str) or value == "")
    return out


@rule("AEC206", "failed-has-errors", "error", JOB, screen=_status_settled)
def failed_has_errors(job: Any) -> list[Hit]:
    """A FAILED job says why: a non-empty 'errors' array."""
    if isinstance(job, dict) and job.get("status") == STATUS.failed and not as_list(job.get("errors")):
        return [Hit(ptr("errors"), f"a {STATUS.failed} job has no 'errors' entry",
                    "add at least one {code, msg, callStack} entry")]
    return []


@rule("AEC207", "new-has-no-end", "error", JOB, screen=_status_settled)
def new_has_no_end(job: Any) -> list[Hit]:
    """A NEW job has not ended: no end time in any metrics block.

    A job that is still NEW has only metrics.totalTime.startTimeInMs; an end time (or a later
    phase's timing) means the status and the metrics disagree.
    """
    if not isinstance(job, dict) or job.get("status") != STATUS.created:
        return []  # the common case, decided by one key
    metrics = job.get("metrics")
    if not isinstance(metrics, dict):
        return []
    out = []
    for block in TIMINGS:
        timing = metrics.get(block)
        if isinstance(timing, dict) and timing.get("endTimeInMs") is not None:
            out.append(Hit(ptr("metrics", block, "endTimeInMs"), f"a {STATUS.created} job has metrics.{block}.endTimeInMs",
                           f"a job's end time belongs to {STATUS.succeeded} or {STATUS.failed}"))
    return out


@rule("AEC208", "segment-per-batch-shape", "error", JOB, screen=_one_batch)
def segment_per_batch_shape(job: Any) -> list[Hit]:
    """segmentPerBatch true gives a batches[] array; false (or absent) gives one batchId.

    The official schema calls 'batches' an object; every answer shows an array, which is what the
    contract expects. A job with both or neither shape cannot be read back reliably.
    """
    destination = job.get("destination") if isinstance(job, dict) else None
    if not isinstance(destination, dict):
        return []
    per_batch = destination.get("segmentPerBatch") is True
    has_batches, has_batch_id = "batches" in destination, "batchId" in destination
    if per_batch == has_batches and not (has_batch_id and has_batches):
        return []  # the common case: the shape its flag says
    out = []
    if per_batch and not has_batches:
        out.append(Hit(ptr("destination", "batches"), "segmentPerBatch is true but there is no 'batches' array",
                       "list one {segmentId, segmentNs, status, batchId} entry per segment"))
    if not per_batch and has_batches:
        out.append(Hit(ptr("destination", "batches"), "'batches' is present but segmentPerBatch is not true",
                       "a job without segmentPerBatch writes one batch: report it as 'batchId'"))
    if per_batch and has_batch_id and has_batches:
        out.append(Hit(ptr("destination", "batchId"), "both 'batchId' and 'batches' are present",
                       "segmentPerBatch true reports batches[] only"))
    return out


@rule("AEC209", "dataset-id-spelling", "warning", JOB, screen=_one_batch)
def dataset_id_spelling(job: Any) -> list[Hit]:
    """The destination's dataset id is spelled 'datasetId'.

    The tutorial's answers spell it 'dataSetId' twice and 'datasetId' everywhere else; the contract
    accepts both, but a client that reads only one spelling breaks on the other.
    """
    destination = job.get("destination") if isinstance(job, dict) else None
    if isinstance(destination, dict) and "dataSetId" in destination:
        return [Hit(ptr("destination", "dataSetId"), "the dataset id is spelled 'dataSetId'",
                    "spell it 'datasetId', as the request does")]
    return []


@rule("AEC210", "undocumented-job-status", "warning", JOB, screen=_status_settled)
def undocumented_status(job: Any) -> list[Hit]:
    """A job status is CANCELLED or CANCELLING, which no source documents.

    The documented statuses are NEW, PROCESSING, SUCCEEDED and FAILED. A cancel is 'marked for
    cancelling' and what the job shows next is undocumented, so these two are accepted with a warning;
    any other value is an error (AEC003).
    """
    status = job.get("status") if isinstance(job, dict) else None
    if status.__class__ is str and status in STATUS.undocumented:
        return [_undocumented(status, status in STATUS.terminal)]
    return []


@lru_cache(maxsize=64)  # a few statuses, each on many jobs: its hit is made once
def _undocumented(status: str, terminal: bool) -> Hit:
    return Hit("/status", f"status {status} is not documented for export jobs",
               "clients should treat it as " + ("terminal" if terminal else "in progress"))


@rule("AEC211", "unknown-response-key", "warning", JOB, screen=CLOSED)
def unknown_response_key(job: Any) -> Iterator[Hit]:
    """A job carries a key no source documents.

    Answers may grow new fields, so an unknown key in a job is a warning, not an error; it often
    reveals a misspelling that clients would silently ignore.
    """
    for parent, key, _node in key_tree("export-job").walk(job):
        yield Hit(f"{parent}/{escape(key)}",
                  f"unknown key {key!r} in a job object", "check the spelling against the contract")


@rule("AEC212", "batch-id-shape", "warning", JOB, screen={"properties": {"destination": {"properties": {
    "batchId": _HEX32_OR_NOTHING, "batches": {"items": {"properties": {"batchId": _HEX32_OR_NOTHING}}}}}}})
def batch_id_shape(job: Any) -> list[Hit]:
    """A batch id is 32 lowercase hex characters.

    Every real batch id is 32 hex characters (da5cfb4de32c4b93a09f7e37fa53ad52). The tutorial's
    'df4gssdfb93a09f7e37fa53ad52' is 27 characters with non-hex letters: an invented id no
    Data Access call will find. An empty batchId is allowed on a FAILED job.
    """
    # an empty id is AEC205's on a SUCCEEDED job and allowed on the others: only a non-empty id is read here
    return [Hit(pointer, f"batch id {value[:64]!r} is not 32 lowercase hex characters ({len(value)} characters)",
                "use the batch id the platform returned")
            for pointer, value in _batch_ids(_obj(job, "destination"))
            if isinstance(value, str) and value and not HEX32.fullmatch(value)]


@rule("AEC213", "metrics-before-creation", "warning", JOB, screen=_times_agree)
def metrics_before_creation(job: Any) -> list[Hit]:
    """A job's metrics start before the job was created.

    metrics.totalTime.startTimeInMs earlier than creationTime is odd (the tutorial's GET example starts
    in January 2019 for a job created in June 2019) but documented, so it is a warning only.
    """
    if job.__class__ is not dict:
        return []
    created, metrics = job.get("creationTime"), job.get("metrics")
    total = metrics.get("totalTime") if isinstance(metrics, dict) else None
    start = total.get("startTimeInMs") if isinstance(total, dict) else None
    if start.__class__ is int and created.__class__ is int and start >= created:
        return []  # the common case: two integers in order
    created, start = as_int(created), as_int(start)
    if created is not None and start is not None and start < created:
        return [Hit(ptr("metrics", "totalTime", "startTimeInMs"),
                    f"startTimeInMs {start} ({_date(start)}) is before creationTime {created} ({_date(created)})",
                    "")]
    return []


@rule("AEC214", "batches-per-segment", "error", JOB, screen=_one_batch)
def batches_per_segment(job: Any) -> list[Hit]:
    """With segmentPerBatch, there is exactly one batch per segment of the job's filter."""
    destination = job.get("destination") if isinstance(job, dict) else None
    if not isinstance(destination, dict) or destination.get("segmentPerBatch") is not True:
        return []  # the common case, decided by one key
    batches = destination.get("batches")
    segments = _obj(job, "filter").get("segments")
    if not isinstance(batches, list) or not isinstance(segments, list):
        return []
    wanted = [dig(s, "segmentId") for s in segments]
    got = [dig(b, "segmentId") for b in batches]
    out = [Hit(ptr("destination", "batches"),
               f"segment {seg!r} has {got.count(seg)} batches; with segmentPerBatch it needs exactly one",
               "write one batch per requested segment")
           for seg in wanted if isinstance(seg, str) and got.count(seg) != 1]
    out.extend(Hit(ptr("destination", "batches", i, "segmentId"),
                   f"batch for segment {seg!r}, which the job's filter does not name", "")
               for i, seg in enumerate(got) if isinstance(seg, str) and seg not in wanted)
    return out
