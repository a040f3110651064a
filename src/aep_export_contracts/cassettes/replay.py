"""``replay``: every recorded exchange judged again by the session, and a recorded workflow played back."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..about import not_installed
from ..engine.drift import Drift
from ..findings import SERVER, SIDES, Policy, RunReport
from ..reproduce import Reproducer
from ..rules.live import CASSETTE
from ..session import Session
from .load import (
    CassetteError,
    Recording,
    _expected,
    _load,
    _meta,
    _serializer,
    cassette_files,
    exchange_pointer,
    to_exchange,
)
from .record import _vcr
from .scrub import PLACEHOLDERS

__all__ = ["replay"]


def replay(paths: Iterable[str | Path], *, policy: Policy | None = None, playback: bool = True,
           workers: int = 1) -> RunReport:
    """Re-validate every recorded exchange; re-run recorded workflows in playback (fail closed).

    With ``workers`` > 1 the cassettes are shared out among processes; the report keeps input order.
    """
    policy = policy or Policy.make(strict=True)
    given = [str(p) for p in paths]
    files = cassette_files(given)
    if workers > 1 and len(files) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(_replay_file, files, [policy] * len(files), [playback] * len(files)))
    else:
        parts = [_replay_file(f, policy, playback) for f in files]
    report = RunReport(run_name(given), None, policy, kind="replay")
    for part in parts:
        report.merge(part, take=True)  # (each part was made for this run alone)
    return report


def run_name(given: list[str]) -> str:
    """What a replay's report calls its run: the paths it was given."""
    return ", ".join(given[:3]) + (f" and {len(given) - 3} more" if len(given) > 3 else "")


def drift_of(files: Iterable[Recording]) -> Drift:
    """Where the recordings' answers depart from the description (every documented property never seen
    included); raises ``CassetteError`` naming a recording that cannot be read."""
    drift = Drift()
    for path in files:
        try:
            data = _load(path)
            for i, interaction in enumerate(data["interactions"]):
                drift.see(to_exchange(interaction, f"{path.name}#{i}"), (str(path), exchange_pointer(path, i)))
        except CassetteError as exc:
            raise CassetteError(f"{path}: {exc}") from None
    return drift


def _replay_file(path: Recording, policy: Policy, playback: bool) -> RunReport:
    report = RunReport(str(path), None, policy, reproduce=Reproducer([]), kind="replay")
    try:
        data = _load(path)
        meta = _meta(data)
    except CassetteError as exc:
        report.errors.append(f"{path}: {str(exc)[:200]}")
        return report
    except OSError as exc:
        report.errors.append(f"{path}: cannot read: {exc.strerror or exc}")
        return report
    expected = _expected(meta)
    expected_at: dict[int, set[tuple[str, str]]] = {}
    for at, rule, pointer in expected:
        expected_at.setdefault(at, set()).add((rule, pointer))
    seen: set[tuple[int, str, str]] = set()
    name, where = path.name, str(path)
    place = exchange_pointer(path, 0)[:-1]  # where the interactions lie: the index follows
    # a recording the check's workflows made holds requests invalid on purpose: only the server's answers are
    # judged; any other recording (a proxy's session, a HAR export, a team's cassette) is judged on both sides
    session = Session(report, sides=frozenset({SERVER}) if meta.get("workflow") else frozenset(SIDES), layer="replay",
                      drift=True)
    for i, interaction in enumerate(data["interactions"]):
        try:
            exchange = to_exchange(interaction, f"{name}#{i}")
        except CassetteError as exc:
            report.errors.append(f"{path}: interaction {i}: {exc}")
            continue
        verdict = session.see(exchange, name=f"{name}#{i} {exchange.method} {exchange.path}",
                              annotated=expected_at.get(i, ()) if expected_at else (), recording=(where, f"{place}{i}"))
        if verdict.expected_found:
            seen.update((i, rule, pointer) for rule, pointer in verdict.expected_found)
    for i, rule, pointer in sorted(expected - seen):
        report.add("replay", f"{name}#{i} annotation", name,
                   [CASSETTE.finding(pointer,
                            f"the cassette expects {rule} at {pointer or '/'} in interaction {i}, "
                            "and replay no longer reports it", "update the annotation or the contract")])
    # vcrpy plays back cassettes only, and only a workflow recorded to its end
    if playback and meta.get("workflow") and path.suffix != ".har" and not meta.get("interrupted") \
            and isinstance(path, Path):  # (vcrpy plays a cassette of this machine's files back; a URL's is judged)
        base_url = meta.get("base_url")
        problem = None if report.errors else _unplayable(data) if _sendable(base_url) \
            else f"its metadata's base_url {base_url[:80]!r} is no URL a client can send to (http or https, a host, " \
            "a numeric port)" if isinstance(base_url, str) else "its metadata names no base_url"
        if problem:
            report.errors.append(f"{path}: cannot be played back: {problem} (replay with --no-playback)")
        elif not report.errors:
            _playback(path, meta, report)
    return report


def _sendable(value: Any) -> bool:
    """Whether a recorded URL is one an HTTP client can send to (and vcrpy can match a request against)."""
    if not isinstance(value, str) or not value.isascii():
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises for a port that is not a number in range)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _header_map(raw: Any) -> bool:
    return isinstance(raw, dict) and all(
        isinstance(k, str) and k.isascii() and isinstance(v, list) and bool(v)
        and all(isinstance(x, str) and x.isascii() for x in v) for k, v in raw.items())


def _body_map(raw: Any, *, request: bool) -> bool:
    if request:
        return raw is None or isinstance(raw, str)
    return isinstance(raw, dict) and "string" in raw and isinstance(raw["string"], str | bytes)  # None crashes httpx in playback


def _unplayable(data: dict[str, Any]) -> str | None:
    """What keeps vcrpy from playing the cassette back (it reads interactions strictly), or None."""
    for i, interaction in enumerate(data["interactions"]):
        request, response = interaction.get("request") or {}, interaction.get("response") or {}
        status = response.get("status")
        checks = {
            # vcrpy builds its request from exactly these keys, and reads these of the response
            "request's keys": set(request) == {"method", "uri", "body", "headers"},
            "response's keys": {"status", "headers", "body"} <= set(response),
            "request method or uri": isinstance(request.get("method"), str) and _sendable(request.get("uri")),
            "request headers": _header_map(request.get("headers", {})),
            "request body": _body_map(request.get("body"), request=True),
            "response status": isinstance(status, dict) and isinstance(status.get("code"), int)
            and isinstance(status.get("message"), str) and status["message"].isascii(),  # (vcrpy encodes it so)
            "response headers": _header_map(response.get("headers", {})),
            "response body": _body_map(response.get("body"), request=False),
        }
        bad = [what for what, ok in checks.items() if not ok]
        if bad:
            return f"interaction {i}: its {bad[0]} is not in the form vcrpy writes"
    return None


def _playback(path: Path, meta: dict[str, Any], report: RunReport) -> None:
    try:
        from vcr.errors import CannotOverwriteExistingCassetteException
    except ModuleNotFoundError:  # re-validation needs no vcrpy; playback does
        report.errors.append(not_installed("vcr", f"{path.name}: playback", "or replay with --no-playback"))
        return

    from ..check.client import Client, Credentials
    from ..check.workflows import Context, cleanup, lifecycle, negative

    creds = Credentials(PLACEHOLDERS["token"], PLACEHOLDERS["api_key"], PLACEHOLDERS["org"], PLACEHOLDERS["sandbox"])
    sub = RunReport(str(path), int(meta.get("seed", 0)), report.policy, reproduce=Reproducer([]))
    client = Client(str(meta["base_url"]), creds, sleep=lambda _s: None, retries=0)
    ctx = Context(client, sub, bool(meta.get("writes", True)), int(meta.get("max_jobs", 10)), 60.0,
                  int(meta.get("seed", 0)))
    try:
        with _vcr("none").use_cassette(str(path), serializer=_serializer(path)):
            try:
                lifecycle(ctx)
                negative(ctx)
                cleanup(ctx)
            except CannotOverwriteExistingCassetteException as exc:
                detail = str(exc).splitlines()[0][:200]
                report.add("playback", f"{path.name}: workflow replay", path.name,
                           [CASSETTE.finding("", f"a request is missing from the cassette: {detail}",
                                             "record the cassette again")])
                return
    finally:
        client.close()
    failing = [f for r in sub.results for f in r.findings if report.policy.fails(f)]
    report.add("playback", f"{path.name}: workflow replay ({len(sub.results)} checks)", path.name, failing)
