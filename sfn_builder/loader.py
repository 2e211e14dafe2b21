"""Load: spec text -> plain Python values that remember where they came from.

The YAML event stream is composed here, iteratively, instead of by PyYAML's
recursive composer, so that this stage can promise to finish quickly on any
input: nesting deeper than `MAX_DEPTH`, aliases expanding to more than
`MAX_ALIAS_NODES` values or `MAX_ALIAS_CHARS` characters ("billion laughs", one long
string aliased thousands of times), duplicate keys, non-regular files, binary and non-UTF-8 input all end in a
`SpecError` pointing at the offending line, never in a hang or a traceback.
JSON is read by the same parser (JSON is YAML), so it gets positions too.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from .collector import without_collections
from .problems import Path, Position, Problem, SpecError

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_NODES = 250_000  # values that aliases add, beyond the document's own
MAX_ALIAS_CHARS = MAX_BYTES  # text that aliases add: expansion can at most double a spec

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")}
_constructor = yaml.constructor.SafeConstructor()
_resolver = yaml.resolver.Resolver()
_plain_scalars: dict[str, Any] = {}  # a plain scalar's text -> its value (str, int, float, bool or None)
_PLAIN_SCALARS_KEPT = 50_000


def as_text(value: Any) -> str:
    """A scalar as a string field receives it (JSON's spelling)."""
    return value if isinstance(value, str) else json.dumps(value)


class SpecMapping(dict):
    """A mapping that knows the position of each of its keys and values."""

    __slots__ = ("key_positions", "position", "value_positions")

    def __init__(self, position: Position) -> None:
        super().__init__()
        self.position = position
        self.key_positions: dict[str, Position] = {}
        self.value_positions: dict[str, Position] = {}


class SpecList(list):
    """A sequence that knows the position of each of its items."""

    __slots__ = ("item_positions", "position")

    def __init__(self, position: Position) -> None:
        super().__init__()
        self.position = position
        self.item_positions: list[Position] = []


@dataclass(frozen=True)
class Included:
    """A file merged into a spec by `include:` (module `includes`): the paths of the nodes it wrote,
    and its own re-read scalars."""

    file: str
    roots: tuple[Path, ...]
    reread: dict[Position, str] = field(default_factory=dict)


def writer_of(path: Path, included: Iterable[Included], spec: Included) -> Included:
    """Which file wrote the node at `path`: the included one with the longest root it lies under, else the spec."""
    best, depth = spec, -1
    for unit in included:
        for root in unit.roots:
            if len(root) > depth and path[: len(root)] == root:
                best, depth = unit, len(root)
    return best


@dataclass(frozen=True)
class Document:
    """A loaded spec: its data, the file it came from, and the plain scalars that YAML 1.1 read
    as something other than their text (`NO` as false, `1.10` as 1.1, `12:30` as 750), by position.
    A spec that includes other files also knows which nodes each of them wrote."""

    file: str
    data: SpecMapping
    reread: dict[Position, str] = field(default_factory=dict)
    included: tuple[Included, ...] = ()

    def locate(self, path: Path, *, key: bool = False) -> Position:
        """Position of the node at `path`, or of its deepest existing ancestor.

        With `key`, a mapping member is located at its key rather than its value
        (where an unknown or misplaced field should be pointed at); so is a member
        whose value is a mapping or list (the line that names it).
        """
        return self._found(path, key)[0]

    def _found(self, path: Path, key: bool) -> tuple[Position, int]:
        """The position `locate` gives, and how many parts of `path` exist."""
        node: Any = self.data
        found = self.data.position
        for index, part in enumerate(path):
            last = index == len(path) - 1
            if isinstance(node, SpecMapping) and isinstance(part, str) and part in node:
                value = node[part]
                on_key = key or isinstance(value, SpecMapping | SpecList)
                positions = node.key_positions if on_key and last else node.value_positions
                found = positions.get(part, found)
                node = value
            elif isinstance(node, SpecList) and isinstance(part, int) and 0 <= part < len(node):
                found = node.item_positions[part]
                node = node[part]
            else:
                return found, index
        return found, len(path)

    def file_of(self, path: Path) -> str:
        """The file the node at `path` was written in (the spec's own, or an included one)."""
        return self._origin(path).file if self.included else self.file

    def _origin(self, path: Path) -> Included:
        return writer_of(path, self.included, Included(self.file, (), self.reread))

    def reread_text(self, path: Path) -> str | None:
        """The text of the plain scalar at `path` when YAML read it as something else, else None."""
        position, depth = self._found(path, False)
        if depth < len(path):
            return None
        return self._origin(path).reread.get(position) if self.included else self.reread.get(position)

    def place(self, problem: Problem) -> Problem:
        """The problem with the file and position of its path (a problem placed already keeps its own)."""
        if problem.position is not None:
            return problem.at(problem.file or self.file, problem.position)
        position, depth = self._found(problem.path, problem.on_key)
        return problem.at(self.file_of(problem.path[:depth]), position)


def load_file(path: str) -> Document:
    """Read and load a spec file; raises `SpecError` on anything unreadable.

    Only regular files are read (a FIFO or device would block or never end), and
    never more than `MAX_BYTES` + 1 bytes, whatever the file claims its size is.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if stat.S_ISDIR(mode):
                raise _error(path, "this is a directory, not a spec file")
            if not stat.S_ISREG(mode):
                raise _error(path, "this is not a regular file (a pipe, device or socket): write the spec to a file")
            raw = handle.read(MAX_BYTES + 1)
    except IsADirectoryError:
        raise _error(path, "this is a directory, not a spec file") from None
    except FileNotFoundError:
        raise _error(path, "no such file") from None
    except PermissionError:
        raise _error(path, "permission denied: the file cannot be read") from None
    except OSError as exc:
        raise _error(path, f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise _error(path, f"the file is over {MAX_BYTES:,} bytes, the most a spec may be")
    return load_bytes(raw, path)


def load_bytes(raw: bytes, file: str = "<spec>") -> Document:
    """Load spec text given as bytes (UTF-8, with or without a BOM)."""
    if len(raw) > MAX_BYTES:
        raise _error(file, f"the spec is {len(raw):,} bytes; a spec may be at most {MAX_BYTES:,} bytes")
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        raise _error(file, "this is a binary file, not a YAML or JSON spec", Position(line, 1))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _error(
            file,
            f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            Position(line, column),
            hint="save the spec as UTF-8",
        ) from None
    return load_text(text, file)


@without_collections()
def load_text(text: str, file: str = "<spec>") -> Document:
    """Load spec text; the top level must be a mapping."""
    if not text.strip() or all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        raise _error(file, "the spec is empty", hint="start from an example in workflows/")
    composer = _Composer(file)
    try:
        data = composer.compose(text)
    except yaml.MarkedYAMLError as exc:
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        position, hint = _syntax_hint(exc, text)
        if file.endswith(".json"):
            return _load_json_fallback(text, file, what, position)
        raise _error(file, f"invalid YAML: {what}", position, hint) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: placed by its index
        before = text[: exc.position]
        position = Position(before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
        character = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise _error(
            file,
            f"invalid YAML: the character {character} cannot appear in a YAML file",
            position,
            hint=f'remove it, or write it as an escape in a double-quoted string ("\\u{exc.character:04x}")'
            if isinstance(exc.character, int)
            else "remove it",
        ) from None
    except yaml.YAMLError as exc:
        raise _error(file, f"invalid YAML: {exc}") from None
    if composer.problems:
        raise SpecError(composer.problems)
    if data is None:
        raise _error(file, "the spec is empty", hint="start from an example in workflows/")
    if not isinstance(data, SpecMapping):
        found = "a list" if isinstance(data, list) else f"the {type(data).__name__} {data!r}"
        raise _error(
            file,
            f"a spec is a mapping of fields (version, name, steps, ...), but this file holds {found}",
            Position(1, 1),
        )
    return Document(file, data, composer.reread)


_OPENED_BEFORE = ("could not find expected ':'", "found unexpected end of stream", "did not find expected ','")


def _syntax_hint(exc: yaml.MarkedYAMLError, text: str) -> tuple[Position | None, str | None]:
    """Where a YAML syntax error starts, and what usually fixes it.

    PyYAML marks where it gave up; for an unclosed quote or bracket, or a key without its
    colon, the mistake is where the construct began (the context mark).
    """
    problem = exc.problem or ""
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark is not None and problem.startswith(_OPENED_BEFORE):
        mark = exc.context_mark
    position = Position(mark.line + 1, mark.column + 1) if mark else None
    line = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
    if "\t" in line[: len(line) - len(line.lstrip())] or "found character '\\t'" in problem:
        return position, "this line is indented with a tab: YAML indents with spaces only"
    if problem.startswith("could not find expected ':'"):
        return position, "a key needs ':' after it (`name: value`)"
    if problem.startswith("found unexpected end of stream") and "quoted" in (exc.context or ""):
        return position, "this quote is never closed: close it on the same value"
    if problem.startswith("did not find expected ','"):
        return position, "this bracket is never closed, or two items lack a ',' between them"
    if problem.startswith("mapping values are not allowed"):
        return position, "a value that holds ': ' must be quoted: key: \"a: b\""
    if "expected key" in problem or "expected <block end>" in problem:
        return position, "this line's indentation does not match the lines above it"
    return position, None


def _load_json_fallback(text: str, file: str, yaml_problem: str, position: Position | None) -> Document:
    """JSON that YAML cannot read (tabs, say): load it without positions."""

    def pairs(items: list[tuple[str, Any]]) -> SpecMapping:
        mapping = SpecMapping(Position(1, 1))
        for key, value in items:
            if key in mapping:
                raise _error(file, f"duplicate key '{key}'", Position(1, 1))
            mapping[key] = value
        return mapping

    def non_finite(name: str) -> Any:
        raise _error(file, f"{name} is not a finite number: JSON (and so AWS) has no infinity or NaN")

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=non_finite)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = Position(exc.lineno, exc.colno) if isinstance(exc, json.JSONDecodeError) else position
        raise _error(file, f"invalid JSON: {getattr(exc, 'msg', exc)}", where) from None
    if not isinstance(data, SpecMapping):
        raise _error(file, "a spec is a JSON object of fields (version, name, steps, ...)", Position(1, 1))
    return Document(file, data)


def _error(file: str, message: str, position: Position | None = None, hint: str | None = None) -> SpecError:
    return SpecError([Problem(message, hint=hint, position=position, file=file)])


class _Frame:
    """A mapping or sequence being composed."""

    __slots__ = ("anchor", "container", "key", "key_position", "merges", "size", "weight")

    def __init__(self, container: SpecMapping | SpecList, anchor: str | None) -> None:
        self.container = container
        self.anchor = anchor
        self.key: str | None = None
        self.key_position: Position | None = None
        self.merges: list[tuple[Any, Position]] = []
        self.weight = 1  # values, with what its aliases expand to
        self.size = 0  # characters of scalar text, likewise


class _Composer:
    """Turns a YAML event stream into SpecMapping/SpecList/scalars, with limits."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.anchors: dict[str, tuple[Any, int, int]] = {}  # value, values, characters
        self.alias_nodes = 0
        self.alias_chars = 0
        self.reread: dict[Position, str] = {}

    def compose(self, text: str) -> Any:
        parser = _Loader(text)
        try:
            return self._compose_events(parser)
        finally:
            parser.dispose()

    def _compose_events(self, parser: Any) -> Any:
        """Read the parser's events straight from libyaml (no generator in between)."""
        stack: list[_Frame] = []
        root: Any = None
        documents = 0
        while (event := parser.get_event()) is not None:
            kind = type(event)
            if kind is yaml.ScalarEvent or kind is yaml.AliasEvent:
                mark = event.start_mark
                position = Position(mark.line + 1, mark.column + 1)
            if kind is yaml.ScalarEvent:
                value, weight, size = self._scalar(event, stack), 1, len(event.value)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                mark = event.start_mark
                position = Position(mark.line + 1, mark.column + 1)
                if len(stack) >= MAX_DEPTH:
                    raise _error(self.file, f"the spec nests deeper than {MAX_DEPTH} levels", position)
                is_mapping = kind is yaml.MappingStartEvent
                self._check_tag(event, "map" if is_mapping else "seq")
                stack.append(_Frame(SpecMapping(position) if is_mapping else SpecList(position), event.anchor))
                continue
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                frame = stack.pop()
                self._apply_merges(frame)
                value, weight, size = frame.container, frame.weight, frame.size
                position = frame.container.position
                if frame.anchor:
                    self.anchors[frame.anchor] = (value, weight, size)
            elif kind is yaml.AliasEvent:
                value, weight, size = self._alias(event, position)
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    mark = event.start_mark
                    raise _error(
                        self.file,
                        "the file holds more than one YAML document; a spec is one document",
                        Position(mark.line + 1, mark.column + 1),
                        hint="remove the '---' separator and everything after it, or split the file",
                    )
                continue
            else:
                continue
            if stack:
                self._add(stack[-1], value, weight, size, position)
            else:
                root = value
        return root

    def _check_tag(self, event: Any, kind: str) -> None:
        tag = event.tag
        if tag not in (None, "!", f"{_TAG}{kind}"):
            mark = event.start_mark
            raise _error(self.file, f"unsupported YAML tag '{tag}'", Position(mark.line + 1, mark.column + 1))

    def _scalar(self, event: yaml.ScalarEvent, stack: list[_Frame]) -> Any:
        awaiting_key = bool(stack) and stack[-1].key is None and type(stack[-1].container) is SpecMapping
        if awaiting_key:
            value: Any = event.value  # keys keep their text: `on:` stays "on", `1:` stays "1"
        elif event.tag is None and event.style in ("'", '"'):
            value = event.value  # a quoted scalar is a string
        elif event.tag is None and not event.style and event.value in _plain_scalars:
            value = _plain_scalars[event.value]
        else:
            tag = event.tag
            if tag in (None, "!"):
                tag = _resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag == f"{_TAG}merge":
                value = "<<"
            elif tag not in _SCALAR_TAGS:
                mark = event.start_mark
                raise _error(self.file, f"unsupported YAML tag '{tag}'", Position(mark.line + 1, mark.column + 1))
            elif tag == f"{_TAG}timestamp":
                value = event.value  # dates stay strings: specs are JSON-shaped
            else:
                node = yaml.ScalarNode(tag, event.value)
                value = _constructor.yaml_constructors[tag](_constructor, node)
                if type(value) is float and not math.isfinite(value):
                    mark = event.start_mark
                    raise _error(
                        self.file,
                        f"{event.value!r} is not a finite number: JSON (and so AWS) has no infinity or NaN",
                        Position(mark.line + 1, mark.column + 1),
                        hint="write a number, or quote the value to make it text",
                    )
                if event.tag is None and not event.style and len(_plain_scalars) < _PLAIN_SCALARS_KEPT:
                    _plain_scalars[event.value] = value
        if not awaiting_key and event.tag is None and not event.style and as_text(value) != event.value:
            mark = event.start_mark
            self.reread[Position(mark.line + 1, mark.column + 1)] = event.value
        if event.anchor:
            self.anchors[event.anchor] = (value, 1, len(event.value))
        return value

    def _alias(self, event: yaml.AliasEvent, position: Position) -> tuple[Any, int, int]:
        if event.anchor not in self.anchors:
            raise _error(self.file, f"unknown alias '*{event.anchor}'", position)
        value, weight, size = self.anchors[event.anchor]
        self.alias_nodes += weight
        self.alias_chars += size
        if self.alias_nodes > MAX_ALIAS_NODES or self.alias_chars > MAX_ALIAS_CHARS:
            what = (
                f"more than {MAX_ALIAS_NODES:,} values"
                if self.alias_nodes > MAX_ALIAS_NODES
                else f"more than {MAX_ALIAS_CHARS:,} characters"
            )
            raise _error(
                self.file,
                f"the spec's aliases expand to {what} (an alias bomb?)",
                position,
                hint="use fewer YAML aliases (*name), do not nest them in each other, and do not alias long text",
            )
        return value, weight, size

    def _add(self, frame: _Frame, value: Any, weight: int, size: int, position: Position) -> None:
        container = frame.container
        frame.weight += weight
        frame.size += size
        if isinstance(container, SpecList):
            container.append(value)
            container.item_positions.append(position)
            return
        if frame.key is None:
            if not isinstance(value, str):
                raise _error(self.file, "a mapping key must be a plain string", position)
            frame.key, frame.key_position = value, position
            return
        key, key_position = frame.key, frame.key_position
        frame.key = frame.key_position = None
        if key == "<<":
            frame.merges.append((value, position))
            return
        if key in container:
            first = container.key_positions[key]
            self.problems.append(
                Problem(
                    f"duplicate key '{key}' (first written at line {first.line})",
                    hint="each key may appear once in a mapping; remove or rename one of them",
                    position=key_position,
                    file=self.file,
                )
            )
            return
        container[key] = value
        container.key_positions[key] = key_position  # type: ignore[assignment]
        container.value_positions[key] = position

    def _apply_merges(self, frame: _Frame) -> None:
        """YAML merge keys (`<<: *defaults`): explicit keys win, earlier merges win."""
        if not frame.merges:
            return
        container = frame.container
        assert isinstance(container, SpecMapping)
        for value, position in frame.merges:
            sources = value if isinstance(value, list) else [value]
            for source in sources:
                if not isinstance(source, SpecMapping):
                    raise _error(self.file, "a merge key '<<' takes a mapping or a list of mappings", position)
                for key, item in source.items():
                    if key not in container:
                        container[key] = item
                        container.key_positions[key] = source.key_positions[key]
                        container.value_positions[key] = source.value_positions[key]
