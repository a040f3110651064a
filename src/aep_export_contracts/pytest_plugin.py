"""pytest plugin: the project's validators, strategies, reference server and check in a user's suite.

Options: ``--aep-base-url URL`` (check this endpoint instead of the embedded reference server;
credentials from AEP_ACCESS_TOKEN, AEP_API_KEY, AEP_IMS_ORG, AEP_SANDBOX), ``--aep-allow-writes``,
``--aep-cassettes PATH`` (one test per recorded exchange through the ``aec_exchange`` fixture) and
``--aep-rules MODULE`` (also run a module's own rules, as ``--rules`` does on the CLI).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .about import NAME
from .findings import Policy, Report


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(NAME)
    group.addoption("--aep-base-url", default=None, help="endpoint for the aec_check fixture (default: embedded server)")
    group.addoption("--aep-allow-writes", action="store_true", help="allow writes on a non-loopback --aep-base-url")
    group.addoption("--aep-cassettes", default=None, help="folder of cassettes: one aec_exchange test per exchange")
    group.addoption("--aep-rules", action="append", default=[], metavar="MODULE",
                    help="also run the rules of this module (a dotted name or a .py file; repeatable)")
    group.addoption("--aep-overlay", default=None, metavar="FILE",
                    help="apply this OpenAPI Overlay 1.0 document to the description and its contracts first")


_OVERLAID = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    overlay = config.getoption("--aep-overlay", default=None)
    if overlay:
        from .spec.contracts import use_overlay
        from .spec.overlay import OverlayError

        try:
            use_overlay(overlay)
        except OverlayError as exc:
            raise pytest.UsageError(f"--aep-overlay: {exc}") from exc
        config.stash[_OVERLAID] = True
    modules = config.getoption("--aep-rules", default=[]) or []
    if modules:
        from .options import OptionError, PolicyOptions

        try:
            PolicyOptions(rules=tuple(modules)).load_rules()
        except OptionError as exc:
            raise pytest.UsageError(f"--aep-rules: {exc}") from exc


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_OVERLAID, False):  # the process that ran the tests gets the bundled contract back
        from .spec.contracts import use_overlay

        use_overlay(None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "aec_exchange" not in metafunc.fixturenames:
        return
    folder = metafunc.config.getoption("--aep-cassettes")
    if not folder:
        metafunc.parametrize("aec_exchange", [pytest.param(None, marks=pytest.mark.skip(reason="no --aep-cassettes"))])
        return
    from .cassettes import load_exchanges

    items = list(load_exchanges([folder], contract_only=False))  # every exchange replay reads
    metafunc.parametrize("aec_exchange", [e for _, e in items], ids=[i for i, _ in items])


_REPLAYED = pytest.StashKey[dict[str, Any]]()


@pytest.fixture
def aec_findings(aec_exchange: Any, request: pytest.FixtureRequest) -> list[Any]:
    """What ``replay`` says of the recorded exchange under test: its failing findings, after the
    cassette's annotations and the rules across the recording, in the recording's order (an exchange
    outside the contract, such as Data Access, has none). ``assert aec_findings == []``."""
    from .cassettes import replay

    folder = request.config.getoption("--aep-cassettes")
    cache = request.config.stash.setdefault(_REPLAYED, {})
    if folder not in cache:
        report = replay([folder], playback=False)
        by_exchange: dict[str, list[Any]] = {}
        for result, finding in report.failing():
            by_exchange.setdefault(result.name.split(" ", 1)[0], []).append(finding)
        cache[folder] = by_exchange
    return list(cache[folder].get(aec_exchange.name, []))


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
def aec_client() -> Iterator[Any]:
    """An httpx client wired to a fresh reference server in this process (no port, no thread per
    request), sending the server's default credentials. Jobs move on ``aec_client.clock``, a manual
    clock: ``aec_client.clock.advance(10_000)`` takes a new job to SUCCEEDED; ``aec_client.app`` is
    the ASGI application."""
    from .server import in_process_client
    from .server.api import DEFAULT_API_KEY, DEFAULT_TOKEN
    from .server.clock import ManualClock
    from .spec.api import HEADERS

    clock = ManualClock()
    with in_process_client(job_seconds=10, clock=clock) as client:
        client.headers.update({HEADERS.authorization: HEADERS.bearer_prefix + DEFAULT_TOKEN,
                               HEADERS.api_key: DEFAULT_API_KEY, HEADERS.org: "AECTEST000000000000000000@AdobeOrg",
                               HEADERS.sandbox: "dev"})
        client.clock = clock  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def aec_check(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``aec_check(**options)``: the contract check, with the CLI's option names (``fault=[...]``,
    ``layer=[...]``, ``examples=``, ``seed=``, ``strict=``, ``select=``, ``rules=``, ...).

    Against ``--aep-base-url`` or, without it, the embedded reference server. A run with a violation
    fails the calling test with the rendered report; otherwise the report is returned. With
    ``fail=False`` the report is returned either way.
    """
    from .check.runner import CheckOptions, run_check
    from .options import OptionError, make
    from .reporting.check_text import render_plain

    defaults = {"base_url": request.config.getoption("--aep-base-url"),
                "allow_writes": request.config.getoption("--aep-allow-writes")}

    def run(*, fail: bool = True, **options: Any) -> Any:
        try:
            opts = make(CheckOptions, {**defaults, **options})
        except OptionError as exc:
            raise pytest.UsageError(f"aec_check: {exc}") from exc
        report = run_check(opts)
        if fail and not report.passed:  # a violation, or a run that could not see (unreachable, errors)
            pytest.fail(render_plain(report), pytrace=False)
        return report

    return run
