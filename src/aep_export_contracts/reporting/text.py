from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Console
from rich.text import Text

from ..findings import Report, overlay_in_use


def render_text(reports: Sequence[Report], console: Console, *, detected: set[str] | None = None) -> None:
    """Readable at a glance: a heading per input, a row per finding, one summary line."""
    detected = detected or set()
    overlay = overlay_in_use()
    if overlay is not None:
        console.print(Text(f"the contract with overlay {overlay['path']} (sha256 {overlay['sha256'][:12]})", style="bold"))
    failed = 0
    for report in reports:
        name = report.source or "<payload>"
        how = " (detected)" if report.source in detected else ""
        status = Text("ok", style="bold green") if report.valid else Text("FAIL", style="bold red")
        if not report.valid:
            failed += 1
        heading = Text.assemble(status, "  ", (name, "bold"), f"  contract: {report.contract or '?'}{how}")
        console.print(heading)
        if report.findings:
            # the rows are written as plain lines (with ANSI colours on a terminal): a report of many
            # thousands of findings then costs about what its JSON costs (rich lays out every cell)
            paint = _painter(console)
            rows = []
            for f in report.findings:
                code = "31" if report.policy.fails(f) else "33"
                rows.append(f"  {paint(f'{f.severity:<7}', code)} {paint(f.rule, '1')}  {paint(f.pointer or '/', '36')}"
                            f"  {f.message}\n")
                if f.hint:
                    rows.append(paint(f"      → {f.hint}", "2") + "\n")
            console.file.write("".join(rows))
    findings = sum(len(r.findings) for r in reports)
    summary = f"{len(reports)} input(s), {failed} failing, {findings} finding(s)"
    console.print(Text(summary, style="bold red" if failed else "bold green"))


def _painter(console: Console) -> Callable[[str, str], str]:
    """Colour a piece of text with an ANSI code where the console shows colours; else leave it plain."""
    if console.is_terminal and console.color_system is not None and not console.no_color:
        return lambda text, code: f"\x1b[{code}m{text}\x1b[0m"
    return lambda text, _code: text
