"""What the package is: its name and version (the lowest layer: every other may read it)."""

__version__ = "0.1.0"
NAME = "aep-export-contracts"
