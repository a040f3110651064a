"""Named faults: realistic contract violations the reference server commits on purpose."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """A misbehaviour: what it breaks, and the rules a check must fire when it meets it."""

    name: str
    breaks: str
    detected_by: tuple[str, ...]


FAULTS: dict[str, Fault] = {f.name: f for f in (
    Fault("dataset-id-spelling", "jobs spell destination.datasetId as 'dataSetId' everywhere", ("AEC209",)),
    Fault("seconds-timestamps", "creationTime and updateTime in epoch seconds instead of milliseconds", ("AEC201",)),
    Fault("create-201", "create-job answers 201 instead of 200", ("AEC504",)),
    Fault("no-x-location", "create-job answers without the X-Location header", ("AEC505",)),
    Fault("status-backwards", "a SUCCEEDED job is shown as PROCESSING again on every other read", ("AEC601",)),
    Fault("accept-invalid", "an invalid create-job body is accepted with 200 and creates a job", ("AEC507",)),
    Fault("ignore-sandbox", "the sandbox header is ignored: jobs leak across sandboxes", ("AEC604",)),
    Fault("ignore-auth", "missing or wrong credentials are not rejected", ("AEC605",)),
    Fault("repeat-records", "list pages repeat the last record of the previous page", ("AEC603",)),
    Fault("wrong-total", "metrics totalTimeInMs is not endTimeInMs - startTimeInMs", ("AEC202",)),
    Fault("batches-object", "destination.batches is an object keyed by segment id, not an array", ("AEC510",)),
    Fault("unknown-id-500", "GET and DELETE of an unknown job id answer 500 instead of 404", ("AEC607",)),
    Fault("list-ascending", "the job list comes oldest first", ("AEC301",)),
    Fault("failed-without-errors", "a FAILED job carries no 'errors' entry", ("AEC206",)),
    Fault("cancel-ignored", "cancel answers 200 but the job runs on to SUCCEEDED", ("AEC608",)),
    Fault("page-over-limit", "the job list returns one record more than 'limit'", ("AEC302",)),
    Fault("skip-records", "each next page skips the first record after the cursor", ("AEC602",)),
    Fault("status-filter-ignored", "the job list ignores the status filter", ("AEC610",)),
    Fault("lower-case-status", "job statuses are written in lower case ('succeeded')", ("AEC003",)),
)}
