"""Validation never opens a socket: every reference resolves from the packaged contracts."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest
import pytest_socket

import payloads as P
from aep_export_contracts import CONTRACT_NAMES, Exchange, from_curl, validate, validate_bytes, validate_exchange

FIXTURES = Path(__file__).parent / "fixtures" / "docs"


@pytest.fixture
def no_network():
    pytest_socket.disable_socket(allow_unix_socket=False)
    try:
        yield
    finally:
        pytest_socket.enable_socket()


def test_validation_with_sockets_blocked(no_network: None) -> None:
    import socket

    with pytest.raises(pytest_socket.SocketBlockedError):
        socket.socket()
    # fresh validators: caches cleared so that compilation happens with the network blocked too
    from aep_export_contracts.engine import payload as validate_module  # noqa: F401
    from aep_export_contracts.engine.compiled import clear_caches

    clear_caches()
    for name in CONTRACT_NAMES:
        validate({"not": "matching"}, name)
        validate(P.job(), name)
    for path in sorted(glob.glob(str(FIXTURES / "*.json"))):
        validate_bytes(Path(path).read_bytes())
    for path in sorted(glob.glob(str(FIXTURES / "*.sh"))):
        validate_exchange(from_curl(Path(path).read_text(), status=200, response_body=P.job()))
    validate_exchange(Exchange.make("GET", "https://platform.adobe.io/data/core/ups/export/jobs/1", status=404,
                                    response_body={"title": "NotFound", "status": 404}))
