"""Contract tests and payload validation for AEP's Profile Export Jobs API."""

from __future__ import annotations

from .about import __version__
from .engine.exchange import validate_exchange
from .engine.payload import detect_contract, validate, validate_bytes
from .findings import Baseline, Finding, Policy, Report, Severity
from .http import Exchange, from_curl
from .rules import Hit, rule
from .spec.contracts import CONTRACT_NAMES

__all__ = [
    "CONTRACT_NAMES",
    "Baseline",
    "Exchange",
    "Finding",
    "Hit",
    "Policy",
    "Report",
    "Severity",
    "__version__",
    "detect_contract",
    "from_curl",
    "rule",
    "validate",
    "validate_bytes",
    "validate_exchange",
]
