"""Plain line mode: the same questions, the same answers, on input() and on questionary."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from installer.interactive.install import Session
from installer.pipeline import RunSettings
from installer.plain import LinePrompter, QuestionaryPrompter, interview
from manifests.loader import load_answers

FACTS = Path(__file__).resolve().parent / "screens" / "facts"

pytestmark = pytest.mark.timeout(30)  # an incomplete key script must fail, not hang


def make_session(tmp_path: Path) -> Session:
    return Session(RunSettings(dry_run=True, state_dir=tmp_path / "state",
                               facts_dir=FACTS, time_scale=0))


LINES = [
    "ubuntu@10.20.0.12",  # add host
    "ubuntu@10.20.0.99",  # no facts: fails, interview goes on
    "bad target",  # malformed: asked again
    "ubuntu@10.20.0.13",
    "",  # done adding
    "",  # use suggested roles (all on each of 3)
    "10.20.0.1/24",  # host bits set: asked again
    "",  # keep 10.20.0.0/24
    "10.20.0.220-10.20.0.200",  # well formed, but reversed: the section is asked again
    "10.20.0.1",  # DNS
    "n",  # no external network
    "",  # keep 10.20.0.0/24
    "10.20.0.200-10.20.0.220",
    "",  # keep the DNS server
    "n",
    "1",  # node1: root disk (1) is ineligible: asked again
    "2",
    "2,3",
    "3",
    "",  # release: default
    "Lab One",  # deployment name: not a Juju model prefix, asked again
    "lab1",
    "",  # region: keep RegionOne
    "",  # no http proxy
    "",  # no https proxy
    "",  # no features
]


def test_line_prompts_produce_the_answers_file(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    out = io.StringIO()
    saved = tmp_path / "answers.yaml"
    stdin = io.StringIO("\n".join([*LINES, str(saved), ""]) + "\n")
    go = interview(session, LinePrompter(stdin, out), assume_yes=True)
    text = out.getvalue()
    assert "\x1b" not in text  # a dumb terminal gets no escape sequences
    assert "failed: No recorded facts for 10.20.0.99" in text
    assert "is not user@address" in text
    assert "has host bits set; the network is 10.20.0.0/24" in text
    assert ("error: network.loadbalancer_range: Range 10.20.0.220-10.20.0.200 ends before it "
            "starts; write the lower address first") in text
    assert "cannot be chosen: It holds the root filesystem." in text
    assert "Deployment name (prefixes the Juju models) [sunbeam]: " in text
    assert "OpenStack region [RegionOne]: " in text
    assert "Deployment name 'Lab One' is not valid; write 1-40 lower-case letters" in text
    loaded = load_answers(saved)
    assert [h.name for h in loaded.hosts] == ["node1", "node2", "node3"]
    assert loaded.hosts[1].osd_devices == [
        "/dev/disk/by-id/wwn-0x5000c500a02a0002", "/dev/disk/by-id/wwn-0x5000c500a02a0003"]
    assert str(loaded.network.dns_servers[0]) == "10.20.0.1"
    assert (loaded.deployment.name, loaded.deployment.region) == ("lab1", "RegionOne")
    assert loaded == session.draft.to_answers()
    assert go is True  # valid answers, no preflight errors, --yes: it goes on to install


def test_line_prompts_end_of_input_is_an_error_not_a_loop(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    with pytest.raises(EOFError):
        interview(session, LinePrompter(io.StringIO("ubuntu@10.20.0.12\n"), io.StringIO()))


def test_questionary_with_pipe_input_gives_the_same_answers(tmp_path: Path) -> None:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    down, enter, space = "\x1b[B", "\r", " "
    saved = tmp_path / "q.yaml"
    keys = [
        "ubuntu@10.20.0.12" + enter, enter,  # one more host, then done
        "y",  # use suggested roles (converged, control on 2 breaks: asked to edit)
    ]
    session = make_session(tmp_path)
    with create_pipe_input() as pipe:
        # 2 hosts: suggested layout puts control on node1 only; confirm with y.
        script = "".join(keys[:2]) + "y"
        script += enter  # management CIDR default
        script += "10.20.0.200-10.20.0.220" + enter
        script += enter  # DNS empty
        script += "n"  # no external network
        # node1 disks: cursor starts on the first enabled disk; select it, then next, confirm.
        script += space + enter
        script += space + enter  # node2: first eligible disk
        script += enter  # release default
        script += enter + enter  # deployment name and region: the defaults
        script += enter + enter  # no proxies
        script += enter  # no features
        script += "\x01\x0b" + str(saved) + enter  # Ctrl+A, Ctrl+K: replace the default path
        pipe.send_text(script)
        prompter = QuestionaryPrompter(input=pipe, output=DummyOutput(), stdout=io.StringIO())
        interview(session, prompter, assume_yes=True)
    loaded = load_answers(saved)
    assert [h.name for h in loaded.hosts] == ["node1", "node2"]
    assert [h.roles for h in loaded.hosts] == [["control", "compute", "storage"],
                                               ["compute", "storage"]]
    assert loaded.hosts[0].osd_devices == ["/dev/disk/by-id/wwn-0x5000c500a0290002"]
    assert str(loaded.network.loadbalancer_range) == "10.20.0.200-10.20.0.220"
    del down


def test_questionary_says_a_long_reason_whole_within_80_columns() -> None:
    """Issue 14 item 21: prompt_toolkit cut the root disk's reason at 80 columns."""
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from installer.plain import Choice

    reason = ("It holds the root filesystem (/), so Ceph cannot have it; pick a disk with no "
              "partitions, filesystem or LVM signature.")
    title = "/dev/disk/by-id/wwn-0x5000c500a0290001 QEMU HARDDISK 100 GiB"
    out = io.StringIO()
    with create_pipe_input() as pipe:
        pipe.send_text(" \r")
        prompter = QuestionaryPrompter(input=pipe, output=DummyOutput(), stdout=out)
        picked = prompter.checkbox("Disks for Ceph on node1 (they are wiped)", [
            Choice(title, "root", False, reason),
            Choice("/dev/disk/by-id/wwn-0x5000c500a0290002 QEMU HARDDISK 100 GiB", "sdb")])
    assert picked == ["sdb"]
    lines = out.getvalue().splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    assert " ".join(line.strip() for line in lines) == f"{title}: {reason}"
