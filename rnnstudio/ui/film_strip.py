"""The film strip: each epoch's prediction for one pair, character by character, right in green, wrong in red."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, Qt, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetrics,
    QHelpEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QTextDocument,
)
from PySide6.QtWidgets import QAbstractScrollArea, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ..core.results import EpochResult
from ..core.vocab import describe_char
from . import style
from .heatmaps import show_tooltip
from .vocab_strip import display_string

#: The most epoch rows shown; longer runs are thinned to at most this many.
MAX_ROWS = 200
#: Row strides tried when thinning (times powers of ten): round epoch labels, and rows that
#: stay put while the run grows (they only move when the stride steps up by at most a third).
NICE_STRIDES = (1, 2, 3, 4, 5, 6, 8)

RIGHT_TEXT = QColor(style.RIGHT)
RIGHT_BACKGROUND = QColor(style.RIGHT_FILL)
WRONG_TEXT = QColor(style.WRONG)
WRONG_BACKGROUND = QColor(style.WRONG_FILL)
EMPTY_BACKGROUND = QColor("#f6f8fa")
HEADER_BACKGROUND = QColor("#eaeef2")
HEADER_TEXT = QColor(style.TEXT)
MUTED_TEXT = QColor(style.MUTED)
RULE_LINE = QColor("#8c959f")
BACKGROUND = QColor(style.BACKGROUND)
#: Overview colours (empty, right, wrong): stronger than the cells', since they are a pixel or two tall.
OVERVIEW_COLOURS = np.array([[0xEA, 0xEE, 0xF2], [0x4A, 0xC2, 0x6B], [0xFA, 0x45, 0x49]], dtype=np.uint8)
FRAME_COLOUR = QColor("#0969da")
EMPTY_HINT = "No epochs yet: train to see each position's prediction, epoch by epoch."
#: Width the empty grid keeps for its hint (word-wrapped in it), however few columns the string has.
HINT_WIDTH = 240


def _nice_strides():
    scale = 1
    while True:
        for s in NICE_STRIDES:
            yield s * scale
        scale *= 10


def thin_rows(n: int, first_epoch: int, last_epoch: int, max_rows: int = MAX_ROWS) -> list[int]:
    """Indices (into n recorded epochs) of the rows to show: every one, or an even grid.

    The first and the latest are always kept. For a contiguous run the grid sits on
    multiples of a round stride (epochs 1, 500, 1000, ...), so rows keep their epochs as
    the run grows; otherwise it runs over the indices. O(rows), never O(n).
    """
    if n <= max_rows:
        return list(range(n))
    contiguous = last_epoch - first_epoch == n - 1
    for stride in _nice_strides():
        # Grid indices strictly between the first and the latest.
        start = (-first_epoch) % stride if contiguous else stride
        if start == 0:
            start = stride
        inner = range(start, n - 1, stride)
        if len(inner) + 2 <= max_rows:
            return [0, *inner, n - 1]
    raise AssertionError("unreachable: strides grow without bound")


def _ordinal(n: int) -> str:
    if n % 100 in (11, 12, 13):
        return f"{n}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class _FilmCanvas(QAbstractScrollArea):
    """Paints the grid: a fixed header (position, input, target), a fixed epoch column, cells that scroll."""

    #: How the no-epochs hint is drawn in hint_rect(): centred, word-wrapped.
    HINT_FLAGS = Qt.AlignCenter | Qt.TextWordWrap

    def __init__(self, strip: FilmStrip) -> None:
        super().__init__(strip)
        self._strip = strip
        self.setObjectName("filmStripCanvas")
        self.setFocusPolicy(Qt.StrongFocus)
        self.viewport().setMouseTracking(True)
        self.setFrameShape(QAbstractScrollArea.NoFrame)
        self.font_mono: QFont = QFontDatabase.systemFont(QFontDatabase.FixedFont)
        self.font_bold = QFont(self.font_mono)
        self.font_bold.setBold(True)
        self.font_small = QFont(self.font_mono)
        self.font_small.setPointSizeF(max(self.font_mono.pointSizeF() * 0.8, 6.0))
        metrics = QFontMetrics(self.font_bold)
        self.cell_w = max(metrics.horizontalAdvance("M"), metrics.horizontalAdvance("0") * 2) + 8
        self.row_h = metrics.height() + 4
        self.epoch_w = QFontMetrics(self.font_mono).horizontalAdvance("target 1000000") + 12
        self.header_h = 3 * self.row_h + 3
        self._following = True
        self._tiles: dict[tuple[str, int], QPixmap] = {}
        self._header_tiles: dict[tuple[int, str, str], QPixmap] = {}
        self.verticalScrollBar().valueChanged.connect(self._on_scroll_value_changed)
        self.verticalScrollBar().setSingleStep(self.row_h)
        self.horizontalScrollBar().setSingleStep(self.cell_w)

    def _tile(self, ch: str, state: int) -> QPixmap:
        """A cell's picture (background and character), made once per character and state.

        Blitting cached tiles is several times cheaper than filling and drawing text per
        cell, which matters when the strip repaints ~30 times a second during a run.
        """
        key = (ch, state)
        pixmap = self._tiles.get(key)
        if pixmap is None:
            ratio = self.devicePixelRatioF()
            pixmap = QPixmap(int(self.cell_w * ratio), int(self.row_h * ratio))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(BACKGROUND)  # the 1-px gap right and below is the grid line
            p = QPainter(pixmap)
            box = QRect(0, 0, self.cell_w - 1, self.row_h - 1)
            background, text = (
                (EMPTY_BACKGROUND, HEADER_TEXT),
                (RIGHT_BACKGROUND, RIGHT_TEXT),
                (WRONG_BACKGROUND, WRONG_TEXT),
            )[state]
            p.fillRect(box, background)
            if ch:
                p.setFont(self.font_bold)
                p.setPen(text)
                p.drawText(box, Qt.AlignCenter, _visible(ch))
            p.end()
            if len(self._tiles) > 4096:  # a huge vocabulary: start again rather than grow forever
                self._tiles.clear()
            self._tiles[key] = pixmap
        return pixmap

    def _header_tile(self, key: tuple[int, str, str]) -> QPixmap:
        """A column's header (position, input and target character), made once per column and pair."""
        pixmap = self._header_tiles.get(key)
        if pixmap is None:
            position, source, target = key
            cw, rh = self.cell_w, self.row_h
            ratio = self.devicePixelRatioF()
            pixmap = QPixmap(int(cw * ratio), int(3 * rh * ratio))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(HEADER_BACKGROUND)
            p = QPainter(pixmap)
            p.setFont(self.font_small)
            p.setPen(MUTED_TEXT)
            p.drawText(QRect(0, 0, cw - 1, rh), Qt.AlignCenter, str(position))
            p.setFont(self.font_mono)
            if source:
                p.drawText(QRect(0, rh, cw - 1, rh), Qt.AlignCenter, _visible(source))
            p.setFont(self.font_bold)
            p.setPen(HEADER_TEXT)
            if target:
                p.drawText(QRect(0, 2 * rh, cw - 1, rh), Qt.AlignCenter, _visible(target))
            p.end()
            if len(self._header_tiles) > 4096:
                self._header_tiles.clear()
            self._header_tiles[key] = pixmap
        return pixmap

    # ------------------------------------------------------------ geometry
    def update_ranges(self) -> None:
        """Scroll ranges for the current rows and columns; keeps following the newest row."""
        rows, cols = self._strip.row_count(), self._strip.column_count()
        vp = self.viewport()
        body_h = max(vp.height() - self.header_h, 0)
        body_w = max(vp.width() - self.epoch_w, 0)
        vbar, hbar = self.verticalScrollBar(), self.horizontalScrollBar()
        follow = self._following
        vbar.setRange(0, max(rows * self.row_h - body_h, 0))
        vbar.setPageStep(max(body_h, self.row_h))
        hbar.setRange(0, max(cols * self.cell_w - body_w, 0))
        hbar.setPageStep(max(body_w, self.cell_w))
        if follow:
            vbar.setValue(vbar.maximum())
        self._following = follow
        self.viewport().update()

    def follow_newest(self) -> None:
        """Keep the newest row in view from the next update on (a new history starts at the bottom)."""
        self._following = True

    def is_following(self) -> bool:
        """Whether the newest row is kept in view (the user has not scrolled away from the bottom)."""
        return self._following

    @Slot(int)
    def _on_scroll_value_changed(self, value: int) -> None:
        self._following = value >= self.verticalScrollBar().maximum()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.update_ranges()

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        """(row, column) of the body cell under viewport point ``pos``; row -1 for the header."""
        x, y = pos.x(), pos.y()
        if x < self.epoch_w:
            return None
        col = (x - self.epoch_w + self.horizontalScrollBar().value()) // self.cell_w
        if col >= self._strip.column_count():
            return None
        if y < self.header_h:
            return (-1, col)
        row = (y - self.header_h + self.verticalScrollBar().value()) // self.row_h
        if row >= self._strip.row_count():
            return None
        return (row, col)

    def row_at(self, pos: QPoint) -> int | None:
        """The body row under viewport point ``pos`` (any column), or None."""
        if pos.y() < self.header_h:
            return None
        row = (pos.y() - self.header_h + self.verticalScrollBar().value()) // self.row_h
        return row if row < self._strip.row_count() else None

    # ------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:
        strip = self._strip
        painter = QPainter(self.viewport())
        vp = self.viewport().rect()
        painter.fillRect(vp, BACKGROUND)
        rows, cols = strip.row_count(), strip.column_count()
        dx, dy = self.horizontalScrollBar().value(), self.verticalScrollBar().value()
        cw, rh, ew, hh = self.cell_w, self.row_h, self.epoch_w, self.header_h
        # Only what is exposed is painted: O(visible cells), whatever the history.
        c0 = max(dx // cw, 0)
        c1 = min((dx + vp.width() - ew) // cw + 1, cols)
        r0 = max(dy // rh, 0)
        r1 = min((dy + vp.height() - hh) // rh + 1, rows)
        target = strip.target()

        painter.save()
        painter.setClipRect(QRect(ew, hh, vp.width() - ew, vp.height() - hh))
        n_target = len(target)
        tile = self._tile
        for r in range(r0, r1):
            y = hh + r * rh - dy
            pred = strip.row_prediction(r)
            n_pred = len(pred)
            for c in range(c0, c1):
                if c < n_pred:
                    ch = pred[c]
                    state = 1 if c < n_target and ch == target[c] else 2
                else:
                    ch, state = "", 0
                painter.drawPixmap(ew + c * cw - dx, y, tile(ch, state))
        painter.restore()

        # Epoch column: fixed horizontally, scrolls with the rows.
        painter.save()
        painter.setClipRect(QRect(0, hh, ew, vp.height() - hh))
        painter.setFont(self.font_mono)
        painter.setPen(HEADER_TEXT)
        for r in range(r0, r1):
            y = hh + r * rh - dy
            painter.drawText(QRect(0, y, ew - 8, rh), Qt.AlignRight | Qt.AlignVCenter, str(strip.row_epoch(r)))
        painter.restore()

        # Header: position numbers, the input's and the target's characters; scrolls with the columns.
        painter.save()
        painter.fillRect(QRect(0, 0, vp.width(), hh), HEADER_BACKGROUND)
        painter.setClipRect(QRect(ew, 0, vp.width() - ew, hh))
        source = strip.input_text()
        for c in range(c0, c1):
            key = (c + 1, source[c] if c < len(source) else "", target[c] if c < n_target else "")
            painter.drawPixmap(ew + c * cw - dx, 0, self._header_tile(key))
        painter.restore()
        painter.setFont(self.font_mono)
        painter.setPen(MUTED_TEXT)
        painter.drawText(QRect(0, 0, ew - 8, rh), Qt.AlignRight | Qt.AlignVCenter, "position")
        painter.drawText(QRect(0, rh, ew - 8, rh), Qt.AlignRight | Qt.AlignVCenter, "input")
        painter.setPen(HEADER_TEXT)
        painter.setFont(self.font_bold)
        painter.drawText(QRect(0, 2 * rh, ew - 8, rh), Qt.AlignRight | Qt.AlignVCenter, "target")
        painter.setPen(RULE_LINE)
        painter.drawLine(0, hh - 1, vp.width(), hh - 1)
        painter.drawLine(ew - 3, 0, ew - 3, vp.height())
        if rows == 0:
            painter.setPen(MUTED_TEXT)
            painter.setFont(self.font())
            painter.drawText(self.hint_rect(), self.HINT_FLAGS, strip.note() or EMPTY_HINT)
        painter.end()

    def hint_rect(self) -> QRect:
        """Where the no-epochs hint is painted, word-wrapped: the grid's body, inside a margin."""
        vp = self.viewport().rect()
        return QRect(
            self.epoch_w + 6, self.header_h + 6, vp.width() - self.epoch_w - 12, vp.height() - self.header_h - 12
        )

    # --------------------------------------------------------------- events
    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.ToolTip:
            help_event: QHelpEvent = event
            text = self._strip.tooltip_at(self.cell_at(help_event.pos()), self.row_at(help_event.pos()))
            return show_tooltip(help_event, text, self.viewport())
        return super().viewportEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        bar = self.verticalScrollBar()
        if event.key() == Qt.Key_Home:
            bar.setValue(bar.minimum())
        elif event.key() == Qt.Key_End:
            bar.setValue(bar.maximum())
        else:
            super().keyPressEvent(event)


class _FilmOverview(QWidget):
    """The whole strip squeezed into the panel's height: a pixel-ish row per shown epoch, a frame on what is in view.

    Clicking or dragging in it scrolls the grid there.
    """

    WIDTH_PER_COLUMN = 24

    def __init__(self, strip: FilmStrip) -> None:
        super().__init__(strip)
        self._strip = strip
        self.setObjectName("filmStripOverview")
        self._image: QImage | None = None
        self._buffer: np.ndarray | None = None  # keeps the QImage's bytes alive
        self._scaled: QPixmap | None = None
        self.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Expanding)
        self.setToolTip("The whole run at a glance: one line per shown epoch, first at the top. Click to go there.")
        self._font = QFontDatabase.systemFont(QFontDatabase.FixedFont)
        self._font.setPointSizeF(max(self._font.pointSizeF() * 0.8, 6.0))
        self.label_w = QFontMetrics(self._font).horizontalAdvance("1000000") + 8
        self.top_h = QFontMetrics(self._font).height() + 2
        self.setMinimumWidth(self.label_w + 60)
        self._columns = 0  # of the flags shown

    def set_flags(self, flags: np.ndarray) -> None:
        """Rows x columns of 0 (nothing), 1 (right), 2 (wrong)."""
        if flags.size == 0:
            self._image, self._buffer = None, None
        else:
            rgb = np.ascontiguousarray(OVERVIEW_COLOURS[flags])
            h, w = flags.shape
            self._buffer = rgb
            self._image = QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888)
        self._scaled = None
        self._columns = flags.shape[1] if flags.ndim == 2 else 0
        self.fit_width()
        self.update()

    def fit_width(self) -> None:
        """As wide as its columns need, up to 320 px and a third of the panel: the strip beside it is
        what one reads, and in a narrow panel it kept only a position and a half of 'hello world'."""
        share = max(60, self._strip.width() // 3 - self.label_w)
        width = self.label_w + min(max(self._columns * self.WIDTH_PER_COLUMN, 60), 320, share) + 6
        if width != self.width() or self.minimumWidth() != width:
            self.setFixedWidth(width)  # only on a change: each call would lay the panel out again

    def image_rect(self) -> QRect:
        """Where the rows are drawn."""
        return QRect(self.label_w, self.top_h, self.width() - self.label_w - 6, self.height() - self.top_h - 4)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        painter.setFont(self._font)
        painter.setPen(MUTED_TEXT)
        area = self.image_rect()
        painter.drawText(QRect(area.left(), 0, area.width(), self.top_h), Qt.AlignCenter, "whole run")
        rows = self._strip.row_count()
        if self._image is None or rows == 0 or area.height() <= 0:
            painter.end()
            return
        if self._scaled is None or self._scaled.size() != area.size():
            # Scaled once per change of data or size, not per paint.
            self._scaled = QPixmap.fromImage(self._image.scaled(area.size()))
        painter.drawPixmap(area.topLeft(), self._scaled)
        # Epoch labels: first, latest and a few between, where they do not overlap.
        text_h = QFontMetrics(self._font).height()
        ticks = max(min(area.height() // (3 * text_h), 6), 1)
        used: list[int] = []
        for k in range(ticks + 1):
            row = round(k * (rows - 1) / ticks) if ticks else 0
            y = area.top() + int((row + 0.5) * area.height() / rows)
            if any(abs(y - u) < text_h for u in used):
                continue
            used.append(y)
            box = QRect(0, y - text_h // 2, self.label_w - 4, text_h)
            painter.drawText(box, Qt.AlignRight | Qt.AlignVCenter, str(self._strip.row_epoch(row)))
        # The rows currently in the grid's view.
        first, last = self._strip.visible_rows()
        if last >= first:
            top = area.top() + int(first * area.height() / rows)
            bottom = area.top() + int((last + 1) * area.height() / rows)
            painter.setPen(FRAME_COLOUR)
            painter.drawRect(QRect(area.left() - 2, top - 1, area.width() + 3, max(bottom - top, 1) + 1))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._jump(event.position().toPoint())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.LeftButton:
            self._jump(event.position().toPoint())

    def _jump(self, pos: QPoint) -> None:
        area, rows = self.image_rect(), self._strip.row_count()
        if rows and area.height() > 0:
            row = min(max(int((pos.y() - area.top()) * rows / area.height()), 0), rows - 1)
            self._strip.scroll_to_row(row)


def _visible(ch: str) -> str:
    """A character as drawn in a cell: a space shows as an open box so it is not mistaken for nothing."""
    if ch == " ":
        return "␣"
    if not ch.isprintable():
        return "·"
    return ch


class FilmStrip(QWidget):
    """Epochs x positions: the selected pair's predicted characters, green where right, red where wrong.

    Rows run from the first epoch (top) to the newest (bottom); a long run shows at most
    MAX_ROWS rows spread evenly over it, always with the first and the latest epoch.
    The strip keeps the EpochResult list itself (appends cost O(batch)) and reads the
    few visible rows' predictions when it paints.
    """

    #: The displayed rows changed (new epochs, a new pair, a reset): emitted once per update.
    rows_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filmStrip")
        # A white page, like the plots beside it, whatever the window's palette.
        palette = self.palette()
        palette.setColor(self.backgroundRole(), BACKGROUND)
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        self._results: list[EpochResult] = []
        self._rows: list[int] = []
        self._pair = 0
        self._input = ""
        self._target = ""
        self._note = ""  # why the selected pair has no rows (it was not in the run); '' for a pair of the run
        self._columns = 0

        self.caption = QLabel()
        self.caption.setObjectName("filmStripCaption")
        self.caption.setTextFormat(Qt.RichText)
        self.caption.setContentsMargins(6, 3, 6, 3)
        # Long strings make a long caption: it is elided (full text in the tooltip), never widens the panel.
        self.caption.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self._caption_parts = ("", "", "")  # input, target, rows: what _fit_caption elides to the width
        self.canvas = _FilmCanvas(self)
        self.overview = _FilmOverview(self)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(8)
        body.addWidget(self.canvas, 1)
        body.addWidget(self.overview)
        body.addStretch(0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.caption)
        layout.addLayout(body, 1)
        self.canvas.verticalScrollBar().valueChanged.connect(self.overview.update)
        self._refresh()

    # ----------------------------------------------------------------- data
    def append(self, results: Sequence[EpochResult]) -> None:
        """Add epochs after those recorded (O(batch) plus choosing at most MAX_ROWS rows)."""
        if not results:
            return
        self._results.extend(results)
        self._refresh()

    def set_history(self, results: Sequence[EpochResult]) -> None:
        """Replace the recorded epochs by ``results``."""
        self._results = list(results)
        self.canvas.follow_newest()
        self._refresh()

    def clear(self) -> None:
        """Forget every epoch."""
        self._results = []
        self.canvas.follow_newest()
        self._refresh()

    def set_pair(self, index: int, input_text: str, target: str) -> None:
        """Show pair ``index`` of each epoch's predictions, coloured against ``target``."""
        self._pair = int(index)
        self._input = input_text
        self._target = target
        self._note = ""
        self._refresh()

    def set_pair_not_in_run(self, input_text: str, target: str, note: str) -> None:
        """Show the selected pair's strings with no rows and ``note`` (why): the run has no predictions for it.

        Showing the previous pair's rows instead would pass them off as this pair's.
        """
        self._pair = -1
        self._input = input_text
        self._target = target
        self._note = note
        self._refresh()

    def note(self) -> str:
        """Why the selected pair shows no rows ('' when it is a pair of the run)."""
        return self._note

    # -------------------------------------------------------------- getters
    def pair(self) -> int:
        """Which pair of EpochResult.predictions is shown (0-based; -1 when the selected pair was not in the run)."""
        return self._pair

    def input_text(self) -> str:
        """The selected pair's input."""
        return self._input

    def target(self) -> str:
        """The selected pair's target, which cells are compared with."""
        return self._target

    def epoch_count(self) -> int:
        """How many epochs are recorded (shown or not)."""
        return len(self._results)

    def shown_epochs(self) -> list[int]:
        """The epochs of the rows displayed, top to bottom."""
        results = self._results
        return [results[i].epoch for i in self._rows]

    def row_count(self) -> int:
        """Rows displayed (at most MAX_ROWS)."""
        return len(self._rows)

    def column_count(self) -> int:
        """Positions displayed: the longest of the target, the input and the latest prediction."""
        return self._columns

    def row_epoch(self, row: int) -> int:
        """The epoch shown in ``row``."""
        return self._results[self._rows[row]].epoch

    def row_prediction(self, row: int) -> str:
        """The selected pair's predicted string in ``row`` ('' when the epoch has no such pair)."""
        predictions = self._results[self._rows[row]].predictions
        return predictions[self._pair] if 0 <= self._pair < len(predictions) else ""

    def cell(self, row: int, col: int) -> tuple[str, bool]:
        """The character shown at (row, col) and whether it equals the target's character there."""
        if not 0 <= row < len(self._rows) or not 0 <= col < self._columns:
            raise IndexError(f"no cell ({row}, {col}) in a {len(self._rows)} x {self._columns} strip")
        pred = self.row_prediction(row)
        ch = pred[col] if col < len(pred) else ""
        return ch, bool(ch) and col < len(self._target) and ch == self._target[col]

    def is_following(self) -> bool:
        """Whether the view stays on the newest row as epochs arrive."""
        return self.canvas.is_following()

    # ------------------------------------------------------------- tooltips
    def tooltip_at(self, cell: tuple[int, int] | None, row: int | None = None) -> str:
        """The tooltip for a body cell, a header column, or (with cell None) an epoch label row."""
        if cell is None:
            if row is None:
                return ""
            return f"epoch {self.row_epoch(row)}: {self.row_prediction(row)!r} (target {self._target!r})"
        r, c = cell
        if r < 0:
            return self._column_tooltip(c)
        ch, right = self.cell(r, c)
        expected = describe_char(self._target[c]) if c < len(self._target) else "none"
        got = describe_char(ch) if ch else "nothing"
        return (
            f"epoch {self.row_epoch(r)}, position {c + 1}: predicted {got}, target {expected} {'✓' if right else '✗'}"
        )

    def _column_tooltip(self, c: int) -> str:
        source = describe_char(self._input[c]) if c < len(self._input) else "none"
        expected = describe_char(self._target[c]) if c < len(self._target) else "none"
        text = f"position {c + 1}: input {source} → target {expected}"
        if c >= len(self._target) or not self._rows:
            return text
        # On demand only (a hover), so scanning back through the history is fine here.
        want, since = self._target[c], None
        for result in reversed(self._results):
            preds = result.predictions
            pred = preds[self._pair] if 0 <= self._pair < len(preds) else ""
            if c >= len(pred) or pred[c] != want:
                break
            since = result.epoch
        if since is None:
            return text + "\nwrong in the latest epoch"
        return text + f"\nright in every epoch since {since}"

    # -------------------------------------------------------------- refresh
    def _refresh(self) -> None:
        results = self._results
        n = len(results)
        self._rows = thin_rows(n, results[0].epoch, results[-1].epoch) if n and not self._note else []
        latest = ""
        if n:
            preds = results[-1].predictions
            latest = preds[self._pair] if 0 <= self._pair < len(preds) else ""
        self._columns = max(len(self._target), len(self._input), len(latest))
        self._update_caption()
        # The grid is only as wide as its columns, so a short string leaves room for the overview beside it.
        scroll_w = self.canvas.verticalScrollBar().sizeHint().width()
        widest = self.canvas.epoch_w + self._columns * self.canvas.cell_w + scroll_w + 2
        if not self._rows:
            widest = max(widest, self.canvas.epoch_w + HINT_WIDTH + 12)  # room for the hint, in a few lines
        if self.canvas.maximumWidth() != widest:
            self.canvas.setMaximumWidth(widest)
        self.overview.set_flags(self.flags())
        self.canvas.update_ranges()
        self.rows_changed.emit()

    def flags(self) -> np.ndarray:
        """Rows x columns of the shown cells: 0 nothing predicted, 1 right, 2 wrong (O(shown cells), in numpy)."""
        rows, cols = len(self._rows), self._columns
        if rows == 0 or cols == 0:
            return np.zeros((rows, cols), dtype=np.uint8)
        pad = "\0"
        text = "".join(self.row_prediction(r).ljust(cols, pad)[:cols] for r in range(rows))
        got = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).reshape(rows, cols)
        want = np.frombuffer(self._target.ljust(cols, pad)[:cols].encode("utf-32-le"), dtype=np.uint32)
        flags = np.where(got == want, 1, 2).astype(np.uint8)
        flags[got == 0] = 0
        # A target shorter than the prediction: characters past its end are wrong, never right.
        flags[:, len(self._target) :][got[:, len(self._target) :] != 0] = 2
        return flags

    def visible_rows(self) -> tuple[int, int]:
        """First and last row (inclusive) in the grid's view; (0, -1) when there are none."""
        rows = len(self._rows)
        if rows == 0:
            return (0, -1)
        canvas = self.canvas
        top = canvas.verticalScrollBar().value()
        height = max(canvas.viewport().height() - canvas.header_h, 1)
        first = min(top // canvas.row_h, rows - 1)
        last = min((top + height - 1) // canvas.row_h, rows - 1)
        return (first, last)

    def scroll_to_row(self, row: int) -> None:
        """Scroll the grid so that ``row`` is in the middle of the view."""
        canvas = self.canvas
        height = max(canvas.viewport().height() - canvas.header_h, 1)
        canvas.verticalScrollBar().setValue(row * canvas.row_h - (height - canvas.row_h) // 2)

    def _update_caption(self) -> None:
        n, shown = len(self._results), len(self._rows)
        head = f"pair {self._pair + 1}" if self._pair >= 0 else "selected pair"
        source, target = display_string(self._input), display_string(self._target)  # U+200B, not nothing
        if source or target:
            what = f"{head}: <b>{_html(source)}</b> → <b>{_html(target)}</b>"
        else:
            what = head
        if self._note:
            rows = "not in the run"
        elif n == 0:
            rows = "no epochs yet"
        elif shown == n:
            rows = f"{n} epoch{'s' if n != 1 else ''}, newest at the bottom"
        else:
            e = self.shown_epochs()
            stride = e[2] - e[1] if shown > 3 else e[-1] - e[0]
            rows = f"{shown} of {n} epochs (every {_ordinal(stride)} and the latest), newest at the bottom"
        self._caption_parts = (source, target, rows)
        self._fit_caption()
        self.caption.setToolTip(
            f"{what}<br>{rows}<br>Each row is an epoch, each column a position of the target; a cell is green "
            "when the prediction at that position equals the target's character."
        )

    def caption_text(self) -> str:
        """The caption as it reads on screen (elided to the panel's width)."""
        doc = QTextDocument()
        doc.setHtml(self.caption.text())
        return " ".join(doc.toPlainText().split())  # non-breaking spaces that space the legend: one space

    def _fit_caption(self) -> None:
        """Set the caption, eliding the epochs note, then the pair's strings, to what the panel's width holds."""
        source, target, rows = self._caption_parts
        plain = self.caption.fontMetrics()
        bold_font = QFont(self.caption.font())
        bold_font.setBold(True)
        bold = QFontMetrics(bold_font)
        room = self.caption.contentsRect().width() - 4
        legend = (
            f"<span style='background:{RIGHT_BACKGROUND.name()}; color:{RIGHT_TEXT.name()}'>&nbsp;right&nbsp;</span> "
            f"<span style='background:{WRONG_BACKGROUND.name()}; color:{WRONG_TEXT.name()}'>&nbsp;wrong&nbsp;</span>"
        )
        room -= plain.horizontalAdvance("\xa0right\xa0 \xa0wrong\xa0 \xa0 ")
        head = f"pair {self._pair + 1}" if self._pair >= 0 else "selected pair"
        room -= plain.horizontalAdvance(head)
        if source or target:
            room -= plain.horizontalAdvance(": → ")
            # The strings keep at least half the room left, shared between them; the note gets the rest.
            strings = bold.horizontalAdvance(source) + bold.horizontalAdvance(target)
            if strings > room // 2:
                source = bold.elidedText(source, Qt.ElideRight, max(room // 4, bold.horizontalAdvance("M…")))
                target = bold.elidedText(target, Qt.ElideRight, max(room // 4, bold.horizontalAdvance("M…")))
            room -= bold.horizontalAdvance(source) + bold.horizontalAdvance(target)
            head += f": <b>{_html(source)}</b> → <b>{_html(target)}</b>"
        room -= plain.horizontalAdvance(" \xa0·\xa0 ")
        rows = plain.elidedText(rows, Qt.ElideRight, max(room, 0))
        self.caption.setText(f"{legend} &nbsp; {head} &nbsp;·&nbsp; {_html(rows)}")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_caption()
        self.overview.fit_width()


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
