"""The README's Python examples run, and its rule catalogue matches the registry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aep_export_contracts.reporting.catalogue import replace_in

README = Path(__file__).parents[1] / "README.md"


def test_rule_catalogue_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert replace_in(text) == text, "run: aep-export-contracts rules --format markdown, and paste it into README.md"


@pytest.mark.parametrize("index", range(len(re.findall(r"```python\n", README.read_text(encoding="utf-8")))))
def test_python_examples_run(index: int) -> None:
    from aep_export_contracts.rules import REGISTRY, all_rules, unregister

    all_rules()
    before = set(REGISTRY)
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    try:
        exec(compile(blocks[index], f"README.md example {index + 1}", "exec"), {})
    finally:  # an example's own rule does not stay behind for the tests that follow
        for rule_id in set(REGISTRY) - before:
            unregister(rule_id)
