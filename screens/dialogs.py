"""Modal dialogs: help for the screen in front, and quit with confirmation."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

KEYS_HELP = (
    "Keys everywhere: Tab / Shift+Tab move between fields, Ctrl+N or the Next button goes on, "
    "Esc goes back, F1 shows this help, Ctrl+Q quits (after asking)."
)


def reflow(text: str) -> str:
    """Help texts are wrapped in the source at 95 columns and the dialog is narrower: join each
    paragraph's lines so the dialog wraps whole sentences (a blank line separates paragraphs)."""
    paragraphs = text.strip().split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


class HelpDialog(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,enter,q", "dismiss", "Close"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"[b]Help: {self.title_text}[/b]", markup=True)
            yield Static(reflow(self.text) + "\n\n" + KEYS_HELP, classes="help-text")
            yield Static("[dim]Esc or Enter closes this help.[/dim]", markup=True)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


class ConfirmQuit(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Quit"),
        Binding("n,escape", "answer(False)", "Stay"),
    ]

    def __init__(self, text: str) -> None:
        """`text`: the question, with what quitting now leaves behind (the app knows)."""
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.text, markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Quit (y)", id="yes", variant="error", compact=True)
                yield Button("Stay (n)", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, quit_: bool) -> None:
        self.dismiss(quit_)
