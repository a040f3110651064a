"""A deterministic synthetic profile store, and the export of its rows for a job's request."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from ..spec.formats import rfc3339_to_ms

PROFILE_COUNT = 40
FIRST_NAMES = ("Ada", "Linnea", "Omar", "Sven", "Maja", "Kenji", "Lucia", "Noah")
CITIES = ("Stockholm", "San Jose", "Lyon", "Osaka", "Austin")
BASE_MS = 1_600_000_000_000


def _h(*parts: object) -> int:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def profiles(org: str, sandbox: str) -> Iterator[dict[str, Any]]:
    """The same profiles for the same org and sandbox, every time."""
    for i in range(PROFILE_COUNT):
        seed = _h(org, sandbox, i)
        empty = seed % 7 == 0  # only events, no profile record ("emptyProfiles")
        profile: dict[str, Any] = {"identities": {"id": f"{seed % 10**12:012d}"}}
        if not empty:
            name = FIRST_NAMES[seed % len(FIRST_NAMES)]
            profile["person"] = {"name": {"firstName": name, "lastName": f"Example{i}"}}
            profile["personalEmail"] = {"address": f"{name.lower()}.{i}@example.invalid"}
            profile["homeAddress"] = {"city": CITIES[seed % len(CITIES)]}
            profile["mobilePhone"] = {"number": f"+1555{seed % 10**7:07d}"}
        events = []
        for k in range(seed % 4):
            events.append({"eventType": ("web.webpagedetails.pageViews", "commerce.purchases")[k % 2],
                           "environment": {"browserDetails": {"name": "Firefox", "version": f"{100 + k}"}},
                           "_ingestTime": BASE_MS + (_h(seed, k) % (10**11))})
        yield {"index": i, "empty": empty, "profile": profile, "events": events, "seed": seed}


def segment_status(profile: dict[str, Any], segment_id: str) -> str | None:
    """The profile's status in a segment (any segment id works), or None when not a member."""
    value = _h(profile["seed"], segment_id) % 5
    return {0: "realized", 1: "existing", 2: "exited"}.get(value)


def _project(record: dict[str, Any], fields: str | None) -> dict[str, Any]:
    if not fields:
        return record
    out: dict[str, Any] = {}
    for path in (p.strip() for p in fields.split(",")):
        parts = path.split(".")
        node: Any = record
        for part in parts:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            continue
        target = out
        for part in parts[:-1]:
            nested = target.setdefault(part, {})
            if not isinstance(nested, dict):  # an earlier path took this key whole ("a,a.b")
                break
            target = nested
        else:
            target[parts[-1]] = node
    return out


def export_rows(org: str, sandbox: str, request: dict[str, Any], segment: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The rows a job exports, honouring fields, segments and statuses, emptyProfiles and eventList."""
    # a stored request is read defensively: with the accept-invalid fault, any JSON object gets stored
    flt: dict[str, Any] = request["filter"] if isinstance(request.get("filter"), dict) else {}
    listed: list[Any] = flt["segments"] if isinstance(flt.get("segments"), list) else []
    segments = [s for s in ([segment] if segment is not None else listed)
                if isinstance(s, dict) and isinstance(s.get("segmentId"), str)]
    include_empty = flt.get("emptyProfiles") is True
    additional = request.get("additionalFields")
    events = additional.get("eventList") if isinstance(additional, dict) else None
    event_spec: dict[str, Any] | None = events if isinstance(events, dict) else None
    fields = request.get("fields") if isinstance(request.get("fields"), str) else None
    rows = []
    for p in profiles(org, sandbox):
        if p["empty"] and not include_empty:
            continue
        membership = {}
        if segments:
            for seg in segments:
                wanted: list[Any] = seg["status"] if isinstance(seg.get("status"), list) else ["realized", "existing"]
                status = segment_status(p, seg["segmentId"])
                if status in wanted:
                    membership[seg["segmentId"]] = {"status": status}
            if not membership:
                continue
        row = _project(p["profile"], fields)
        if membership:
            row["segmentMembership"] = {"ups": membership}
        if event_spec is not None:
            row["eventList"] = _events(p["events"], event_spec)
        rows.append(row)
    return rows


def _events(events: list[dict[str, Any]], spec: dict[str, Any]) -> list[dict[str, Any]]:
    window: dict[str, Any] = spec["filter"] if isinstance(spec.get("filter"), dict) else {}
    start, end = _moment(window.get("fromIngestTimestamp")), _moment(window.get("toIngestTimestamp"))
    out = []
    for event in events:
        at = event["_ingestTime"]
        if (start is not None and at < start) or (end is not None and at > end):
            continue
        visible = {k: v for k, v in event.items() if not k.startswith("_")}
        out.append(_project(visible, spec.get("fields") if isinstance(spec.get("fields"), str) else None))
    return out


def _moment(value: Any) -> int | None:
    """Epoch milliseconds of an RFC 3339 text, or None for anything else (no bound)."""
    if not isinstance(value, str):
        return None
    try:
        return rfc3339_to_ms(value)
    except (ValueError, OverflowError):
        return None
