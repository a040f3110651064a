"""``lint``: validate payload files (JSON or YAML) against the contracts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..engine.payload import validate_file
from ..findings import Policy, Report
from ..rules import schema as SCHEMA_RULES
from ..spec.contracts import CONTRACT_NAMES
from .common import (
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VIOLATIONS,
    UsageError,
    add_command,
    add_overlay_option,
    add_policy_arguments,
    add_scheduler_option,
    console,
    error,
    partition_progress,
    policy_from,
    require,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "lint", "validate payload files (JSON or YAML) against the contracts",
                    "Each finding names the field (a JSON pointer), the rule and the fix.",
                    {0: "every file valid", 1: "a violation", 2: "a file that cannot be read or parsed, or a usage "
                                                                  "mistake"})
    p.add_argument("files", nargs="+", metavar="FILE", help="payload files; '-' reads stdin")
    p.add_argument("--contract", choices=CONTRACT_NAMES, metavar="NAME",
                   help="the contract every file is checked against (detected from each file's shape when left "
                        "out): " + ", ".join(CONTRACT_NAMES))
    p.add_argument("--format", choices=("text", "json", "sarif"), default="text", metavar="text|json|sarif",
                   help="how findings are printed on stdout")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="lint in N processes (the output keeps the files' order)")
    add_scheduler_option(p)
    add_policy_arguments(p)
    add_overlay_option(p)
    p.set_defaults(func=run)


def _read_input(name: str) -> tuple[bytes, str]:
    if name == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    if "://" in name:  # a URL of a filesystem fsspec knows (file://, s3://, gs://, ... where installed)
        import fsspec

        try:
            with fsspec.open(name, "rb") as handle:
                return handle.read(), name
        except (OSError, ValueError) as exc:
            raise UsageError(f"{name}: cannot read: {exc}") from exc
    path = Path(name)
    if path.is_dir():
        raise UsageError(f"{name}: is a folder (name the files)")
    try:
        return path.read_bytes(), name
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from exc


def _lint_path(name: str, contract: str | None, policy: Policy) -> tuple[Report | None, str | None]:
    """Lint one input: (report, None), or (None, the reason it could not be read)."""
    try:
        data, source = _read_input(name)
    except UsageError as exc:
        return None, str(exc)
    return validate_file(data, source, contract, policy=policy), None


def _expanded(names: list[str]) -> list[str]:
    """The inputs, a URL (with fsspec's globs) standing for the files it names, in order."""
    if not any("://" in name for name in names):
        return names
    require("fsspec", "reading inputs by URL", "or name local files")
    import fsspec

    out: list[str] = []
    for name in names:
        if "://" not in name:
            out.append(name)
            continue
        try:
            found = fsspec.open_files(name, "rb")
        except (OSError, ValueError) as exc:
            raise UsageError(f"{name}: cannot be read: {exc}") from exc
        if not found:
            raise UsageError(f"{name}: no such file")
        out.extend(f.fs.unstrip_protocol(f.path) for f in found)
    return out


def _lint_paths(names: list[str], contract: str | None, policy: Policy) -> list[tuple[Report | None, str | None]]:
    """Lint a partition of files (on a cluster's worker), in order."""
    return [_lint_path(name, contract, policy) for name in names]


def run(args: argparse.Namespace) -> int:
    from ..reporting import render_text, to_json, to_sarif

    if args.workers < 1:
        raise UsageError("--workers is a positive number of processes")
    policy = policy_from(args)
    names = _expanded(list(args.files))
    if args.scheduler:
        if "-" in names:
            raise UsageError("--scheduler reads files; '-' (stdin) is read on this machine only")
        from ..scale import cluster, partitions, run_partitions

        with cluster(args.scheduler) as client:
            parts = partitions(names, len(client.scheduler_info()["workers"]))
            found = run_partitions(client, _lint_paths, parts, args.contract, policy, progress=partition_progress)
        results = [item for part in found for item in part]
    elif args.workers > 1 and len(names) > 1 and "-" not in names:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            results = list(pool.map(_lint_path, names, [args.contract] * len(names), [policy] * len(names),
                                    chunksize=max(1, len(names) // (args.workers * 8))))
    else:
        results = [_lint_path(name, args.contract, policy) for name in names]
    reports: list[Report] = []
    broken = False
    for report, problem in results:
        if report is None:
            error(str(problem))
            broken = True
            continue
        if any(f.rule in (SCHEMA_RULES.NOT_JSON.id, SCHEMA_RULES.TOO_DEEP.id) for f in report.findings):
            broken = True
        reports.append(report)
    if broken and not reports:  # nothing was read: the errors are all there is to say
        return EXIT_USAGE
    detected = {r.source for r in reports if args.contract is None and r.source}
    if args.format == "json":
        print(to_json(reports))
    elif args.format == "sarif":
        print(to_sarif(reports))
    else:
        render_text(reports, console(), detected=detected)
    if broken:
        return EXIT_USAGE
    return EXIT_OK if all(r.valid for r in reports) else EXIT_VIOLATIONS
