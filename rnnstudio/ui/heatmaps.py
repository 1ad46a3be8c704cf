"""Shared drawing for the inside-the-network views: colour maps, matrix images, the probability heatmap, legends."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QImage, QMouseEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QFrame, QScrollArea, QSizePolicy, QToolTip, QWidget

from ..core.problems import listed, plural
from ..core.results import Inference
from . import style
from .vocab_strip import display_char

#: Drawn in the predicted row at a step with no prediction.
NO_PREDICTION = "–"


def finite_steps(probabilities: object) -> list[bool]:
    """Per time step, whether its probabilities are all numbers (a diverged model's are NaN or inf)."""
    p = np.asarray(probabilities, dtype=float) if probabilities is not None else None
    if p is None or p.ndim != 2:
        return []
    return [bool(v) for v in np.isfinite(p).all(axis=1)]


def non_finite_note(probabilities: object) -> str:
    """Why steps have no prediction ('' when every step has one): the weights give NaN or inf there."""
    finite = finite_steps(probabilities)
    bad = [i for i, ok in enumerate(finite) if not ok]
    if not bad:
        return ""
    p = np.asarray(probabilities, dtype=float)[bad]
    nan, inf = bool(np.isnan(p).any()), bool(np.isinf(p).any())
    kind = "NaN or inf" if nan and inf else "NaN" if nan else "inf"
    if len(bad) == len(finite):
        return f"No prediction: these weights give {kind} probabilities at every step (the run diverged)."
    numbers = ", ".join(listed([str(i + 1) for i in bad]))
    return (
        f"No prediction at {plural(len(bad), 'step')} of {len(finite)} ({numbers}): "
        f"these weights give {kind} probabilities there (the run diverged)."
    )


#: Qt's QWIDGETSIZE_MAX (PySide6 does not export it): "no maximum" for setMaximumHeight.
WIDGETSIZE_MAX = (1 << 24) - 1
TEXT = style.TEXT
MUTED = style.MUTED
FAINT_TEXT = "#8c959f"
GRID_LINE = "#ffffff"
FRAME = "#afb8c1"
NAN_COLOUR = "#d0d7de"
BACKGROUND = style.BACKGROUND
#: The outline of the target's cell (step inspector): orange shows on white and on dark blue alike.
TARGET_MARK = "#e16f24"
#: The outline of each column's most likely character (try-it view).
ARGMAX_MARK = "#bf3989"

#: White to dark blue (ColorBrewer "Blues"): probabilities 0..1.
SEQUENTIAL_STOPS = ((0.0, "#ffffff"), (0.15, "#deebf7"), (0.4, "#9ecae1"), (0.7, "#3182bd"), (1.0, "#08306b"))
#: Blue - near-white - red (ColorBrewer "RdBu", reversed): signed values centred at 0.
DIVERGING_STOPS = ((0.0, "#2166ac"), (0.25, "#92c5de"), (0.5, "#f7f7f7"), (0.75, "#f4a582"), (1.0, "#b2182b"))


def make_lut(stops: Sequence[tuple[float, str]], size: int = 256) -> np.ndarray:
    """A size x 3 uint8 colour table interpolated between (position, colour) stops."""
    pos = np.array([p for p, _ in stops], dtype=float)
    rgb = np.array([QColor(c).getRgb()[:3] for _, c in stops], dtype=float)
    t = np.linspace(0.0, 1.0, size)
    return np.stack([np.interp(t, pos, rgb[:, k]) for k in range(3)], axis=1).round().astype(np.uint8)


SEQUENTIAL_LUT = make_lut(SEQUENTIAL_STOPS)
DIVERGING_LUT = make_lut(DIVERGING_STOPS)


def lut_colour(lut: np.ndarray, t: float) -> QColor:
    """The colour at position ``t`` (0..1) of a colour table; NaN gets the 'no value' grey."""
    if not math.isfinite(t):
        return QColor(NAN_COLOUR)
    r, g, b = lut[round(min(max(t, 0.0), 1.0) * (len(lut) - 1))]
    return QColor(int(r), int(g), int(b))


def matrix_image(values: np.ndarray, lut: np.ndarray, lo: float, hi: float) -> QImage:
    """One pixel per matrix cell (rows stay rows), coloured through ``lut`` from lo..hi; NaN is grey.

    The image is drawn scaled into the cells' rectangle, so building it costs the
    matrix's size, not the widget's.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.size == 0:
        return QImage()
    span = hi - lo if hi > lo else 1.0
    finite = np.isfinite(v)
    t = np.clip((np.where(finite, v, lo) - lo) / span, 0.0, 1.0)
    idx = np.rint(t * (len(lut) - 1)).astype(np.intp)
    rgb = lut[idx].astype(np.uint32)
    argb = np.uint32(0xFF000000) | (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    if not finite.all():
        argb[~finite] = QColor(NAN_COLOUR).rgb() & 0xFFFFFFFF
    argb = np.ascontiguousarray(argb, dtype=np.uint32)
    h, w = argb.shape
    # copy(): the QImage must own its pixels once the numpy buffer goes away.
    return QImage(argb.data, w, h, w * 4, QImage.Format.Format_RGB32).copy()


def text_colour_on(background: QColor) -> QColor:
    """Dark text on light cells, white text on dark ones."""
    luminance = 0.299 * background.red() + 0.587 * background.green() + 0.114 * background.blue()
    return QColor(TEXT) if luminance > 140 else QColor("#ffffff")


def vocab_label(chars: Sequence[str], index: int) -> str:
    """How vocabulary entry ``index`` is labelled: the character, or '#i' when the vocabulary does not name it."""
    if 0 <= index < len(chars):
        return display_char(chars[index])
    return f"#{index}"


def quoted(chars: Sequence[str], index: int) -> str:
    """Vocabulary entry ``index`` quoted for a read-out: 'o', '␣', #7."""
    label = vocab_label(chars, index)
    return label if label.startswith("#") else f"'{label}'"


def small_font(base: QFont, delta: float = -1.5) -> QFont:
    """``base`` a little smaller (never below 6 pt), for captions and cell values."""
    font = QFont(base)
    if font.pointSizeF() > 0:
        font.setPointSizeF(max(font.pointSizeF() + delta, 6.0))
    return font


def show_tooltip(event: QHelpEvent, text: str, widget: QWidget) -> bool:
    """Answer a ToolTip event with ``text`` (none: hide any tooltip and let the event go on); True: handled."""
    if text:
        QToolTip.showText(event.globalPos(), text, widget)
    else:
        QToolTip.hideText()
        event.ignore()
    return True


class ProbabilityHeatmap:
    """Draws softmax probabilities as a heatmap: one row per vocabulary character, one column per time step.

    Not a widget: the step inspector and the try-it view paint it inside their own
    grids so its columns line up with their other rows. The owner places it
    (``place``) and then paints it; ``hit`` and ``cell_rect`` use the same geometry.
    One character per column can be outlined (``marks``): the target in the step
    inspector, the most likely character in the try-it view.
    """

    def __init__(self, mark_colour: str = TARGET_MARK) -> None:
        self._probs: np.ndarray | None = None
        self._image = QImage()
        self._chars: tuple[str, ...] = ()
        self._marks: list[int | None] = []
        self._mark_colour = QColor(mark_colour)
        self._left = 0
        self._top = 0
        self._cell_w = 1
        self._row_h = 1

    # ----------------------------------------------------------------- data
    def set_data(
        self, probabilities: np.ndarray | None, chars: Sequence[str], marks: Sequence[int | None] = ()
    ) -> None:
        """Show ``probabilities`` (seqLen x numClass, kept as given), rows labelled by ``chars``."""
        self._chars = tuple(chars)
        self._marks = list(marks)
        self._probs = probabilities
        p = None if probabilities is None else np.asarray(probabilities)
        if p is None or p.ndim != 2 or p.size == 0:
            self._image = QImage()
        else:
            self._image = matrix_image(p.T, SEQUENTIAL_LUT, 0.0, 1.0)

    def probabilities(self) -> np.ndarray | None:
        """The matrix drawn, exactly as it was given."""
        return self._probs

    def marks(self) -> list[int | None]:
        """The outlined vocabulary index of each column (None: no mark)."""
        return list(self._marks)

    def steps(self) -> int:
        """Columns drawn (seqLen)."""
        p = self._probs
        return int(p.shape[0]) if p is not None and np.ndim(p) == 2 else 0

    def rows(self) -> int:
        """Rows drawn (numClass)."""
        p = self._probs
        return int(p.shape[1]) if p is not None and np.ndim(p) == 2 else 0

    def value(self, step: int, cls: int) -> float:
        """The probability in one cell."""
        assert self._probs is not None
        return float(self._probs[step, cls])

    # ------------------------------------------------------------- geometry
    def place(self, left: int, top: int, cell_w: int, row_h: int) -> None:
        """Put the first cell's top-left corner at (left, top) with these cell sizes."""
        self._left, self._top, self._cell_w, self._row_h = left, top, max(cell_w, 1), max(row_h, 1)

    def height(self) -> int:
        """Height of the cells at the current row height."""
        return self.rows() * self._row_h

    def cells_rect(self) -> QRect:
        """The rectangle covered by the cells."""
        return QRect(self._left, self._top, self.steps() * self._cell_w, self.height())

    def cell_rect(self, step: int, cls: int) -> QRect:
        """The rectangle of one cell (step = column, cls = vocabulary row)."""
        return QRect(self._left + step * self._cell_w, self._top + cls * self._row_h, self._cell_w, self._row_h)

    def hit(self, pos: QPointF) -> tuple[int, int] | None:
        """(step, cls) of the cell under ``pos``, or None."""
        x, y = pos.x() - self._left, pos.y() - self._top
        if x < 0 or y < 0:
            return None
        step, cls = int(x // self._cell_w), int(y // self._row_h)
        if step >= self.steps() or cls >= self.rows():
            return None
        return step, cls

    # -------------------------------------------------------------- drawing
    def paint(self, painter: QPainter, value_font: QFont) -> None:
        """Draw the cells, separators, values (when they fit) and the marks."""
        if self._image.isNull():
            return
        rect = self.cells_rect()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(rect, self._image)
        cw, rh = self._cell_w, self._row_h
        steps, rows = self.steps(), self.rows()
        # White separators make single cells countable; skip them when cells get too small to spare a pixel.
        painter.setPen(QPen(QColor(GRID_LINE), 1))
        if cw >= 6:
            for s in range(1, steps):
                x = rect.left() + s * cw
                painter.drawLine(x, rect.top(), x, rect.bottom())
        if rh >= 6:
            for r in range(1, rows):
                y = rect.top() + r * rh
                painter.drawLine(rect.left(), y, rect.right(), y)
        self._paint_values(painter, value_font)
        painter.setPen(QPen(QColor(FRAME), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect.adjusted(0, 0, -1, -1))
        pen = QPen(self._mark_colour, 2 if min(cw, rh) >= 8 else 1)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        for step, cls in enumerate(self._marks[:steps]):
            if cls is not None and 0 <= cls < rows:
                painter.drawRect(QRectF(self.cell_rect(step, cls)).adjusted(1, 1, -1, -1))
        painter.restore()

    def _paint_values(self, painter: QPainter, font: QFont) -> None:
        fm = QFontMetrics(font)
        if self._row_h < fm.height() - 2 or self._cell_w < fm.horizontalAdvance("0.00") + 4:
            return  # the tooltip / read-out carries the numbers when cells are small
        assert self._probs is not None
        painter.setFont(font)
        probs = np.asarray(self._probs, dtype=float)
        for step in range(self.steps()):
            for cls in range(self.rows()):
                p = probs[step, cls]
                # Near-zero values recede so the few likely characters stand out in a column of zeros.
                colour = QColor(FAINT_TEXT) if p < 0.005 else text_colour_on(lut_colour(SEQUENTIAL_LUT, p))
                painter.setPen(colour)
                text = f"{p:.2f}" if math.isfinite(p) else "nan"
                painter.drawText(self.cell_rect(step, cls), Qt.AlignmentFlag.AlignCenter, text)

    def paint_labels(self, painter: QPainter, right: int, font: QFont) -> None:
        """Row labels (the vocabulary characters), right-aligned so they end at x = ``right``."""
        rows = self.rows()
        if not rows:
            return
        fm = QFontMetrics(font)
        # With many small rows, label every k-th one so the labels stay legible.
        every = max(1, math.ceil((fm.height() - 2) / self._row_h))
        painter.save()
        painter.setFont(font)
        painter.setPen(QColor(TEXT))
        width = max(right, 1)
        for cls in range(0, rows, every):
            r = QRect(0, self._top + cls * self._row_h, width, self._row_h)
            if every > 1:
                r = QRect(0, self._top + cls * self._row_h + self._row_h // 2 - fm.height() // 2, width, fm.height())
            painter.drawText(
                r, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, vocab_label(self._chars, cls)
            )
        painter.restore()

    def label_width(self, font: QFont) -> int:
        """Width the row labels need."""
        fm = QFontMetrics(font)
        return max((fm.horizontalAdvance(vocab_label(self._chars, i)) for i in range(self.rows())), default=0)

    def describe(self, step: int, cls: int, input_char: str) -> str:
        """'step 3 'l': p('o') = 0.910' for the read-out and tooltip."""
        p = self.value(step, cls)
        return f"step {step + 1} {input_char}: p({quoted(self._chars, cls)}) = {p:.3f}"


@dataclass(frozen=True)
class GradientEntry:
    """A legend entry: a colour ramp with its end (and optional middle) labels."""

    caption: str
    lut: np.ndarray
    low: str
    high: str
    middle: str = ""


@dataclass(frozen=True)
class OutlineEntry:
    """A legend entry: an outlined cell and what the outline means."""

    caption: str
    colour: str


class ColourLegend(QWidget):
    """A legend of colour ramps with their value ranges and the meaning of outlines.

    One line when there is room; narrower, its entries wrap onto more lines (the widget's
    height follows its width), so no entry is ever cut off.
    """

    _BAR_W = 72
    _BAR_H = 10
    _GAP = 14
    _MARGIN = 2

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._entries: list[GradientEntry | OutlineEntry] = []
        self._font = small_font(self.font(), -0.5)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def set_entries(self, entries: Sequence[GradientEntry | OutlineEntry]) -> None:
        """Replace the entries (drawn left to right, wrapping when narrow)."""
        self._entries = list(entries)
        self.updateGeometry()
        self.update()

    def entries(self) -> list[GradientEntry | OutlineEntry]:
        """The entries shown."""
        return list(self._entries)

    def legend_metrics(self) -> QFontMetrics:
        """The metrics of the legend's (small) font."""
        return QFontMetrics(self._font)

    def lines(self, width: int | None = None) -> list[list[GradientEntry | OutlineEntry]]:
        """The entries as laid out on each line at ``width`` (the current width by default)."""
        fm = self.legend_metrics()
        room = (self.width() if width is None else width) - 2 * self._MARGIN
        lines: list[list[GradientEntry | OutlineEntry]] = []
        used = 0
        for entry in self._entries:
            w = self.entry_width(fm, entry)
            if lines and lines[-1] and used + self._GAP + w <= room:
                lines[-1].append(entry)
                used += self._GAP + w
            else:
                lines.append([entry])
                used = w
        return lines

    def entry_width(self, fm: QFontMetrics, entry: GradientEntry | OutlineEntry) -> int:
        """How wide ``entry`` is drawn with the font metrics ``fm`` (the legend's own: legend_metrics())."""
        if isinstance(entry, OutlineEntry):
            return 16 + 4 + fm.horizontalAdvance(entry.caption)
        return (
            fm.horizontalAdvance(entry.caption + " ")
            + fm.horizontalAdvance(entry.low)
            + 4
            + self._BAR_W
            + 4
            + fm.horizontalAdvance(entry.high)
        )

    def _line_height(self) -> int:
        return max(self.legend_metrics().height(), self._BAR_H) + 2

    def sizeHint(self) -> QSize:
        fm = self.legend_metrics()
        w = sum(self.entry_width(fm, e) for e in self._entries) + self._GAP * max(len(self._entries) - 1, 0)
        return QSize(w + 2 * self._MARGIN, self._line_height() + 4)

    def minimumSizeHint(self) -> QSize:
        fm = self.legend_metrics()
        widest = max((self.entry_width(fm, e) for e in self._entries), default=0)
        return QSize(widest + 2 * self._MARGIN, self._line_height() + 4)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return max(len(self.lines(width)), 1) * self._line_height() + 4

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setFont(self._font)
        fm = self.legend_metrics()
        # The legend sits on the window's background, not on the chart's: follow the palette's text colour.
        text = self.palette().color(QPalette.ColorRole.WindowText)
        lines = self.lines()
        top = (self.height() - len(lines) * self._line_height()) // 2
        for row, line in enumerate(lines):
            mid_y = top + row * self._line_height() + self._line_height() // 2
            baseline = mid_y + fm.ascent() / 2 - 1
            x = self._MARGIN
            for entry in line:
                if isinstance(entry, OutlineEntry):
                    painter.setPen(QPen(QColor(entry.colour), 2))
                    painter.setBrush(QColor(BACKGROUND))
                    painter.drawRect(QRect(x + 1, mid_y - 6, 14, 12))
                    x += 20
                    painter.setPen(text)
                    painter.drawText(QPointF(x, baseline), entry.caption)
                    x += fm.horizontalAdvance(entry.caption) + self._GAP
                    continue
                painter.setPen(text)
                caption = entry.caption + " "
                painter.drawText(QPointF(x, baseline), caption)
                x += fm.horizontalAdvance(caption)
                painter.setPen(QColor(MUTED))
                painter.drawText(QPointF(x, baseline), entry.low)
                x += fm.horizontalAdvance(entry.low) + 4
                bar = QRect(x, mid_y - self._BAR_H // 2, self._BAR_W, self._BAR_H)
                strip = matrix_image(np.linspace(0.0, 1.0, self._BAR_W)[None, :], entry.lut, 0.0, 1.0)
                painter.drawImage(bar, strip)
                painter.setPen(QPen(QColor(FRAME), 1))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(bar.adjusted(0, 0, -1, -1))
                if entry.middle:
                    painter.setPen(QColor(MUTED))
                    painter.drawLine(bar.center().x(), bar.top() - 2, bar.center().x(), bar.top())
                x += self._BAR_W + 4
                painter.setPen(QColor(MUTED))
                painter.drawText(QPointF(x, baseline), entry.high)
                x += fm.horizontalAdvance(entry.high) + self._GAP
        painter.end()


class HoverTextWidget(QWidget):
    """A painted widget that describes what is under the mouse: as a tooltip, and through ``hovered``.

    Subclasses implement ``text_at(pos)``; an empty string means nothing to say there.
    """

    hovered = Signal(str)

    def text_at(self, pos: QPointF) -> str:
        """What to say about the point ``pos`` (widget coordinates)."""
        return ""

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            return show_tooltip(event, self.text_at(QPointF(event.pos())), self)
        return super().event(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.hovered.emit(self.text_at(event.position()))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        self.hovered.emit("")
        super().leaveEvent(event)


class InferenceGrid(HoverTextWidget):
    """A grid painted from one Inference (with a probability heatmap), or a message in its place.

    Subclasses set ``PLACEHOLDER`` (shown before any inference) and ``EMPTY_TEXT``
    (for an inference of an empty string), and rebuild their layout in ``_rebuild``.
    """

    PLACEHOLDER = ""
    EMPTY_TEXT = ""

    def __init__(self, mark_colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._chars: tuple[str, ...] = ()
        self._inference: Inference | None = None
        self._placeholder = self.PLACEHOLDER
        self._message = self._placeholder
        self._steps = 0
        self._heatmap = ProbabilityHeatmap(mark_colour)

    def set_vocabulary(self, chars: Sequence[str]) -> None:
        """Name the heatmap's rows with this vocabulary."""
        self._chars = tuple(chars)
        self._rebuild()

    def set_inference(self, inference: Inference | None) -> None:
        """Draw ``inference`` (None: the placeholder)."""
        self._inference = inference
        if inference is None:
            self._message = self._placeholder
        self._rebuild()

    def set_placeholder(self, text: str) -> None:
        """What to show before any inference ('' for the class's PLACEHOLDER); shown now if it is."""
        showing = self._inference is None and self._message == self._placeholder
        self._placeholder = text or self.PLACEHOLDER
        if showing:
            self._message = self._placeholder
            self._rebuild()

    def set_message(self, text: str) -> None:
        """Replace the grid by ``text`` (the data is dropped: it no longer matches what was asked)."""
        self._inference = None
        self._message = text
        self._rebuild()

    def message(self) -> str:
        """The text shown instead of the grid ('' while a grid is shown)."""
        if self._inference is None:
            return self._message
        return "" if self._steps else self.EMPTY_TEXT

    def inference(self) -> Inference | None:
        """The inference drawn."""
        return self._inference

    def heatmap(self) -> ProbabilityHeatmap:
        """The probability heatmap drawn in the grid (for its geometry and marks)."""
        return self._heatmap

    def _rebuild(self) -> None:
        raise NotImplementedError


def chart_scroll_area(chart: QWidget, name: str) -> QScrollArea:
    """A frameless scroll area holding ``chart`` at its top left, on the chart's own light background."""
    scroll = QScrollArea()
    scroll.setObjectName(name)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    scroll.setWidget(chart)
    palette = scroll.viewport().palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(BACKGROUND))
    scroll.viewport().setPalette(palette)
    scroll.viewport().setAutoFillBackground(True)
    return scroll
