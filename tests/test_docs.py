"""The README and the docs: their Python examples run, their command lines parse, their generated
tables are current, and no page restates another's table."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from aep_export_contracts.cli import build_parser
from aep_export_contracts.reporting.catalogue import replace_in

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "ARCHITECTURE.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)


def _blocks(kind: str) -> list[tuple[str, int, str]]:
    return [(str(p.relative_to(ROOT)), i, body) for p in PAGES
            for i, (lang, body) in enumerate(BLOCK.findall(p.read_text(encoding="utf-8"))) if lang == kind]


def test_the_readme_is_short_and_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    first = BLOCK.search(text)
    assert first is not None and "aep-export-contracts check" in first[2] and "pytest" in first[2]


def test_the_rule_catalogue_is_current() -> None:
    page = ROOT / "docs" / "rules.md"
    text = page.read_text(encoding="utf-8")
    assert replace_in(text) == text, "run: aep-export-contracts rules --format markdown, and paste it into docs/rules.md"


def test_the_commands_reference_is_the_parsers() -> None:
    from aep_export_contracts.cli.reference import PAGES, reference, synopsis
    from aep_export_contracts.reporting.catalogue import replace_block

    index = (ROOT / "docs" / "commands" / "index.md").read_text(encoding="utf-8")
    stale = [] if replace_block(index, "synopsis", synopsis()) == index else ["index.md"]
    for command, page in PAGES.items():
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        if replace_block(text, f"{command}-reference", reference(command)) != text:
            stale.append(f"{page} ({command})")
    assert stale == [], f"run: python tools/command_docs.py (stale: {', '.join(stale)})"


@pytest.mark.parametrize(("page", "index", "code"), _blocks("python"), ids=lambda v: str(v)[:40])
def test_python_examples_run(page: str, index: int, code: str) -> None:
    from aep_export_contracts.rules import REGISTRY, all_rules, unregister

    all_rules()
    before = set(REGISTRY)
    try:
        exec(compile(code, f"{page} example {index}", "exec"), {})
    finally:  # an example's own rule does not stay behind for the tests that follow
        for rule_id in set(REGISTRY) - before:
            unregister(rule_id)


def _command_lines() -> list[tuple[str, str]]:
    out = []
    for page, _, body in [*_blocks("sh"), *_blocks("")]:
        text = body.replace("\\\n", " ")
        for line in text.splitlines():
            line = line.split("#")[0].strip()
            if "aep-export-contracts " not in line or "[" in line or "..." in line:
                continue  # output, or a synopsis with its brackets and ellipses
            words = shlex.split(line)
            while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):  # environment assignments
                words = words[1:]
            if words and words[0].endswith("aep-export-contracts"):
                out.append((page, shlex.join(words[1:])))
    return out


@pytest.mark.parametrize(("page", "argv"), _command_lines(), ids=lambda v: str(v)[:60])
def test_documented_command_lines_parse(page: str, argv: str) -> None:
    """A command line shown in the docs is one the CLI accepts (flags, choices, values)."""
    args = build_parser().parse_args(shlex.split(argv))
    assert callable(args.func)


#: README command lines that cannot run in a test: a remote target, or a server that runs until stopped
_LONG_RUNNING = ("--base-url https://", "proxy ", "serve ")


@pytest.mark.parametrize("argv", [a for page, a in _command_lines() if page == "README.md"
                                  and not any(x in a for x in _LONG_RUNNING)])
def test_the_readmes_commands_run_from_a_fresh_clone(argv: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Each command the README shows runs, as typed, from the root of a clone, and passes."""
    from aep_export_contracts.cli import main

    for name in ("cassettes", "tests"):  # what a clone has; what the command writes lands in tmp_path
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    code = main(shlex.split(argv))
    out, err = capsys.readouterr()
    assert code == 0, out + err


def test_code_blocks_are_highlighted() -> None:
    import markdown
    import yaml

    extensions, configs = [], {}
    for entry in yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["markdown_extensions"]:
        name, options = next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
        extensions.append(name)
        configs[name] = options or {}
    html = markdown.markdown("```python\nfrom aep_export_contracts import validate\n```", extensions=extensions,
                             extension_configs=configs)
    assert '<span class="kn">from</span>' in html, html


def test_no_page_restates_another_pages_table() -> None:
    seen: dict[str, str] = {}
    for page in PAGES:
        generated = False  # a block written from one source (the parser, the registry) may repeat rows
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.startswith("<!-- ") and line.endswith(":begin -->"):
                generated = True
            elif line.startswith("<!-- ") and line.endswith(":end -->"):
                generated = False
            elif not generated and line.startswith("| ") and line.rstrip().endswith("|") and "---" not in line:
                header = line.strip()
                if header in seen and seen[header] != page.name:
                    pytest.fail(f"{page.name} repeats a table row of {seen[header]}: {header[:80]}")
                seen.setdefault(header, page.name)
