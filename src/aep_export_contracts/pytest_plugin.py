"""pytest plugin: fixtures that give a user's tests the project's validators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .findings import Policy, Report


@pytest.fixture
def aec_validate() -> Callable[..., Report]:
    """``aec_validate(payload, contract=None, strict=False)``: a report; assert ``report.valid``."""
    from .validate import validate

    def run(payload: Any, contract: str | None = None, *, strict: bool = False) -> Report:
        return validate(payload, contract, policy=Policy.make(strict=strict))

    return run


@pytest.fixture
def aec_strategies() -> Any:
    """The hypothesis strategies module: ``aec_strategies.valid("export-job")``, ``.invalid(...)``."""
    from . import strategies

    return strategies
