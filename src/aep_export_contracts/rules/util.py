"""Small, type-safe accessors the rules share: a rule never raises on a payload of the wrong shape."""

from __future__ import annotations

import re
from typing import Any

from ..spec.contracts import pointer


def dig(payload: Any, *path: str | int) -> Any:
    """The value at ``path``, or None where any step is missing or of the wrong type."""
    node = payload
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                return None
            node = node[step]
        else:
            if not isinstance(node, dict):
                return None
            node = node.get(step)
    return node


def as_int(value: Any) -> int | None:
    """An integer value (not a bool), else None."""
    if value.__class__ is int:
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def ptr(*parts: str | int) -> str:
    return pointer(parts)


UUID_LIKE = re.compile(r"[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}")
HEX32 = re.compile(r"[0-9a-f]{32}")
