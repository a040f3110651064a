"""What the package is: its name and version (the lowest layer: every other may read it)."""

__version__ = "0.1.0"
NAME = "aep-export-contracts"
#: the optional dependencies, by the module that needs them, and the extra that installs each
EXTRAS = {"vcr": "cassettes", "schemathesis": "live", "distributed": "scale", "fsspec": "scale"}


def not_installed(module: str, what: str, otherwise: str = "") -> str:
    """One line for ``what`` needing an optional ``module`` that is not installed, with the pip command."""
    instead = f" ({otherwise})" if otherwise else ""
    return f"{what} needs {module}, which is not installed: pip install '{NAME}[{EXTRAS[module]}]'{instead}"
