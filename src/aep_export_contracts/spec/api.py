"""The API facts every other layer reads: operations, paths, headers, status codes, job statuses.

Each fact is read from ``openapi/export-jobs.yaml`` or ``contracts/`` once; nothing here restates
one. Operations come from the description's paths; the required request headers from its
``securitySchemes`` (and ``Content-Type`` from the request body's media type); job statuses from
the job contract's ``status`` enum, the documented ones from the list filter, and their order from
the description's ``x-job-lifecycle``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from .contracts import on_reload, openapi_document, schema

__all__ = [
    "HEADERS",
    "JOB_STATUSES",
    "PAGING",
    "PATHS",
    "PRODUCTION_URL",
    "RESPONSE_HEADERS",
    "HeaderNames",
    "JobStatuses",
    "Operation",
    "Paging",
    "Paths",
    "ResponseHeaders",
    "find_operation",
    "operation",
    "operations",
]

_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    """One operation of the description: method, path template, answers and the request contract."""

    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    responses: Mapping[str, Any]
    request_contract: str | None
    required_headers: tuple[str, ...]  # lower case
    parameters: tuple[dict[str, Any], ...] = ()

    def response_contract(self, status: int) -> tuple[bool, str | None]:
        """(documented?, contract of the body or None when no body is documented)."""
        return _response(self, status)[:2]

    def required_response_headers(self, status: int) -> list[str]:
        return list(_response(self, status)[2])

    def response_media_types(self, status: int) -> tuple[str, ...]:
        """The media types the description gives the answer's body (none: undocumented, or no body)."""
        spec = self.responses.get(str(status))
        return tuple(_deref(spec).get("content", {})) if isinstance(spec, dict) else ()

    def response_header_names(self, status: int) -> tuple[str, ...]:
        """Every header the description names for the answer, required or not, in lower case."""
        spec = self.responses.get(str(status))
        return tuple(name.lower() for name in _deref(spec).get("headers", {})) if isinstance(spec, dict) else ()

    @property
    def success_statuses(self) -> tuple[int, ...]:
        """The 2xx codes the operation documents, in order."""
        return tuple(sorted(int(code) for code in self.responses if code.isdigit() and code.startswith("2")))

    @property
    def success_status(self) -> int:
        """The first documented 2xx code (the one a server answers with by default)."""
        return self.success_statuses[0]

    def query_parameter(self, name: str) -> Mapping[str, Any]:
        """The schema of a query parameter (an empty schema when the operation has none by that name); a
        parameter that allows an empty value tolerates "" (read as absent). Read once, then shared: not to be
        changed."""
        key = (self.operation_id, self.template, name)
        known = _PARAMETERS.get(key)
        if known is None:
            known = _PARAMETERS[key] = MappingProxyType(self._query_parameter(name))
        return known

    def _query_parameter(self, name: str) -> dict[str, Any]:
        for p in self.parameters:
            if p.get("in") == "query" and p.get("name") == name:
                schema = dict(p.get("schema", {}))
                if p.get("allowEmptyValue") is True:
                    schema["x-tolerated"] = {**schema.get("x-tolerated", {}), "": EMPTY_VALUE}
                return schema
        return {}

    def query_problem(self, name: str, value: str) -> str | None:
        """What is wrong with a query parameter's text by its schema in the description, or None
        (a parameter the operation does not describe is not judged)."""
        return _query_problem(self.query_parameter(name), value)


#: why an empty query value is tolerated where the description allows it (allowEmptyValue)
EMPTY_VALUE = "an empty value (as Adobe's Postman collection sends a variable left empty) is read as absent"


def tolerated(schema: Mapping[str, Any], value: str) -> str | None:
    """Why the API accepts a query value its documentation does not list (``x-tolerated``: a spelling real clients
    send, a value the docs leave out), or None for a value the schema describes or refuses."""
    why = schema.get("x-tolerated", {}).get(value)
    return str(why) if why is not None else None


def _query_problem(schema: Mapping[str, Any], value: str) -> str | None:
    """The subset of JSON Schema a query parameter here uses: integer (minimum), boolean, pattern, enum."""
    kind = schema.get("type")
    if tolerated(schema, value) is not None:
        return None
    if kind == "integer":
        if not (value.isascii() and value.isdigit()):
            return "is not a whole number"
        if "minimum" in schema and (len(value.lstrip("0")) <= 18 and int(value) < schema["minimum"]):
            return f"is below {schema['minimum']}"
    elif kind == "boolean" and value not in ("true", "false"):
        return "is not true or false"
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        return f"does not match {schema['pattern']}"
    if "enum" in schema and value not in schema["enum"]:
        return "is not one of " + ", ".join(map(str, schema["enum"]))
    return None


_RESPONSES: dict[tuple[str, str, int], tuple[bool, str | None, tuple[str, ...]]] = {}
#: (operation id, template, name): the schema of a query parameter, as ``Operation.query_parameter`` reads it
_PARAMETERS: dict[tuple[str, str, str], Mapping[str, Any]] = {}


def _response(op: Operation, status: int) -> tuple[bool, str | None, tuple[str, ...]]:
    """(documented?, body contract, required headers) of one answer, read from the description once."""
    key = (op.operation_id, op.template, status)
    known = _RESPONSES.get(key)
    if known is None:
        spec = op.responses.get(str(status))
        if spec is None:
            known = (False, None, ())
        else:
            spec = _deref(spec)
            content = spec.get("content", {}).get(JSON_MEDIA_TYPE)
            headers = tuple(name for name, h in spec.get("headers", {}).items() if h.get("required"))
            known = (True, _contract_of(content["schema"]) if content else None, headers)
        _RESPONSES[key] = known
    return known


def _deref(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = openapi_document()
        for part in ref[2:].split("/"):
            target = target[part]
        return dict(target)
    return node


def _contract_of(schema_node: dict[str, Any]) -> str | None:
    ref = schema_node.get("$ref", "")
    if ref.startswith("../contracts/"):
        return str(ref[len("../contracts/"):].removesuffix(".json"))
    return None


@dataclass(frozen=True)
class HeaderNames:
    """The request headers every call sends, read from the description's security schemes."""

    authorization: str
    bearer_prefix: str  # "Bearer " (the scheme of the http security scheme, as sent)
    api_key: str
    org: str
    sandbox: str
    content_type: str  # the header that names a request body's media type

    @property
    def credentials(self) -> tuple[str, ...]:
        """The four headers of every call, as the description spells them."""
        return (self.authorization, self.api_key, self.org, self.sandbox)

    @property
    def secret(self) -> tuple[str, ...]:
        """The headers whose values are secrets (lower case): the token and the API key."""
        return (self.authorization.lower(), self.api_key.lower())


def _headers() -> HeaderNames:
    schemes = openapi_document()["components"]["securitySchemes"]
    bearer = schemes["bearerAuth"]
    if bearer.get("type") != "http":
        raise RuntimeError("the description's bearerAuth is not an http security scheme")
    # an http scheme travels in the Authorization header (RFC 9110), its scheme name first
    return HeaderNames("Authorization", str(bearer["scheme"]).capitalize() + " ", str(schemes["apiKey"]["name"]),
                       str(schemes["imsOrg"]["name"]), str(schemes["sandbox"]["name"]), "Content-Type")


HEADERS = _headers()
#: the media type of every request and response body the description documents
JSON_MEDIA_TYPE = "application/json"


@cache
def operations() -> tuple[Operation, ...]:
    doc = openapi_document()
    ops: list[Operation] = []
    always = tuple(h.lower() for h in HEADERS.credentials)
    for template, item in doc["paths"].items():
        regex = re.escape(template)
        regex = re.sub(r"\\\{[^}]+\\\}", r"([^/]+)", regex)
        pattern = re.compile(rf"(?:.*?){regex}/?")
        shared = [_deref(p) for p in item.get("parameters", [])]
        for method in _METHODS:
            spec = item.get(method)
            if spec is None:
                continue
            own = [_deref(p) for p in spec.get("parameters", [])]
            content = spec.get("requestBody", {}).get("content", {})
            body = content.get(JSON_MEDIA_TYPE)
            headers = list(always)
            if content:
                headers.append(HEADERS.content_type.lower())
            headers.extend(p["name"].lower() for p in own if p.get("in") == "header" and p.get("required"))
            ops.append(Operation(spec["operationId"], method.upper(), template, pattern, spec["responses"],
                                 _contract_of(body["schema"]) if body else None, tuple(headers),
                                 tuple([*shared, *own])))
    return tuple(ops)


def operation(operation_id: str) -> Operation:
    """The operation with this id. Raises ``KeyError`` for an id the description does not have."""
    for op in operations():
        if op.operation_id == operation_id:
            return op
    raise KeyError(f"no operation {operation_id!r} in the API description")


def find_operation(method: str, path: str) -> tuple[Operation | None, list[Operation]]:
    """The operation for method and path, and every operation whose path matches (any method)."""
    op, candidates = _find(method.upper(), path)
    return op, list(candidates)


@lru_cache(maxsize=4096)
def _find(method: str, path: str) -> tuple[Operation | None, tuple[Operation, ...]]:
    with contextlib.suppress(ValueError):  # '//[' reads as a host that never closes: the text is the path
        path = urlsplit(path).path or path
    candidates = [op for op in operations() if op.pattern.fullmatch(path)]
    # the most specific template wins (a job id path over the collection)
    candidates.sort(key=lambda op: -len(op.template))
    if candidates:
        best_template = candidates[0].template
        candidates = [op for op in candidates if op.template == best_template]
    for op in candidates:
        if op.method == method:
            return op, tuple(candidates)
    return None, tuple(candidates)


@dataclass(frozen=True)
class Paths:
    """The API's paths, read from the description."""

    datasets: str  # create a dataset (Catalog)
    jobs: str  # create and list export jobs
    job: str  # one job: a template with {EXPORT_JOB_ID}
    job_parameter: str  # the name of the job path's parameter
    batch_files: str  # Data Access: a template with {batchId}
    file: str  # Data Access: a template with {dataSetFileId}

    def of_job(self, job_id: object) -> str:
        return self.job.replace("{" + self.job_parameter + "}", str(job_id))

    def of_batch_files(self, batch_id: str) -> str:
        return self.batch_files.replace("{batchId}", batch_id)

    def of_file(self, file_id: str) -> str:
        return self.file.replace("{dataSetFileId}", file_id)

    def job_id(self, path: str) -> str | None:
        """The job id in a path to one job (a base path may stand before it), or None."""
        head, _, rest = self.job.partition("{" + self.job_parameter + "}")
        at = path.find(head)
        if at < 0:
            return None
        value = path[at + len(head):].rstrip("/")
        return value if value and "/" not in value and not rest.strip("/") else None

    def is_contract_path(self, path: str) -> bool:
        """Whether an exchange to ``path`` is one the contract judges (a base path may stand before it)."""
        return self.jobs in path or self.datasets in path


def _paths() -> Paths:
    doc = openapi_document()
    job = operation("getExportJob").template
    parameter = re.findall(r"\{([^}]+)\}", job)[0]
    access = doc["x-data-access"]
    return Paths(operation("createDataset").template, operation("listExportJobs").template, job, parameter,
                 str(access["batchFiles"]), str(access["file"]))


PATHS = _paths()


@dataclass(frozen=True)
class Paging:
    """How the job list pages: its order, its cursor and the form of link.next."""

    sort_field: str  # what page.sortField says
    sort: str  # what page.sort says: newest first
    next_link: str  # the relative path link.next starts with
    cursor: re.Pattern[str]  # the offset parameter: match with fullmatch

    def link(self, query: str) -> str:
        return f"{self.next_link}?{query}"


def _paging() -> Paging:
    op = operation("listExportJobs")
    paging = openapi_document()["paths"][op.template]["get"]["x-paging"]
    cursor = re.compile(op.query_parameter("offset")["pattern"].strip("^$"))
    return Paging(str(paging["sort-field"]), str(paging["sort"]), str(paging["next-link"]), cursor)


PAGING = _paging()


@dataclass(frozen=True)
class JobStatuses:
    """The job statuses of the contract, which of them are documented, and the order they move in."""

    all: tuple[str, ...]  # every value the job contract accepts
    documented: tuple[str, ...]  # the values the sources document (the list's status filter)
    stages: tuple[tuple[str, ...], ...]  # in order; a job never moves to an earlier stage
    created: str
    running: str
    succeeded: str
    failed: str
    undocumented: tuple[str, ...]  # values the contract accepts with a warning: no source documents them
    #: the stage of each status (read for every job a stream of traffic sees again)
    stage_of: dict[str, int] = field(repr=False, compare=False)

    @property
    def terminal(self) -> tuple[str, ...]:
        return self.stages[-1]

    @property
    def cancellable(self) -> tuple[str, ...]:
        """Statuses in which a cancel still has an effect (the job has not finished)."""
        return (self.created, self.running)

    def rank(self, status: object) -> int | None:
        """The stage of a status (None for a value that is no status)."""
        return self.stage_of.get(status) if isinstance(status, str) else None

    def goes_back(self, before: str, after: str) -> bool:
        """Whether a job seen ``before`` and then ``after`` broke its lifecycle: it moved to an earlier
        stage (a value that is no status counts as the earliest), or left a terminal status."""
        if after == before:
            return False
        stage_before, stage_after = self.rank(before), self.rank(after)
        earlier = (-1 if stage_after is None else stage_after) < (-1 if stage_before is None else stage_before)
        return earlier or before in self.terminal


def _job_statuses() -> JobStatuses:
    doc = openapi_document()
    values = tuple(schema("export-job")["properties"]["status"]["enum"])
    lifecycle = doc["x-job-lifecycle"]
    documented = tuple(lifecycle["documented"])
    filtered = operation("listExportJobs").query_parameter("status")
    filter_values = set(filtered["enum"])
    stages = tuple(tuple(stage) for stage in lifecycle["stages"])
    roles = lifecycle["roles"]
    staged = [s for stage in stages for s in stage]
    if sorted(staged) != sorted(values) or not set(documented) <= set(values) or \
            not set(roles.values()) <= set(documented) or filter_values != set(documented):
        raise RuntimeError("x-job-lifecycle, the job contract's status enum and the list filter disagree")
    return JobStatuses(values, documented, stages, roles["created"], roles["running"], roles["succeeded"],
                       roles["failed"], tuple(s for s in values if s not in documented),
                       {status: i for i, stage in enumerate(stages) for status in stage})


JOB_STATUSES = _job_statuses()


@dataclass(frozen=True)
class ResponseHeaders:
    """The response headers the description requires, by what they carry."""

    job_location: str  # the href of a created job
    dataset_location: str  # the href of a created dataset
    retry_after: str  # on a 429

    @property
    def all(self) -> tuple[str, ...]:
        return (self.job_location, self.dataset_location, self.retry_after)


def _response_headers() -> ResponseHeaders:
    job, dataset = operation("createExportJob"), operation("createDataset")
    return ResponseHeaders(job.required_response_headers(job.success_status)[0],
                           dataset.required_response_headers(dataset.success_status)[0],
                           job.required_response_headers(429)[0])


RESPONSE_HEADERS = _response_headers()


def _production_url() -> str:
    servers = openapi_document()["servers"]
    return str(next((s["url"] for s in servers if s.get("description") == "Production"), servers[0]["url"]))


#: the base URL of the production platform (the description's Production server)
PRODUCTION_URL = _production_url()


def _reload() -> None:
    """Read every fact again (the overlay in use changed), into the objects the other modules already hold.
    PRODUCTION_URL is a string and stays: an overlay does not move the platform."""
    _RESPONSES.clear()
    _PARAMETERS.clear()
    operations.cache_clear()
    _find.cache_clear()
    for held, fresh in ((HEADERS, _headers()), (PATHS, _paths()), (PAGING, _paging()), (JOB_STATUSES, _job_statuses())):
        for f in fields(held):
            object.__setattr__(held, f.name, getattr(fresh, f.name))
    fresh_headers = _response_headers()
    for f in fields(RESPONSE_HEADERS):
        object.__setattr__(RESPONSE_HEADERS, f.name, getattr(fresh_headers, f.name))


on_reload(_reload)
