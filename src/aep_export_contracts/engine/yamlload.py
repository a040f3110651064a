"""Load YAML with PyYAML's safe loader, building the common objects without its generic machinery.

A YAML cassette is read on every replay, and PyYAML's constructor (generic, in Python, with a
generator per mapping and sequence) took about half of the load time. The node tree is still PyYAML's
own (libyaml's parser, PyYAML's resolver: every tag is decided as before); only the construction of
plain strings, mappings and sequences is done directly. Every other tag (int, bool, null, float,
timestamp, binary, omap, set, anything unknown), merge and value keys, keys that are not scalars,
self-referencing anchors and very deep nesting go to PyYAML's constructor, so the result is always
PyYAML's.
"""

from __future__ import annotations

from typing import Any, ClassVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:  # the C parser is much faster where PyYAML was built with libyaml
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

__all__ = ["MAX_EXPANDED", "AliasBomb", "compose_yaml", "load_yaml", "load_yaml_reference"]

#: the most values a document's aliases may add to what it writes out (a document without aliases may be
#: of any size: its values cost the bytes they take). Counted on the document as parsed, whatever its
#: encoding or line breaks: a few hundred bytes of nested aliases cannot make a walk over billions.
MAX_EXPANDED = 100_000


class AliasBomb(yaml.YAMLError):
    """A document whose aliases expand beyond ``MAX_EXPANDED`` values, or refer to themselves."""


def _bomb(node: Node) -> AliasBomb:
    return AliasBomb(f"its aliases expand to more than {MAX_EXPANDED:,} values beyond what it writes out (at "
                     f"line {node.start_mark.line + 1}); write the values out or use fewer aliases")


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
#: keys PyYAML's mapping constructor rewrites before it builds (flatten_mapping): ``<<`` merges, ``=`` becomes text
_REWRITTEN_KEYS = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})


class _Generic(Exception):
    """The document needs PyYAML's own constructor."""


def _children(node: Node) -> list[Node]:
    if node.__class__ is SequenceNode:
        return list(node.value)
    if node.__class__ is MappingNode:
        return [part for pair in node.value for part in pair]
    return []


def _check_expansion(root: Node) -> None:
    """Refuse a document whose aliases expand beyond ``MAX_EXPANDED`` values or into themselves (before
    PyYAML's own constructor builds it).

    Counted on PyYAML's node graph, where an alias is the anchored node itself: each distinct node is
    visited once, so a few hundred bytes that would expand to billions of values cost what they are.
    """
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_.discard(key)
            size = sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if size - len(sizes) > MAX_EXPANDED:
                raise _bomb(node)
            continue
        if key in sizes:
            continue
        if key in open_:
            raise AliasBomb(f"an anchor refers to itself (at line {node.start_mark.line + 1}): "
                            "JSON has no value that contains itself")
        open_.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


class _Loader(_SafeLoader):
    #: the tag of each short plain scalar met so far: with no path resolvers (none here) a plain scalar's tag
    #: follows from its text alone, and the resolver's regular expressions took a tenth of a cassette's load
    _resolved: ClassVar[dict[str, str]] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not ScalarNode or not implicit[0] or len(value) > 64 or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        tag = self._resolved.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            if len(self._resolved) < 4096:
                self._resolved[value] = tag
        return tag

    def construct_document(self, node: Node) -> Any:
        self._made: dict[int, Any] = {}
        self._sizes: dict[int, int] = {}  # values each built mapping or sequence expands to
        self._open: set[int] = set()
        self._expanded = self._written = 0  # values as a walk would meet them; nodes the document writes out
        try:
            return self._build(node)
        except (_Generic, RecursionError):  # RecursionError: nested deeper than direct calls go
            self.constructed_objects.clear()
            _check_expansion(node)
            return super().construct_document(node)

    def _build(self, node: Node) -> Any:
        tag, cls = node.tag, node.__class__
        if cls is ScalarNode:
            self._expanded += 1
            self._written += 1
            return node.value if tag == _STR else self.construct_object(node, deep=True)
        key = id(node)
        made = self._made.get(key)
        if made is not None:  # an alias: the same object, as PyYAML gives, counted as often as it is met
            self._expanded += self._sizes[key]
            if self._expanded - self._written > MAX_EXPANDED:
                raise _bomb(node)
            return made
        if key in self._open:
            raise _Generic  # an anchor inside itself
        self._open.add(key)
        before = self._expanded
        self._expanded += 1
        self._written += 1
        if cls is MappingNode and tag == _MAP:
            out: Any = {}
            for key_node, value_node in node.value:
                if key_node.tag in _REWRITTEN_KEYS or key_node.__class__ is not ScalarNode:
                    raise _Generic  # those keys, and keys that may not hash, are PyYAML's to build or refuse
                out[self._build(key_node)] = self._build(value_node)
        elif cls is SequenceNode and tag == _SEQ:
            out = [self._build(item) for item in node.value]
        else:
            raise _Generic
        self._open.discard(key)
        self._made[key] = out
        self._sizes[key] = self._expanded - before
        return out


class _PayloadLoader(_Loader):
    """A payload file's YAML: a timestamp written without quotes stays the text it is, since JSON has no
    date type and the contract judges the text (RFC 3339 or not)."""


def _text(loader: _PayloadLoader, node: Node) -> str:
    return str(node.value)


_PayloadLoader.add_constructor("tag:yaml.org,2002:timestamp", _text)


def compose_yaml(text: str | bytes) -> Node | None:
    """The node tree of one YAML (or JSON) document, with the line and column of every node; nothing is
    constructed, so aliases cost nothing (errors are ``yaml.YAMLError``)."""
    node: Node | None = yaml.compose(text, Loader=_SafeLoader)
    return node


def load_yaml_reference(text: str | bytes) -> Any:
    """PyYAML's safe loader, unchanged: what ``load_yaml`` must equal."""
    return yaml.load(text, Loader=_SafeLoader)


def load_yaml(text: str | bytes, *, payload: bool = False) -> Any:
    """One YAML document as PyYAML's safe loader reads it (errors are ``yaml.YAMLError``; an alias bomb
    or an anchor inside itself is ``AliasBomb``); for a ``payload``, an unquoted timestamp stays text."""
    loader = (_PayloadLoader if payload else _Loader)(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
