"""Hostile YAML in an answers file: a located FILE:LINE:COL problem, never a traceback, a hang
or gigabytes of memory (alias bombs, self-referencing aliases, deep nesting, huge numbers,
merge keys with a non-mapping)."""

from __future__ import annotations

import tracemalloc

import pytest

from manifests import yamlpos
from manifests.loader import AnswersError, load_answers_text
from manifests.yamlpos import YamlProblem, load_with_positions

from ..conftest import EXAMPLES

GOOD = (EXAMPLES / "three-node.yaml").read_text()


def _laughs(width: int = 9, depth: int = 9) -> str:
    """The billion laughs: `depth` lists, each `width` aliases of the one before."""
    lines = ["a: &a [" + ",".join(['"lol"'] * width) + "]"]
    for i in range(1, depth):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * width) + "]")
    return "\n".join(lines) + "\n"


def only_problem(text: str) -> str:
    with pytest.raises(AnswersError) as e:
        load_answers_text(text, "a.yaml")
    [p] = e.value.problems
    return p.format()


def test_alias_bomb_is_stopped_at_the_alias_with_little_memory() -> None:
    text = _laughs()  # ~350 bytes naming 9**9 = 387 million values
    assert len(text) < 400
    tracemalloc.start()
    try:
        with pytest.raises(AnswersError) as e:
            load_answers_text(text, "bomb.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [p] = e.value.problems
    assert p.file == "bomb.yaml" and p.line >= 1 and p.col > 1
    assert "the alias *" in p.message and f"{yamlpos.MIN_BUDGET:,} values" in p.message
    # The alias it names stands where the position says.
    line = text.splitlines()[p.line - 1]
    assert line[p.col - 1] == "*"
    assert peak < 60 * 1024 * 1024, f"{peak / 2**20:.0f} MiB for a {len(text)}-byte file"


def test_expansion_stops_at_the_budget() -> None:
    builder = yamlpos._Builder(budget=1_000)
    import yaml

    node = yaml.compose(_laughs(width=5, depth=8))
    assert node is not None
    with pytest.raises(YamlProblem):
        builder.build(node, ())
    assert builder.built == 1_001  # the value that crossed the budget, and not one more


def test_ordinary_aliases_fit_the_budget() -> None:
    hosts = "".join(
        f"  - {{name: node{i}, address: 10.20.{i // 200}.{i % 200 + 10}, roles: *r, "
        "osd_devices: *d}\n"
        for i in range(1, 1000)
    )
    text = (
        "roles: &r [compute, storage]\ndevices: &d [/dev/sdb, /dev/sdc, /dev/sdd]\nhosts:\n"
        + hosts
    )
    data, _ = load_with_positions(text)
    assert len(data["hosts"]) == 999 and data["hosts"][-1]["osd_devices"][-1] == "/dev/sdd"


@pytest.mark.parametrize(
    ("addition", "where", "expected"),
    [
        ("extra: &s [*s]\n", "extra[0]", "the alias *s stands inside the value it names"),
        ("extra: &m {a: *m}\n", "extra.a", "the alias *m stands inside the value it names"),
        ("extra: &m\n  <<: *m\n", "extra.<<", "`<<` merges *m, which merges the mapping"),
        ("s: &s 3\nextra:\n  <<: *s\n", "extra.<<", "but *s is the single value '3'"),
        ("q: &q {a: 1}\nextra: {<<: [*q, 3]}\n", "extra.<<[1]", "is the single value '3'"),
        ("extra: " + "9" * 5000 + "\n", "extra", "the number has more than 64 digits"),
        ("extra: 0x" + "f" * 4000 + "\n", "extra", "the number has more than 64 digits"),
        ("extra: " + ":".join(["59"] * 3000) + "\n", "extra", "more than 64 digits"),
        ("extra: 2024-13-45\n", "extra", "cannot read this value: month must be in 1..12"),
        ("extra: !!timestamp x\n", "extra", "cannot read this value as 'timestamp'"),
        ("extra: " + "[" * 900 + "]" * 900 + "\n", "extra", "nest more than 64 levels"),
        (
            "extra:\n" + "".join("  " * d + f"k{d}:\n" for d in range(1, 600)),
            "extra.k1.k2",
            "nest more than 64 levels",
        ),
    ],
)
def test_hostile_structure_is_a_located_problem(addition: str, where: str, expected: str) -> None:
    text = GOOD + addition
    problem = only_problem(text)
    first_new_line = GOOD.count("\n") + 1
    file, line, col, rest = problem.split(":", 3)
    assert file == "a.yaml" and int(line) >= first_new_line and int(col) >= 1, problem
    assert rest.lstrip().startswith(where) and expected in rest, problem


def test_the_alias_of_a_self_reference_is_located() -> None:
    p = only_problem(GOOD + "extra: &s [1, *s]\n")
    assert p.startswith(f"a.yaml:{GOOD.count(chr(10)) + 1}:15: extra[1]: the alias *s"), p


def test_merge_keys_give_what_the_mapping_does_not_override() -> None:
    data, positions = load_with_positions(
        "base: &b {a: 1, b: 2}\nmore: &m {c: 3, <<: *b}\n"
        "x:\n  <<: [*m, {a: 9, d: 4}]\n  b: 20\n"
    )
    # Its own b wins; of the merged, the first listed wins (a from *b, through *m).
    assert data["x"] == {"b": 20, "c": 3, "a": 1, "d": 4}
    assert positions.keys[("x", "b")].line == 5
