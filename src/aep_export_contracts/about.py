"""What the package is: its name and version (the lowest layer: every other may read it)."""

from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

__version__ = "0.1.0"
NAME = "aep-export-contracts"
#: the optional dependencies, by the module that needs them, and the extra that installs each
EXTRAS = {"vcr": "cassettes", "schemathesis": "live", "distributed": "scale", "fsspec": "scale"}


def not_installed(module: str, what: str, otherwise: str = "") -> str:
    """One line for ``what`` needing an optional ``module`` that is not installed, with the pip command."""
    instead = f" ({otherwise})" if otherwise else ""
    return f"{what} needs {module}, which is not installed: pip install '{NAME}[{EXTRAS[module]}]'{instead}"


def compiled_modules(root: Path | None = None) -> list[str]:
    """The package's modules that run compiled to C (mypyc), by dotted name: those a standard wheel builds
    (none in an editable install, or in a wheel built with AEC_PURE_PYTHON=1). ``root``: another package's folder."""
    root = root or Path(__file__).parent
    suffixes = sorted(EXTENSION_SUFFIXES, key=len, reverse=True)  # the longest first: ".cpython-311-….so" before ".so"
    found = []
    for path in root.rglob("*.*"):
        suffix = next((s for s in suffixes if path.name.endswith(s)), None)
        if suffix is not None and path.is_file():
            parts = path.relative_to(root.parent).with_name(path.name[: -len(suffix)]).parts
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))  # a package: its own name
    return sorted(found)


def build() -> str:
    """The version line: the version and whether the engine runs compiled."""
    compiled = compiled_modules()
    how = f"compiled: {len(compiled)} modules" if compiled else "pure Python"
    return f"{__version__} ({how})"
