"""The step inspector: one string through the network at a chosen epoch, time step by time step."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QLabel,
    QLayout,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..core.results import Inference
from . import style
from .heatmaps import (
    BACKGROUND,
    DIVERGING_LUT,
    FRAME,
    GRID_LINE,
    MUTED,
    NO_PREDICTION,
    SEQUENTIAL_LUT,
    TARGET_MARK,
    TEXT,
    WIDGETSIZE_MAX,
    ColourLegend,
    GradientEntry,
    InferenceGrid,
    OutlineEntry,
    chart_scroll_area,
    finite_steps,
    matrix_image,
    non_finite_note,
    quoted,
    small_font,
)
from .vocab_strip import NoteLabel, display_char, monospace_font

RIGHT = style.RIGHT
WRONG = style.WRONG
RIGHT_BG = style.RIGHT_BG
WRONG_BG = style.WRONG_BG
LOSS_BAR = style.WRONG_FILL

PLACEHOLDER = "Train (or Step once) to see inside the network"

#: The epoch label's widest usual text: its width is kept, so the row does not jump as the numbers grow.
EPOCH_LABEL_WIDEST = "after epoch 00000 (snapshot 000 of 000)"

#: The top row's layout: the epoch slider's least width, and the gap before the legend on one line.
TOP_SLIDER_MIN = 120
TOP_LEGEND_GAP = 12

# Row kinds of the grid.
_HEADER, _INPUT, _HIDDEN, _PROBS, _PREDICTED, _TARGET, _LOSS = (
    "header",
    "input",
    "hidden",
    "probs",
    "predicted",
    "target",
    "loss",
)


def scale_text(value: float) -> str:
    """A colour scale's half-range for people: 1, 1.85, 120, 1,234, 723,249 (never 1.2e+02); a
    diverged run's millions and beyond as 2.76e+06 or 7.23e+35, not 36 digits across the legend."""
    if 1000 <= value < 1e6:
        return f"{value:,.0f}"
    return f"{value:.3g}"


@dataclass
class _Row:
    kind: str
    top: int
    height: int
    layer: int = 0


def _as_matrix(values: object, rows: int) -> np.ndarray | None:
    """``values`` as a 2-D float array with ``rows`` rows, or None when it does not have that shape."""
    if values is None:
        return None
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return None
    if a.ndim == 1 and rows == a.shape[0]:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] != rows:
        return None
    return a


def _symmetric_limit(values: np.ndarray | None) -> float:
    """The half-range of a diverging colour scale: at least 1 (tanh's range), wider for larger values."""
    if values is None or values.size == 0:
        return 1.0
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 1.0
    return max(1.0, float(np.abs(finite).max()))


def _is_one_hot(inputs: np.ndarray) -> bool:
    return bool(inputs.size) and bool(np.all((inputs == 0.0) | (inputs == 1.0))) and bool(np.all(inputs.sum(1) == 1))


def format_step_loss(value: float) -> str:
    """A step loss short enough for a cell: 2 decimals, scientific once tiny."""
    if not math.isfinite(value):
        return str(value)
    if value != 0.0 and abs(value) < 0.01:
        return f"{value:.0e}"
    return f"{value:.2f}"


class StepGrid(InferenceGrid):
    """The time-step grid, painted in one pass: columns are time steps, rows what the network does with them."""

    PLACEHOLDER = PLACEHOLDER
    EMPTY_TEXT = "The string is empty: no time steps to show"

    MIN_CELL_W = 24
    MAX_CELL_W = 96
    PAD = 6
    GAP = 6

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(TARGET_MARK, parent)
        self.setObjectName("stepGrid")
        self.setAutoFillBackground(False)
        self._label_font = QFont(self.font())
        self._caption_font = small_font(self.font(), -1.5)
        self._value_font = small_font(self.font(), -1.5)
        self._char_font = monospace_font(1)
        self._char_font.setBold(True)
        self._row_font = monospace_font()

        self._step_chars: list[str] = []
        self._input_name = "input"
        self._inputs: np.ndarray | None = None
        self._input_image = QImage()
        self._input_limit = 1.0
        self._hidden: list[np.ndarray] = []
        self._hidden_images: list[QImage] = []
        self._hidden_limit = 1.0
        self._predicted: str = ""
        self._no_prediction: set[int] = set()  # steps whose probabilities are NaN or inf
        self._target: str | None = None
        self._losses: np.ndarray | None = None
        self._loss_scale = 1.0
        self._rows: list[_Row] = []
        self._label_w = 100
        self._cell_w = self.MIN_CELL_W
        self._relayout()

    # ------------------------------------------------------------------ data

    def predicted(self) -> str:
        """The predicted string drawn ('–' at a step with no prediction; '' without an inference)."""
        if self._inference is None:
            return ""
        return "".join(NO_PREDICTION if i in self._no_prediction else c for i, c in enumerate(self._predicted))

    def hidden_limit(self) -> float:
        """The half-range of the hidden rows' colour scale (1 for tanh, wider if values exceed it)."""
        return self._hidden_limit

    def _rebuild(self) -> None:
        inf = self._inference
        self._hidden, self._hidden_images = [], []
        self._inputs, self._input_image = None, QImage()
        self._losses = None
        if inf is None:
            self._steps = 0
            self._step_chars = []
            self._predicted, self._target, self._no_prediction = "", None, set()
            self._heatmap.set_data(None, self._chars)
            self._relayout()
            return
        probs = inf.probabilities
        p = np.asarray(probs) if probs is not None else None
        steps = int(p.shape[0]) if p is not None and p.ndim == 2 else len(inf.text)
        self._steps = steps
        text = inf.text or ""
        self._step_chars = [display_char(text[i]) if i < len(text) else "?" for i in range(steps)]
        self._predicted = inf.predicted or ""
        # Their argmax (index 0) comes as a predicted character, but no character is most likely there.
        self._no_prediction = {i for i, ok in enumerate(finite_steps(p)) if not ok}
        self._target = inf.target

        inputs = _as_matrix(inf.inputs, steps)
        if inputs is not None and inputs.shape[1] > 0:
            self._inputs = inputs
            self._input_limit = _symmetric_limit(inputs)
            self._input_name = "one-hot" if _is_one_hot(inputs) else "embedding"
            self._input_image = matrix_image(inputs.T, DIVERGING_LUT, -self._input_limit, self._input_limit)

        hidden = None
        try:
            hidden = np.asarray(inf.hidden, dtype=float) if inf.hidden is not None else None
        except (TypeError, ValueError):
            hidden = None
        if hidden is not None and hidden.ndim == 2:
            hidden = hidden[None]  # one layer given without its layer axis
        if hidden is not None and hidden.ndim == 3 and hidden.shape[1] == steps and hidden.shape[2] > 0:
            self._hidden = [hidden[layer] for layer in range(hidden.shape[0])]
            self._hidden_limit = _symmetric_limit(hidden)
            lim = self._hidden_limit
            self._hidden_images = [matrix_image(h.T, DIVERGING_LUT, -lim, lim) for h in self._hidden]

        index = {c: i for i, c in enumerate(self._chars)}
        target = self._target
        marks = [index.get(target[i]) if target is not None and i < len(target) else None for i in range(steps)]
        self._heatmap.set_data(probs, self._chars, marks)

        losses = _as_matrix(inf.step_losses, steps) if inf.step_losses is not None else None
        if losses is not None and losses.shape[1] == 1:
            self._losses = losses[:, 0]
            finite = self._losses[np.isfinite(self._losses)]
            # Bars are drawn against chance level ln|V| (or the largest loss, if above it).
            chance = math.log(max(self._heatmap.rows(), 2))
            self._loss_scale = max(chance, float(finite.max()) if finite.size else 0.0)
        self._relayout()

    # ---------------------------------------------------------------- layout
    def _strip_height(self, units: int) -> int:
        # About 3 px per unit, within bounds that keep a two-line row label and a bottom-pane height.
        return int(min(max(units * 3, 26), 44))

    def _prob_row_height(self) -> int:
        rows = self._heatmap.rows()
        if rows <= 6:
            return 18
        if rows <= 12:
            return 14
        if rows <= 40:
            return 12
        return 9

    def _line_height(self) -> int:
        return QFontMetrics(self._char_font).height() + 3

    def _relayout(self) -> None:
        self._rows = []
        if self._inference is None or self._steps == 0:
            self._compute_columns()
            # The message fills the viewport (centred) instead of sitting in a fixed band at the top.
            self.setMinimumSize(QSize(0, 60))
            self.setMaximumHeight(WIDGETSIZE_MAX)
            self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            self.updateGeometry()
            self.update()
            return
        y = self.PAD
        cap = QFontMetrics(self._caption_font).height()
        header_h = cap + QFontMetrics(self._char_font).height() + 2
        self._rows.append(_Row(_HEADER, y, header_h))
        y += header_h + self.GAP
        if self._inputs is not None:
            h = self._strip_height(self._inputs.shape[1])
            self._rows.append(_Row(_INPUT, y, h))
            y += h + 2
        for layer, hid in enumerate(self._hidden):
            h = self._strip_height(hid.shape[1])
            self._rows.append(_Row(_HIDDEN, y, h, layer))
            y += h + 2
        y += self.GAP - 5
        if self._heatmap.rows():
            h = self._heatmap.rows() * self._prob_row_height()
            self._rows.append(_Row(_PROBS, y, h))
            y += h + self.GAP
        line = self._line_height()
        for kind in (_PREDICTED, _TARGET, _LOSS):
            self._rows.append(_Row(kind, y, line))
            y += line + 1
        y += self.PAD
        self._compute_columns()
        self.setMinimumSize(QSize(self._label_w + self._steps * self.MIN_CELL_W + 2 * self.PAD, y))
        self.setFixedHeight(y)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.updateGeometry()
        self.update()

    def _compute_columns(self) -> None:
        fm = QFontMetrics(self._label_font)
        cfm = QFontMetrics(self._caption_font)
        labels = ["predicted", "step loss", "softmax p", self._input_name, "hidden 00"]
        captions = ["inputSize 000 · ±0.00", "hiddenSize 000", "numClass 000"]
        main = max(max(fm.horizontalAdvance(s) for s in labels), max(cfm.horizontalAdvance(s) for s in captions))
        self._label_w = self.PAD + main + 8 + self._heatmap.label_width(self._row_font) + 6
        free = self.width() - self._label_w - self.PAD
        steps = max(self._steps, 1)
        self._cell_w = int(min(max(free // steps, self.MIN_CELL_W), self.MAX_CELL_W))
        probs = next((r for r in self._rows if r.kind == _PROBS), None)
        if probs is not None:
            self._heatmap.place(self._label_w, probs.top, self._cell_w, self._prob_row_height())

    def sizeHint(self) -> QSize:
        return QSize(self._label_w + max(self._steps, 5) * 56 + self.PAD, self.minimumHeight())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._compute_columns()

    def column_rect(self, step: int, row_kind: str, layer: int = 0) -> QRect:
        """The cell of ``step`` in the first row of ``row_kind`` (empty if there is no such row)."""
        for r in self._rows:
            if r.kind == row_kind and (row_kind != _HIDDEN or r.layer == layer):
                return QRect(self._label_w + step * self._cell_w, r.top, self._cell_w, r.height)
        return QRect()

    def row_kinds(self) -> list[str]:
        """The rows drawn, top to bottom (hidden layers as 'hidden1', 'hidden2', ...)."""
        return [f"hidden{r.layer + 1}" if r.kind == _HIDDEN else r.kind for r in self._rows]

    # --------------------------------------------------------------- drawing
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(BACKGROUND))
        if not self._rows:
            painter.setPen(QColor(MUTED))
            painter.drawText(self.rect().adjusted(12, 8, -12, -8), Qt.AlignCenter | Qt.TextWordWrap, self.message())
            painter.end()
            return
        for row in self._rows:
            self._paint_row_label(painter, row)
            if row.kind == _HEADER:
                self._paint_header(painter, row)
            elif row.kind == _INPUT:
                self._paint_strip(painter, row, self._input_image)
            elif row.kind == _HIDDEN:
                self._paint_strip(painter, row, self._hidden_images[row.layer])
            elif row.kind == _PROBS:
                self._heatmap.paint(painter, self._value_font)
                self._heatmap.paint_labels(painter, self._label_w - 6, self._row_font)
            elif row.kind == _PREDICTED:
                self._paint_predicted(painter, row)
            elif row.kind == _TARGET:
                self._paint_chars(painter, row, self._target)
            elif row.kind == _LOSS:
                self._paint_losses(painter, row)
        painter.end()

    def _row_label(self, row: _Row) -> tuple[str, str]:
        if row.kind == _HEADER:
            return "step", "input"
        if row.kind == _INPUT:
            assert self._inputs is not None
            # The input row has its own colour scale when its values go beyond the hidden rows' range.
            extra = f" · ±{scale_text(self._input_limit)}" if abs(self._input_limit - self._hidden_limit) > 1e-9 else ""
            return self._input_name, f"inputSize {self._inputs.shape[1]}{extra}"
        if row.kind == _HIDDEN:
            return f"hidden {row.layer + 1}", f"hiddenSize {self._hidden[row.layer].shape[1]}"
        if row.kind == _PROBS:
            return "softmax p", f"numClass {self._heatmap.rows()}"
        return {_PREDICTED: "predicted", _TARGET: "target", _LOSS: "step loss"}[row.kind], ""

    def _paint_row_label(self, painter: QPainter, row: _Row) -> None:
        main, caption = self._row_label(row)
        fm, cfm = QFontMetrics(self._label_font), QFontMetrics(self._caption_font)
        x = self.PAD
        two_lines = caption and row.height >= fm.height() + cfm.height()
        if row.kind == _HEADER:
            painter.setFont(self._caption_font)
            painter.setPen(QColor(MUTED))
            painter.drawText(QRect(x, row.top, self._label_w, cfm.height()), Qt.AlignmentFlag.AlignVCenter, main)
            painter.setFont(self._label_font)
            painter.setPen(QColor(TEXT))
            chars = QRect(x, row.top + cfm.height(), self._label_w, row.height - cfm.height())
            painter.drawText(chars, Qt.AlignmentFlag.AlignVCenter, caption)
            return
        top = (
            row.top
            if row.kind == _PROBS
            else row.top + (row.height - fm.height() - (cfm.height() if two_lines else 0)) // 2
        )
        painter.setFont(self._label_font)
        painter.setPen(QColor(TEXT))
        painter.drawText(QPointF(x, top + fm.ascent()), main)
        if two_lines:
            painter.setFont(self._caption_font)
            painter.setPen(QColor(MUTED))
            painter.drawText(QPointF(x, top + fm.height() + cfm.ascent()), caption)

    def _paint_header(self, painter: QPainter, row: _Row) -> None:
        cfm = QFontMetrics(self._caption_font)
        for step in range(self._steps):
            cell = QRect(self._label_w + step * self._cell_w, row.top, self._cell_w, row.height)
            painter.setFont(self._caption_font)
            painter.setPen(QColor(MUTED))
            painter.drawText(
                QRect(cell.left(), cell.top(), cell.width(), cfm.height()), Qt.AlignmentFlag.AlignCenter, str(step + 1)
            )
            painter.setFont(self._char_font)
            painter.setPen(QColor(TEXT))
            painter.drawText(
                QRect(cell.left(), cell.top() + cfm.height(), cell.width(), cell.height() - cfm.height()),
                Qt.AlignmentFlag.AlignCenter,
                self._step_chars[step],
            )

    def _paint_strip(self, painter: QPainter, row: _Row, image: QImage) -> None:
        rect = QRect(self._label_w, row.top, self._steps * self._cell_w, row.height)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(rect, image)
        painter.setPen(QPen(QColor(GRID_LINE), 1))
        for s in range(1, self._steps):
            x = rect.left() + s * self._cell_w
            painter.drawLine(x, rect.top(), x, rect.bottom())
        painter.setPen(QPen(QColor(FRAME), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect.adjusted(0, 0, -1, -1))

    def _paint_chars(
        self,
        painter: QPainter,
        row: _Row,
        text: str | None,
        colours: list[str] | None = None,
        blank: set[int] | frozenset[int] = frozenset(),
    ) -> None:
        painter.setFont(self._char_font)
        for step in range(self._steps):
            cell = QRect(self._label_w + step * self._cell_w, row.top, self._cell_w, row.height)
            if text is None or step >= len(text) or step in blank:
                painter.setPen(QColor(MUTED))
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, NO_PREDICTION)
                continue
            if colours is not None:
                painter.fillRect(cell.adjusted(1, 1, -1, -1), QColor(RIGHT_BG if colours[step] == RIGHT else WRONG_BG))
                painter.setPen(QColor(colours[step]))
            else:
                painter.setPen(QColor(TEXT))
            painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, display_char(text[step]))

    def _paint_predicted(self, painter: QPainter, row: _Row) -> None:
        target = self._target
        colours = None
        if target is not None:
            colours = [
                RIGHT if i < len(target) and i < len(self._predicted) and self._predicted[i] == target[i] else WRONG
                for i in range(self._steps)
            ]
        self._paint_chars(painter, row, self._predicted, colours, self._no_prediction)

    def _paint_losses(self, painter: QPainter, row: _Row) -> None:
        painter.setFont(self._value_font)
        fm = QFontMetrics(self._value_font)
        for step in range(self._steps):
            cell = QRect(self._label_w + step * self._cell_w, row.top, self._cell_w, row.height).adjusted(2, 3, -2, -3)
            if self._losses is None:
                painter.setPen(QColor(MUTED))
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, "–")
                continue
            value = float(self._losses[step])
            frac = min(max(value / self._loss_scale, 0.0), 1.0) if math.isfinite(value) else 1.0
            painter.fillRect(
                QRect(cell.left(), cell.top(), max(round(cell.width() * frac), 1), cell.height()), QColor(LOSS_BAR)
            )
            painter.setPen(QPen(QColor(FRAME), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(cell.adjusted(0, 0, -1, -1))
            text = format_step_loss(value)
            if fm.horizontalAdvance(text) + 2 <= cell.width():
                painter.setPen(QColor(TEXT))
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, text)

    # --------------------------------------------------------------- read-out
    def text_at(self, pos: QPointF) -> str:
        """What the mouse at ``pos`` points at, with its value ('' over nothing)."""
        if not self._rows or self._inference is None:
            return ""
        x = pos.x() - self._label_w
        if x < 0:
            return self._row_help(pos.y())
        step = int(x // self._cell_w)
        if step >= self._steps:
            return ""
        where = f"step {step + 1} {quoted(self._step_chars, step)}"
        for row in self._rows:
            if not row.top <= pos.y() < row.top + row.height:
                continue
            frac = (pos.y() - row.top) / row.height
            if row.kind == _HEADER:
                idx = self._inference.indices[step] if step < len(self._inference.indices) else None
                return f"{where}: the input character" + (f" (index {idx})" if idx is not None else "")
            if row.kind == _INPUT:
                assert self._inputs is not None
                unit = min(int(frac * self._inputs.shape[1]), self._inputs.shape[1] - 1)
                return f"{where}: {self._input_name}[{unit}] = {self._inputs[step, unit]:.3f}"
            if row.kind == _HIDDEN:
                h = self._hidden[row.layer]
                unit = min(int(frac * h.shape[1]), h.shape[1] - 1)
                return f"{where}: hidden layer {row.layer + 1}, unit {unit} = {h[step, unit]:.3f}"
            if row.kind == _PROBS:
                hit = self._heatmap.hit(pos)
                if hit is None:
                    return ""
                text = self._heatmap.describe(hit[0], hit[1], quoted(self._step_chars, step))
                if self._heatmap.marks()[hit[0]] == hit[1]:
                    text += " (target)"
                return text
            if row.kind == _PREDICTED:
                return self._predicted_text(step, where)
            if row.kind == _TARGET:
                if self._target is None or step >= len(self._target):
                    return f"{where}: no target"
                return f"{where}: target {quoted(self._target, step)}"
            if row.kind == _LOSS:
                if self._losses is None or self._target is None or step >= len(self._target):
                    return f"{where}: no loss without a target"
                return (
                    f"{where}: loss = −ln p({quoted(self._target, step)}) = {float(self._losses[step]):.4f}"
                    f" (chance ln|V| = {math.log(max(self._heatmap.rows(), 2)):.3f})"
                )
        return ""

    def _predicted_text(self, step: int, where: str) -> str:
        if step >= len(self._predicted):
            return f"{where}: no prediction"
        if step in self._no_prediction:
            return f"{where}: no prediction (the probabilities are not numbers)"
        pred = quoted(self._predicted, step)
        probs = self._heatmap.probabilities()
        p = ""
        if probs is not None and self._heatmap.rows():
            p = f" (p = {float(np.nanmax(np.asarray(probs, dtype=float)[step])):.3f})"
        if self._target is None or step >= len(self._target):
            return f"{where}: predicted {pred}{p}"
        right = self._predicted[step] == self._target[step]
        return f"{where}: predicted {pred}{p}, target {quoted(self._target, step)}: {'right' if right else 'wrong'}"

    def _row_help(self, y: float) -> str:
        for row in self._rows:
            if row.top <= y < row.top + row.height:
                return {
                    _HEADER: "The input character read at each time step (1-based)",
                    _INPUT: f"What each step reads: the {self._input_name} vector (blue < 0 < red)",
                    _HIDDEN: f"Hidden state of layer {row.layer + 1} after each step (blue < 0 < red)",
                    _PROBS: "Softmax over the vocabulary at each step; the target's cell is outlined",
                    _PREDICTED: "The most likely character (green: equals the target, red: does not)",
                    _TARGET: "The character the model should emit",
                    _LOSS: "Cross-entropy of each step: −ln p(target); the bar is relative to chance ln|V|",
                }[row.kind]
        return ""


class StepInspector(QWidget):
    """The selected pair inside the network at a snapshot epoch: inputs, hidden states, probabilities, losses."""

    epoch_requested = Signal(int)
    follow_latest_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stepInspector")
        self._epochs: list[int] = []
        self._displayed_epoch: int | None = None
        self._syncing = False
        self._legend_limit = 1.0

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("epochSlider")
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.slider.setPageStep(1)
        self.slider.setToolTip("The snapshot of the weights to look at (arrow keys step one snapshot)")
        self.slider.setMinimumWidth(TOP_SLIDER_MIN)
        self.slider.valueChanged.connect(self._on_slider_value_changed)

        self.epoch_label = QLabel()
        self.epoch_label.setObjectName("epochLabel")
        self.epoch_label.setMinimumWidth(QFontMetrics(self.font()).horizontalAdvance(EPOCH_LABEL_WIDEST))

        self.follow_check = QCheckBox("l&atest")
        self.follow_check.setObjectName("followLatest")
        self.follow_check.setChecked(True)
        self.follow_check.setToolTip("Follow the newest snapshot as training runs (Alt+A); moving the slider stops it")
        self.follow_check.toggled.connect(self._on_follow_check_toggled)

        self.legend = ColourLegend()
        self.legend.setObjectName("stepLegend")
        self.legend.setToolTip("Heat strips: blue below 0, white at 0, red above 0. Probabilities: white 0 to blue 1.")

        self.recording_hint = NoteLabel("recordingHint")  # why snapshots are few (a large model)
        # A diverged model's pass: the grid's "–" predictions and grey "nan" cells, said in words.
        self.diverged_label = NoteLabel("stepNonFinite")
        self.diverged_label.setStyleSheet(f"color: {WRONG}")

        self.grid = StepGrid()
        self.scroll = chart_scroll_area(self.grid, "stepScroll")

        # One line of controls where it fits: the bottom pane is short and the grid needs the height.
        # Narrower, the legend and then the epoch go to lines of their own (see _reflow_top).
        self._top = QGridLayout()
        self._top.setContentsMargins(0, 0, 0, 0)
        self._top.setVerticalSpacing(0)
        self._top.setColumnStretch(0, 1)
        self._top_lines = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        # The layout's own minimum is that of its current lines; minimumSizeHint gives the narrowest
        # (three lines), so the view can be made narrower than one line needs and reflow there.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        layout.addLayout(self._top)
        layout.addWidget(self.recording_hint)
        layout.addWidget(self.diverged_label)
        layout.addWidget(self.scroll, 1)
        self._update_legend()
        self._update_label()
        self._reflow_top(1)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._reflow_top(self._top_lines_for(event.size().width()))

    def minimumSizeHint(self) -> QSize:
        spacing = self._top.horizontalSpacing()
        narrowest = max(
            TOP_SLIDER_MIN + spacing + self.follow_check.sizeHint().width(),
            self.epoch_label.minimumSizeHint().width(),
            self.legend.minimumSizeHint().width(),
            self.scroll.minimumSizeHint().width(),
        )
        return QSize(narrowest + 8, super().minimumSizeHint().height())

    def top_lines(self) -> int:
        """On how many lines the controls and the legend are laid out (1, 2 or 3; for tests)."""
        return self._top_lines

    def _top_lines_for(self, width: int) -> int:
        """1: slider, epoch, latest and legend; 2: the legend below; 3: the epoch below too."""
        room = width - 8 - 2 * self._top.horizontalSpacing()  # the margins, and the gaps between columns
        controls = TOP_SLIDER_MIN + self.epoch_label.minimumSizeHint().width() + self.follow_check.sizeHint().width()
        if room >= controls + TOP_LEGEND_GAP + self.legend.sizeHint().width():
            return 1
        return 2 if room >= controls else 3

    def _reflow_top(self, lines: int) -> None:
        if lines == self._top_lines:
            return
        self._top_lines = lines
        for widget in (self.slider, self.epoch_label, self.follow_check, self.legend):
            self._top.removeWidget(widget)
        self._top.setColumnMinimumWidth(3, TOP_LEGEND_GAP if lines == 1 else 0)  # the gap before the legend
        self._top.addWidget(self.slider, 0, 0)
        if lines == 3:
            self._top.addWidget(self.follow_check, 0, 1)
            self._top.addWidget(self.epoch_label, 1, 0, 1, 2)
            self._top.addWidget(self.legend, 2, 0, 1, 2)
            return
        self._top.addWidget(self.epoch_label, 0, 1)
        self._top.addWidget(self.follow_check, 0, 2)
        if lines == 1:
            self._top.addWidget(self.legend, 0, 4)
        else:
            self._top.addWidget(self.legend, 1, 0, 1, 5)

    # ------------------------------------------------------------------- API
    def set_snapshot_epochs(self, epochs: Sequence[int]) -> None:
        """The epochs that have snapshots (ascending). Never emits epoch_requested.

        The slider stays on its epoch if it still exists, else goes to the nearest;
        while following the latest it goes to the last one (the owner, seeing
        follows_latest(), asks for that epoch itself).
        """
        previous = self.selected_epoch()
        self._epochs = sorted({int(e) for e in epochs})
        if not self._epochs:
            index = 0
        elif self.follows_latest() or previous is None:
            index = len(self._epochs) - 1
        else:
            index = self._nearest_index(previous)
        self._syncing = True
        try:
            self.slider.setRange(0, max(len(self._epochs) - 1, 0))
            self.slider.setValue(index)
            self.slider.setEnabled(len(self._epochs) > 1)
        finally:
            self._syncing = False
        self._update_label()

    def snapshot_epochs(self) -> list[int]:
        """The epochs the slider offers."""
        return list(self._epochs)

    def selected_epoch(self) -> int | None:
        """The epoch the slider is on (None before any snapshot)."""
        if not self._epochs:
            return None
        return self._epochs[min(self.slider.value(), len(self._epochs) - 1)]

    def follows_latest(self) -> bool:
        """Whether the slider sticks to the newest snapshot."""
        return self.follow_check.isChecked()

    def set_vocabulary(self, chars: Sequence[str]) -> None:
        """The vocabulary that names the probability rows."""
        self.grid.set_vocabulary(chars)

    def set_inference(self, inference: Inference | None, epoch: int | None = None) -> None:
        """Show ``inference`` (made with the weights after ``epoch``); None shows the placeholder."""
        self._displayed_epoch = epoch if inference is not None else None
        self.grid.set_inference(inference)
        self._update_diverged_label()
        self._update_legend()
        self._update_label()

    def set_message(self, text: str) -> None:
        """Show ``text`` instead of the grid (e.g. an error from the inspector)."""
        self._displayed_epoch = None
        self.grid.set_message(text)
        self._update_diverged_label()
        self._update_label()

    def message(self) -> str:
        """The text shown instead of the grid ('' while a grid is shown)."""
        return self.grid.message()

    def clear(self) -> None:
        """Forget the snapshots and the inference; show the placeholder (the recording hint stays)."""
        self.set_snapshot_epochs([])
        self.set_inference(None)

    def set_recording_hint(self, text: str, none_recorded: bool = False) -> None:
        """Say why the snapshots are few ('' says nothing): under the slider; or, when there will be
        ``none_recorded``, in the grid's place, instead of the advice to train."""
        self.recording_hint.set_note("" if none_recorded else text)
        self.grid.set_placeholder(text if none_recorded else "")

    def displayed_probabilities(self) -> np.ndarray | None:
        """The probabilities drawn (seqLen x numClass, as received), or None."""
        if self.grid.inference() is None:
            return None
        return self.grid.heatmap().probabilities()

    def displayed_prediction(self) -> str:
        """The predicted string drawn ('' when none; '–' at a step whose probabilities are NaN or inf)."""
        return self.grid.predicted()

    def displayed_epoch(self) -> int | None:
        """The epoch of the weights whose inference is drawn."""
        return self._displayed_epoch

    def target_marks(self) -> list[int | None]:
        """The vocabulary index outlined in each step's probability column (the target's character)."""
        return self.grid.heatmap().marks() if self.grid.inference() is not None else []

    def probability_cell_rect(self, step: int, cls: int) -> QRect:
        """Where one probability cell is drawn, in the grid's coordinates."""
        return self.grid.heatmap().cell_rect(step, cls)

    # -------------------------------------------------------------- internals
    def _nearest_index(self, epoch: int) -> int:
        i = bisect_left(self._epochs, epoch)
        if i == len(self._epochs):
            return i - 1
        if i > 0 and epoch - self._epochs[i - 1] <= self._epochs[i] - epoch:
            return i - 1
        return i

    def _update_label(self) -> None:
        selected = self.selected_epoch()
        if selected is None:
            self.epoch_label.setText("no snapshots yet")
            return
        # Counted in snapshots, not epochs: the newest snapshot is not the run's epoch when weights are
        # recorded sparsely (a large model: only at start, pause and end), and "(of 0)" read as a run of 0 epochs.
        index = min(self.slider.value(), len(self._epochs) - 1)
        text = f"after epoch {selected} (snapshot {index + 1} of {len(self._epochs)})"
        if self._displayed_epoch is not None and self._displayed_epoch != selected:
            text += f" · showing {self._displayed_epoch}"
        self.epoch_label.setText(text)

    def _update_diverged_label(self) -> None:
        inference = self.grid.inference()
        self.diverged_label.set_note(non_finite_note(inference.probabilities) if inference is not None else "")

    def _update_legend(self) -> None:
        lim = self.grid.hidden_limit()  # the input row names its own scale when it differs
        if self.legend.entries() and lim == self._legend_limit:
            return  # set_inference runs many times a second while training; the legend rarely changes
        self._legend_limit = lim
        half = scale_text(lim)
        self.legend.set_entries(
            [
                GradientEntry("hidden / input", DIVERGING_LUT, f"−{half}", f"+{half}", middle="0"),
                GradientEntry("p", SEQUENTIAL_LUT, "0", "1"),
                OutlineEntry("target", TARGET_MARK),
            ]
        )
        self._reflow_top(self._top_lines_for(self.width()))  # a wider scale may no longer fit on one line

    def _on_slider_value_changed(self, index: int) -> None:
        self._update_label()
        if self._syncing or not self._epochs:
            return
        if self.follows_latest():
            self.follow_check.setChecked(False)  # the user picked an epoch: stop following
        self.epoch_requested.emit(self._epochs[index])

    def _on_follow_check_toggled(self, checked: bool) -> None:
        if checked and self._epochs:
            self._syncing = True
            try:
                self.slider.setValue(len(self._epochs) - 1)
            finally:
                self._syncing = False
            self._update_label()
        self.follow_latest_changed.emit(checked)
        if checked and self._epochs:
            self.epoch_requested.emit(self._epochs[-1])
