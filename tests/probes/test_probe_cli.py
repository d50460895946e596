"""`sunbeam-install probe`: local and over SSH, table and JSON, exit codes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import asyncssh
import pytest

from installer.cli import main
from probes.facts import HostFacts
from tests.probes.sshfake import start_host, write_known_hosts


def test_local_table_names_the_real_nic_and_disk(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe"]) == 0
    out = capsys.readouterr().out
    facts = json.loads(
        subprocess.run(
            [sys.executable, "-m", "installer", "probe", "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    route_nic = facts["default_route"]["nic"]
    assert route_nic in out
    nic = next(n for n in facts["nics"] if n["name"] == route_nic)
    assert nic["mac"] in out and nic["ipv4"][0] in out
    assert f"virtualization {facts['cpu']['virtualization'].upper()}" in out
    for d in facts["disks"]:
        assert d["name"] in out


def test_local_json_is_one_hostfacts_and_save_writes_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["probe", "--json", "--save", str(tmp_path)]) == 0
    facts = HostFacts.model_validate_json(capsys.readouterr().out)
    saved = tmp_path / f"{facts.hostname}.json"
    assert HostFacts.model_validate_json(saved.read_text()) == facts


def _key_file(tmp_path: Path) -> tuple[asyncssh.SSHKey, str]:
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = tmp_path / "id_ed25519"
    key.write_private_key(str(path))
    return key, str(path)


def test_remote_hosts_json_map_and_exit_1_naming_the_failed_host(tmp_path: Path) -> None:
    key, key_path = _key_file(tmp_path)

    async def serve_and_probe() -> subprocess.CompletedProcess[str]:
        import asyncio

        good = await start_host(key)
        bad = await start_host(key, "no-python")
        kh = write_known_hosts(tmp_path / "kh", good, bad)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "installer",
            "probe",
            good.target,
            bad.target,
            "--json",
            "--known-hosts",
            str(kh),
            "-i",
            key_path,
            "--timeout",
            "20",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        for h in (good, bad):
            h.server.close()
        return subprocess.CompletedProcess([], proc.returncode or 0, out.decode(), err.decode())

    import asyncio

    result = asyncio.run(serve_and_probe())
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc) == 1
    ((target, facts),) = doc.items()
    assert target.startswith("probe@127.0.0.1:")
    HostFacts.model_validate(facts)
    lines = result.stderr.strip().splitlines()
    assert any("python3 is not installed" in line for line in lines)
    assert lines[-1].startswith("sunbeam-install: 1 of 2 hosts failed: probe@127.0.0.1:")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["probe", "node1:abc"], "Host 'node1:abc' has port 'abc'; use a number 1-65535."),
        (["probe", "node1", "--timeout", "0"], "--timeout 0 is not positive"),
        (["probe", "node1", "--concurrency", "0"], "--concurrency 0 is below 1"),
        (["probe", "node1", "-i", "/nonexistent/key"], "SSH key /nonexistent/key does not exist"),
    ],
)
def test_bad_input_is_one_sentence_not_a_traceback(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (1, 2)
    assert message in err and "Traceback" not in err


def test_probe_facts_imports_no_ssh_or_psutil() -> None:
    code = (
        "import json, sys, probes.facts, probes.local, probes.eligibility, probes.table\n"
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert not loaded & {"asyncssh", "psutil", "pyroute2", "textual", "cryptography"}
