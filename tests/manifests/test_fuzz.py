"""Random YAML thrown at the loader: a list of problems or a valid Answers, never a traceback."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from manifests.answers import Answers
from manifests.loader import AnswersError, load_answers_bytes, load_answers_text

from ..conftest import EXAMPLES

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["10.20.0.0/24", "10.20.0.1-10.20.0.9", "control", "2025.1", "/dev/sdb", "1"]),
)
keys = st.one_of(
    st.text(min_size=1, max_size=12),
    st.sampled_from(
        [
            "version",
            "release",
            "hosts",
            "network",
            "roles",
            "name",
            "address",
            "management_cidr",
            "loadbalancer_range",
            "external",
            "features",
            "software",
            "proxy",
            "identity",
            "osd_devices",
        ]
    ),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=25,
)


def _check(load) -> None:  # type: ignore[no-untyped-def]
    try:
        result = load()
    except AnswersError as e:
        assert e.problems
        for p in e.problems:
            assert p.format().count(":") >= 3 and p.message
        return
    assert isinstance(result.answers, Answers)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_documents(doc: object) -> None:
    _check(lambda: load_answers_text(yaml.safe_dump(doc), "fuzz.yaml"))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes(raw: bytes) -> None:
    _check(lambda: load_answers_bytes(raw, "fuzz.yaml"))


GOOD = (EXAMPLES / "three-node.yaml").read_text()


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(GOOD) - 1), st.integers(1, 40), st.text(max_size=8))
def test_mangled_example(at: int, cut: int, insert: str) -> None:
    text = GOOD[:at] + insert + GOOD[at + cut :]
    _check(lambda: load_answers_text(text, "fuzz.yaml"))
