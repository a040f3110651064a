"""Two bench runs side by side: the Targets table of each, and the change of every figure.

    python -m bench.compare BEFORE.md AFTER.md [--title TEXT] [--out bench/COMPARISON.md]

Each file is what ``python -m bench.run --out FILE`` wrote. Figures are compared as their runs give
them: ratios between rows of one table, and absolute rates scaled to the reference machine by the
anchor row measured in the same table. A change is "better" or "worse" by the direction of the
target (more per second is better, fewer seconds are better, and a figure whose goal is a ceiling is
better lower).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any


def tables_of(text: str) -> dict[str, Any]:
    """The measured tables of a results file, read back (title, baseline and each row's rate)."""
    from .run import Table

    out: dict[str, Any] = {}
    for block in text.split("\n### ")[1:]:
        lines = block.splitlines()
        base = re.search(r"Baseline: \*\*(.+?)\*\*", block)
        if not base:
            continue
        table = Table(lines[0].strip(), base.group(1))
        for line in lines:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 3 and re.fullmatch(r"[\d,.]+", cells[1]):
                table.rows.append((cells[0], float(cells[1].replace(",", ""))))
        out[table.title] = table
    return out


def targets(text: str) -> dict[str, tuple[float, str, bool]]:
    """(figure, unit, lower is better) of every row of a results file's Targets table, and of every target the current goals
    name that its tables allow to work out (a run made before a target was set is judged by it too)."""
    from .run import targets as current

    derived = _rows(current(tables_of(text), {}))
    return {**derived, **_rows(text)}


def _rows(text: str) -> dict[str, tuple[float, str, bool]]:
    section = text[text.index("## Targets"):]
    end = section.find("\n## ", 3)
    section = section[: end] if end > 0 else section
    out: dict[str, tuple[float, str, bool]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or cells[0] in ("target", "") or set(cells[0]) <= {"-"}:
            continue
        measured = cells[1]
        scaled = re.search(r"([\d,.]+) (?:per s|s) on the reference machine", measured)
        figure = scaled or re.match(r"([\d,.]+)", measured)
        if figure:
            if re.match(r"[\d,.]+ s here", measured):
                unit = " s"
            elif "per s" in measured:
                unit = "/s"
            else:
                unit = "×"
            # a time, or a figure whose goal is a ceiling ("goal ≤ 2×"), is better the lower it is
            out[cells[0]] = (float(figure.group(1).replace(",", "")), unit, unit == " s" or "goal ≤" in measured)
    return out


def compare(before: str, after: str, title: str) -> str:
    old, new = targets(before), targets(after)
    lines = [f"# {title}", "", "| target | before | after | change |", "|---|---:|---:|---:|"]
    for name, (now, unit, lower) in new.items():
        if name not in old:
            lines.append(f"| {name} | (not measured) | {now:,.3f}{unit} | |")
            continue
        was = old[name][0]
        change = (was / now - 1) if lower else (now / was - 1)  # positive: better
        lines.append(f"| {name} | {was:,.3f}{unit} | {now:,.3f}{unit} | {change * 100:+.1f} % |")
    lines += ["", "Change: positive is better (a higher rate or ratio, a shorter time, a lower figure where the "
              "goal is a ceiling). Absolute rates are "
              "scaled to the reference machine by each run's anchor row.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--title", default="Bench: before and after")
    parser.add_argument("--out", help="write the report here (default: print it)")
    args = parser.parse_args(argv)
    report = compare(Path(args.before).read_text(encoding="utf-8"), Path(args.after).read_text(encoding="utf-8"),
                     args.title)
    if args.out:
        Path(args.out).write_text(report, encoding="utf-8")
    else:
        print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
