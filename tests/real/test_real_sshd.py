"""The remote probe and the SSH backend against Debian's real OpenSSH server."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from installer.backends.base import BackendError
from installer.backends.ssh import LocalHostBackend, SshConnections, SshHostBackend, SshTarget
from probes.facts import HostFacts
from probes.remote import ProbeFailure, probe_hosts
from tests.fakes.real import RealSshd
from tests.real.conftest import NO_PYTHON, NOISY, PLAIN

pytestmark = pytest.mark.timeout(300)


def _target(sshd: RealSshd, user: str) -> str:
    return f"{user}@127.0.0.1:{sshd.port}"


async def _probe(sshd: RealSshd, user: str, known: Path, **kw: object) -> HostFacts | ProbeFailure:
    target = _target(sshd, user)
    kw.setdefault("client_keys", [str(sshd.client_key)])
    results = await probe_hosts([target], known_hosts=known, timeout=120, **kw)  # type: ignore[arg-type]
    return results[target]


async def test_probe_returns_facts(real_sshd: RealSshd, known: Path) -> None:
    result = await _probe(real_sshd, PLAIN, known)
    assert isinstance(result, HostFacts), result


async def test_probe_survives_login_shell_noise(real_sshd: RealSshd, known: Path) -> None:
    result = await _probe(real_sshd, NOISY, known)
    assert isinstance(result, HostFacts), result


async def test_probe_without_python3_on_path_says_so(real_sshd: RealSshd, known: Path) -> None:
    result = await _probe(real_sshd, NO_PYTHON, known)
    assert isinstance(result, ProbeFailure)
    assert result.kind == "no-python3", result
    assert "python3" in result.reason


async def test_unknown_key_is_refused_then_recorded_with_its_port(
    real_sshd: RealSshd, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    result = await _probe(real_sshd, PLAIN, known)
    assert isinstance(result, ProbeFailure) and result.kind == "host-key-unknown", result
    result = await _probe(real_sshd, PLAIN, known, accept_new_host_keys=True)
    assert isinstance(result, HostFacts), result
    assert known.read_text().startswith(f"[127.0.0.1]:{real_sshd.port} ssh-ed25519 ")
    assert isinstance(await _probe(real_sshd, PLAIN, known), HostFacts)


def _other_key(tmp_path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")],
                   check=True)
    return " ".join((tmp_path / "other.pub").read_text().split()[:2])


async def test_changed_key_names_the_entry_with_its_port_and_the_file(
    real_sshd: RealSshd, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{real_sshd.port} {_other_key(tmp_path)}\n")
    result = await _probe(real_sshd, PLAIN, known, accept_new_host_keys=True)
    assert isinstance(result, ProbeFailure) and result.kind == "host-key-changed", result
    assert f'ssh-keygen -f {known} -R "[127.0.0.1]:{real_sshd.port}"' in result.reason


async def test_a_port_22_entry_does_not_make_another_port_look_changed(
    real_sshd: RealSshd, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"127.0.0.1 {_other_key(tmp_path)}\n")
    result = await _probe(real_sshd, PLAIN, known)
    assert isinstance(result, ProbeFailure) and result.kind == "host-key-unknown", result
    result = await _probe(real_sshd, PLAIN, known, accept_new_host_keys=True)
    assert isinstance(result, HostFacts), result


async def test_wrong_client_key_is_auth_refused(real_sshd: RealSshd, known: Path,
                                                tmp_path: Path) -> None:
    _other_key(tmp_path)
    result = await _probe(real_sshd, PLAIN, known, client_keys=[str(tmp_path / "other")])
    assert isinstance(result, ProbeFailure) and result.kind == "auth-refused", result


async def test_unreadable_known_hosts_is_a_clear_failure(real_sshd: RealSshd,
                                                         tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_bytes(b"\xff\xfe not utf-8\n")
    with pytest.raises(ValueError, match=f"{known}.*not UTF-8"):
        await _probe(real_sshd, PLAIN, known)


# -- the SSH backend --------------------------------------------------------------------------


def _backend(sshd: RealSshd, user: str, known: Path, **kw: object) -> SshHostBackend:
    conns = SshConnections(
        {"node2": SshTarget("127.0.0.1", user, sshd.port)},
        known_hosts=known, client_keys=[str(sshd.client_key)], connect_timeout=60, **kw,  # type: ignore[arg-type]
    )
    return SshHostBackend(conns, LocalHostBackend(is_root=True), set())


async def test_backend_runs_commands_through_a_noisy_login_shell(
    real_sshd: RealSshd, known: Path
) -> None:
    hosts = _backend(real_sshd, NOISY, known)
    try:
        lines: list[str] = []
        result = await hosts.run("node2", ["sh", "-c", "echo out; exit 3"], log=lines.append)
        assert result.returncode == 3
        assert "out" in lines
    finally:
        await hosts.connections.close()


async def test_backend_changed_key_hint_names_the_port_entry(
    real_sshd: RealSshd, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{real_sshd.port} {_other_key(tmp_path)}\n")
    hosts = _backend(real_sshd, PLAIN, known, accept_new_host_keys=True)
    with pytest.raises(BackendError) as e:
        await hosts.run("node2", ["true"], log=print)
    assert "CHANGED" in e.value.message
    assert f'ssh-keygen -f {known} -R "[127.0.0.1]:{real_sshd.port}"' in (e.value.hint or "")


async def test_backend_port_22_entry_is_not_a_changed_key(
    real_sshd: RealSshd, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"127.0.0.1 {_other_key(tmp_path)}\n")
    hosts = _backend(real_sshd, PLAIN, known, accept_new_host_keys=True)
    try:
        assert (await hosts.run("node2", ["true"], log=print)).returncode == 0
    finally:
        await hosts.connections.close()


async def test_backend_wrong_key_is_refused(real_sshd: RealSshd, known: Path,
                                            tmp_path: Path) -> None:
    _other_key(tmp_path)
    conns = SshConnections({"node2": SshTarget("127.0.0.1", PLAIN, real_sshd.port)},
                           known_hosts=known, client_keys=[str(tmp_path / "other")],
                           connect_timeout=60)
    with pytest.raises(BackendError, match="refused"):
        await SshHostBackend(conns, LocalHostBackend(is_root=True), set()).run(
            "node2", ["true"], log=print)


async def test_unwritable_known_hosts_is_a_clear_error(real_sshd: RealSshd,
                                                       tmp_path: Path) -> None:
    known = tmp_path / "ro" / "known_hosts"
    known.parent.mkdir()
    known.mkdir()  # a directory where the file should be: unwritable even for root
    hosts = _backend(real_sshd, PLAIN, known, accept_new_host_keys=True)
    with pytest.raises(BackendError, match="known_hosts"):
        await hosts.run("node2", ["true"], log=print)


async def test_backend_works_with_max_sessions_2(real_sshd_two_sessions: RealSshd,
                                                 tmp_path: Path) -> None:
    sshd = real_sshd_two_sessions
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    hosts = _backend(sshd, PLAIN, known)
    try:
        results = await asyncio.gather(*(
            hosts.run("node2", ["sh", "-c", f"sleep 0.5; echo {i}"], log=lambda _: None)
            for i in range(8)
        ))
        assert [r.returncode for r in results] == [0] * 8
        assert [r.output_tail for r in results] == [(str(i),) for i in range(8)]
    finally:
        await hosts.connections.close()


async def test_agent_is_kept_when_an_identity_is_given(
    real_sshd: RealSshd, known: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under sudo with SSH_AUTH_SOCK kept, --identity must not switch the agent off."""
    _other_key(tmp_path)
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        from tests.fakes.real import wait_for

        wait_for(sock.exists, "ssh-agent's socket")
        subprocess.run(["ssh-add", "-q", str(real_sshd.client_key)], check=True,
                       env={"SSH_AUTH_SOCK": str(sock)})
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        result = await _probe(real_sshd, PLAIN, known, client_keys=[str(tmp_path / "other")])
        assert isinstance(result, HostFacts), result
        conns = SshConnections({"node2": SshTarget("127.0.0.1", PLAIN, real_sshd.port)},
                               known_hosts=known, client_keys=[str(tmp_path / "other")],
                               connect_timeout=60)
        hosts = SshHostBackend(conns, LocalHostBackend(is_root=True), set())
        try:
            assert (await hosts.run("node2", ["true"], log=print)).returncode == 0
        finally:
            await conns.close()
    finally:
        agent.terminate()
        agent.wait(30)


async def test_lines_longer_than_64_kib_reach_the_log_whole(real_sshd: RealSshd,
                                                            known: Path) -> None:
    hosts = _backend(real_sshd, PLAIN, known)
    try:
        lines: list[str] = []
        result = await hosts.run(
            "node2", ["python3", "-c", "print('x' * 300000); print('end')"], log=lines.append
        )
        assert result.returncode == 0
        assert lines == ["x" * 300000, "end"]
    finally:
        await hosts.connections.close()
