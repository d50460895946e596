"""Check boxes, radio buttons and selection lists whose state shows in the glyph, not only in its
colour: `[x]`/`[ ]` and `(•)`/`( )`, readable on a monochrome terminal and under NO_COLOR."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, RadioButton, SelectionList
from textual.widgets._toggle_button import ToggleButton

CHECKED, UNCHECKED = "[x]", "[ ]"
CHOSEN, NOT_CHOSEN = "(•)", "( )"

# The stock button is a coloured block (▐X▌) the same either way; ours is text on the background.
GLYPH_CSS = """
    & > .toggle--button { background: transparent; color: $text; text-style: bold; }
    &.-on > .toggle--button { background: transparent; color: $text-success; }
    &:ansi > .toggle--button { background: transparent; color: $ansi-foreground; }
    &:ansi.-on > .toggle--button { background: transparent; text-style: bold; }
"""


def _glyph(button: ToggleButton, on: str, off: str) -> Content:
    return Content.styled(on if button.value else off, button.get_visual_style("toggle--button"))


class GlyphCheckbox(Checkbox):
    DEFAULT_CSS = "GlyphCheckbox {" + GLYPH_CSS + "}"

    @property
    def _button(self) -> Content:
        return _glyph(self, CHECKED, UNCHECKED)


class GlyphRadioButton(RadioButton):
    DEFAULT_CSS = "GlyphRadioButton {" + GLYPH_CSS + "}"

    @property
    def _button(self) -> Content:
        return _glyph(self, CHOSEN, NOT_CHOSEN)


class GlyphSelectionList(SelectionList[Any]):
    """A SelectionList whose rows start with `[x]` or `[ ]` (the stock one draws ▐X▌ for both)."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        _, scroll_y = self.scroll_offset
        try:
            selection = self.get_option_at_index(scroll_y + y)
        except Exception:  # past the last option: nothing to mark
            return strip
        if len(segments) < 3:
            return strip
        glyph = CHECKED if selection.value in self._selected else UNCHECKED
        style = segments[1].style
        return Strip([Segment(glyph, style), *segments[3:]], strip.cell_length)
