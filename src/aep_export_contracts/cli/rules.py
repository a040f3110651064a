"""``rules``: the rule catalogue, built-in and loaded rules alike."""

from __future__ import annotations

import argparse

from ..options import PolicyOptions, add_arguments, from_namespace
from .common import EXIT_OK, add_command


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "rules", "list the rule catalogue",
                    "Each rule's id, severity, name and what it checks; with --rules, your own rules too.",
                    {0: "listed", 2: "a --rules module that cannot be loaded, or a usage mistake"})
    p.add_argument("--format", choices=("text", "markdown"), default="text", metavar="text|markdown",
                   help="a line per rule, or the Markdown table of the docs")
    add_arguments(p, PolicyOptions, only=("rules",),
                  helps={"rules": "also list the rules of this module (a dotted name or a .py file; repeatable)"})
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..reporting.catalogue import markdown
    from ..rules import all_rules

    from_namespace(PolicyOptions, args).load_rules()
    if args.format == "markdown":
        print(markdown())
        return EXIT_OK
    for r in all_rules():
        print(f"{r.id}  {r.severity:<7}  {r.name:<26}  {r.summary}")
    return EXIT_OK
