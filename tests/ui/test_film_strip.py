"""FilmStrip: cells equal a real run's predictions and flags, even thinning of long runs, cheap appends, tooltips."""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QFontMetrics, QHelpEvent, QTextDocument
from PySide6.QtWidgets import QApplication, QToolTip

from rnnstudio.core.config import ModelConfig, TrainConfig
from rnnstudio.core.results import EpochResult
from rnnstudio.core.sequences import Task
from rnnstudio.core.trainer import Trainer
from rnnstudio.ui.film_strip import EMPTY_HINT, HINT_WIDTH, MAX_ROWS, FilmStrip, thin_rows

PAIRS = [("hello", "ohlol"), ("lo", "ol")]


@pytest.fixture(scope="module")
def run() -> list[EpochResult]:
    """A real two-pair run: early epochs have wrong characters, later ones right."""
    task = Task.of(PAIRS)
    model = ModelConfig(cell="rnn", encoding="embedding", embedding_size=10, hidden_size=8, num_layers=2, head="linear")
    trainer = Trainer(task, model, TrainConfig(lr=0.05, epochs=40, seed=2))
    return list(trainer.epochs())


def make_strip(qtbot, width: int = 700, height: int = 300) -> FilmStrip:
    strip = FilmStrip()
    qtbot.addWidget(strip)
    strip.resize(width, height)
    strip.show()
    qtbot.waitExposed(strip)
    return strip


def synthetic(first: int, count: int) -> list[EpochResult]:
    return [EpochResult(e, 1.0 / e, 0.5, ("ohlol",), 0.0) for e in range(first, first + count)]


def test_built_alone_and_empty(qtbot):
    strip = FilmStrip()
    qtbot.addWidget(strip)
    assert strip.objectName() == "filmStrip"
    assert strip.shown_epochs() == [] and strip.row_count() == 0
    assert not strip.grab().isNull()  # paints its empty state without data
    with pytest.raises(IndexError):
        strip.cell(0, 0)


def test_cells_equal_the_predictions_and_their_flags(qtbot, run):
    strip = make_strip(qtbot)
    strip.set_pair(0, *PAIRS[0])
    for i in range(0, len(run), 7):  # batches, as the UI delivers them
        strip.append(run[i : i + 7])
    assert strip.shown_epochs() == [r.epoch for r in run]
    assert strip.column_count() == 5
    flags = set()
    for row, result in enumerate(run):
        for col, target_ch in enumerate("ohlol"):
            ch, right = strip.cell(row, col)
            assert ch == result.predictions[0][col]
            assert right == (ch == target_ch)
            flags.add(right)
    assert flags == {True, False}, "the run should have both right and wrong cells"

    # The second pair, from the same history.
    strip.set_pair(1, *PAIRS[1])
    assert strip.column_count() == 2
    for row, result in enumerate(run):
        for col in range(2):
            ch, right = strip.cell(row, col)
            assert ch == result.predictions[1][col]
            assert right == (ch == "ol"[col])
    # The overview's colours agree with the cells.
    flags = strip.flags()
    assert flags.shape == (len(run), 2)
    for row in range(len(run)):
        for col in range(2):
            assert flags[row, col] == (1 if strip.cell(row, col)[1] else 2)


def test_tooltip_names_epoch_position_prediction_and_target(qtbot, run):
    strip = make_strip(qtbot)
    strip.set_pair(0, *PAIRS[0])
    strip.set_history(run)
    strip.canvas.verticalScrollBar().setValue(0)
    row = next(r for r in range(len(run)) if not strip.cell(r, 1)[1])  # a wrong cell
    ch = strip.cell(row, 1)[0]
    canvas = strip.canvas
    pos = QPoint(canvas.epoch_w + canvas.cell_w + canvas.cell_w // 2, canvas.header_h + row * canvas.row_h + 3)
    assert canvas.cell_at(pos) == (row, 1)
    event = QHelpEvent(QEvent.ToolTip, pos, canvas.viewport().mapToGlobal(pos))
    QApplication.sendEvent(canvas.viewport(), event)
    expected = f"epoch {run[row].epoch}, position 2: predicted '{ch}', target 'h' ✗"
    assert QToolTip.text() == expected
    right_row = len(run) - 1
    assert strip.cell(right_row, 2) == ("l", True)
    assert strip.tooltip_at((right_row, 2)) == f"epoch {run[-1].epoch}, position 3: predicted 'l', target 'l' ✓"
    # The header tooltip says since when a position has been right.
    assert strip.tooltip_at((-1, 0)).startswith("position 1: input 'h' → target 'o'")


def test_thinning_keeps_at_most_200_even_rows_with_first_and_latest(qtbot):
    strip = make_strip(qtbot)
    strip.set_pair(0, "hello", "ohlol")
    total, batch = 100_000, 1_250
    for first in range(1, total + 1, batch):
        strip.append(synthetic(first, batch))
        shown = strip.shown_epochs()
        assert len(shown) <= MAX_ROWS
        assert shown[0] == 1 and shown[-1] == first + batch - 1
        assert shown == sorted(set(shown))
    shown = strip.shown_epochs()
    gaps = [b - a for a, b in itertools.pairwise(shown)]
    stride = max(gaps)
    # Evenly spread: every inner gap is the same stride; only the ends may be shorter.
    assert all(g == stride for g in gaps[1:-1])
    assert gaps[0] <= stride and gaps[-1] <= stride
    # Not thinned more than needed: at least three quarters of the allowed rows.
    assert len(shown) >= 0.75 * MAX_ROWS
    assert strip.epoch_count() == total


def test_thin_rows_small_and_non_contiguous():
    assert thin_rows(5, 1, 5) == [0, 1, 2, 3, 4]
    rows = thin_rows(1000, 10, 5000)  # epochs with gaps: an even grid over the indices
    assert rows[0] == 0 and rows[-1] == 999 and len(rows) <= MAX_ROWS
    inner = [b - a for a, b in itertools.pairwise(rows[1:-1])]
    assert len(set(inner)) == 1


class CountingResult(EpochResult):
    """An EpochResult that counts how often its predictions are read."""

    reads = 0

    def __getattribute__(self, name: str):
        if name == "predictions":
            CountingResult.reads += 1
        return super().__getattribute__(name)


def test_append_reads_only_the_shown_rows_not_the_history(qtbot):
    strip = FilmStrip()
    qtbot.addWidget(strip)
    strip.set_pair(0, "hello", "ohlol")
    history = [CountingResult(e, 0.1, 0.5, ("ohlol",), 0.0) for e in range(1, 50_001)]
    strip.set_history(history)
    costs = []
    for first in range(50_001, 60_001, 500):
        batch = [CountingResult(e, 0.1, 0.5, ("ohlxl",), 0.0) for e in range(first, first + 500)]
        CountingResult.reads = 0
        strip.append(batch)
        costs.append(CountingResult.reads)
    # O(shown rows) per append: a few reads per displayed row, whatever the history's length.
    assert max(costs) <= 3 * MAX_ROWS
    assert strip.cell(strip.row_count() - 1, 3) == ("x", False)


def test_follows_the_newest_row_unless_the_user_scrolled_up(qtbot, run):
    strip = make_strip(qtbot, height=200)
    strip.set_pair(0, *PAIRS[0])
    strip.append(run[:20])
    bar = strip.canvas.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    strip.canvas.setFocus()
    qtbot.keyClick(strip.canvas, Qt.Key_Home)
    assert bar.value() == 0 and not strip.is_following()
    strip.append(run[20:30])
    assert bar.value() == 0, "appending must not pull a user who scrolled up back down"
    assert strip.visible_rows()[0] == 0
    qtbot.keyClick(strip.canvas, Qt.Key_End)
    strip.append(run[30:])
    assert bar.value() == bar.maximum() and strip.is_following()
    last_visible = strip.visible_rows()[1]
    assert last_visible == strip.row_count() - 1


def test_overview_click_scrolls_the_grid(qtbot, run):
    strip = make_strip(qtbot, height=200)
    strip.set_pair(0, *PAIRS[0])
    strip.set_history(run)
    area = strip.overview.image_rect()
    qtbot.mouseClick(strip.overview, Qt.LeftButton, pos=QPoint(area.center().x(), area.top() + 1))
    assert strip.visible_rows()[0] == 0
    qtbot.mouseClick(strip.overview, Qt.LeftButton, pos=QPoint(area.center().x(), area.bottom() - 1))
    assert strip.visible_rows()[1] == strip.row_count() - 1


def test_clear_and_set_history(qtbot, run):
    strip = make_strip(qtbot)
    strip.set_pair(0, *PAIRS[0])
    strip.append(run)
    strip.clear()
    assert strip.shown_epochs() == [] and strip.epoch_count() == 0
    strip.set_history(run[5:9])
    assert strip.shown_epochs() == [r.epoch for r in run[5:9]]
    assert "4 epochs" in strip.caption.text() and "ohlol" in strip.caption.text()
    # A pair the results do not have shows empty cells, not an error.
    strip.set_pair(7, "abc", "cba")
    assert strip.cell(0, 0) == ("", False)
    assert not strip.grab().isNull()


@pytest.mark.parametrize("pair", [("hello", "ohlol"), ("a", "b")])
def test_the_empty_hint_is_whole_however_short_the_string(qtbot, pair):
    strip = make_strip(qtbot, width=650, height=320)  # the Film-strip tab in a 1440 x 900 window
    strip.set_pair(0, *pair)
    canvas = strip.canvas
    area = canvas.hint_rect()
    needed = QFontMetrics(canvas.font()).boundingRect(area, canvas.HINT_FLAGS, EMPTY_HINT)
    assert area.contains(needed)
    # Once epochs arrive the grid is only as wide as its columns again.
    strip.append(synthetic(1, 3))
    assert canvas.maximumWidth() < canvas.epoch_w + HINT_WIDTH


def rendered_width(label) -> float:
    doc = QTextDocument()
    doc.setDefaultFont(label.font())
    doc.setDocumentMargin(0)
    doc.setHtml(label.text())
    return doc.idealWidth()


def test_the_caption_is_elided_to_the_panel_with_the_whole_of_it_in_the_tooltip(qtbot):
    strip = make_strip(qtbot, width=628, height=320)
    strip.set_pair(0, "hello", "ohlol")
    strip.append(synthetic(1, 557))
    note = "187 of 557 epochs (every 3rd and the latest), newest at the bottom"
    assert note in strip.caption.toolTip()
    text = strip.caption_text()
    assert text.startswith("right wrong pair 1: hello → ohlol · 187 of 557 epochs") and text.endswith("…")
    assert rendered_width(strip.caption) <= strip.caption.contentsRect().width()
    strip.resize(1100, 320)
    qtbot.waitUntil(lambda: strip.caption_text().endswith(note))
    # Long strings give way too, and the note still starts in view.
    strip.resize(628, 320)
    strip.set_pair(0, "abcdefghij" * 6, "jihgfedcba" * 6)
    qtbot.waitUntil(lambda: rendered_width(strip.caption) <= strip.caption.contentsRect().width())
    assert "· 187 of 557" in strip.caption_text()
    assert "abcdefghij" * 6 in strip.caption.toolTip()


def test_in_a_narrow_panel_the_overview_leaves_the_strip_most_of_the_room(qtbot):
    """In the tab of a 1280-px window, 'hello world' got a 320-px overview and 1.5 visible positions."""
    strip = make_strip(qtbot, width=488, height=300)
    strip.set_pair(0, "hello world", "dlrow olleh")
    strip.append([EpochResult(e, 1.0, 0.5, ("dlrow olleh",), 0.0) for e in range(1, 16)])
    cell_w = strip.canvas.cell_w
    # eight of the eleven positions in view, the overview at most a third of the panel (and its margin)
    qtbot.waitUntil(lambda: strip.canvas.viewport().width() >= strip.canvas.epoch_w + 8 * cell_w)
    assert strip.overview.width() <= strip.width() // 3 + 6
    strip.resize(1100, 300)  # room for both: the overview as wide as its columns want
    qtbot.waitUntil(lambda: strip.overview.width() == strip.overview.label_w + 11 * strip.overview.WIDTH_PER_COLUMN + 6)
