"""The validating proxy (``proxy/app.py``) and a scripted client for its tests (``proxy/sample_client.py``)."""

from __future__ import annotations

from .app import VIOLATIONS_HEADER, ProxyOptions, ProxySession, create_proxy_app

__all__ = ["VIOLATIONS_HEADER", "ProxyOptions", "ProxySession", "create_proxy_app"]
