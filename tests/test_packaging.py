"""Packaging metadata stays consistent: the snap wraps the same console script, data ships."""

from __future__ import annotations

import tomllib

import yaml

from .conftest import ROOT


def test_snap_is_classic_and_runs_the_console_script() -> None:
    snap = yaml.safe_load((ROOT / "snap" / "snapcraft.yaml").read_text())
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert snap["name"] == pyproject["project"]["name"] == "sunbeam-install"
    assert snap["confinement"] == "classic"
    assert snap["apps"]["sunbeam-install"]["command"] == "bin/sunbeam-install"
    assert "sunbeam-install" in pyproject["project"]["scripts"]


def test_release_manifests_are_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = pyproject["tool"]["setuptools"]["package-data"]["manifests"]
    assert "releases/*.yaml" in data and "answers.schema.json" in data
