"""Report writers: text (rich), JSON, SARIF 2.1.0 and JUnit XML."""

from __future__ import annotations

from .json_report import to_json
from .junit import to_junit
from .sarif import to_sarif
from .text import render_text

__all__ = ["FORMATS", "render_text", "to_json", "to_junit", "to_sarif"]

FORMATS = ("text", "json", "sarif", "junit")
