"""The fixtures are a healthy cloud: every other test breaks one thing against this baseline."""

from __future__ import annotations

from installer.preflight import check, summarize


def test_three_node_fixture_has_no_findings(raw3, facts3, answers, release):
    assert check(answers(raw3), facts3, release, real_mode=True) == []


def test_single_node_fixture_has_no_findings(raw1, facts1, answers, release):
    assert check(answers(raw1), facts1, release, real_mode=True) == []


def test_summarize_counts_by_severity(raw3, facts3, answers, release):
    facts3["node2"].memory.total_bytes = 8 * 1024**3  # warning: below Sunbeam's 16,000,000 kB
    del facts3["node3"]  # error: no facts
    facts3["node1"].probe_errors = ["dmi: permission denied"]  # info
    findings = check(answers(raw3), facts3, release)
    assert summarize(findings) == (1, 1, 1)
    # Errors come first, then warnings, then infos.
    assert [f.severity for f in findings] == ["error", "warning", "info"]
