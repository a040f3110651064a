"""Contract tests and payload validation for AEP's Profile Export Jobs API."""

from __future__ import annotations

from .contracts import CONTRACT_NAMES
from .findings import Baseline, Finding, Policy, Report, Severity
from .validate import detect_contract, validate, validate_bytes

__all__ = [
    "CONTRACT_NAMES",
    "Baseline",
    "Finding",
    "Policy",
    "Report",
    "Severity",
    "detect_contract",
    "validate",
    "validate_bytes",
]
__version__ = "0.1.0"
