"""Cassettes: scrubbed recording, offline fail-closed replay, annotations, secret scan, plugin."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import pytest_socket
import yaml

from aep_export_contracts.cassettes import load_exchanges, record, replay, scan
from aep_export_contracts.cli import main
from aep_export_contracts.server import running_server
from conftest import overlaid

ROOT = Path(__file__).parents[1]
CASSETTES = ROOT / "cassettes"
TOKEN, KEY, ORG, SANDBOX = "tok-5ECRET-a1b2c3d4", "key-5ECRET-e5f6", "SECRETORG123@AdobeOrg", "secret-sandbox"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "lifecycle.yaml"
    with running_server(token=TOKEN, api_key=KEY, job_seconds=0.1) as server:
        count = record(path, base_url=server.url, token=TOKEN, api_key=KEY, org=ORG, sandbox=SANDBOX)
    assert count > 20
    return path


def test_recording_contains_no_secret(recorded: Path) -> None:
    text = recorded.read_text()
    for secret in (TOKEN, KEY, ORG, SANDBOX, "example.invalid"):
        assert secret not in text
    assert "Bearer {ACCESS_TOKEN}" in text and "{IMS_ORG}" in text and "[redacted-email]" in text
    assert scan([recorded]) == []


def test_replay_of_a_recording_is_clean(recorded: Path) -> None:
    report = replay([recorded])
    assert report.ok, report.to_json()
    assert any(r.layer == "playback" for r in report.results)
    assert report.exchanges > 20


def test_record_writes_a_har_that_har_validators_accept(tmp_path: Path) -> None:
    """vcrpy writes cassettes only: a .har target is recorded as a cassette and written as HAR, nothing else left."""
    from consumers import har_schema_valid

    path = tmp_path / "lifecycle.har"
    with running_server(token=TOKEN, api_key=KEY, job_seconds=0.1) as server:
        count = record(path, base_url=server.url, token=TOKEN, api_key=KEY, org=ORG, sandbox=SANDBOX)
    assert [p.name for p in tmp_path.iterdir()] == ["lifecycle.har"]
    har = json.loads(path.read_text())
    assert har_schema_valid(har) and len(har["log"]["entries"]) == count > 20
    assert all(secret not in path.read_text() for secret in (TOKEN, KEY, ORG, SANDBOX)) and scan([path]) == []
    report = replay([path])
    assert report.ok and report.exchanges == count, report.to_json()


def test_bundled_cassettes_replay_clean() -> None:
    report = replay([CASSETTES])
    assert report.ok and not report.errors, report.to_json()


def test_replay_is_offline_and_intercepted(recorded: Path) -> None:
    pytest_socket.disable_socket(allow_unix_socket=False)
    try:
        report = replay([recorded])
    finally:
        pytest_socket.enable_socket()
    assert report.ok, report.to_json()
    playback = [r for r in report.results if r.layer == "playback"]
    assert playback and "checks" in playback[0].name


def _edited(path: Path, tmp_path: Path, edit: Any) -> Path:
    data = yaml.safe_load(path.read_text())
    edit(data)
    out = tmp_path / path.name
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def test_a_missing_interaction_fails_closed(recorded: Path, tmp_path: Path) -> None:
    def drop_a_poll(data: dict) -> None:
        # a request the workflow sends exactly once, whatever the timing: a dropped poll could be stood in for by
        # the next recorded answer of the same job (how many polls a recording holds depends on the machine)
        cancels = [i for i, x in enumerate(data["interactions"]) if x["request"]["method"] == "DELETE"]
        del data["interactions"][cancels[0]]

    pytest_socket.disable_socket(allow_unix_socket=False)
    try:
        report = replay([_edited(recorded, tmp_path, drop_a_poll)])
    finally:
        pytest_socket.enable_socket()
    assert not report.ok
    assert ("AEC000", "") in {(f.rule, f.pointer) for _, f in report.failing()}


def test_a_broken_recorded_answer_fails(recorded: Path, tmp_path: Path) -> None:
    def break_status(data: dict) -> None:
        for x in data["interactions"]:
            body = x["response"]["body"]["string"]
            if x["request"]["method"] == "GET" and body.startswith("{") and '"status": "SUCCEEDED"' in body:
                x["response"]["body"]["string"] = body.replace('"status": "SUCCEEDED"', '"status": "DONE"')
                return

    report = replay([_edited(recorded, tmp_path, break_status)], playback=False)
    assert ("AEC003", "/response/body/status") in {(f.rule, f.pointer) for _, f in report.failing()}


def test_a_contract_change_that_breaks_recorded_traffic_is_named(recorded: Path, tmp_path: Path) -> None:
    """A contract changed in the process (an overlay: the way a user changes it) judges the recorded answers anew."""
    from aep_export_contracts.spec.contracts import component_name

    assert ("AEC001", "/response/body/exportFormat") not in {(f.rule, f.pointer)
                                                             for _, f in replay([recorded], playback=False).failing()}
    with overlaid(tmp_path, f"$.components.schemas.{component_name('export-job')}.required", ["exportFormat"],
                  "exportFormat required"):
        report = replay([recorded], playback=False)
    pairs = {(f.rule, f.pointer) for _, f in report.failing()}
    assert ("AEC001", "/response/body/exportFormat") in pairs


def test_docs_cassette_reports_exactly_its_annotations(tmp_path: Path) -> None:
    docs = CASSETTES / "docs" / "tutorial.yaml"
    assert replay([docs]).ok
    data = yaml.safe_load(docs.read_text())
    notes = {e["note"] for e in data["aec"]["expected"]}
    assert sum(n.startswith("fault ") for n in notes) >= 6

    removed = _edited(docs, tmp_path, lambda d: d["aec"]["expected"].pop(0))
    report = replay([removed])
    assert not report.ok and report.failing()[0][1].rule == data["aec"]["expected"][0]["rule"]

    def bogus(d: dict) -> None:
        d["aec"]["expected"].append({"interaction": 0, "rule": "AEC301", "pointer": "/response/body", "note": "x"})

    stale = _edited(docs, tmp_path, bogus)
    assert ("AEC000", "/response/body") in {(f.rule, f.pointer) for _, f in replay([stale]).failing()}


def test_scan_finds_secrets_and_spares_placeholders(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("\n".join([
        "ok: Bearer {ACCESS_TOKEN}",
        "authorization: Bearer abcDEF123456789",
        "token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop",
        "x-api-key: 9f8e7d6c5b4a39281",
        "contact: jane.doe@example.com",
        "org: 5B020A27E7040801DEDBA61B@AdobeOrg",
        "x-api-key: '{API_KEY}'",
        "uri: https://platform.adobe.io/data/core/ea/export/jobs?limit=2&access_token={ACCESS_TOKEN}",
    ]))
    hits = scan([tmp_path])
    assert [(line, kind) for _, line, kind in hits] == [(2, "bearer token"), (3, "JSON Web Token"), (4, "API key"),
                                                        (5, "e-mail address")]
    assert all(path.endswith("bad.yaml") for path, _, _ in hits)


# what the ecosystem's secret scanner finds, and what the project's own checks add for traffic
LEAKS = {
    "aws_access_key_id: AKIAIOSFODNN7EXAMPLE": "AWS Access Key",
    "aws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY": "AWS secret access key",
    '"aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"': "AWS secret access key",
    "Authorization: bearer abcDEF123456789xyz": "bearer token",
    "uri: https://platform.adobe.io/data/core/ea/export/jobs?access_token=abcDEF1234567890&limit=2": "credential in a URL",
    "uri: https://example.com/a?limit=1&token=abcDEF1234567890": "credential in a URL",
    "password: hunter2hunter2": "Secret Keyword",
    "-----BEGIN RSA PRIVATE KEY-----": "Private Key",
    "uri: https://user:pass1234@platform.example/x": "Basic Auth Credentials",
    "key: ghp_abcdefghijklmnopqrstuvwxyz0123456789": "GitHub Token",
    "key: xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx": "Slack Token",
}


@pytest.mark.parametrize("line", sorted(LEAKS))
def test_scan_finds_each_kind_of_secret(line: str, tmp_path: Path) -> None:
    (tmp_path / "leak.yaml").write_text(f"safe: value\n{line}\n")
    hits = scan([tmp_path])
    assert [h.line for h in hits] == [2], hits
    assert LEAKS[line] in hits[0].kind.split(", "), hits


# what a scan used to miss: a secret without its name, a value on the line after its name (vcrpy's YAML),
# a secret inside a recorded body string (escaped quotes), base64 of a credential, other URL parameters
_B64 = __import__("base64").b64encode
MISSED = {
    "adobe secret": ("note: p8e-Xy3kQ9vB2nR7tL5mW1zC8dF4gH6jK0aS\n", "Adobe client secret"),
    "basic in yaml": ("    headers:\n      Authorization:\n      - Basic dXNlcjpwYXNzd29yZDEyMw==\n", "basic credentials"),
    "api key in yaml": ("    headers:\n      x-api-key:\n      - 0123456789abcdef0123456789abcdef\n", "API key"),
    "escaped client secret": ('{"body": "{\\"client_secret\\": \\"p8e-Xy3kQ9vB2nR7tL5mW1zC8dF4gH6jK0aS\\"}"}\n',
                              "API key"),
    "escaped aws secret": ('{"body": "{\\"aws_secret_access_key\\": \\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\\"}"}\n',
                           "AWS secret access key"),
    "base64 body field": ('{"payload": "' + _B64(b'{"client_secret": "p8e-Xy3kQ9vB2nR7tL5mW1zC8dF4gH6jK0aS"}').decode()
                          + '"}\n', "API key (base64)"),
    "base64 bearer": ('{"auth": "' + _B64(b"Bearer abcDEF1234567890xyz").decode() + '"}\n', "bearer token (base64)"),
    "oauth code": ("uri: https://example.com/callback?code=AbCdEf1234567890&state=x\n", "credential in a URL"),
    "authorization query": ("uri: https://example.com/x?authorization=Bearer%20abcDEF1234567890\n", "credential in a URL"),
    "escaped space": ('{"h": "Bearer\\u0020abcDEF1234567890xyz"}\n', "bearer token"),
}


@pytest.mark.parametrize("case", sorted(MISSED))
def test_scan_finds_what_it_used_to_miss(case: str, tmp_path: Path) -> None:
    text, kind = MISSED[case]
    path = tmp_path / "leak.yaml"
    path.write_text("safe: value\n" + text, encoding="utf-8")
    hits = scan([path])
    assert hits and all(h.line > 1 for h in hits), hits
    assert any(kind in h.kind.split(", ") for h in hits), hits


def test_scan_finds_secrets_in_a_single_line_har_of_many_entries(tmp_path: Path) -> None:
    """A HAR on one line (as tools export it): detect-secrets reads it in pieces, the project's patterns whole."""
    entries = [{"request": {"method": "GET", "url": f"https://h/x?limit={i}", "headers": []},
                "response": {"status": 200, "content": {"text": "{}"}}} for i in range(2000)]
    entries[1500]["request"]["headers"] = [{"name": "x-note", "value": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}]
    entries[1700]["response"]["content"]["text"] = '{"token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijklmnop"}'
    entries[1900]["request"]["url"] = "https://h/x?softlayer_api_key=" + "a1" * 32  # a plugin read in the pieces that name a key
    path = tmp_path / "one-line.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}), encoding="utf-8")
    assert len(path.read_text().splitlines()) == 1
    kinds = {k for h in scan([path]) for k in h.kind.split(", ")}
    assert {"GitHub Token", "JSON Web Token", "SoftLayer Credentials"} <= kinds, kinds


def test_scan_spares_ids_and_placeholders(tmp_path: Path) -> None:
    """Ids are random by design: a scanner that flags entropy would fail every recording."""
    (tmp_path / "ids.yaml").write_text("\n".join([
        "dataSetFileId: 6b6777bd08057a776b7b320cf9614c38-0",
        "dataSetId: 8d25b954b15864e408a3d4a6",
        "segmentId: 4edc8488-2c35-4f6d-b4c6-9075c68d2df4",
        "x-request-id: 0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "authorization: Bearer {ACCESS_TOKEN}",
        "uri: https://platform.adobe.io/data/core/ea/export/jobs?access_token=***",
        "server: 52.12.34.56",
    ]))
    assert scan([tmp_path]) == []


def test_scan_makes_no_network_call(tmp_path: Path) -> None:
    """An AWS key pair is what detect-secrets would verify against AWS if its verification were on."""
    (tmp_path / "credentials").write_text("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                                          "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
    pytest_socket.disable_socket(allow_unix_socket=False)
    try:
        hits = scan([tmp_path])
    finally:
        pytest_socket.enable_socket()
    assert [h.line for h in hits] == [2, 3]


def test_scan_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(CASSETTES)]) == 0
    (tmp_path / "leak.json").write_text('{"Authorization": "Bearer live-token-123456"}')
    assert main(["scan", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "leak.json:1: looks like a secret (bearer token)" in out
    assert main(["scan", str(tmp_path / "nope")]) == 2


def test_replay_cli_and_reports(recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report_path = tmp_path / "replay.json"
    assert main(["replay", str(CASSETTES), "--report", f"json:{report_path}", "--report", f"junit:{tmp_path / 'r.xml'}"]) == 0
    data = json.loads(report_path.read_text())
    assert data["ok"] is True and data["exchanges"] >= 80
    broken = tmp_path / "broken.yaml"
    broken.write_text("interactions: 3\n")
    assert main(["replay", str(broken)]) == 2
    assert main(["replay", str(tmp_path / "missing.yaml")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_replay_with_jobs_keeps_the_order(recorded: Path, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(3):
        shutil.copy(recorded, folder / f"c{i}.yaml")
    shutil.copy(CASSETTES / "docs" / "tutorial.yaml", folder / "d.yaml")
    one = replay([folder], playback=False)
    two = replay([folder], playback=False, workers=2)
    assert [r.name for r in one.results] == [r.name for r in two.results]
    assert one.to_dict()["violations"] == two.to_dict()["violations"]


def test_record_refuses_unsafe_targets(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest_socket.disable_socket()
    try:
        code = main(["record", "--base-url", "https://staging.example.invalid", "--out", str(tmp_path / "x.yaml"),
                     "--token", "t", "--api-key", "k", "--org", "o", "--sandbox", "s"])
    finally:
        pytest_socket.enable_socket()
    assert code == 2 and "--allow-writes" in capsys.readouterr().err


def test_pytest_plugin_parametrizes_over_cassettes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_recorded(aec_exchange, aec_findings):
            assert aec_findings == []  # the tutorial's known faults are annotated in its cassette
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", f"--aep-cassettes={CASSETTES}")
    # every exchange replay reads, Data Access ones too
    total = replay([CASSETTES], playback=False).exchanges
    assert total == len(list(load_exchanges([CASSETTES], contract_only=False))) > len(list(load_exchanges([CASSETTES])))
    result.assert_outcomes(passed=total)


@pytest.mark.parametrize(("interaction", "says"), [
    ({"request": {"method": "GET", "uri": "https://platform.adobe.io/data/core/ups/export/jobs"},
      "response": {"status": {"code": "abc"}}}, "the response status 'abc' is not a status code"),
    ({"response": {"status": {"code": 200}}}, "the interaction has no request"),
    ("not a mapping", "an interaction is not a mapping"),
])
def test_a_broken_interaction_is_an_error_line_naming_the_file_once(
        tmp_path: Path, interaction: object, says: str, capsys: pytest.CaptureFixture[str]) -> None:
    cassette = tmp_path / "broken.json"
    cassette.write_text(json.dumps({"interactions": [interaction]}), encoding="utf-8")
    assert main(["replay", "--no-playback", str(cassette)]) == 2
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "error:" in line)
    assert says in line and line.count("broken.json") == 1
    assert "no contract violation" not in out and "Traceback" not in out


def test_an_unreadable_cassette_is_named_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, text in (("bad.json", "{"), ("bad.yaml", "a: [1,\n"), ("empty.json", "{}")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert main(["replay", "--no-playback", str(tmp_path / name)]) == 2
        errors = [line for line in capsys.readouterr().out.splitlines() if "error:" in line]
        assert len(errors) == 1 and errors[0].count(name) == 1, errors
        # coverage measures nothing of it: an error of the run too, not a pass
        assert main(["coverage", str(tmp_path / name)]) == 2
        errors = [line for line in capsys.readouterr().out.splitlines() if "error:" in line]
        assert len(errors) == 1 and errors[0].count(name) == 1, errors


@pytest.mark.parametrize(("where", "value", "says"), [
    (("request", "headers", "x-api-key"), [], "its request headers is not in the form vcrpy writes"),
    (("response", "body"), {"size": 3}, "its response body is not in the form vcrpy writes"),
    (("response", "status", "message"), None, "its response status is not in the form vcrpy writes"),
    # a reason phrase is ASCII on the wire: vcrpy encodes it so, and raised on anything else
    (("response", "status", "message"), "Créé", "its response status is not in the form vcrpy writes"),
])
def test_a_cassette_vcrpy_cannot_play_is_an_error_not_a_crash(
        recorded: Path, tmp_path: Path, where: tuple[str, ...], value: object, says: str) -> None:
    data = yaml.safe_load(recorded.read_text())
    node = data["interactions"][1]
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(data))
    report = replay([broken])
    assert [e for e in report.errors if "cannot be played back" in e] == [
        f"{broken}: cannot be played back: interaction 1: {says} (replay with --no-playback)"]
    assert replay([broken], playback=False).errors == []


def test_a_large_recording_is_scanned_by_every_detector_with_its_lines(tmp_path: Path) -> None:
    """Past 512 KiB, detect-secrets' pattern plugins read the file in pieces; the lines stay right."""
    lines = [f"  - uri: https://h/x?limit={i}" for i in range(30_000)]
    lines[20_000] = "  password: hunter2hunter2"
    lines[25_000] = "  note: AKIAIOSFODNN7EXAMPLE"
    path = tmp_path / "large.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert path.stat().st_size > 512 << 10
    assert [(h.line, h.kind) for h in scan([path])] == [(20_001, "password"), (25_001, "AWS Access Key")]
