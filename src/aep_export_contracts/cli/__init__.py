"""The one command-line entry point: ``aep-export-contracts``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..engine.yamlload import load_yaml
from ..findings import Baseline, Policy, Report
from ..rules import schema as S
from ..spec.contracts import CONTRACT_NAMES

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake of the user's: reported in one line, exit code 2."""


def _split(values: Sequence[str] | None) -> list[str]:
    return [p.strip() for v in values or () for p in v.split(",") if p.strip()]


def _policy(args: argparse.Namespace) -> Policy:
    baseline = None
    if getattr(args, "baseline", None):
        try:
            baseline = Baseline.load(args.baseline)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read baseline {args.baseline}: {exc}") from exc
    select = _split(args.select) or None
    return Policy.make(strict=args.strict, select=select, ignore=_split(args.ignore), baseline=baseline)


def _add_policy_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--strict", action="store_true", help="warnings fail too")
    p.add_argument("--select", action="append", metavar="IDS",
                   help="only these rules (ids or prefixes, comma-separated)")
    p.add_argument("--ignore", action="append", metavar="IDS", help="never these rules (ids or prefixes)")
    p.add_argument("--baseline", metavar="FILE", help="accepted findings (rule + pointer) to silence")


def _read_input(name: str) -> tuple[bytes, str]:
    if name == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    path = Path(name)
    if path.is_dir():
        raise UsageError(f"{name}: is a folder (name the files)")
    try:
        return path.read_bytes(), name
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from exc


def lint_one(data: bytes, source: str, contract: str | None, policy: Policy) -> Report:
    from ..engine.payload import validate, validate_bytes

    if source.endswith((".yaml", ".yml")):
        try:
            payload: Any = load_yaml(data)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            finding = S.NOT_JSON.finding("", f"not valid YAML{where}", "fix the YAML syntax")
            return Report.build(contract, [finding], policy, source)
        return validate(payload, contract, policy=policy, source=source)
    return validate_bytes(data, contract, policy=policy, source=source)


def _console() -> Any:
    """A console for reports: the terminal's width, or 160 columns in a log or a pipe."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=160)


def _lint_path(name: str, contract: str | None, policy: Policy) -> tuple[Report | None, str | None]:
    """Lint one input: (report, None), or (None, the reason it could not be read)."""
    try:
        data, source = _read_input(name)
    except UsageError as exc:
        return None, str(exc)
    return lint_one(data, source, contract, policy), None


def cmd_lint(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ..reporting import render_text, to_json, to_sarif

    policy = _policy(args)
    err = Console(stderr=True)
    names = list(args.files)
    if args.jobs > 1 and len(names) > 1 and "-" not in names:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(_lint_path, names, [args.contract] * len(names), [policy] * len(names),
                                    chunksize=max(1, len(names) // (args.jobs * 8))))
    else:
        results = [_lint_path(name, args.contract, policy) for name in names]
    reports: list[Report] = []
    broken = False
    for report, problem in results:
        if report is None:
            # a file name is printed whole (never wrapped) and never read as markup
            err.print(f"[red]error:[/red] {escape(str(problem))}", highlight=False, soft_wrap=True)
            broken = True
            continue
        if any(f.rule in (S.NOT_JSON.id, S.TOO_DEEP.id) for f in report.findings):
            broken = True
        reports.append(report)
    detected = {r.source for r in reports if args.contract is None and r.source}
    if args.format == "json":
        print(to_json(reports))
    elif args.format == "sarif":
        print(to_sarif(reports))
    else:
        render_text(reports, _console(), detected=detected)
    if broken:
        return EXIT_USAGE
    return EXIT_OK if all(r.valid for r in reports) else EXIT_VIOLATIONS


def cmd_rules(args: argparse.Namespace) -> int:
    from ..reporting.catalogue import markdown
    from ..rules import all_rules

    if args.format == "markdown":
        print(markdown())
        return EXIT_OK
    for r in all_rules():
        print(f"{r.id}  {r.severity:<7}  {r.name:<26}  {r.summary}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aep-export-contracts",
                                     description="Contract checks for AEP's Profile Export Jobs API.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    lint = sub.add_parser("lint", help="validate payload files (JSON or YAML) against the contracts")
    lint.add_argument("files", nargs="+", metavar="FILE", help="payload files; '-' reads stdin")
    lint.add_argument("--contract", choices=CONTRACT_NAMES, help="the contract (detected from the shape if omitted)")
    lint.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    lint.add_argument("--jobs", type=int, default=1, help="lint with N processes (same output order)")
    _add_policy_options(lint)
    lint.set_defaults(func=cmd_lint)

    rules = sub.add_parser("rules", help="list the rule catalogue")
    rules.add_argument("--format", choices=("text", "markdown"), default="text")
    rules.set_defaults(func=cmd_rules)

    from . import more as cli_more

    cli_more.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse prints its own usage message
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"aep-export-contracts: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("aep-export-contracts: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
