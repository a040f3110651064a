"""Cassettes: record exchanges with scrubbing, replay them offline, scan for secrets.

A cassette is a vcrpy YAML file. ``record`` runs the check's lifecycle and negative workflows
through vcrpy and scrubs every request and response before anything touches disk. ``replay``
re-validates every recorded exchange with the exchange validator and, for cassettes that ``record``
wrote, re-runs the same workflows with vcrpy in playback: nothing reaches the network, and a request
the cassette does not hold is an error. ``scan`` finds what looks like a secret in files.
"""

from __future__ import annotations

from .har import from_har, to_har
from .load import CassetteError, load_exchanges
from .record import record
from .replay import replay
from .scan import Suspect, scan
from .scrub import Scrubber

__all__ = ["CassetteError", "Scrubber", "Suspect", "from_har", "load_exchanges", "record", "replay", "scan", "to_har"]
