"""What a stored job looks like at a moment: status, metrics, batches, derived from the clock.

A job's life is a pure function of its creation time, the server's job duration, an eventual
cancel time and an eventual failure reason, so that state survives restarts and never goes
backwards: NEW for one phase, PROCESSING for a second, then SUCCEEDED (or FAILED).
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..spec.api import JOB_STATUSES as STATUS
from .store import JobRow

CANCELLED_MESSAGE = "Export job was cancelled"
FAILURE_CODE = "0090000009"
CANCEL_CODE = "0090000010"


def batch_id(job_id: int, segment_id: str | None) -> str:
    return hashlib.sha256(f"batch|{job_id}|{segment_id or ''}".encode()).hexdigest()[:32]


def phase_ms(job_seconds: float) -> int:
    return max(1, int(job_seconds * 500))


def status_at(row: JobRow, now: int, job_seconds: float) -> tuple[str, int | None]:
    """(status, end time or None) of a job at ``now``."""
    phase = phase_ms(job_seconds)
    elapsed = now - row.created
    if row.cancelled is not None:
        return STATUS.failed, row.cancelled
    if elapsed < phase:
        return STATUS.created, None
    if row.failure is not None:
        return STATUS.failed, row.created + phase
    if elapsed < 2 * phase:
        return STATUS.running, None
    return STATUS.succeeded, row.created + 2 * phase


def segments_of(request: dict[str, Any]) -> list[dict[str, Any]]:
    flt = request.get("filter")
    segments = flt.get("segments") if isinstance(flt, dict) else None
    return [s for s in segments if isinstance(s, dict)] if isinstance(segments, list) else []


def per_batch(request: dict[str, Any]) -> bool:
    destination = request.get("destination")
    return isinstance(destination, dict) and destination.get("segmentPerBatch") is True and bool(segments_of(request))


def batches(row: JobRow) -> list[tuple[str, dict[str, Any] | None]]:
    """(batch id, segment or None) of every batch the job writes."""
    if per_batch(row.request):
        return [(batch_id(row.id, s.get("segmentId")), s) for s in segments_of(row.request)]
    return [(batch_id(row.id, None), None)]


def render(row: JobRow, now: int, job_seconds: float, *, force: str | None = None,
           exported: int | None = None) -> dict[str, Any]:
    """The job object at ``now`` (``force`` a status, e.g. NEW for the create answer)."""
    status, end = status_at(row, now, job_seconds)
    if force is not None:
        status, end = force, None
    phase = phase_ms(job_seconds)
    request = row.request
    job: dict[str, Any] = {"profileInstanceId": row.profile_instance, "jobType": "BATCH"}
    for key in ("fields", "filter", "additionalFields", "evaluationInfo"):
        if key in request:
            job[key] = request[key]
    job["id"] = row.id
    job["schema"] = request.get("schema", {"name": "_xdm.context.profile"})
    job["mergePolicy"] = request.get("mergePolicy") or {"id": "timestampOrdered-none-mp", "version": 1}
    job["status"] = status
    job["requestId"] = row.request_id
    started = status != STATUS.created
    job["computeGatewayJobId"] = {"exportJob": _uuid(row.id, "export")} if started else {}
    if status == STATUS.succeeded:
        job["computeGatewayJobId"]["pushJob"] = _uuid(row.id, "push")
    total: dict[str, int] = {"startTimeInMs": row.created}
    metrics: dict[str, Any] = {"totalTime": total}
    if end is not None:
        total.update(endTimeInMs=end, totalTimeInMs=end - row.created)
    if started:
        export_start = row.created + phase
        export_time: dict[str, int] = {"startTimeInMs": min(export_start, end) if end is not None else export_start}
        if status == STATUS.succeeded:
            export_end = row.created + phase + phase // 2
            export_time.update(endTimeInMs=export_end, totalTimeInMs=export_end - export_time["startTimeInMs"])
            write_start, write_end = export_end, row.created + 2 * phase
            metrics["aCPDatasetWriteTime"] = {"startTimeInMs": write_start, "endTimeInMs": write_end,
                                              "totalTimeInMs": write_end - write_start}
            if exported is not None:
                metrics["totalExportedProfileCounter"] = exported
        if status != STATUS.failed or end is None or export_time["startTimeInMs"] <= end:
            metrics["profileExportTime"] = export_time
    job["metrics"] = metrics
    destination_in: dict[str, Any] = request["destination"] if isinstance(request.get("destination"), dict) else {}
    destination: dict[str, Any] = {"datasetId": destination_in.get("datasetId", "")}
    if "segmentPerBatch" in destination_in:
        destination["segmentPerBatch"] = per_batch(request)
    written = batches(row)
    if per_batch(request):
        destination["batches"] = [{**{k: v for k, v in (seg or {}).items()}, "batchId": bid} for bid, seg in written]
    else:
        destination["batchId"] = "" if status == STATUS.failed else written[0][0]
    job["destination"] = destination
    if status == STATUS.failed:
        if row.cancelled is not None:
            job["errors"] = [{"code": CANCEL_CODE, "msg": CANCELLED_MESSAGE,
                              "callStack": "aep-export-contracts reference server: cancelled by request"}]
        else:
            job["errors"] = [{"code": FAILURE_CODE, "msg": row.failure or "Job aborted.",
                              "callStack": "aep-export-contracts reference server"}]
    job["updateTime"] = end if end is not None else (row.created + phase if started else row.created)
    job["imsOrgId"] = row.org
    job["creationTime"] = row.created
    return job


def _uuid(job_id: int, kind: str) -> str:
    h = hashlib.sha256(f"{kind}|{job_id}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
