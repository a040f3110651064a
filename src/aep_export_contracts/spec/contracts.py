"""Load the contracts (JSON Schemas) and the OpenAPI description, offline.

The schemas live in ``contracts/`` and the API description in ``openapi/`` at the top of the
repository; the wheel carries both under ``aep_export_contracts/_data``. Every ``$ref`` resolves
through an in-memory registry: nothing here opens a socket.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = [
    "BASE_URI",
    "CONTRACT_NAMES",
    "KeyTree",
    "bundled_openapi",
    "closed_schemas_by_uri",
    "data_root",
    "key_tree",
    "openapi_document",
    "pointer",
    "registry",
    "schema",
    "schemas_by_uri",
]

BASE_URI = "https://aep-export-contracts.invalid/contracts/"

#: The contract names the library and the CLI use, in catalogue order.
CONTRACT_NAMES: tuple[str, ...] = (
    "export-job-request",
    "export-job",
    "export-job-list",
    "export-job-cancel",
    "dataset-request",
    "dataset-response",
    "error",
)


@cache
def data_root() -> Path:
    """The folder that holds ``contracts/`` and ``openapi/``: packaged data, else the source tree."""
    packaged = Path(__file__).parents[1] / "_data"
    if (packaged / "contracts").is_dir():
        return packaged
    source = Path(__file__).resolve().parents[3]
    if (source / "contracts").is_dir():
        return source
    raise RuntimeError("aep_export_contracts is installed without its contracts/ data")


@cache
def _source_files() -> dict[str, dict[str, Any]]:
    root = data_root() / "contracts"
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(root.glob("*.json"))}


@cache
def _source_openapi() -> dict[str, Any]:
    text = (data_root() / "openapi" / "export-jobs.yaml").read_text(encoding="utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


#: the overlay in use: set by ``use_overlay``, or read from ``AEC_OVERLAY`` (a file's path) when the
#: contracts are first read, so that a process started by one that uses an overlay uses it too
OVERLAY_VARIABLE = "AEC_OVERLAY"
_ACTIVE: list[Any] = []
_STARTED = [False]
#: called after the overlay in use changed (the engine forgets what it compiled, the API facts are read again)
_RELOAD: list[Any] = []


def active_overlay() -> Any:
    """The overlay in use (``spec.overlay.Overlay``), or None."""
    if not _STARTED[0]:
        _STARTED[0] = True
        named = os.environ.get(OVERLAY_VARIABLE)
        if named:
            from .overlay import read

            _ACTIVE[:] = [read(named)]
    return _ACTIVE[0] if _ACTIVE else None


@cache
def _overlaid() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    overlay = active_overlay()
    if overlay is None:
        return _source_openapi(), _source_files()
    from .overlay import apply

    return apply(overlay, _source_openapi(), _source_files())


def _files() -> dict[str, dict[str, Any]]:
    return _overlaid()[1]


def on_reload(listener: Any) -> None:
    """Call ``listener`` whenever the overlay in use changes."""
    _RELOAD.append(listener)


def use_overlay(path: str | Path | None) -> Any:
    """Apply an OpenAPI Overlay (a file's path; None: none) to the description and its contracts, for everything
    that reads them from now on in this process (and, through ``AEC_OVERLAY``, the processes it starts).

    Raises ``spec.overlay.OverlayError`` for an overlay that does not parse, targets nothing or makes the
    description invalid; nothing changes then. Returns the overlay in use.
    """
    from .overlay import OverlayError, apply, check, read

    overlay = read(path) if path is not None else None
    if overlay is not None:
        check(overlay, *apply(overlay, _source_openapi(), _source_files()))
    previous = active_overlay()
    _switch(overlay)
    try:
        for listener in _RELOAD:
            listener()
    except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as exc:  # the facts read from it disagree
        _switch(previous)
        for listener in _RELOAD:
            listener()
        raise OverlayError(f"overlay {path}: the description it makes does not hold together: "
                           f"{str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}") from None
    return overlay


def _switch(overlay: Any) -> None:
    _STARTED[0] = True
    _ACTIVE[:] = [overlay] if overlay is not None else []
    if overlay is not None:
        os.environ[OVERLAY_VARIABLE] = str(Path(overlay.path).resolve())
    else:
        os.environ.pop(OVERLAY_VARIABLE, None)
    forget()


def forget() -> None:
    """Forget every contract and description read, so that the next reader reads them again."""
    for cached in (_overlaid, registry, _bundled, closed_schemas_by_uri, key_tree, required_paths):
        cached.cache_clear()


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a contract (or of ``defs``). Raises ``KeyError`` for an unknown name."""
    files = _files()
    if name not in files:
        known = ", ".join(CONTRACT_NAMES)
        raise KeyError(f"unknown contract {name!r}; known contracts: {known}")
    return files[name]


def schemas_by_uri() -> dict[str, dict[str, Any]]:
    return {s["$id"]: s for s in _files().values()}


@cache
def registry() -> Registry[Any]:
    """A ``referencing`` registry holding every contract under its ``$id`` (offline)."""
    resources = [(uri, Resource.from_contents(s, default_specification=DRAFT202012))
                 for uri, s in schemas_by_uri().items()]
    return Registry().with_resources(resources).crawl()


def openapi_document() -> dict[str, Any]:
    """The OpenAPI description as written (with the overlay in use applied): its body schemas ``$ref`` into
    ``../contracts``."""
    return _overlaid()[0]


def _component_name(uri_or_file: str) -> str:
    stem = uri_or_file.rsplit("/", 1)[-1].removesuffix(".json")
    return "".join(part.capitalize() for part in stem.replace("_", "-").split("-"))


def _rewrite_refs(node: Any, own: str) -> Any:
    """Copy a contract schema, pointing its refs at ``#/components/schemas``."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("$id", "$schema"):
                continue
            if key == "$ref" and isinstance(value, str):
                target, _, fragment = value.partition("#")
                name = _component_name(target) if target else own
                if fragment.startswith("/$defs/"):
                    out[key] = f"#/components/schemas/{name}{fragment[len('/$defs/'):][:1].upper()}" \
                        f"{fragment[len('/$defs/') + 1:]}"
                else:
                    out[key] = f"#/components/schemas/{name}"
                continue
            if key == "$defs":
                continue
            out[key] = _rewrite_refs(value, own)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, own) for v in node]
    return node


@cache
def _bundled() -> dict[str, Any]:
    return bundle(openapi_document(), _files())


def bundle(openapi: dict[str, Any], files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """An OpenAPI description with the contract files inlined under ``components/schemas``."""
    doc = copy.deepcopy(openapi)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for stem, contents in files.items():
        name = _component_name(stem)
        if stem != "defs":
            components[name] = _rewrite_refs(contents, name)
        for def_name, def_schema in contents.get("$defs", {}).items():
            components[name + def_name[:1].upper() + def_name[1:]] = _rewrite_refs(def_schema, name)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("../contracts/"):
                node["$ref"] = f"#/components/schemas/{_component_name(ref)}"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc.get("paths", {}))
    walk({k: v for k, v in doc["components"].items() if k != "schemas"})
    return doc


def bundled_openapi() -> dict[str, Any]:
    """The OpenAPI description with every contract inlined under ``components/schemas``.

    This is what tools that would otherwise try to fetch ``$id`` URLs (schemathesis,
    openapi-spec-validator) are given: a self-contained document.
    """
    return copy.deepcopy(_bundled())


#: keywords under which closing an object would loosen the schema instead of tightening it
_NOT_CLOSED_UNDER = frozenset({"not", "if", "oneOf"})


def _close(node: Any) -> Any:
    """The schema with every object closed: it accepts a subset of what the schema accepts."""
    if isinstance(node, dict):
        out = {k: v if k in _NOT_CLOSED_UNDER else _close(v) for k, v in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_close(v) for v in node]
    return node


@cache
def closed_schemas_by_uri() -> dict[str, dict[str, Any]]:
    """Every contract with each object closed to the keys it names: a fast test for unknown keys."""
    return {uri: _close(s) for uri, s in schemas_by_uri().items()}


@dataclass
class KeyTree:
    """The object keys a contract knows, by position: used to find unknown keys in responses."""

    keys: dict[str, KeyTree] = field(default_factory=dict)
    items: KeyTree | None = None
    open_values: KeyTree | None = None  # additionalProperties with a schema (a map)
    is_object: bool = False

    def walk(self, payload: Any, pointer: str = "") -> Iterator[tuple[str, str, KeyTree]]:
        """Yield (parent pointer, unknown key, this node) for every key the tree does not know.

        Only objects and arrays are visited (a scalar has no key), and a path is a link to its parent's,
        made into a pointer only for an unknown key.
        """
        stack: list[tuple[KeyTree, Any, Any]] = [(self, payload, None)]
        while stack:
            node, value, link = stack.pop()
            if isinstance(value, dict):
                if node.open_values is not None:
                    sub = node.open_values
                    stack.extend((sub, v, (link, k)) for k, v in value.items() if isinstance(v, dict | list))
                elif node.is_object:
                    known = node.keys
                    for key, sub_value in value.items():
                        child = known.get(key)
                        if child is None:
                            yield pointer + linked_pointer(link), str(key), node
                        elif isinstance(sub_value, dict | list):
                            stack.append((child, sub_value, (link, key)))
            elif isinstance(value, list) and node.items is not None:
                sub = node.items
                stack.extend((sub, v, (link, i)) for i, v in enumerate(value) if isinstance(v, dict | list))


def linked_pointer(link: Any) -> str:
    """The JSON pointer of a linked path ((parent link, key) pairs, None at the root)."""
    tokens: list[Any] = []
    while link is not None:
        link, key = link
        tokens.append(key)
    return pointer(reversed(tokens))


def pointer(path: Iterable[Any]) -> str:
    """The JSON pointer of a path of keys and indexes."""
    out = ""
    for p in path:
        token = p if p.__class__ is str else str(p)
        # (a key with neither "~" nor "/", nearly every key, is its own token: no copy is made)
        out += "/" + (token if "~" not in token and "/" not in token else escape(token))
    return out


def escape(token: str) -> str:
    """Escape one RFC 6901 reference token."""
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """The key an RFC 6901 reference token names."""
    return token.replace("~1", "/").replace("~0", "~")


def component_name(stem: str, definition: str | None = None) -> str:
    """The name under ``components/schemas`` of the bundled description of a contract file (``stem``), or
    of one of its ``$defs``."""
    name = _component_name(stem)
    return name + definition[:1].upper() + definition[1:] if definition else name


def schema_location(contract: str, path: list[str]) -> tuple[str, tuple[str | int, ...], dict[str, Any]] | None:
    """Where the schema of a payload's value lies in the bundled description: (component, the path inside it,
    the schema itself, its ``$ref`` followed). ``path`` holds object keys, and '*' for an array's items. None
    where no schema names that value (a key only an ``anyOf`` branch describes, say)."""
    stem, node = contract, schema(contract)
    component, inside = component_name(contract), cast(tuple[str | int, ...], ())

    def follow(stem: str, node: dict[str, Any], component: str,
               inside: tuple[str | int, ...]) -> tuple[str, dict[str, Any], str, tuple[str | int, ...]]:
        for _ in range(16):
            ref = node.get("$ref")
            if not isinstance(ref, str):
                break
            target, _, fragment = ref.partition("#")
            stem = target.removesuffix(".json") if target else stem
            if fragment.startswith("/$defs/"):
                definition = fragment[len("/$defs/"):]
                node, component = schema(stem)["$defs"][definition], component_name(stem, definition)
            else:
                node, component = schema(stem), component_name(stem)
            inside = ()
        return stem, node, component, inside

    for token in path:
        stem, node, component, inside = follow(stem, node, component, inside)
        properties = node.get("properties")
        if token == "*" and isinstance(node.get("items"), dict):
            node, inside = node["items"], (*inside, "items")
        elif isinstance(properties, dict) and isinstance(properties.get(token), dict):
            node, inside = properties[token], (*inside, "properties", token)
        elif isinstance(node.get("additionalProperties"), dict):
            node, inside = node["additionalProperties"], (*inside, "additionalProperties")
        else:
            return None
    stem, node, component, inside = follow(stem, node, component, inside)
    return component, inside, node


def _resolve(node: dict[str, Any], base: str) -> tuple[dict[str, Any], str]:
    resolver = registry().resolver(base_uri=base)
    while "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        node, resolver = resolved.contents, resolved.resolver
        base = str(resolver._base_uri)
    return node, base


def _build_tree(node: dict[str, Any], base: str, depth: int = 0) -> KeyTree:
    node, base = _resolve(node, base)
    tree = KeyTree()
    if depth > 20:
        return tree
    props = node.get("properties")
    if isinstance(props, dict):
        tree.is_object = True
        for key, sub in props.items():
            tree.keys[key] = _build_tree(sub, base, depth + 1)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        tree.open_values = _build_tree(extra, base, depth + 1)
    elif extra is True or ("additionalProperties" not in node and not props):
        tree.is_object = False
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in node.get(key, []):
            sub_tree = _build_tree(sub, base, depth + 1)
            tree.keys.update(sub_tree.keys)
            tree.is_object = tree.is_object or sub_tree.is_object
    items = node.get("items")
    if isinstance(items, dict):
        tree.items = _build_tree(items, base, depth + 1)
    return tree


@cache
def key_tree(name: str) -> KeyTree:
    """The keys a contract knows, derived from its schema."""
    contents = schema(name)
    return _build_tree(contents, contents["$id"])


def _required(root: dict[str, Any], base: str) -> Iterator[tuple[str, ...]]:
    """Required paths, breadth first: every required key of a level before those below it."""
    level: list[tuple[dict[str, Any], str, tuple[str, ...]]] = [(root, base, ())]
    for _ in range(10):
        below: list[tuple[dict[str, Any], str, tuple[str, ...]]] = []
        for node, uri, path in level:
            node, uri = _resolve(node, uri)
            props = node.get("properties", {})
            for key in node.get("required", []):
                yield (*path, key)
                if isinstance(props.get(key), dict):
                    below.append((props[key], uri, (*path, key)))
        if not below:
            return
        level = below


@cache
def required_paths(name: str) -> tuple[tuple[str, ...], ...]:
    """Every path the contract requires: each required key, and the required keys of required objects.

    Read from ``required`` and ``properties`` (through ``$ref``); keys required only inside an
    ``anyOf`` branch are not listed.
    """
    contents = schema(name)
    return tuple(_required(contents, contents["$id"]))
