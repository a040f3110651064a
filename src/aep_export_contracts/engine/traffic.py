"""Rules across the traffic: what a sequence of exchanges shows that no single exchange does.

A ``Traffic`` is fed exchanges in the order they happened (a proxy's session, a recording) and
answers, for each, the findings it reveals given what came before, scoped by org and sandbox:

- per job: a status never goes back and a terminal one stays (AEC601); a job read back names the
  dataset and schema it was created with (AEC508); a job whose cancel was acknowledged does not end
  SUCCEEDED (AEC608);
- per walk through the list (a first page, then the pages reached through each page's cursor):
  a job appears once and the order stays newest first across pages (AEC603), a walk that ends has
  found every job created in its scope before it began (AEC602), and a walk filtered by status holds
  only that status and, for a terminal status (one that cannot change during the walk), every job
  known to have it (AEC610).

A finding points into the exchange that revealed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

from ..findings import Finding
from ..http import Exchange, TrafficView, scope_of, split_url
from ..rules import Rule, all_rules, get_rule, on_change
from ..rules import live as LIVE
from ..rules.util import dig
from ..spec.api import JOB_STATUSES, PATHS
from .exchange import Facts, facts

__all__ = ["Traffic", "has_traffic_rules", "traffic_findings"]

STATUS = JOB_STATUSES
Scope = tuple[str, str]
JOB_ECHO = "AEC508"  # the exchange rule whose finding a read-back that names other values gets


@dataclass
class _Job:
    created_with: dict[str, Any]  # the create request's destination dataset and schema name
    status: str | None = None
    cancelled: bool = False  # a cancel of it was acknowledged
    order: int = 0  # when the traffic first saw it


@dataclass
class _Walk:
    status: str  # the status filter of the walk ('' for none)
    started: int  # the traffic's clock when the first page was read
    from_start: bool = True  # began at the first page (only such a walk can show a job missing)
    next_cursor: str | None = None
    ids: set[str] = field(default_factory=set)  # the ids listed so far, as text (a set: a long walk stays linear)
    last_key: tuple[int, int] | None = None


class Traffic:
    """Cross-exchange rules over exchanges seen in order; ``see`` answers each one's findings."""

    def __init__(self) -> None:
        self.jobs: dict[tuple[Scope, str], _Job] = {}
        self.walks: dict[tuple[Scope, str], _Walk] = {}
        self.clock = 0

    def see(self, exchange: Exchange, known: Facts | None = None) -> list[Finding]:
        """The findings the exchange reveals given the traffic before it; ``known``: what validation
        worked out of it (worked out anew if not given)."""
        self.clock += 1
        status = exchange.status
        if status is None or not 200 <= status < 300:
            return []
        known = known or facts(exchange)
        op = known.operation
        if op is None:
            return []
        scope = scope_of(exchange.request_headers)
        body = known.response
        name = op.operation_id
        if name == "createExportJob":
            return self._created(scope, known, body)
        if name == "getExportJob":
            return self._read(scope, body, "/response/body")
        if name == "cancelExportJob":
            return self._cancelled(scope, exchange, body)
        if name == "listExportJobs":
            return self._listed(scope, known, body)
        return []

    # jobs
    def _created(self, scope: Scope, known: Facts, body: Any) -> list[Finding]:
        if not isinstance(body, dict) or not isinstance(body.get("id"), int | str):
            return []
        request = known.request
        wanted = {"dataset": dig(request, "destination", "datasetId"), "schema": dig(request, "schema", "name")}
        self.jobs[scope, str(body["id"])] = _Job(wanted, body.get("status") if isinstance(body.get("status"), str)
                                                 else None, order=self.clock)
        return []

    def _read(self, scope: Scope, job: Any, where: str | int) -> list[Finding]:
        """``where``: the job's pointer, or its index in a list's records (the pointer is written only for a finding)."""
        if not isinstance(job, dict):
            return []
        job_id = job.get("id")
        if not isinstance(job_id, int | str):
            return []
        known = self.jobs.get((scope, str(job_id)))
        if known is None:
            return []
        out: list[Finding] = []
        status = job.get("status")
        if where.__class__ is int:
            where = f"/response/body/records/{where}"
        if isinstance(status, str) and known.status is not None and STATUS.goes_back(known.status, status):
            out.append(LIVE.ILLEGAL_TRANSITION.finding(f"{where}/status", f"job {job_id} went {known.status} → {status}",
                                                    "a status never goes back and a terminal status stays"))
        if known.cancelled and status == STATUS.succeeded:
            out.append(LIVE.CANCEL_IGNORED.finding(f"{where}/status", f"job {job_id} was cancelled but ended {status}",
                                                f"a cancelled job ends {STATUS.failed}"))
            known.cancelled = False  # said once
        wanted_dataset, wanted_schema = known.created_with["dataset"], known.created_with["schema"]
        if isinstance(wanted_dataset, str):
            dataset = dig(job, "destination", "datasetId") or dig(job, "destination", "dataSetId")
            if dataset is not None and dataset != wanted_dataset:
                out.append(get_rule(JOB_ECHO).finding(f"{where}/destination/datasetId", f"job {job_id} names dataset "
                                                      f"{dataset!r}, created with {wanted_dataset!r}"))
        if isinstance(wanted_schema, str):
            schema = dig(job, "schema", "name")
            if schema is not None and schema != wanted_schema:
                out.append(get_rule(JOB_ECHO).finding(f"{where}/schema/name", f"job {job_id} names schema {schema!r}, "
                                                      f"created with {wanted_schema!r}"))
        if isinstance(status, str):
            known.status = status
        return out

    def _cancelled(self, scope: Scope, exchange: Exchange, body: Any) -> list[Finding]:
        acknowledged = exchange.status == 204 or (isinstance(body, dict) and body.get("status") is True)
        job_id = PATHS.job_id(exchange.path)
        known = self.jobs.get((scope, job_id)) if job_id is not None else None
        if acknowledged and known is not None and known.status not in STATUS.terminal:
            known.cancelled = True
        return []

    # the list
    def _listed(self, scope: Scope, known: Facts, body: Any) -> list[Finding]:
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            return []
        query = known.query
        wanted = query.get("status", "")
        key = (scope, wanted)
        walk = self.walks.get(key)
        offset = query.get("offset")
        if offset is None or walk is None or walk.next_cursor != offset:
            walk = self.walks[key] = _Walk(wanted, self.clock, from_start=offset is None)  # a first page, or a stray
        out: list[Finding] = []
        records = [r for r in body["records"] if isinstance(r, dict)]
        for i, record in enumerate(records):
            found = self._read(scope, record, i)
            if found:
                out += found
            if wanted and isinstance(record.get("status"), str) and record["status"] != wanted:
                out.append(LIVE.STATUS_FILTER.finding(f"/response/body/records/{i}/status", f"job {record.get('id')} is "
                                                      f"{record['status']} in a list of {wanted} jobs",
                                                      "apply the status filter"))
            job_id = record.get("id")
            listed = str(job_id) if isinstance(job_id, int | str) and not isinstance(job_id, bool) else None
            if listed is not None:  # (an id of another type breaks the job contract: no page can repeat it)
                if listed in walk.ids:
                    out.append(LIVE.PAGING_DUPLICATE.finding(f"/response/body/records/{i}/id", f"job {job_id} appears "
                                                             "on an earlier page too", "resume after the cursor, not at it"))
                walk.ids.add(listed)
            created = record.get("creationTime")
            if isinstance(created, int) and isinstance(job_id, int) and not isinstance(created, bool) \
                    and not isinstance(job_id, bool):
                k = (created, job_id)
                if walk.last_key is not None and k > walk.last_key and i == 0:
                    out.append(LIVE.PAGING_DUPLICATE.finding(f"/response/body/records/{i}/id", f"job {job_id} is newer "
                                                             f"than job {walk.last_key[1]}, listed on the page before",
                                                             "keep newest first across pages"))
                walk.last_key = k
        nxt = dig(body, "link", "next")
        if isinstance(nxt, str) and nxt:
            walk.next_cursor = dict(parse_qsl(split_url(nxt).query)).get("offset")
            return out
        # the walk ended: every job created in this scope before it began must have been on some page
        missing = [job_id for (s, job_id), job in self.jobs.items() if s == scope and job.order < walk.started
                   and (not walk.status or job.status == walk.status) and job_id not in walk.ids]
        if missing and not walk.status and walk.from_start:
            out.append(LIVE.JOB_NOT_LISTED.finding("/response/body/records", f"jobs {missing[:5]} were created but "
                                                "are on no page of the list", "follow link.next until it is empty"))
        elif missing and walk.status in STATUS.terminal and walk.from_start:  # a terminal status stays: no race
            out.append(LIVE.STATUS_FILTER.finding("/response/body/records", f"jobs {missing[:5]} are {walk.status} but "
                                               f"not in the list of {walk.status} jobs", "filter on the job's current "
                                               "status"))
        del self.walks[key]
        return out


@cache
def _user_traffic_rules() -> tuple[Rule, ...]:
    """The rules across exchanges written as functions (``@rule(..., scope="traffic")``): a user's own."""
    return tuple(r for r in all_rules() if r.scope == "traffic" and r.check is not None)


on_change(_user_traffic_rules.cache_clear)


def has_traffic_rules() -> bool:
    """Whether any rule reads the traffic's history (a session keeps one only then)."""
    return bool(_user_traffic_rules())


def traffic_findings(view: TrafficView) -> list[Finding]:
    """The findings of every rule across exchanges written as a function, on the current exchange: each
    runs where it names the exchange's operation (or names none) and, unless ``on="any"``, on success."""
    current = view.current
    status = current.exchange.status
    succeeded = status is not None and 200 <= status < 300
    out: list[Finding] = []
    for r in _user_traffic_rules():
        if r.operations and current.operation_id not in r.operations:
            continue
        if r.on != "any" and not succeeded:
            continue
        out.extend(r.run(view))
    return out
