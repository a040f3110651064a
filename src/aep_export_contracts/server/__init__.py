"""The reference server: an embedded, stateful Export Jobs API on loopback."""

from __future__ import annotations

from .app import ReferenceServer, ServerConfig, running_server
from .faults import FAULTS

__all__ = ["FAULTS", "ReferenceServer", "ServerConfig", "running_server"]
