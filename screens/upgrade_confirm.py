"""Upgrade, step 5: confirm. Nothing has changed until the Upgrade button."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from screens.base import UpgradeWizardScreen
from screens.upgrade_changes import refreshes

ORDER_TEXT = (
    "Order: the control plane one application at a time (database and messaging, then "
    "identity, image, placement, compute, network, block storage, dashboard, then the rest), "
    "each waiting for its application to settle; then the hosts: Kubernetes and Ceph one host "
    "at a time (nodes Ready, Ceph healthy between two), the hypervisors in rolling batches."
)


class UpgradeConfirmScreen(UpgradeWizardScreen):
    NAME = "upgrade-confirm"
    TITLE_TEXT = "Upgrade: confirm"
    NEXT_LABEL = "Upgrade"
    HELP = """\
The last look before anything changes. Upgrade (Ctrl+N) starts it. A snap refresh that fails
on a host is reverted there and the upgrade stops with the cloud consistent; a charm refresh
that fails stops it with the application named. Either way r on the progress screen (or
`sunbeam-install resume`) continues without redoing what finished."""

    def body(self) -> ComposeResult:
        u = self.upgrade
        d = u.deployed
        hosts = len(u.answers.hosts) if u.answers else 0
        lines = [
            f"Upgrade the cloud on [b]{hosts} host{'s' * (hosts != 1)}[/b] from "
            f"[b]{d.release if d else '?'}[/b] to [b]{u.target}[/b]"
            + (" in the simulated lab (dry run)." if u.dry_run else "."),
            "",
        ]
        summary = u.plan_summary
        if summary is not None:
            kinds = dict(summary.by_kind)
            counted = refreshes(kinds.pop("upgrade.charm", 0), kinds.pop("upgrade.snap", 0))
            others = "".join(f", {k.removeprefix('upgrade.')} {v}"
                             for k, v in sorted(kinds.items()))
            lines.append(f"Plan: {summary.steps} steps ({counted}{others}).")
        lines += ["", ORDER_TEXT, "",
                  "Nothing has been changed yet. [b]Upgrade[/b] starts it; Esc goes back."]
        yield VerticalScroll(Static("\n".join(lines), markup=True, id="confirm-text"),
                             id="body")

    def on_mount(self) -> None:
        self.query_one("#next").focus()
