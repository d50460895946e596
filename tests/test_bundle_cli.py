"""`sunbeam-install bundle FILE [--json]`: Juju bundles per model, from the plan's data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from installer.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_bundle_json_has_both_models_with_sunbeam_names(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", str(EXAMPLES / "three-node.yaml"), "--json"]) == 0
    models = json.loads(capsys.readouterr().out)["models"]
    # reference sunbeam-deployment.md §2: machines in openstack-machines, the control plane in
    # openstack, one mysql-router per service.
    assert set(models) == {"openstack-machines", "openstack"}
    apps = models["openstack"]["applications"]
    assert {"keystone", "keystone-mysql-router", "nova", "traefik", "traefik-public"} <= set(apps)
    assert apps["keystone"]["num_units"] == 3  # three control hosts: HA
    assert "openstack-hypervisor" in models["openstack-machines"]["applications"]


def test_bundle_yaml_is_one_document_per_model_and_hides_proxy_credentials(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (EXAMPLES / "twelve-node.yaml").read_text()
    data = yaml.safe_load(text)
    data["proxy"]["http"] = "http://alice:s3cret-pw@proxy.example:3128"
    f = tmp_path / "a.yaml"
    f.write_text(yaml.safe_dump(data))
    assert main(["bundle", str(f)]) == 0
    out = capsys.readouterr().out
    docs = list(yaml.safe_load_all(out))
    assert len(docs) == 2 and all("applications" in d for d in docs)
    assert "s3cret-pw" not in out
    # sunbeam-machine prepares each host behind the proxy: its options carry it, hidden.
    assert "http://***@proxy.example:3128" in out
