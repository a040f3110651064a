"""Tables the docs hold but nobody types: the rule catalogue (from the rules' own metadata) and the
fault detection table (from a fault-matrix run). Each sits in a document between its markers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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


DETECTION_HEADER = ("| fault | what it breaks | check detects | by rules | proxy, on a client's traffic |\n"
                    "|---|---|---|---|---|")


def _rules(rules: Iterable[str]) -> str:
    return ", ".join(f"`{r}`" for r in rules)


def detection_line(fault: str, detected: bool, rules: Iterable[str], breaks: str, proxied: list[str]) -> str:
    """One row of the fault matrix table (printed as soon as the fault's runs are done)."""
    proxy = _rules(proxied) if proxied else "not in a well-behaved client's traffic"
    return f"| `{fault}` | {breaks} | {'yes' if detected else '**no**'} | {_rules(rules)} | {proxy} |"


def detection_markdown(rows: Iterable[Any], breaks: dict[str, str], proxied: dict[str, list[str]]) -> str:
    """The fault matrix as a table: each fault, what it breaks, whether the check caught it and by which rules,
    and what the validating proxy names on a client's traffic."""
    return "\n".join([DETECTION_HEADER] + [detection_line(r.fault, r.detected, r.rules, breaks[r.fault],
                                                         proxied[r.fault]) for r in rows])


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
