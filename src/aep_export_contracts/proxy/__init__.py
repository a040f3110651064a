"""The validating proxy: a team points its application at it, and every exchange is judged as it passes.

``create_proxy_app(options)`` returns an ASGI application that forwards each request to the upstream
(by default an embedded reference server, in this process) and hands the upstream's answer back
unchanged, after validating the exchange as ``replay`` does: each exchange on its own, and the rules
across the traffic (a job's status history, what it was created with, a cancel, a walk through the
list) in the order the proxy saw them. A violation is logged in one line, named in the answer's
``x-aec-violations`` header, and kept for the end report; with ``fail_on_violation`` the client gets a
502 problem body instead of the answer. ``record`` writes the session, scrubbed, as a cassette or a
HAR file that ``replay`` reads. Credentials pass through to the upstream and appear nowhere else.
"""

from __future__ import annotations

from .app import VIOLATIONS_HEADER, ProxyOptions, ProxySession, create_proxy_app

__all__ = ["VIOLATIONS_HEADER", "ProxyOptions", "ProxySession", "create_proxy_app"]
