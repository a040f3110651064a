from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from aep_export_contracts.spec.contracts import (
    BASE_URI,
    CONTRACT_NAMES,
    bundled_openapi,
    data_root,
    openapi_document,
    registry,
    schema,
)


@pytest.mark.parametrize("name", [*CONTRACT_NAMES, "defs"])
def test_each_contract_is_a_2020_12_schema_with_an_id(name: str) -> None:
    contents = schema(name)
    assert contents["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert contents["$id"] == f"{BASE_URI}{name}.json"
    Draft202012Validator.check_schema(contents)


def test_every_ref_resolves_offline() -> None:
    reg = registry()
    seen = 0

    def walk(node: object, base: str) -> None:
        nonlocal seen
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                reg.resolver(base_uri=base).lookup(ref)
                seen += 1
            for value in node.values():
                walk(value, base)
        elif isinstance(node, list):
            for value in node:
                walk(value, base)

    for name in [*CONTRACT_NAMES, "defs"]:
        walk(schema(name), schema(name)["$id"])
    assert seen > 20


def test_unknown_contract_name_is_a_misuse() -> None:
    with pytest.raises(KeyError, match="known contracts"):
        schema("export-jobs")


def test_openapi_refs_point_into_contracts() -> None:
    text = json.dumps(openapi_document())
    for name in CONTRACT_NAMES:
        assert f"../contracts/{name}.json" in text
    assert (data_root() / "contracts" / "export-job.json").is_file()


def test_bundled_openapi_passes_the_spec_validator() -> None:
    from openapi_spec_validator import validate

    doc = bundled_openapi()
    assert doc["openapi"].startswith("3.1")
    validate(doc)
    assert '"$ref": "../contracts' not in json.dumps(doc)


def test_schemathesis_enumerates_the_five_operations() -> None:
    import schemathesis

    loaded = schemathesis.openapi.from_dict(bundled_openapi())
    ops = sorted((op.ok().method.upper(), op.ok().path) for op in loaded.get_all_operations())
    assert ops == [
        ("DELETE", "/data/core/ups/export/jobs/{EXPORT_JOB_ID}"),
        ("GET", "/data/core/ups/export/jobs"),
        ("GET", "/data/core/ups/export/jobs/{EXPORT_JOB_ID}"),
        ("POST", "/data/core/ups/export/jobs"),
        ("POST", "/data/foundation/catalog/dataSets"),
    ]


def test_documented_success_codes() -> None:
    paths = openapi_document()["paths"]
    jobs = paths["/data/core/ups/export/jobs"]
    assert "200" in jobs["post"]["responses"] and "201" not in jobs["post"]["responses"]
    assert jobs["post"]["responses"]["200"]["headers"]["X-Location"]["required"] is True
    assert set(jobs["post"]["responses"]["200"]["links"]) == {"GetJob", "CancelJob"}
    dataset = paths["/data/foundation/catalog/dataSets"]["post"]["responses"]["201"]
    assert dataset["headers"]["Location"]["required"] is True
    cancel = paths["/data/core/ups/export/jobs/{EXPORT_JOB_ID}"]["delete"]["responses"]
    assert {"200", "204"} <= set(cancel) and "content" not in cancel["204"]


def test_openapi_examples_are_valid_against_the_contracts() -> None:
    from aep_export_contracts import validate

    checked = 0

    def walk(node: object, contract: str | None) -> None:
        nonlocal checked
        if isinstance(node, dict):
            ref = node.get("schema", {}).get("$ref", "") if isinstance(node.get("schema"), dict) else ""
            if ref.startswith("../contracts/"):
                contract = ref[len("../contracts/"):-len(".json")]
            for example in (node.get("examples") or {}).values() if "schema" in node else ():
                report = validate(example["value"], contract)
                assert report.findings == [], (contract, report.findings)
                checked += 1
            for value in node.values():
                walk(value, contract)
        elif isinstance(node, list):
            for value in node:
                walk(value, contract)

    walk(openapi_document(), None)
    assert checked >= 5
