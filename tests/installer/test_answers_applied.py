"""Answers that must reach the cloud: `proxy`, `deployment.region`, `network.dns_servers`.

Where Sunbeam applies each (../shared/reference/sunbeam-deployment.md): the proxy
(§5.1 PromptForProxyStep) on snapd of every host (§5.0 step 5), as Juju model config at
bootstrap (`--model-default`, §5.1 plan4) and on every model it creates (§5.1 plan2, §5.4), and
on sunbeam-machine (§2.2); the region (§5.1 PromptRegionStep) on keystone; the DNS servers as the
external network's nameservers (§5.2 `sunbeam configure`). A proxy URL's credentials never show.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from installer.backends.juju import JujuCliBackend
from installer.backends.snapd import SnapdClient, SnapdSnapBackend
from installer.cli import main
from installer.lab import Lab
from installer.secrets import redact_url_credentials
from tests.fakes.fake_juju import install_fake_juju
from tests.fakes.snapd import FakeSnapd

ROOT = Path(__file__).resolve().parents[2]
TWELVE = ROOT / "examples" / "twelve-node.yaml"
HOSTS = ["ctl1", "ctl2", "ctl3", "cmp1", "cmp2", "cmp3", "cmp4", "cmp5", "cmp6",
         "sto1", "sto2", "sto3"]
PROXY = "http://proxy.example.com:3128"
NO_PROXY = ("localhost,127.0.0.1,10.30.0.0/23,.example.com,ctl1,ctl2,ctl3,cmp1,cmp2,cmp3,cmp4,"
            "cmp5,cmp6,sto1,sto2,sto3")
# Golden expectations, written by hand from examples/twelve-node.yaml.
SNAPD_PROXY = {"proxy.http": PROXY, "proxy.https": PROXY, "proxy.no-proxy": NO_PROXY}
MODEL_PROXY = {
    "juju-http-proxy": PROXY, "juju-https-proxy": PROXY, "juju-no-proxy": NO_PROXY,
    "snap-http-proxy": PROXY, "snap-https-proxy": PROXY,
}
MACHINE_PROXY = {"http_proxy": PROXY, "https_proxy": PROXY, "no_proxy": NO_PROXY}
SECRET = "Pr0xy-S3cret-pw"



def plan_json(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    assert main(["plan", str(path), "--json"]) == 0
    return {s["id"]: s for s in json.loads(capsys.readouterr().out)["steps"]}


def ancestors(steps: dict[str, dict[str, Any]], sid: str) -> set[str]:
    out: set[str] = set()
    todo = list(steps[sid]["needs"])
    while todo:
        n = todo.pop()
        if n not in out:
            out.add(n)
            todo.extend(steps[n]["needs"])
    return out


def test_plan_json_applies_proxy_region_and_dns(capsys: pytest.CaptureFixture[str]) -> None:
    steps = plan_json(TWELVE, capsys)
    for h in HOSTS:  # snapd's proxy on every host, before any snap or Juju agent lands there
        s = steps[f"snap.proxy@{h}"]
        assert s["kind"] == "snap.set" and s["host"] == h
        assert s["params"] == {"snap": "system", "values": SNAPD_PROXY, "host": h}
        assert f"snap.proxy@{h}" in ancestors(steps, f"juju.add-machine@{h}")
    for sid, s in steps.items():
        if s["kind"] == "snap.install":
            assert f"snap.proxy@{s['host']}" in ancestors(steps, sid)
    assert steps["juju.bootstrap"]["params"]["model_defaults"] == MODEL_PROXY
    models = {s["params"]["name"]: s["params"]["config"]
              for s in steps.values() if s["kind"] == "juju.add-model"}
    assert models == {"openstack-machines": MODEL_PROXY, "openstack": MODEL_PROXY}
    assert steps["juju.deploy:sunbeam-machine"]["params"]["config"] == MACHINE_PROXY
    assert steps["juju.deploy:keystone"]["params"]["config"]["region"] == "RegionTwo"
    assert steps["network.external"]["params"]["dns_servers"] == ["10.30.0.2", "10.30.0.3"]


def test_no_proxy_no_proxy_steps(capsys: pytest.CaptureFixture[str]) -> None:
    steps = plan_json(ROOT / "examples" / "single-node.yaml", capsys)
    assert not [s for s in steps if s.startswith("snap.proxy@")]
    assert steps["juju.bootstrap"]["params"]["model_defaults"] == {}


def install(tmp: Path, answers: Path, *extra: str) -> int:
    return main(["--answers", str(answers), "--dry-run", "--yes", "--state-dir",
                 str(tmp / "state"), "--time-scale", "0", "--events-file",
                 str(tmp / "events.jsonl"), *extra])


def test_lab_records_proxy_region_dns_after_twelve_node_install(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = install(tmp_path, TWELVE)
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    st = Lab.open(tmp_path / "state", time_scale=0).state
    for h in HOSTS:
        assert st.hosts[h].system_config == SNAPD_PROXY, h
    assert set(st.models) == {"controller", "openstack-machines", "openstack"}
    for name, m in st.models.items():
        assert {k: m.config.get(k) for k in MODEL_PROXY} == MODEL_PROXY, name
    machine = st.models["openstack-machines"].apps["sunbeam-machine"].config
    assert {k: machine.get(k) for k in MACHINE_PROXY} == MACHINE_PROXY
    assert st.models["openstack"].apps["keystone"].config["region"] == "RegionTwo"
    assert st.subnets["external-subnet"].dns_servers == ["10.30.0.2", "10.30.0.3"]


def with_credentials(tmp: Path) -> tuple[Path, str]:
    data = yaml.safe_load(TWELVE.read_text())
    url = f"http://bob:{SECRET}@proxy.example.com:3128"
    data["proxy"]["http"] = data["proxy"]["https"] = url
    f = tmp / "answers.yaml"
    f.write_text(yaml.safe_dump(data))
    return f, url


def test_proxy_credentials_never_shown_or_kept_in_clear(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f, url = with_credentials(tmp_path)
    steps = plan_json(f, capsys)
    assert SECRET not in json.dumps(steps)
    assert steps["snap.proxy@ctl1"]["params"]["values"]["proxy.http"] == (
        "http://***@proxy.example.com:3128")
    assert main(["plan", str(f)]) == 0
    assert SECRET not in capsys.readouterr().out

    # A permanent failure after the models exist, then resume: the resumed run gets the real
    # URL back (from its 0600 secret), though the journal's snapshot holds `***@`.
    rc = install(tmp_path, f, "--faults", "juju.deploy:keystone=fail")
    out, err = capsys.readouterr()
    assert rc != 0 and SECRET not in out + err
    assert main(["resume", "--state-dir", str(tmp_path / "state"), "--events-file",
                 str(tmp_path / "events2.jsonl")]) == 0
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    state = tmp_path / "state"
    lab = Lab.open(state, time_scale=0).state
    assert lab.hosts["cmp6"].system_config["proxy.http"] == url  # the hosts got the real value
    assert lab.models["openstack"].config["juju-https-proxy"] == url
    for p in [*state.rglob("*"), tmp_path / "events.jsonl", tmp_path / "events2.jsonl"]:
        if not p.is_file() or "secrets" in p.parts or p.name.startswith("lab"):
            continue  # the secret's own 0600 file; the simulated hosts' own snapd/Juju state
        assert SECRET.encode() not in p.read_bytes(), f"the proxy password leaked into {p}"
    secret_files = list((state / "secrets").glob("proxy-*"))
    assert secret_files and all(p.stat().st_mode & 0o077 == 0 for p in secret_files)


def test_redaction_of_url_credentials() -> None:
    assert redact_url_credentials("juju-http-proxy=http://u:p@ss@h:1 x") == (
        "juju-http-proxy=http://***@h:1 x")
    assert redact_url_credentials("ssh ubuntu@host http://h:3128/a@b") == (
        "ssh ubuntu@host http://h:3128/a@b")


def test_fake_snapd_and_fake_juju_accept_the_proxy(tmp_path: Path) -> None:
    """The real backends' calls: PUT /v2/snaps/system/conf (as real snapd accepts it),
    `juju bootstrap --model-default K=V`, `juju add-model --config K=V`."""
    import tempfile

    sock_dir = Path(tempfile.mkdtemp(prefix="sb-", dir="/tmp"))
    fake = FakeSnapd(str(sock_dir / "snapd.socket"))
    fake.start()
    juju_state = tmp_path / "juju.json"
    exe = install_fake_juju(tmp_path / "bin", juju_state)

    async def go() -> None:
        snaps = SnapdSnapBackend(lambda host: SnapdClient.local(str(sock_dir / "snapd.socket")))
        try:
            await snaps.set_config("local", "system", SNAPD_PROXY)
            assert await snaps.get_config("local", "system", list(SNAPD_PROXY)) == SNAPD_PROXY
        finally:
            await snaps.aclose()
        juju = JujuCliBackend(cli_binary=str(exe), poll_interval=0.01)
        await juju.bootstrap("manual/10.0.0.1", "sunbeam-controller", log=lambda _: None,
                             model_defaults=MODEL_PROXY)
        await juju.add_model("openstack-machines", "manual", config=MODEL_PROXY)

    try:
        asyncio.run(go())
    finally:
        fake.stop()
    models = json.loads(juju_state.read_text())["models"]
    for key in ("sunbeam-controller:controller", "sunbeam-controller:openstack-machines"):
        assert models[key]["config"] == MODEL_PROXY, key
