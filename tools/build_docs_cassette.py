"""Build cassettes/docs/tutorial.yaml from the tutorial's examples in tests/fixtures/docs.

Run from the repository root: python tools/build_docs_cassette.py. The annotations list exactly the
findings that name the tutorial's known faults (and one inconsistency the tutorial also has); replay
fails when a finding appears that is not annotated, or an annotated one disappears.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from aep_export_contracts import from_curl, validate_exchange
from aep_export_contracts.engine.traffic import Traffic

DOCS = Path("tests/fixtures/docs")
NOTES = {
    "AEC501": "fault 1: cancel is shown as POST; the method is DELETE",
    "AEC502": "fault 2: the list curl lacks a backslash, so x-sandbox-name is never sent",
    "AEC106": "fault 3: segment id 1rfe8422-… looks like a UUID and is not one",
    "AEC212": "fault 3: batch id df4gssdfb… is 27 non-hex characters",
    "AEC209": "fault 4: dataSetId spelling in the tutorial's answers",
    "AEC213": "fault 9: metrics start (Jan 2019) before creationTime (Jun 2019): a warning only",
    "AEC508": "the tutorial's request names dataset 5b020a27…, its answers 5cf6bcf7…",
}


def interaction(ex, status: int, response_headers: dict[str, str], response_body: bytes) -> dict:
    body = ex.request_body
    return {
        "request": {"body": body, "headers": {k: [v] for k, v in ex.request_headers.items()},
                    "method": ex.method, "uri": ex.url},
        "response": {"body": {"string": response_body.decode()},
                     "headers": {**{k: [v] for k, v in response_headers.items()},
                                 **({"content-type": ["application/json"]} if response_body else {})},
                     "status": {"code": status, "message": ""}},
    }


def main() -> None:
    read = lambda name: (DOCS / name).read_text()  # noqa: E731
    steps = [
        (from_curl(read("create-dataset.sh")), 201, {"Location": "/data/foundation/catalog/dataSets/5b020a27e7040801dedba61b"},
         read("dataset-response.json")),
        (from_curl(read("create-job.sh")), 200, {"X-Location": "/data/core/ups/export/jobs/24115"},
         read("export-job-created.json")),
        (from_curl(read("list-jobs.sh")), 200, {}, read("export-job-list.json")),
        (from_curl(read("get-job.sh")), 200, {}, read("export-job-get.json")),
        (from_curl(read("cancel-job.sh")), 204, {}, ""),
    ]
    interactions, expected = [], []
    traffic = Traffic()  # what replay judges across the exchanges, in order
    for i, (ex, status, headers, body) in enumerate(steps):
        compact = json.dumps(json.loads(body)).encode() if body else b""
        interactions.append(interaction(ex, status, headers, compact))
        ex.status, ex.response_body = status, compact
        ex.response_headers.update({k.lower(): v for k, v in headers.items()})
        for f in [*validate_exchange(ex).findings, *traffic.see(ex)]:
            note = NOTES.get(f.rule)
            if note is None:
                raise SystemExit(f"unexplained finding in interaction {i}: {f}")
            expected.append({"interaction": i, "rule": f.rule, "pointer": f.pointer, "note": note})
    doc = {"interactions": interactions, "version": 1,
           "aec": {"source": "the Swedish tutorial 'Exportera profildata med API:er'", "expected": expected}}
    out = Path("cassettes/docs/tutorial.yaml")
    out.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    print(f"{out}: {len(interactions)} interactions, {len(expected)} expected findings")


if __name__ == "__main__":
    main()
