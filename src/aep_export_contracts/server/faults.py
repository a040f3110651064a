"""Named faults: realistic contract violations the reference server commits on purpose."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    breaks: str


FAULTS: dict[str, Fault] = {f.name: f for f in (
    Fault("dataset-id-spelling", "jobs spell destination.datasetId as 'dataSetId' everywhere"),
    Fault("seconds-timestamps", "creationTime and updateTime in epoch seconds instead of milliseconds"),
    Fault("create-201", "create-job answers 201 instead of 200"),
    Fault("no-x-location", "create-job answers without the X-Location header"),
    Fault("status-backwards", "a SUCCEEDED job is shown as PROCESSING again on every other read"),
    Fault("accept-invalid", "an invalid create-job body is accepted with 200 and creates a job"),
    Fault("ignore-sandbox", "the sandbox header is ignored: jobs leak across sandboxes"),
    Fault("ignore-auth", "missing or wrong credentials are not rejected"),
    Fault("repeat-records", "list pages repeat the last record of the previous page"),
    Fault("wrong-total", "metrics totalTimeInMs is not endTimeInMs - startTimeInMs"),
    Fault("batches-object", "destination.batches is an object keyed by segment id, not an array"),
    Fault("unknown-id-500", "GET and DELETE of an unknown job id answer 500 instead of 404"),
    Fault("list-ascending", "the job list comes oldest first"),
    Fault("failed-without-errors", "a FAILED job carries no 'errors' entry"),
    Fault("cancel-ignored", "cancel answers 200 but the job runs on to SUCCEEDED"),
    Fault("page-over-limit", "the job list returns one record more than 'limit'"),
    Fault("skip-records", "each next page skips the first record after the cursor"),
)}
