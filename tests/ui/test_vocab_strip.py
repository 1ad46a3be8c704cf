"""The vocabulary strip alone, resized as a user resizes the window: every chip stays in view."""

from __future__ import annotations

import pytest

from rnnstudio.ui.vocab_strip import VocabStrip


@pytest.fixture
def strip(qtbot):
    w = VocabStrip()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def chip_rows(strip: VocabStrip) -> list[int]:
    """The top of each chip's row as the list draws it."""
    chips = strip.chips
    return sorted({chips.visualItemRect(chips.item(i)).top() for i in range(chips.count())})


def hidden_chips(strip: VocabStrip) -> list[int]:
    """Indices of the chips not wholly inside the list's viewport."""
    chips = strip.chips
    view = chips.viewport().rect()
    return [i for i in range(chips.count()) if not view.contains(chips.visualItemRect(chips.item(i)))]


@pytest.mark.parametrize("size", [11, 20])
def test_every_chip_is_visible_at_every_width_up_to_three_rows(strip, event_loop_turn, size):
    # Widths from a narrow side panel to a wide one: the strip wraps at many different chips, and
    # near each wrap the last chip used to land on a row the strip had no height for.
    strip.set_vocab([chr(ord("a") + i) for i in range(size)], derived=True)
    checked = 0
    for width in range(200, 800, 3):
        strip.resize(width, 240)
        event_loop_turn()  # the list lays its items out on a zero-delay timer after a resize
        rows = chip_rows(strip)
        if len(rows) > 3:
            continue  # past the cap the list scrolls; tested below
        checked += 1
        assert hidden_chips(strip) == [], f"|V| = {size} at {width} px: {len(rows)} rows"
        assert strip.chips.verticalScrollBar().maximum() == 0, f"|V| = {size} at {width} px scrolls"
    assert checked > 100


def test_past_three_rows_the_strip_stays_three_rows_high_and_scrolls(strip, qtbot, event_loop_turn):
    strip.set_vocab([chr(0x100 + i) for i in range(200)], derived=True)
    strip.resize(400, 240)
    event_loop_turn()
    assert len(chip_rows(strip)) > 3
    first = strip.chips.visualItemRect(strip.chips.item(0))
    third_row = [i for i in range(200) if strip.chips.visualItemRect(strip.chips.item(i)).top() == chip_rows(strip)[2]]
    # The first three rows show whole; the rest are a scroll away.
    assert not set(hidden_chips(strip)) & set(range(third_row[-1] + 1))
    assert strip.chips.viewport().height() < 4 * first.height()
    bar = strip.chips.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum())
    qtbot.waitUntil(lambda: strip.chips.viewport().rect().contains(strip.chips.visualItemRect(strip.chips.item(199))))
