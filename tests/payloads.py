"""Known-good payloads that the tests mutate (deep copies on every call)."""

from __future__ import annotations

import copy
from typing import Any

REQUEST: dict[str, Any] = {
    "fields": "identities.id,personalEmail.address",
    "mergePolicy": {"id": "e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2", "version": 1},
    "filter": {
        "segments": [
            {"segmentId": "4edc8488-2c35-4f6d-b4c6-9075c68d2df4", "segmentNs": "AAM", "status": ["realized"]},
            {"segmentId": "52c26d0d-45f2-47a2-ab30-ed06abc981ff", "segmentNs": "UPS", "status": ["exited"]},
        ],
        "segmentQualificationTime": {"startTime": "2019-09-01T00:00:00Z", "endTime": "2019-09-02T00:00:00Z"},
        "fromIngestTimestamp": "2018-10-25T13:22:04-07:00",
        "emptyProfiles": False,
    },
    "additionalFields": {
        "eventList": {
            "fields": "environment.browserDetails.name,environment.browserDetails.version",
            "filter": {"fromIngestTimestamp": "2018-10-25T13:22:04-07:00"},
        }
    },
    "destination": {"datasetId": "5b020a27e7040801dedba61b", "segmentPerBatch": True},
    "schema": {"name": "_xdm.context.profile"},
    "evaluationInfo": {"segmentation": True},
}

JOB: dict[str, Any] = {
    "profileInstanceId": "ups",
    "jobType": "BATCH",
    "filter": {"segments": [{"segmentId": "52c26d0d-45f2-47a2-ab30-ed06abc981ff"}]},
    "id": 726,
    "schema": {"name": "_xdm.context.profile"},
    "mergePolicy": {"id": "timestampOrdered-none-mp", "version": 1},
    "status": "SUCCEEDED",
    "requestId": "d995479c-8a08-4240-903b-af469c67be1f",
    "computeGatewayJobId": {
        "exportJob": "f3058161-7349-4ca9-807d-212cee2c2e94",
        "pushJob": "feaeca05-d137-4605-aa4e-21d19d801fc6",
    },
    "metrics": {
        "totalTime": {"startTimeInMs": 1538615973895, "endTimeInMs": 1538616233239, "totalTimeInMs": 259344},
        "profileExportTime": {"startTimeInMs": 1538616067445, "endTimeInMs": 1538616139576, "totalTimeInMs": 72131},
    },
    "destination": {"datasetId": "5b7c86968f7b6501e21ba9df", "batchId": "da5cfb4de32c4b93a09f7e37fa53ad52"},
    "updateTime": 1538616233239,
    "imsOrgId": "ORG@AdobeOrg",
    "creationTime": 1538615973895,
}

NEW_JOB: dict[str, Any] = {
    "profileInstanceId": "ups",
    "jobType": "BATCH",
    "id": 24115,
    "schema": {"name": "_xdm.context.profile"},
    "status": "NEW",
    "requestId": "IwkVcD4RupdSmX376OBVORvcvTdA4ypN",
    "computeGatewayJobId": {},
    "metrics": {"totalTime": {"startTimeInMs": 1559674261657}},
    "destination": {"datasetId": "5cf6bcf79ecc7c14530fe436", "segmentPerBatch": False,
                    "batchId": "da5cfb4de32c4b93a09f7e37fa53ad52"},
    "updateTime": 1559674261868,
    "imsOrgId": "ORG@AdobeOrg",
    "creationTime": 1559674261657,
}

DATASET_REQUEST: dict[str, Any] = {
    "name": "Profile Data Export",
    "schemaRef": {"id": "https://ns.adobe.com/xdm/context/profile__union",
                  "contentType": "application/vnd.adobe.xed+json;version=1"},
    "fileDescription": {"persisted": True, "containerFormat": "parquet", "format": "parquet"},
}


def request() -> dict[str, Any]:
    return copy.deepcopy(REQUEST)


def job(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(JOB)
    out.update(changes)
    return out


def new_job() -> dict[str, Any]:
    return copy.deepcopy(NEW_JOB)


def listing(records: list[dict[str, Any]] | None = None, page_size: int = 2) -> dict[str, Any]:
    if records is None:
        second = job(id=722, creationTime=1538573416687, updateTime=1538573922551)
        second["metrics"] = {"totalTime": {"startTimeInMs": 1538573416687, "endTimeInMs": 1538573922551,
                                           "totalTimeInMs": 505864}}
        records = [job(), second]
    last = records[-1] if records else None
    cursor = f"{last['creationTime']}_{last['id']}" if last else ""
    return {
        "records": records,
        "page": {"sortField": "createdTime", "sort": "desc", "pageOffset": cursor, "pageSize": page_size},
        "link": {"next": f"/export/jobs/?limit={page_size}&offset={cursor}" if len(records) == page_size else ""},
    }


def dataset_request() -> dict[str, Any]:
    return copy.deepcopy(DATASET_REQUEST)
