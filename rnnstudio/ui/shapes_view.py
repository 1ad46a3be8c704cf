"""Shapes: the tensors on the data's path for the current model, and the notebook's two shape walkthroughs."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.config import MAX_SEED, ModelConfig
from ..core.describe import TensorShape, tensor_path
from ..core.results import Walkthrough
from . import style
from .vocab_strip import WrapLabel

#: Item data role holding a row's numeric shape (a tuple of ints).
SHAPE_ROLE = Qt.UserRole + 1
#: Item data role holding a step's hidden values (numpy array, batchSize x hiddenSize).
VALUES_ROLE = Qt.UserRole + 2

LESSON_DEFAULTS = {"batch_size": 1, "seq_len": 3, "input_size": 4, "hidden_size": 2, "num_layers": 1, "seed": 0}
LESSON_MAX = 16
#: How long the lesson waits after the last change of a size before asking for a run.
DEBOUNCE_MS = 350

TEXT_COLOUR = QColor(style.TEXT)
MUTED_COLOUR = style.MUTED
ERROR_COLOUR = style.ERROR
NEGATIVE = np.array([0x09, 0x69, 0xDA], dtype=np.float64)  # blue for -1
POSITIVE = np.array([0xCF, 0x22, 0x2E], dtype=np.float64)  # red for +1
WHITE = np.array([255, 255, 255], dtype=np.float64)


def torch_size(shape: tuple[int, ...]) -> str:
    """A shape the way torch prints it: torch.Size([1, 4])."""
    return f"torch.Size({list(shape)})"


def value_colour(v: float) -> QColor:
    """White at 0, blue towards -1, red towards +1 (tanh's range; beyond it, the full colour)."""
    t = float(np.clip(v, -1.0, 1.0))
    end = POSITIVE if t > 0 else NEGATIVE
    rgb = WHITE + (end - WHITE) * abs(t)
    return QColor(int(rgb[0]), int(rgb[1]), int(rgb[2]))


def _mono() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.FixedFont)


class HiddenValuesDelegate(QStyledItemDelegate):
    """Paints a batchSize x hiddenSize array as a small heat strip, with the numbers where they fit."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        values = index.data(VALUES_ROLE)
        if values is None:
            super().paint(painter, option, index)
            return
        values = np.atleast_2d(np.asarray(values))
        rows, cols = values.shape
        rect = option.rect.adjusted(3, 2, -3, -2)
        if rows == 0 or cols == 0 or rect.width() <= 0:
            return
        painter.save()
        painter.setClipRect(option.rect)
        font = _mono()
        font.setPointSizeF(max(font.pointSizeF() * 0.85, 6.0))
        painter.setFont(font)
        metrics = QFontMetrics(font)
        box_w = max(min(rect.width() // cols, 64), 3)
        box_h = max(rect.height() // rows, 1)
        show_numbers = box_w >= metrics.horizontalAdvance("-0.000") + 4 and box_h >= metrics.height()
        # A one-pixel gap separates boxes, unless they are so small that the gap would eat them.
        gap_w, gap_h = int(box_w >= 4), int(box_h >= 4)
        for r in range(rows):
            for c in range(cols):
                v = float(values[r, c])
                box = QRect(rect.left() + c * box_w, rect.top() + r * box_h, box_w - gap_w, box_h - gap_h)
                painter.fillRect(box, value_colour(v))
                if show_numbers:
                    painter.setPen(QColor("#ffffff") if abs(v) > 0.6 else TEXT_COLOUR)
                    painter.drawText(box, Qt.AlignCenter, f"{v:.3f}")
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        values = index.data(VALUES_ROLE)
        if values is None:
            return super().sizeHint(option, index)
        cols = np.atleast_2d(np.asarray(values)).shape[1]
        return QSize(min(cols * 56, 400), QFontMetrics(_mono()).height() + 6)


class _HintTable(QTableWidget):
    """A table that shows a hint in its body while it has no rows (where the eye looks for the rows)."""

    def __init__(self, rows: int, columns: int) -> None:
        super().__init__(rows, columns)
        self._hint = ""

    def set_hint(self, text: str) -> None:
        """The text shown while the table is empty."""
        self._hint = text
        self.viewport().update()

    def hint(self) -> str:
        """The hint shown while the table is empty ('' when it has rows)."""
        return self._hint if self.rowCount() == 0 else ""

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.rowCount() == 0 and self._hint:
            painter = QPainter(self.viewport())
            painter.setPen(QColor(MUTED_COLOUR))
            painter.drawText(
                self.viewport().rect().adjusted(8, 4, -8, -4), Qt.AlignCenter | Qt.TextWordWrap, self._hint
            )
            painter.end()


class _WholeRowsBox(QWidget):
    """Holds a table and keeps its height to whole rows: the leftover pixels go below its frame, no row is cut.

    With ``all_rows`` set, the table asks for every row as its minimum: the box then grows past its
    parent (a scroll area scrolls) instead of showing one row and a scroll bar inside a scroll area.
    """

    def __init__(self, table: QTableWidget) -> None:
        super().__init__()
        self._table = table
        self.all_rows = False

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_table()

    def fit_table(self) -> None:
        """Size the table to the whole rows that fit (all of them, when there is room)."""
        table = self._table
        layout = self.layout()
        if layout is None:
            return
        margins = layout.contentsMargins()
        width = self.width() - margins.left() - margins.right()
        others = 0
        for i in range(layout.count()):
            widget = layout.itemAt(i).widget()
            if widget is None or widget is table or widget.isHidden():
                continue
            # A word-wrapped label's size hint is for an arbitrary width: ask for this one.
            height = widget.heightForWidth(width) if widget.hasHeightForWidth() else -1
            others += (height if height >= 0 else widget.sizeHint().height()) + layout.spacing()
        room = self.height() - others - margins.top() - margins.bottom()
        chrome = table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth()
        if table.horizontalHeader().length() > width - 2 * table.frameWidth():  # a narrow view: it scrolls sideways
            chrome += table.horizontalScrollBar().sizeHint().height()
        row_h = table.verticalHeader().defaultSectionSize()
        if self.all_rows:
            rows = max(table.rowCount(), 1)
            table.setMinimumHeight(chrome + rows * row_h)
        else:
            rows = max(min(table.rowCount(), (room - chrome) // row_h), 1)
            # A maximum, not a fixed height: the box's minimum (so the view's) stays one row, not every row.
            table.setMinimumHeight(chrome + row_h)
        table.setMaximumHeight(chrome + rows * row_h)


#: The data path's title. The owner sends only pairs without problems (the seqLen and |V| of strings that
#: cannot be encoded would be made up), so while the task has one the table keeps the last valid shapes:
#: the title then says whose they are, on its one line (a bottom tab has no height to spare for a note).
PATH_TITLE = "<b>Data path</b> for the current model"
STALE_PATH_TITLE = (
    f"<b>Data path</b> as before the strings' problems <span style='color:{ERROR_COLOUR}'>(fix those in red)</span>"
)
PATH_TITLE_TIP = (
    "While the strings have a problem (marked in red), these stay the shapes of the last strings and\n"
    "settings without one, option changes included: fix the problem to see the shapes as they are now."
)

EMPTY_STEPS_HINT = "Press Run to step an RNNCell and call nn.RNN on random inputs of these sizes."

#: Whole rows the lesson's steps table keeps room for, however low the tab.
STEPS_MIN_ROWS = 3

#: Width from which the data path and the lesson sit side by side.
WIDE_LAYOUT = 1000


class ShapesView(QWidget):
    """The tensors on the data's path for the current model, and the notebook's shape walkthroughs as a lesson.

    The data path lists each tensor with its shape in the notebook's names and its sizes;
    the lesson asks the owner (walkthrough_requested) to run the RNNCell and nn.RNN cells
    for sizes the learner picks, and shows the result (set_walkthrough).
    """

    walkthrough_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shapesView")
        self._path: list[TensorShape] = []
        self._walkthrough: Walkthrough | None = None

        # --------------------------------------------------------- data path
        self.path_title = path_title = QLabel(PATH_TITLE)
        path_title.setObjectName("shapesTitle")
        self.caption = QLabel()
        self.caption.setObjectName("shapesCaption")
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet(f"color: {MUTED_COLOUR}")
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("shapesTable")
        self.table.setTabKeyNavigation(False)  # Tab leaves the table, as everywhere else
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollPerItem)
        self.table.setHorizontalHeaderLabels(["tensor", "sizes", "shape in the notebook's names", "note"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(QFontMetrics(self.font()).height() + 6)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        path_box = _WholeRowsBox(self.table)
        self._path_box = path_box
        path_box.all_rows = True  # the splitter below starts stacked
        path_layout = QVBoxLayout(path_box)
        path_layout.setContentsMargins(6, 4, 4, 4)
        path_layout.setSpacing(3)
        path_layout.addWidget(path_title)
        path_layout.addWidget(self.caption)
        path_layout.addWidget(self.table, 1)
        path_layout.addStretch(0)  # what is left under the table's last whole row

        # ------------------------------------------------------------ lesson
        lesson_title = WrapLabel("<b>Lesson:</b> the notebook's walkthroughs (random inputs, RNNCell then nn.RNN)")
        lesson_title.setWordWrap(True)
        self.batch_spin = self._spin("lessonBatchSpin", "batchSize: the sequences processed together")
        self.seq_spin = self._spin("lessonSeqSpin", "seqLen: time steps per sequence")
        self.input_spin = self._spin("lessonInputSpin", "inputSize: numbers read at each step")
        self.hidden_spin = self._spin("lessonHiddenSpin", "hiddenSize: numbers in the hidden state")
        self.layers_spin = self._spin("lessonLayersSpin", "numLayers: stacked layers of the nn.RNN call")
        self.seed_spin = QSpinBox()
        self.seed_spin.setObjectName("lessonSeedSpin")
        self.seed_spin.setRange(0, MAX_SEED)
        self.seed_spin.setToolTip("Seed of the random inputs and weights (the lesson never disturbs a training run)")
        self.run_button = QPushButton("R&un")
        self.run_button.setObjectName("lessonRunButton")
        self.run_button.setToolTip("Run both walkthroughs for these sizes (Alt+U)")
        self.status_label = WrapLabel()
        self.status_label.setObjectName("lessonStatus")
        self.status_label.setWordWrap(True)
        controls = QGridLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.setHorizontalSpacing(6)
        controls.setVerticalSpacing(3)
        cells = [
            ("&batchSize", self.batch_spin),
            ("&seqLen", self.seq_spin),
            ("&inputSize", self.input_spin),
            ("hiddenSi&ze", self.hidden_spin),
            ("nu&mLayers", self.layers_spin),
            ("see&d", self.seed_spin),
        ]
        # Two to a row (the data's sizes, the cell's, then the layers and the seed): three to a row made
        # the lesson 505 px wide, wider than the tab of a 1280 px window, which then scrolled sideways.
        for i, (text, spin) in enumerate(cells):
            label = QLabel(text)
            label.setBuddy(spin)
            row, col = divmod(i, 2)
            controls.addWidget(label, row, 2 * col, Qt.AlignRight)
            controls.addWidget(spin, row, 2 * col + 1)
        controls.addWidget(self.run_button, 0, 4, 3, 1)
        controls.setColumnStretch(5, 1)

        self.steps_table = _HintTable(0, 4)
        self.steps_table.setObjectName("lessonStepsTable")
        self.steps_table.setTabKeyNavigation(False)
        self.steps_table.setHorizontalHeaderLabels(["", "Input size", "Output size", "values"])
        self.steps_table.verticalHeader().hide()
        self.steps_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.steps_table.setSelectionMode(QAbstractItemView.NoSelection)
        self.steps_table.setShowGrid(False)
        self.steps_table.setWordWrap(False)
        self.steps_table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.steps_table.verticalHeader().setDefaultSectionSize(QFontMetrics(_mono()).height() + 8)
        steps_header = self.steps_table.horizontalHeader()
        steps_header.setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        steps_header.setStretchLastSection(True)
        self.steps_table.setItemDelegateForColumn(3, HiddenValuesDelegate(self.steps_table))
        # Stacked under the data path, the page scrolls: the steps keep room for a few whole rows (the
        # three cell steps of the notebook's sizes) rather than being squeezed to their header.
        self.steps_table.setMinimumHeight(
            steps_header.sizeHint().height()
            + STEPS_MIN_ROWS * self.steps_table.verticalHeader().defaultSectionSize()
            + self.steps_table.horizontalScrollBar().sizeHint().height()
            + 2 * self.steps_table.frameWidth()
        )
        self.rnn_label = WrapLabel()
        self.rnn_label.setObjectName("lessonRnnLabel")
        self.rnn_label.setWordWrap(True)
        self.transcript = QPlainTextEdit()
        self.transcript.setObjectName("lessonTranscript")
        self.transcript.setReadOnly(True)
        self.transcript.setFont(_mono())
        self.transcript.setLineWrapMode(QPlainTextEdit.NoWrap)
        self.transcript.setPlaceholderText("What the notebook's two cells print appears here.")

        steps_box = QWidget()
        steps_layout = QVBoxLayout(steps_box)
        steps_layout.setContentsMargins(0, 0, 0, 0)
        steps_layout.setSpacing(3)
        steps_layout.addWidget(self.steps_table, 1)
        steps_layout.addWidget(self.rnn_label)
        # Side by side the transcript would squeeze the steps to nothing in a bottom panel: a tab each.
        self.lesson_tabs = QTabWidget()
        self.lesson_tabs.setObjectName("lessonTabs")
        self.lesson_tabs.setDocumentMode(True)
        self.lesson_tabs.addTab(steps_box, "Steps")
        self.lesson_tabs.addTab(self.transcript, "Transcript (as the notebook prints it)")

        lesson_box = QWidget()
        lesson_layout = QVBoxLayout(lesson_box)
        lesson_layout.setContentsMargins(4, 4, 6, 4)
        lesson_layout.setSpacing(3)
        lesson_layout.addWidget(lesson_title)
        lesson_layout.addLayout(controls)
        lesson_layout.addWidget(self.status_label)
        lesson_layout.addWidget(self.lesson_tabs, 1)

        self.splitter = QSplitter(Qt.Vertical)
        self.splitter.addWidget(path_box)
        self.splitter.addWidget(lesson_box)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([500, 500])
        main = QHBoxLayout(self)
        main.setContentsMargins(0, 0, 0, 0)
        main.addWidget(self.splitter)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        for spin in (self.batch_spin, self.seq_spin, self.input_spin, self.hidden_spin, self.layers_spin):
            spin.valueChanged.connect(self._on_lesson_value_changed)
        self.seed_spin.valueChanged.connect(self._on_lesson_value_changed)
        self.run_button.clicked.connect(self._on_run_button_clicked)

        self.set_walkthrough_params(LESSON_DEFAULTS)
        self._show_path()
        self.set_walkthrough(None)

    def _spin(self, name: str, tip: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setObjectName(name)
        spin.setRange(1, LESSON_MAX)
        spin.setToolTip(tip)
        return spin

    # ---------------------------------------------------------- data path
    def resizeEvent(self, event) -> None:
        # Side by side when there is room; stacked in a narrow tab, so the table keeps its columns.
        # Stacked, the data path shows every row and the lesson follows it: in a low tab (1280 x 800)
        # the page scrolls down to the lesson, rather than the data path showing one row of six.
        wide = event.size().width() >= WIDE_LAYOUT
        orientation = Qt.Horizontal if wide else Qt.Vertical
        if self.splitter.orientation() != orientation:
            self.splitter.setOrientation(orientation)
            self._path_box.all_rows = not wide
            self._path_box.fit_table()
        super().resizeEvent(event)

    def set_strings_have_problems(self, stale: bool) -> None:
        """Whether the strings now have problems, so the shapes shown are of their last version without."""
        self.path_title.setText(STALE_PATH_TITLE if stale else PATH_TITLE)
        tip = PATH_TITLE_TIP if stale else ""
        self.path_title.setToolTip(tip)
        self.caption.setToolTip(tip)

    def set_configuration(self, cfg: ModelConfig, vocab_size: int, batch_size: int, seq_len: int) -> None:
        """Show the tensors this configuration makes for |V| = vocab_size, batchSize pairs and seqLen steps.

        Meant for pairs without problems only (see set_strings_have_problems).
        """
        if vocab_size < 1 or batch_size < 1 or seq_len < 1:
            self._path = []
            self._show_path("Add a pair with an input and a target to see the shapes.")
            return
        self._path = tensor_path(cfg, vocab_size, batch_size, seq_len)
        hidden = cfg.effective_hidden(vocab_size)
        layers = 1 if cfg.cell == "rnncell" else cfg.num_layers
        parts = [f"batchSize = number of pairs ({batch_size})", f"seqLen = longest input ({seq_len})"]
        extra = [
            f"|V| = numClass = {vocab_size}",
            f"hiddenSize = {hidden}" + (" (= |V|)" if cfg.hidden_size is None else ""),
        ]
        if cfg.encoding == "embedding":
            extra.insert(1, f"embeddingSize = {cfg.embedding_size}")
        else:
            extra.insert(1, "inputSize = |V| (one-hot)")
        if cfg.cell != "rnncell":
            extra.append(f"numLayers = {layers}")
        self._show_path(", ".join(parts) + "<br>" + ", ".join(extra))

    def _show_path(self, caption: str = "Set a task and a model to see the shapes.") -> None:
        self.caption.setText(caption)
        table = self.table
        table.setRowCount(len(self._path))
        mono = _mono()
        for row, t in enumerate(self._path):
            name = QTableWidgetItem(t.name)
            name.setData(SHAPE_ROLE, t.shape)
            symbolic = QTableWidgetItem(t.symbolic())
            sizes = QTableWidgetItem(t.numeric())
            sizes.setFont(mono)
            sizes.setToolTip(torch_size(t.shape))
            note = QTableWidgetItem(t.note)
            tip = f"{t.name}: {t.symbolic()} = {t.numeric()}" + (f"\n{t.note}" if t.note else "")
            for item in (name, symbolic, note):
                item.setToolTip(tip)
            for col, item in enumerate((name, sizes, symbolic, note)):
                table.setItem(row, col, item)
        table.resizeColumnsToContents()
        table.setCurrentCell(-1, -1)
        self._path_box.fit_table()

    def displayed_shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        """(name, numeric shape) of each row of the data-path table, as displayed."""
        out = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            out.append((item.text(), tuple(item.data(SHAPE_ROLE))))
        return out

    # -------------------------------------------------------------- lesson
    def walkthrough_params(self) -> dict:
        """The lesson's sizes and seed, as keyword arguments of core.model.walkthrough."""
        return {
            "batch_size": self.batch_spin.value(),
            "seq_len": self.seq_spin.value(),
            "input_size": self.input_spin.value(),
            "hidden_size": self.hidden_spin.value(),
            "num_layers": self.layers_spin.value(),
            "seed": self.seed_spin.value(),
        }

    def set_walkthrough_params(self, params: dict) -> None:
        """Set the lesson's sizes and seed without asking for a run."""
        spins = {
            "batch_size": self.batch_spin,
            "seq_len": self.seq_spin,
            "input_size": self.input_spin,
            "hidden_size": self.hidden_spin,
            "num_layers": self.layers_spin,
            "seed": self.seed_spin,
        }
        for key, value in params.items():
            spin = spins[key]
            spin.blockSignals(True)
            spin.setValue(int(value))
            spin.blockSignals(False)
        self._debounce.stop()

    def request_walkthrough(self) -> None:
        """Ask the owner for a walkthrough with the current sizes (walkthrough_requested)."""
        self._debounce.stop()
        self._set_status("running…", MUTED_COLOUR)
        self.walkthrough_requested.emit(self.walkthrough_params())

    @Slot()
    def _on_run_button_clicked(self) -> None:
        self.request_walkthrough()

    @Slot(int)
    def _on_lesson_value_changed(self, _value: int) -> None:
        # Typing "12" changes the value twice: wait for the learner to pause before running.
        self._debounce.start()

    @Slot()
    def _on_debounce_timeout(self) -> None:
        self.request_walkthrough()

    def set_message(self, text: str) -> None:
        """Show an error (or any message) above the lesson's results; '' clears it."""
        self._set_status(text, ERROR_COLOUR)

    def message(self) -> str:
        """The lesson's status or error text."""
        return self.status_label.text()

    def _set_status(self, text: str, colour: str) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(f"color: {colour}")
        self.status_label.setVisible(bool(text))

    def set_walkthrough(self, w: Walkthrough | None) -> None:
        """Show a walkthrough's steps, its nn.RNN call and the transcript; None clears them."""
        self._walkthrough = w
        table = self.steps_table
        if w is None:
            table.setRowCount(0)
            # In the empty table, not under it: below the table it was out of view in a short panel.
            table.set_hint(EMPTY_STEPS_HINT)
            self.rnn_label.setText("")
            self.rnn_label.hide()
            self.transcript.setPlainText("")
            return
        self.rnn_label.show()
        self._set_status("", MUTED_COLOUR)
        mono = _mono()
        n = len(w.cell_steps)
        table.setRowCount(n + 2)
        for row, step in enumerate(w.cell_steps):
            self._set_step_row(
                row,
                f"cell step {step.index}",
                f"RNNCell step {step.index}: reads input {step.index} and the previous hidden state",
                (tuple(step.input_shape), "batchSize × inputSize: one time step of the input"),
                (tuple(step.output_shape), "batchSize × hiddenSize: the new hidden state, carried to the next step"),
                np.asarray(step.hidden),
                mono,
            )
        out = np.asarray(w.rnn_output)
        hidden = np.asarray(w.rnn_hidden)
        self._set_step_row(
            n,
            "nn.RNN out",
            "One nn.RNN call over the whole sequence: the last layer's hidden state at every step",
            (tuple(w.rnn_input_shape), "seqLen × batchSize × inputSize: the whole sequence at once"),
            (tuple(w.rnn_output_shape), "seqLen × batchSize × hiddenSize"),
            out.reshape(-1, out.shape[-1]),
            mono,
        )
        self._set_step_row(
            n + 1,
            "nn.RNN hₙ",
            "The hidden state after the last step, one row per layer",
            None,
            (tuple(w.rnn_hidden_shape), "numLayers × batchSize × hiddenSize"),
            hidden.reshape(-1, hidden.shape[-1]),
            mono,
        )
        for row in (n, n + 1):
            for col in range(4):
                item = table.item(row, col)
                if item is not None:
                    item.setBackground(QColor("#f6f8fa"))
        # The values take whatever width is left: sizing them to their contents would push them out of view.
        for col in range(3):
            table.resizeColumnToContents(col)
        table.setCurrentCell(-1, -1)
        self.rnn_label.setText(
            f"RNNCell({w.input_size}, {w.hidden_size}) stepped {w.seq_len}×, then "
            f"nn.RNN({w.input_size}, {w.hidden_size}, numLayers={w.num_layers}) called once. "
            f"<span style='color:{MUTED_COLOUR}'>out: seqLen × batchSize × hiddenSize, "
            "hₙ: numLayers × batchSize × hiddenSize</span>"
        )
        self.transcript.setPlainText(w.transcript())

    def _set_step_row(self, row, title, title_tip, input_shape, output_shape, values, mono) -> None:
        table = self.steps_table
        first = QTableWidgetItem(title)
        first.setToolTip(title_tip)
        table.setItem(row, 0, first)
        for col, entry in ((1, input_shape), (2, output_shape)):
            if entry is None:
                table.setItem(row, col, QTableWidgetItem(""))
                continue
            shape, tip = entry
            item = QTableWidgetItem(torch_size(shape))
            item.setData(SHAPE_ROLE, shape)
            item.setToolTip(tip)
            item.setFont(mono)
            table.setItem(row, col, item)
        cell = QTableWidgetItem()
        cell.setData(VALUES_ROLE, values)
        cell.setToolTip(np.array2string(values, precision=4, separator=", ") + "\nblue: negative, red: positive")
        table.setItem(row, 3, cell)

    def walkthrough(self) -> Walkthrough | None:
        """The walkthrough shown, or None."""
        return self._walkthrough

    def displayed_step_sizes(self) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
        """(Input size, Output size) of each RNNCell step row, as displayed."""
        table = self.steps_table
        steps = len(self._walkthrough.cell_steps) if self._walkthrough is not None else 0
        return [
            (tuple(table.item(r, 1).data(SHAPE_ROLE)), tuple(table.item(r, 2).data(SHAPE_ROLE)))
            for r in range(min(steps, table.rowCount()))
        ]

    def displayed_rnn_sizes(self) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """(Output size, Hidden size) of the nn.RNN call shown, or None."""
        table = self.steps_table
        if self._walkthrough is None or table.rowCount() < 2:
            return None
        last = table.rowCount() - 1
        return (tuple(table.item(last - 1, 2).data(SHAPE_ROLE)), tuple(table.item(last, 2).data(SHAPE_ROLE)))
