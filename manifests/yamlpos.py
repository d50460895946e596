"""YAML to plain Python data, keeping the line and column of every value and key.

PyYAML's composer keeps a position on each node (the C loader composes a 1,000-host file in
~60 ms). We build the data ourselves from the node tree so that we can record positions, refuse
duplicate keys (PyYAML silently keeps the last) and keep YAML 1.1 scalar typing.

The node tree is hostile input. An alias is a reference to its anchor's node, so a 351-byte
file of nested aliases ("billion laughs") names billions of values: the builder counts every
value it builds, aliases expanded, against a budget proportional to the file's size and stops
at the alias that crosses it. An alias may also stand inside its own anchor (`&a [*a]`), values
may nest thousands deep and an integer may have more digits than Python converts: each is a
`YamlProblem` with a position, never a traceback.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path = tuple[str | int, ...]

MIN_BUDGET = 50_000
BYTES_PER_VALUE = 8
"""How many values the builder may produce, aliases expanded: MIN_BUDGET for any file, one per
BYTES_PER_VALUE bytes of text for a larger one. A real answers file holds one value per ~18
bytes (1,000 hosts: 138 KB, 7,700 values), so ordinary aliases fit many times over, and a
billion laughs stops after at most ~130,000 values (~0.3 s, tens of MB) per MiB of file (the
loader reads at most 4 MiB)."""

MAX_DEPTH = 64
"""How deep values may nest; an answers file nests five levels (hosts[0].osd_devices[0])."""

MAX_INT_DIGITS = 64
"""The longest integer we read; no setting takes a larger one, and Python refuses to print one
of more than 4,300 digits (which `0x...` or `1:2:3...` can write in fewer characters)."""

_MERGE = "tag:yaml.org,2002:merge"
_KEY = "<key>"  # path step of a mapping key, in the walk that finds aliases


class Mark(NamedTuple):  # a tuple: one is made per value, and a frozen dataclass costs 3x
    line: int  # 1-based
    col: int  # 1-based


class YamlProblem(Exception):
    """The text is not YAML we can read; `mark` says where."""

    def __init__(self, message: str, mark: Mark, path: Path = ()) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark
        self.path = path


class _AliasProblem(YamlProblem):
    """A problem that belongs to the alias used at `alias_path`: its mark and name are found
    after the fact (the node tree keeps only the anchor's position). `message` may use
    `{alias}`, replaced by `*name`."""

    def __init__(self, message: str, mark: Mark, path: Path, alias_path: Path) -> None:
        super().__init__(message, mark, path)
        self.alias_path = alias_path


@dataclass
class Positions:
    """Where each value (and each mapping key) stands in the file."""

    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)

    def locate(self, path: Path, *, key: bool = False) -> Mark:
        """The mark of `path`, or of its nearest ancestor that exists (for missing keys)."""
        if key and path in self.keys:
            return self.keys[path]
        p = tuple(path)
        while p:
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), Mark(1, 1))


def _mark(node: yaml.Node) -> Mark:
    start = node.start_mark
    return Mark(start.line + 1, start.column + 1)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"the single value {node.value[:40]!r}"


class _Builder:
    def __init__(self, budget: int) -> None:
        self.positions = Positions()
        self.budget = budget
        self.built = 0  # values built so far, aliases expanded
        self._constructor = yaml.SafeLoader("")  # only its scalar constructors are used
        self._seen: set[int] = set()  # nodes built once: meeting one again is an alias
        self._open: set[int] = set()  # nodes being built: meeting one again is a loop
        self._alias_path: Path | None = None  # where the outermost alias being expanded stands

    def build(self, node: yaml.Node, path: Path, depth: int = 0) -> Any:
        self._count(node, path)
        if depth > MAX_DEPTH:
            raise YamlProblem(
                f"values nest more than {MAX_DEPTH} levels deep here; an answers file nests a "
                "few levels (hosts, a host, its osd_devices)",
                _mark(node),
                path,
            )
        self.positions.values[path] = _mark(node)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        ident = id(node)
        if ident in self._open:
            raise _AliasProblem(
                "the alias {alias} stands inside the value it names, so that value would never "
                "end; a YAML value cannot contain itself",
                _mark(node),
                path,
                path,
            )
        outermost = ident in self._seen and self._alias_path is None
        if outermost:
            self._alias_path = path
        self._seen.add(ident)
        self._open.add(ident)
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path, depth)
            return [self.build(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        finally:
            self._open.discard(ident)
            if outermost:
                self._alias_path = None

    def _count(self, node: yaml.Node, path: Path) -> None:
        self.built += 1
        if self.built <= self.budget:
            return
        message = (
            f"the alias {{alias}} repeats its anchor's value so often that the file would hold "
            f"more than {self.budget:,} values (aliases nested in aliases multiply); write the "
            "values out, or use fewer aliases"
        )
        if self._alias_path is not None:
            raise _AliasProblem(message, _mark(node), path, self._alias_path)
        raise YamlProblem(
            f"the file holds more than {self.budget:,} values; an answers file is far smaller",
            _mark(node),
            path,
        )

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        try:
            value = self._constructor.construct_object(node, deep=True)
        except yaml.YAMLError as e:
            raise YamlProblem(f"cannot read this value: {_problem(e)}", _mark(node), path) from None
        except ValueError as e:  # a date like 2024-13-45; a 5,000-digit number
            reason = (
                f"the number has more than {MAX_INT_DIGITS} digits"
                if "digits" in str(e)
                else str(e)
            )
            raise YamlProblem(f"cannot read this value: {reason}", _mark(node), path) from None
        except Exception:  # PyYAML's constructors fail oddly on odd text (`!!timestamp x`)
            tag = node.tag.rsplit(":", 1)[-1]
            raise YamlProblem(
                f"cannot read this value as {tag!r}: {node.value[:40]!r} is not one",
                _mark(node),
                path,
            ) from None
        if isinstance(value, int) and abs(value) >= 10**MAX_INT_DIGITS:
            raise YamlProblem(
                f"cannot read this value: the number has more than {MAX_INT_DIGITS} digits",
                _mark(node),
                path,
            )
        return value

    def _key(self, key_node: yaml.Node, path: Path) -> str | int:
        if not isinstance(key_node, yaml.ScalarNode):
            raise YamlProblem("a mapping key must be a plain name", _mark(key_node), path)
        key = self._scalar(key_node, path)
        if not isinstance(key, Hashable):
            raise YamlProblem("a mapping key must be a plain name", _mark(key_node), path)
        return key if isinstance(key, str | int) else str(key)

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        merges: list[tuple[yaml.Node, Path]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.append((value_node, (*path, "<<")))
                continue
            key = self._key(key_node, path)
            child = (*path, key)
            if key in out:
                first = self.positions.keys[child]
                raise YamlProblem(
                    f"duplicate key {key!r} (first given at line {first.line}); give each key once",
                    _mark(key_node),
                    child,
                )
            self.positions.keys[child] = _mark(key_node)
            out[key] = self.build(value_node, child, depth + 1)
        # `<<: *base` (or `<<: [*a, *b]`) adds the keys this mapping does not give itself; of
        # two merged mappings, the first listed wins (YAML's merge key).
        for merged, merge_path in merges:
            for key_node, value_node in self._merged_pairs(merged, merge_path, {id(node)}, depth):
                key = self._key(key_node, path)
                if key in out:
                    continue
                child = (*path, key)
                self.positions.keys[child] = _mark(key_node)
                out[key] = self.build(value_node, child, depth + 1)
        return out

    def _merged_pairs(
        self, value: yaml.Node, merge_path: Path, chain: set[int], depth: int
    ) -> list[tuple[yaml.Node, yaml.Node]]:
        """The (key, value) nodes that `<<: value` merges, merges inside them resolved."""
        if depth > MAX_DEPTH:
            raise YamlProblem(
                f"merges (<<) nest more than {MAX_DEPTH} levels deep", _mark(value), merge_path
            )
        if isinstance(value, yaml.SequenceNode):
            items = [(item, (*merge_path, i)) for i, item in enumerate(value.value)]
        else:
            items = [(value, merge_path)]
        pairs: list[tuple[yaml.Node, yaml.Node]] = []
        for item, item_path in items:
            if not isinstance(item, yaml.MappingNode):
                raise _AliasProblem(
                    f"`<<` merges a mapping or a list of mappings into this one, but {{alias}} "
                    f"is {_kind(item)}; merge a mapping (`<<: *defaults`) or write the keys out",
                    _mark(item),
                    item_path,
                    item_path,
                )
            if id(item) in chain:
                raise _AliasProblem(
                    "`<<` merges {alias}, which merges the mapping it stands in; a mapping "
                    "cannot merge itself",
                    _mark(item),
                    item_path,
                    item_path,
                )
            outermost = self._alias_path is None
            if outermost:
                self._alias_path = item_path
            try:
                own: list[tuple[yaml.Node, yaml.Node]] = []
                nested: list[tuple[yaml.Node, yaml.Node]] = []
                for key_node, value_node in item.value:
                    self._count(key_node, item_path)
                    if key_node.tag == _MERGE:
                        nested += self._merged_pairs(
                            value_node, item_path, chain | {id(item)}, depth + 1
                        )
                    else:
                        own.append((key_node, value_node))
            finally:
                if outermost:
                    self._alias_path = None
            pairs += own + nested  # a merged mapping's own keys win over what it merges
        return pairs


def _problem(e: yaml.YAMLError) -> str:
    if isinstance(e, yaml.MarkedYAMLError):
        parts = [p for p in (e.context, e.problem) if p]
        return "; ".join(parts) or str(e)
    return str(e)


_FLOW_OPENERS = {
    "while parsing a flow sequence": ("[", "]", "list"),
    "while parsing a flow mapping": ("{", "}", "mapping"),
}


def _char_at(text: str, mark: yaml.Mark) -> str:
    lines = text.splitlines()
    if 0 <= mark.line < len(lines) and 0 <= mark.column < len(lines[mark.line]):
        return lines[mark.line][mark.column]
    return ""


def _syntax_problem(e: yaml.MarkedYAMLError, text: str) -> YamlProblem:
    """PyYAML's syntax error in the operator's words, at the place to fix."""
    mark = e.problem_mark or e.context_mark
    if mark is not None and _char_at(text, mark) == "\t":
        return YamlProblem(
            "not valid YAML: a tab character here; YAML indents with spaces, so replace the tab "
            "with spaces",
            Mark(mark.line + 1, mark.column + 1),
        )
    brackets = _FLOW_OPENERS.get(e.context or "")
    problem = e.problem or ""
    if brackets and e.context_mark is not None and problem.startswith("did not find expected"):
        # PyYAML notices only at the next token, often a line later: point at the opener.
        opener, closer, kind = brackets
        start = e.context_mark
        return YamlProblem(
            f"not valid YAML: the `{opener}` here is never closed; end its {kind} with "
            f"`{closer}` (or add the comma missing between two of its values)",
            Mark(start.line + 1, start.column + 1),
        )
    where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
    return YamlProblem(f"not valid YAML: {_problem(e)}", where)


_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent, yaml.AliasEvent)


def _alias_sites(text: str, root: yaml.Node) -> dict[Path, tuple[str, Mark]]:
    """Where each alias stands and the anchor it names, by the path of the value it gives.

    Walking the node tree in document order, entering each node the first time only, meets the
    nodes in the order of the parser's node events; a node met again is an alias. Runs only to
    report a problem (it parses the text a second time)."""
    try:
        events = [e for e in yaml.parse(text, Loader=_Loader) if isinstance(e, _NODE_EVENTS)]
    except yaml.YAMLError:
        return {}
    constructor = yaml.SafeLoader("")
    sites: dict[Path, tuple[str, Mark]] = {}
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, Path]] = [(root, ())]
    for event in events:
        if not stack:
            break
        node, path = stack.pop()
        if id(node) in seen:
            mark = event.start_mark
            if isinstance(event, yaml.AliasEvent) and mark is not None:
                where = Mark(mark.line + 1, mark.column + 1)
                sites.setdefault(path, (event.anchor or "", where))
            continue
        seen.add(id(node))
        children: list[tuple[yaml.Node, Path]] = []
        if isinstance(node, yaml.SequenceNode):
            children = [(child, (*path, i)) for i, child in enumerate(node.value)]
        elif isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                children.append((key_node, (*path, _KEY)))
                children.append((value_node, (*path, _key_step(constructor, key_node))))
        stack.extend(reversed(children))
    return sites


def _key_step(constructor: yaml.SafeLoader, key_node: yaml.Node) -> str | int:
    if key_node.tag == _MERGE:
        return "<<"
    try:
        key = constructor.construct_object(key_node)
    except Exception:  # any key the builder refused: no alias path goes through it
        return _KEY
    return key if isinstance(key, str | int) else str(key)


def _at_alias(problem: _AliasProblem, text: str, root: yaml.Node) -> YamlProblem:
    """`problem` pointed at the alias it is about, naming it."""
    sites = _alias_sites(text, root)
    p = problem.alias_path
    site = None
    while site is None:
        site = sites.get(p) or next(
            (s for path, s in sites.items() if path[: len(p) + 1] == (*p, "<<")), None
        )
        if not p:
            break
        p = p[:-1]
    if site is None:
        return YamlProblem(problem.message.format(alias="an alias"), problem.mark, problem.path)
    anchor, mark = site
    return YamlProblem(problem.message.format(alias=f"*{anchor}"), mark, problem.alias_path)


def load_with_positions(text: str, *, budget: int | None = None) -> tuple[Any, Positions]:
    """Parse one YAML document; returns (data, positions). Raises YamlProblem.

    `budget` is how many values the document may expand to (default: see MIN_BUDGET)."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        raise _syntax_problem(e, text) from None
    except yaml.YAMLError as e:
        raise YamlProblem(f"not valid YAML: {e}", Mark(1, 1)) from None
    except RecursionError:  # the pure-Python composer, on deep nesting
        raise YamlProblem(
            f"not valid YAML here: values nest more than {MAX_DEPTH} levels deep", Mark(1, 1)
        ) from None
    if node is None:
        return None, Positions()
    builder = _Builder(
        budget if budget is not None else max(MIN_BUDGET, len(text) // BYTES_PER_VALUE)
    )
    try:
        return builder.build(node, ()), builder.positions
    except _AliasProblem as e:
        raise _at_alias(e, text, node) from None
