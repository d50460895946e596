"""What the lab knows of each charm: its endpoints (role, interface), the relations it needs
before it goes active and the status it shows without them, as the real charms do.

The lab reads this, never the release manifest, so it checks the planner independently. Facts
from the charms' metadata (charmcraft.yaml / metadata.yaml) and source: sunbeam-charms
stable/2025.1, charm-microceph stable/squid, mysql-router-k8s-operator, traefik-k8s,
self-signed-certificates, vault-k8s and k8s-operator release-1.32. Only the endpoints Sunbeam
wires are listed for the charms outside sunbeam-charms.

ops-sunbeam charms (`OPS_SUNBEAM`): every `requires` endpoint without `optional: true` (plus the
class's `mandatory_relations`) is mandatory; while one is missing the unit is blocked with
"(<endpoint>) integration missing".
"""

from __future__ import annotations

from dataclasses import dataclass, field

P, R = "provides", "requires"


@dataclass(frozen=True)
class CharmMeta:
    endpoints: dict[str, tuple[str, str]]  # endpoint -> (provides|requires, interface)
    mandatory: tuple[str, ...] = ()  # in the order the charm reports them
    ops_sunbeam: bool = True  # "(x) integration missing" status format
    subordinate: bool = False
    container_scoped: tuple[str, ...] = ()  # the subordinate's endpoint to its principal
    snap: str | None = None  # the snap the charm installs on its machine
    # (status, message) once its relations are there but before a backend exists, etc.
    extra: dict[str, tuple[str, str]] = field(default_factory=dict)


def _api(*mandatory: str, **extra: tuple[str, str]) -> dict[str, tuple[str, str]]:
    """The endpoints every ops-sunbeam API charm has (ops_sunbeam/charm.py:164-236, 945-985)."""
    base = {
        "database": (R, "mysql_client"),
        "ingress-internal": (R, "ingress"),
        "ingress-public": (R, "ingress"),
        "identity-service": (R, "keystone"),
        "amqp": (R, "rabbitmq"),
        "receive-ca-cert": (R, "certificate_transfer"),
        "logging": (R, "loki_push_api"),
        "tracing": (R, "tracing"),
    }
    base.update(extra)
    del mandatory
    return base


CHARMS: dict[str, CharmMeta] = {
    "keystone-k8s": CharmMeta(
        {**_api(), "domain-config": (R, "keystone-domain-config"),
         "trusted-dashboard": (R, "trusted-dashboard"),
         "identity-service": (P, "keystone"), "identity-credentials": (P, "keystone-credentials"),
         "identity-ops": (P, "keystone-resources"), "send-ca-cert": (P, "certificate_transfer"),
         "identity-endpoints": (P, "keystone-endpoints")},
        ("database", "ingress-internal"),
    ),
    # ceph is mandatory but satisfied by local storage (glance-k8s src/charm.py:128-205): the
    # lab's glance has its local-repository storage, so it needs no ceph relation.
    "glance-k8s": CharmMeta(
        {**_api(), "ceph": (R, "ceph-client"), "ceph-rgw-ready": (R, "ceph-rgw-client"),
         "cors-origin": (R, "cors-origin"), "image-service": (P, "glance")},
        ("database", "ingress-internal", "identity-service"),
    ),
    "nova-k8s": CharmMeta(
        {**_api(), "traefik-route-internal": (R, "traefik_route"),
         "traefik-route-public": (R, "traefik_route"), "api-database": (R, "mysql_client"),
         "cell-database": (R, "mysql_client"), "placement": (R, "placement"),
         "cloud-compute": (R, "nova-compute"), "nova-service": (P, "nova")},
        ("ingress-internal", "traefik-route-internal", "database", "api-database",
         "cell-database", "amqp", "identity-service", "placement"),
    ),
    "placement-k8s": CharmMeta(
        {**_api(), "placement": (P, "placement")},
        ("database", "identity-service", "ingress-internal"),
    ),
    "neutron-k8s": CharmMeta(
        {**_api(), "ovsdb-cms": (R, "ovsdb-cms"), "certificates": (R, "tls-certificates"),
         "external-dns": (R, "designate"), "neutron-api": (P, "neutron-api")},
        ("ingress-internal", "database", "amqp", "identity-service", "ovsdb-cms"),
    ),
    "horizon-k8s": CharmMeta(
        {**_api(), "identity-credentials": (R, "keystone-credentials"),
         "identity-endpoints": (R, "keystone-endpoints"), "horizon": (P, "horizon"),
         "trusted-dashboard": (P, "trusted-dashboard"), "cors-origin": (P, "cors-origin")},
        ("database", "ingress-internal", "identity-credentials"),
    ),
    "cinder-k8s": CharmMeta(
        {**_api(), "storage-backend": (R, "cinder-backend"), "image-service": (R, "glance")},
        ("database", "ingress-internal", "identity-service", "amqp", "storage-backend"),
    ),
    "ovn-central-k8s": CharmMeta(
        {"certificates": (R, "tls-certificates"), "ovsdb": (P, "ovsdb"),
         "ovsdb-cms": (P, "ovsdb-cms"), "ovsdb-server": (P, "ovsdb-cluster")},
        ("certificates",),
    ),
    "ovn-relay-k8s": CharmMeta(
        {"ovsdb-cms": (R, "ovsdb-cms"), "certificates": (R, "tls-certificates"),
         "ovsdb-cms-relay": (P, "ovsdb-cms")},
        ("ovsdb-cms", "certificates"),
    ),
    "openstack-hypervisor": CharmMeta(
        {"amqp": (R, "rabbitmq"), "identity-credentials": (R, "keystone-credentials"),
         "ovsdb-cms": (R, "ovsdb-cms"), "certificates": (R, "tls-certificates"),
         "ceilometer-service": (R, "ceilometer"), "ceph-access": (R, "cinder-ceph-key"),
         "receive-ca-cert": (R, "certificate_transfer"), "nova-service": (R, "nova"),
         "masakari-service": (R, "service-ready"), "barbican-service": (R, "service-ready"),
         "cos-agent": (P, "cos_agent")},
        ("amqp", "identity-credentials", "ovsdb-cms", "nova-service"),
        snap="openstack-hypervisor",
        # certificates is optional in metadata but configure_unit needs its data (charm.py:1077).
        extra={"certificates": ("waiting", "(workload) Data missing: certificates")},
    ),
    "cinder-volume": CharmMeta(
        {"amqp": (R, "rabbitmq"), "database": (R, "mysql_client"),
         "identity-credentials": (R, "keystone-credentials"),
         "receive-ca-cert": (R, "certificate_transfer"),
         "storage-backend": (P, "cinder-backend"), "cinder-volume": (P, "cinder-volume")},
        ("amqp", "database", "identity-credentials", "storage-backend"),
        snap="cinder-volume",
        # Without a backend subordinate on `cinder-volume` (charm.py:279-285).
        extra={"cinder-volume": ("waiting", "(workload) Waiting for backends")},
    ),
    "cinder-volume-ceph": CharmMeta(
        {"ceph": (R, "ceph-client"), "cinder-volume": (R, "cinder-volume"),
         "ceph-access": (P, "cinder-ceph-key")},
        ("ceph", "cinder-volume"),
        subordinate=True,
        container_scoped=("cinder-volume",),
    ),
    "sunbeam-machine": CharmMeta({"sunbeam-machine": (P, "sunbeam-machine")}),
    "epa-orchestrator": CharmMeta(
        {"sunbeam-machine": (R, "sunbeam-machine")}, ("sunbeam-machine",),
        subordinate=True, container_scoped=("sunbeam-machine",), snap="epa-orchestrator",
    ),
    # The network role (deploy-microovn). microovn's endpoints from its metadata.yaml
    # (canonical/microovn-operator microovn/metadata.yaml) plus Juju's implicit juju-info; the
    # token distributor's from its charmcraft.yaml; openstack-network-agents is a subordinate
    # through juju-info (reference sunbeam-deployment.md §2.2). Their statuses without
    # relations are not in the reference: the lab blocks none of them (no mandatory list).
    "microovn": CharmMeta(
        {"cluster": (R, "worker-cluster"), "certificates": (R, "tls-certificates"),
         "ovsdb-external": (R, "ovsdb-cms"), "ovsdb": (P, "ovsdb"),
         "cos-agent": (P, "cos_agent"), "juju-info": (P, "juju-info")},
        ops_sunbeam=False,
    ),
    "microcluster-token-distributor": CharmMeta(
        {"microcluster-cluster": (P, "worker-cluster")}, ops_sunbeam=False,
    ),
    "openstack-network-agents": CharmMeta(
        {"juju-info": (R, "juju-info")},
        subordinate=True, container_scoped=("juju-info",), snap="openstack-network-agents",
    ),
    "designate-k8s": CharmMeta(
        {**_api(), "dns-backend": (R, "bind-rndc"), "dnsaas": (P, "designate")},
        ("database", "identity-service", "ingress-internal", "amqp", "dns-backend"),
    ),
    "designate-bind-k8s": CharmMeta({"dns-backend": (P, "bind-rndc")}),
    "heat-k8s": CharmMeta(
        {"database": (R, "mysql_client"), "identity-service": (R, "keystone"),
         "traefik-route-internal": (R, "traefik_route"),
         "traefik-route-public": (R, "traefik_route"), "amqp": (R, "rabbitmq"),
         "identity-ops": (R, "keystone-resources"),
         "receive-ca-cert": (R, "certificate_transfer")},
        ("database", "identity-service", "traefik-route-internal", "amqp", "identity-ops"),
    ),
    "barbican-k8s": CharmMeta(
        {**_api(), "identity-ops": (R, "keystone-resources"), "vault-kv": (R, "vault-kv"),
         "barbican-service": (P, "service-ready")},
        ("ingress-internal", "database", "identity-service", "amqp", "vault-kv"),
    ),
    "aodh-k8s": CharmMeta(
        {**_api(), "aodh": (P, "aodh")},
        ("database", "identity-service", "ingress-internal", "amqp"),
    ),
    "gnocchi-k8s": CharmMeta(
        {**_api(), "ceph": (R, "ceph-client"), "s3-credentials": (R, "s3"),
         "gnocchi-service": (P, "gnocchi")},
        ("database", "identity-service", "ingress-internal"),
    ),
    "ceilometer-k8s": CharmMeta(
        {"amqp": (R, "rabbitmq"), "identity-credentials": (R, "keystone-credentials"),
         "gnocchi-db": (R, "gnocchi"), "receive-ca-cert": (R, "certificate_transfer"),
         "ceilometer-service": (P, "ceilometer")},
        ("amqp", "identity-credentials", "gnocchi-db"),
    ),
    "octavia-k8s": CharmMeta(
        {**_api(), "ovsdb-cms": (R, "ovsdb-cms"), "certificates": (R, "tls-certificates"),
         "identity-ops": (R, "keystone-resources"), "barbican-service": (R, "service-ready")},
        ("database", "identity-service", "ingress-internal", "ovsdb-cms", "certificates"),
    ),
    "magnum-k8s": CharmMeta(
        {**_api(), "identity-ops": (R, "keystone-resources")},
        ("database", "identity-service", "identity-ops", "ingress-internal", "amqp"),
    ),
    "masakari-k8s": CharmMeta(
        {**_api(), "masakari-service": (P, "service-ready")},
        ("amqp", "database", "identity-service", "ingress-internal"),
    ),
    "watcher-k8s": CharmMeta(
        {**_api(), "gnocchi-db": (R, "gnocchi")},
        ("database", "identity-service", "ingress-internal"),
    ),
    "openstack-images-sync-k8s": CharmMeta(
        {**_api()}, ("identity-service",),
    ),
    "openstack-exporter-k8s": CharmMeta(
        {"identity-ops": (R, "keystone-resources"),
         "receive-ca-cert": (R, "certificate_transfer")},
        ("identity-ops",),
    ),
    # Not ops-sunbeam: mysql-router's app status says "Missing relation: <endpoint>"
    # (src/relations/database_requires.py:21-28), its unit waits with no message.
    "mysql-router-k8s": CharmMeta(
        {"backend-database": (R, "mysql_client"), "database": (P, "mysql_client")},
        ("backend-database",),
        ops_sunbeam=False,
    ),
    "mysql-k8s": CharmMeta({"database": (P, "mysql_client")}, ops_sunbeam=False),
    "rabbitmq-k8s": CharmMeta({"amqp": (P, "rabbitmq")}, ops_sunbeam=False),
    "traefik-k8s": CharmMeta(
        {"ingress": (P, "ingress"), "traefik-route": (P, "traefik_route"),
         "certificates": (R, "tls-certificates"), "receive-ca-cert": (R, "certificate_transfer")},
        ops_sunbeam=False,
    ),
    "self-signed-certificates": CharmMeta(
        {"certificates": (P, "tls-certificates"), "send-ca-cert": (P, "certificate_transfer")},
        ops_sunbeam=False,
    ),
    # vault blocks on its state (initialise, unseal, authorise), not on relations; Sunbeam
    # accepts it blocked after enabling (features/vault/feature.py:676). The lab keeps it simple.
    "vault-k8s": CharmMeta(
        {"vault-kv": (P, "vault-kv"), "vault-pki": (P, "tls-certificates"),
         "send-ca-cert": (P, "certificate_transfer")},
        ops_sunbeam=False,
    ),
    "microceph": CharmMeta(
        {"ceph": (P, "ceph-client"), "ceph-nfs": (P, "ceph-nfs-client"),
         "ceph-rgw-ready": (P, "ceph-rgw-client"), "traefik-route-rgw": (R, "traefik_route"),
         "identity-service": (R, "keystone"), "receive-ca-cert": (R, "certificate_transfer")},
        snap="microceph",
    ),
    "k8s": CharmMeta({}, ops_sunbeam=False, snap="k8s"),
}


def meta(charm: str) -> CharmMeta | None:
    """The lab's knowledge of `charm`; None for a charm it does not model (no checks then)."""
    return CHARMS.get(charm)
