"""How long the lab's simulated operations take, before the time scale.

Both the cluster model (installer/lab/cluster.py) and the backends read these; they live
below both so that neither has to import the other for them.
"""

from __future__ import annotations

import zlib

# With this scale a 3-node install (about 20 minutes of real operations on its critical path)
# takes a few seconds; `--time-scale 1` replays real time, 0 makes everything instant.
DEFAULT_TIME_SCALE = 0.003

# "Real" seconds of each kind of operation, before the time scale.
SECONDS = {
    "bootstrap": 360.0,
    "add-machine": 90.0,
    "add-k8s-cloud": 10.0,
    "add-model": 8.0,
    "deploy": 20.0,
    "add-unit": 10.0,
    "integrate": 4.0,
    "relation-settle": 30.0,
    "offer": 4.0,
    "consume": 4.0,
    "config": 3.0,
    "refresh": 20.0,
    "action": 5.0,
    "add-osd": 40.0,
    "lb-pool": 3.0,
    "snap-config": 2.0,
    "snap-revert": 20.0,
    "openstack-cli": 3.0,
    "ceph-cli": 2.0,
    "osd-restart": 60.0,  # a storage host's OSDs rejoin this long after its microceph restarts
}
SNAP_SECONDS = {"juju": 30.0, "k8s": 60.0, "microceph": 45.0, "openstack-hypervisor": 50.0}
SNAP_DEFAULT_SECONDS = 40.0
# Time from a unit's creation to active/idle, per charm.
SETTLE_SECONDS = {
    "sunbeam-machine": 60.0,
    "k8s": 180.0,
    "microceph": 150.0,
    "openstack-hypervisor": 150.0,
    "mysql-k8s": 240.0,
    "rabbitmq-k8s": 150.0,
    "traefik-k8s": 60.0,
    "self-signed-certificates": 30.0,
    "keystone-k8s": 150.0,
    "ovn-central-k8s": 150.0,
}
SETTLE_DEFAULT_SECONDS = 120.0


def jitter(key: str) -> float:
    """0.85..1.15, stable per key: operations of different hosts do not finish in lockstep."""
    return 0.85 + (zlib.crc32(key.encode()) % 1000) / 1000 * 0.3
