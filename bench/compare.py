"""Two bench runs side by side: the Targets table of each, and the change of every figure.

    python -m bench.compare BEFORE.md AFTER.md [--title TEXT] [--out bench/COMPARISON.md]

Each file is what ``python -m bench.run --out FILE`` wrote. Figures are compared as their runs give
them: ratios between rows of one table, and absolute rates scaled to the reference machine by the
anchor row measured in the same table. A change is "better" or "worse" by the direction of the
target (more per second is better, fewer seconds are better).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path


def targets(text: str) -> dict[str, tuple[float, str]]:
    """(figure, unit) of every row of a results file's Targets table."""
    section = text[text.index("## Targets"):]
    section = section[: section.index("\n## ", 3)]
    out: dict[str, tuple[float, str]] = {}
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
            out[cells[0]] = (float(figure.group(1).replace(",", "")), unit)
    return out


def compare(before: str, after: str, title: str) -> str:
    old, new = targets(before), targets(after)
    lines = [f"# {title}", "", "| target | before | after | change |", "|---|---:|---:|---:|"]
    for name, (was, unit) in old.items():
        if name not in new:
            lines.append(f"| {name} | {was:,.3g}{unit} | (not measured) | |")
            continue
        now = new[name][0]
        change = (was / now - 1) if unit == " s" else (now / was - 1)  # positive: better
        lines.append(f"| {name} | {was:,.3f}{unit} | {now:,.3f}{unit} | {change * 100:+.1f} % |")
    lines += ["", "Change: positive is better (a higher rate or ratio, a shorter time). Absolute rates are "
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
