from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

settings.register_profile("ci", max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("AEC_HYPOTHESIS_PROFILE", "ci"))

FIXTURES = Path(__file__).parent / "fixtures"

#: examples per contract in the generation tests: a few thousand in CI through the bulk path,
#: plus this many through hypothesis (shrinking, health checks)
PROFILE = os.environ.get("AEC_HYPOTHESIS_PROFILE", "ci")
GEN_EXAMPLES = {"ci": 300, "thorough": 3000, "dev": 50}.get(PROFILE, 300)
BULK_EXAMPLES = {"ci": 3000, "thorough": 20000, "dev": 300}.get(PROFILE, 3000)

pytest_plugins = ["pytester"]


def write_overlay(folder: Path, target: str, update: Any, title: str = "test") -> Path:
    """An OpenAPI Overlay file in ``folder`` with one action: ``update`` at ``target``."""
    path = folder / f"{title.replace(' ', '-')}.overlay.json"
    path.write_text(json.dumps({"overlay": "1.0.0", "info": {"title": title, "version": "1"},
                                "actions": [{"target": target, "update": update}]}))
    return path


@contextmanager
def overlaid(folder: Path, target: str, update: Any, title: str = "test") -> Iterator[Path]:
    """The contracts as such an overlay changes them, in this process, for a ``with`` block."""
    from aep_export_contracts.spec.contracts import use_overlay

    path = write_overlay(folder, target, update, title)
    use_overlay(str(path))
    try:
        yield path
    finally:
        use_overlay(None)
