"""The reference server: an embedded, stateful Export Jobs API, on a socket or in this process."""

from __future__ import annotations

from .api import ReferenceApi, ServerConfig
from .app import ReferenceServer, running_server
from .asgi import create_app
from .faults import FAULTS
from .inprocess import IN_PROCESS_URL, InProcessTransport, in_process_client
from .store import StateError

__all__ = ["FAULTS", "IN_PROCESS_URL", "InProcessTransport", "ReferenceApi", "ReferenceServer", "ServerConfig",
           "StateError", "create_app", "in_process_client", "running_server"]
