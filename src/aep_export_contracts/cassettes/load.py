"""Reading recordings: vcrpy cassettes (YAML, JSON) and HAR files, as exchanges and their metadata."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import orjson
import yaml

from ..about import not_installed
from ..engine.yamlload import load_yaml
from ..http import Exchange, Headers
from ..options import RECORDING_SUFFIXES
from ..spec.api import PATHS
from .har import HarError, from_har
from .scan import files_under

__all__ = ["RECORDING_SUFFIXES", "CassetteError", "cassette_files", "exchange_pointer", "load_exchanges", "to_exchange"]


def _serializer(path: Path | RemoteFile) -> str:
    """vcrpy's serializer for a cassette path: JSON for .json, YAML otherwise."""
    return "json" if path.suffix == ".json" else "yaml"


def exchange_pointer(path: str | Path | RemoteFile, index: int) -> str:
    """Where the ``index``-th exchange lies in a recording at ``path``, as a JSON pointer (a HAR entry, else a
    cassette's interaction): what a report locates a recorded exchange's finding by."""
    return f"/log/entries/{index}" if str(path).endswith(".har") else f"/interactions/{index}"


class RemoteFile:
    """A recording at a URL of a filesystem fsspec knows (file://, s3://, gs://, ... where installed): what is
    read of a recording's file, read through fsspec."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = PurePosixPath(urlsplit(url).path).name
        self.suffix = PurePosixPath(self.name).suffix

    def read_bytes(self) -> bytes:
        import fsspec

        try:
            with fsspec.open(self.url, "rb") as handle:
                data: bytes = handle.read()
                return data
        except (OSError, ValueError) as exc:
            raise CassetteError(f"cannot be read ({exc})") from None

    def __str__(self) -> str:
        return self.url

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemoteFile) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)

    def __reduce__(self) -> tuple[type[RemoteFile], tuple[str]]:
        # sent to the workers of a scale-out by its URL: a compiled class unpickles through its __init__
        return RemoteFile, (self.url,)


#: a recording's file: on this machine, or at a URL
Recording = Path | RemoteFile


def cassette_files(paths: Iterable[str | Path]) -> list[Recording]:
    """The recordings named, and those below the folders named; a URL (fsspec's globs included) stands for
    the recordings it names, or those below it. Raises ``FileNotFoundError`` for a name that is neither."""
    out: list[Recording] = []
    for given in paths:
        if "://" in str(given):
            out.extend(_remote(str(given)))
        else:
            out.extend(files_under([given], RECORDING_SUFFIXES))
    return out


def _remote(url: str) -> list[RemoteFile]:
    return [RemoteFile(u) for u in remote_files(url, RECORDING_SUFFIXES)]


def remote_files(url: str, suffixes: tuple[str, ...] | None) -> list[str]:
    """The URLs of the files a URL names: itself, the files a glob matches, or (with ``suffixes``) those below a
    folder that end so. Raises ``FileNotFoundError`` for a URL that names none (or a folder, without
    ``suffixes``), or when fsspec is not installed."""
    try:
        import fsspec
        from fsspec.core import url_to_fs
    except ModuleNotFoundError:
        raise FileNotFoundError(not_installed("fsspec", f"{url}: reading inputs by URL")) from None
    try:
        fs, path = url_to_fs(url)
        if fs.isdir(path):
            if suffixes is None:
                raise FileNotFoundError(f"{url}: is a folder (name the files)")
            found = sorted(p for p in fs.find(path) if PurePosixPath(p).suffix in suffixes)
        elif any(c in path for c in "*?["):  # a glob: the files it matches
            found = [f.path for f in fsspec.open_files(url)]
        else:
            found = [path] if fs.isfile(path) else []
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise FileNotFoundError(f"{url}: cannot be read ({exc})") from None
    if not found:
        raise FileNotFoundError(f"{url}: no such file or folder")
    return [fs.unstrip_protocol(p) for p in found]


def _load(path: Path | RemoteFile) -> dict[str, Any]:
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
            if not contract_only or PATHS.is_contract_path(exchange.path):
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


