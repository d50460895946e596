"""Golden deployments, written by hand from Sunbeam's sources (not from the code under test).

Citations: R = /work/shared/reference/sunbeam-deployment.md, C = .../sunbeam-charms.md (each
with the snap-openstack / sunbeam-terraform lines they cite). Scales: R §2.1 "Scale functions"
(steps/openstack.py:287-306); a cloud with 3 control hosts and fewer than 10 control+compute
nodes is `multi`: ha-scale 3, os-api-scale min(3, 3) = 3, ingress-scale 3. One node: all 1.
"""

from __future__ import annotations

from installer.planner import bundle
from manifests.release import load_release
from tests.installer.lab.helpers import example

ROUTED = ("keystone", "glance", "nova", "horizon", "neutron", "placement", "cinder")


def _units(name: str) -> dict[str, dict[str, int | None]]:
    a = example(name)
    b = bundle(a, load_release(a.release))
    return {
        model: {app: spec.get("num_units") for app, spec in m["applications"].items()}  # type: ignore[attr-defined]
        for model, m in b.items()
    }


# R §2.2 (machine charms, placed by role; subordinates have no num_units) and R §2.1 (the
# openstack model: core apps, one mysql-router per service plus nova-api/nova-cell, traefik-rgw
# and cinder-volume-mysql-router with storage) with R §3 for features dns (designate + bind) and
# orchestration (heat).
THREE_NODE = {
    "openstack-machines": {
        "sunbeam-machine": 3, "epa-orchestrator": None, "k8s": 3, "openstack-hypervisor": 3,
        "microceph": 3, "cinder-volume": 3, "cinder-volume-ceph": None,
    },
    "openstack": {
        "mysql": 3, "rabbitmq": 3, "traefik": 3, "traefik-public": 3, "traefik-rgw": 3,
        "certificate-authority": 1,
        **{svc: 3 for svc in ROUTED},
        **{f"{svc}-mysql-router": 3 for svc in ROUTED},
        "nova-api-mysql-router": 3, "nova-cell-mysql-router": 3,
        "cinder-volume-mysql-router": 3, "ovn-central": 3, "ovn-relay": 3,
        "designate": 3, "designate-mysql-router": 3, "bind": 3,
        "heat": 3, "heat-mysql-router": 3,
    },
}


def test_three_node_applications_and_scales() -> None:
    assert _units("three-node") == THREE_NODE


def test_single_node_applications_and_scales() -> None:
    expected = {m: {app: (None if n is None else 1) for app, n in apps.items()}
                for m, apps in THREE_NODE.items()}
    for app in ("designate", "designate-mysql-router", "bind", "heat", "heat-mysql-router"):
        del expected["openstack"][app]  # no features in the single-node example
    assert _units("single-node") == expected


def test_twelve_node_applications_and_scales() -> None:
    # 3 control + 6 compute = 9 nodes < 10: `multi` (R §2.1); storage hosts do not count.
    # Features dns, telemetry, vault, secrets, loadbalancer (R §3): telemetry brings aodh,
    # gnocchi, ceilometer (ha-scale) and openstack-exporter (1 unit, main.tf); vault ha-scale.
    got = _units("twelve-node")
    assert got["openstack-machines"] == {
        "sunbeam-machine": 12, "epa-orchestrator": None, "k8s": 3, "openstack-hypervisor": 6,
        "microceph": 3, "cinder-volume": 3, "cinder-volume-ceph": None,
    }
    expected = {k: v for k, v in THREE_NODE["openstack"].items() if not k.startswith("heat")}
    expected.update({
        "vault": 3, "barbican": 3, "barbican-mysql-router": 3, "aodh": 3,
        "aodh-mysql-router": 3, "gnocchi": 3, "gnocchi-mysql-router": 3, "ceilometer": 3,
        "openstack-exporter": 1, "octavia": 3, "octavia-mysql-router": 3,
    })
    assert got["openstack"] == expected


# R §8 and C §2: every integration of the three-node cloud, per model. In openstack-machines
# the consumed offers appear under their offer names (R §8 "Offers made"; sunbeam-terraform
# modules/openstack-api/main.tf:519-556, modules/rabbitmq/main.tf:49, modules/ovn/main.tf:135;
# unnamed offers take their application's name).
def _per_service() -> set[frozenset[str]]:
    out = set()
    for svc in ROUTED:  # modules/openstack-api/main.tf:60-86, 211-272
        out.add(frozenset({f"{svc}-mysql-router:backend-database", "mysql:database"}))
        out.add(frozenset({f"{svc}:database", f"{svc}-mysql-router:database"}))
        out.add(frozenset({f"{svc}:ingress-internal", "traefik:ingress"}))
        out.add(frozenset({f"{svc}:ingress-public", "traefik-public:ingress"}))
        if svc != "keystone":
            out.add(frozenset({f"{svc}:receive-ca-cert", "keystone:send-ca-cert"}))
    for svc in ("glance", "keystone", "nova", "neutron", "cinder"):  # amqp (89-102)
        out.add(frozenset({f"{svc}:amqp", "rabbitmq:amqp"}))
    for svc in ("glance", "nova", "neutron", "placement", "cinder"):  # identity-service (105-118)
        out.add(frozenset({f"{svc}:identity-service", "keystone:identity-service"}))
    return out


OPENSTACK_RELATIONS = _per_service() | {
    frozenset(pair) for pair in (
        ("horizon:identity-credentials", "keystone:identity-credentials"),
        ("horizon:identity-endpoints", "keystone:identity-endpoints"),
        ("nova:api-database", "nova-api-mysql-router:database"),
        ("nova-api-mysql-router:backend-database", "mysql:database"),
        ("nova:cell-database", "nova-cell-mysql-router:database"),
        ("nova-cell-mysql-router:backend-database", "mysql:database"),
        ("nova:traefik-route-public", "traefik-public:traefik-route"),
        ("nova:traefik-route-internal", "traefik:traefik-route"),
        ("ovn-central:ovsdb-cms", "ovn-relay:ovsdb-cms"),
        ("ovn-central:certificates", "certificate-authority:certificates"),
        ("ovn-relay:certificates", "certificate-authority:certificates"),
        ("ovn-central:ovsdb-cms", "neutron:ovsdb-cms"),
        ("neutron:certificates", "certificate-authority:certificates"),
        ("nova:placement", "placement:placement"),
        ("horizon:cors-origin", "glance:cors-origin"),
        ("keystone:trusted-dashboard", "horizon:trusted-dashboard"),
        ("glance:ceph", "microceph:ceph"),  # consumed offer `microceph`
        ("cinder-volume-mysql-router:backend-database", "mysql:database"),
        ("cinder:storage-backend", "cinder-volume:storage-backend"),  # consumed `cinder-volume`
        # dns (main.tf:1423, 1438 and the module)
        ("designate-mysql-router:backend-database", "mysql:database"),
        ("designate:database", "designate-mysql-router:database"),
        ("designate:amqp", "rabbitmq:amqp"),
        ("designate:identity-service", "keystone:identity-service"),
        ("designate:receive-ca-cert", "keystone:send-ca-cert"),
        ("designate:ingress-internal", "traefik:ingress"),
        ("designate:ingress-public", "traefik-public:ingress"),
        ("designate:dns-backend", "bind:dns-backend"),
        ("designate:dnsaas", "neutron:external-dns"),
        # orchestration: heat uses traefik-route, not ingress (main.tf:862-892)
        ("heat-mysql-router:backend-database", "mysql:database"),
        ("heat:database", "heat-mysql-router:database"),
        ("heat:amqp", "rabbitmq:amqp"),
        ("heat:identity-service", "keystone:identity-service"),
        ("heat:identity-ops", "keystone:identity-ops"),
        ("heat:receive-ca-cert", "keystone:send-ca-cert"),
        ("heat:traefik-route-public", "traefik-public:traefik-route"),
        ("heat:traefik-route-internal", "traefik:traefik-route"),
    )
}

# R §8 "Machine-side cross-model integrations" / C §2 (S:cloud/etc/deploy-*/main.tf).
MACHINE_RELATIONS = {
    frozenset(pair) for pair in (
        ("epa-orchestrator:sunbeam-machine", "sunbeam-machine:sunbeam-machine"),
        ("openstack-hypervisor:amqp", "rabbitmq:amqp"),
        ("openstack-hypervisor:identity-credentials", "keystone-credentials:identity-credentials"),
        ("openstack-hypervisor:receive-ca-cert", "cert-distributor:send-ca-cert"),
        ("openstack-hypervisor:certificates", "certificate-authority:certificates"),
        ("openstack-hypervisor:ovsdb-cms", "ovn-relay:ovsdb-cms-relay"),
        ("openstack-hypervisor:nova-service", "nova:nova-service"),
        ("openstack-hypervisor:ceph-access", "cinder-volume-ceph:ceph-access"),
        ("microceph:identity-service", "keystone-endpoints:identity-service"),
        ("microceph:traefik-route-rgw", "traefik-rgw:traefik-route"),
        ("microceph:receive-ca-cert", "cert-distributor:send-ca-cert"),
        ("cinder-volume:identity-credentials", "keystone-credentials:identity-credentials"),
        ("cinder-volume:amqp", "rabbitmq:amqp"),
        ("cinder-volume:database", "cinder-volume-mysql-router:database"),
        ("cinder-volume:receive-ca-cert", "cert-distributor:send-ca-cert"),
        ("cinder-volume-ceph:cinder-volume", "cinder-volume:cinder-volume"),
        ("cinder-volume-ceph:ceph", "microceph:ceph"),
    )
}


def test_three_node_integrations_offers_and_consumed_offers() -> None:
    a = example("three-node")
    b = bundle(a, load_release(a.release))
    rel = {m: {frozenset(r) for r in b[m]["relations"]} for m in b}  # type: ignore[attr-defined]
    assert rel["openstack"] == OPENSTACK_RELATIONS
    assert rel["openstack-machines"] == MACHINE_RELATIONS
    assert len(b["openstack"]["relations"]) == len(OPENSTACK_RELATIONS)  # type: ignore[arg-type]
    # Never made by Sunbeam (R §10.1 lines 81, 93).
    assert not {r for r in rel["openstack"] if "keystone:certificates" in r}
    assert not {r for r in rel["openstack"] if any("image-service" in e for e in r)}
    saas = {m: set(b[m].get("saas", {})) for m in b}  # type: ignore[attr-defined]
    assert saas == {
        "openstack": {"microceph", "cinder-volume"},
        "openstack-machines": {
            "rabbitmq", "keystone-credentials", "keystone-endpoints", "cert-distributor",
            "certificate-authority", "ovn-relay", "nova", "traefik-rgw",
            "cinder-volume-mysql-router",
        },
    }
    apps = b["openstack"]["applications"]
    assert apps["keystone"]["offers"] == {  # type: ignore[index]
        "keystone-credentials": {"endpoints": ["identity-credentials"]},
        "keystone-endpoints": {"endpoints": ["identity-service"]},
        "keystone-ops": {"endpoints": ["identity-ops"]},
        "cert-distributor": {"endpoints": ["send-ca-cert"]},
    }


def test_three_node_charms_channels_bases_trust() -> None:
    # R §2.1 table: charm, channel, base, trust per application.
    a = example("three-node")
    apps = bundle(a, load_release(a.release))["openstack"]["applications"]
    want = {
        "mysql": ("mysql-k8s", "8.0/stable", "ubuntu@22.04", True),
        "keystone-mysql-router": ("mysql-router-k8s", "8.0/stable", "ubuntu@22.04", True),
        "rabbitmq": ("rabbitmq-k8s", "3.12/stable", "ubuntu@24.04", True),
        "traefik-public": ("traefik-k8s", "latest/stable", "ubuntu@20.04", True),
        "certificate-authority": ("self-signed-certificates", "1/stable", "ubuntu@24.04", True),
        "keystone": ("keystone-k8s", "2025.1/stable", "ubuntu@24.04", False),
        "glance": ("glance-k8s", "2025.1/stable", "ubuntu@24.04", True),
        "nova": ("nova-k8s", "2025.1/stable", "ubuntu@24.04", False),
        "ovn-central": ("ovn-central-k8s", "25.03/stable", "ubuntu@24.04", False),
        "ovn-relay": ("ovn-relay-k8s", "25.03/stable", "ubuntu@24.04", True),
        "bind": ("designate-bind-k8s", "9/stable", "ubuntu@24.04", True),
    }
    for app, (charm, channel, base, trust) in want.items():
        spec = apps[app]  # type: ignore[index]
        assert (spec["charm"], spec["channel"], spec["base"], spec.get("trust", False)) == (
            charm, channel, base, trust), app
    assert apps["certificate-authority"]["options"] == {"ca-common-name": "internal-ca"}  # type: ignore[index]
    machines = bundle(a, load_release(a.release))["openstack-machines"]["applications"]
    assert machines["k8s"]["options"]["load-balancer-cidrs"] == "10.20.0.200-10.20.0.220"  # type: ignore[index]
    assert machines["microceph"]["channel"] == "squid/stable"  # type: ignore[index]
    assert machines["openstack-hypervisor"]["to"] == ["0", "1", "2"]  # type: ignore[index]
