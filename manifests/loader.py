"""Load an answers file: YAML -> Answers, with every problem as `FILE:LINE:COL: path: message`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from manifests.answers import ROLES, Answers
from manifests.files import size_text
from manifests.gcpause import GcPause
from manifests.yamlpos import Mark, Positions, YamlProblem, load_with_positions

# An answers file for 1,000 hosts is ~140 KiB, for 10,000 hosts ~1.4 MiB.
MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an answers file."""

    file: str
    line: int
    col: int
    path: str  # dotted: hosts[2].osd_devices[0]
    message: str

    def format(self) -> str:
        where = f"{self.path}: " if self.path else ""
        if self.line <= 0:  # about the file as a whole (missing, unreadable): no position
            return f"{self.file}: {where}{self.message}"
        return f"{self.file}:{self.line}:{self.col}: {where}{self.message}"


class AnswersError(Exception):
    """The answers file is not valid; str() is one formatted problem per line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(p.format() for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Loaded:
    """A valid answers file and where each of its values stands."""

    answers: Answers
    positions: Positions
    file: str

    def locate(self, path: list[str | int] | tuple[str | int, ...]) -> tuple[int, int]:
        mark = self.positions.locate(tuple(path))
        return mark.line, mark.col


def dotted(path: tuple[str | int, ...] | list[str | int]) -> str:
    """('hosts', 2, 'osd_devices', 0) -> 'hosts[2].osd_devices[0]'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_answers(path: str | Path) -> Answers:
    """Read, parse and validate an answers file; raises AnswersError listing every problem."""
    return load_answers_file(path).answers


def load_answers_file(path: str | Path) -> Loaded:
    """Like load_answers, keeping the positions (for later findings that point into the file)."""
    name = str(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise AnswersError([Problem(name, 0, 0, "", "no such file")]) from None
    except IsADirectoryError:
        raise AnswersError(
            [Problem(name, 0, 0, "", "is a directory, not an answers file")]
        ) from None
    except OSError as e:
        raise AnswersError([Problem(name, 0, 0, "", f"cannot read it: {e.strerror}")]) from None
    if len(raw) > MAX_BYTES:
        raise AnswersError(
            [
                Problem(
                    name,
                    1,
                    1,
                    "",
                    f"is larger than {size_text(MAX_BYTES)}; "
                    "an answers file is a short YAML document",
                )
            ]
        )
    return load_answers_bytes(raw, name)


def load_answers_bytes(raw: bytes, name: str) -> Loaded:
    if b"\x00" in raw:
        raise AnswersError([Problem(name, 1, 1, "", "is a binary file, not a YAML answers file")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise AnswersError(
            [Problem(name, line, 1, "", "is not UTF-8 text; save it as UTF-8")]
        ) from None
    return load_answers_text(text, name)


def load_answers_text(text: str, name: str = "<answers>") -> Loaded:
    """Validate answers given as YAML text; `name` is used in messages."""
    # Parsing builds every node, position and model at once, and all of it lives on: the
    # garbage collector walking that growing heap again and again doubled the cost of a
    # 5,000-host file. Nothing here makes cycles that must be collected meanwhile.
    with GcPause():
        return _load_answers_text(text, name)


def _load_answers_text(text: str, name: str) -> Loaded:
    try:
        data, positions = load_with_positions(text)
    except YamlProblem as e:
        raise AnswersError(
            [Problem(name, e.mark.line, e.mark.col, dotted(e.path), e.message)]
        ) from None
    if data is None:
        raise AnswersError(
            [
                Problem(
                    name,
                    1,
                    1,
                    "",
                    "is empty; an answers file starts with "
                    "`version: 1` (see `sunbeam-install schema` or examples/)",
                )
            ]
        )
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({type(data).__name__})"
        raise AnswersError(
            [
                Problem(
                    name,
                    1,
                    1,
                    "",
                    f"is {kind}; an answers file is a mapping "
                    "of keys such as `version`, `release`, `hosts`",
                )
            ]
        )
    try:
        answers = Answers.model_validate(data)
    except ValidationError as e:
        raise AnswersError(_schema_problems(e, data, positions, name)) from None

    from manifests.rules import check_rules  # after the schema: rules need a valid model

    problems = [
        _problem_at(name, positions, path, message, key=False)
        for path, message in check_rules(answers)
    ]
    if problems:
        problems.sort(key=lambda p: (p.line, p.col))
        raise AnswersError(problems)
    return Loaded(answers, positions, name)


def _problem_at(
    name: str, positions: Positions, path: tuple[str | int, ...], message: str, *, key: bool
) -> Problem:
    mark: Mark = positions.locate(path, key=key)
    return Problem(name, mark.line, mark.col, dotted(path), message)


def _schema_problems(
    error: ValidationError, data: Any, positions: Positions, name: str
) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[tuple[str | int, ...], str]] = set()
    for err in error.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        message = _message(err, loc, data)
        if (loc, message) in seen:
            continue
        seen.add((loc, message))
        problems.append(_problem_at(name, positions, loc, message, key=kind == "extra_forbidden"))
    problems.sort(key=lambda p: (p.line, p.col))
    return problems


_PATTERN_HELP = {
    "name": "must be a hostname: letters, digits and '-', in dot-separated labels",
    "ssh_user": "must be a user name such as ubuntu",
    "external_nic": "must be a network interface name such as eno2 (at most 15 characters)",
    "http": "must be a proxy URL such as http://proxy.example.com:3128",
    "https": "must be a proxy URL such as http://proxy.example.com:3128",
    "no_proxy": "must be a comma-separated list without spaces, "
    "e.g. localhost,10.0.0.0/8,.example.com",
    "channel": "must be a channel such as 2025.1/stable",
    "region": "must use letters, digits, '_' and '-' only, e.g. RegionOne",
    "release": 'must be a release name such as "2025.1"',
}


def _message(err: Any, loc: tuple[str | int, ...], data: Any) -> str:
    kind = err["type"]
    field = next((p for p in reversed(loc) if isinstance(p, str)), "")
    value = err.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {_show(loc[-1])}{hint}"
    if kind == "missing":
        return f"required key {loc[-1]!r} is missing" if loc else "required key is missing"
    if loc == ("release",) and kind == "string_type":
        if isinstance(value, float | int):
            return (
                f"must be a string: YAML reads {value!r} as a number, so quote it: "
                f'release: "{value}"'
            )
        return 'must be a string such as "2025.1"'
    if loc == ("version",):
        return f"must be 1 (the only answers file version this installer reads), not {_show(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping (key: value pairs), not {_kind_of(value)}"
    if kind == "list_type":
        return f"must be a list, not {_kind_of(value)}"
    if kind == "too_short":
        if field == "roles":
            return f"must list at least one role: {_roles('or')}"
        if field == "hosts":
            return "must list at least one host"
        return "must not be empty"
    if kind == "literal_error" and field == "roles":
        return f"{_show(value)} is not a role; roles are {_roles('and')}"
    if kind == "string_pattern_mismatch":
        help_text = _PATTERN_HELP.get(field)
        if field == "name" and loc[:1] == ("deployment",):
            help_text = (
                "must start with a lowercase letter and use lowercase letters, digits and '-'"
            )
        if help_text:
            return f"{_show(value)} {help_text.replace('must', 'is not valid; it must', 1)}"
    if kind == "string_type":
        return f"must be a string, not {_kind_of(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, not {_kind_of(value)}"
    if kind == "bool_type" or kind == "bool_parsing":
        return f"must be true or false, not {_kind_of(value)}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        if field == "vlan":
            return vlan_out_of_range(value)
        return f"{_show(value)} is out of range: {err['msg'].lower()}"
    msg: str = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return msg[0].lower() + msg[1:] if msg else kind


def vlan_out_of_range(value: Any) -> str:
    """The one wording, in files and on the Network screen, for a VLAN id outside 1-4094."""
    return f"VLAN {_show(value)} is out of range; use 1-4094"


SHOW_MAX = 80


def _show(value: Any) -> str:
    """repr(value) for a message, clipped: a value may be a 500 KB string."""
    text = repr(value)
    return text if len(text) <= SHOW_MAX else text[: SHOW_MAX - 4] + "...'"


def _kind_of(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"the text {_show(value)}"
    return type(value).__name__


def _allowed_keys(loc: tuple[str | int, ...]) -> list[str]:
    """The keys the model accepts at `loc` (walking the Answers model)."""
    model: type[BaseModel] | None = Answers
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            continue  # a user's key in a dict of models (software: {charm: {...}})
        model = _model_in(info.annotation)
    return list(model.model_fields) if model else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _roles(conjunction: str) -> str:
    """'control, compute, storage and network': the roles there are, from the schema's list."""
    return f"{', '.join(ROLES[:-1])} {conjunction} {ROLES[-1]}"
