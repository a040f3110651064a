"""Drift as a proposal: an OpenAPI Overlay 1.0 document that makes the bundled description accept what
was seen, one action per departure, each with its evidence.

Targets are RFC 9535 JSONPath queries into the bundled description (every contract inlined under
``components/schemas``, as ``bundled_openapi()`` gives it); each names one node, in bracket notation.
"""

from __future__ import annotations

from typing import Any

from ..about import NAME, __version__
from ..engine.drift import Departure
from ..engine.explain import json_type
from ..spec.api import JSON_MEDIA_TYPE, operation
from ..spec.contracts import bundled_openapi, component_name

__all__ = ["BUNDLED_URI", "overlay_for"]

#: what an overlay's ``extends`` names: the bundled description, which every target addresses
BUNDLED_URI = "https://aep-export-contracts.invalid/openapi/export-jobs.bundled.json"


def _path(*parts: str | int) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else "['" + p.replace("\\", "\\\\").replace("'", "\\'") + "']"
                         for p in parts)


def _evidence(d: Departure, total: int) -> str:
    where = f"{d.first_seen[0]} exchange {d.first_seen[1]}"
    return (f"{d.kind} at {d.pointer or '/'} of {d.operation} ({d.contract or 'the answer'}): seen in {d.count} of "
            f"{total} answered exchanges, first in {where}")


def _node(doc: Any, parts: tuple[str | int, ...]) -> Any:
    for part in parts:
        if isinstance(doc, list) and isinstance(part, int):
            doc = doc[part] if -len(doc) <= part < len(doc) else None
        else:
            doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _response_parts(doc: dict[str, Any], d: Departure) -> tuple[str | int, ...] | None:
    """Where the documented answer of a departure lies in the description (its $ref followed)."""
    op = operation(d.operation)
    parts: tuple[str | int, ...] = ("paths", op.template, op.method.lower(), "responses", str(d.status))
    answer = _node(doc, parts)
    ref = answer.get("$ref") if isinstance(answer, dict) else None
    if isinstance(ref, str) and ref.startswith("#/"):
        parts = tuple(ref[2:].split("/"))
    return parts if isinstance(_node(doc, parts), dict) else None


def _schema_of(values: list[Any]) -> dict[str, Any]:
    """A schema that accepts every value seen (genson where installed, else the JSON types seen)."""
    try:
        from genson import SchemaBuilder
    except ModuleNotFoundError:
        return {"type": sorted({json_type(v) for v in values})}
    builder = SchemaBuilder(schema_uri=None)
    for value in values:
        builder.add_object(value)
    inferred: dict[str, Any] = _optional(builder.to_schema())
    return inferred


def _optional(node: Any) -> Any:
    """A schema inferred from some answers says nothing is required: another answer may leave it out."""
    if isinstance(node, dict):
        return {k: _optional(v) for k, v in node.items() if k not in ("required", "$schema")}
    if isinstance(node, list):
        return [_optional(v) for v in node]
    return node


def _contract_fitting(bodies: list[Any], operation_id: str) -> str | None:
    """The contract every body meets, of those the operation's documented answers use (its success contract
    first, then the error contract); None for no body, or none that fits."""
    from ..engine.payload import validate

    if not bodies:
        return None
    op = operation(operation_id)
    candidates = [c for code in sorted(op.responses, key=lambda c: (not c.startswith("2"), c)) if code.isdigit()
                  for c in [op.response_contract(int(code))[1]] if c is not None]
    for contract in dict.fromkeys(candidates):
        if all(validate(body, contract).valid for body in bodies):
            return contract
    return None


def _action(d: Departure, total: int, doc: dict[str, Any]) -> dict[str, Any] | None:
    said = _evidence(d, total)
    if d.kind == "property" and d.location is not None and d.key is not None:
        component, inside = d.location
        parent = ("components", "schemas", component, *inside)
        node = _node(doc, parent)
        if not isinstance(node, dict):
            return None
        update = {d.key: {**_schema_of(d.values), "description": f"seen in traffic: {said}"}}
        if isinstance(node.get("properties"), dict):
            return {"target": _path(*parent, "properties"), "description": said, "update": update}
        return {"target": _path(*parent), "description": said, "update": {"properties": update}}
    if d.kind == "enum" and d.location is not None:
        parent = ("components", "schemas", d.location[0], *d.location[1])
        node = _node(doc, parent)
        if isinstance(node, dict) and isinstance(node.get("enum"), list):
            return {"target": _path(*parent, "enum"), "description": said,
                    "update": [v for v in d.values if v not in node["enum"]]}
        return None
    if d.kind == "type" and d.location is not None:
        parent = ("components", "schemas", d.location[0], *d.location[1])
        node = _node(doc, parent)
        if isinstance(node, dict) and "type" in node:
            documented = node["type"] if isinstance(node["type"], list) else [node["type"]]
            seen = [t for t in sorted(d.types) if t not in documented and not (t == "integer" and "number" in documented)]
            return {"target": _path(*parent), "description": said, "update": {"type": [*documented, *seen]}}
        return None
    if d.kind == "status-code":
        op = operation(d.operation)
        answer: dict[str, Any] = {"description": f"seen in traffic, not in the documentation: {said}"}
        fits = _contract_fitting(d.bodies, op.operation_id)
        if fits is not None:  # the contract every body of such answers meets: the answer is judged by it
            answer["content"] = {JSON_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{component_name(fits)}"}}}
        return {"target": _path("paths", op.template, op.method.lower(), "responses"), "description": said,
                "update": {str(d.status): answer}}
    if d.kind in ("header", "media-type"):
        parts = _response_parts(doc, d)
        if parts is None:
            return None
        answer = _node(doc, parts)
        name = d.pointer.rsplit("/", 1)[-1]
        if d.kind == "header":
            entry = {name: {"description": f"seen in traffic: {said}", "schema": {"type": "string"}}}
            key = "headers"
        else:
            media = str(d.examples[0]) if d.examples else ""
            json_schema = _node(answer, ("content", JSON_MEDIA_TYPE, "schema"))
            entry = {media: {"schema": json_schema} if json_schema is not None else {}}
            key = "content"
        if isinstance(answer.get(key), dict):
            return {"target": _path(*parts, key), "description": said, "update": entry}
        return {"target": _path(*parts), "description": said, "update": {key: entry}}
    return None


#: where the job contract's status enum lies: a status added there is placed in the description's lifecycle too
_JOB_STATUS = (component_name("export-job"), ("properties", "status"))


def _staged(d: Departure, total: int, doc: dict[str, Any]) -> dict[str, Any] | None:
    """A new job status in the last stage of ``x-job-lifecycle`` (the description's statuses and the job
    contract's enum must agree): the reviewer moves it where it belongs."""
    stages = doc.get("x-job-lifecycle", {}).get("stages")
    if d.kind != "enum" or d.location != _JOB_STATUS or not isinstance(stages, list) or not stages:
        return None
    return {"target": _path("x-job-lifecycle", "stages", len(stages) - 1),
            "description": f"{_evidence(d, total)}; placed in the last (terminal) stage of the lifecycle: move it "
                           "to the stage it belongs to", "update": list(d.values)}


def overlay_for(departures: list[Departure], total: int) -> dict[str, Any]:
    """An Overlay 1.0 document whose actions make the bundled description accept every departure seen."""
    doc = bundled_openapi()
    actions = [a for d in departures if d.kind != "unseen"
               for a in (_action(d, total, doc), _staged(d, total, doc)) if a is not None]
    return {"overlay": "1.0.0",
            "info": {"title": f"What {total} recorded answers showed that the description does not say",
                     "version": f"{NAME} {__version__}"},
            "extends": BUNDLED_URI,
            "actions": actions}
