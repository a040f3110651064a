"""Terminal rendering of a check report (rich)."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..findings import RunReport
from ..rules import get_rule


def render_check(report: RunReport, console: Console) -> None:
    table = Table(title=f"contract check: {report.target} (seed {report.seed})", title_justify="left")
    table.add_column("operation")
    table.add_column("checks", justify="right")
    table.add_column("failed", justify="right")
    for op, (checked, failed) in sorted(report.by_operation().items()):
        table.add_row(op, str(checked), Text(str(failed), style="red" if failed else "green"))
    console.print(table)
    by_rule = report.by_rule()
    if by_rule:
        rules = Table(title="violations by rule", title_justify="left")
        rules.add_column("rule")
        rules.add_column("name")
        rules.add_column("count", justify="right")
        for rule_id, count in sorted(by_rule.items()):
            rules.add_row(rule_id, get_rule(rule_id).name, str(count))
        console.print(rules)
        shown: set[tuple[str, str]] = set()
        for result, f in report.failing():
            key = (f.rule, result.name)
            if key in shown or len(shown) >= 15:
                continue
            shown.add(key)
            console.print(Text.assemble((f"{f.rule} ", "bold red"), (f"[{result.layer}] {result.name}: ", "bold"),
                                        f"{f.pointer or '/'}: {f.message}"))
            if f.hint:
                console.print(Text(f"  → {f.hint}", style="dim"))
            if result.reproduction:
                console.print(Text("  " + json.dumps(result.reproduction)[:600], style="dim"))
    for line in report.unstable[:10]:
        console.print(Text(f"target unstable: {line}", style="yellow"))
    for line in report.errors:
        console.print(Text(f"error: {line}", style="red"))
    if not report.ok:
        verdict, style = f"{len(report.failing())} violation(s)", "bold red"
    elif report.errors:  # what could not be checked is no evidence of compliance
        verdict, style = f"{len(report.errors)} error(s): not everything could be checked", "bold red"
    else:
        verdict, style = "no contract violation", "bold green"
    console.print(Text(f"{report.exchanges} exchanges, {len(report.results)} checks: {verdict}", style=style))


def render_plain(report: RunReport, width: int = 120) -> str:
    """The same rendering as plain text (no colour), e.g. for a failing test's message."""
    from io import StringIO

    buffer = StringIO()
    render_check(report, Console(file=buffer, width=width, color_system=None, force_terminal=False))
    return buffer.getvalue()
