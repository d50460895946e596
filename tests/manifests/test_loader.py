"""The answers loader: valid files load; every bad input gives FILE:LINE:COL problems."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from manifests.answers import Answers
from manifests.loader import AnswersError, load_answers, load_answers_text

from ..conftest import EXAMPLES, FIXTURES

GOOD = (EXAMPLES / "three-node.yaml").read_text()


def problems(text: str) -> list[str]:
    with pytest.raises(AnswersError) as e:
        load_answers_text(text, "a.yaml")
    return [p.format() for p in e.value.problems]


def edit(mutate) -> str:  # type: ignore[no-untyped-def]
    """The three-node example with one change, re-serialised (positions follow the dump)."""
    data = yaml.safe_load(GOOD)
    mutate(data)
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize("name", ["single-node.yaml", "three-node.yaml", "twelve-node.yaml"])
def test_examples_are_valid(name: str) -> None:
    answers = load_answers(EXAMPLES / name)
    assert isinstance(answers, Answers)
    assert answers.release == "2025.1"


def test_example_shapes() -> None:
    single = load_answers(EXAMPLES / "single-node.yaml")
    assert single.single_node and single.hosts[0].address is None
    twelve = load_answers(EXAMPLES / "twelve-node.yaml")
    assert [len(twelve.hosts_with(r)) for r in ("control", "compute", "storage")] == [3, 6, 3]


def test_round_trip_of_model_dump() -> None:
    answers = load_answers(EXAMPLES / "twelve-node.yaml")
    text = yaml.safe_dump(answers.model_dump(mode="json"), sort_keys=False)
    assert load_answers_text(text).answers == answers


def test_empty_file() -> None:
    assert problems("") == [
        "a.yaml:1:1: is empty; an answers file starts with `version: 1` "
        "(see `sunbeam-install schema` or examples/)"
    ]


def test_comment_only_file_is_empty() -> None:
    assert "is empty" in problems("# nothing here\n")[0]


def test_yaml_syntax_error_points_at_line() -> None:
    # The `[` that is never closed, on its own line (PyYAML notices it a line later).
    [p] = problems("version: 1\nhosts:\n  - name: [node1\n")
    assert p.startswith("a.yaml:3:11: not valid YAML: the `[` here is never closed; "), p
    assert "`]`" in p
    [p] = problems("version: 1\nfeatures: {a: 1\nrelease: '2025.1'\n")
    assert p.startswith("a.yaml:2:11: not valid YAML: the `{` here is never closed"), p


def test_tab_indentation() -> None:
    [p] = problems("version: 1\nhosts:\n\t- name: x\n")
    assert p.startswith("a.yaml:3:1: not valid YAML")
    assert "tab" in p and "spaces" in p, p


def test_list_where_mapping_belongs() -> None:
    assert problems("- version: 1\n") == [
        "a.yaml:1:1: is a list; an answers file is a mapping of keys such as `version`, "
        "`release`, `hosts`"
    ]


def test_list_where_section_belongs() -> None:
    text = GOOD.replace("\nnetwork:\n", "\nnetwork: [10.20.0.0/24]\nold_network:\n")
    ps = problems(text)
    assert any("network: must be a mapping (key: value pairs), not a list" in p for p in ps)


def test_binary_garbage(tmp_path: Path) -> None:
    f = tmp_path / "garbage.yaml"
    f.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(AnswersError) as e:
        load_answers(f)
    assert str(e.value) == f"{f}:1:1: is a binary file, not a YAML answers file"


def test_not_utf8(tmp_path: Path) -> None:
    f = tmp_path / "latin1.yaml"
    f.write_bytes(b"version: 1\nrelease: caf\xe9\n")
    with pytest.raises(AnswersError) as e:
        load_answers(f)
    assert str(e.value) == f"{f}:2:1: is not UTF-8 text; save it as UTF-8"


def test_ten_megabyte_file(tmp_path: Path) -> None:
    f = tmp_path / "big.yaml"
    f.write_text("# padding\n" * 1_000_000)
    with pytest.raises(AnswersError) as e:
        load_answers(f)
    assert "is larger than 4 MiB" in str(e.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AnswersError) as e:
        load_answers(tmp_path / "nope.yaml")
    assert str(e.value) == f"{tmp_path / 'nope.yaml'}: no such file"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(AnswersError) as e:
        load_answers(tmp_path)
    assert "is a directory" in str(e.value)


def test_unknown_keys_at_every_depth() -> None:
    text = GOOD.replace("version: 1", "version: 1\ncolour: blue", 1)
    text = text.replace("    ssh_user: ubuntu\n", "    ssh_user: ubuntu\n    rack: r1\n", 1)
    text = text.replace("    vlan: null", "    vlan: null\n    mtu: 9000")
    ps = problems(text)
    assert (
        "a.yaml:4:1: colour: unknown key 'colour'; expected one of: version, release, "
        "deployment, hosts, network, proxy, identity, features, software" in ps
    )
    assert any(
        p.startswith("a.yaml:")
        and "hosts[1].rack: unknown key 'rack'; expected one of: "
        "name, address, ssh_user, ssh_port, roles, osd_devices, external_nic"
        in p
        for p in ps
    )
    assert any("network.external.mtu: unknown key 'mtu'" in p for p in ps)


def test_unknown_key_in_software_override() -> None:
    text = GOOD.replace("software: {}", "software:\n  keystone-k8s:\n    chanel: 2025.1/edge")
    [p] = problems(text)
    assert p.endswith(
        "software.keystone-k8s.chanel: unknown key 'chanel'; expected one of: "
        "channel, revision, config"
    )


def test_several_errors_at_once_with_positions() -> None:
    ps = problems((FIXTURES / "answers" / "bad-everything.yaml").read_text())
    assert ps == [
        "a.yaml:7:5: hosts[0].colour: unknown key 'colour'; expected one of: name, address, "
        "ssh_user, ssh_port, roles, osd_devices, external_nic",
        "a.yaml:9:14: hosts[1].address: '10.20.0.300' is not an IP address; write one such as "
        "10.20.0.11",
        "a.yaml:12:20: network.management_cidr: '10.0.0.0/33' is not a valid network: the prefix "
        "length must be a number from 0 to 32",
    ]


def test_release_as_float() -> None:
    [p] = problems(GOOD.replace('release: "2025.1"', "release: 2025.1"))
    assert p == (
        "a.yaml:4:10: release: must be a string: YAML reads 2025.1 as a number, so "
        'quote it: release: "2025.1"'
    )


def test_unknown_release() -> None:
    [p] = problems(GOOD.replace('release: "2025.1"', 'release: "2023.2"'))
    assert p.startswith("a.yaml:4:10: release: release '2023.2' is not one this installer ships")
    assert "2024.1, 2025.1" in p


def test_wrong_version() -> None:
    [p] = problems(GOOD.replace("version: 1", "version: 2"))
    assert p.startswith("a.yaml:3:10: version: must be 1")


def test_missing_required_keys_point_at_parent() -> None:
    ps = problems("version: 1\nrelease: '2025.1'\nhosts:\n  - name: n1\n")
    assert "a.yaml:1:1: network: required key 'network' is missing" in ps
    assert "a.yaml:4:5: hosts[0].roles: required key 'roles' is missing" in ps


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "roles: [control, compute, storage]",
            "roles: control",
            "hosts[0].roles: must be a list, not the text 'control'",
        ),
        (
            "roles: [control, compute, storage]",
            "roles: [control, networker]",
            "hosts[0].roles[1]: 'networker' is not a role; roles are control, compute, "
            "storage and network",
        ),
        (
            "roles: [control, compute, storage]",
            "roles: []",
            "hosts[0].roles: must list at least one role: control, compute, storage or network",
        ),
        (
            "roles: [control, compute, storage]",
            "roles: [compute, compute]",
            "hosts[0].roles: lists compute more than once; name each role once",
        ),
        (
            "    vlan: null",
            "    vlan: 5000",
            "network.external.vlan: VLAN 5000 is out of range; use 1-4094",
        ),
        (
            "    vlan: null",
            "    vlan: ten",
            "network.external.vlan: must be a whole number, not the text 'ten'",
        ),
        (
            "  - name: node1",
            "  - name: node_1",
            "hosts[0].name: 'node_1' is not valid; it must be a hostname",
        ),
        (
            "management_cidr: 10.20.0.0/24",
            "management_cidr: 10.20.0.1/24",
            "network.management_cidr: '10.20.0.1/24' has host bits set; "
            "the network is 10.20.0.0/24",
        ),
        (
            "management_cidr: 10.20.0.0/24",
            "management_cidr: 10.20.0.0",
            "network.management_cidr: must be a network in CIDR notation",
        ),
        (
            "10.20.0.200-10.20.0.220",
            "10.20.0.200",
            "network.loadbalancer_range: '10.20.0.200' is not a range; write it as START-END",
        ),
        ("10.20.0.200-10.20.0.220", "10.20.0.200-fe80::1", "mixes IPv4 and IPv6"),
        (
            "      - /dev/disk/by-id/wwn-0x5000c500a1b2c301",
            "      - sdb",
            "hosts[0].osd_devices: 'sdb' is not a device path",
        ),
        (
            "  http: null",
            "  http: proxy:3128",
            "proxy.http: 'proxy:3128' is not valid; it must be a proxy URL",
        ),
        ("features: [dns, orchestration]", "features: dns", "features: must be a list"),
        (
            "dns_servers: [10.20.0.1]",
            "dns_servers: [10.20.0.1, dns.example.com]",
            "network.dns_servers[1]: 'dns.example.com' is not an IP address",
        ),
    ],
)
def test_wrong_values(old: str, new: str, expected: str) -> None:
    assert old in GOOD
    ps = problems(GOOD.replace(old, new, 1))
    assert any(expected in p for p in ps), ps


def test_duplicate_key() -> None:
    [p] = problems(GOOD.replace("version: 1", "version: 1\nversion: 1"))
    assert p == (
        "a.yaml:4:1: version: duplicate key 'version' (first given at line 3); give each key once"
    )


def test_multiple_documents() -> None:
    assert "not valid YAML" in problems(GOOD + "\n---\nversion: 1\n")[0]


def test_yaml_anchors_and_merge_keys_work() -> None:
    text = GOOD.replace(
        "  - name: node2\n    address: 10.20.0.12\n    ssh_user: ubuntu\n",
        "  - name: node2\n    address: 10.20.0.12\n    ssh_user: ubuntu\n",
        1,
    )
    text = text.replace(
        "    roles: [control, compute, storage]    # 3 control",
        "    roles: &all [control, compute, storage]    # 3 control",
        1,
    )
    text = text.replace("    roles: [control, compute, storage]\n", "    roles: *all\n")
    assert load_answers_text(text).answers.hosts[2].roles == ["control", "compute", "storage"]


def test_benchmark_generator_gives_valid_files() -> None:
    import sys

    sys.path.insert(0, str(EXAMPLES.parent / "bench"))
    from answers_gen import generate

    answers = load_answers_text(generate(60), "gen.yaml").answers
    assert len(answers.hosts) == 60 and len(answers.hosts_with("control")) == 3


def test_vlan_out_of_range_on_the_network_screen() -> None:
    from installer.interactive.fields import check_field

    assert check_field("external.vlan", "5000") == "VLAN 5000 is out of range; use 1-4094."
    assert check_field("external.vlan", "0") == "VLAN 0 is out of range; use 1-4094."
    assert check_field("external.vlan", "100") is None


def _generated(n: int) -> str:
    import sys

    sys.path.insert(0, str(EXAMPLES.parent / "bench"))
    from answers_gen import generate

    text: str = generate(n)
    return text


def test_a_ten_thousand_host_file_loads(tmp_path: Path) -> None:
    # Issue 17: 10,000 hosts is ~1.4 MiB, past the former 1 MiB bound.
    f = tmp_path / "huge.yaml"
    f.write_text(_generated(10_000))
    assert f.stat().st_size > 1024 * 1024
    answers = load_answers(f)
    assert len(answers.hosts) == 10_000 and answers.hosts[-1].name == "host9999"


def test_the_garbage_collector_is_back_after_loading_even_on_an_error() -> None:
    import gc

    assert gc.isenabled()
    load_answers_text(_generated(50))
    assert gc.isenabled()
    with pytest.raises(AnswersError):
        load_answers_text(_generated(50).replace("version: 1", "version: 2"))
    assert gc.isenabled()
    # A caller that paused it keeps it paused.
    gc.disable()
    try:
        load_answers_text(_generated(50))
        assert not gc.isenabled()
    finally:
        gc.enable()
