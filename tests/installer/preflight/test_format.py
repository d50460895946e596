from __future__ import annotations

import json

from installer.preflight import Finding, check, format_finding

F = Finding(
    severity="error",
    code="osd-device-not-found",
    host="node2",
    message="OSD device /dev/sdz does not exist on host node2.",
    hint="Name a whole disk of node2.",
    path=["hosts", 1, "osd_devices", 0],
)


def test_located_finding_reads_file_line_col():
    seen = []

    def locate(path):
        seen.append(path)
        return (14, 19)

    assert format_finding(F, locate, "three.yaml") == (
        "three.yaml:14:19: error: OSD device /dev/sdz does not exist on host node2. "
        "(hint: Name a whole disk of node2.)"
    )
    assert seen == [["hosts", 1, "osd_devices", 0]]


def test_unlocated_finding_names_the_host():
    assert format_finding(F, lambda p: None, "three.yaml").startswith(
        "error: host node2: OSD device /dev/sdz"
    )
    assert format_finding(F).startswith("error: host node2: ")
    glob = F.model_copy(update={"host": None, "path": None, "hint": ""})
    assert format_finding(glob, lambda p: (1, 1), "x.yaml") == (
        "error: OSD device /dev/sdz does not exist on host node2."
    )


def test_findings_round_trip_through_json(raw3, facts3, answers, release):
    del facts3["node1"]
    raw3["hosts"][1]["osd_devices"] = ["/dev/sdz"]
    findings = check(answers(raw3), facts3, release)
    data = json.loads(json.dumps([f.model_dump(mode="json") for f in findings]))
    assert [Finding.model_validate(d) for d in data] == findings
    assert {d["code"] for d in data} == {"facts-missing", "osd-device-not-found"}
