"""Semantic rules of the create-job request (and of the request fields a job echoes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..formats import rfc3339_to_ms
from . import Hit, any_of, rule
from .util import UUID_LIKE, ptr

JOBS = ("export-job-request", "export-job")

def _sub(node: Any, key: str) -> Any:
    return node.get(key) if node.__class__ is dict else None


def _window_hit(window: Any, base: tuple[str, ...], start_key: str, end_key: str) -> Hit | None:
    if window.__class__ is not dict:
        return None
    start, end = window.get(start_key), window.get(end_key)
    if start.__class__ is not str or end.__class__ is not str:
        return None
    s, e = rfc3339_to_ms(start), rfc3339_to_ms(end)
    if s is None or e is None or s <= e:
        return None
    return Hit(ptr(*base, end_key), f"{end_key} {end} is earlier than {start_key} {start}",
               f"swap the two values or move {end_key} after {start_key}")


@rule("AEC102", "time-window-order", "error", JOBS, gate=any_of(b'"endTime"', b'"toIngestTimestamp"'))
def time_window_order(payload: Any) -> Iterator[Hit]:
    """A time window does not end before it starts.

    filter.segmentQualificationTime.startTime must not be later than its endTime, and
    additionalFields.eventList.filter.fromIngestTimestamp not later than toIngestTimestamp:
    an inverted window matches no profile at all.
    """
    if payload.__class__ is not dict:
        return
    flt = payload.get("filter")
    if flt.__class__ is dict and "segmentQualificationTime" in flt:
        hit = _window_hit(flt["segmentQualificationTime"], ("filter", "segmentQualificationTime"), "startTime", "endTime")
        if hit:
            yield hit
    extra = payload.get("additionalFields")
    if extra.__class__ is dict:
        window = _sub(_sub(extra, "eventList"), "filter")
        hit = _window_hit(window, ("additionalFields", "eventList", "filter"), "fromIngestTimestamp", "toIngestTimestamp")
        if hit:
            yield hit


_HEX_AND_DASH = str.maketrans("", "", "0123456789abcdefABCDEF-")


def _suspect(value: Any) -> bool:
    # a UUID-shaped value with a character outside 0-9a-f: str.translate drops every hex digit and dash
    return (value.__class__ is str and len(value) == 36 and value.translate(_HEX_AND_DASH) != ""
            and bool(UUID_LIKE.fullmatch(value)))


def _bad_uuid(path: tuple[str | int, ...], value: str) -> Hit:
    bad = sorted({c for c in value if c not in "0123456789abcdefABCDEF-"})
    return Hit(ptr(*path), f"{value!r} looks like a UUID but contains {''.join(bad)!r}",
               "use the id exactly as the Segmentation API returns it")


@rule("AEC106", "malformed-uuid", "warning", JOBS)
def malformed_uuid(payload: Any) -> Iterator[Hit]:
    """An id is shaped like a UUID but is not one.

    Segment ids and merge policy ids need not be UUIDs, but a value in the 8-4-4-4-12 shape with
    characters outside 0-9a-f (the tutorial's '1rfe8422-334d-12f4-3sd4-12cf6g990g51') is almost
    certainly a corrupted or invented UUID that will match nothing.
    """
    if payload.__class__ is not dict:
        return
    for parent, key in (("filter", "segments"), ("destination", "batches")):
        items = _sub(payload.get(parent), key)
        if items.__class__ is list:
            for i, item in enumerate(items):
                value = _sub(item, "segmentId")
                if _suspect(value):
                    yield _bad_uuid((parent, key, i, "segmentId"), value)
    value = _sub(payload.get("mergePolicy"), "id")
    if _suspect(value):
        yield _bad_uuid(("mergePolicy", "id"), value)
