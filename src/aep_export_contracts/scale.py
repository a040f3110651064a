"""Past one machine: a command's inputs in partitions on a Dask cluster, and one merged verdict.

The validator is a pure function of bytes, so the work splits by input: a partition is a run of input files
(a recording is never split, so the rules across its exchanges see it whole), each partition is one task, and
what the tasks return (partial reports) is merged in the inputs' order, so the report reads as if one
process had read everything. A task that a dying worker took down is run again on another (Dask's own
retries: the tasks are pure); one that cannot be run is an error naming its inputs.

``--scheduler local:N`` starts a ``LocalCluster`` of N worker processes on this machine; any other value is
the address of a running scheduler (``tcp://host:8786``). The library entry points (``replay_partition``,
``merge_replays``) serve teams that run their own Dask or Spark jobs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from .about import not_installed
from .findings import Policy, Report, RunReport

__all__ = ["ScaleError", "cluster", "merge_replays", "partitions", "replay_partition", "run_partitions",
           "validate_partition"]

T = TypeVar("T")


class ScaleError(RuntimeError):
    """The cluster could not be reached or started, or a partition could not be run (the message says which)."""


def partitions(items: Sequence[T], workers: int, *, per_worker: int = 4) -> list[list[T]]:
    """The inputs in runs of consecutive items: about ``per_worker`` partitions per worker, each at least one
    item, so that a slow partition does not hold the run up and there is not one task per input."""
    if not items:
        return []
    size = max(1, math.ceil(len(items) / (max(1, workers) * per_worker)))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


@contextmanager
def cluster(address: str) -> Iterator[Any]:
    """A Dask client: of a ``LocalCluster`` of N workers (``local:N``), or of the scheduler at ``address``."""
    try:
        from distributed import Client, LocalCluster
    except ModuleNotFoundError:
        raise ScaleError(not_installed("distributed", "--scheduler", "")) from None
    if address.startswith("local:"):
        count = address.removeprefix("local:")
        if not (count.isascii() and count.isdigit() and 0 < int(count) <= 256):
            raise ScaleError(f"--scheduler {address!r}: local: takes a number of worker processes, 1 to 256")
        try:
            local = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True,  # type: ignore[no-untyped-call]
                                 dashboard_address=None)
        except (RuntimeError, OSError, TimeoutError) as exc:
            raise ScaleError(f"--scheduler {address}: the local cluster did not start ({str(exc)[:160]})") from None
        try:
            with Client(local) as client:  # type: ignore[no-untyped-call]
                yield client
        finally:
            local.close()
        return
    try:
        client = Client(address, timeout=30)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise ScaleError(f"--scheduler {address!r}: cannot reach the Dask scheduler ({exc})") from None
    with client:
        yield client


def run_partitions(client: Any, task: Callable[..., T], parts: Sequence[Sequence[Any]], *args: Any,
                   progress: Callable[[int, int, float], None] | None = None) -> list[T]:
    """Run ``task(part, *args)`` for every partition on the cluster; the results in the partitions' order.

    ``progress(done, total, seconds)`` is told as partitions finish. Raises ``ScaleError`` naming the inputs of
    a partition that could not be run (its worker died more often than the scheduler retries a task).
    """
    from distributed import as_completed

    client.register_plugin(_same_contract(), name="aep-export-contracts: the same contract")
    started = time.monotonic()
    futures = [client.submit(task, list(part), *args, pure=False, retries=2) for part in parts]
    for done, future in enumerate(as_completed(futures), 1):  # type: ignore[no-untyped-call]
        if future.status == "error":
            index = futures.index(future)
            named = ", ".join(map(str, list(parts[index])[:3])) + (" ..." if len(parts[index]) > 3 else "")
            exc = future.exception()
            for other in futures:
                other.cancel()
            if not _lost(exc):
                raise exc  # the task's own error (a recording that cannot be read): said as the command says it
            raise ScaleError(f"partition {index + 1} of {len(parts)} ({named}) was lost: "
                             f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}")
        if progress is not None:
            progress(done, len(parts), time.monotonic() - started)
    return list(client.gather(futures))


def _same_contract() -> Any:
    """A worker plugin that gives every worker, and every worker started later, what this process judges with:
    the rule modules it loaded (``--rules``) and the overlay in use."""
    from distributed import WorkerPlugin

    from .rules import loaded_modules
    from .spec.contracts import active_overlay

    overlay = active_overlay()

    class SameContract(WorkerPlugin):
        def __init__(self, modules: list[str], overlay: str | None) -> None:
            self.modules, self.overlay = modules, overlay

        def setup(self, worker: Any) -> None:
            from .rules import load_rules
            from .spec.contracts import active_overlay, use_overlay

            for module in self.modules:
                load_rules(module)
            now = active_overlay()
            if (now.path if now is not None else None) != self.overlay:
                use_overlay(self.overlay)

    return SameContract(loaded_modules(), str(Path(overlay.path).resolve()) if overlay is not None else None)


def _lost(exc: BaseException) -> bool:
    """Whether a task failed because the cluster lost it (its worker died), not by an error of its own."""
    from distributed import KilledWorker
    from distributed.comm.core import CommClosedError

    return isinstance(exc, KilledWorker | CommClosedError | OSError)


def replay_partition(files: Sequence[str | Path], policy: Policy | None = None, playback: bool = False) -> RunReport:
    """The partial report of a partition of recordings (each replayed whole, as ``replay`` does): what to
    merge with ``merge_replays``."""
    from .cassettes import replay

    return replay([str(f) for f in files], policy=policy, playback=playback)


def validate_partition(items: Iterable[tuple[str, bytes]], contract: str | None = None,
                       policy: Policy | None = None) -> list[Report]:
    """The reports of a partition of payloads, each a (name, bytes) pair, in order: ``lint``'s work on one
    worker. Partial results merge by concatenation, in the partitions' order."""
    from .engine.payload import validate_file

    chosen = policy or Policy()
    return [validate_file(data, name, contract, policy=chosen) for name, data in items]


def merge_replays(parts: Sequence[tuple[int, RunReport]], named: str, policy: Policy) -> RunReport:
    """One report of partial ones, as one process would have written it: merged in the partitions' order
    (their index), whatever the order they arrive in."""
    report = RunReport(named, None, policy, kind="replay")
    for _, part in sorted(parts, key=lambda p: p[0]):
        report.merge(part)
    return report
