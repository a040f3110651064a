"""Every rule has a case that triggers it at a known pointer; the unmutated payload does not.

Removing a rule (or breaking it) fails its case here, and a rule added without a case fails
``test_every_rule_has_a_case``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import payloads as P
from aep_export_contracts import Exchange, Policy, validate, validate_exchange
from aep_export_contracts.rules import all_rules

HEADERS = {"Authorization": "Bearer t", "x-api-key": "k", "x-gw-ims-org-id": "ORG@AdobeOrg",
           "x-sandbox-name": "dev", "Content-Type": "application/json"}
JOBS_URL = "https://platform.adobe.io/data/core/ups/export/jobs"


def mutate(base: Callable[[], Any], change: Callable[[Any], None]) -> Callable[[], Any]:
    def build() -> Any:
        value = base()
        change(value)
        return value
    return build


def _set(path: str, value: Any) -> Callable[[Any], None]:
    def change(payload: Any) -> None:
        node = payload
        parts = path.strip("/").split("/")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return change


def _del(path: str) -> Callable[[Any], None]:
    def change(payload: Any) -> None:
        node = payload
        parts = path.strip("/").split("/")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[parts[-1]]
    return change


def _chain(*changes: Callable[[Any], None]) -> Callable[[Any], None]:
    def change(payload: Any) -> None:
        for c in changes:
            c(payload)
    return change


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def _reverse_records(listing: Any) -> None:
    listing["records"].reverse()


def _created_job(request: dict[str, Any]) -> dict[str, Any]:
    job = P.new_job()
    job["destination"] = {"datasetId": request["destination"]["datasetId"], "segmentPerBatch": True,
                          "batches": [{"segmentId": s["segmentId"], "batchId": "da5cfb4de32c4b93a09f7e37fa53ad52"}
                                      for s in request["filter"]["segments"]]}
    job["filter"] = {"segments": request["filter"]["segments"]}
    return job


def create_exchange(change_request: Callable[[Any], None] | None = None,
                    change_job: Callable[[Any], None] | None = None,
                    headers: dict[str, str] | None = None, status: int = 200,
                    response_headers: dict[str, str] | None = None, method: str = "POST",
                    url: str = JOBS_URL) -> Callable[[], Exchange]:
    def build() -> Exchange:
        request = P.request()
        job = _created_job(request)
        if change_request:
            change_request(request)
        if change_job:
            change_job(job)
        return Exchange.make(method, url, request_headers=headers if headers is not None else HEADERS,
                             request_body=request, status=status,
                             response_headers=response_headers if response_headers is not None
                             else {"X-Location": f"{JOBS_URL}/24115"},
                             response_body=job)
    return build


def _dataset_exchange(request_data_source: str) -> Exchange:
    return Exchange.make("POST", f"https://platform.adobe.io/data/foundation/catalog/dataSets?requestDataSource="
                         f"{request_data_source}", request_headers=HEADERS, request_body=P.dataset_request(), status=201,
                         response_headers={"location": "/dataSets/5b020a27e7040801dedba61b"},
                         response_body=["@/dataSets/5b020a27e7040801dedba61b"])


def get_exchange(job_id: int = 726, query: str = "", body: Any = None, op: str = "get",
                 status: int = 200) -> Callable[[], Exchange]:
    headers = {k: v for k, v in HEADERS.items() if k != "Content-Type"}

    def build() -> Exchange:
        if op == "list":
            return Exchange.make("GET", JOBS_URL + query, request_headers=headers, status=status,
                                 response_body=body if body is not None else P.listing())
        return Exchange.make("GET", f"{JOBS_URL}/{job_id}", request_headers=headers, status=status,
                             response_body=body if body is not None else P.job())
    return build


# rule id -> (contract or "exchange", clean builder, violating builder, expected pointer)
CASES: dict[str, tuple[str, Callable[[], Any], Callable[[], Any], str]] = {
    "AEC001": ("export-job-request", P.request, mutate(P.request, _del("/schema/name")), "/schema/name"),
    "AEC002": ("export-job", P.job, mutate(P.job, _set("/id", "726")), "/id"),
    "AEC003": ("export-job", P.job, mutate(P.job, _set("/status", "DONE")), "/status"),
    "AEC004": ("export-job-request", P.request, mutate(P.request, _set("/destination/datasetId", "")),
               "/destination/datasetId"),
    "AEC005": ("export-job", P.job, mutate(P.job, _set("/updateTime", float("nan"))), "/updateTime"),
    "AEC006": ("export-job", P.job, mutate(P.job, _set("/extra", _nested(1100))),
               "/extra" + "/0" * 1023),
    "AEC007": ("export-job", P.job, mutate(P.job, _set("/schema/name", "x" * (2 << 20))), "/schema/name"),
    "AEC008": ("error", lambda: {"error_code": "403010", "message": "Oauth token is missing."},
               lambda: {"error": "nope"}, ""),
    "AEC009": ("detect", P.job, lambda: {"what": "ever"}, ""),
    "AEC101": ("export-job-request", P.request,
               mutate(P.request, _set("/filter/fromIngestTimestamp", "2018-10-25T13:22:04")),
               "/filter/fromIngestTimestamp"),
    "AEC102": ("export-job-request", P.request,
               mutate(P.request, _set("/filter/segmentQualificationTime/endTime", "2019-09-01T01:00:00+02:00")),
               "/filter/segmentQualificationTime/endTime"),
    "AEC103": ("export-job-request", P.request, mutate(P.request, _set("/fields", "identities.id,")), "/fields"),
    "AEC104": ("export-job-request", P.request,
               mutate(P.request, _set("/filter/segments/0/status", ["realized", "exited", "realized"])),
               "/filter/segments/0/status/2"),
    "AEC105": ("export-job-request", P.request,
               mutate(P.request, _set("/filter/fromTimestamp", "2018-10-25T13:22:04Z")), "/filter/fromTimestamp"),
    "AEC106": ("export-job-request", P.request,
               mutate(P.request, _set("/filter/segments/1/segmentId", "1rfe8422-334d-12f4-3sd4-12cf6g990g51")),
               "/filter/segments/1/segmentId"),
    "AEC201": ("export-job", P.job, mutate(P.job, _set("/creationTime", 1538615973)), "/creationTime"),
    "AEC202": ("export-job", P.job, mutate(P.job, _set("/metrics/totalTime/totalTimeInMs", 259000)),
               "/metrics/totalTime/totalTimeInMs"),
    "AEC203": ("export-job", P.job,
               mutate(P.job, _chain(_set("/metrics/profileExportTime/endTimeInMs", 1538616067000),
                                    _set("/metrics/profileExportTime/totalTimeInMs", -445))),
               "/metrics/profileExportTime/endTimeInMs"),
    "AEC204": ("export-job", P.job, mutate(P.job, _set("/updateTime", 1538615973000)), "/updateTime"),
    "AEC205": ("export-job", P.job, mutate(P.job, _set("/destination/batchId", "")), "/destination/batchId"),
    "AEC206": ("export-job", P.job, mutate(P.job, _set("/status", "FAILED")), "/errors"),
    "AEC207": ("export-job", P.new_job, mutate(P.new_job, _set("/metrics/totalTime/endTimeInMs", 1559674262000)),
               "/metrics/totalTime/endTimeInMs"),
    "AEC208": ("export-job", P.job, mutate(P.job, _set("/destination/segmentPerBatch", True)),
               "/destination/batches"),
    "AEC209": ("export-job", P.job,
               mutate(P.job, _chain(_set("/destination/dataSetId", "5b7c86968f7b6501e21ba9df"),
                                    _del("/destination/datasetId"))), "/destination/dataSetId"),
    "AEC210": ("export-job", P.new_job, mutate(P.new_job, _set("/status", "CANCELLING")), "/status"),
    "AEC211": ("export-job", P.job, mutate(P.job, _set("/metrics/totalTime/elapsed", 1)),
               "/metrics/totalTime/elapsed"),
    "AEC212": ("export-job", P.job, mutate(P.job, _set("/destination/batchId", "df4gssdfb93a09f7e37fa53ad52")),
               "/destination/batchId"),
    "AEC213": ("export-job", P.job, mutate(P.job, _set("/creationTime", 1538615974000)),
               "/metrics/totalTime/startTimeInMs"),
    "AEC214": ("export-job", P.job,
               mutate(P.job, _chain(_set("/destination/segmentPerBatch", True), _del("/destination/batchId"),
                                    _set("/destination/batches", []))), "/destination/batches"),
    "AEC301": ("export-job-list", P.listing, mutate(P.listing, _reverse_records), "/records/1"),
    "AEC302": ("export-job-list", P.listing, mutate(P.listing, _set("/page/pageSize", 1)), "/records"),
    "AEC303": ("export-job-list", P.listing, mutate(P.listing, _set("/page/pageSize", 3)), "/link/next"),
    "AEC304": ("export-job-list", P.listing, mutate(P.listing, _set("/page/pageOffset", "1538573416687_721")),
               "/page/pageOffset"),
    "AEC401": ("dataset-response", lambda: ["@/dataSets/5b020a27e7040801dedba61b"],
               lambda: ["5b020a27e7040801dedba61b"], "/0"),
    "AEC402": ("dataset-request", P.dataset_request,
               mutate(P.dataset_request, _set("/schemaRef/id", "https://ns.adobe.com/acme/schemas/1234")),
               "/schemaRef/id"),
    "AEC501": ("exchange", create_exchange(), create_exchange(method="POST", url=f"{JOBS_URL}/726"),
               "/request/method"),
    "AEC502": ("exchange", create_exchange(),
               create_exchange(headers={k: v for k, v in HEADERS.items() if k != "x-sandbox-name"}),
               "/request/headers/x-sandbox-name"),
    "AEC503": ("exchange", get_exchange(op="list", query="?limit=2"), get_exchange(op="list", query="?offset=2"),
               "/request/query/offset"),
    "AEC504": ("exchange", create_exchange(), create_exchange(status=201), "/response/status"),
    "AEC505": ("exchange", create_exchange(), create_exchange(response_headers={}), "/response/headers/x-location"),
    "AEC506": ("exchange", get_exchange(), get_exchange(body=b""), "/response/body"),
    "AEC507": ("exchange", create_exchange(), create_exchange(change_request=_del("/schema")), "/response/status"),
    "AEC508": ("exchange", create_exchange(), create_exchange(change_job=_set("/schema/name", "_xdm.other")),
               "/response/body/schema/name"),
    "AEC509": ("exchange", create_exchange(), create_exchange(change_job=_set("/imsOrgId", "OTHER@AdobeOrg")),
               "/response/body/imsOrgId"),
    "AEC510": ("exchange", create_exchange(),
               create_exchange(change_request=_set("/destination/segmentPerBatch", False)),
               "/response/body/destination/batchId"),
    "AEC511": ("exchange", get_exchange(), get_exchange(job_id=727), "/response/body/id"),
    "AEC512": ("exchange", get_exchange(op="list", query="?limit=2"), get_exchange(op="list", query="?limit=1"),
               "/response/body/records"),
    "AEC513": ("exchange", lambda: _dataset_exchange("true"), lambda: _dataset_exchange("False"),
               "/request/query/requestDataSource"),
}


def _findings(kind: str, value: Any) -> list[Any]:
    if kind == "exchange":
        return validate_exchange(value).findings
    if kind == "detect":
        return validate(value).findings
    return validate(value, kind).findings


def test_every_rule_has_a_case() -> None:
    # workflow rules (AEC6xx) span several exchanges: tests/test_check.py proves each in the fault matrix
    assert sorted(r.id for r in all_rules() if r.scope not in ("workflow", "cassette")) == sorted(CASES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_at_pointer(rule_id: str) -> None:
    kind, _clean, bad, pointer = CASES[rule_id]
    hits = [f for f in _findings(kind, bad()) if f.rule == rule_id]
    assert [f.pointer for f in hits].count(pointer) >= 1, _findings(kind, bad())
    for f in hits:
        assert f.message and f.severity in ("error", "warning")


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_silent_on_clean_payload(rule_id: str) -> None:
    kind, clean, _bad, _pointer = CASES[rule_id]
    assert [f for f in _findings(kind, clean()) if f.rule == rule_id] == []


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_can_be_ignored(rule_id: str) -> None:
    kind, _clean, bad, _pointer = CASES[rule_id]
    if kind == "exchange":
        report = validate_exchange(bad(), policy=Policy.make(ignore=[rule_id]))
    elif kind == "detect":
        report = validate(bad(), policy=Policy.make(ignore=[rule_id]))
    else:
        report = validate(bad(), kind, policy=Policy.make(ignore=[rule_id]))
    assert rule_id not in report.rules()
    assert report.suppressed >= 1


def test_clean_payloads_have_no_findings_at_all() -> None:
    assert validate(P.request(), "export-job-request").findings == []
    assert validate(P.job(), "export-job").findings == []
    assert validate(P.new_job(), "export-job").findings == []
    assert validate(P.listing(), "export-job-list").findings == []
    assert validate(P.dataset_request(), "dataset-request").findings == []
    assert validate_exchange(create_exchange()()).findings == []


def test_a_refused_request_is_the_clients_fault_and_an_accepted_one_the_servers_too() -> None:
    # the same broken request: its findings are the client's whatever the answer; answered 200 the server
    # is at fault too (AEC507), answered 400 it is not
    headers = {k: v for k, v in HEADERS.items() if k != "x-api-key"}
    error = {"error_code": "400103", "message": "the request body is invalid"}
    accepted = create_exchange(change_request=_del("/schema"), headers=headers)()
    refused = Exchange.make("POST", JOBS_URL, request_headers=headers, request_body=accepted.request_body,
                            status=400, response_body=error)
    client = {("AEC001", "/request/body/schema", "client"), ("AEC502", "/request/headers/x-api-key", "client")}
    assert client | {("AEC507", "/response/status", "server")} <= {(f.rule, f.pointer, f.side)
                                                                   for f in validate_exchange(accepted).findings}
    assert {(f.rule, f.pointer, f.side) for f in validate_exchange(refused).findings} == client


@pytest.mark.parametrize(("start", "end", "fires"), [
    ("2019-09-01T00:00:00Z", "2019-09-01T01:00:00+02:00", True),  # an hour earlier, in another offset
    ("2019-09-01T00:00:00Z", "2019-09-01T02:00:00+02:00", False),  # the same instant
    ("2019-09-01T00:00:00.000001Z", "2019-09-01T00:00:00Z", True),  # a microsecond, same layout or not
    ("2019-09-01T00:00:00.5+00:00", "2019-09-01T00:00:00.25Z", True),
    ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z", True),  # a leap second (Python's parser refuses it)
    ("2016-12-31T23:59:59Z", "2016-12-31T23:59:60Z", False),
    ("2019-09-01t05:00:00z", "2019-09-01T04:00:00Z", True),  # lowercase letters are RFC 3339 too
    ("2019-09-01 05:00:00+00:00", "2019-09-01T04:00:00Z", False),  # not RFC 3339: the schema's to say
    ("2019-09-01T05:00:00", "2019-09-01T04:00:00", False),  # no offset: not RFC 3339
    ("2019-09-01T05:00:00Z", "2019-09-01T04:00:00", False),
    ("2019-09-01T05:00:00+0000", "2019-09-01T04:00:00Z", False),
])
def test_time_window_order_compares_instants(start: str, end: str, fires: bool) -> None:
    for base, keys in ((("filter", "segmentQualificationTime"), ("startTime", "endTime")),
                       (("additionalFields", "eventList", "filter"), ("fromIngestTimestamp", "toIngestTimestamp"))):
        payload = P.request()
        node = payload
        for key in base:
            node = node.setdefault(key, {})
        node.clear()
        node.update(zip(keys, (start, end), strict=True))
        report = validate(payload, "export-job-request")
        pointer = "/" + "/".join((*base, keys[1]))
        assert (("AEC102", pointer) in {(f.rule, f.pointer) for f in report}) is fires, (start, end, report.findings)


def test_an_exchange_rule_runs_on_the_operations_it_names_only() -> None:
    # the engine is the one filter (a rule's body does not repeat it): a rule that names operations runs
    # on those alone, one that names none on every operation of the API; on its own operations, the
    # recorded exchanges make the named rules fire
    from pathlib import Path

    from aep_export_contracts.cassettes import load_exchanges
    from aep_export_contracts.engine.exchange import _exchange_rules, parse_body
    from aep_export_contracts.http import ExchangeView
    from aep_export_contracts.spec.api import operations

    exchange_rules = [r for r in all_rules() if r.scope == "exchange" and r.check is not None]
    # the rules of every exchange (headers, status codes, bodies) name no operation; the others do
    assert {r.id for r in exchange_rules if not r.operations} == {"AEC502", "AEC504", "AEC505", "AEC506", "AEC507"}
    named = [r for r in exchange_rules if r.operations]
    assert len(named) >= 7
    for op in operations():
        run = {r.id for group in _exchange_rules(op.operation_id) for _, r in group}
        assert run == {r.id for r in exchange_rules if not r.operations or op.operation_id in r.operations}, op
    root = Path(__file__).resolve().parents[1] / "cassettes"
    exchanges = [e for _, e in load_exchanges([root]) if e.status is not None and 200 <= e.status < 300]
    fired = set()
    for exchange in exchanges:
        request, response = parse_body(exchange.request_body)[0], parse_body(exchange.response_body)[0]
        for op in operations():
            view = ExchangeView(exchange, op, request, response, True, request_present=request is not None)
            fired |= {r.id for r in named if op.operation_id in r.operations and op.pattern.fullmatch(exchange.path)
                      and op.method == exchange.method and r.run(view)}
    assert fired, "no exchange rule fired on its own operations: the corpus does not test the filter"


def test_a_rule_that_reads_the_operation_of_an_exchange_that_has_none_is_told_which() -> None:
    """The view of an exchange no operation matches holds no operation; a rule of the API's operations that
    asks for it anyway learns the method and path, instead of reading an attribute of None."""
    from aep_export_contracts.http import ExchangeView

    view = ExchangeView(Exchange.make("get", "https://platform.adobe.io/nowhere?x=1"), None)
    with pytest.raises(LookupError, match=r"^GET /nowhere matches no operation of the API$"):
        _ = view.matched


def test_a_pointer_escapes_a_slash_and_a_tilde_in_every_token() -> None:
    """RFC 6901: '~' is written '~0' and '/' is written '~1' in a pointer's token; other keys are as they are."""
    from aep_export_contracts.spec.contracts import pointer

    assert pointer(["a/b~c", "records", 0, "~", "x/"]) == "/a~1b~0c/records/0/~0/x~1"
    assert pointer([]) == ""
    request = {"destination": {"datasetId": "d", "a/b~c": 1}, "schema": {"name": "n"}}
    assert "/destination/a~1b~0c" in {f.pointer for f in validate(request, "export-job-request").findings}


def test_a_malformed_uuid_names_its_wrong_characters() -> None:
    request = {"destination": {"datasetId": "d"}, "schema": {"name": "n"},
               "filter": {"segments": [{"segmentId": "1rfe8422-334d-12f4-3sd4-12cf6g990g51"}]}}
    [finding] = [f for f in validate(request, "export-job-request").findings if f.rule == "AEC106"]
    assert "has the characters 'g', 'r', 's', which no UUID has" in finding.message


def test_a_batch_for_a_segment_the_filter_does_not_name_is_reported() -> None:
    named = "52c26d0d-45f2-47a2-ab30-ed06abc981ff"
    stray = "4edc8488-2c35-4f6d-b4c6-9075c68d2df4"
    batch = "da5cfb4de32c4b93a09f7e37fa53ad52"
    job = mutate(P.job, _chain(_set("/destination/segmentPerBatch", True), _del("/destination/batchId"),
                               _set("/destination/batches", [{"segmentId": named, "batchId": batch},
                                                             {"segmentId": stray, "batchId": batch[::-1]}])))()
    found = [(f.pointer, f.message) for f in validate(job, "export-job").findings if f.rule == "AEC214"]
    assert found == [("/destination/batches/1/segmentId",
                      f"batch for segment {stray!r}, which the job's filter does not name")]


@pytest.mark.parametrize(("content_type", "fires"), [
    ("application/json; charset=utf-8", False), ("Application/JSON ;charset=UTF-8", False),
    ("application/json", False), ("text/plain; charset=utf-8", True), ("application/jsonx", True),
])
def test_a_json_media_type_with_parameters_is_json(content_type: str, fires: bool) -> None:
    exchange = create_exchange(headers={**HEADERS, "Content-Type": content_type})()
    pointers = [f.pointer for f in validate_exchange(exchange).findings if f.rule == "AEC502"]
    assert pointers == (["/request/headers/content-type"] if fires else [])


_PAIRS = st.tuples(st.sampled_from(["offset", "a", "a+b", "a%20b", "of%66set", "", "a;offset"]), st.sampled_from(["=", ""]),
                   st.sampled_from(["", "1", "x+y", "x%2By", "%", "2_3", "#4", "\t5"])).map("".join)


@settings(max_examples=300)
@given(st.lists(_PAIRS, max_size=5).map("&".join), st.sampled_from(["offset", "a", "a b"]))
def test_query_value_reads_a_query_as_parse_qs_does(query: str, name: str) -> None:
    """The paging rule reads link.next's offset without parse_qs when there is nothing to decode: the same value."""
    from urllib.parse import parse_qs

    from aep_export_contracts.http import query_value

    found = parse_qs(query).get(name)
    assert query_value(query, name) == (found[0] if found else None)


@settings(max_examples=300)
@given(st.lists(st.sampled_from(["/", "//", "?", "#", ":", "a", "\t", "\n", "\r", "%2F", " ", "[", "http:"]),
                max_size=8).map("".join))
def test_split_url_splits_as_urlsplit_does(url: str) -> None:
    """A path (a relative link, a request's target) is split without urlsplit: the same parts."""
    from urllib.parse import urlsplit

    from aep_export_contracts.http import split_url

    try:
        expected = urlsplit(url)
    except ValueError:
        return  # (a host urlsplit cannot read: split_url's own answer, tested with the exchange model)
    assert split_url(url) == expected


def test_a_built_in_rule_without_a_docstring_reads_it_from_its_source() -> None:
    """A module compiled to C (mypyc) keeps no docstring of a function: the registry reads a built-in rule's
    docstring from the source file shipped beside the compiled one."""
    from aep_export_contracts.rules import _source_docstring, get_rule

    class Compiled:  # what a compiled rule function looks like to the registry: a name, a module, no __doc__
        __module__ = "aep_export_contracts.rules.job"
        __name__ = "epoch_milliseconds"
        __doc__ = None

        def __call__(self, payload: Any) -> list[Any]:
            return []

    rule = get_rule("AEC201")  # (the built-in rules loaded)
    doc = _source_docstring(Compiled())
    assert doc.startswith("Times are epoch milliseconds, not seconds.\n\ncreationTime, updateTime and every metrics")
    assert rule.summary == "Times are epoch milliseconds, not seconds."
    assert rule.description.startswith("Times are epoch milliseconds, not seconds. creationTime, updateTime and every")
