"""Features and their requirements: one behaviour (README `features`). A feature whose
requirements are not listed is refused with a hint naming all of them, those of its requirements
too; validation says it first and the planner agrees. (Sunbeam enables them with it,
features/interface/v1/base.py:724-759; this installer keeps the answers file complete instead.)
Requirements from reference sunbeam-deployment.md §3: caas needs secrets and loadbalancer,
secrets needs vault, resource-optimization needs telemetry."""

from __future__ import annotations

import pytest

from installer.planner import PlanError, plan
from manifests.loader import AnswersError, load_answers_text
from manifests.release import load_release

from ..conftest import EXAMPLES

THREE = (EXAMPLES / "three-node.yaml").read_text()


def _with(features: str) -> str:
    return THREE.replace("features: [dns, orchestration]", f"features: {features}")


def _problems(text: str) -> list[str]:
    with pytest.raises(AnswersError) as e:
        load_answers_text(text, "a.yaml")
    return [p.format() for p in e.value.problems]


@pytest.mark.parametrize("release", ["2024.1", "2025.1"])
def test_manifest_requirements_are_the_reference_ones(release: str) -> None:
    r = load_release(release)
    assert r.feature_needs("caas") == ["secrets", "loadbalancer", "vault"]
    assert r.feature_needs("secrets") == ["vault"]
    assert r.feature_needs("resource-optimization") == ["telemetry"]
    assert r.feature_needs("dns") == []


def test_caas_alone_names_every_missing_requirement_at_once() -> None:
    (p,) = _problems(_with("[caas]"))
    assert p.endswith(
        "features[0]: feature 'caas' needs the features 'secrets', 'loadbalancer', 'vault'; "
        "add secrets, loadbalancer, vault to features"
    )


def test_a_requirement_listed_is_not_asked_for_again() -> None:
    caas, secrets = _problems(_with("[caas, secrets]"))
    # secrets itself needs vault: both entries say so, each pointing at its own item.
    assert "features[0]: feature 'caas' needs the features 'loadbalancer', 'vault'" in caas
    assert "features[1]: feature 'secrets' needs the feature 'vault'" in secrets


def test_resource_optimization_needs_telemetry() -> None:
    (p,) = _problems(_with("[resource-optimization]"))
    assert "feature 'resource-optimization' needs the feature 'telemetry'" in p


def test_complete_list_validates_and_plans_every_feature() -> None:
    a = load_answers_text(_with("[caas, secrets, loadbalancer, vault]"), "a.yaml").answers
    p = plan(a, load_release(a.release))
    for app in ("magnum", "barbican", "octavia", "vault"):
        assert f"juju.deploy:{app}" in p


def test_planner_refuses_as_validation_does() -> None:
    a = load_answers_text(THREE, "a.yaml").answers.model_copy(update={"features": ["caas"]})
    with pytest.raises(PlanError, match="Feature 'caas' needs secrets, loadbalancer, vault"):
        plan(a, load_release(a.release))
