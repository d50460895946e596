"""Input fields that validate as you type with the answers file's own models."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label, Static

from installer.interactive.fields import check_field


class AnswersValidator(Validator):
    """Validates one answers field; never raises (PITFALLS: a raising validator breaks Input)."""

    def __init__(self, check: Callable[[str], str | None]) -> None:
        super().__init__()
        self.check = check

    def validate(self, value: str) -> ValidationResult:
        try:
            message = self.check(value)
        except Exception as e:  # a bug in a check must show, not crash the screen
            message = f"Cannot check this value ({e})."
        return self.failure(message) if message else self.success()


def field_check(key: str, required: bool = True) -> Callable[[str], str | None]:
    return lambda value: check_field(key, value, required=required)


class Field(Vertical):
    """A labelled input with its validation message underneath."""

    DEFAULT_CSS = """
    Field { height: auto; }
    Field > Label { margin-top: 1; }
    Field > .field-error { color: $error; height: auto; }
    """

    def __init__(self, label: str, value: str, check: Callable[[str], str | None], *,
                 id: str, placeholder: str = "") -> None:
        super().__init__(id=f"{id}-field")
        self.label = label
        self.value = value
        self.check = check
        self.input_id = id
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        yield Label(self.label)
        yield Input(value=self.value, placeholder=self.placeholder, id=self.input_id,
                    validators=[AnswersValidator(self.check)], validate_on=["changed", "submitted"])
        yield Static("", classes="field-error")

    def on_mount(self) -> None:
        # Show what is wrong with a prefilled value at once, but not nag about empty fields.
        self.show(self.check(self.value) if self.value else None)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.show(self.check(event.value))

    def show(self, message: str | None) -> None:
        error = self.query_one(".field-error", Static)
        if str(error.render()) == (message or "") and error.display == bool(message):
            return
        error.update(message or "")
        error.display = bool(message)
        # A line appearing or going (here or above) moves the fields below it: keep the one being
        # typed into in view, at 80x24 it may be on the last line.
        self.call_after_refresh(self._keep_focus_in_view)

    def _keep_focus_in_view(self) -> None:
        focused = self.screen.focused
        if isinstance(focused, Input):
            parent = focused.parent
            # The field's own error goes with it, so the reader sees both.
            target = parent if isinstance(parent, Field) else focused
            target.scroll_visible(animate=False)

    @property
    def text(self) -> str:
        return self.query_one(Input).value

    def error(self) -> str | None:
        return self.check(self.text)
