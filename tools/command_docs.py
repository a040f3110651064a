"""Rewrite the commands' reference in the docs from the parser: the synopsis in docs/commands/index.md
and, on each command's page, its options, exit codes and environment variables.

Run from the repository root: python tools/command_docs.py. A page without the block gets it right
under its title. tests/test_docs.py fails when a page and the parser disagree.
"""

from __future__ import annotations

from pathlib import Path

from aep_export_contracts.cli.reference import PAGES, reference, synopsis
from aep_export_contracts.reporting.catalogue import replace_block

DOCS = Path("docs")


def _set(text: str, name: str, body: str) -> str:
    if f"<!-- {name}:begin -->" not in text:  # a new block goes under the page's title
        title, _, rest = text.partition("\n")
        text = f"{title}\n\n<!-- {name}:begin -->\n<!-- {name}:end -->\n{rest}"
    return replace_block(text, name, body)


def main() -> None:
    index = DOCS / "commands" / "index.md"
    index.write_text(_set(index.read_text(encoding="utf-8"), "synopsis", synopsis()), encoding="utf-8")
    for command, page in reversed(PAGES.items()):  # a page's blocks end up in the parser's order
        path = DOCS / page
        path.write_text(_set(path.read_text(encoding="utf-8"), f"{command}-reference", reference(command)),
                        encoding="utf-8")
    print(f"{index} and {len(set(PAGES.values()))} command pages written")


if __name__ == "__main__":
    main()
