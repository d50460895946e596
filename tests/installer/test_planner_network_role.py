"""The `network` role (reference sunbeam-deployment.md §4 "network", §2.2, §8 "microovn"):
MicroOVN with its openstack-network-agents subordinate and one microcluster-token-distributor
on the network hosts, no sunbeam-machine there; compute and network on one host refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from installer.cli import main
from manifests.loader import AnswersError, load_answers_text

ROOT = Path(__file__).resolve().parents[2]
SINGLE = (ROOT / "examples" / "single-node.yaml").read_text()
GOLDEN = ROOT / "tests" / "fixtures" / "bundles"

# The single-node example plus one network-only host, net1 (machine 1).
NET_HOST = """  - name: net1
    address: 10.20.0.31
    ssh_user: ubuntu
    roles: [network]
"""


def _with_network_host(extra: str = NET_HOST) -> str:
    head, sep, tail = SINGLE.partition("\nnetwork:\n")
    return head + "\n" + extra + sep.lstrip("\n") + tail


def _golden() -> dict[str, Any]:
    """single-node.yaml's golden bundle plus what the network host brings, by hand from the
    reference: §2.2 (microovn 25.03/stable in 2025.1 (M25), openstack-network-agents on the
    OpenStack channel as a subordinate through juju-info, microcluster-token-distributor
    v1/stable on the first microovn machine; all ubuntu@24.04), §4 (network: not
    sunbeam-machine), §8 machine side "microovn" (cluster, certificates through the CA offer,
    ovsdb-external through the ovn-relay offer, juju-info). No sunbeam-ovn-proxy: the 2025.1
    OVN provider is ovn-k8s (§2.2, §8 "Assumed defaults")."""
    g: dict[str, Any] = yaml.safe_load((GOLDEN / "single-node.yaml").read_text())["models"]
    m = g["openstack-machines"]
    m["applications"].update({
        "microovn": {"charm": "microovn", "channel": "25.03/stable", "base": "ubuntu@24.04",
                     "num_units": 1, "to": ["1"]},
        "openstack-network-agents": {"charm": "openstack-network-agents",
                                     "channel": "2025.1/stable", "base": "ubuntu@24.04",
                                     "options": {"snap-channel": "2025.1/stable",
                                                 "use-data-binding": True}},
        "microcluster-token-distributor": {"charm": "microcluster-token-distributor",
                                           "channel": "v1/stable", "base": "ubuntu@24.04",
                                           "num_units": 1, "to": ["1"]},
    })
    m["relations"] += [
        ["microovn:cluster", "microcluster-token-distributor:microcluster-cluster"],
        ["microovn:certificates", "certificate-authority:certificates"],
        ["microovn:ovsdb-external", "ovn-relay:ovsdb-cms-relay"],
        ["microovn:juju-info", "openstack-network-agents:juju-info"],
    ]
    return g


def test_network_host_bundle_matches_golden(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_golden_bundles import _compare

    f = tmp_path / "net.yaml"
    f.write_text(_with_network_host())
    assert main(["bundle", str(f), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["models"]
    diffs = _compare(_golden(), got)
    assert not diffs, "\n".join(diffs)
    assert got["openstack-machines"]["machines"] == {
        "0": {"base": "ubuntu@24.04"}, "1": {"base": "ubuntu@24.04"}}


def _problems(text: str) -> list[str]:
    with pytest.raises(AnswersError) as e:
        load_answers_text(text, "a.yaml")
    return [p.format() for p in e.value.problems]


def test_compute_and_network_on_one_host_is_refused() -> None:
    text = SINGLE.replace("roles: [control, compute, storage]",
                          "roles: [control, compute, storage, network]")
    (p,) = _problems(text)
    assert "hosts[0].roles: host node1 has both the compute and the network role" in p


def test_external_nic_on_a_network_host_is_refused_with_why() -> None:
    (p,) = _problems(_with_network_host(NET_HOST + "    external_nic: eno3\n"))
    assert "hosts[1].external_nic: host net1 is a network host with an external_nic" in p
    assert "compute hosts only" in p


def test_network_host_validates() -> None:
    a = load_answers_text(_with_network_host(), "a.yaml").answers
    assert a.hosts_with("network")[0].name == "net1"


def test_network_host_installs_in_the_lab(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The lab knows the network charms' endpoints (installer/lab/charms.py): MicroOVN and its
    token distributor land on net1, the network agents follow microovn as its subordinate."""
    f = tmp_path / "net.yaml"
    f.write_text(_with_network_host())
    rc = main(["--answers", str(f), "--dry-run", "--yes", "--state-dir", str(tmp_path / "s"),
               "--time-scale", "0"])
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    for step in ("juju.deploy:microovn", "juju.deploy:openstack-network-agents",
                 "juju.deploy:microcluster-token-distributor",
                 "juju.integrate:microovn:ovsdb-external/ovn-relay:ovsdb-cms-relay",
                 "juju.integrate:openstack-network-agents:juju-info/microovn:juju-info"):
        assert f"done   {step} " in out, step
    assert "Deploy microovn (microovn 25.03/stable, on net1)" in out
