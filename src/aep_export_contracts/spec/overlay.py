"""OpenAPI Overlay 1.0 documents, applied to the description and its contracts before anything reads them.

An overlay's targets are RFC 9535 JSONPath queries into the bundled description (every contract inlined
under ``components/schemas``). Each node a target selects is traced back to where it is written: a contract
file (or one of its ``$defs``) for a node under ``components/schemas``, the OpenAPI document otherwise; the
action is applied there, so the contracts, the description and every fact read from them agree. An update
merges into an object (recursively), appends to an array and replaces anything else; ``remove`` takes the
node out. A ``$ref`` to ``#/components/schemas/...`` in an update is written back as the reference to the
contract file it names.

``read`` refuses an overlay that does not parse or is not an Overlay 1.0 document; ``apply`` one whose
target selects nothing, and ``check`` a description the overlay made invalid: each with an
``OverlayError`` that says which action and why, in one line.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["MAX_BYTES", "Overlay", "OverlayError", "apply", "check", "read"]

#: the largest overlay file read (an overlay is a few actions; anything bigger is a mistake)
MAX_BYTES = 4 << 20


class OverlayError(ValueError):
    """An overlay cannot be used: it does not parse, is not an Overlay 1.0 document, targets nothing, or
    would make the description invalid."""


@dataclass(frozen=True)
class Overlay:
    path: str
    digest: str  # sha256 of the file's bytes: what a report names the overlay by
    document: dict[str, Any]

    @property
    def actions(self) -> list[dict[str, Any]]:
        return list(self.document["actions"])


def read(path: str | Path) -> Overlay:
    """An overlay file (YAML or JSON), checked to be an Overlay 1.0 document with targets that parse."""
    import jsonpath_rfc9535

    where = Path(path)
    try:
        if where.stat().st_size > MAX_BYTES:
            raise OverlayError(f"overlay {path}: larger than {MAX_BYTES >> 20} MiB")
        raw = where.read_bytes()
    except OSError as exc:
        raise OverlayError(f"overlay {path}: cannot be read ({exc.strerror or exc})") from None
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise OverlayError(f"overlay {path}: does not parse as YAML or JSON"
                           + (f" (line {mark.line + 1})" if mark is not None else "")) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("overlay"), str) or not doc["overlay"].startswith("1.0."):
        raise OverlayError(f"overlay {path}: not an Overlay 1.0 document (its 'overlay' field is not 1.0.x)")
    info = doc.get("info")
    if not isinstance(info, dict) or not isinstance(info.get("title"), str) or not isinstance(info.get("version"), str):
        raise OverlayError(f"overlay {path}: its 'info' needs a title and a version")
    actions = doc.get("actions")
    if not isinstance(actions, list) or not actions:
        raise OverlayError(f"overlay {path}: it has no actions")
    for number, action in enumerate(actions, 1):
        if not isinstance(action, dict) or not isinstance(action.get("target"), str) \
                or not action["target"].startswith("$"):
            raise OverlayError(f"overlay {path}: action {number} has no JSONPath target")
        if "update" not in action and action.get("remove") is not True:
            raise OverlayError(f"overlay {path}: action {number} neither updates nor removes")
        try:
            jsonpath_rfc9535.compile(action["target"])
        except jsonpath_rfc9535.JSONPathError as exc:
            raise OverlayError(f"overlay {path}: action {number}'s target {action['target'][:80]!r} is not a "
                               f"JSONPath query ({str(exc).splitlines()[0][:120]})") from None
    return Overlay(str(path), hashlib.sha256(raw).hexdigest(), doc)


def _components(files: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str | None]]:
    """Where each component of the bundled description is written: (contract file, a $defs name or None)."""
    from .contracts import component_name

    out: dict[str, tuple[str, str | None]] = {}
    for stem, contents in files.items():
        if stem != "defs":
            out[component_name(stem)] = (stem, None)
        for definition in contents.get("$defs", {}):
            out[component_name(stem, definition)] = (stem, definition)
    return out


def _unbundle(value: Any, components: dict[str, tuple[str, str | None]], into: str | None) -> Any:
    """An update's value as the file it lands in writes it: a reference to a component becomes a reference to
    the contract file (``into``: the contract file it lands in; None: the OpenAPI document)."""
    if isinstance(value, list):
        return [_unbundle(v, components, into) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _unbundle(v, components, into) for k, v in value.items()}
    ref = value.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/") and ref[21:] in components:
        stem, definition = components[ref[21:]]
        fragment = f"#/$defs/{definition}" if definition else ""
        if into is None:
            out["$ref"] = f"../contracts/{stem}.json{fragment}"
        elif into == stem:
            out["$ref"] = fragment or "#"
        else:
            out["$ref"] = f"{stem}.json{fragment}"
    return out


def _merge(target: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(target.get(key), dict) and isinstance(value, dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def apply(overlay: Overlay, openapi: dict[str, Any], files: dict[str, dict[str, Any]]
          ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The description and the contract files with every action applied, in order (copies: the arguments
    are left as they were)."""
    import jsonpath_rfc9535

    from .contracts import bundle

    openapi, files = copy.deepcopy(openapi), copy.deepcopy(files)
    for number, action in enumerate(overlay.actions, 1):
        components = _components(files)
        nodes = jsonpath_rfc9535.find(action["target"], bundle(openapi, files))
        if not nodes:
            raise OverlayError(f"overlay {overlay.path}: action {number}'s target {action['target'][:80]!r} selects "
                               "nothing in the bundled description")
        # removals from the end first, so that an array's later items keep their indices
        for node in sorted(nodes, key=lambda n: [str(p) for p in n.location], reverse=True):
            location = tuple(node.location)
            if location[:2] == ("components", "schemas") and len(location) > 2 and location[2] in components:
                stem, definition = components[str(location[2])]
                base: Any = files[stem] if definition is None else files[stem]["$defs"][definition]
                rest, into = location[3:], stem
            else:
                base, rest, into = openapi, location, None
            if not rest:
                if action.get("remove") is True or not isinstance(action["update"], dict):
                    raise OverlayError(f"overlay {overlay.path}: action {number} would replace or remove a whole "
                                       "contract or the whole description")
                _merge(base, _unbundle(action["update"], components, into))
                continue
            parent = base
            for step in rest[:-1]:
                parent = parent[step]
            key = rest[-1]
            if action.get("remove") is True:
                del parent[key]
                continue
            update = _unbundle(action["update"], components, into)
            current = parent[key]
            if isinstance(current, dict) and isinstance(update, dict):
                _merge(current, update)
            elif isinstance(current, list):
                current.extend(copy.deepcopy(update) if isinstance(update, list) else [copy.deepcopy(update)])
            else:
                parent[key] = copy.deepcopy(update)
    return openapi, files


def check(overlay: Overlay, openapi: dict[str, Any], files: dict[str, dict[str, Any]]) -> None:
    """Raise ``OverlayError`` when the overlaid contracts or description are not valid: every contract against
    the JSON Schema 2020-12 meta-schema, the bundled description against the OpenAPI 3.1 one (the checks the
    bundled description passes)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    from .contracts import bundle

    for stem, contents in files.items():
        try:
            Draft202012Validator.check_schema(contents)
        except SchemaError as exc:
            where = "/".join(map(str, exc.absolute_path)) or "/"
            raise OverlayError(f"overlay {overlay.path}: it makes contract {stem} an invalid JSON Schema at {where}: "
                               f"{exc.message[:160]}") from None
    from openapi_spec_validator import validate

    try:
        validate(bundle(openapi, files))
    except Exception as exc:  # the validator's own error types vary between its releases
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OverlayError(f"overlay {overlay.path}: it makes the description invalid OpenAPI: {first[:200]}") from None
