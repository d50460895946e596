"""Shared inputs: the checked-in facts of three servers and a laptop VM, and answers that match
them, so each test breaks exactly one thing and expects exactly one finding."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from manifests.answers import Answers
from manifests.release import Release, load_release
from probes.facts import HostFacts

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def load_facts(name: str) -> HostFacts:
    return HostFacts.model_validate_json((FIXTURES / "facts" / f"{name}.json").read_text())


def raw_answers(name: str) -> dict[str, Any]:
    data = yaml.safe_load((FIXTURES / "answers" / f"preflight-{name}.yaml").read_text())
    assert isinstance(data, dict)
    return data


def at(data: Any, path: list[str | int]) -> Any:
    """The value at an answers path in the raw YAML data: proves a Finding points at it."""
    for part in path:
        data = data[part]
    return data


@pytest.fixture(scope="session")
def release() -> Release:
    return load_release("2025.1")


@pytest.fixture
def raw3() -> dict[str, Any]:
    return raw_answers("three-node")


@pytest.fixture
def facts3() -> dict[str, HostFacts]:
    return {n: load_facts(n) for n in ("node1", "node2", "node3")}


@pytest.fixture
def raw1() -> dict[str, Any]:
    return raw_answers("single-node")


@pytest.fixture
def facts1() -> dict[str, HostFacts]:
    return {"sunbeam-vm": load_facts("sunbeam-vm")}


@pytest.fixture
def answers() -> Callable[[dict[str, Any]], Answers]:
    def build(raw: dict[str, Any]) -> Answers:
        return Answers.model_validate(copy.deepcopy(raw))

    return build
