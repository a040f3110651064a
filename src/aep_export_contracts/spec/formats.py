"""Value formats the contracts use, checked the same way on every path.

JSON Schema's ``date-time`` is RFC 3339's ``date-time`` production: a full date, ``T`` (either
case), a time, and a mandatory offset (``Z`` or ``+hh:mm``). A leap second (``:60``) is valid
at 23:59 UTC. Python's ``re`` lets ``$`` match before a final newline, so every match here is a
``fullmatch``.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

from .contracts import schema

__all__ = ["FIELD_PATH", "fields_problem", "is_field_list", "is_rfc3339", "rfc3339_moment", "rfc3339_problem", "rfc3339_to_ms"]


def _field_path() -> str:
    """One dot path of the contract's fieldList pattern, which is '^ *P *(?:, *P *)*' and an end of input."""
    pattern = str(schema("defs")["$defs"]["fieldList"]["pattern"])
    head, sep, _rest = pattern.partition(" *(?:, *")
    element = head.removeprefix("^ *")
    if not sep or pattern != f"^ *{element} *(?:, *{element} *)*(?![\\s\\S])":
        raise RuntimeError("the contract's fieldList pattern is no longer '^ *P *(?:, *P *)*' with an end of input")
    return element


#: the pattern of one XDM dot path in a 'fields' list, read from the contract
FIELD_PATH = _field_path()
_PATH_ELEMENT = re.compile(FIELD_PATH)
_FIELD_LIST = re.compile(rf" *{FIELD_PATH} *(?:, *{FIELD_PATH} *)*")


def is_field_list(value: str) -> bool:
    """The contract's fieldList pattern, decided by Python's engine (used when a regex engine gives up)."""
    return _FIELD_LIST.fullmatch(value) is not None


def fields_problem(value: str) -> str:
    """Why ``value`` is not a list of comma-separated dot paths (the contract's pattern said no)."""
    if value.strip() == "":
        return "is empty (omit 'fields' to export every field)"
    for i, element in enumerate(value.split(",")):
        stripped = element.strip(" ")
        if stripped == "":
            return f"has an empty element at position {i + 1} (a doubled or trailing comma)"
        if _PATH_ELEMENT.fullmatch(stripped) is None:
            return f"element {stripped[:60]!r} is not a dot path like 'personalEmail.address'"
    return "is not a list of comma-separated dot paths"

_DATE_TIME = re.compile(  # ASCII: a bare \d would also take digits of other scripts
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?", re.ASCII
)
#: the shape of a date-time with an offset, no leap second and an offset in range: then Python's
#: own parser decides the rest (calendar, hours, minutes) and is exact
_COMMON = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:(?:[0-5][0-9])(?:\.[0-9]+)?"
                     r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])")


def rfc3339_problem(value: str) -> str | None:
    """Why ``value`` is not an RFC 3339 date-time with an offset, or None when it is."""
    m = _DATE_TIME.fullmatch(value)
    if m is None:
        return "is not an RFC 3339 date-time (YYYY-MM-DDThh:mm:ss[.frac] followed by Z or ±hh:mm)"
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    offset = m.group(8)
    if offset is None:
        return "has no UTC offset: RFC 3339 needs 'Z' or '±hh:mm' after the time"
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return "is not a calendar date"
    if hour > 23 or minute > 59 or second > 60:
        return "is not a valid time of day"
    oh = om = 0
    if offset not in ("Z", "z"):
        oh, om = int(offset[1:3]), int(offset[4:6])
        if oh > 23 or om > 59:
            return "has an offset out of range"
    if second == 60:
        sign = -1 if offset.startswith("-") else 1
        utc_minutes = (hour * 60 + minute - sign * (oh * 60 + om)) % (24 * 60)
        if utc_minutes != 23 * 60 + 59:
            return "has a leap second that is not at 23:59:60 UTC"
    return None


def is_rfc3339(value: object) -> bool:
    return not isinstance(value, str) or rfc3339_problem(value) is None


def rfc3339_moment(value: str) -> datetime | None:
    """The instant a valid RFC 3339 date-time names (aware; a leap second counts as :59.999999)."""
    if _COMMON.fullmatch(value):
        try:  # the C parser: exact for this shape, and it rejects impossible dates and times
            return datetime.fromisoformat(value if value[-1] != "z" else value[:-1] + "Z")
        except ValueError:
            return None
    m = _DATE_TIME.fullmatch(value)
    if m is None or m.group(8) is None or rfc3339_problem(value) is not None:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7) or ""
    micros = int((frac[1:] + "000000")[:6]) if frac else 0
    if second == 60:
        second, micros = 59, 999999
    offset = m.group(8)
    delta = timedelta(0)
    if offset not in ("Z", "z"):
        sign = -1 if offset[0] == "-" else 1
        delta = sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    try:
        return datetime(year, month, day, hour, minute, second, micros, tzinfo=UTC) - delta
    except (ValueError, OverflowError):  # year 0, or an offset that leaves datetime's range
        return None


def rfc3339_to_ms(value: str) -> int | None:
    """Epoch milliseconds of a valid RFC 3339 date-time (a leap second counts as :59.999)."""
    moment = rfc3339_moment(value)
    return None if moment is None else int(moment.timestamp() * 1000)
