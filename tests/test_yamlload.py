"""The YAML loader gives exactly what PyYAML's safe loader gives, on any document."""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from aep_export_contracts.engine import yamlload
from aep_export_contracts.engine.yamlload import AliasBomb, compose_yaml, load_yaml, load_yaml_reference

ROOT = Path(__file__).resolve().parents[1]

#: plain scalars YAML 1.1 types (or not) in ways that are easy to get wrong
TRICKY = ["yes", "No", "on", "OFF", "~", "null", "017", "0o17", "0x1F", "1_000", "1e3", "1.5", ".inf", "-.inf",
          "12:30", "190:20:30", "2019-09-01", "2019-09-01T00:00:00Z", "2001-12-14 21:59:43.10 -5", "=", "true",
          "", "-", "'quoted'", '"dq \\u00e9 \\/"', "a: b", "- x", "!!binary aGVsbG8=", "!!str 12", "!!int '7'",
          "!!float 1", "!!set {a, b}", "!!omap [a: 1, b: 2]", "[a, {b: c}]", "{a: [1, 2]}", "|\n  block\n",
          ">\n  folded\n  text\n"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
                    st.floats(allow_nan=False), st.binary(max_size=8), st.dates(),
                    st.datetimes(timezones=st.just(datetime.UTC)))
keys = st.one_of(st.text(max_size=10), st.integers(), st.booleans())
data = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(keys, inner, max_size=4)), max_leaves=20)


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types, walked without recursion (documents nest deep and may be cyclic)."""
    stack, seen = [(a, b)], set()
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, dict | list):
            if (id(x), id(y)) in seen:
                continue
            seen.add((id(x), id(y)))
            if isinstance(x, dict):
                if list(x) != list(y):
                    return False
                stack.extend((x[k], y[k]) for k in x)
            else:
                if len(x) != len(y):
                    return False
                stack.extend(zip(x, y, strict=True))
        elif isinstance(x, float) and math.isnan(x):
            if not math.isnan(y):
                return False
        elif x != y:
            return False
    return True


def outcome(load: Any, text: str) -> tuple[str, Any]:
    try:
        return "ok", load(text)
    except yaml.YAMLError as exc:
        return "error", type(exc).__name__


def check(text: str) -> None:
    fast, reference = outcome(load_yaml, text), outcome(load_yaml_reference, text)
    assert fast[0] == reference[0], (text, fast, reference)
    assert same(fast[1], reference[1]) if fast[0] == "ok" else fast[1] == reference[1], (text, fast, reference)


@given(data, st.sampled_from([None, True, False]))
def test_dumped_documents_load_as_pyyaml_loads_them(value: Any, flow: bool | None) -> None:
    check(yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True))


@given(st.lists(st.tuples(st.sampled_from(TRICKY), st.sampled_from(TRICKY)), min_size=1, max_size=6),
       st.sampled_from(["block", "flow", "seq", "nested"]))
def test_hand_written_documents_load_as_pyyaml_loads_them(pairs: list[tuple[str, str]], style: str) -> None:
    if style == "block":
        text = "".join(f"{k}: {v}\n" for k, v in pairs)
    elif style == "flow":
        text = "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    elif style == "seq":
        text = "".join(f"- {v}\n" for _, v in pairs)
    else:
        text = "top:\n" + "".join(f"  - {k}: {v}\n" for k, v in pairs)
    check(text)


@pytest.mark.parametrize("text", [
    "a: &x {b: 1}\nc: *x\n", "<<: {a: 1}\nb: 2\n", "base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n",
    "? [a, b]\n: c\n", "? &m {a: 1}\n: 2\n", "a: 1\na: 2\n", "- &k x\n- {*k : 1}\n", "", "# nothing\n",
    "a: !!python/object:os.system x\n", "a: !custom 1\n", "--- 1\n--- 2\n", "a: [1, 2\n", "[" * 600 + "]" * 600,
    "a:\n  - b\n  -\n    - c\n", "\ufeffa: 1\n", "=: yes\n", "a: =\n",
    "{=: 1, <<: {b: 2}}", "a: \"\\x41\\u00e9\\U0001F600\\N\\_\"\n", "a: 'it''s'\n",
])
def test_edge_documents_load_as_pyyaml_loads_them(text: str) -> None:
    check(text)


def test_aliases_stay_one_object() -> None:
    loaded = load_yaml("a: &x [1]\nb: *x\n")
    assert loaded["a"] is loaded["b"]
    # a value that contains itself has no JSON form: refused rather than built (a walk over it never ends)
    with pytest.raises(AliasBomb, match="refers to itself"):
        load_yaml("&a [*a]")
    assert load_yaml_reference("&a [*a]")[0] is not None  # PyYAML alone would build it


def test_an_alias_bomb_is_refused_at_once() -> None:
    """A few hundred bytes of nested aliases that would expand to billions of values: refused, quickly."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = "\n".join(lines) + "\n"
    assert len(bomb) < 400
    with pytest.raises(AliasBomb, match="more than 100,000 values beyond what it writes out"):
        load_yaml(bomb)
    # a modest use of aliases stays as it was, and a large document without aliases is no bomb
    assert load_yaml("a: &a [1, 2]\nb: [*a, *a, *a]\n") == {"a": [1, 2], "b": [[1, 2]] * 3}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(yamlload, "MAX_EXPANDED", 1000)
        assert len(load_yaml("[" + ",".join(["1"] * 1010) + "]")) == 1010
        with pytest.raises(AliasBomb, match="more than 1,000 values"):
            load_yaml("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [" + ", ".join(["*a"] * 100) + "]\n")
        # through PyYAML's own constructor too (a merge key sends the document there)
        with pytest.raises(AliasBomb, match="more than 1,000 values"):
            load_yaml("<<: {z: 1}\na: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [" + ", ".join(["*a"] * 100) + "]\n")


def _bomb(levels: int, newline: str = "\n") -> str:
    """Nine-fold aliases ``levels`` deep; each anchor stands right after a line break (in a flow mapping)."""
    parts = [f'"a":{newline}&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefghi"[:levels - 1], "bcdefghij"[:levels - 1], strict=True):
        parts.append(f'"{name}":{newline}&{name} [' + ",".join([f"*{prev}"] * 9) + "]")
    return "{" + f",{newline}".join(parts) + "}" + newline


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_an_alias_bomb_is_refused_in_any_encoding(encoding: str) -> None:
    """The guard counts the document as parsed: the same bomb in UTF-16 (PyYAML reads it by its BOM) is refused."""
    text = _bomb(9)
    data = ("\ufeff" + text).encode(encoding) if encoding.startswith("utf-16-") else text.encode(encoding)
    assert compose_yaml(data) is not None  # PyYAML reads the encoding (composing expands no alias)
    with pytest.raises(AliasBomb):
        load_yaml(data)


@pytest.mark.parametrize("newline", ["\u2028", "\x85", "\u2029", "\r"])
def test_an_alias_bomb_is_refused_after_any_yaml_line_break(newline: str) -> None:
    text = _bomb(9, newline)
    with pytest.raises(AliasBomb):
        load_yaml(text)
    with pytest.raises(AliasBomb):
        load_yaml(text.encode("utf-8"))


def test_a_small_bomb_within_a_million_values_is_refused_too() -> None:
    """Six levels (9**6 = 531,441 values from 237 bytes) cost hundreds of MiB once walked: refused."""
    bomb = _bomb(6)
    assert len(bomb) < 320
    with pytest.raises(AliasBomb):
        load_yaml(bomb)
    assert len(load_yaml(_bomb(5))["e"]) == 9  # 9**5 values: within the bound, loaded


def test_bundled_yaml_files_load_as_pyyaml_loads_them() -> None:
    files = sorted(ROOT.glob("cassettes/**/*.yaml")) + sorted(ROOT.glob("openapi/*.yaml"))
    assert files
    for path in files:
        check(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("layout", ["block", "flow", "tight"])
def test_an_alias_bomb_is_refused_in_every_layout(layout: str) -> None:
    level = "[" + ",".join(["lol"] * 9) + "]"
    if layout == "block":
        text = f"a: &a {level}\n" + "".join(f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
                                              for p, n in zip("abcdefgh", "bcdefghi", strict=True))
    else:
        sep = ":" if layout == "tight" else ": "
        parts = [f'"a"{sep}&a {level}'] + [f'"{n}"{sep}&{n} [{",".join([f"*{p}"] * 9)}]'
                                            for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
        text = "{" + ", ".join(parts) + "}"
    with pytest.raises(AliasBomb):
        load_yaml(text)


def test_an_ampersand_in_a_url_is_no_anchor() -> None:
    text = "uri: https://h/x?limit=2&offset=1_2\nbody: 'a & b'\n"
    assert load_yaml(text) == load_yaml_reference(text)


@pytest.mark.parametrize(("written", "valid"), [("2018-10-25 13:22:04-07:00", False), ("2018-10-25T13:22:04-07:00", True),
                                                ("2018-10-25", False)])
def test_an_unquoted_timestamp_in_a_yaml_payload_is_judged_as_the_text_it_is(written: str, valid: bool,
                                                                              tmp_path: Path) -> None:
    """YAML reads an unquoted timestamp as a date; JSON has none, so a payload keeps the text, and the
    contract is still detected: a finding (exit 1), not a file that could not be read (exit 2)."""
    from aep_export_contracts.engine.payload import validate_file

    text = (f"destination: {{datasetId: 5b020a27e7040801dedba61b}}\nschema: {{name: _xdm.context.profile}}\n"
            f"filter: {{fromIngestTimestamp: {written}}}\n")
    report = validate_file(text.encode(), "job.yaml")
    assert report.contract == "export-job-request" and report.valid is valid, report.findings
    assert valid or [(f.rule, f.pointer) for f in report.errors] == [("AEC101", "/filter/fromIngestTimestamp")]
    assert load_yaml(text)["filter"]["fromIngestTimestamp"] != written  # a cassette is read as PyYAML reads it
