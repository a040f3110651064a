from __future__ import annotations

import json
from collections.abc import Sequence

from ..findings import Report


def to_json(reports: Sequence[Report]) -> str:
    """One JSON array, an object per input: file, contract, valid, findings."""
    return json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False)
