"""``replay``: re-validate recorded exchanges offline (and re-run recorded workflows in playback)."""

from __future__ import annotations

import argparse

from .common import (
    UsageError,
    add_command,
    add_coverage_option,
    add_overlay_option,
    add_policy_arguments,
    add_recordings_argument,
    add_report_option,
    add_scheduler_option,
    apply_coverage_gate,
    console,
    partition_progress,
    policy_from,
    require,
    run_exit,
    write_reports,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "replay", "re-validate recorded exchanges offline",
                    "Reads cassettes (.yaml, .json) and HAR files (.har), judges every exchange as the check and "
                    "the proxy do, and re-runs recorded workflows against the reference server.",
                    {0: "no violation", 1: "a violation, or coverage below a --min-coverage gate",
                     2: "a recording that cannot be read, or a usage mistake"})
    add_recordings_argument(p)
    add_scheduler_option(p)
    add_report_option(p)
    add_coverage_option(p)
    p.add_argument("--no-playback", action="store_true", help="validate exchanges only; do not re-run workflows")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="replay in N processes (the report keeps the recordings' order)")
    add_policy_arguments(p)
    add_overlay_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..cassettes import replay
    from ..cassettes.load import cassette_files
    from ..reporting.check_text import render_check

    if args.workers < 1:
        raise UsageError("--workers is a positive number of processes")
    policy = policy_from(args)
    try:
        files = cassette_files(args.paths)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    if not args.no_playback and any(f.suffix != ".har" for f in files):  # a HAR file holds no workflow to re-run
        require("vcr", "re-running recorded workflows", "or judge the exchanges only: --no-playback")
    if args.scheduler:
        from ..cassettes.replay import run_name
        from ..scale import cluster, merge_replays, partitions, replay_partition, run_partitions

        with cluster(args.scheduler) as client:
            parts = partitions(files, len(client.scheduler_info()["workers"]))
            found = run_partitions(client, replay_partition, parts, policy, not args.no_playback,
                                   progress=partition_progress)
        report = merge_replays(list(enumerate(found)), run_name([str(p) for p in args.paths]), policy)
    else:
        report = replay(args.paths, policy=policy, playback=not args.no_playback, workers=args.workers)
    apply_coverage_gate(report, args.min_coverage)
    render_check(report, console())
    write_reports(report, args.report)
    return run_exit(report)
