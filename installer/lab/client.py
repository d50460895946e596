"""The command line and output formats of the clients the lab simulates (`openstack`, `curl`):
options and positional words as the client parses them, its usage errors, and the `-f`/`-c`
output of a `show` or a `list`. installer/lab/cloud.py, servers.py and hosts.py answer the
commands; this module is what they share of the client itself."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# What a simulated command prints and its exit code.
Result = tuple[list[str], int]


def parse_args(args: Sequence[str], flags: Sequence[str], valued: Sequence[str]
               ) -> tuple[dict[str, list[str]], list[str]] | str:
    """Options (each with its values; a flag has none) and positional words of a command
    line, or the client's complaint about an option it does not know."""
    opts: dict[str, list[str]] = {}
    words: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in flags:
            opts.setdefault(a, [])
        elif a in valued:
            if i + 1 >= len(args):
                return f"argument {a}: expected one argument"
            opts.setdefault(a, []).append(args[i + 1])
            i += 1
        elif a.startswith("-"):
            return f"unrecognized arguments: {a}"
        else:
            words.append(a)
        i += 1
    return opts, words


@dataclass(frozen=True)
class CommandLine:
    """A command line the client accepted: its options and its positional words."""

    opts: dict[str, list[str]]
    words: list[str]

    @property
    def name(self) -> str:
        """The first positional word: the resource the command names."""
        return self.words[0]


def command_line(command: str, args: Sequence[str], flags: Sequence[str],
                 valued: Sequence[str], required: str | None = None) -> CommandLine | Result:
    """`args` of `openstack COMMAND` parsed, or the client's usage error (exit 2): an option it
    does not know, or no positional word when `required` (e.g. "<router>") names one."""
    parsed = parse_args(args, flags, valued)
    if isinstance(parsed, str):
        return [f"openstack {command}: error: {parsed}"], 2
    opts, words = parsed
    if required is not None and not words:
        return [f"openstack {command}: error: the following arguments are required: "
                f"{required}"], 2
    return CommandLine(opts, words)


def one_value(opts: Mapping[str, list[str]], key: str, default: str | None = None) -> str | None:
    """The last value given to option `key` (the client keeps the last), else `default`."""
    values = opts.get(key)
    return values[-1] if values else default


def shown(row: Mapping[str, Any], opts: Mapping[str, list[str]]) -> list[str]:
    """A `show`/`create` result in the client's formats: json, value (with -c), or a table."""
    columns = opts.get("-c") or list(row)
    fmt = one_value(opts, "-f", "table")
    if fmt == "json":
        return [json.dumps({c: row.get(c) for c in columns})]
    if fmt == "value":
        return [str(row.get(c, "")) for c in columns]
    return [f"| {c} | {row.get(c)} |" for c in columns]


def listed(rows: list[dict[str, Any]], opts: Mapping[str, list[str]]) -> list[str]:
    """A `list` result in the client's formats: json, value (with -c), or a table."""
    columns = opts.get("-c") or (list(rows[0]) if rows else [])
    fmt = one_value(opts, "-f", "table")
    if fmt == "json":
        return [json.dumps([{c: r.get(c) for c in columns} for r in rows])]
    if fmt == "value":
        return [" ".join(str(r.get(c, "")) for c in columns) for r in rows]
    return [" | ".join(columns), *(" | ".join(str(r.get(c)) for c in columns) for r in rows)]
