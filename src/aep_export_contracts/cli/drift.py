"""``drift``: where recorded answers depart from the description, and an overlay that would adopt it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .common import (
    EXIT_OK,
    EXIT_VIOLATIONS,
    UsageError,
    add_command,
    add_overlay_option,
    add_recordings_argument,
    add_scheduler_option,
    console,
    partition_progress,
)

FAIL_ON = ("error", "warning")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "drift", "where recorded answers depart from the description",
                    "Reads recordings (cassettes, HAR files, a proxy's session) and reports, grouped by operation, "
                    "contract and pointer, what the answers carry that the description does not say: undocumented "
                    "properties, values outside an enum, other JSON types, undocumented status codes, headers and "
                    "media types, and documented properties no answer carried. It judges nothing: a run's verdict "
                    "is replay's. --write-overlay proposes the change as an OpenAPI Overlay 1.0 document.",
                    {0: "reported (and nothing at or above --fail-on)", 1: "a departure at or above --fail-on",
                     2: "a recording that cannot be read, or a usage mistake"})
    add_recordings_argument(p, formats="departures are")
    p.add_argument("--write-overlay", metavar="FILE",
                   help="write an OpenAPI Overlay 1.0 document (.json, .yaml) that makes the description accept "
                        "what was seen, each action with its evidence")
    add_scheduler_option(p)
    p.add_argument("--fail-on", choices=FAIL_ON, metavar="error|warning",
                   help="exit 1 when a departure is this grave or graver (error: a type or an enum value the "
                        "contract refuses; warning: anything the description does not say)")
    add_overlay_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..cassettes.load import cassette_files
    from ..options import writable_file
    from ..reporting.check_text import print_drift

    if args.write_overlay:
        writable_file("--write-overlay", args.write_overlay, (".json", ".yaml", ".yml"))
    try:
        files = cassette_files(args.paths)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    if args.scheduler:
        from ..scale import cluster, partitions, run_partitions

        with cluster(args.scheduler) as client:
            parts = partitions(files, len(client.scheduler_info()["workers"]))
            found = run_partitions(client, _drift_part, parts, progress=partition_progress)
        drift = found[0] if found else _drift_part([])
        for more in found[1:]:
            drift.merge(more)
    else:
        drift = _drift_part(files)
    departures = drift.departures()
    total = drift.exchanges
    if args.format == "json":
        print(json.dumps({"exchanges": total, "recordings": len(files),
                          "departures": [d.to_dict(total) for d in departures]}, indent=2, default=str))
    else:
        print_drift(departures, total, console(), files=len(files))
    if args.write_overlay:
        _write_overlay(Path(args.write_overlay), departures, total)
    if args.fail_on:
        graver = ("error",) if args.fail_on == "error" else ("error", "warning")
        failing = [d for d in departures if d.severity in graver]
        if failing:
            kinds = ", ".join(sorted({d.kind for d in failing}))
            console(stderr=True).print(f"drift at or above {args.fail_on}: {len(failing)} departure(s) ({kinds})",
                                       markup=False, highlight=False)
            return EXIT_VIOLATIONS
    return EXIT_OK


def _drift_part(files: list[Any]) -> Any:
    """The drift of some recordings (a partition, on a worker; or all of them)."""
    from ..cassettes.load import CassetteError
    from ..cassettes.replay import drift_of

    try:
        return drift_of(files)
    except CassetteError as exc:
        raise UsageError(str(exc)) from exc


def _write_overlay(path: Path, departures: list[Any], total: int) -> None:
    import yaml

    from ..reporting.overlay import overlay_for

    doc = overlay_for(departures, total)
    text = json.dumps(doc, indent=2) + "\n" if path.suffix == ".json" else \
        yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    console(stderr=True).print(f"wrote an overlay of {len(doc['actions'])} action(s) to {path}", markup=False,
                               highlight=False)
