"""Bad input never raises: arbitrary JSON, bytes, hostile shapes, huge values, broken recordings."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import payloads as P
from aep_export_contracts import CONTRACT_NAMES, Exchange, validate, validate_bytes, validate_exchange
from aep_export_contracts.cassettes import CassetteError, load_exchanges, replay, to_har
from aep_export_contracts.generation.builders import BUILDERS, RandomSource

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)

# values placed at the keys the contracts know, so that the rules see plausible shapes of the wrong kind
KNOWN_KEYS = ["id", "status", "destination", "schema", "metrics", "records", "page", "link", "filter", "batches",
              "batchId", "datasetId", "segments", "segmentPerBatch", "creationTime", "updateTime", "totalTime",
              "startTimeInMs", "endTimeInMs", "totalTimeInMs", "fields", "schemaRef", "errors", "name"]
shaped = st.recursive(
    json_values,
    lambda children: (st.dictionaries(st.sampled_from(KNOWN_KEYS), children, max_size=6)
                      | st.lists(children, max_size=3)),
    max_leaves=30,
)


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
@given(payload=json_values | shaped)
def test_any_value_gives_a_report(contract: str, payload: Any) -> None:
    report = validate(payload, contract)
    for f in report.findings:
        assert f.rule.startswith("AEC") and isinstance(f.pointer, str)
        assert f.pointer == "" or f.pointer.startswith("/")


@given(payload=json_values | shaped)
def test_detection_never_raises(payload: Any) -> None:
    validate(payload)


@given(method=st.sampled_from(["GET", "POST", "DELETE", "PUT", "get"]),
       path=st.sampled_from(["/data/core/ups/export/jobs", "/data/core/ups/export/jobs/12", "/x",
                             "/data/foundation/catalog/dataSets", "/data/core/ups/export/jobs/abc/"]),
       query=st.sampled_from(["", "?limit=x", "?offset=1_2&limit=3", "?status=NEW&limit=-1"]),
       status=st.none() | st.sampled_from([200, 201, 204, 400, 404, 429, 500, 999]),
       headers=st.dictionaries(st.text(max_size=15), st.text(max_size=15), max_size=5),
       request_body=json_values | shaped | st.binary(max_size=30),
       response_body=json_values | shaped | st.binary(max_size=30))
def test_any_exchange_gives_a_report(method: str, path: str, query: str, status: int | None,
                                     headers: dict[str, str], request_body: Any, response_body: Any) -> None:
    ex = Exchange.make(method, "https://platform.adobe.io" + path + query, request_headers=headers,
                       request_body=request_body, status=status, response_body=response_body)
    validate_exchange(ex)


def test_non_objects() -> None:
    for value in (None, 3, "x", [], [1, 2], True, 1.5):
        report = validate(value, "export-job")
        assert report.rules() == {"AEC002"}


def test_nan_and_infinity_are_findings() -> None:
    job = P.job(creationTime=float("inf"))
    assert "AEC005" in validate(job, "export-job").rules()
    assert validate_bytes(b'{"id": NaN}', "export-job").rules() == {"AEC005"}


def test_ten_thousand_deep_nesting() -> None:
    deep: Any = {}
    node = deep
    for _ in range(10_000):
        node["a"] = {}
        node = node["a"]
    for contract in CONTRACT_NAMES:
        assert "AEC006" in validate({"destination": deep, "schema": deep}, contract).rules()
    text = "[" * 10_000 + "]" * 10_000
    report = validate_bytes(text.encode(), "export-job")
    assert report.rules() <= {"AEC005", "AEC006"} and report.findings


def test_fifty_megabyte_strings() -> None:
    huge = "x" * (50 * 1024 * 1024)
    request = P.request()
    request["destination"]["datasetId"] = huge
    report = validate(request, "export-job-request")
    assert [f.pointer for f in report.findings] == ["/destination/datasetId"]
    assert report.findings[0].rule == "AEC007"
    assert len(report.findings[0].message) < 200
    report = validate(huge, "export-job")
    assert report.rules() == {"AEC002", "AEC007"} and all(len(f.message) < 200 for f in report.findings)
    body = json.dumps({"fields": huge + ",", "destination": {"datasetId": "d"}, "schema": {"name": "n"}})
    report = validate_bytes(body.encode(), "export-job-request")
    assert {"AEC103", "AEC007"} <= report.rules() and all(len(f.message) < 300 for f in report.findings)


def test_python_values_that_are_not_json() -> None:
    assert "AEC005" in validate({1: "x"}, "export-job").rules()
    assert "AEC005" in validate({"id": {1, 2}}, "export-job").rules()
    assert "AEC005" in validate({"id": b"7"}, "export-job").rules()


def test_invalid_json_bytes() -> None:
    report = validate_bytes(b'{"id": 1,', "export-job")
    assert report.rules() == {"AEC005"} and not report.valid


HOSTILE_URLS = [
    "https://platform.adobe.io/data/core/ups/export/jobs?limit=%C2%B2",
    "https://platform.adobe.io/data/core/ups/export/jobs/%C2%B2",
    "https://platform.adobe.io/data/core/ups/export/jobs/²",
    "https://platform.adobe.io/data/core/ups/export/jobs/" + "9" * 5000,
    "https://platform.adobe.io/data/core/ups/export/jobs?limit=" + "9" * 5000,
    "https://platform.adobe.io/data/core/ups/export/jobs?offset=" + "9" * 5000 + "_1",
    "http://[::1/data/core/ups/export/jobs",
    "http://[::1]:99999/data/core/ups/export/jobs",
    "://", "", "?", "#", "http://host/%zz",
]


@pytest.mark.parametrize("url", HOSTILE_URLS, ids=range(len(HOSTILE_URLS)))
@pytest.mark.parametrize("method", ["GET", "DELETE", "POST"])
def test_hostile_urls_give_a_report(url: str, method: str) -> None:
    listing = {"records": [], "page": {"pageSize": 1}}
    job = {"id": 10**40, "status": "NEW", "creationTime": 10**5000}
    for body in (listing, job, b"\xff\xfe", b"[" * 3000):
        report = validate_exchange(Exchange.make(method, url, status=200, response_body=body))
        assert report.findings is not None


@settings(max_examples=200, deadline=None)
@given(url=st.text(max_size=80), method=st.text(max_size=8), status=st.none() | st.integers(-10, 10**6),
       body=st.binary(max_size=40))
def test_any_url_method_and_status_give_a_report(url: str, method: str, status: int | None, body: bytes) -> None:
    for prefix in ("", "https://platform.adobe.io/data/core/ups/export/jobs/", "http://["):
        validate_exchange(Exchange.make(method or "GET", prefix + url, status=status, response_body=body,
                                        request_body=body))


# ---- bytes and recordings: random and mutated, for every contract and both cassette formats ----------

def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Apply (position, how many bytes to drop, bytes to insert) edits, positions taken modulo the length."""
    out = bytearray(data)
    for at, drop, insert in edits:
        at %= len(out) + 1
        out[at:at + drop] = insert
    return bytes(out)


_edits = st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 8), st.binary(max_size=6)), min_size=1, max_size=6)
_VALID = {name: json.dumps(BUILDERS[name](RandomSource(7))).encode() for name in CONTRACT_NAMES}


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
@settings(max_examples=60, deadline=None)
@given(raw=st.binary(max_size=200), edits=_edits)
def test_any_bytes_give_a_report(contract: str, raw: bytes, edits: list[tuple[int, int, bytes]]) -> None:
    for data in (raw, _mutate(_VALID[contract], edits)):
        report = validate_bytes(data, contract)
        assert all(f.rule.startswith("AEC") for f in report.findings)
        assert report.valid == (not any(f.severity.value == "error" for f in report.findings))


def test_the_unmutated_payloads_are_valid() -> None:
    """The byte fuzzing starts from valid payloads, so that its mutants reach deep into each contract."""
    assert all(validate_bytes(data, contract).valid for contract, data in _VALID.items())


ROOT = Path(__file__).parents[1]
_DOCS = yaml.safe_load((ROOT / "cassettes" / "docs" / "tutorial.yaml").read_text(encoding="utf-8"))
_REFERENCE = json.loads((ROOT / "cassettes" / "reference" / "lifecycle.json").read_text(encoding="utf-8"))
# small cassettes of each format, so that a mutant is cheap to read; the reference one keeps its metadata
_SEEDS = {
    "yaml": {**_DOCS, "interactions": _DOCS["interactions"][:3]},
    "json": {**_REFERENCE, "interactions": _REFERENCE["interactions"][:3],
             "aec": {**_REFERENCE.get("aec", {}), "expected": [{"interaction": 0, "rule": "AEC504", "pointer": ""}]}},
    "har": to_har(_REFERENCE["interactions"][:3]),
}


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _nodes(v, (*path, i))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replace(value[path[0]], path[1:], new)
    return copy


def _dump(data: Any, form: str) -> bytes:
    if form in ("json", "har"):
        return json.dumps(data).encode()
    return yaml.safe_dump(data, allow_unicode=True).encode()


def _replays(form: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"mutant.{form}"
        path.write_bytes(data)
        report = replay([path], playback=True)
        for error in report.errors:
            assert error.count("mutant.") == 1 and "\n" not in error, error
        try:
            exchanges = list(load_exchanges([path]))
        except CassetteError:
            return
        assert all(isinstance(exchange, Exchange) for _, exchange in exchanges)


@pytest.mark.parametrize("form", sorted(_SEEDS))
@settings(max_examples=80, deadline=None)
@given(data=st.data(), new=json_values | shaped)
def test_a_cassette_with_any_node_replaced_replays_to_a_report(form: str, data: st.DataObject, new: Any) -> None:
    seed = _SEEDS[form]
    at = data.draw(st.sampled_from(_nodes(seed)))
    _replays(form, _dump(_replace(seed, at, new), form))


@pytest.mark.parametrize(("where", "url"), [("uri", "http://127.0.0.1:data/data/core/ea/dataSets"),
                                            ("base_url", "http://127.0.0.1:data"), ("base_url", "ftp://h")])
def test_a_recorded_url_no_client_can_send_to_is_an_error_of_the_run(where: str, url: str) -> None:
    """A port that is no number (found by the byte fuzzing below) made playback raise inside vcrpy."""
    data = copy.deepcopy(_SEEDS["json"])
    if where == "uri":
        data["interactions"][0]["request"]["uri"] = url
    else:
        data["aec"]["base_url"] = url
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bad-url.json"
        path.write_bytes(_dump(data, "json"))
        report = replay([path], playback=True)
    assert len(report.errors) == 1 and "cannot be played back" in report.errors[0], report.errors


@pytest.mark.parametrize("form", sorted(_SEEDS))
@settings(max_examples=60, deadline=None)
@given(edits=_edits)
def test_a_cassette_with_any_bytes_changed_replays_to_a_report(form: str, edits: list[tuple[int, int, bytes]]) -> None:
    _replays(form, _mutate(_dump(_SEEDS[form], form), edits))


@settings(max_examples=150, deadline=None)
@given(request=st.dictionaries(st.sampled_from(["filter", "fields", "additionalFields", "destination", "x"]),
                               shaped, max_size=4),
       segment=st.none() | st.dictionaries(st.sampled_from(["segmentId", "status", "segmentNs"]), shaped, max_size=3))
def test_the_reference_server_exports_rows_for_any_stored_request(request: dict[str, Any], segment: Any) -> None:
    """With the accept-invalid fault any JSON object is stored as a job: finishing it never raises."""
    from aep_export_contracts.server.profiles import export_rows

    rows = export_rows("O@AdobeOrg", "dev", request, segment)
    assert isinstance(rows, list) and all(isinstance(r, dict) for r in rows)


# ---- hostile recordings through every reader of traffic: replay, the traffic rules, coverage, scan ----------

def _cli(*argv: str) -> tuple[int, str, str]:
    """Run the CLI in this process; a traceback would escape as an exception and fail the test."""
    import contextlib
    import io

    from aep_export_contracts.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _with_urls(urls: list[str]) -> dict[str, Any]:
    """The reference recording's first interactions, each sent to a hostile URL; a listing whose link.next is one too."""
    interactions = []
    for i, url in enumerate(urls):
        item = json.loads(json.dumps(_REFERENCE["interactions"][i % 3]))
        item["request"]["uri"] = url
        interactions.append(item)
    listing = {"records": [], "page": {"pageSize": 2, "count": 0}, "link": {"next": urls[0]}}
    page = json.loads(json.dumps(_REFERENCE["interactions"][0]))
    page["request"].update({"method": "GET", "uri": "http://127.0.0.1:1/data/core/ups/export/jobs?limit=2"})
    page["response"]["body"] = {"string": json.dumps(listing)}
    page["response"]["status"] = {"code": 200, "message": "OK"}
    return {"version": 1, "interactions": [*interactions, page, page]}


@pytest.mark.parametrize("form", ["json", "har"])
@pytest.mark.parametrize("url", ["http://[::1/data/core/ups/export/jobs", "http://h//[::1/data/core/ups/export/jobs",
                                 "http://[::1/data/core/ups/export/jobs/12?offset=[", "http://[/x?limit=2&offset=2"])
def test_a_recording_with_a_malformed_url_is_read_by_every_command(form: str, url: str, tmp_path: Path) -> None:
    data = _with_urls([url, url.replace("/jobs", "/jobs/1"), url])
    path = tmp_path / f"bad.{form}"
    path.write_text(json.dumps(to_har(data["interactions"]) if form == "har" else data))
    for argv in (["replay", "--no-playback", str(path)], ["coverage", str(path)], ["coverage", "--format", "json", str(path)],
                 ["scan", str(path)]):
        code, out, err = _cli(*argv)
        assert code in (0, 1) and "Traceback" not in out + err, (argv, code, err)


def _nested_list(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [1000, 5000])
@pytest.mark.parametrize("where", ["header", "post-data", "response-text", "anywhere"])
def test_a_har_nested_deeper_than_python_recurses_is_read_by_every_command(where: str, depth: int, tmp_path: Path) -> None:
    har = to_har(_REFERENCE["interactions"][:2])
    entry = har["log"]["entries"][0]
    deep: Any = "x"
    for _ in range(depth):
        deep = [deep]
    if where == "header":
        entry["request"]["headers"][0]["value"] = deep
    elif where == "post-data":
        entry["request"]["postData"] = {"mimeType": "application/json", "text": _nested_list(depth)}
    elif where == "response-text":
        entry["response"]["content"]["text"] = _nested_list(depth)
    else:
        entry["comment"] = deep
    path = tmp_path / "deep.har"
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + 20_000)  # json.dumps needs it to write the file; every reader runs at the usual limit
    try:
        text = json.dumps(har)
    finally:
        sys.setrecursionlimit(limit)
    path.write_text(text)
    for argv in (["replay", "--no-playback", str(path)], ["coverage", str(path)], ["scan", str(path)]):
        code, out, err = _cli(*argv)
        assert code in (0, 1, 2) and "Traceback" not in out + err, (argv, code, err)
        if code == 2:  # the file could not be read: said once, in one line
            assert [line for line in (out + err).splitlines() if "deep.har" in line], (argv, out, err)


def test_a_yaml_cassette_nested_a_hundred_thousand_deep_is_scanned(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("interactions: " + _nested_list(100_000) + "\n")
    code, out, err = _cli("scan", str(path))
    assert code in (0, 2) and "Traceback" not in out + err, (code, err)
    code, out, err = _cli("replay", "--no-playback", str(path))
    assert code == 2 and "error: " in out + err and "deep.yaml" in out + err, (code, out, err)


def test_a_recorded_answer_whose_body_is_null_is_not_played_back() -> None:
    """vcrpy hands a null body to httpx, which fails reading it: such a cassette is named, not played."""
    seed = _replace(_SEEDS["json"], ("interactions", 0, "response", "body", "string"), None)
    _replays("json", _dump(seed, "json"))


# ---- the session (the rules across exchanges, coverage) and scan, fuzzed -------------------------------------

_PATHS = st.sampled_from(["/data/core/ups/export/jobs", "/data/core/ups/export/jobs/1", "/data/core/ups/export/jobs/2",
                          "/data/core/ups/export/jobs/" + "9" * 30, "/data/foundation/catalog/dataSets", "/x"])
_QUERIES = st.sampled_from(["", "?limit=2", "?status=NEW", "?offset=1_1&limit=1", "?offset=[", "?status=", "?limit=a"])
_HOSTS = st.sampled_from(["https://platform.adobe.io", "http://[::1", "http://h/", "", "http://[::1]:1"])
_BODIES = st.none() | shaped | st.binary(max_size=30) | st.builds(
    lambda ids, nxt: {"records": [{"id": i, "status": "NEW", "creationTime": i} for i in ids],
                      "link": {"next": nxt}, "page": {"count": len(ids)}},
    st.lists(st.integers(-2, 5) | st.text(max_size=3), max_size=4), st.none() | st.text(max_size=30))
_SCOPES = st.sampled_from([{}, {"x-gw-ims-org-id": "A@AdobeOrg", "x-sandbox-name": "dev"},
                           {"x-gw-ims-org-id": "B@AdobeOrg", "x-sandbox-name": ""}])


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["GET", "POST", "DELETE", "PUT"]), _HOSTS, _PATHS, _QUERIES, _SCOPES,
                          st.none() | st.sampled_from([200, 201, 204, 400, 404, 500]), _BODIES, _BODIES),
                min_size=1, max_size=12))
def test_any_sequence_of_exchanges_gives_the_session_a_report(traffic: list[tuple[Any, ...]]) -> None:
    """The rules across exchanges and coverage read any traffic, in any order, without raising."""
    from aep_export_contracts.findings import Policy, RunReport
    from aep_export_contracts.session import Session

    session = Session(RunReport("fuzz", 0, Policy.make(strict=True)))
    for method, host, path, query, headers, status, request, response in traffic:
        session.see(Exchange.make(method, host + path + query, request_headers=headers, request_body=request,
                                  status=status, response_body=response))
    assert session.report.exchanges == len(traffic)
    session.report.to_dict()  # coverage and groups render


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=200), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]),
       suffix=st.sampled_from([".har", ".yaml", ".json", ".txt"]), depth=st.integers(0, 3000))
def test_scan_reads_any_file_without_raising(text: str, encoding: str, suffix: str, depth: int) -> None:
    from aep_export_contracts.cassettes import scan

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"any{suffix}"
        body = "[" * depth + json.dumps(text) + "]" * depth
        path.write_bytes(body.encode(encoding, "replace"))
        assert all(hit.path == str(path) for hit in scan([path]))


def test_a_recorded_workflow_whose_metadata_lost_its_base_url_is_named_not_a_crash(tmp_path: Path) -> None:
    """Found by the byte-edit fuzz test: playback read meta['base_url'] unchecked (a KeyError)."""
    data = json.loads((Path(__file__).parents[1] / "cassettes" / "reference" / "lifecycle.json").read_text())
    del data["aec"]["base_url"]
    path = tmp_path / "lifecycle.json"
    path.write_text(json.dumps(data))
    report = replay([path], playback=True)
    assert report.errors == [f"{path}: cannot be played back: its metadata names no base_url "
                             "(replay with --no-playback)"]
