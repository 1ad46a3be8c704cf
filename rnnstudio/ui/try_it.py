"""The try-it view: type any string over the vocabulary and see what the trained model predicts, step by step."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core.problems import listed
from ..core.results import Inference
from ..core.sequences import MAX_LENGTH, unknown_char_problems
from ..core.vocab import Vocabulary, describe_char
from .heatmaps import (
    ARGMAX_MARK,
    BACKGROUND,
    MUTED,
    NO_PREDICTION,
    SEQUENTIAL_LUT,
    TEXT,
    WIDGETSIZE_MAX,
    ColourLegend,
    GradientEntry,
    InferenceGrid,
    OutlineEntry,
    chart_scroll_area,
    finite_steps,
    non_finite_note,
    quoted,
    small_font,
)
from .steady import fix_label_size
from .vocab_strip import RED, NoteLabel, WrapLabel, display_char, monospace_font

PLACEHOLDER_TEXT = "type a string over the vocabulary, e.g. hello"
EMPTY_MESSAGE = "Type a string above to see what the trained model predicts for it"
PROBLEM_MESSAGE = "Only characters of the vocabulary can be sent: fix the string above to see a prediction"
PREDICTED_COLOUR = "#0969da"
#: Delay between the last keystroke and text_submitted: typing a word sends one request, not one per key.
DEBOUNCE_MS = 150


def text_problems(text: str, vocab: Sequence[str]) -> list[str]:
    """Why ``text`` cannot be sent to the model: each character outside ``vocab`` with its 1-based position."""
    if not vocab:
        return ["there is no vocabulary yet: add training pairs first"] if text else []
    found = [
        f"{describe_char(text[p.position])} at position {p.position + 1} is not in the vocabulary"
        for p in unknown_char_problems(text, Vocabulary.explicit(vocab))
    ]
    if len(text) > MAX_LENGTH:
        found.append(f"the string is {len(text)} characters, more than the limit of {MAX_LENGTH}")
    return found


class TryGrid(InferenceGrid):
    """The typed string, the model's prediction under it, and the probability heatmap, in aligned columns."""

    PLACEHOLDER = EMPTY_MESSAGE
    EMPTY_TEXT = "The string is empty: nothing to predict"

    MIN_CELL_W = 24
    MAX_CELL_W = 64
    PAD = 8
    GAP = 6

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(ARGMAX_MARK, parent)
        self.setObjectName("tryGrid")
        self._label_font = QFont(self.font())
        self._caption_font = small_font(self.font(), -1.5)
        self._big_font = monospace_font(6)
        self._big_font.setBold(True)
        self._row_font = monospace_font()
        self._text = ""
        self._predicted: list[str | None] = []  # per step; None: the weights gave no numbers there
        self._label_w = 80
        self._cell_w = self.MIN_CELL_W
        self._header_top = self._pred_top = self._probs_top = 0
        self._header_h = self._pred_h = 0
        self._relayout()

    def predicted(self) -> str:
        """The predicted string drawn ('–' at a step with no prediction)."""
        return "".join(c if c is not None else NO_PREDICTION for c in self._predicted)  # [] without an inference

    def _rebuild(self) -> None:
        inf = self._inference
        if inf is None:
            self._steps, self._text, self._predicted = 0, "", []
            self._heatmap.set_data(None, self._chars)
            self._relayout()
            return
        probs = inf.probabilities
        p = np.asarray(probs) if probs is not None else None
        self._steps = int(p.shape[0]) if p is not None and p.ndim == 2 else len(inf.text or "")
        self._text = inf.text or ""
        predicted = inf.predicted or ""
        finite = finite_steps(p)
        # A step whose probabilities are NaN or inf has no most likely character, though their argmax
        # (index 0) comes as a predicted character: it is not drawn, nor outlined.
        self._predicted = [c if i >= len(finite) or finite[i] else None for i, c in enumerate(predicted)]
        marks: list[int | None] = []
        if p is not None and p.ndim == 2 and p.shape[1] > 0 and p.shape[0] > 0:
            marks = [int(i) if good else None for i, good in zip(np.argmax(p, axis=1), finite, strict=True)]
        self._heatmap.set_data(probs, self._chars, marks)
        self._relayout()

    def _prob_row_height(self) -> int:
        rows = self._heatmap.rows()
        return 18 if rows <= 12 else 14 if rows <= 40 else 10

    def _relayout(self) -> None:
        if self._inference is None or self._steps == 0:
            self._compute_columns()
            # The message fills the viewport (centred) instead of sitting in a fixed band at the top.
            self.setMinimumSize(QSize(0, 60))
            self.setMaximumHeight(WIDGETSIZE_MAX)
            self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            self.updateGeometry()
            self.update()
            return
        cap = QFontMetrics(self._caption_font).height()
        big = QFontMetrics(self._big_font).height()
        y = self.PAD
        self._header_top, self._header_h = y, cap + big
        y += self._header_h + 2
        self._pred_top, self._pred_h = y, big + 4
        y += self._pred_h + self.GAP
        self._probs_top = y
        y += self._heatmap.rows() * self._prob_row_height() + self.PAD
        self._compute_columns()
        self.setMinimumSize(QSize(self._label_w + self._steps * self.MIN_CELL_W + self.PAD, y))
        self.setFixedHeight(y)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.updateGeometry()
        self.update()

    def _compute_columns(self) -> None:
        fm = QFontMetrics(self._label_font)
        main = max(fm.horizontalAdvance(s) for s in ("predicted", "softmax p", "numClass 000"))
        self._label_w = self.PAD + main + 8 + self._heatmap.label_width(self._row_font) + 6
        free = self.width() - self._label_w - self.PAD
        self._cell_w = int(min(max(free // max(self._steps, 1), self.MIN_CELL_W), self.MAX_CELL_W))
        self._heatmap.place(self._label_w, self._probs_top, self._cell_w, self._prob_row_height())

    def sizeHint(self) -> QSize:
        return QSize(self._label_w + max(self._steps, 5) * 48 + self.PAD, self.minimumHeight())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._compute_columns()

    def column_rect(self, step: int) -> QRect:
        """The predicted character's cell of ``step``."""
        return QRect(self._label_w + step * self._cell_w, self._pred_top, self._cell_w, self._pred_h)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(BACKGROUND))
        if self._inference is None or self._steps == 0:
            painter.setPen(QColor(MUTED))
            painter.drawText(self.rect().adjusted(12, 8, -12, -8), Qt.AlignCenter | Qt.TextWordWrap, self.message())
            painter.end()
            return
        fm, cfm = QFontMetrics(self._label_font), QFontMetrics(self._caption_font)
        x = self.PAD
        painter.setFont(self._label_font)
        painter.setPen(QColor(TEXT))
        big_mid = self._header_top + cfm.height() + QFontMetrics(self._big_font).height() // 2
        painter.drawText(QPointF(x, big_mid + fm.ascent() // 2 - 1), "input")
        painter.drawText(QPointF(x, self._pred_top + self._pred_h // 2 + fm.ascent() // 2 - 1), "predicted")
        painter.drawText(QPointF(x, self._probs_top + fm.ascent()), "softmax p")
        painter.setFont(self._caption_font)
        painter.setPen(QColor(MUTED))
        painter.drawText(QPointF(x, self._probs_top + fm.height() + cfm.ascent()), f"numClass {self._heatmap.rows()}")

        for step in range(self._steps):
            left = self._label_w + step * self._cell_w
            painter.setFont(self._caption_font)
            painter.setPen(QColor(MUTED))
            painter.drawText(
                QRect(left, self._header_top, self._cell_w, cfm.height()), Qt.AlignmentFlag.AlignCenter, str(step + 1)
            )
            painter.setFont(self._big_font)
            painter.setPen(QColor(TEXT))
            ch = display_char(self._text[step]) if step < len(self._text) else "?"
            painter.drawText(
                QRect(left, self._header_top + cfm.height(), self._cell_w, self._header_h - cfm.height()),
                Qt.AlignmentFlag.AlignCenter,
                ch,
            )
            char = self._predicted[step] if step < len(self._predicted) else None
            painter.setPen(QColor(PREDICTED_COLOUR if char is not None else MUTED))
            pred = display_char(char) if char is not None else NO_PREDICTION
            painter.drawText(self.column_rect(step), Qt.AlignmentFlag.AlignCenter, pred)
        self._heatmap.paint(painter, self._caption_font)
        self._heatmap.paint_labels(painter, self._label_w - 6, self._row_font)
        painter.end()

    def text_at(self, pos: QPointF) -> str:
        """What the mouse at ``pos`` points at, with its value ('' over nothing)."""
        if self._inference is None or self._steps == 0:
            return ""
        x = pos.x() - self._label_w
        if x < 0:
            return ""
        step = int(x // self._cell_w)
        if step >= self._steps:
            return ""
        input_char = quoted(self._text, step) if step < len(self._text) else "?"
        where = f"step {step + 1} {input_char}"
        hit = self._heatmap.hit(pos)
        if hit is not None:
            text = self._heatmap.describe(hit[0], hit[1], input_char)
            return text + (" (most likely)" if self._heatmap.marks()[hit[0]] == hit[1] else "")
        if self._pred_top <= pos.y() < self._pred_top + self._pred_h and step < len(self._predicted):
            if self._predicted[step] is None:
                return f"{where}: no prediction (the probabilities are not numbers)"
            marks = self._heatmap.marks()
            mark = marks[step] if step < len(marks) else None
            p = f" (p = {self._heatmap.value(step, mark):.3f})" if mark is not None else ""
            return f"{where}: predicted {quoted(self.predicted(), step)}{p}"
        if self._header_top <= pos.y() < self._header_top + self._header_h:
            return f"{where}: the input character"
        return ""


class TryItView(QWidget):
    """Type a string over the vocabulary; see the trained model's prediction and per-step probabilities."""

    text_submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tryItView")
        self._vocab: tuple[str, ...] = ()
        self._problems: list[str] = []
        self._weights_epoch: int | None = None  # the newest trained weights, shown while no answer is
        self._answer_epoch: int | None = None
        self._unrecorded = ""  # why the weights cannot be recorded for this view (a huge model), if so

        self.input = QLineEdit()
        self.input.setObjectName("tryInput")
        self.input.setPlaceholderText(PLACEHOLDER_TEXT)
        self.input.setFont(monospace_font(2))
        self.input.setClearButtonEnabled(True)
        self.input.setToolTip("Any string over the vocabulary; the prediction updates as you type (Return: now)")
        self.input.textChanged.connect(self._on_input_text_changed)
        self.input.returnPressed.connect(self._on_input_return_pressed)
        input_label = QLabel("Tr&y:")
        input_label.setBuddy(self.input)
        input_label.setToolTip("Alt+Y")

        self.epoch_label = QLabel("no trained weights yet")
        self.epoch_label.setObjectName("tryEpochLabel")
        self.epoch_label.setStyleSheet(f"color: {MUTED}")
        # Its text follows the newest weights during a run: a fixed size keeps that from relaying out the window.
        fix_label_size(self.epoch_label, "weights after epoch 1000000")
        self.epoch_label.setToolTip(
            "The weights that answered (or, before you type, the newest trained weights): after this many epochs"
        )

        self.problem_label = WrapLabel()
        self.problem_label.setObjectName("tryProblems")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(f"color: {RED}")
        self.problem_label.hide()

        # A diverged model's answer: said above the grid, where the prediction would be read.
        self.diverged_label = NoteLabel("tryNonFinite")
        self.diverged_label.setStyleSheet(f"color: {RED}")

        self.legend = ColourLegend()
        self.legend.setObjectName("tryLegend")
        self.legend.set_entries(
            [GradientEntry("p", SEQUENTIAL_LUT, "0", "1"), OutlineEntry("most likely", ARGMAX_MARK)]
        )
        self.readout = QLabel()
        self.readout.setObjectName("tryReadout")
        self.readout.setStyleSheet(f"color: {MUTED}")
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.grid = TryGrid()
        self.grid.hovered.connect(self._on_grid_hovered)
        self.scroll = chart_scroll_area(self.grid, "tryScroll")

        self._submit_timer = QTimer(self)
        self._submit_timer.setSingleShot(True)
        self._submit_timer.setInterval(DEBOUNCE_MS)
        self._submit_timer.timeout.connect(self._on_submit_timer_timeout)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(input_label)
        top.addWidget(self.input, 1)
        top.addSpacing(8)
        top.addWidget(self.epoch_label)
        second = QHBoxLayout()
        second.setContentsMargins(0, 0, 0, 0)
        second.addWidget(self.legend)
        second.addSpacing(12)
        second.addWidget(self.readout, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.diverged_label)
        layout.addLayout(second)
        layout.addWidget(self.scroll, 1)

    # ------------------------------------------------------------------- API
    def set_vocabulary(self, chars: Sequence[str]) -> None:
        """The characters the model knows; the current text is checked again.

        When the vocabulary really changed and the text is (still) valid, it is
        submitted again (debounced): the old answer came from another model.
        """
        chars = tuple(chars)
        changed = chars != self._vocab
        self._vocab = chars
        self.grid.set_vocabulary(chars)
        self._validate(submit=changed)

    def set_weights_epoch(self, epoch: int | None) -> None:
        """The newest trained weights are those after ``epoch`` (None: there are none yet).

        The label names them while no answer is shown (nothing typed yet, paused, after a run),
        so it does not say "no trained weights yet" when there are some.
        """
        self._weights_epoch = epoch
        self._update_labels()

    def set_recording_hint(self, text: str) -> None:
        """Why the trained weights cannot be recorded for this view ('' when they can): said in the
        answer's place, and the label says "no weights kept" rather than "no trained weights yet"."""
        self._unrecorded = text
        self.grid.set_placeholder(text)
        self._update_labels()

    def recording_hint(self) -> str:
        """Why the trained weights cannot be recorded for this view, as last set ('' when they can)."""
        return self._unrecorded

    def weights_epoch(self) -> int | None:
        """The epoch of the newest trained weights, as last set (None: none yet)."""
        return self._weights_epoch

    def set_inference(self, inference: Inference | None, epoch: int | None = None) -> None:
        """Show the model's answer (made with the weights after ``epoch``); None shows the placeholder."""
        self.grid.set_inference(inference)
        self._answer_epoch = epoch
        self._update_labels()

    def _update_labels(self) -> None:
        inference = self.grid.inference()
        self.diverged_label.set_note(non_finite_note(inference.probabilities) if inference is not None else "")
        if inference is not None:
            epoch = self._answer_epoch
            text = "weights of an unknown epoch" if epoch is None else f"weights after epoch {epoch}"
        elif self._weights_epoch is not None:
            text = f"weights after epoch {self._weights_epoch}"
        else:
            text = "no weights kept" if self._unrecorded else "no trained weights yet"
        self.epoch_label.setText(text)

    def set_message(self, text: str) -> None:
        """Show ``text`` instead of the prediction (e.g. an error from the inspector)."""
        self.grid.set_message(text)
        self._update_labels()

    def message(self) -> str:
        """The text shown instead of the prediction ('' while one is shown)."""
        return self.grid.message()

    def text(self) -> str:
        """The string typed, exactly as typed."""
        return self.input.text()

    def set_text(self, text: str) -> None:
        """Type ``text`` into the field (as if the user did: validated, then submitted when valid)."""
        self.input.setText(text)

    def problems(self) -> list[str]:
        """Why the current text is not sent: each character outside the vocabulary with its position."""
        return list(self._problems)

    def is_submit_pending(self) -> bool:
        """Whether text_submitted is scheduled (the debounce is running for a valid text)."""
        return self._submit_timer.isActive()

    def displayed_probabilities(self) -> np.ndarray | None:
        """The probabilities drawn (seqLen x numClass, as received), or None."""
        if self.grid.inference() is None:
            return None
        return self.grid.heatmap().probabilities()

    def displayed_prediction(self) -> str:
        """The predicted string drawn ('' when none)."""
        return self.grid.predicted()

    def argmax_marks(self) -> list[int | None]:
        """The vocabulary index outlined in each column (the most likely character)."""
        return self.grid.heatmap().marks() if self.grid.inference() is not None else []

    # -------------------------------------------------------------- internals
    def _validate(self, submit: bool) -> None:
        text = self.input.text()
        self._problems = text_problems(text, self._vocab)
        if self._problems:
            self._submit_timer.stop()
            message = "; ".join(listed(self._problems))
            self.problem_label.setText(message[:1].upper() + message[1:])
            self.problem_label.show()
            self.input.setStyleSheet(f"QLineEdit#tryInput {{ border: 2px solid {RED}; border-radius: 3px; }}")
            self.input.setToolTip("\n".join(self._problems))
            # The answer drawn was for another text: showing it under this one would mislead.
            self.grid.set_message(PROBLEM_MESSAGE)
            self._update_labels()
            return
        self.problem_label.hide()
        self.problem_label.setText("")
        self.input.setStyleSheet("")
        self.input.setToolTip("Any string over the vocabulary; the prediction updates as you type (Return: now)")
        if not text:
            self._submit_timer.stop()
            self.grid.set_inference(None)  # nothing typed: back to the hint, not the last answer
            self._update_labels()
        elif submit:
            self._submit_timer.start()

    def _on_input_text_changed(self, _text: str) -> None:
        self._validate(submit=True)

    def _on_input_return_pressed(self) -> None:
        text = self.input.text()
        self._submit_timer.stop()
        if text and not self._problems:
            self.text_submitted.emit(text)

    def _on_submit_timer_timeout(self) -> None:
        text = self.input.text()
        if text and not self._problems:
            self.text_submitted.emit(text)

    def _on_grid_hovered(self, text: str) -> None:
        self.readout.setText(text)
