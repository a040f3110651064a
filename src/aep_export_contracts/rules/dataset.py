"""Semantic rules of dataset creation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from . import Hit, rule
from .util import as_list, dig, ptr

PROFILE_UNION_IDS = ("https://ns.adobe.com/xdm/context/profile__union", "_xdm.context.profile__union")
XED_CONTENT_TYPE = "application/vnd.adobe.xed+json;version=1"
DATASET_REF = re.compile(r"@/data[Ss]ets/[^/\s]+")


@rule("AEC401", "dataset-ref", "error", ("dataset-response",))
def dataset_ref(payload: Any) -> Iterator[Hit]:
    """Each item of a dataset-creation answer is a reference '@/dataSets/{id}'.

    The official file writes '@/dataSets/…' and the tutorial '@/datasets/…': both are accepted;
    anything else cannot be turned into a dataset id.
    """
    for i, item in enumerate(as_list(payload)):
        if isinstance(item, str) and not DATASET_REF.fullmatch(item):
            yield Hit(ptr(i), f"{item[:80]!r} is not a dataset reference '@/dataSets/{{id}}'", "")


@rule("AEC402", "profile-union-schema", "warning", ("dataset-request",))
def profile_union_schema(payload: Any) -> Iterator[Hit]:
    """A profile export's target dataset is a parquet dataset on the profile union schema.

    Exports land only in datasets on https://ns.adobe.com/xdm/context/profile__union with content type
    'application/vnd.adobe.xed+json;version=1' and file format 'parquet'; another dataset is valid
    for the Catalog API but an export job into it fails.
    """
    schema_id = dig(payload, "schemaRef", "id")
    if isinstance(schema_id, str) and schema_id not in PROFILE_UNION_IDS:
        yield Hit(ptr("schemaRef", "id"), f"schema {schema_id[:120]!r} is not the profile union schema",
                  f"use {PROFILE_UNION_IDS[0]} for a profile export target")
    content_type = dig(payload, "schemaRef", "contentType")
    if isinstance(content_type, str) and content_type.replace(" ", "") != XED_CONTENT_TYPE:
        yield Hit(ptr("schemaRef", "contentType"), f"content type {content_type[:80]!r} is not {XED_CONTENT_TYPE}",
                  f"use {XED_CONTENT_TYPE}")
    file_format = dig(payload, "fileDescription", "format")
    if isinstance(file_format, str) and file_format != "parquet":
        yield Hit(ptr("fileDescription", "format"), f"format {file_format!r} is not parquet",
                  "exports write parquet")
