"""The one option model: the CLI's flags and the pytest plugin's keyword arguments come from here.

An option is a dataclass field with its help text; ``add_arguments`` turns a model into argparse
flags (``max_jobs`` becomes ``--max-jobs``, a tuple field a repeatable flag), and ``make`` builds a
model from keyword arguments with the same names, so that ``aec_check(fault=["create-201"])`` and
``check --fault create-201`` mean the same. A mistake in an option raises ``OptionError``.

Strictness is one rule everywhere (``lint``, ``replay``, ``check``, the plugin): errors fail a run and
warnings do not, unless ``strict``. Warnings name what the sources leave open (an undocumented
status, an unknown key in an answer, a spelling the tutorial uses): worth reading, not worth a red
build by default.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from .findings import Baseline, Policy
from .rules import RuleError, all_rules, load_rules

__all__ = ["OptionError", "PolicyOptions", "add_arguments", "make", "option"]

class OptionError(ValueError):
    """An option has a wrong name or value: a usage error (the CLI exits 2 with this message)."""


def option(default: Any, help: str, *, choices: Iterable[Any] | None = None, metavar: str | None = None,
           cli: bool = True, flag: str | None = None, kind: type | None = None) -> Any:
    """A field of an option model: its default, its help text and how the CLI spells and reads it."""
    if kind is None and isinstance(default, int | float | str) and not isinstance(default, bool):
        kind = type(default)
    meta = {"help": help, "choices": tuple(choices) if choices is not None else None, "metavar": metavar,
            "cli": cli, "flag": flag, "kind": kind}
    if isinstance(default, list | tuple):
        return field(default=tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


def _flag(f: Any) -> str:
    return str(f.metadata.get("flag") or "--" + f.name.replace("_", "-"))


def add_arguments(parser: argparse.ArgumentParser, model: type[Any], *, only: Iterable[str] | None = None,
                  helps: Mapping[str, str] | None = None) -> None:
    """Add a flag for every CLI field of ``model`` (or those ``only`` names): a bool a switch, a tuple a
    repeatable flag; ``helps`` words a field's help for this command."""
    wanted = set(only) if only is not None else None
    for f in fields(model):
        meta = f.metadata
        if not meta.get("cli", False) or (wanted is not None and f.name not in wanted):
            continue
        kwargs: dict[str, Any] = {"dest": f.name, "help": (helps or {}).get(f.name, meta["help"])}
        if meta.get("metavar"):
            kwargs["metavar"] = meta["metavar"]
        if meta.get("choices"):
            kwargs["choices"] = meta["choices"]
        if f.default is False:
            kwargs["action"] = "store_true"
            kwargs.pop("choices", None)
        elif isinstance(f.default, tuple):
            kwargs["action"] = "append"
            kwargs["default"] = None
        else:
            kwargs["default"] = f.default
            if meta.get("kind") not in (None, str):
                kwargs["type"] = meta["kind"]
        parser.add_argument(_flag(f), **kwargs)


def from_namespace(model: Any, args: argparse.Namespace, **extra: Any) -> Any:
    """The model from parsed CLI arguments (a repeatable flag never given is the field's default)."""
    values = {f.name: getattr(args, f.name) for f in fields(model) if hasattr(args, f.name)}
    values = {k: v for k, v in values.items() if v is not None}
    return make(model, {**values, **extra})


def make(model: Any, options: Mapping[str, Any]) -> Any:
    """The model from keyword arguments named as the CLI names them; raises ``OptionError``."""
    known = {f.name: f for f in fields(model)}
    unknown = sorted(set(options) - set(known))
    if unknown:
        names = ", ".join(sorted(n for n, f in known.items() if f.metadata.get("cli") or f.name in options))
        raise OptionError(f"unknown option(s) {', '.join(unknown)}; known: {names}")
    values: dict[str, Any] = {}
    for name, value in options.items():
        f = known[name]
        default = f.default if f.default is not MISSING else None
        if isinstance(default, tuple):
            items = (value,) if isinstance(value, str) else tuple(value or ())
            choices = f.metadata.get("choices") or ()
            bad = [v for v in items if choices and v not in choices]
            if bad:
                raise OptionError(f"{name}: unknown value(s) {', '.join(map(str, bad))}; known: "
                                  f"{', '.join(map(str, choices))}")
            value = items
        values[name] = value
    instance = model(**values)
    check = getattr(instance, "check", None)
    if callable(check):
        check()
    return instance


@dataclass(frozen=True)
class PolicyOptions:
    """Which findings are reported and which fail: the same flags on lint, replay and check."""

    strict: bool = option(False, "warnings fail too (by default only errors fail)")
    select: tuple[str, ...] = option((), "only these rules (ids or prefixes, comma-separated; repeatable)",
                                     metavar="IDS")
    ignore: tuple[str, ...] = option((), "never these rules (ids or prefixes, comma-separated; repeatable)",
                                     metavar="IDS")
    baseline: str | None = option(None, "accepted findings (rule + pointer) to silence, a JSON file", metavar="FILE")
    rules: tuple[str, ...] = option((), "also run the rules of this module (a dotted name or a .py file; repeatable)",
                                    metavar="MODULE")

    def load_rules(self) -> None:
        """Import the modules ``rules`` names; raises ``OptionError`` when one cannot be loaded."""
        for module in self.rules:
            try:
                load_rules(module)
            except RuleError as exc:
                raise OptionError(str(exc)) from exc

    def policy(self) -> Policy:
        """The policy these options describe (loading their rules first); raises ``OptionError``."""
        self.load_rules()
        baseline = None
        if self.baseline:
            try:
                baseline = Baseline.load(self.baseline)
            except (OSError, ValueError) as exc:
                detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise OptionError(f"cannot read baseline {self.baseline}: {detail}") from exc
        select, ignore = _selectors(self.select, "--select"), _selectors(self.ignore, "--ignore")
        return Policy.make(strict=self.strict, select=select or None, ignore=ignore, baseline=baseline)


def _selectors(values: Iterable[str], flag: str) -> list[str]:
    """Rule ids or prefixes, each naming at least one known rule; raises ``OptionError``."""
    out = [p.strip().upper() for v in values for p in v.split(",") if p.strip()]
    ids = [r.id for r in all_rules()]
    unknown = [s for s in out if not any(i.startswith(s) for i in ids)]
    if unknown:
        prefixes = sorted({i.rstrip("0123456789") + i.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")[:1] for i in ids})
        raise OptionError(f"{flag} {', '.join(unknown)}: no rule has that id or prefix; known prefixes: "
                          f"{', '.join(prefixes)} (see the rules command)")
    return out


def port(flag: str, value: int) -> int:
    """A TCP port to listen on (0: any free one), or an OptionError naming the flag."""
    if not 0 <= value <= 65535:
        raise OptionError(f"{flag} is a port, 0 to 65535 (0: any free one), not {value}")
    return value


#: what a recording is, by its name's suffix: a vcrpy cassette (YAML or JSON) or a HAR file
RECORDING_SUFFIXES = (".json", ".yaml", ".yml", ".har")


def writable_file(flag: str, value: str, suffixes: Iterable[str] | None = None) -> Path:
    """That a file can be written at ``value`` (its folder exists and may be written to, it is no folder,
    its suffix one of ``suffixes``), said before a run starts; raises ``OptionError`` naming ``flag``."""
    path, shown = Path(value), repr(value[:120])
    if path.is_dir():
        raise OptionError(f"{flag} {shown} is a folder: name a file")
    allowed = tuple(suffixes or ())
    if allowed and path.suffix.lower() not in allowed:
        raise OptionError(f"{flag} {shown}: the file's name ends in {', '.join(allowed[:-1])} or {allowed[-1]} "
                          "(it says what is written)")
    folder = path.parent
    if not folder.is_dir():
        raise OptionError(f"{flag} {shown}: the folder {str(folder)[:120]!r} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OptionError(f"{flag} {shown} cannot be written here")
    return path
