"""The rule catalogue, generated from the rules' own metadata."""

from __future__ import annotations

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


def replace_in(text: str) -> str:
    """``text`` with the catalogue between its markers regenerated."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{markdown()}\n{END}{tail}"
