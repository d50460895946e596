"""YAML to plain Python data, keeping the line and column of every value and key.

PyYAML's composer keeps a position on each node (PITFALLS: the C loader composes a 1,000-host
file in ~60 ms). We build the data ourselves from the node tree so that we can record positions,
refuse duplicate keys (PyYAML silently keeps the last) and keep YAML 1.1 scalar typing.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import yaml

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    col: int  # 1-based


class YamlProblem(Exception):
    """The text is not YAML we can read; `mark` says where."""

    def __init__(self, message: str, mark: Mark, path: Path = ()) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark
        self.path = path


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
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self) -> None:
        self.positions = Positions()
        self._constructor = yaml.SafeLoader("")  # only its scalar constructors are used

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.positions.values[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.YAMLError as e:
            raise YamlProblem(f"cannot read this value: {_problem(e)}", _mark(node), path) from None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        self._constructor.flatten_mapping(node)  # resolves `<<` merge keys
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlProblem("a mapping key must be a plain name", _mark(key_node), path)
            key = self._constructor.construct_object(key_node)
            if not isinstance(key, Hashable):
                raise YamlProblem("a mapping key must be a plain name", _mark(key_node), path)
            key = str(key) if not isinstance(key, str | int) else key
            child = (*path, key)
            if key in out:
                first = self.positions.keys[child]
                raise YamlProblem(
                    f"duplicate key {key!r} (first given at line {first.line}); give each key once",
                    _mark(key_node),
                    child,
                )
            self.positions.keys[child] = _mark(key_node)
            out[key] = self.build(value_node, child)
        return out


def _problem(e: yaml.YAMLError) -> str:
    if isinstance(e, yaml.MarkedYAMLError):
        parts = [p for p in (e.context, e.problem) if p]
        return "; ".join(parts) or str(e)
    return str(e)


def load_with_positions(text: str) -> tuple[Any, Positions]:
    """Parse one YAML document; returns (data, positions). Raises YamlProblem."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
        raise YamlProblem(f"not valid YAML: {_problem(e)}", where) from None
    except yaml.YAMLError as e:
        raise YamlProblem(f"not valid YAML: {e}", Mark(1, 1)) from None
    if node is None:
        return None, Positions()
    builder = _Builder()
    return builder.build(node, ()), builder.positions
