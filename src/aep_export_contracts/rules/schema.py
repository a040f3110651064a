"""Rules whose findings come from the contracts' JSON Schema keywords (and from reading JSON)."""

from __future__ import annotations

from . import schema_rule

ALL = ("export-job-request", "export-job", "export-job-list", "export-job-cancel",
       "dataset-request", "dataset-response", "error")

REQUIRED = schema_rule(
    "AEC001", "required-field", "error", "A required field is missing.",
    "The contract requires this field (JSON Schema 'required'). For a create-job request these are "
    "destination.datasetId and schema.name; for a job object its id, status, jobType, destination, "
    "schema, metrics, creationTime, updateTime and imsOrgId.", ALL)
WRONG_TYPE = schema_rule(
    "AEC002", "wrong-type", "error", "A value has the wrong JSON type.",
    "The value's JSON type is not the one the contract gives the field (JSON Schema 'type'): a job "
    "id is an integer, never a string or a boolean; an error code stays a string.", ALL)
NOT_ALLOWED = schema_rule(
    "AEC003", "value-not-allowed", "error", "A value is not one of the allowed values.",
    "The field takes a closed set of values (JSON Schema 'enum' or 'const'): a job status, a job "
    "type, a segment status, a dataset file format.", ALL)
CONSTRAINT = schema_rule(
    "AEC004", "constraint", "error", "A value breaks a length, size or range constraint.",
    "The value is of the right type but out of bounds (JSON Schema minLength, minItems, minimum "
    "and the like): an empty segment id or dataset id, an empty status list, a merge policy "
    "version below 1, a negative time.", ALL)
NOT_JSON = schema_rule(
    "AEC005", "not-json", "error", "The payload is not valid JSON.",
    "The bytes do not parse as JSON, or the value holds something JSON cannot carry: NaN or "
    "Infinity, a non-string object key, a Python object of another type.", ALL)
TOO_DEEP = schema_rule(
    "AEC006", "too-deep", "error", "The payload nests deeper than any contract allows.",
    "No payload of this API nests deeper than about ten levels; a document nested a thousand "
    "levels deep is refused before validation rather than risking the parser's or the validator's stack.", ALL)
OVERSIZED = schema_rule(
    "AEC007", "oversized-value", "warning", "A string value is larger than 1 MiB.",
    "No field of this API carries a megabyte of text; a value this large is almost always a bug "
    "(a file pasted into a field, an unbounded concatenation) and a risk for logs and reports.", ALL)
TIMESTAMP = schema_rule(
    "AEC101", "rfc3339-timestamp", "error", "A timestamp is not RFC 3339 with a UTC offset.",
    "Filter timestamps (segmentQualificationTime.startTime and endTime, fromIngestTimestamp, "
    "toIngestTimestamp) are RFC 3339 date-times (the tutorial's 'RFC 339' is a typo) and must "
    "carry an offset: 'Z' or '±hh:mm', as in 2018-10-25T13:22:04-07:00 (JSON Schema format "
    "'date-time').", ("export-job-request", "export-job", "export-job-list"))
FIELDS_SYNTAX = schema_rule(
    "AEC103", "fields-syntax", "error", "A 'fields' list is not comma-separated dot paths.",
    "'fields' and 'additionalFields.eventList.fields' take XDM dot paths separated by commas, such as "
    "'identities.id,personalEmail.address' (JSON Schema 'pattern'). An empty element (',,' or a trailing "
    "comma), a space inside a path or a path that starts or ends with a dot selects nothing.",
    ("export-job-request", "export-job", "export-job-list"))
UNIQUE_STATUS = schema_rule(
    "AEC104", "unique-segment-status", "error", "A segment's status list repeats a value.",
    "filter.segments[].status is a set of 'realized', 'existing' and 'exited': each value at most "
    "once (JSON Schema 'uniqueItems').", ("export-job-request", "export-job", "export-job-list"))
UNKNOWN_REQUEST_KEY = schema_rule(
    "AEC105", "unknown-request-key", "error", "A request carries a key no source documents.",
    "Request contracts are closed (JSON Schema 'additionalProperties: false'): a key that no source "
    "knows is a typo or a misunderstanding, and the hint names the closest known key. The tutorial's "
    "'fromTimestamp' is such a key: the real one is 'fromIngestTimestamp'.",
    ("export-job-request", "dataset-request"))
ERROR_SHAPE = schema_rule(
    "AEC008", "error-shape", "error", "An error body matches none of the platform's error shapes.",
    "Error bodies are validated loosely: a JSON object in one of the shapes the platform uses "
    "(gateway {error_code, message}; problem {type, status, title, detail} with optional requestId "
    "and errors; throttle {message, statusCode, retryAfterMs}).", ("error",))
UNDETECTED = schema_rule(
    "AEC009", "undetected-contract", "error", "The payload's shape matches no contract.",
    "Without a named contract, the contract is guessed from the payload's keys (records: a list; "
    "destination and schema: a request; id, status and times: a job; an array of '@/dataSets/…': a "
    "dataset answer). A payload that fits none is reported rather than validated against a guess.", ALL)
