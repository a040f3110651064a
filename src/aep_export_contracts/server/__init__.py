"""The reference server: an embedded, stateful Export Jobs API on loopback."""

from __future__ import annotations

from .app import ReferenceServer, ServerConfig, running_server
from .faults import FAULTS
from .store import StateError

__all__ = ["FAULTS", "ReferenceServer", "ServerConfig", "StateError", "running_server"]
