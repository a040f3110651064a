"""pytest plugin: the project's validators, strategies, reference server and check in a user's suite.

Options: ``--aep-base-url URL`` (check this endpoint instead of the embedded reference server;
credentials from AEP_ACCESS_TOKEN, AEP_API_KEY, AEP_IMS_ORG, AEP_SANDBOX), ``--aep-allow-writes``,
and ``--aep-cassettes DIR`` (one test per recorded exchange through the ``aec_exchange`` fixture).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .findings import Policy, Report


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aep-export-contracts")
    group.addoption("--aep-base-url", default=None, help="endpoint for the aec_check fixture (default: embedded server)")
    group.addoption("--aep-allow-writes", action="store_true", help="allow writes on a non-loopback --aep-base-url")
    group.addoption("--aep-cassettes", default=None, help="folder of cassettes: one aec_exchange test per exchange")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "aec_exchange" not in metafunc.fixturenames:
        return
    folder = metafunc.config.getoption("--aep-cassettes")
    if not folder:
        metafunc.parametrize("aec_exchange", [pytest.param(None, marks=pytest.mark.skip(reason="no --aep-cassettes"))])
        return
    from .cassettes import load_exchanges

    items = list(load_exchanges([folder]))
    metafunc.parametrize("aec_exchange", [e for _, e in items], ids=[i for i, _ in items])


@pytest.fixture
def aec_validate() -> Callable[..., Report]:
    """``aec_validate(payload, contract=None, strict=False)``: a report; assert ``report.valid``."""
    from .engine.payload import validate

    def run(payload: Any, contract: str | None = None, *, strict: bool = False) -> Report:
        return validate(payload, contract, policy=Policy.make(strict=strict))

    return run


@pytest.fixture
def aec_strategies() -> Any:
    """The hypothesis strategies module: ``aec_strategies.valid("export-job")``, ``.invalid(...)``."""
    from .generation import strategies

    return strategies


@pytest.fixture
def aec_reference_server() -> Iterator[Any]:
    """A running reference server (jobs finish at once); ``.url`` is its base URL."""
    from .server import running_server

    with running_server(job_seconds=0) as server:
        yield server


@pytest.fixture
def aec_check(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``aec_check(**options)`` runs the contract check (``--aep-base-url`` or the embedded server)."""
    from .check.check import CheckOptions, run_check

    base_url = request.config.getoption("--aep-base-url")
    allow = request.config.getoption("--aep-allow-writes")

    def run(**options: Any) -> Any:
        return run_check(CheckOptions(base_url=base_url, allow_writes=allow, **options))

    return run
