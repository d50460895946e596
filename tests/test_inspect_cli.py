"""`sunbeam-install inspect` on the dry-run lab, through the command line as an operator runs it:
the tarball holds the expected members, nothing secret, 0600 everywhere; an existing --out is
refused; no run is a clear message; a collector that cannot answer is noted, not fatal."""

from __future__ import annotations

import json
import re
import stat
import tarfile
from pathlib import Path

import pytest
import yaml

from installer.cli import main
from installer.state import StateDir

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = "Adm1n-pw-inspect-7Qx"
PROXY_PASSWORD = "Pr0xy-pw-inspect-9Kz"
PROXY = f"http://squid-user:{PROXY_PASSWORD}@proxy.example:3128"
NAME = re.compile(r"^sunbeam-install-inspection-\d{8}-\d{6}\.tar\.gz$")


def cli(*argv: str) -> int:
    return main(list(argv))


def answers_file(tmp: Path) -> Path:
    """three-node.yaml with an admin password file and a proxy whose URL carries a password."""
    pw = tmp / "admin-password"
    pw.write_text(ADMIN_PASSWORD + "\n")
    pw.chmod(0o600)
    answers = yaml.safe_load((ROOT / "examples" / "three-node.yaml").read_text())
    answers["identity"] = {"admin_password_file": str(pw)}
    answers["proxy"] = {"http": PROXY, "https": PROXY,
                        "no_proxy": "10.20.0.0/24,node1,node2,node3,localhost,127.0.0.1"}
    f = tmp / "answers.yaml"
    f.write_text(yaml.safe_dump(answers))
    return f


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished dry-run install of the three-node example; its log and an events file also
    quote both secrets, as a leak would (to prove inspect redacts what it copies)."""
    tmp = tmp_path_factory.mktemp("inspect")
    state = tmp / "state"
    rc = cli("--answers", str(answers_file(tmp)), "--dry-run", "--yes", "--state-dir",
             str(state), "--time-scale", "0", "--events", "jsonl", "--events-file",
             str(tmp / "events.jsonl"))
    assert rc == 0
    logs = sorted((state / "logs").glob("*.log"))
    assert logs
    with logs[-1].open("a") as f:
        f.write(f"leaked: password {ADMIN_PASSWORD} via {PROXY}\n")
    runs = state / "runs"
    runs.mkdir(exist_ok=True, mode=0o700)
    (runs / "planted.events.jsonl").write_text(
        json.dumps({"event": "StepLog", "line": f"{ADMIN_PASSWORD} {PROXY_PASSWORD}"}) + "\n")
    return state


def members(path: Path) -> dict[str, bytes]:
    """Each member (name without the top directory) and its bytes; every one a 0600 file."""
    out: dict[str, bytes] = {}
    with tarfile.open(path, "r:gz") as tar:
        tops = set()
        for m in tar.getmembers():
            assert m.isfile(), m.name
            assert stat.S_IMODE(m.mode) == 0o600, (m.name, oct(m.mode))
            top, _, name = m.name.partition("/")
            tops.add(top)
            f = tar.extractfile(m)
            assert f is not None
            out[name] = f.read()
        assert len(tops) == 1
    return out


def test_inspect_holds_the_expected_members_and_no_secret(
        installed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bug.tar.gz"
    rc = cli("inspect", "--dry-run", "--state-dir", str(installed), "--out", str(out))
    stdout, stderr = capsys.readouterr()
    assert rc == 0, stdout + stderr
    assert str(out) in stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    got = members(out)
    run_id = json.loads(got["status.json"])["run_id"]
    expected = {
        "MANIFEST", "status.json", "journal-steps.json", "answers.json",
        f"logs/{run_id}.log", "runs/planted.events.jsonl",
        *(f"facts/{h}.json" for h in ("node1", "node2", "node3")),
        *(f"juju/{kind}-{model}.{ext}" for model in ("openstack", "openstack-machines")
          for kind, ext in (("status", "json"), ("debug-log", "txt"))),
        "k8s/pods.json", "k8s/events.json",
        *(f"snaps/{h}.changes.json" for h in ("node1", "node2", "node3")),
    }
    assert expected <= set(got), sorted(expected - set(got))
    for name, data in got.items():
        for secret in (ADMIN_PASSWORD, PROXY_PASSWORD):
            assert secret.encode() not in data, f"{secret} in {name}"
    # What quoted the secrets is there, redacted: the log, the planted events, the answers.
    assert b"********" in got[f"logs/{run_id}.log"]
    assert b"http://***@proxy.example:3128" in got[f"logs/{run_id}.log"]
    assert b"********" in got["runs/planted.events.jsonl"]
    assert json.loads(got["answers.json"])["proxy"]["http"] == "http://***@proxy.example:3128"

    # Each member says what Sunbeam's and Juju's tools would.
    manifest = got["MANIFEST"].decode()
    assert "not collected: nothing" in manifest
    for name in got:
        assert f"  {name}\t" in manifest
    status = json.loads(got["juju/status-openstack.json"])
    assert status["model"]["type"] == "caas"
    keystone = status["applications"]["keystone"]
    assert keystone["charm"] == "keystone-k8s"
    assert {u["workload-status"]["current"] for u in keystone["units"].values()} == {"active"}
    machines = json.loads(got["juju/status-openstack-machines.json"])["machines"]
    assert sorted(m["hostname"] for m in machines.values()) == ["node1", "node2", "node3"]
    log = got["juju/debug-log-openstack.txt"].decode().splitlines()
    assert log and all(re.match(r"^(unit|machine)-[\w-]+: \d\d:\d\d:\d\d [A-Z]+ ", ln)
                       for ln in log)
    assert any(ln.startswith("unit-keystone-0: ") and '"start" hook' in ln for ln in log)
    pods = {p["name"]: p for p in json.loads(got["k8s/pods.json"])}
    assert pods["keystone-0"]["phase"] == "Running"
    assert all(c["ready"] for c in pods["keystone-0"]["containers"])
    events = json.loads(got["k8s/events.json"])
    assert {"type": "Normal", "reason": "Scheduled", "object": "Pod/keystone-0"}.items() <= \
        next(e for e in events if e["object"] == "Pod/keystone-0").items()
    changes = json.loads(got["snaps/node1.changes.json"])
    assert any(c["summary"].startswith('Install "openstack-hypervisor" snap') for c in changes)
    assert all(c["status"] == "Done" and c["ready"] for c in changes)
    facts = json.loads(got["facts/node2.json"])
    assert facts["hostname"] == "node2"


def test_default_out_is_timestamped_in_the_current_directory(
        installed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("inspect", "--dry-run", "--state-dir", str(installed)) == 0
    capsys.readouterr()
    written = list(tmp_path.iterdir())
    assert len(written) == 1 and NAME.match(written[0].name), written
    assert stat.S_IMODE(written[0].stat().st_mode) == 0o600
    with tarfile.open(written[0]) as tar:
        assert tar.getnames()[0].startswith(written[0].name.removesuffix(".tar.gz") + "/")


def test_an_existing_out_file_is_refused_and_kept(
        installed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.tar.gz"
    out.write_text("an earlier report")
    rc = cli("inspect", "--dry-run", "--state-dir", str(installed), "--out", str(out))
    _, err = capsys.readouterr()
    assert rc == 2
    assert f"--out {str(out)!r} already exists" in err and "never overwrites" in err
    assert out.read_text() == "an earlier report"


@pytest.mark.parametrize("make_dir", [False, True])
def test_no_run_is_a_clear_message(
        tmp_path: Path, make_dir: bool, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    if make_dir:
        StateDir(state).ensure()
    monkey_out = tmp_path / "never.tar.gz"
    rc = cli("inspect", "--dry-run", "--state-dir", str(state), "--out", str(monkey_out))
    _, err = capsys.readouterr()
    assert rc == 1
    assert f"No run is recorded in {str(state)!r}, so there is nothing to inspect" in err
    assert "Traceback" not in err
    assert not monkey_out.exists()


def test_what_cannot_be_collected_is_noted_not_fatal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run that failed at the controller's bootstrap: no models, no Kubernetes; the rest is
    collected and the MANIFEST (and stderr) say what is missing and why."""
    state = tmp_path / "state"
    rc = cli("--answers", str(ROOT / "examples" / "three-node.yaml"), "--dry-run", "--yes",
             "--state-dir", str(state), "--time-scale", "0", "--events", "jsonl",
             "--events-file", str(tmp_path / "events.jsonl"), "--faults", "juju.bootstrap=fail")
    assert rc == 3
    capsys.readouterr()
    out = tmp_path / "failed-run.tar.gz"
    assert cli("inspect", "--dry-run", "--state-dir", str(state), "--out", str(out)) == 0
    _, err = capsys.readouterr()
    got = members(out)
    assert {"status.json", "answers.json", "MANIFEST", "snaps/node1.changes.json"} <= set(got)
    assert json.loads(got["status.json"])["outcome"] == "failed"
    assert not any(n.startswith("juju/") or n.startswith("k8s/") for n in got)
    manifest = got["MANIFEST"].decode()
    missing = manifest.split("not collected:", 1)[1]
    assert "juju models\tno models" in missing
    assert "pods of the openstack namespace\t" in missing
    assert "Not collected (" in err and "juju models: no models" in err
