"""Review of a converge: instead of the whole plan, the difference between the deployed cloud
and the answers (hosts added, removed and kept; steps added, changed, removed; how many stay
untouched), the findings about what is added, and what stays as deployed. An unchanged draft
says "nothing to change" and cannot run; removing hosts or roles needs "allow removal"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Static

from installer.exits import UserError
from installer.interactive.converge import ConvergeSession
from installer.interactive.notices import Notice, has_errors
from screens.review import ChecksScreen
from screens.toggles import GlyphCheckbox

if TYPE_CHECKING:
    from installer.planner.changes import Difference

MARKS = (("+", "green", "added"), ("~", "yellow", "changed"), ("-", "red", "removed"))


@dataclass
class DifferenceReady(Message):
    """The findings and the difference are known (`error`: why there is no difference)."""

    notices: list[Notice]
    difference: Difference | None
    error: str | None = None


def difference_markup(session: ConvergeSession, diff: Difference) -> str:
    """The difference as the operator reads it at 80 columns: the hosts, the counts, then one
    line per change (its title: the step ids would wrap every other line)."""
    from screens.hosttext import markup_safe

    lines = [markup_safe(session.host_changes().line())]
    if diff.empty:
        lines.append(f"[b]Nothing to change:[/b] the cloud already is what these answers "
                     f"describe ({len(diff.untouched)} steps untouched).")
        return "\n".join(lines)
    lines.append(f"[b]Changes:[/b] {escape(diff.counts())}; {len(diff.plan)} steps to run.")
    for mark, style, attr in MARKS:
        for change in getattr(diff, attr):
            lines.append(f"[{style}]{mark}[/] {markup_safe(change.title)}")
    return "\n".join(lines)


class DifferenceScreen(ChecksScreen):
    NAME = "review"
    TITLE_TEXT = "Review the changes"
    NEXT_LABEL = "Apply"
    HELP = """\
What applying these answers changes in the deployed cloud, read from the cloud itself: hosts
added, removed and kept; steps added (+), changed (~) and removed (-), and how many stay
untouched (they do not run again). Errors must be fixed (Esc goes back); warnings must be
accepted. Removing hosts or roles needs "Allow removal": a compute host running guests is
refused, and Ceph must agree before its disks leave. Apply runs only the steps shown."""
    WIDGET_HELP: ClassVar[dict[str, tuple[str, str]]] = {
        "allow-removal": ("Allow removal", "Removing a host or a role from a deployed cloud "
                          "removes its units and, for a host, its Juju machine; guests and OSDs "
                          "are checked first. Check it to let the converge remove what the "
                          "answers no longer have (as --allow-removal)."),
    }

    WAITING = "Reading the deployed cloud; wait a moment."
    FIX_ERRORS = "Fix the errors below before applying (Esc goes back)."
    ACCEPT = "Accept the warnings with the checkbox before applying."
    READY = "Ready to apply the changes."

    def __init__(self) -> None:
        super().__init__()
        self.difference: Difference | None = None
        self.error: str | None = None

    @property
    def converge(self) -> ConvergeSession:
        session = self.session
        assert isinstance(session, ConvergeSession)
        return session

    def body(self) -> ComposeResult:
        s = self.converge
        with VerticalScroll(id="body"):
            yield Static("[b]Changes[/b]", markup=True)
            yield Static("Reading the deployed cloud…", id="difference", markup=True)
            removals = s.removals()
            yield GlyphCheckbox(f"Allow removal: {', '.join(removals)}", s.allow_removal,
                                id="allow-removal", compact=True)
            yield Static("[b]Findings[/b]", markup=True)
            yield Static("Checking…", id="findings")
            yield GlyphCheckbox("I have read the warnings and accept them", False, id="accept",
                                compact=True)
            fixed = "; ".join(f"{what} {value}" for what, value in s.fixed())
            yield Static(f"[b]Stays as deployed[/b] (a converge does not change it): "
                         f"{escape(fixed)}.", markup=True, id="fixed")

    def on_mount(self) -> None:
        self.query_one("#accept").display = False
        self.query_one("#allow-removal").display = bool(self.converge.removals())
        self.query_one("#next", Button).disabled = True
        self._check()

    def _check(self) -> None:
        self.checked = False
        self.query_one("#next", Button).disabled = True
        self.set_status("Reading the deployed cloud…")
        self.run_worker(self._compute(), group="review", exclusive=True)

    async def _compute(self) -> None:
        import asyncio

        s = self.converge
        notices = await asyncio.to_thread(s.validate)
        if has_errors(notices):
            self.post_message(DifferenceReady(notices, None, None))
            return
        try:
            diff = await s.compute_difference()
        except UserError as e:
            self.post_message(DifferenceReady(notices, None, str(e)))
            return
        self.post_message(DifferenceReady(notices, diff))

    def on_difference_ready(self, message: DifferenceReady) -> None:
        from screens.hosttext import markup_safe

        self.difference, self.error = message.difference, message.error
        self.show_findings(message.notices)
        shown = self.query_one("#difference", Static)
        if message.difference is not None:
            shown.update(difference_markup(self.converge, message.difference))
        elif message.error:
            more = ("\nCheck \"Allow removal\" below to remove them." if
                    self.converge.removals() and not self.converge.allow_removal else "")
            shown.update(f"[b red]Cannot apply:[/b red] {markup_safe(message.error)}"
                         f"{escape(more)}")
        else:
            shown.update("No difference until the errors below are fixed.")
        self.update_next()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        # "accept" is ChecksScreen's (Textual calls the handlers of the base classes too).
        if event.checkbox.id == "allow-removal" and event.value != self.converge.allow_removal:
            self.converge.allow_removal = event.value
            self._check()  # the difference with (or without) the removals

    def blocked(self) -> str | None:
        if self.difference is None:
            return "Cannot apply these answers: see above."
        if self.difference.empty:
            return "Nothing to change: Esc goes back to add hosts or roles."
        return None
