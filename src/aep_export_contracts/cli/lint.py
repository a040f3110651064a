"""``lint``: validate payload files (JSON or YAML) against the contracts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..engine.payload import validate_bytes, validate_file
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
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="payload files ('-' reads stdin; a .jsonl or .ndjson file holds a payload per line, each "
                        "reported as FILE:LINE)")
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
        from ..cassettes.load import CassetteError, RemoteFile

        try:
            return RemoteFile(name).read_bytes(), name
        except CassetteError as exc:
            raise UsageError(f"{name}: {exc}") from exc
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
    from ..cassettes.load import remote_files

    try:
        return [found for name in names for found in (remote_files(name, None) if "://" in name else [name])]
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc


#: the endings of JSON-lines files: a payload per line, each reported as FILE:LINE
JSON_LINES = (".jsonl", ".ndjson")
#: a range of a JSON-lines file: (its name, the first byte, the byte after the last, the number of its first
#: line); a range holds whole lines only
Span = tuple[str, int, int, int]
Result = tuple[Report | None, str | None]


def _open(name: str) -> Any:
    if "://" in name:
        import fsspec

        return fsspec.open(name, "rb").open()
    return open(name, "rb")


def _spans(name: str, parts: int) -> list[Span]:
    """A JSON-lines file cut at line ends into about ``parts`` ranges, each with the number of its first line
    (read once here, to count lines; each range is read again by the worker that lints it)."""
    try:
        with _open(name) as handle:
            size = handle.seek(0, 2)
            spans: list[Span] = []
            start, line = 0, 1
            for k in range(1, parts + 1):
                if start >= size:
                    break
                end = size
                if k < parts:
                    handle.seek(max(start, size * k // parts))
                    handle.readline()  # to the end of the line the cut falls in
                    end = min(size, handle.tell())
                if end <= start:
                    continue
                handle.seek(start)
                spans.append((name, start, end, line))
                line += handle.read(end - start).count(b"\n")
                start = end
            return spans
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from exc


def _lint_span(span: Span, contract: str | None, policy: Policy) -> list[Result]:
    """Lint every line of a range of a JSON-lines file, each named FILE:LINE."""
    name, start, end, line = span
    try:
        with _open(name) as handle:
            handle.seek(start)
            data = handle.read(end - start)
    except OSError as exc:
        return [(None, f"{name}: cannot read: {exc.strerror or exc}")]
    out: list[Result] = []
    for number, raw in enumerate(data.split(b"\n"), line):
        if raw.strip():
            out.append((validate_bytes(raw, contract, policy=policy, source=f"{name}:{number}"), None))
    return out


def _lint_item(item: str | Span, contract: str | None, policy: Policy) -> list[Result]:
    return _lint_span(item, contract, policy) if isinstance(item, tuple) else [_lint_path(item, contract, policy)]


def _lint_items(items: list[str | Span], contract: str | None, policy: Policy) -> list[Result]:
    """Lint a partition of inputs (files, ranges of JSON-lines files; on a cluster's worker), in order."""
    return [result for item in items for result in _lint_item(item, contract, policy)]


def _items(names: list[str], parts: int) -> list[str | Span]:
    """The work: a file, or a JSON-lines file's ranges (one range for the whole file where ``parts`` is 1)."""
    return [span for name in names for span in (_spans(name, parts) if name.endswith(JSON_LINES) else [name])]


def run(args: argparse.Namespace) -> int:
    from ..reporting import render_text, to_json, to_sarif

    if args.workers < 1:
        raise UsageError("--workers is a positive number of processes")
    policy = policy_from(args)
    names = _expanded(list(args.files))
    results: list[Result]
    if args.scheduler:
        if "-" in names:
            raise UsageError("--scheduler reads files; '-' (stdin) is read on this machine only")
        from ..scale import cluster, partitions, run_partitions

        with cluster(args.scheduler) as client:
            workers = len(client.scheduler_info()["workers"])
            items = _items(names, workers * 4)  # a JSON-lines file in ranges, about four per worker
            parts = partitions(items, workers)
            found = run_partitions(client, _lint_items, parts, args.contract, policy, progress=partition_progress)
        results = [item for part in found for item in part]
    elif args.workers > 1 and len(names) > 1 and "-" not in names:
        from concurrent.futures import ProcessPoolExecutor

        items = _items(names, args.workers * 4)
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            results = [r for part in pool.map(_lint_item, items, [args.contract] * len(items),
                                                [policy] * len(items), chunksize=max(1, len(items) // (args.workers * 8)))
                       for r in part]
    else:
        results = _lint_items(_items(names, 1), args.contract, policy)
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
