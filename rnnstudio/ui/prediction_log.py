"""The predictions log: one row per finished epoch, each predicted character coloured right or wrong."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetrics,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from ..core.problems import plural
from ..core.results import EpochResult
from . import style
from .numbers import WIDEST_LOSS, format_accuracy, format_loss
from .vocab_strip import display_char, display_string

#: Data role of a prediction cell: the tuple (predicted, target); target is None when unknown.
PREDICTION_ROLE = Qt.UserRole + 1

RIGHT_COLOUR = QColor(style.RIGHT)
WRONG_COLOUR = QColor(style.WRONG)
RIGHT_BACKGROUND = QColor(style.RIGHT_BG)
WRONG_BACKGROUND = QColor(style.WRONG_BG)
SELECTION_COLOUR = QColor("#b6e3ff")
SELECTION_TEXT = QColor(style.TEXT)

EPOCH_COLUMN, LOSS_COLUMN, ACCURACY_COLUMN = 0, 1, 2
FIRST_PAIR_COLUMN = 3

# Plain ints, looked up once: data() runs for ~10 roles of every visible cell on each repaint, and
# PySide6's Qt.DisplayRole-style lookups cost tens of microseconds each.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_PREDICTION = int(PREDICTION_ROLE)
_STATE_SELECTED = QStyle.StateFlag.State_Selected
_STATE_FOCUS = QStyle.StateFlag.State_HasFocus
_CACHE_SIZE = 2048
_HANDLED = frozenset((_DISPLAY, _TOOLTIP, _ALIGNMENT, _FONT, _PREDICTION))
_ALIGN_NUMBER = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_ALIGN_TEXT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

_Index = QModelIndex | QPersistentModelIndex


def char_matches(predicted: str, target: str) -> list[bool]:
    """For each predicted character: whether it equals the target's character at that position.

    Characters beyond the target's length are wrong.
    """
    n = len(target)
    return [i < n and c == target[i] for i, c in enumerate(predicted)]


def count_right(predicted: str, target: str) -> int:
    """How many predicted characters match the target at their position."""
    return sum(a == b for a, b in zip(predicted, target, strict=False))


def monospace_font() -> QFont:
    """The system's fixed-pitch font, so characters of successive epochs line up in columns."""
    return QFontDatabase.systemFont(QFontDatabase.FixedFont)


class PredictionLogModel(QAbstractTableModel):
    """Epoch, loss, accuracy and the predicted string of each pair, one row per finished epoch.

    Rows are kept in a plain list and appended in place, so an append costs the
    size of the batch, not of the history.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[EpochResult] = []
        self._targets: list[str | None] = []
        self._inputs: list[str | None] = []
        self._mono = monospace_font()

    # ------------------------------------------------------------------- API
    def set_targets(self, targets: Sequence[str], inputs: Sequence[str] | None = None) -> None:
        """Set one prediction column per target (``inputs`` name them in header tooltips).

        This resets the model and clears every row: predictions recorded for other
        targets would be coloured against the wrong strings.
        """
        targets = list(targets)
        if inputs is not None and len(inputs) != len(targets):
            raise ValueError(f"{len(inputs)} inputs for {len(targets)} targets")
        self.beginResetModel()
        self._targets = targets
        self._inputs = list(inputs) if inputs is not None else [None] * len(targets)
        self._rows = []
        self.endResetModel()

    def targets(self) -> list[str | None]:
        """The target of each prediction column (None for a column made before targets were set)."""
        return list(self._targets)

    def append(self, results: Sequence[EpochResult]) -> None:
        """Add one row per result, in one insertion."""
        if not results:
            return
        width = max(len(r.predictions) for r in results)
        if width > len(self._targets):
            # Predictions arrived without set_targets: add columns rather than hide them.
            self._add_unknown_columns(width - len(self._targets))
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(results) - 1)
        self._rows.extend(results)
        self.endInsertRows()

    def set_history(self, results: Sequence[EpochResult]) -> None:
        """Replace every row by ``results`` (the columns stay)."""
        results = list(results)
        width = max((len(r.predictions) for r in results), default=0)
        self.beginResetModel()
        if width > len(self._targets):
            extra = width - len(self._targets)
            self._targets.extend([None] * extra)
            self._inputs.extend([None] * extra)
        self._rows = results
        self.endResetModel()

    def clear(self) -> None:
        """Remove every row (the columns stay)."""
        self.beginResetModel()
        self._rows = []
        self.endResetModel()

    def result(self, row: int) -> EpochResult:
        """The EpochResult shown in ``row``."""
        return self._rows[row]

    def last_result(self) -> EpochResult | None:
        """The newest row's EpochResult, or None when there is no row."""
        return self._rows[-1] if self._rows else None

    def display_text(self, row: int, column: int) -> str:
        """What ``data(DisplayRole)`` gives for a cell, without going through a model index."""
        return self._display(self._rows[row], column)

    def prediction(self, row: int, pair: int) -> tuple[str, str | None]:
        """(predicted, target) of one pair in ``row``; target is None when it is unknown."""
        return self._prediction(self._rows[row], pair), self._targets[pair]

    def row_texts(self, row: int) -> list[str]:
        """The displayed text of every column of ``row``."""
        return [self._display(self._rows[row], column) for column in range(self.columnCount())]

    def _add_unknown_columns(self, extra: int) -> None:
        first = len(self._targets) + FIRST_PAIR_COLUMN
        self.beginInsertColumns(QModelIndex(), first, first + extra - 1)
        self._targets.extend([None] * extra)
        self._inputs.extend([None] * extra)
        self.endInsertColumns()

    # ------------------------------------------------------------ Qt model
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's default argument)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's default argument)
        return 0 if parent.isValid() else FIRST_PAIR_COLUMN + len(self._targets)

    def data(self, index: _Index, role: int = _DISPLAY):
        role = int(role)
        if role not in _HANDLED:
            return None
        row, column = index.row(), index.column()
        if not 0 <= row < len(self._rows):
            return None
        pair = column - FIRST_PAIR_COLUMN
        if role == _DISPLAY:
            return self._display(self._rows[row], column)
        if role == _ALIGNMENT:
            return _ALIGN_TEXT if pair >= 0 else _ALIGN_NUMBER
        if pair < 0:
            if role == _TOOLTIP and column == LOSS_COLUMN:
                # The cell is rounded (or in scientific notation): the tooltip has every digit.
                return f"epoch {self._rows[row].epoch}: loss {float(self._rows[row].loss)!r}"
            return None
        if role == _FONT:
            return self._mono
        result = self._rows[row]
        if role == _PREDICTION:
            return (self._prediction(result, pair), self._targets[pair])
        predicted, target = self._prediction(result, pair), self._targets[pair]
        if target is None:
            return f"epoch {result.epoch}: predicted {predicted!r}"
        return (
            f"epoch {result.epoch}: predicted {predicted!r}, target {target!r}\n"
            f"{count_right(predicted, target)} of {plural(len(target), 'character')} right"
        )

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):
        if orientation != Qt.Horizontal:
            return None
        pair = section - FIRST_PAIR_COLUMN
        if role == Qt.DisplayRole:
            if pair < 0:
                return ("Epoch", "Loss", "Accuracy")[section]
            target = self._targets[pair]
            if target is None:
                return f"pair {pair + 1}"
            shown = display_string(target)
            return f"→ {shown}" if len(self._targets) == 1 else f"pair {pair + 1}: {shown}"
        if role == Qt.ToolTipRole:
            if pair < 0:
                return (
                    "Epoch number",
                    "Loss of the epoch's forward pass",
                    "Share of target characters predicted right",
                )[section]
            target, source = self._targets[pair], self._inputs[pair]
            if target is None:
                return f"Predictions for pair {pair + 1}"
            return f"{source} -> {target}" if source is not None else f"target {target}"
        if role == Qt.TextAlignmentRole:
            return int(Qt.AlignLeft | Qt.AlignVCenter) if pair >= 0 else int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    @staticmethod
    def _prediction(result: EpochResult, pair: int) -> str:
        predictions = result.predictions
        return predictions[pair] if pair < len(predictions) else ""

    def _display(self, result: EpochResult, column: int) -> str:
        if column == EPOCH_COLUMN:
            return str(result.epoch)
        if column == LOSS_COLUMN:
            return format_loss(result.loss)
        if column == ACCURACY_COLUMN:
            return format_accuracy(result.accuracy)
        return self._prediction(result, column - FIRST_PAIR_COLUMN)


class PredictionDelegate(QStyledItemDelegate):
    """Paints a predicted string character by character: green where it matches the target, red where not."""

    PADDING = 6

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cache: dict[tuple, QPixmap] = {}

    def colours(self, predicted: str, target: str | None) -> list[tuple[QColor, QColor] | None]:
        """(text, background) for each character; None when there is no target to compare with."""
        if target is None:
            return [None] * len(predicted)
        return [
            (RIGHT_COLOUR, RIGHT_BACKGROUND) if ok else (WRONG_COLOUR, WRONG_BACKGROUND)
            for ok in char_matches(predicted, target)
        ]

    def char_boxes(self, rect: QRect, text: str, metrics: QFontMetrics) -> list[QRect]:
        """Where each character of ``text`` is painted inside the cell ``rect`` (clipped to it)."""
        boxes = []
        x = rect.left() + self.PADDING
        top, height = rect.top() + 2, max(rect.height() - 4, 1)
        for ch in text:
            if x > rect.right():
                break  # long strings: paint only what fits, O(visible) not O(length)
            w = metrics.horizontalAdvance(display_char(ch))  # a zero-width space takes room, as U+200B
            boxes.append(QRect(x, top, w, height))
            x += w
        return boxes

    def paint(self, painter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        model = index.model()
        if not isinstance(model, PredictionLogModel):
            super().paint(painter, option, index)
            return
        row = index.row()
        if not 0 <= row < model.rowCount():
            return
        widget = option.widget
        self.paint_cell(
            painter,
            option.rect,
            model,
            row,
            index.column(),
            bool(option.state & _STATE_SELECTED),
            option.palette,
            widget.devicePixelRatioF() if widget is not None else 1.0,
        )

    def paint_cell(
        self,
        painter: QPainter,
        rect: QRect,
        model: PredictionLogModel,
        row: int,
        column: int,
        selected: bool,
        palette: QPalette,
        ratio: float,
    ) -> None:
        """Paint one cell of ``model`` into ``rect``: what ``paint`` does, without a model index or option."""
        if selected:
            painter.fillRect(rect, palette.highlight())
        plain = palette.color(QPalette.HighlightedText if selected else QPalette.Text)
        if column < FIRST_PAIR_COLUMN:
            painter.setPen(plain)
            painter.drawText(rect.adjusted(4, 0, -8, 0), _ALIGN_NUMBER, model.display_text(row, column))
            return
        predicted, target = model.prediction(row, column - FIRST_PAIR_COLUMN)
        # Predictions repeat (a learned string stays the same for thousands of epochs): each
        # distinct cell is drawn once into a pixmap, and repaints only blit it.
        key = (predicted, target, selected and target is None, rect.width(), rect.height(), ratio)
        pixmap = self._cache.get(key)
        if pixmap is None:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            pixmap = self._cache[key] = self._render(predicted, target, plain, rect.width(), rect.height(), ratio)
        painter.drawPixmap(rect.topLeft(), pixmap)

    def _render(self, predicted: str, target: str | None, plain: QColor, width: int, height: int, ratio: float):
        """The characters of one cell, coloured, on a transparent pixmap the size of the cell."""
        pixmap = QPixmap(max(1, round(width * ratio)), max(1, round(height * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.transparent)
        painter = QPainter(pixmap)
        font = monospace_font()
        painter.setFont(font)
        local = QRect(0, 0, width, height)
        # Fewer boxes than characters when the string is wider than the column.
        boxes = self.char_boxes(local, predicted, QFontMetrics(font))
        for ch, box, colour in zip(predicted, boxes, self.colours(predicted, target), strict=False):
            if colour is None:
                painter.setPen(plain)
            else:
                text_colour, background = colour
                painter.fillRect(box, background)
                painter.setPen(text_colour)
            painter.drawText(box, Qt.AlignCenter, display_char(ch))
        painter.end()
        return pixmap

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        value = index.data(PREDICTION_ROLE)
        if value is None:
            return super().sizeHint(option, index)
        metrics = QFontMetrics(monospace_font())
        return QSize(metrics.horizontalAdvance(display_string(value[0])) + 2 * self.PADDING, metrics.height() + 6)


class PredictionLogView(QTableView):
    """The predictions table: follows the newest epoch unless the user scrolled away from the bottom."""

    following_changed = Signal(bool)

    def __init__(self, model: PredictionLogModel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("predictionLog")
        self.setTabKeyNavigation(False)  # Tab leaves the log; the arrows walk it
        self._following = True
        self._delegate = PredictionDelegate(self)
        self.setItemDelegate(self._delegate)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setAlternatingRowColors(False)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setCornerButtonEnabled(False)
        self.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollPerPixel)

        # A light selection keeps the green / red characters readable on selected rows.
        palette = self.palette()
        for group in (QPalette.Active, QPalette.Inactive):
            palette.setColor(group, QPalette.Highlight, SELECTION_COLOUR)
            palette.setColor(group, QPalette.HighlightedText, SELECTION_TEXT)
        self.setPalette(palette)

        vertical = self.verticalHeader()
        vertical.hide()
        # Fixed height: Qt never measures rows, which keeps 100,000 rows cheap.
        vertical.setSectionResizeMode(QHeaderView.Fixed)
        vertical.setDefaultSectionSize(QFontMetrics(monospace_font()).height() + 8)
        horizontal = self.horizontalHeader()
        horizontal.setSectionResizeMode(QHeaderView.Interactive)
        horizontal.setStretchLastSection(True)
        horizontal.setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        horizontal.setHighlightSections(False)

        self.verticalScrollBar().valueChanged.connect(self._on_scroll_value_changed)
        self.setModel(model if model is not None else PredictionLogModel(self))

    def setModel(self, model: PredictionLogModel) -> None:
        old = self.model()
        if old is not None:
            old.modelReset.disconnect(self._on_model_columns_changed)
            old.columnsInserted.disconnect(self._on_model_columns_changed)
        super().setModel(model)
        model.modelReset.connect(self._on_model_columns_changed)
        model.columnsInserted.connect(self._on_model_columns_changed)
        self._on_model_columns_changed()

    def model(self) -> PredictionLogModel:
        """The PredictionLogModel shown."""
        return super().model()

    # ------------------------------------------------------------- following
    def is_following(self) -> bool:
        """Whether the view scrolls to each new row (the user is at the bottom)."""
        return self._following

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the visible cells in one Python call.

        QTableView's own paint calls the delegate once per cell, and each call wraps a
        style option and a model index and takes the GIL from the training thread: about
        5 ms for a screenful. Rows have a fixed height, so the visible ones are found by
        arithmetic and painted here directly (selected rows highlighted, as the delegate does).
        """
        model = self.model()
        if (
            not isinstance(model, PredictionLogModel)
            or type(self.itemDelegate()) is not PredictionDelegate
            or self.isRightToLeft()
            or self.verticalHeader().hiddenSectionCount()
        ):
            super().paintEvent(event)  # layouts the arithmetic below does not cover: Qt's own painting
            return
        rows = model.rowCount()
        height = self.verticalHeader().defaultSectionSize()
        if rows == 0 or height <= 0:
            return
        area = event.rect()
        offset = self.verticalOffset()
        first = max(0, (area.top() + offset) // height)
        last = min(rows - 1, (area.bottom() + offset) // height)
        if first > last:
            return
        columns = []
        for column in range(model.columnCount()):
            x, width = self.columnViewportPosition(column), self.columnWidth(column)
            if width > 0 and x + width > area.left() and x <= area.right():
                columns.append((column, x, width))
        palette = self.palette()
        ratio = self.devicePixelRatioF()
        # Selected rows in view, from the selection's ranges (isRowSelected costs ~0.1 ms a row).
        selection = self.selectionModel()
        spans = [(r.top(), r.bottom()) for r in selection.selection()] if selection is not None else []
        spans = [(top, bottom) for top, bottom in spans if bottom >= first and top <= last]
        paint_cell = self._delegate.paint_cell
        painter = QPainter(self.viewport())
        try:
            y = first * height - offset
            for row in range(first, last + 1):
                selected = any(top <= row <= bottom for top, bottom in spans)
                for column, x, width in columns:
                    paint_cell(painter, QRect(x, y, width, height), model, row, column, selected, palette, ratio)
                y += height
        finally:
            painter.end()

    def rowsInserted(self, parent: QModelIndex, start: int, end: int) -> None:
        super().rowsInserted(parent, start, end)
        if self._following:
            self.scrollToBottom()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._following:  # made shorter (a banner above, a dragged splitter): the newest row stays in sight
            self.scrollToBottom()

    @Slot(int)
    def _on_scroll_value_changed(self, value: int) -> None:
        # Only a value change decides: new rows raise the maximum without moving the value,
        # so a user who scrolled up stays put and one at the bottom is scrolled on by rowsInserted.
        following = value >= self.verticalScrollBar().maximum()
        if following != self._following:
            self._following = following
            self.following_changed.emit(following)

    # ------------------------------------------------------------- columns
    @Slot()
    def _on_model_columns_changed(self) -> None:
        # Widths are set when the columns change, never per append: measuring rows is O(n).
        header = self.horizontalHeader()
        metrics = QFontMetrics(self.font())
        mono = QFontMetrics(monospace_font())
        for column, sample in ((EPOCH_COLUMN, "1000000"), (LOSS_COLUMN, WIDEST_LOSS), (ACCURACY_COLUMN, "100.0%")):
            title = str(self.model().headerData(column, Qt.Horizontal) or "")
            header.resizeSection(column, max(metrics.horizontalAdvance(sample), metrics.horizontalAdvance(title)) + 24)
        for pair, target in enumerate(self.model().targets()):
            length = len(target) if target is not None else 8
            title = str(self.model().headerData(FIRST_PAIR_COLUMN + pair, Qt.Horizontal) or "")
            width = max(mono.horizontalAdvance("M" * min(length, 60)), metrics.horizontalAdvance(title))
            header.resizeSection(FIRST_PAIR_COLUMN + pair, width + 2 * PredictionDelegate.PADDING + 12)

    # ---------------------------------------------------------------- copy
    def selected_rows(self) -> list[int]:
        """The selected rows, in order."""
        return sorted({index.row() for index in self.selectionModel().selectedIndexes()})

    def copy_selection(self) -> str:
        """Put the selected rows on the clipboard as tab-separated text, and return that text."""
        model = self.model()
        text = "\n".join("\t".join(model.row_texts(row)) for row in self.selected_rows())
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.Copy):
            self.copy_selection()
            event.accept()
            return
        super().keyPressEvent(event)
