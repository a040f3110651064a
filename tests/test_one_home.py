"""Every API fact has one home: contracts/ and openapi/, read through aep_export_contracts.spec.api.

A module that writes a job status, an API path, a request or response header name, the JSON media
type or the field-list pattern as a literal restates a fact, and the copies drift. Docstrings and
prose that mentions a fact inside a sentence are fine; a literal that *is* the fact is not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from aep_export_contracts.spec import api
from aep_export_contracts.spec.formats import FIELD_PATH

SRC = Path(api.__file__).resolve().parents[1]
#: the one module that turns the description into these facts (its source: a compiled build imports an extension)
READER = SRC / "spec" / "api.py"


def _facts() -> dict[str, str]:
    """Each fact's literal form, with what it is."""
    facts: dict[str, str] = {s: "a job status" for s in api.JOB_STATUSES.all}
    for name in (*api.HEADERS.credentials, api.HEADERS.content_type, *api.RESPONSE_HEADERS.all):
        facts[name] = "a header name"
        if "-" in name:  # folded to lower case, as HTTP libraries hold them (a plain word is left alone)
            facts[name.lower()] = "a header name"
    facts[api.JSON_MEDIA_TYPE] = "the JSON media type"
    facts[api.PRODUCTION_URL] = "the production URL"
    facts[api.PAGING.sort_field] = "the list's sort field"
    return facts


def _path_prefixes() -> tuple[str, ...]:
    p = api.PATHS
    return (p.datasets, p.jobs, p.batch_files.split("{")[0], p.file.split("{")[0], api.PAGING.next_link)


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def restatements(path: Path) -> list[str]:
    """Where a module writes a fact as a literal: 'line: what'."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    facts, prefixes = _facts(), _path_prefixes()
    quoted = {f'"{s}"'.encode(): s for s in api.JOB_STATUSES.all}
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in skip:
            continue
        value = node.value
        if isinstance(value, bytes):
            out.extend(f"{node.lineno}: {quoted[q]!r} (a job status, as bytes)" for q in quoted if q in value)
        if not isinstance(value, str):
            continue
        what = facts.get(value)
        if what:
            out.append(f"{node.lineno}: {value!r} ({what})")
        elif value.startswith(prefixes):
            out.append(f"{node.lineno}: {value[:60]!r} (an API path)")
        elif FIELD_PATH in value:
            out.append(f"{node.lineno}: the field-list pattern")
    return out


MODULES = sorted(p for p in SRC.rglob("*.py") if p != READER)


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(SRC)) for p in MODULES])
def test_no_module_restates_an_api_fact(path: Path) -> None:
    assert restatements(path) == []


def test_the_scan_finds_a_restated_fact(tmp_path: Path) -> None:
    """The scan itself works: each kind of fact is found when written as a literal."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Docstrings may say SUCCEEDED and /data/core/ups/export/jobs."""\n'
        'STATUS = "SUCCEEDED"\n'
        'GATE = b\'{"status": "FAILED"}\'\n'
        'PATH = "/data/core/ups/export/jobs"\n'
        'LINK = f"/export/jobs/?limit={1}"\n'
        'HEADER = "x-sandbox-name"\n'
        'MEDIA = "application/json"\n'
        'WHERE = "X-Location"\n'
        'PROSE = "a job goes NEW then PROCESSING"\n', encoding="utf-8")
    found = restatements(sample)
    assert sorted(int(line.split(":")[0]) for line in found) == [2, 3, 4, 5, 6, 7, 8], found


def test_the_facts_agree_with_each_other() -> None:
    """The lifecycle, the job contract and the list filter name the same statuses."""
    s = api.JOB_STATUSES
    assert set(s.documented) <= set(s.all)
    assert {s.created, s.running, s.succeeded, s.failed} == set(s.documented)
    assert s.succeeded in s.terminal and s.failed in s.terminal and s.created not in s.terminal
    assert [s.rank(x) for x in (s.created, s.running, s.succeeded)] == sorted({0, 1, len(s.stages) - 1})
    assert api.PAGING.cursor.fullmatch("1538573416687_722") and not api.PAGING.cursor.fullmatch("2")
    assert api.operation("createExportJob").success_status == 200
    assert api.operation("cancelExportJob").success_statuses == (200, 204)
