"""Terminal rendering of a run report (rich): a line per problem, grouped by cause."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..engine.coverage import ADVICE
from ..engine.drift import Departure
from ..findings import CLIENT, SERVER, Group, Result, RunReport, group

MAX_GROUPS = 50  # a run with more causes than this is shown in part; the reports hold them all


def _subjects(g: Group) -> str:
    if not g.subjects:
        return ""
    shown = ", ".join(g.subjects[:5])
    more = f" +{len(g.subjects) - 5}" if len(g.subjects) > 5 else ""
    return f"  (job{'s' if len(g.subjects) > 1 else ''} {shown}{more})"


def _reproduction(r: dict[str, object]) -> str:
    """The first occurrence's request, in one line (headers and body are in the JSON report)."""
    if {"method", "url"} <= set(r):
        body = " with a body" if r.get("body") not in (None, "") else ""
        return f"first seen: {r['method']} {r['url']}{body} → {r.get('status')} (the full request: --report json)"
    return "first seen: " + json.dumps(r)[:300]


def _print_groups(groups: list[Group], console: Console, style: str) -> None:
    for g in groups[:MAX_GROUPS]:
        follows = f"  (+{g.consequences} finding(s) on the jobs it let through)" if g.consequences else ""
        console.print(Text.assemble((f"{g.rule} ", style), (f"×{g.count} ", "bold"), (f"{g.operation} ", "bold"),
                                    f"{g.pointer or '/'}: {g.message}", (follows + _subjects(g), "dim")))
        if g.hint:
            console.print(Text(f"  → {g.hint}", style="dim"))
        if g.reproduction:
            console.print(Text("  " + _reproduction(g.reproduction), style="dim"))
    if len(groups) > MAX_GROUPS:
        console.print(Text(f"… and {len(groups) - MAX_GROUPS} more causes (every one is in --report json)", style="dim"))


#: how a run's heading names it and its target, by the run's kind
HEADINGS = {"contract check": "contract check of", "replay": "replay of", "proxy session": "proxy session to"}
MISSING_SHOWN = 3  # items named per dimension in the table; --report json and the coverage command list them all


def print_drift(departures: list[Departure], total: int, console: Console, *, files: int | None = None) -> None:
    """Where the answers departed from the description: a line per cause (drift's text), the weightiest first."""
    counted = [d for d in departures if d.kind != "unseen"]
    unseen = [d for d in departures if d.kind == "unseen"]
    grave = {s: sum(1 for d in counted if d.severity == s) for s in ("error", "warning")}
    recordings = f" of {files} recording(s)" if files is not None else ""
    console.print(Text(f"drift in {total} answered exchange(s){recordings}: {len(counted)} departure(s) "
                       f"({grave['error']} error, {grave['warning']} warning); {len(unseen)} documented "
                       "propert(ies) unseen", style="bold"))
    for d in counted:
        where = f"{Path(d.first_seen[0]).name} {d.first_seen[1]}"
        said = f"; documented: {d.documented}" if d.documented not in (None, [], ()) else ""
        seen = ", ".join(json.dumps(e, default=str)[:60] for e in d.examples)
        console.print(f"  {d.severity:<7} {d.kind:<11} {d.operation} {d.contract or ''} {d.pointer or '/'}: seen "
                      f"{d.count}× ({d.count / total:.0%}), first in {where}; e.g. {seen}{said}",
                      markup=False, highlight=False)
    by_contract: dict[str, list[str]] = {}
    for d in unseen:
        by_contract.setdefault(d.contract or "", []).append(d.pointer)
    for contract, pointers in by_contract.items():
        shown = ", ".join(pointers[:12]) + (f" and {len(pointers) - 12} more" if len(pointers) > 12 else "")
        console.print(f"  info    unseen      {contract}: {shown}", markup=False, highlight=False)


def print_coverage(report: RunReport, console: Console) -> None:
    """The coverage table of a run (a row per dimension, its figure and what is missing), and what it means."""
    data = report.coverage.to_dict()
    console.print(Text("coverage: what this run exercised of what the contract documents", style="bold"))
    table = Table()
    for column, justify in (("dimension", "left"), ("covered", "right"), ("missing", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    lowest: tuple[float, str, str] | None = None
    for name, figures in data.items():
        if not isinstance(figures, dict):
            continue
        missing = figures["missing"]
        more = len(missing) - MISSING_SHOWN
        shown = ", ".join(missing[:MISSING_SHOWN]) + (f" (+{more})" if more > 0 else "")
        table.add_row(name, f"{figures['percent']:.0f}%", shown)
        if missing and (lowest is None or figures["percent"] < lowest[0]):
            lowest = (figures["percent"], name, missing[0])
    console.print(table)
    if lowest is not None:
        _, name, item = lowest
        console.print(Text(f"A low figure is no failure, but what was not exercised was not judged. To raise {name}, "
                           f"{ADVICE[name]} {item} and the rest missing; to require a figure, add --min-coverage "
                           f"{name}=PERCENT.", style="dim"))


def _row(result: Result) -> str:
    """The table row a check is counted in: its operation, or what it is when it has none."""
    if result.layer == "playback":
        return "workflow playback"
    if " " in result.operation:  # an exchange no operation of the contract describes: "METHOD /path"
        return "not in the contract"
    return result.operation


def render_check(report: RunReport, console: Console) -> None:
    if report.unreachable:
        console.print(Text(f"error: {report.unreachable}", style="bold red"))
        return
    if report.interrupted:
        console.print(Text("interrupted: the run was stopped before it finished; this is what it saw until then",
                           style="bold yellow"))
    for note in report.notes:
        console.print(Text(f"note: {note}", style="dim"))
    seed = f", seed {report.seed}" if report.seed is not None else ""
    if report.overlay is not None:
        seed += f", the contract with overlay {report.overlay['path']} (sha256 {report.overlay['sha256'][:12]})"
    console.print(Text(f"{HEADINGS.get(report.kind, report.kind)} {report.target}{seed}", style="bold"))
    if report.results:
        rows: dict[str, list[int]] = {}
        for result, bad in report.by_result():
            row = rows.setdefault(_row(result), [0, 0])
            row[0] += 1
            row[1] += bad
        table = Table()
        table.add_column("operation")
        table.add_column("checks", justify="right")
        table.add_column("failed", justify="right")
        for op, (checked, failed) in sorted(rows.items()):
            table.add_row(op, str(checked), Text(str(failed), style="red" if failed else "green"))
        console.print(table)
    if report.coverage is not None and report.exchanges:
        print_coverage(report, console)
    if report.drift is not None and report.drift.departures(unseen=False):
        print_drift(report.drift.departures(), report.drift.exchanges, console)
    groups = report.groups()
    violations = sum(g.count + g.consequences for g in groups)
    if groups:
        console.print(Text(f"problems: {len(groups)} cause(s), {violations} violation(s)", style="bold red"))
        sides = {g.side for g in groups}
        if CLIENT not in sides:  # the server's answers (what a check judges): no heading needed
            _print_groups(groups, console, "bold red")
        else:  # the client is at fault somewhere: a heading for each side, the client's first
            for side, heading in ((CLIENT, "the client's requests"), (SERVER, "the server's answers"),
                                  (None, "across the run")):
                mine = [g for g in groups if g.side == side]
                if mine:
                    console.print(Text(f"{heading}:", style="bold"))
                    _print_groups(mine, console, "bold red")
    existing = group(report.on_existing())
    if existing:
        count = sum(g.count for g in existing)
        console.print(Text(f"data already on the target: {count} finding(s) in {len(existing)} cause(s) about jobs "
                           "this run did not create (they fail the run with --fail-on-existing)", style="bold yellow"))
        _print_groups(existing, console, "yellow")
    for line in report.unstable[:10]:
        console.print(Text(f"target unstable: {line}", style="yellow"))
    if len(report.unstable) > 10:
        console.print(Text(f"target unstable: … and {len(report.unstable) - 10} more", style="yellow"))
    for line in report.errors:
        console.print(Text(f"error: {line}", style="red"))
    for line in report.below_coverage:
        console.print(Text(line, style="bold red"))
    if groups:
        verdict, style = f"{len(groups)} problem(s), {violations} violation(s)", "bold red"
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
