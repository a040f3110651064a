"""Tables the docs hold but nobody types: the rule catalogue (from the rules' own metadata) and the
fault detection table (from a fault-matrix run). Each sits in a document between its markers."""

from __future__ import annotations

from collections.abc import Iterable

from ..rules import all_rules

BEGIN = "<!-- rule-catalogue:begin -->"
END = "<!-- rule-catalogue:end -->"


def markdown() -> str:
    lines = ["| id | name | severity | applies to | what it checks |", "|---|---|---|---|---|"]
    for r in all_rules():
        applies = ", ".join(r.contracts) if r.scope != "exchange" else "exchange"
        if r.scope == "schema" and len(r.contracts) > 3:
            applies = "every contract"
        text = r.description.replace("|", "\\|")
        lines.append(f"| `{r.id}` | {r.name} | {r.severity} | {applies} | {text} |")
    return "\n".join(lines)


def detection_markdown(rows: Iterable[tuple[str, bool, list[str]]], breaks: dict[str, str]) -> str:
    """The fault matrix as a table: each fault, what it breaks, whether the check caught it, and by which rules."""
    lines = ["| fault | what it breaks | detected | by rules |", "|---|---|---|---|"]
    for fault, detected, rules in rows:
        lines.append(f"| `{fault}` | {breaks[fault]} | {'yes' if detected else '**no**'} | "
                     f"{', '.join(f'`{r}`' for r in rules)} |")
    return "\n".join(lines)


def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with the block between ``<!-- name:begin -->`` and ``<!-- name:end -->`` set to ``body``."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin not in text or end not in text:
        raise ValueError(f"no {begin} … {end} block in the document")
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    return f"{head}{begin}\n{body}\n{end}{tail}"


def replace_in(text: str) -> str:
    """``text`` with the rule catalogue between its markers regenerated."""
    return replace_block(text, "rule-catalogue", markdown())
