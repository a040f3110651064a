"""Report writers, all reading the one result model of ``findings``: text (rich), JSON, SARIF 2.1.0
and JUnit XML. Lint writes its files' reports; check, replay and the proxy write a ``RunReport``."""

from __future__ import annotations

from .check_text import render_check, render_plain
from .json_report import run_to_json, to_json
from .junit import to_junit
from .sarif import run_to_sarif, to_sarif
from .text import render_text

__all__ = ["render_check", "render_plain", "render_text", "run_to_json", "run_to_sarif", "to_json", "to_junit",
           "to_sarif"]
