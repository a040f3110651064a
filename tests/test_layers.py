"""The layers are visible in the folder names, and each module imports only from the layers below.

spec facts → findings → HTTP exchange model → rules → validation engine → options → target and
reproduction helpers → the session → generation and server → check → cassettes → proxy → reporting →
CLI and pytest plugin. Lazy imports inside functions count
too: a layer that reaches up, even late, is a cycle waiting to happen.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import aep_export_contracts

PACKAGE = Path(aep_export_contracts.__file__).parent
RANKS = {
    "about": -1, "spec": 0, "findings": 1, "http": 2, "rules": 3, "engine": 4, "options": 5,
    "target": 5.2, "reproduce": 5.3, "session": 5.5,
    "generation": 6, "server": 6, "check": 7, "cassettes": 8, "proxy": 8.5, "scale": 8.7, "reporting": 9,
    "cli": 10, "pytest_plugin": 10, "__init__": 11, "__main__": 11,
}


def _layer(module: str) -> str:
    """The layer of a dotted module name inside the package ('' for the package itself)."""
    return module.split(".")[0] if module else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module inside the package) for every import of a module, lazy ones included."""
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts)
    package = parts[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = [*base, *(node.module.split(".") if node.module else [])]
                if node.module is None:  # from . import a, b: a name is a module of the package, or one of its names
                    out.extend((node.lineno, ".".join([*target, a.name]) if _is_module([*target, a.name])
                                else ".".join(target)) for a in node.names)
                    continue
                out.append((node.lineno, ".".join(target)))
            elif node.module and node.module.startswith("aep_export_contracts"):
                out.append((node.lineno, node.module.removeprefix("aep_export_contracts").lstrip(".")))
        elif isinstance(node, ast.Import):
            out.extend((node.lineno, a.name.removeprefix("aep_export_contracts").lstrip("."))
                       for a in node.names if a.name.startswith("aep_export_contracts"))
    return out


def _is_module(parts: list[str]) -> bool:
    return PACKAGE.joinpath(*parts).with_suffix(".py").is_file() or PACKAGE.joinpath(*parts).is_dir()


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_a_module_imports_only_from_layers_below(path: Path) -> None:
    own = _layer(".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    if own == "__init__" and path.parent != PACKAGE:
        own = path.parent.relative_to(PACKAGE).parts[0]
    upward = [f"line {line}: {target or 'the package'} ({_layer(target)})" for line, target in _imports(path)
              if RANKS[_layer(target)] > RANKS[own] or (RANKS[_layer(target)] == RANKS[own] and _layer(target) != own)]
    assert upward == [], f"{own} reaches up or sideways"


def test_every_layer_is_ranked() -> None:
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in MODULES}
    assert tops <= set(RANKS), tops - set(RANKS)
