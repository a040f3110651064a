"""Commands beyond lint and rules register here."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(sub: Any) -> None:
    _ = argparse
    return None
