"""The remote probe against real SSH servers on 127.0.0.1 (asyncssh's own, in-process)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import asyncssh
import pytest

from probes.facts import HostFacts
from probes.remote import (
    ProbeFailure,
    TargetError,
    parse_target,
    probe_hosts,
    probe_script,
)
from tests.probes.sshfake import FakeHost, Stats, start_host, write_known_hosts


@pytest.fixture
def client_key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


async def _close(*hosts: FakeHost) -> None:
    for h in hosts:
        h.server.close()
        await h.server.wait_closed()


async def test_probe_runs_the_same_readers_remotely_and_returns_facts(
    client_key: asyncssh.SSHKey, tmp_path: Path
) -> None:
    host = await start_host(client_key)
    kh = write_known_hosts(tmp_path / "known_hosts", host)
    try:
        results = await probe_hosts([host.target], known_hosts=kh, client_keys=[client_key])
    finally:
        await _close(host)
    facts = results[host.target]
    assert isinstance(facts, HostFacts), facts
    assert host.commands == ["python3 -"]
    # The far side is this machine: the facts must be this machine's.
    assert facts.hostname == socket.gethostname()
    assert facts.probe_errors == []
    assert facts.cpu.threads >= 1 and facts.memory.total_bytes > 0


async def test_one_failure_never_stops_the_others_and_each_gets_a_reason(
    client_key: asyncssh.SSHKey, tmp_path: Path
) -> None:
    good = await start_host(client_key)
    nopy = await start_host(client_key, "no-python")
    crash = await start_host(client_key, "crash")
    garbage = await start_host(client_key, "garbage")
    hang = await start_host(client_key, "hang")
    refused = await start_host(asyncssh.generate_private_key("ssh-ed25519"))  # not our key
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    hosts = [good, nopy, crash, garbage, hang, refused]
    kh = write_known_hosts(tmp_path / "known_hosts", *hosts)
    unreachable = f"127.0.0.1:{closed_port}"
    try:
        results = await probe_hosts(
            [h.target for h in hosts] + [unreachable],
            known_hosts=kh,
            client_keys=[client_key],
            timeout=3.0,
        )
    finally:
        await _close(*hosts)
    assert isinstance(results[good.target], HostFacts)
    kinds = {t: r.kind for t, r in results.items() if isinstance(r, ProbeFailure)}
    assert kinds == {
        nopy.target: "no-python3",
        crash.target: "probe-crashed",
        garbage.target: "bad-output",
        hang.target: "timeout",
        refused.target: "auth-refused",
        unreachable: "unreachable",
    }
    for r in results.values():
        if isinstance(r, ProbeFailure):
            assert "\n" not in r.reason and len(r.reason) < 300
    crash_reason = results[crash.target]
    assert isinstance(crash_reason, ProbeFailure)
    assert "SyntaxError: invalid syntax" in crash_reason.reason
    assert "python3 is not installed" in str(results[nopy.target])
    assert "as probe@127.0.0.1 was refused" in str(results[refused.target])
    assert "within 3 s" in str(results[hang.target])


async def test_unknown_host_key_is_refused_unless_accept_new_then_recorded(
    client_key: asyncssh.SSHKey, tmp_path: Path
) -> None:
    host = await start_host(client_key)
    kh = tmp_path / "ssh" / "known_hosts"  # not there yet
    try:
        first = await probe_hosts([host.target], known_hosts=kh, client_keys=[client_key])
        assert isinstance(first[host.target], ProbeFailure)
        assert first[host.target].kind == "host-key-unknown"  # type: ignore[union-attr]
        assert "--accept-new-host-keys" in first[host.target].reason  # type: ignore[union-attr]
        assert not kh.exists()

        second = await probe_hosts(
            [host.target], known_hosts=kh, client_keys=[client_key], accept_new_host_keys=True
        )
        assert isinstance(second[host.target], HostFacts)
        assert kh.read_text() == host.known_hosts_line()
        assert kh.stat().st_mode & 0o777 == 0o600

        # Recorded now: a plain run trusts it.
        third = await probe_hosts([host.target], known_hosts=kh, client_keys=[client_key])
        assert isinstance(third[host.target], HostFacts)
    finally:
        await _close(host)


async def test_changed_host_key_is_refused_even_with_accept_new(
    client_key: asyncssh.SSHKey, tmp_path: Path
) -> None:
    host = await start_host(client_key)
    impostor_key = asyncssh.generate_private_key("ssh-ed25519")
    kh = tmp_path / "known_hosts"
    recorded = f"[127.0.0.1]:{host.port} {impostor_key.export_public_key().decode().strip()}\n"
    kh.write_text(recorded)
    try:
        results = await probe_hosts(
            [host.target], known_hosts=kh, client_keys=[client_key], accept_new_host_keys=True
        )
    finally:
        await _close(host)
    failure = results[host.target]
    assert isinstance(failure, ProbeFailure)
    assert failure.kind == "host-key-changed"
    assert "CHANGED" in failure.reason and f'-R "[127.0.0.1]:{host.port}"' in failure.reason
    assert kh.read_text() == recorded  # never overwritten
    assert host.commands == []  # nothing ran on the impostor


async def test_concurrency_is_bounded(client_key: asyncssh.SSHKey, tmp_path: Path) -> None:
    stats = Stats()
    hosts = [await start_host(client_key, stats=stats) for _ in range(5)]
    kh = write_known_hosts(tmp_path / "known_hosts", *hosts)
    try:
        results = await probe_hosts(
            [h.target for h in hosts], known_hosts=kh, client_keys=[client_key], concurrency=2
        )
    finally:
        await _close(*hosts)
    assert all(isinstance(r, HostFacts) for r in results.values())
    assert list(results) == [h.target for h in hosts]
    assert stats.peak <= 2


async def test_bad_arguments_are_refused_before_connecting() -> None:
    with pytest.raises(TargetError, match="port '99999'"):
        await probe_hosts(["ubuntu@10.0.0.1:99999"])
    with pytest.raises(ValueError, match="Concurrency 0"):
        await probe_hosts(["10.0.0.1"], concurrency=0)


@pytest.mark.parametrize(
    ("text", "user", "host", "port"),
    [
        ("10.20.0.12", None, "10.20.0.12", 22),
        ("ubuntu@10.20.0.12", "ubuntu", "10.20.0.12", 22),
        ("ubuntu@node2.maas:2222", "ubuntu", "node2.maas", 2222),
        ("[fd00::2]:2200", None, "fd00::2", 2200),
        ("root@fd00::2", "root", "fd00::2", 22),
    ],
)
def test_parse_target(text: str, user: str | None, host: str, port: int) -> None:
    t = parse_target(text)
    assert (t.user, t.host, t.port) == (user, host, port)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@host", "empty user name"),
        ("host:ssh", "has port 'ssh'"),
        ("bad_host!", "not a valid host name"),
        ("[fd00::2", "not [IPv6]:port"),
    ],
)
def test_parse_target_errors_name_the_value(text: str, message: str) -> None:
    with pytest.raises(TargetError, match=re.escape(message)) as e:
        parse_target(text)
    assert repr(text) in str(e.value)


def test_probe_script_carries_every_reader_and_no_third_party_import() -> None:
    script = probe_script().decode()
    for module in ("_fs", "collect", "cpu", "disk", "eligibility", "net", "netlink", "system"):
        assert f"'{module}':" in script
    for heavy in ("pydantic", "asyncssh", "psutil", "pyroute2"):
        assert f"import {heavy}" not in script and f"from {heavy}" not in script
