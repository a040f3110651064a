"""The commands' reference, in Markdown, from the parser itself: a synopsis of every command, and per
command its options, exit codes and environment variables. The docs hold these between markers
(``tools/command_docs.py`` writes them, a test keeps them current), so a flag is described once: in
its help text."""

from __future__ import annotations

import argparse
import re

from ..about import NAME
from . import build_parser
from .common import EXIT_CODES

_ENV = re.compile(r"\bAEP_[A-Z_]+\b")


def commands() -> dict[str, argparse.ArgumentParser]:
    """Each subcommand's parser, by name, in the order ``--help`` lists them."""
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise RuntimeError("the parser has no subcommands")


def _usage(parser: argparse.ArgumentParser, width: int = 100) -> str:
    formatter = argparse.HelpFormatter(parser.prog, width=width)
    shown = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]  # -h is on every command
    formatter.add_usage(parser.usage, shown, parser._mutually_exclusive_groups, prefix="")
    return formatter.format_help().strip()


def synopsis() -> str:
    """Every command's usage line, as one code block."""
    return "```\n" + "\n".join(_usage(p) for p in commands().values()) + "\n```"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _spelling(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    flags = ", ".join(action.option_strings)
    value = "" if action.nargs == 0 else f" {action.metavar or action.dest.upper()}"
    return f"`{flags}{value}`"  # a pipe inside a code span does not split a cell


def _default(action: argparse.Action) -> str:
    if action.nargs == 0 or action.default in (None, [], (), argparse.SUPPRESS) or not action.option_strings:
        return ""
    return f"`{action.default}`"


def reference(name: str) -> str:
    """A command's usage, a table of its arguments and options, its exit codes and the environment it reads."""
    parser = commands()[name]
    rows = ["| argument or option | what it does | default |", "|---|---|---|"]
    env: dict[str, list[str]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        help_text = action.help or ""
        rows.append(f"| {_spelling(action)} | {_cell(help_text)} | {_default(action)} |")
        for variable in _ENV.findall(help_text):
            env.setdefault(variable, []).append(action.option_strings[0])
    summary = parser.description.split(". ")[0] if parser.description else name
    parts = [f"`{NAME} {name}`: {summary[0].lower()}{summary[1:]}.", f"```\n{_usage(parser)}\n```", "\n".join(rows)]
    codes = ["| exit code | meaning |", "|---|---|"]
    codes += [f"| {code} | {_cell(meaning)} |" for code, meaning in sorted(EXIT_CODES[name].items())]
    parts.append("\n".join(codes))
    if env:
        table = ["| environment variable | read when this option is left out |", "|---|---|"]
        table += [f"| `{variable}` | `{'`, `'.join(flags)}` |" for variable, flags in sorted(env.items())]
        parts.append("\n".join(table))
    return "\n\n".join(parts)


__all__ = ["PAGES", "commands", "reference", "synopsis"]


#: the docs page that describes each command, below docs/
PAGES = {"lint": "commands/lint.md", "rules": "commands/rules.md", "generate": "commands/generate.md",
         "serve": "commands/serve.md", "check": "commands/check.md", "proxy": "commands/proxy.md",
         "record": "commands/record-replay-scan.md", "replay": "commands/record-replay-scan.md",
         "scan": "commands/record-replay-scan.md", "coverage": "commands/coverage.md", "drift": "commands/drift.md"}
