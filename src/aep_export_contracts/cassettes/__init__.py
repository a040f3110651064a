"""Cassettes: record exchanges with scrubbing, replay them offline, scan for secrets.

A cassette is a vcrpy YAML file. ``record`` runs the check's lifecycle and negative workflows
through vcrpy and scrubs every request and response before anything touches disk. ``replay``
re-validates every recorded exchange with the exchange validator and, for cassettes that ``record``
wrote, re-runs the same workflows with vcrpy in playback: nothing reaches the network, and a request
the cassette does not hold is an error. ``scan`` finds what looks like a secret in files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import yaml

from ..engine.yamlload import load_yaml
from ..findings import SERVER, SIDES, Policy, RunReport
from ..http import Exchange, Headers
from ..reproduce import Reproducer

if TYPE_CHECKING:
    from ..check.check import CheckOptions
from ..rules.workflow import CASSETTE
from ..session import Session
from ..spec.api import HEADERS, PATHS
from .har import HarError, from_har, to_har
from .scan import EMAIL, Hit, files_under, scan

__all__ = ["CassetteError", "Hit", "Scrubber", "from_har", "load_exchanges", "record", "replay", "scan", "to_har"]

PLACEHOLDERS = {"token": "{ACCESS_TOKEN}", "api_key": "{API_KEY}", "org": "{IMS_ORG}", "sandbox": "{SANDBOX_NAME}"}
EMAIL_PLACEHOLDER = "[redacted-email]"
SECRET_HEADERS = dict(zip(HEADERS.secret, (HEADERS.bearer_prefix + PLACEHOLDERS["token"], PLACEHOLDERS["api_key"]),
                          strict=True))

try:  # the C dumper is much faster where PyYAML was built with libyaml
    from yaml import CSafeDumper as _Dumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]


@dataclass
class Scrubber:
    """Replaces secrets by header name and by value, in requests and responses alike."""

    token: str
    api_key: str
    org: str
    sandbox: str
    extra: list[str] = field(default_factory=list)
    other_orgs: dict[str, str] = field(default_factory=dict)  # another org id seen → its own placeholder

    def pairs(self) -> list[tuple[str, str]]:
        values = [(self.token, PLACEHOLDERS["token"]), (self.api_key, PLACEHOLDERS["api_key"]),
                  (self.org, PLACEHOLDERS["org"]), (self.sandbox, PLACEHOLDERS["sandbox"])]
        values += [(x, "[redacted]") for x in self.extra]
        # longest first, so that a value containing another is replaced whole
        return sorted(((v, p) for v, p in values if v and len(v) >= 3), key=lambda vp: -len(vp[0]))

    def text(self, value: str) -> str:
        for secret, placeholder in self.pairs():
            value = value.replace(secret, placeholder)
        return EMAIL.sub(EMAIL_PLACEHOLDER, value)

    def body(self, body: Any) -> Any:
        if body is None:
            return None
        if isinstance(body, bytes | bytearray):
            try:
                return self.text(bytes(body).decode("utf-8")).encode("utf-8")
            except UnicodeDecodeError:
                return b"[binary body removed]"
        return self.text(str(body))

    def header(self, name: str, value: str) -> str:
        lowered = name.lower()
        if lowered in SECRET_HEADERS:
            return SECRET_HEADERS[lowered]
        if lowered == HEADERS.org:
            # every org id is masked; another org than the run's gets a placeholder of its own, so that a
            # recording still shows which requests shared a scope
            if value == self.org:
                return PLACEHOLDERS["org"]
            return self.other_orgs.setdefault(value, PLACEHOLDERS["org"][:-1] + f"_{len(self.other_orgs) + 2}}}")
        if lowered == HEADERS.sandbox:
            return PLACEHOLDERS["sandbox"] if value == self.sandbox else self.text(value)
        return self.text(value)

    # vcrpy hooks
    def request(self, request: Any) -> Any:
        request.uri = self.text(request.uri)
        for name in list(request.headers):
            request.headers[name] = self.header(name, str(request.headers[name]))
        request.body = self.body(request.body)
        return request

    def interaction(self, item: dict[str, Any]) -> dict[str, Any]:
        """A scrubbed copy of a cassette interaction (request and response as dicts, headers as lists)."""
        request = dict(item["request"])
        request["uri"] = self.text(request["uri"])
        request["headers"] = {k: [self.header(k, str(v)) for v in values] for k, values in request["headers"].items()}
        request["body"] = None if request.get("body") is None else self.body(request["body"])
        response = dict(item["response"])
        response["headers"] = dict(response.get("headers") or {})
        response["body"] = dict(response.get("body") or {})
        return {"request": request, "response": self.response(response)}

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers", {})
        for name in list(headers):
            headers[name] = [self.header(name, str(v)) for v in headers[name]]
        body = response.get("body", {})
        if "string" in body:
            body["string"] = self.body(body["string"])
        return response


def _vcr(mode: str, scrubber: Scrubber | None = None) -> Any:
    import vcr

    return vcr.VCR(
        record_mode=mode,
        before_record_request=scrubber.request if scrubber else None,
        before_record_response=scrubber.response if scrubber else None,
        decode_compressed_response=True,
        match_on=("method", "scheme", "host", "port", "path", "query", "body"),
    )


def record(out: str | Path, options: CheckOptions | None = None, **named: Any) -> int:
    """Record the lifecycle and negative workflows into one scrubbed cassette; returns the interaction count.

    The check's options say the target, credentials, seed, writes and job budget: as ``options`` or
    by their names (``base_url=``, ``token=``, ...; ``max_jobs`` is 10 unless given). Raises
    ``OptionError`` for a bad option or a target that may not be written to.
    """
    from ..check.check import CheckOptions, credentials, target
    from ..check.client import Client
    from ..check.workflows import Context, cleanup, lifecycle, negative
    from ..options import make
    from ..target import check_writes

    if options is None:
        options = make(CheckOptions, {"max_jobs": 10, **named})
    opts = options
    base_url, seed, allow_writes, max_jobs = opts.base_url, opts.seed, opts.allow_writes, opts.max_jobs
    creds = credentials(opts, base_url is None)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    scrubber = Scrubber(creds.token, creds.api_key, creds.org, creds.sandbox)
    with target(opts, on_socket=True) as where:
        url = where.url
        writes = check_writes(url, read_only=False, allow_writes=allow_writes, sandbox=creds.sandbox)
        report = RunReport(url, seed, Policy(), reproduce=Reproducer(creds.secrets()))
        with _vcr("all", scrubber).use_cassette(str(path), serializer=_serializer(path)):
            client = Client(url, creds, sleep=where.wait)
            ctx = Context(client, report, writes, max_jobs, opts.deadline, seed, now=where.now)
            interrupted = False
            try:
                lifecycle(ctx)
                negative(ctx)
            except KeyboardInterrupt:  # SIGINT or SIGTERM: what was recorded is kept, the jobs are cancelled
                interrupted = True
            finally:
                cleanup(ctx)
                client.close()
    data = _load(path)
    data["aec"] = {"workflow": "lifecycle+negative", "seed": seed, "base_url": scrubber.text(url),
                   "writes": writes, "max_jobs": max_jobs, **({"interrupted": True} if interrupted else {})}
    if _serializer(path) == "json":
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        path.write_text(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True), encoding="utf-8")
    if interrupted:
        raise KeyboardInterrupt  # the recording is complete for what was seen; the command ends as stopped
    return len(data.get("interactions", []))


def _serializer(path: Path) -> str:
    """vcrpy's serializer for a cassette path: JSON for .json, YAML otherwise."""
    return "json" if path.suffix == ".json" else "yaml"


def cassette_files(paths: Iterable[str | Path]) -> list[Path]:
    """The recordings named, and those below the folders named."""
    return files_under(paths, RECORDING_SUFFIXES)


#: what the loaders read: vcrpy cassettes (YAML or JSON) and HAR files
RECORDING_SUFFIXES = (".yaml", ".yml", ".json", ".har")


def _load(path: Path) -> dict[str, Any]:
    text = path.read_bytes()
    if path.suffix == ".har":
        try:
            har = orjson.loads(text)
            log = har.get("log") if isinstance(har, dict) else None
            aec = log.get("_aec") if isinstance(log, dict) else None  # what to_har kept of a cassette's metadata
            return {"interactions": from_har(har), **({"aec": aec} if aec is not None else {})}
        except orjson.JSONDecodeError as exc:
            raise CassetteError(f"not valid JSON ({exc})") from exc
        except HarError as exc:
            raise CassetteError(str(exc)) from exc
    if _serializer(path) == "json":
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise CassetteError(f"not valid JSON ({exc})") from exc
    else:
        try:
            data = load_yaml(text)
        except yaml.YAMLError as exc:
            raise CassetteError(f"not valid YAML: {str(exc).strip().splitlines()[-1].strip()}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError("not a vcrpy cassette (no 'interactions' list)")
    return data


class CassetteError(ValueError):
    """A cassette, or one of its interactions, cannot be read (the message does not repeat the file)."""


def _body(part: dict[str, Any]) -> Any:
    body = part.get("body")
    if isinstance(body, dict):
        body = body.get("string")
    return body


def _headers(raw: Any, part: str) -> Headers:
    if raw is not None and not isinstance(raw, dict):
        raise CassetteError(f"the {part}'s headers are not a mapping")
    return Headers.of(raw)


def to_exchange(interaction: Any, name: str) -> Exchange:
    """The exchange an interaction recorded; raises ``CassetteError`` for one that cannot be read."""
    if not isinstance(interaction, dict):
        raise CassetteError("an interaction is not a mapping")
    request, response = interaction.get("request"), interaction.get("response", {})
    if not isinstance(request, dict):
        raise CassetteError("the interaction has no request")
    if not isinstance(response, dict):
        raise CassetteError("the interaction's response is not a mapping")
    status = response.get("status", {})
    code = status.get("code") if isinstance(status, dict) else status
    integer = isinstance(code, int) and not isinstance(code, bool)
    digits = isinstance(code, str) and code.isascii() and code.isdigit() and len(code) <= 3
    if code is not None and not (integer or digits):
        raise CassetteError(f"the response status {str(code)[:20]!r} is not a status code")
    return Exchange.make(str(request.get("method", "GET")), str(request.get("uri", "")),
                         request_headers=_headers(request.get("headers"), "request"), request_body=_body(request),
                         status=int(code) if code is not None else None,
                         response_headers=_headers(response.get("headers"), "response"), response_body=_body(response), name=name)


def load_exchanges(paths: Iterable[str | Path], *, contract_only: bool = True) -> Iterator[tuple[str, Exchange]]:
    """(id, exchange) for every interaction of every cassette under ``paths``.

    ``contract_only`` leaves out calls to other services (Data Access) that the contract does not cover.
    """
    for path in cassette_files(paths):
        data = _load(path)
        for i, interaction in enumerate(data["interactions"]):
            name = f"{path.name}#{i}"
            exchange = to_exchange(interaction, name)
            if not contract_only or _is_contract_path(exchange.path):
                yield name, exchange


_META_TYPES: dict[str, tuple[type, ...]] = {"workflow": (str,), "seed": (int,), "base_url": (str,), "writes": (bool,),
                                            "max_jobs": (int,), "expected": (list,),
                                            "interrupted": (bool,)}


def _meta(data: dict[str, Any]) -> dict[str, Any]:
    """The ``aec`` block that ``record`` and annotations write, checked before anything reads it."""
    meta = data.get("aec") or {}
    if not isinstance(meta, dict):
        raise CassetteError("its 'aec' block is not a mapping")
    for key, kinds in _META_TYPES.items():
        value = meta.get(key)
        if value is not None and (not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool))):
            raise CassetteError(f"its 'aec' block's {key!r} is not a {kinds[0].__name__}")
    for entry in meta.get("expected") or []:
        if not (isinstance(entry, dict) and isinstance(entry.get("interaction"), int)
                and not isinstance(entry.get("interaction"), bool)
                and isinstance(entry.get("rule"), str) and isinstance(entry.get("pointer"), str)):
            raise CassetteError("an 'aec' expected entry needs an integer 'interaction' and string 'rule' and 'pointer'")
    return meta


def _expected(meta: dict[str, Any]) -> set[tuple[int, str, str]]:
    return {(e["interaction"], e["rule"], e["pointer"]) for e in meta.get("expected") or []}


def replay(paths: Iterable[str | Path], *, policy: Policy | None = None, playback: bool = True,
           jobs: int = 1) -> RunReport:
    """Re-validate every recorded exchange; re-run recorded workflows in playback (fail closed).

    With ``jobs`` > 1 the cassettes are shared out among processes; the report keeps input order.
    """
    policy = policy or Policy.make(strict=True)
    files = cassette_files(paths)
    if jobs > 1 and len(files) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            parts = list(pool.map(_replay_file, files, [policy] * len(files), [playback] * len(files)))
    else:
        parts = [_replay_file(f, policy, playback) for f in files]
    report = RunReport("cassettes", 0, policy)
    for part in parts:
        report.merge(part)
    return report


def _is_contract_path(path: str) -> bool:
    return PATHS.is_contract_path(path)


def _replay_file(path: Path, policy: Policy, playback: bool) -> RunReport:
    report = RunReport(str(path), 0, policy, reproduce=Reproducer([]))
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
    seen: set[tuple[int, str, str]] = set()
    name = path.name
    # a recording the check's workflows made holds requests invalid on purpose: only the server's answers are
    # judged; any other recording (a proxy's session, a HAR export, a team's cassette) is judged on both sides
    session = Session(report, sides=frozenset({SERVER}) if meta.get("workflow") else frozenset(SIDES), layer="replay")
    for i, interaction in enumerate(data["interactions"]):
        try:
            exchange = to_exchange(interaction, f"{name}#{i}")
        except CassetteError as exc:
            report.errors.append(f"{path}: interaction {i}: {exc}")
            continue
        here = {(rule, pointer) for at, rule, pointer in expected if at == i}
        verdict = session.see(exchange, name=f"{name}#{i} {exchange.method} {exchange.path}", annotated=here)
        seen.update((i, rule, pointer) for rule, pointer in verdict.expected_found)
    for i, rule, pointer in sorted(expected - seen):
        report.add("replay", f"{name}#{i} annotation", name,
                   [CASSETTE.finding(pointer,
                            f"the cassette expects {rule} at {pointer or '/'} in interaction {i}, "
                            "and replay no longer reports it", "update the annotation or the contract")])
    # vcrpy plays back cassettes only, and only a workflow recorded to its end
    if playback and meta.get("workflow") and path.suffix != ".har" and not meta.get("interrupted"):
        problem = None if report.errors else _unplayable(data)
        if problem:
            report.errors.append(f"{path}: cannot be played back: {problem} (replay with --no-playback)")
        elif not report.errors:
            _playback(path, meta, report)
    return report


def _header_map(raw: Any) -> bool:
    return isinstance(raw, dict) and all(
        isinstance(k, str) and k.isascii() and isinstance(v, list) and bool(v)
        and all(isinstance(x, str) and x.isascii() for x in v) for k, v in raw.items())


def _body_map(raw: Any, *, request: bool) -> bool:
    if request:
        return raw is None or isinstance(raw, str)
    return isinstance(raw, dict) and "string" in raw and isinstance(raw["string"], str | bytes | None)


def _unplayable(data: dict[str, Any]) -> str | None:
    """What keeps vcrpy from playing the cassette back (it reads interactions strictly), or None."""
    for i, interaction in enumerate(data["interactions"]):
        request, response = interaction.get("request") or {}, interaction.get("response") or {}
        status = response.get("status")
        checks = {
            # vcrpy builds its request from exactly these keys, and reads these of the response
            "request's keys": set(request) == {"method", "uri", "body", "headers"},
            "response's keys": {"status", "headers", "body"} <= set(response),
            "request method or uri": isinstance(request.get("method"), str) and isinstance(request.get("uri"), str)
            and request["uri"].isascii(),
            "request headers": _header_map(request.get("headers", {})),
            "request body": _body_map(request.get("body"), request=True),
            "response status": isinstance(status, dict) and isinstance(status.get("code"), int)
            and isinstance(status.get("message"), str),
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
        report.errors.append(f"{path.name}: playback needs vcrpy: pip install 'aep-export-contracts[cassettes]' "
                             "(or replay with --no-playback)")
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
