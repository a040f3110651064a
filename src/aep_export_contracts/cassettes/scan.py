"""``scan``: what looks like a secret in recordings, reports and payload files.

Two detectors read every line. detect-secrets, the scanner the ecosystem runs on code, brings its
plugins (AWS keys, private keys, basic-auth URLs, JWTs, keyword assignments, vendor tokens); its
high-entropy plugins are left out, because ids in Export Jobs traffic are random by design, and so
is its public-IP plugin, because an address in traffic is no credential. Its verification filter,
which would call the vendors' APIs, is never switched on: a scan makes no network call.

The project's own checks cover what traffic holds and code rarely does: a bearer token in any letter
case (after a space, %20, + or an escaped \\u0020), Basic credentials, the API key header and client
secrets (also on the line after their name, as vcrpy's YAML writes headers, and inside a recorded body
string with escaped quotes), Adobe client secrets (p8e-) on their own, passwords, credentials in a
URL's query string (an OAuth code too), AWS secret keys written without quotes, e-mail addresses
(personal data), and each of these base64-encoded. They read each file's text whole, once per pattern;
the placeholders a recording is scrubbed to are spared. A large file, or one with very long lines (a
HAR on one line), is read by detect-secrets' pattern plugins in pieces cut at JSON's separators, so
that its cost grows with its size, not with the square of a line.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from ..spec.api import HEADERS

__all__ = ["EMAIL", "Suspect", "scan"]

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

# a value the scrubber wrote, or a masked one, is no secret
_SPARED = r"(?!\{[A-Z_]+\}|\*\*\*|\[redacted)"
# a quote as a file writes it: plain, or escaped inside a recorded body string (\" in JSON, HAR)
_Q = r"(?:\\*[\"'])?"
# between a name and its value: ': ', '=', and in a YAML cassette a line break and a list dash
_IS = r"\s*[:=]\s*(?:-\s+)?"
# the space after Bearer as traffic writes it: a space, %20, +, or \u0020 escaped in JSON
_SPACE = r"(?:\s+|%20|\+|\\u0020)"

OWN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bearer token", re.compile(r"(?i)\b" + HEADERS.bearer_prefix.strip() + _SPACE + _SPARED + r"[A-Za-z0-9._~+/=-]{6,}")),
    ("basic credentials", re.compile(r"(?i)\bBasic" + _SPACE + r"(?=[A-Za-z0-9+/]*[0-9+/])[A-Za-z0-9+/]{8,}={0,2}")),
    ("API key", re.compile(r"(?i)(?:" + re.escape(HEADERS.api_key) + r"|api[_-]?key|client[_-]?secret)" + _Q + _IS + _Q
                           + _SPARED + r"[A-Za-z0-9._-]{6,}")),
    ("Adobe client secret", re.compile(r"\bp8e-[A-Za-z0-9_-]{20,}")),
    ("password", re.compile(r"(?i)\b(?:password|passwd|pwd)" + _Q + _IS + _Q + _SPARED + r"[^\s\"'\\,;}]{6,}")),
    ("credential in a URL", re.compile(
        r"(?i)[?&](?:access_token|refresh_token|id_token|token|api_key|apikey|client_secret|password|sig|signature"
        r"|code|authorization)=" + _SPARED + r"[^&\s\"'#\\]{6,}")),
    ("AWS secret access key", re.compile(
        r"(?i)aws.{0,20}?(?:secret|key).{0,20}?[:=]\s*" + _Q + r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])")),
    ("e-mail address", EMAIL),
)
#: a run that may be base64 of something else: its decoded text is read by the same patterns (once)
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/_-])(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])[A-Za-z0-9+/]{16,}={0,2}"
                     r"(?![A-Za-z0-9+/=_-])")
#: a file with a line longer than this, or larger than LARGE, is read by detect-secrets' pattern plugins in
#: pieces, without its per-line machinery (its line patterns cost the square of a line, and each line of a
#: large recording about a fifth of a millisecond); the project's own patterns read every file whole
LONG_LINE = 20_000
LARGE = 512 << 10

# detect-secrets plugins left out, and why (see the module's docstring)
_LEFT_OUT = frozenset({"Base64HighEntropyString", "HexHighEntropyString", "IPPublicDetector"})


class Suspect(NamedTuple):
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


def _lines_of(text: str) -> Callable[[int], int]:
    """Where an offset of the text is: its line number (1-based)."""
    starts = [m.end() for m in re.finditer("\n", text)]
    return lambda offset: bisect.bisect_right(starts, offset) + 1


def _read(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    return data.decode("utf-8", "replace")  # a secret in a file that is not UTF-8 is still a secret


def _own(path: Path, text: str, line_of: Callable[[int], int]) -> Iterator[Suspect]:
    """The project's patterns over the whole text (a value on the line after its name is found), and over
    the decoded text of each base64 run."""
    for kind, pattern in OWN_PATTERNS:
        for m in pattern.finditer(text):
            yield Suspect(str(path), line_of(m.start()), kind)
    for m in _BASE64.finditer(text):
        run = m.group()
        try:
            decoded = base64.b64decode(run + "=" * (-len(run) % 4), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        if not decoded.isprintable():
            continue
        kinds = {kind for kind, pattern in OWN_PATTERNS if pattern.search(decoded)}
        if ":" in decoded and re.fullmatch(r"[A-Za-z0-9._@+-]{2,}:[^\s\"'{}]{6,}", decoded):  # user:password, as Basic sends it
            kinds.add("basic credentials")
        for kind in sorted(kinds):
            yield Suspect(str(path), line_of(m.start()), f"{kind} (base64)")


def _detect_secrets(files: list[tuple[Path, str]]) -> Iterator[Suspect]:
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import transient_settings

    with transient_settings(_settings()):
        found = SecretsCollection()
        for path, text in files:
            if len(text) > LARGE or max(map(len, text.splitlines()), default=0) > LONG_LINE:
                yield from _in_pieces(path, text)
                continue
            try:
                found.scan_file(str(path))
            except RecursionError:  # its YAML or JSON reading of a deeply nested file: read its lines as text
                yield from _in_pieces(path, text)
        for filename, secret in found:
            yield Suspect(filename, int(secret.line_number), secret.type)


def _in_pieces(path: Path, text: str) -> Iterator[Suspect]:
    """detect-secrets' pattern plugins over a text cut into pieces at JSON's separators, each read once: a
    line of 200 MB costs what its bytes cost (its patterns with '.+' would cost the square of the line)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    cuts = [m.end() for m in re.finditer(r"[,{\[]", text)]
    pieces = "\n".join(text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True))
    line_of = _lines_of(text)
    inserted = [cut + i for i, cut in enumerate(cuts)]  # where each added line break sits in the pieces

    def original(offset: int) -> int:
        return offset - bisect.bisect_right(inserted, offset)

    narrowed: dict[str, tuple[str, Callable[[int], int]]] = {}  # a needle: the pieces that hold it, joined
    plugins: dict[str, type] = dict(get_mapping_from_secret_type_to_class())
    for kind, plugin in sorted(plugins.items()):
        if plugin.__name__ in _LEFT_OUT or not issubclass(plugin, RegexBasedDetector):
            continue
        needle = _NEEDLES.get(plugin.__name__)
        where: str = pieces
        within: Callable[[int], int] = _same
        if needle is not None:
            if needle not in narrowed:
                narrowed[needle] = _holding(pieces, re.compile(needle))
            where, within = narrowed[needle]
        for pattern in getattr(plugin, "denylist", ()):
            for m in pattern.finditer(where):
                yield Suspect(str(path), line_of(original(within(m.start()))), kind)


#: what every match of some of detect-secrets' plugins holds (their patterns name a credential, then an
#: assignment): only the pieces that hold it are read by them, which spares most of a long recording
_NEEDLES = dict.fromkeys(("CloudantDetector", "IbmCosHmacDetector", "IbmCloudIamDetector", "SoftlayerDetector"),
                         r"(?i)key|pw|pass|token|secret|cloudant|softlayer")


def _same(offset: int) -> int:
    return offset


def _holding(text: str, needle: re.Pattern[str]) -> tuple[str, Callable[[int], int]]:
    """The lines of ``text`` that hold the needle, joined, and where an offset in them is in ``text``."""
    spans: list[tuple[int, int]] = []
    for m in needle.finditer(text):
        if spans and m.start() < spans[-1][1]:
            continue  # on a line taken already
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        spans.append((start, len(text) if end < 0 else end))
    starts, at = [], 0
    for a, b in spans:
        starts.append(at)
        at += b - a + 1

    def within(offset: int) -> int:
        i = bisect.bisect_right(starts, offset) - 1
        return spans[i][0] + offset - starts[i]

    return "\n".join(text[a:b] for a, b in spans), within


_NOT_A_PLACEHOLDER = re.compile(_SPARED)  # matches (empty) where no placeholder starts
_VALUE = re.compile(r'"value"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _har_headers(path: Path, text: str, line_of: Callable[[int], int]) -> Iterator[Suspect]:
    """A HAR holds headers as {"name": ..., "value": ...}, often on lines of their own: a credential
    header's value is found by the name beside it, wherever the value's line is."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than a HAR file is
        return
    entries = data.get("log", {}).get("entries", []) if isinstance(data, dict) else []
    secret_names = {name.lower() for name in HEADERS.secret}
    first: dict[str, int] = {}  # where each value written as '"value": "..."' first stands: one pass over the text
    for m in _VALUE.finditer(text):
        first.setdefault(m.group(1), m.start(1))
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
                at = first.get(json.dumps(h["value"])[1:-1], -1)
                yield Suspect(str(path), line_of(at) if at >= 0 else 0, f"{h['name']} header in a HAR file")


def scan(paths: Iterable[str | Path]) -> list[Suspect]:
    """Every line of the files (folders are walked) that looks like it holds a secret, by file and line."""
    files = files_under(paths)
    order = {str(f): i for i, f in enumerate(files)}
    kinds: dict[tuple[str, int], set[str]] = {}
    read: list[tuple[Path, str]] = []
    for f in files:
        text = _read(f)
        if text is None:
            continue
        read.append((f, text))
        line_of = _lines_of(text)
        for hit in _own(f, text, line_of):
            kinds.setdefault((hit.path, hit.line), set()).add(hit.kind)
        if f.suffix == ".har":
            for hit in _har_headers(f, text, line_of):
                kinds.setdefault((hit.path, hit.line), set()).add(hit.kind)
    for hit in _detect_secrets(read):
        kinds.setdefault((hit.path, hit.line), set()).add(hit.kind)
    lines = sorted(kinds, key=lambda at: (order.get(at[0], len(order)), at))
    return [Suspect(path, line, ", ".join(sorted(kinds[path, line]))) for path, line in lines]
