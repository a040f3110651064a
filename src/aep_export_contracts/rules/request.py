"""Semantic rules of the create-job request (and of the request fields a job echoes)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from ..spec.formats import rfc3339_moment
from . import Hit, rule
from .util import UUID_LIKE, ptr

JOBS = ("export-job-request", "export-job")

def _sub(node: Any, key: str) -> Any:
    return node.get(key) if node.__class__ is dict else None


def _same_layout(start: str, end: str) -> bool:
    """Both strings put every digit at the same position under the same UTC offset.

    Then, for valid RFC 3339 values, text order is time order and no parsing is needed.
    """
    if len(start) != len(end) or len(start) < 20 or start[10] != end[10]:
        return False
    last = start[-1]
    if last in "Zz":
        return end[-1] == last
    return start[-6:] == end[-6:]


#: e - s >= _NOTHING says "in order": subtracting aware datetimes is cheaper than comparing them
_NOTHING = timedelta(0)
_iso = datetime.fromisoformat


def _window_hit(window: dict[str, Any], base: tuple[str, ...], start_key: str, end_key: str) -> Hit | None:
    start, end = window.get(start_key), window.get(end_key)
    if start.__class__ is not str or end.__class__ is not str:
        return None
    if start <= end and _same_layout(start, end):
        return None  # the common case, decided without parsing either value
    try:  # Python's parser first: on every RFC 3339 value it accepts it names the same instant
        in_order = _iso(end) - _iso(start) >= _NOTHING
    except (ValueError, TypeError):  # a leap second, a lowercase z; or no offset at all (TypeError)
        in_order = False
    if in_order:
        return None  # nothing to say; an ill-formed value is the schema's to report
    s, e = rfc3339_moment(start), rfc3339_moment(end)  # exact: a finding needs two RFC 3339 values
    if s is None or e is None or e - s >= _NOTHING:
        return None
    return Hit(ptr(*base, end_key), f"{end_key} {end} is earlier than {start_key} {start}",
               f"swap the two values or move {end_key} after {start_key}")


@rule("AEC102", "time-window-order", "error", JOBS)
def time_window_order(payload: Any) -> list[Hit]:
    """A time window does not end before it starts.

    filter.segmentQualificationTime.startTime must not be later than its endTime, and
    additionalFields.eventList.filter.fromIngestTimestamp not later than toIngestTimestamp:
    an inverted window matches no profile at all.
    """
    # this rule runs on every valid request and job (no screen can compare two values), so it
    # reads the two windows directly; a window needs two keys before its ends are looked at
    if not isinstance(payload, dict):  # (isinstance narrows for mypy: the compiled module reads dicts directly)
        return []
    out = []
    node = payload.get("filter")
    window = node.get("segmentQualificationTime") if isinstance(node, dict) else None
    if isinstance(window, dict) and len(window) > 1:
        hit = _window_hit(window, ("filter", "segmentQualificationTime"), "startTime", "endTime")
        if hit:
            out.append(hit)
    node = payload.get("additionalFields")
    if not isinstance(node, dict):
        return out  # the common case: no event list
    node = node.get("eventList")
    window = node.get("filter") if isinstance(node, dict) else None
    if isinstance(window, dict) and len(window) > 1:
        hit = _window_hit(window, ("additionalFields", "eventList", "filter"), "fromIngestTimestamp",
                          "toIngestTimestamp")
        if hit:
            out.append(hit)
    return out


#: the letters a UUID-shaped value (8-4-4-4-12 letters and digits) may hold that no UUID has
_BEYOND_F = re.compile("[g-zG-Z]")


def _suspect(value: Any) -> bool:
    # a UUID-shaped value with a letter beyond f
    return (value.__class__ is str and len(value) == 36 and UUID_LIKE.fullmatch(value) is not None
            and _BEYOND_F.search(value) is not None)


def _bad_uuid(path: tuple[str | int, ...], value: str) -> Hit:
    bad = sorted(set(_BEYOND_F.findall(value)))  # (value is UUID-shaped: its only other characters are hex and dashes)
    named = ", ".join(f"'{c}'" for c in bad)
    return Hit(ptr(*path), f"{value!r} looks like a UUID but has the character{'s' if len(bad) > 1 else ''} {named}, "
               "which no UUID has (only 0-9 and a-f)",
               "use the id exactly as the Segmentation API returns it")


def _ids_not_suspect() -> dict[str, Any]:
    """A screen: no id the rule reads is UUID-shaped with a letter beyond f (the rule is silent)."""
    uuid_shaped = f"^{UUID_LIKE.pattern}$"
    # a real UUID (format uuid, hex digits only: the common case, and cheaper than any pattern), or not
    # the shape (an anchored pattern fails fast), or no letter beyond f
    fine = {"anyOf": [{"format": "uuid"}, {"not": {"pattern": uuid_shaped}}, {"not": {"pattern": _BEYOND_F.pattern}}]}
    listed = {"items": {"properties": {"segmentId": fine}}}
    return {"properties": {"filter": {"properties": {"segments": listed}},
                           "destination": {"properties": {"batches": listed}},
                           "mergePolicy": {"properties": {"id": fine}}}}


@rule("AEC106", "malformed-uuid", "warning", JOBS, screen=_ids_not_suspect())
def malformed_uuid(payload: Any) -> list[Hit]:
    """An id is shaped like a UUID but is not one.

    Segment ids and merge policy ids need not be UUIDs, but a value in the 8-4-4-4-12 shape with
    characters outside 0-9a-f (the tutorial's '1rfe8422-334d-12f4-3sd4-12cf6g990g51') is almost
    certainly a corrupted or invented UUID that will match nothing.
    """
    if payload.__class__ is not dict:
        return []
    out = []
    for parent, key in (("filter", "segments"), ("destination", "batches")):
        items = _sub(payload.get(parent), key)
        if items.__class__ is list:
            for i, item in enumerate(items):
                value = _sub(item, "segmentId")
                if _suspect(value):
                    out.append(_bad_uuid((parent, key, i, "segmentId"), value))
    value = _sub(payload.get("mergePolicy"), "id")
    if _suspect(value):
        out.append(_bad_uuid(("mergePolicy", "id"), value))
    return out
