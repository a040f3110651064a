"""``scan``: what looks like a secret in recordings, reports and payload files.

Two detectors read every line. detect-secrets, the scanner the ecosystem runs on code, brings its
plugins (AWS keys, private keys, basic-auth URLs, JWTs, keyword assignments, vendor tokens); its
high-entropy plugins are left out, because ids in Export Jobs traffic are random by design, and so
is its public-IP plugin, because an address in traffic is no credential. Its verification filter,
which would call the vendors' APIs, is never switched on: a scan makes no network call.

The project's own checks cover what traffic holds and code rarely does: an ``Authorization``
bearer token in any letter case, the API key header, credentials in a URL's query string, AWS
secret keys written without quotes (YAML), and e-mail addresses (personal data). The
placeholders a recording is scrubbed to are spared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from ..spec.api import HEADERS

__all__ = ["EMAIL", "Hit", "scan"]

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

# a value the scrubber wrote, or a masked one, is no secret
_SPARED = r"(?!\{[A-Z_]+\}|\*\*\*|\[redacted)"

OWN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bearer token", re.compile(r"(?i)\b" + HEADERS.bearer_prefix.strip() + r"\s+" + _SPARED + r"[A-Za-z0-9._~+/=-]{6,}")),
    ("API key", re.compile(r"(?i)(?:" + re.escape(HEADERS.api_key)
                           + r"|api[_-]?key|client[_-]?secret)[\"']?\s*[:=]\s*(?:-\s*)?[\"']?"
                           + _SPARED + r"[A-Za-z0-9._-]{6,}")),
    ("credential in a URL", re.compile(
        r"(?i)[?&](?:access_token|refresh_token|id_token|token|api_key|apikey|client_secret|password|sig|signature)="
        + _SPARED + r"[^&\s\"'#]{6,}")),
    ("AWS secret access key", re.compile(
        r"(?i)aws.{0,20}?(?:secret|key).{0,20}?[:=]\s*[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])")),
    ("e-mail address", EMAIL),
)

# detect-secrets plugins left out, and why (see the module's docstring)
_LEFT_OUT = frozenset({"Base64HighEntropyString", "HexHighEntropyString", "IPPublicDetector"})


class Hit(NamedTuple):
    """One line that looks like it holds a secret; ``kind`` names every detector that spoke, comma-separated."""

    path: str
    line: int
    kind: str


def files_under(paths: Iterable[str | Path], suffixes: tuple[str, ...] | None = None) -> list[Path]:
    """The files named, and those below the folders named (with one of ``suffixes``, if given), in order;
    raises ``FileNotFoundError`` for a path that is neither."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(x for x in p.rglob("*") if (suffixes is None or x.suffix in suffixes) and x.is_file()))
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
    return files


def _settings() -> dict[str, Any]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    classes: list[type] = list(get_mapping_from_secret_type_to_class().values())
    plugins = sorted(c.__name__ for c in classes)
    return {
        "plugins_used": [{"name": name} for name in plugins if name not in _LEFT_OUT],
        # detect-secrets' heuristics for false positives; no verification filter, so no network
        "filters_used": [{"path": f"detect_secrets.filters.heuristic.{name}"} for name in (
            "is_sequential_string", "is_potential_uuid", "is_likely_id_string", "is_templated_secret",
            "is_prefixed_with_dollar_sign", "is_indirect_reference", "is_lock_file",
            "is_not_alphanumeric_string", "is_non_text_file")],
    }


def _detect_secrets(files: list[Path]) -> Iterator[Hit]:
    from detect_secrets.core.scan import scan_line
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import transient_settings

    with transient_settings(_settings()):
        found = SecretsCollection()
        for f in files:
            try:
                found.scan_file(str(f))
            except RecursionError:  # its YAML or JSON reading of a deeply nested file: read its lines as text
                try:
                    lines = f.read_text(encoding="utf-8").splitlines()
                except (UnicodeDecodeError, OSError):
                    continue
                for n, line in enumerate(lines, 1):
                    for secret in scan_line(line):
                        yield Hit(str(f), n, secret.type)
        for filename, secret in found:
            yield Hit(filename, int(secret.line_number), secret.type)


def _own(files: list[Path]) -> Iterator[Hit]:
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        lines = text.splitlines()
        for n, line in enumerate(lines, 1):
            for kind, pattern in OWN_PATTERNS:
                if pattern.search(line):
                    yield Hit(str(f), n, kind)
        if f.suffix == ".har":
            yield from _har_headers(f, text, lines)


_NOT_A_PLACEHOLDER = re.compile(_SPARED)  # matches (empty) where no placeholder starts


def _har_headers(path: Path, text: str, lines: list[str]) -> Iterator[Hit]:
    """A HAR holds headers as {"name": ..., "value": ...}, often on lines of their own: a credential
    header's value is found by the name beside it, wherever the value's line is."""
    import bisect
    import json

    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than a HAR file is
        return
    entries = data.get("log", {}).get("entries", []) if isinstance(data, dict) else []
    secret_names = {name.lower() for name in HEADERS.secret}
    starts = [0, *(i + 1 for i, c in enumerate(text) if c == "\n")] if "\n" in text else [0]
    for entry in entries if isinstance(entries, list) else []:
        for part in ("request", "response"):
            section = entry.get(part) if isinstance(entry, dict) else None
            headers = section.get("headers", []) if isinstance(section, dict) else []
            for h in headers if isinstance(headers, list) else []:
                if not isinstance(h, dict) or not isinstance(h.get("value"), str) \
                        or str(h.get("name", "")).lower() not in secret_names:
                    continue
                value = h["value"].removeprefix(HEADERS.bearer_prefix)
                if len(value) < 6 or _NOT_A_PLACEHOLDER.match(value) is None:
                    continue
                at = text.find(json.dumps(value)[1:-1])
                line = bisect.bisect_right(starts, at) if at >= 0 else 0
                yield Hit(str(path), line, f"{h['name']} header in a HAR file")


def scan(paths: Iterable[str | Path]) -> list[Hit]:
    """Every line of the files (folders are walked) that looks like it holds a secret, by file and line."""
    files = files_under(paths)
    order = {str(f): i for i, f in enumerate(files)}
    kinds: dict[tuple[str, int], set[str]] = {}
    for hit in (*_own(files), *_detect_secrets(files)):
        kinds.setdefault((hit.path, hit.line), set()).add(hit.kind)
    lines = sorted(kinds, key=lambda at: (order.get(at[0], len(order)), at))
    return [Hit(path, line, ", ".join(sorted(kinds[path, line]))) for path, line in lines]
