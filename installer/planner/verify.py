"""The plans of `sunbeam-install verify`: the checks, and the cleanup that runs after them.

Two plans because the runner starts nothing after a failed step, and the cleanup must run also
then: the use case (installer/pipeline/verify.py) runs the second after the first, whatever
the first came to.
"""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any, TypeVar

from installer.plan import Plan, Step
from installer.planner.build import auth_url
from installer.steps.verify import (
    KEYPAIR,
    OWN_FLAVOR,
    SECURITY_GROUP,
    Cleanup,
    CleanupImage,
    CleanupNetwork,
    CleanupServer,
    ComputeServices,
    Endpoints,
    FlavorCheck,
    ImageCheck,
    InstanceCheck,
    NetworkCheck,
    ReachInstance,
    VerifyScope,
    VerifyStep,
)
from manifests.answers import Answers

S = TypeVar("S", bound=VerifyStep)

# The test subnet: the first of these that overlaps none of the answers' networks (Sunbeam's
# demo user network is 192.168.0.0/24 by default; a cloud may use it for its own).
SUBNET_CANDIDATES = ("192.168.222.0/24", "192.168.223.0/24", "10.222.0.0/24", "172.31.222.0/24")


def test_subnet(answers: Answers) -> str:
    """A /24 for the test network that overlaps no network the answers name."""
    taken = [ip_network(str(answers.network.management_cidr))]
    if answers.network.external is not None:
        taken.append(ip_network(str(answers.network.external.cidr)))
    for cidr in SUBNET_CANDIDATES:
        net = ip_network(cidr)
        if not any(net.overlaps(t) for t in taken):
            return cidr
    return SUBNET_CANDIDATES[-1]


def client_host(answers: Answers) -> str:
    """The host with the `openstack` client: the install put it on the first control host."""
    return answers.hosts_with("control")[0].name


def proxy_env(answers: Answers) -> dict[str, str]:
    """The answers' proxy as the environment curl reads (secret: it may hold credentials)."""
    env: dict[str, str] = {}
    for key, value in (("http_proxy", answers.proxy.http), ("https_proxy", answers.proxy.https),
                       ("no_proxy", answers.proxy.no_proxy)):
        if value:
            env[key] = env[key.upper()] = str(value)
    return env


def verify_plans(answers: Answers, *, poll: float = 5.0, ping: bool = True
                 ) -> tuple[Plan, Plan]:
    """The checks plan and the cleanup plan of `answers`' cloud. `poll`: seconds between two
    looks at a server (the lab's time is scaled, so dry-run polls faster)."""
    host, url = client_host(answers), auth_url(answers)
    external = answers.network.external is not None
    scope = VerifyScope()

    def step(cls: type[S], step_id: str, title: str, *needs: str, **more: Any) -> S:
        return cls(id=step_id, title=title, needs=needs, host=host, auth_url=url, scope=scope,
                   poll=poll, **more)

    first, server = "verify.endpoints", "verify.cleanup:server"
    checks: list[Step] = [
        step(Endpoints, first, "The API endpoints answer", timeout=300.0),
        step(ComputeServices, "verify.compute-services", "The compute services are up", first,
             timeout=120.0),
        step(NetworkCheck, "verify.network", "Create a test network, subnet and router", first,
             cidr=test_subnet(answers), external=external, timeout=300.0),
        step(ImageCheck, "verify.image", "Upload a cirros test image", first,
             proxy=proxy_env(answers), timeout=900.0),
        step(FlavorCheck, "verify.flavor", "Find or create a flavor", first, timeout=120.0),
        step(InstanceCheck, "verify.instance", "Launch a test instance and wait for ACTIVE",
             "verify.compute-services", "verify.network", "verify.image", "verify.flavor",
             timeout=900.0),
        step(ReachInstance, "verify.reach", "Reach the instance", "verify.instance",
             external=external, ping=ping, timeout=600.0),
    ]
    cleanup: list[Step] = [
        step(CleanupServer, server, "Delete the test instance and its floating IP",
             timeout=600.0),
        step(CleanupNetwork, "verify.cleanup:network", "Delete the test router and network",
             server, timeout=300.0),
        step(Cleanup, "verify.cleanup:access", "Delete the test security group and keypair",
             server, what=(("security group", SECURITY_GROUP), ("keypair", KEYPAIR)),
             timeout=300.0),
        step(CleanupImage, "verify.cleanup:image", "Delete the test image", server,
             timeout=300.0),
        step(Cleanup, "verify.cleanup:flavor", "Delete the test flavor", server,
             what=(("flavor", OWN_FLAVOR),), timeout=300.0),
    ]
    return Plan(checks, kind="verify"), Plan(cleanup, kind="verify")
