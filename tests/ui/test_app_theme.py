"""The application's set-up: the window stays light on a dark desktop (its colours are drawn for light)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette

from rnnstudio.app import keep_light_theme

WINDOW = QPalette.ColorRole.Window


def dark_palette(light: QPalette) -> QPalette:
    """A dark desktop's palette, as a platform gives it at start-up or on a switch."""
    dark = QPalette(light)
    roles = {WINDOW: "#2d2d2d", QPalette.ColorRole.WindowText: "#e6e6e6", QPalette.ColorRole.Base: "#1e1e1e"}
    roles |= {QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#353535"}
    for role, colour in roles.items():
        dark.setColor(role, QColor(colour))
    return dark


def test_on_a_dark_desktop_the_window_gets_a_light_palette_at_start_and_after_a_switch(qapp, qtbot):
    original = QPalette(qapp.palette())
    try:
        qapp.setPalette(dark_palette(original))  # the desktop is dark when the app starts
        keep_light_theme(qapp)
        palette = qapp.palette()
        assert palette.color(WINDOW).lightness() > 200
        assert palette.color(QPalette.ColorRole.WindowText).lightness() < 60
        assert palette.color(QPalette.ColorRole.Base).lightness() > 200

        qapp.setPalette(dark_palette(original))  # the desktop switches to dark while the app runs
        qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
        qtbot.waitUntil(lambda: qapp.palette().color(WINDOW).lightness() > 200)

        keep_light_theme(qapp)  # set up again (a second window, a test): a light palette is left alone
        assert qapp.palette().color(WINDOW).lightness() > 200
    finally:
        qapp.setPalette(original)
