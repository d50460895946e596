"""The upgrade wizard's app: what is deployed -> target -> what changes -> preflight -> confirm
-> progress (the install's Progress screen, same events) -> done."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, ClassVar

from textual.screen import Screen

from installer.interactive.upgrade import UpgradeSession
from screens.app import WizardApp, print_leaving

if TYPE_CHECKING:
    from installer.pipeline.settings import RunSettings

UPGRADE_ORDER: tuple[str, ...] = (
    "upgrade-detect", "upgrade-target", "upgrade-changes", "upgrade-preflight",
    "upgrade-confirm", "progress",
)


class UpgradeApp(WizardApp):
    """The guided upgrade. Returns the exit code (0 done, 3 failed, 130 quit while running)."""

    ORDER: ClassVar[tuple[str, ...]] = UPGRADE_ORDER
    RUN_NOUN: ClassVar[str] = "upgrade"

    def __init__(self, upgrade: UpgradeSession, *, start: str = "upgrade-detect",
                 linux_console: bool = False, ansi_color: bool | None = None) -> None:
        super().__init__(upgrade, start=start, linux_console=linux_console,
                         ansi_color=ansi_color)
        self.upgrade = upgrade

    def make_screen(self, name: str) -> Screen[None]:
        # Imported on demand, like the install's screens: the first one must appear fast.
        if name == "upgrade-detect":
            from screens.upgrade_detect import UpgradeDetectScreen

            return UpgradeDetectScreen()
        if name == "upgrade-target":
            from screens.upgrade_target import UpgradeTargetScreen

            return UpgradeTargetScreen()
        if name == "upgrade-changes":
            from screens.upgrade_changes import UpgradeChangesScreen

            return UpgradeChangesScreen()
        if name == "upgrade-preflight":
            from screens.upgrade_preflight import UpgradePreflightScreen

            return UpgradePreflightScreen()
        if name == "upgrade-confirm":
            from screens.upgrade_confirm import UpgradeConfirmScreen

            return UpgradeConfirmScreen()
        if name == "done":
            from screens.upgrade_done import UpgradeDoneScreen

            return UpgradeDoneScreen()
        return super().make_screen(name)  # progress: the install's screen, same events


def create_upgrade_app(upgrade: UpgradeSession, *, linux_console: bool | None = None,
                       ansi_color: bool | None = None) -> UpgradeApp:
    if linux_console is None:
        linux_console = os.environ.get("TERM", "") == "linux"
    return UpgradeApp(upgrade, linux_console=linux_console, ansi_color=ansi_color)


def run_upgrade_tui(settings: RunSettings, *, answers_path: str | None = None,
                    compute_batch: int | None = None) -> int:
    """The CLI's entry to the upgrade wizard (`sunbeam-install upgrade` on a capable terminal)."""
    upgrade = UpgradeSession(settings, answers_path=answers_path, compute_batch=compute_batch)
    app = create_upgrade_app(upgrade)
    code = app.run()
    print_leaving(upgrade, code, UpgradeApp.RUN_NOUN, detached_pid=app.detached_pid)
    return int(code if code is not None else 0)
