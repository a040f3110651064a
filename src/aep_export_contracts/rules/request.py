"""Semantic rules of the create-job request (and of the request fields a job echoes)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..formats import rfc3339_to_ms
from . import Hit, rule
from .util import UUID, UUID_LIKE, as_dict, as_list, dig, ptr

JOBS = ("export-job-request", "export-job")

_PATH_ELEMENT = re.compile(r"[A-Za-z_@$][A-Za-z0-9_@$:-]*(?:\.[A-Za-z_@$][A-Za-z0-9_@$:-]*)*")


def _fields_problem(value: str) -> str | None:
    if value == "":
        return "is empty (omit 'fields' to export every field)"
    for i, element in enumerate(value.split(",")):
        stripped = element.strip()
        if stripped == "":
            return f"has an empty element at position {i + 1} (a doubled or trailing comma)"
        if _PATH_ELEMENT.fullmatch(stripped) is None:
            return f"element {stripped[:60]!r} is not a dot path like 'personalEmail.address'"
    return None


@rule("AEC103", "fields-syntax", "error", JOBS)
def fields_syntax(payload: Any) -> Iterator[Hit]:
    """'fields' lists are comma-separated dot paths with no empty element.

    'fields' and 'additionalFields.eventList.fields' take XDM dot paths separated by commas, such as
    'identities.id,personalEmail.address'. An empty element (',,' or a trailing comma), a space inside
    a path or a path that starts or ends with a dot selects nothing and is rejected.
    """
    for path in (("fields",), ("additionalFields", "eventList", "fields")):
        value = dig(payload, *path)
        if isinstance(value, str):
            problem = _fields_problem(value)
            if problem:
                yield Hit(ptr(*path), f"'{'.'.join(path)}' {problem}",
                          "write comma-separated dot paths, e.g. 'identities.id,personalEmail.address'")


@rule("AEC102", "time-window-order", "error", JOBS)
def time_window_order(payload: Any) -> Iterator[Hit]:
    """A time window does not end before it starts.

    filter.segmentQualificationTime.startTime must not be later than its endTime, and
    additionalFields.eventList.filter.fromIngestTimestamp not later than toIngestTimestamp:
    an inverted window matches no profile at all.
    """
    pairs = (
        (("filter", "segmentQualificationTime"), "startTime", "endTime"),
        (("additionalFields", "eventList", "filter"), "fromIngestTimestamp", "toIngestTimestamp"),
    )
    for base, start_key, end_key in pairs:
        window = as_dict(dig(payload, *base))
        start, end = window.get(start_key), window.get(end_key)
        if isinstance(start, str) and isinstance(end, str):
            s, e = rfc3339_to_ms(start), rfc3339_to_ms(end)
            if s is not None and e is not None and s > e:
                yield Hit(ptr(*base, end_key), f"{end_key} {end} is earlier than {start_key} {start}",
                          f"swap the two values or move {end_key} after {start_key}")


def _uuid_like(payload: Any) -> Iterator[tuple[str, str]]:
    for i, seg in enumerate(as_list(dig(payload, "filter", "segments"))):
        yield ptr("filter", "segments", i, "segmentId"), dig(seg, "segmentId")
    for i, batch in enumerate(as_list(dig(payload, "destination", "batches"))):
        yield ptr("destination", "batches", i, "segmentId"), dig(batch, "segmentId")
    yield ptr("mergePolicy", "id"), dig(payload, "mergePolicy", "id")


@rule("AEC106", "malformed-uuid", "warning", JOBS)
def malformed_uuid(payload: Any) -> Iterator[Hit]:
    """An id is shaped like a UUID but is not one.

    Segment ids and merge policy ids need not be UUIDs, but a value in the 8-4-4-4-12 shape with
    characters outside 0-9a-f (the tutorial's '1rfe8422-334d-12f4-3sd4-12cf6g990g51') is almost
    certainly a corrupted or invented UUID that will match nothing.
    """
    for pointer, value in _uuid_like(payload):
        if isinstance(value, str) and UUID_LIKE.fullmatch(value) and not UUID.fullmatch(value):
            bad = sorted({c for c in value if c not in "0123456789abcdefABCDEF-"})
            yield Hit(pointer, f"{value!r} looks like a UUID but contains {''.join(bad)!r}",
                      "use the id exactly as the Segmentation API returns it")
