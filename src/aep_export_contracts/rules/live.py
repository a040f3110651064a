"""Rules the live check applies across several exchanges (lifecycle, paging, isolation, auth)."""

from __future__ import annotations

from . import Rule, meta_rule


def _meta(rule_id: str, name: str, summary: str, description: str, severity: str = "error",
          concern: str = "contract") -> Rule:
    return meta_rule(rule_id, name, severity, "workflow", ("check",), summary, description, concern)


ILLEGAL_TRANSITION = _meta(
    "AEC601", "illegal-transition", "A job's status moved backwards or left a terminal state.",
    "Observed over successive reads, a job goes NEW → PROCESSING → SUCCEEDED or FAILED and never back; "
    "a terminal status stays terminal.")
JOB_NOT_LISTED = _meta(
    "AEC602", "job-not-listed", "A job the run created is missing from the list.",
    "Following link.next from the first page of the list reaches every job of the org and sandbox: a job "
    "the run created and can GET must appear on some page.")
PAGING_DUPLICATE = _meta(
    "AEC603", "paging-duplicate", "A record appears on more than one page, or pages are out of order.",
    "Across the pages reached through link.next each job appears once, and the order stays newest first "
    "across page boundaries.")
ISOLATION = _meta(
    "AEC604", "isolation-breach", "A job is visible from another sandbox or another org.",
    "Every resource lives in one org and one sandbox: under any other x-gw-ims-org-id or x-sandbox-name a "
    "job cannot be read, listed or cancelled (the answer is 403 or 404, and lists leave it out).",
    concern="security")
AUTH = _meta(
    "AEC605", "auth-not-enforced", "A request without valid credentials was not refused.",
    "A request missing any of the four required headers, or with a wrong token or API key, is answered "
    "with 4xx, never with data.", concern="security")
INVALID_CREATED = _meta(
    "AEC606", "invalid-created-job", "An invalid create-job request created a job.",
    "A create-job body that breaks the contract is refused with 4xx and leaves the list of jobs unchanged.")
UNKNOWN_ID = _meta(
    "AEC607", "unknown-id-not-404", "GET or DELETE of an unknown job id is not answered 404.",
    "A job id that does not exist (in this org and sandbox) is answered 404, not 200 and not 5xx.")
CANCEL_IGNORED = _meta(
    "AEC608", "cancel-not-effective", "A cancelled job finished as SUCCEEDED.",
    "After a cancel of a NEW or PROCESSING job was acknowledged, the job ends FAILED (or CANCELLED), not "
    "SUCCEEDED.")
EXPORT_COUNT = _meta(
    "AEC609", "exported-count", "The exported rows do not match totalExportedProfileCounter.",
    "Where the target offers Data Access, the rows in a SUCCEEDED job's batch files add up to "
    "metrics.totalExportedProfileCounter when the job reports it.")
STATUS_FILTER = _meta(
    "AEC610", "status-filter", "A list filtered by status holds another status, or leaves a job of it out.",
    "GET .../export/jobs?status=S answers the jobs whose status is S, all of them (following link.next), "
    "and no other.")
SCHEMATHESIS = _meta(
    "AEC620", "response-breaks-description", "An answer breaks the OpenAPI description (a standard schemathesis check).",
    "The schema-driven layer runs schemathesis's own response checks (server errors, status codes, content "
    "types, response headers and schemas per the OpenAPI description) beside the project's rules.")

CASSETTE = meta_rule(
    "AEC000", "cassette-integrity", "error", "cassette", ("replay",), "A cassette no longer replays as recorded.",
    "Replay fails closed: a request that the recorded workflow makes but the cassette does not hold, or "
    "a finding a cassette annotates as expected that replay no longer reports, is an error.")
