"""Fixtures of the real-backend tests: fakes that speak the real protocols."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.snapd import FakeSnapd, StoreSnap


@pytest.fixture
def fake_snapd(short_dir: Path) -> Iterator[FakeSnapd]:
    fake = FakeSnapd(str(short_dir / "snapd.socket"))
    fake.state.store.update(
        {
            "juju": StoreSnap(29000, channels=("3.6/stable",)),
            "k8s": StoreSnap(3200, confinement="classic", channels=("1.32-classic/stable",)),
            "openstack-hypervisor": StoreSnap(200, channels=("2024.1/stable", "2025.1/stable")),
            "microceph": StoreSnap(1300, channels=("squid/stable",)),
        }
    )
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
