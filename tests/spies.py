"""A spy for tests: what a function of the library was called with, while it still does its work."""

from __future__ import annotations

from typing import Any

import pytest


def calls(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, argument: int = 1) -> list[Any]:
    """Wrap ``owner.name`` (a module's function or a class's method) so that every call is kept, as its
    ``argument``-th positional argument, and then made as before; the list fills as the calls come."""
    seen: list[Any] = []
    real = getattr(owner, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(args[argument])
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return seen
