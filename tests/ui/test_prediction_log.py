"""PredictionLogModel / PredictionLogView: rows per epoch, per-character colouring, following, copy, scale."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QFontMetrics, QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import QAbstractSlider, QApplication, QHeaderView, QStyle, QStyleOptionViewItem, QTableView

from rnnstudio.core.results import EpochResult
from rnnstudio.ui.prediction_log import (
    LOSS_COLUMN,
    PREDICTION_ROLE,
    RIGHT_COLOUR,
    SELECTION_COLOUR,
    WRONG_COLOUR,
    PredictionDelegate,
    PredictionLogModel,
    PredictionLogView,
    char_matches,
    monospace_font,
)

PREDICTIONS = ["lllll", "lhlol", "ohlol"]


def results(first: int, count: int, pairs: int = 1) -> list[EpochResult]:
    out = []
    for e in range(first, first + count):
        pred = PREDICTIONS[min(e - 1, 2)] if e < 4 else f"oh{e % 10}ol"
        preds = (pred, *("ihello" for _ in range(pairs - 1)))
        out.append(EpochResult(e, 1.0 / e, min(1.0, e / 5), preds, e * 0.01))
    return out


def row_text(model: PredictionLogModel, row: int) -> str:
    return " ".join(str(model.index(row, c).data()) for c in range(model.columnCount()))


def make_view(qtbot, height: int = 200) -> PredictionLogView:
    view = PredictionLogView()
    qtbot.addWidget(view)
    view.resize(520, height)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_rows_appear_per_epoch_with_the_predicted_strings(qtbot):
    view = make_view(qtbot)
    assert view.objectName() == "predictionLog"
    model = view.model()
    assert isinstance(model, PredictionLogModel)
    model.set_targets(["ohlol"], ["hihell"])
    model.append(results(1, 3))
    assert model.rowCount() == 3
    for row, predicted in enumerate(PREDICTIONS):
        assert predicted in row_text(model, row)
    headers = [model.headerData(c, Qt.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Epoch", "Loss", "Accuracy", "→ ohlol"]
    assert model.headerData(3, Qt.Horizontal, Qt.ToolTipRole) == "hihell -> ohlol"
    assert model.index(1, 0).data() == "2"
    assert model.index(1, 1).data() == "0.5000"
    assert model.index(1, 2).data() == "40.0%"
    assert model.index(1, 3).data() == "lhlol"
    assert model.index(1, 3).data(PREDICTION_ROLE) == ("lhlol", "ohlol")
    tip = model.index(1, 3).data(Qt.ToolTipRole)
    assert "ohlol" in tip and "4 of 5 characters right" in tip
    assert model.result(2).predictions == ("ohlol",)
    model.set_targets(["o"], ["h"])  # one character: the tip's count is singular
    model.set_history([EpochResult(1, 0.5, 1.0, ("o",), 0.01)])
    assert model.index(0, 3).data(Qt.ToolTipRole).endswith("\n1 of 1 character right")


def test_several_pairs_are_headed_by_number_and_target(qtbot):
    model = PredictionLogModel()
    model.set_targets(["ohlol", "ihello"], ["hihell", "hihell"])
    model.append(results(1, 2, pairs=2))
    assert model.columnCount() == 5
    assert model.headerData(3, Qt.Horizontal) == "pair 1: ohlol"
    assert model.headerData(4, Qt.Horizontal) == "pair 2: ihello"
    assert model.headerData(4, Qt.Horizontal, Qt.ToolTipRole) == "hihell -> ihello"
    assert model.index(0, 4).data() == "ihello"
    assert "6 of 6" in model.index(0, 4).data(Qt.ToolTipRole)


def test_set_targets_clears_rows_and_history_replaces_them():
    model = PredictionLogModel()
    model.set_targets(["ohlol"])
    model.append(results(1, 5))
    model.set_targets(["ohlol", "ihello"])
    assert model.rowCount() == 0 and model.columnCount() == 5
    model.set_history(results(1, 4, pairs=2))
    assert model.rowCount() == 4 and model.index(3, 0).data() == "4"
    model.clear()
    assert model.rowCount() == 0 and model.columnCount() == 5


def test_predictions_without_targets_get_their_own_columns():
    model = PredictionLogModel()
    model.append(results(1, 2, pairs=2))
    assert model.columnCount() == 5
    assert model.headerData(3, Qt.Horizontal) == "pair 1"
    assert model.index(0, 3).data(PREDICTION_ROLE) == ("lllll", None)


def test_one_insertion_per_append():
    model = PredictionLogModel()
    model.set_targets(["ohlol"])
    inserted = []
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    model.append(results(1, 1000))
    model.append(results(1001, 500))
    model.append([])
    assert inserted == [(0, 999), (1000, 1499)]


def test_char_matches_decides_per_character():
    assert char_matches("lhlol", "ohlol") == [False, True, True, True, True]
    assert char_matches("ohlol", "ohlol") == [True] * 5
    # Characters beyond the target's length are wrong; a short prediction judges only what it has.
    assert char_matches("ohlolxx", "ohlol") == [True] * 5 + [False, False]
    assert char_matches("oh", "ohlol") == [True, True]
    assert char_matches("", "ohlol") == []


def test_delegate_chooses_green_for_right_and_red_for_wrong():
    colours = PredictionDelegate().colours("lhlolx", "ohlol")
    assert [c[0] for c in colours] == [
        WRONG_COLOUR,
        RIGHT_COLOUR,
        RIGHT_COLOUR,
        RIGHT_COLOUR,
        RIGHT_COLOUR,
        WRONG_COLOUR,
    ]
    assert RIGHT_COLOUR.name() == "#1a7f37" and WRONG_COLOUR.name() == "#cf222e"


def _render_cell(view: PredictionLogView, index: QModelIndex, selected: bool = False) -> tuple[QImage, QRect]:
    rect = QRect(0, 0, 160, 26)
    image = QImage(rect.size(), QImage.Format_RGB32)
    image.fill(QColor("white"))
    option = QStyleOptionViewItem()
    option.rect = rect
    option.palette = view.palette()
    option.font = view.font()
    option.widget = view
    option.state = QStyle.State_Enabled | (QStyle.State_Selected if selected else QStyle.StateFlag(0))
    painter = QPainter(image)
    view.itemDelegate().paint(painter, option, index)
    painter.end()
    return image, rect


def _mean_rgb(image: QImage, box: QRect) -> tuple[float, float, float]:
    pixels = [
        image.pixelColor(x, y) for x in range(box.left(), box.right() + 1) for y in range(box.top(), box.bottom() + 1)
    ]
    n = len(pixels)
    return (sum(p.red() for p in pixels) / n, sum(p.green() for p in pixels) / n, sum(p.blue() for p in pixels) / n)


def test_delegate_paints_right_characters_green_and_wrong_ones_red(qtbot):
    view = make_view(qtbot)
    model = view.model()
    model.set_targets(["ohlol"])
    model.append([EpochResult(1, 1.0, 0.6, ("lhlolx",), 0.0)])
    index = model.index(0, 3)
    image, rect = _render_cell(view, index)
    delegate = view.itemDelegate()
    boxes = delegate.char_boxes(rect, "lhlolx", QFontMetrics(monospace_font()))
    assert len(boxes) == 6
    for box, right in zip(boxes, [False, True, True, True, True, False], strict=True):
        r, g, _ = _mean_rgb(image, box)
        if right:
            assert g > r + 15, (box, r, g)
        else:
            assert r > g + 15, (box, r, g)
    # Selected: the highlight is still drawn beside the characters.
    image, rect = _render_cell(view, index, selected=True)
    spare = QRect(boxes[-1].right() + 8, rect.top() + 4, 20, rect.height() - 8)
    r, g, b = _mean_rgb(image, spare)
    assert abs(r - SELECTION_COLOUR.red()) < 12 and abs(g - SELECTION_COLOUR.green()) < 12
    assert abs(b - SELECTION_COLOUR.blue()) < 12


def test_the_view_paints_rows_as_the_delegate_does_with_selected_rows_highlighted(qtbot):
    # The view paints its visible cells itself (one Python call a repaint); what it shows must be
    # what the delegate paints: coloured characters, numbers, and the selection highlight.
    view = make_view(qtbot, height=160)
    model = view.model()
    model.set_targets(["ohlol"])
    model.append([EpochResult(1, 1.5, 0.8, ("lhlol",), 0.0), EpochResult(2, 1.25, 0.8, ("lhlol",), 0.0)])
    view.scrollToTop()
    view.selectRow(0)
    view.clearFocus()
    image = view.viewport().grab().toImage()
    height = view.rowHeight(0)
    cell = QRect(view.columnViewportPosition(3), view.rowViewportPosition(1), view.columnWidth(3), height)
    boxes = view.itemDelegate().char_boxes(cell, "lhlol", QFontMetrics(monospace_font()))
    r, g, _ = _mean_rgb(image, boxes[0])  # "l" where "o" was wanted: red
    assert r > g + 15, (r, g)
    r, g, _ = _mean_rgb(image, boxes[1])  # "h": right, green
    assert g > r + 15, (r, g)
    # Row 0 is selected: the space beside its characters carries the highlight; row 1's does not.
    for row, highlighted in ((0, True), (1, False)):
        y = view.rowViewportPosition(row)
        spare = QRect(boxes[-1].right() + 8, y + 4, 20, height - 8)
        r, g, b = _mean_rgb(image, spare)
        near = abs(r - SELECTION_COLOUR.red()) < 12 and abs(b - SELECTION_COLOUR.blue()) < 12
        assert near == highlighted, (row, r, g, b)
    # The loss column shows the number: dark text pixels inside the cell.
    loss = QRect(view.columnViewportPosition(1), view.rowViewportPosition(1), view.columnWidth(1), height)
    dark = sum(
        image.pixelColor(x, y).lightness() < 110
        for x in range(loss.left(), loss.right())
        for y in range(loss.top(), loss.bottom())
    )
    assert dark > 10


def test_fixed_rows_and_widths_not_refit_per_append(qtbot):
    view = make_view(qtbot)
    model = view.model()
    model.set_targets(["ohlol", "ihello"], ["hihell", "hihell"])
    assert not view.verticalHeader().isVisible()
    assert view.verticalHeader().sectionResizeMode(0) == QHeaderView.Fixed
    # Every column but the last (which stretches to the viewport) keeps the width it was given.
    fixed = range(model.columnCount() - 1)
    widths = [view.columnWidth(c) for c in fixed]
    assert all(w > 0 for w in widths)
    model.append([EpochResult(123456789, 1.0, 0.0, ("o" * 40, "ihello"), 0.0)])
    model.append(results(1, 50, pairs=2))
    assert [view.columnWidth(c) for c in fixed] == widths
    assert view.rowHeight(0) == view.rowHeight(50) > 0


def test_follows_the_newest_row_unless_scrolled_away(qtbot):
    view = make_view(qtbot, height=200)
    model = view.model()
    model.set_targets(["ohlol"])
    bar = view.verticalScrollBar()

    model.append(results(1, 100))
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    assert view.rowAt(view.viewport().height() - 2) == 99
    assert view.is_following()

    # The user scrolls up a page: new rows must not pull the view down.
    with qtbot.waitSignal(view.following_changed) as blocker:
        bar.triggerAction(QAbstractSlider.SliderPageStepSub)
    assert blocker.args == [False]
    parked = bar.value()
    model.append(results(101, 50))
    assert bar.value() == parked < bar.maximum()
    assert not view.is_following()
    assert view.rowAt(view.viewport().height() - 2) < 140

    # Back at the bottom (dragging the scroll bar down): following resumes.
    with qtbot.waitSignal(view.following_changed) as blocker:
        bar.triggerAction(QAbstractSlider.SliderToMaximum)
    assert blocker.args == [True]
    model.append(results(151, 30))
    assert bar.value() == bar.maximum()
    assert view.rowAt(view.viewport().height() - 2) == 179

    # Made shorter (a banner opens above the log): the newest row stays in sight while following...
    view.resize(view.width(), 100)
    qtbot.waitUntil(lambda: view.viewport().height() < 100)
    assert view.is_following() and bar.value() == bar.maximum()
    assert view.rowAt(view.viewport().height() - 2) == 179
    # ...and a view scrolled away stays where the user left it.
    bar.triggerAction(QAbstractSlider.SliderPageStepSub)
    parked = bar.value()
    view.resize(view.width(), 160)
    assert bar.value() == parked and not view.is_following()

    # The same with the keyboard: Ctrl+Home leaves the bottom, Ctrl+End comes back.
    view.setFocus()
    qtbot.keyClick(view, Qt.Key_Home, Qt.ControlModifier)
    assert bar.value() == 0 and not view.is_following()
    model.append(results(181, 10))
    assert bar.value() == 0
    qtbot.keyClick(view, Qt.Key_End, Qt.ControlModifier)
    assert view.is_following()
    model.append(results(191, 10))
    assert view.rowAt(view.viewport().height() - 2) == 199


def test_ctrl_c_copies_the_selected_rows_as_tab_separated_text(qtbot):
    view = make_view(qtbot, height=300)
    model = view.model()
    model.set_targets(["ohlol"])
    model.append(results(1, 5))
    view.scrollToTop()
    rect1 = view.visualRect(model.index(1, 0))
    rect2 = view.visualRect(model.index(2, 0))
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=rect1.center())
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, Qt.ShiftModifier, pos=rect2.center())
    assert view.selected_rows() == [1, 2]
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(view, Qt.Key_C, Qt.ControlModifier)
    text = QGuiApplication.clipboard().text()
    assert text.splitlines() == ["2\t0.5000\t40.0%\tlhlol", "3\t0.3333\t60.0%\tohlol"]


def test_hundred_thousand_rows_in_batches(qtbot):
    view = make_view(qtbot)
    model = view.model()
    model.set_targets(["ohlol"])
    n, batch = 100_000, 1_000
    for first in range(1, n + 1, batch):
        model.append(results(first, batch))
    assert model.rowCount() == n
    # A loss of 1e-5 reads as such, not as 0.0000.
    assert row_text(model, n - 1) == f"{n} 1.000e-05 100.0% oh{n % 10}ol"
    assert view.is_following()
    assert view.rowAt(view.viewport().height() - 2) == n - 1


class _WatchedResult(EpochResult):
    """An EpochResult that counts every attribute read, to prove appends leave old rows alone."""

    reads = 0

    def __getattribute__(self, name):
        if not name.startswith("__"):
            type(self).reads += 1
        return super().__getattribute__(name)


def test_append_does_not_touch_existing_rows():
    model = PredictionLogModel()
    model.set_targets(["ohlol"])
    old = [_WatchedResult(e, 1.0, 0.5, ("ohlol",), 0.0) for e in range(1, 1001)]
    model.append(old)
    _WatchedResult.reads = 0
    for first in range(1001, 50_001, 1000):
        model.append(results(first, 1000))
    assert _WatchedResult.reads == 0
    assert model.rowCount() == 50_000
    # The stored rows are the results themselves, not copies.
    assert model.result(0) is old[0] and model.result(999) is old[-1]


def test_the_view_paints_what_qt_would_whatever_the_scroll_selection_or_layout(qtbot):
    # The view's own paintEvent must show what QTableView's painting (through the delegate) shows.
    class QtPainted(PredictionLogView):
        def paintEvent(self, event) -> None:
            QTableView.paintEvent(self, event)

    views = []
    for cls in (PredictionLogView, QtPainted):
        view = cls()
        qtbot.addWidget(view)
        view.model().set_targets(["hello world"] * 6, ["abc"] * 6)
        view.model().append([EpochResult(i, 1.0 / i, 0.5, ("hellp wor",) * 6, i * 0.01) for i in range(1, 200)])
        view.resize(300, 200)
        view.show()
        qtbot.waitExposed(view)
        views.append(view)

    def same(step: str) -> None:
        QApplication.processEvents()
        for view in views:
            view.clearFocus()
        a, b = (view.viewport().grab().toImage() for view in views)
        assert a == b, step

    same("top")
    for view in views:
        view.horizontalScrollBar().setValue(view.horizontalScrollBar().maximum() // 2)
        view.verticalScrollBar().setValue(137)
    same("scrolled")
    for view in views:
        view.selectRow(view.rowAt(50))
    same("a row selected")
    for view in views:
        view.setRowHidden(view.rowAt(30), True)
    same("a row hidden")
    for view in views:
        view.setRowHidden(view.rowAt(30), False)
        view.setLayoutDirection(Qt.RightToLeft)
    same("right to left")


def test_a_diverged_loss_reads_whole_in_its_column_with_every_digit_in_the_tooltip(qtbot):
    view = make_view(qtbot)
    model = view.model()
    model.set_targets(["ohlol"])
    model.append(
        [EpochResult(3, 959440530440192.0, 0.4, ("ooooo",), 0.0), EpochResult(4, float("nan"), 0.4, ("o",), 0.0)]
    )
    assert model.display_text(0, LOSS_COLUMN) == "9.594e+14"
    assert model.display_text(1, LOSS_COLUMN) == "nan"
    # The cell paints its text inside a 12 px inner margin (PredictionDelegate.paint_cell).
    width = QFontMetrics(view.font()).horizontalAdvance(model.display_text(0, LOSS_COLUMN))
    assert width <= view.columnWidth(LOSS_COLUMN) - 12
    assert model.index(0, LOSS_COLUMN).data(Qt.ToolTipRole) == "epoch 3: loss 959440530440192.0"


def test_tab_leaves_the_log(qtbot):
    """Tab moves the focus on, as elsewhere; the arrows walk the rows (it used to trap Tab)."""
    from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

    box = QWidget()
    qtbot.addWidget(box)
    view = PredictionLogView()
    after = QLineEdit()
    layout = QVBoxLayout(box)
    layout.addWidget(view)
    layout.addWidget(after)
    view.model().set_targets(["ohlol"])
    view.model().append(results(1, 3))
    box.show()
    qtbot.waitExposed(box)
    box.activateWindow()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    assert after.hasFocus()


def test_invisible_characters_are_drawn_visibly_and_a_wrong_one_shows_red(qtbot):
    # "e" + zero-width space + a lone accent painted as just "e": a wrong invisible character could not be seen.
    view = make_view(qtbot)
    model = view.model()
    model.set_targets(["a\u200b\u0301"])
    assert model.headerData(3, Qt.Horizontal) == "→ aU+200B\u25cc\u0301"
    model.append([EpochResult(1, 1.0, 0.3, ("e\u200b\u0301",), 0.0)])
    index = model.index(0, 3)
    image, rect = _render_cell(view, index)
    boxes = view.itemDelegate().char_boxes(rect, "e\u200b\u0301", QFontMetrics(monospace_font()))
    assert len(boxes) == 3 and all(box.width() > 0 for box in boxes)
    assert boxes[1].width() > 3 * boxes[0].width()  # drawn as "U+200B"
    for box, right in zip(boxes, [False, True, True], strict=True):
        r, g, _ = _mean_rgb(image, box)
        assert (g > r + 15) if right else (r > g + 15), (box, r, g)


def test_a_lone_accent_is_named_by_its_code_in_messages():
    from rnnstudio.core.vocab import describe_char

    assert describe_char("\u0301") == "U+0301 (a combining accent)"
    assert describe_char("\u200b") == "U+200B" and describe_char(" ") == "' ' (space)" and describe_char("é") == "'é'"
