"""The encoding preview: idx2char, x_data / y_data of the selected pair and the input tensor's shape."""

from __future__ import annotations

import html
import unicodedata

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QVBoxLayout, QWidget

from rnnstudio.core.config import ModelConfig
from rnnstudio.core.describe import TensorShape, tensor_path
from rnnstudio.core.problems import plural
from rnnstudio.core.sequences import Task
from rnnstudio.core.vocab import Vocabulary

from .vocab_strip import GREY, RED, WrapLabel, monospace_font

#: Longest list drawn in full; longer ones are cut with "…" (display only: the data is untouched).
MAX_SHOWN = 40


def unbreakable(text: str) -> str:
    """``text`` kept on one line when wrapped: no-break spaces and hyphens, and a word joiner after
    each "|" (a break opportunity in Unicode's line breaking, which split "|V|")."""
    return text.replace(" ", "\u00a0").replace("-", "\u2011").replace("|", "|\u2060")


def encode_preview(vocab: Vocabulary, text: str) -> list[int | None]:
    """Indices of ``text``'s characters, None for a character outside the vocabulary."""
    return [vocab.index(c) if c in vocab else None for c in text]


def shape_parts(shape: TensorShape) -> tuple[str, str]:
    """('inputs: seqLen × batchSize × inputSize = 5 × 1 × 4', 'one-hot, float') for one tensor."""
    name, _, qualifier = shape.name.partition(" (")
    details = ", ".join(q for q in (qualifier.rstrip(")"), shape.note) if q)
    return f"{name}: {shape.symbolic()} = {shape.numeric()}", details


def shape_line(shape: TensorShape) -> str:
    """'inputs: seqLen × batchSize × inputSize = 5 × 1 × 4 (one-hot, float)' for one tensor."""
    main, details = shape_parts(shape)
    return f"{main} ({details})" if details else main


def _escape(text: str) -> str:
    # Rich text collapses runs of spaces; non-breaking spaces keep every typed space visible.
    return html.escape(text, quote=False).replace(" ", "&nbsp;")


#: After an item of a right-to-left script: a left-to-right mark, so the list still reads in index
#: order (without it, "'ו', 'ל'" with the punctuation between them is laid out right to left).
LTR_MARK = "\u200e"


def _in_index_order(item: str) -> str:
    return item + LTR_MARK if any(unicodedata.bidirectional(c) in ("R", "AL") for c in item) else item


class CodeLabel(WrapLabel):
    """A line of the notebook's code: what the user copies from it is the code, without the
    left-to-right marks added for display (a copied idx2char must still parse as Python)."""

    def __init__(self) -> None:
        super().__init__()
        QGuiApplication.clipboard().dataChanged.connect(self._on_clipboard_changed)

    @Slot()
    def _on_clipboard_changed(self) -> None:
        board = QGuiApplication.clipboard()
        text = board.text()
        if LTR_MARK in text and self.hasSelectedText():  # copied from here, by key or menu
            board.setText(text.replace(LTR_MARK, ""))


def _list_html(items: list[str], bad: set[int]) -> str:
    shown = [_in_index_order(item) for item in items[:MAX_SHOWN]]
    parts = [
        f"<span style='color:{RED}; font-weight:bold'>{_escape(s)}</span>" if i in bad else _escape(s)
        for i, s in enumerate(shown)
    ]
    more = f", … +{len(items) - MAX_SHOWN}" if len(items) > MAX_SHOWN else ""
    return "[" + ", ".join(parts) + more + "]"


def _comment(text: str) -> str:
    cut = text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"
    return f"<span style='color:{GREY}'>&nbsp;# {_escape(cut)}</span>"


class EncodingPreview(QWidget):
    """Shows how the selected pair becomes numbers, in the notebook's names, and the batch's input shape."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._task = Task(())
        self._selected = -1
        self._cfg = ModelConfig()

        font = monospace_font()
        self.idx2char_label = CodeLabel()
        self.idx2char_label.setObjectName("idx2charLabel")
        self.x_label = CodeLabel()
        self.x_label.setObjectName("xDataLabel")
        self.y_label = CodeLabel()
        self.y_label.setObjectName("yDataLabel")
        self.batch_label = WrapLabel()
        self.batch_label.setObjectName("batchLabel")
        self.shape_label = WrapLabel()
        self.shape_label.setObjectName("shapeLabel")
        # The notebook's lists in a fixed-width font (they are code); the prose lines in the UI font.
        for label in (self.idx2char_label, self.x_label, self.y_label):
            label.setFont(font)
        for label in (self.idx2char_label, self.x_label, self.y_label, self.batch_label, self.shape_label):
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.x_label.setToolTip("x_data: the vocabulary index of each input character (? = not in the vocabulary)")
        self.y_label.setToolTip("y_data: the index of each target character, the labels the loss compares with")
        self.shape_label.setToolTip("What the model reads for the whole batch (every pair at once)")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        for label in (self.idx2char_label, self.x_label, self.y_label, self.batch_label, self.shape_label):
            layout.addWidget(label)
        layout.addStretch(1)  # a box taller than the lines (its scroll area fills it): room under them
        self._refresh()

    def set_data(self, task: Task, selected: int) -> None:
        """Preview pair ``selected`` of ``task`` (-1: none) and the shape of the whole batch."""
        self._task = task
        self._selected = selected
        self._refresh()

    def set_model_config(self, cfg: ModelConfig) -> None:
        """Use this configuration for the tensor shape (one-hot vs embedding)."""
        self._cfg = cfg
        self._refresh()

    def _refresh(self) -> None:
        task = self._task
        vocab = task.vocabulary()
        self.idx2char_label.setText("idx2char = " + _list_html([repr(c) for c in vocab.chars], set()))
        pair = task.pairs[self._selected] if 0 <= self._selected < len(task.pairs) else None
        if pair is None:
            self.x_label.setText(f"x_data = <span style='color:{GREY}'>(no pair selected)</span>")
            self.y_label.setText("y_data =")
        else:
            for label, name, text in ((self.x_label, "x_data", pair.input), (self.y_label, "y_data", pair.target)):
                codes = encode_preview(vocab, text)
                bad = {i for i, c in enumerate(codes) if c is None}
                items = ["?" if c is None else str(c) for c in codes]
                label.setText(f"{name} = {_list_html(items, bad)}{_comment(text)}")
        batch, seq = self._batch_and_seq()
        parts = (f"batchSize = {plural(batch, 'pair')}", f"seqLen = {seq} (longest input)", f"|V| = {len(vocab)}")
        # Each part on one line: a narrow column wraps between them, never inside "|V|" or "= 4".
        kept = " · ".join(unbreakable(part) for part in parts)
        self.batch_label.setText(f"<span style='color:{GREY}'>{kept}</span>")
        self.shape_label.setText(self._shape_html())

    def shape_text(self) -> str:
        """The shape lines as plain text, as the user reads them."""
        return "\n".join(shape_line(shape) for shape in self._shapes())

    def _shape_html(self) -> str:
        shapes = self._shapes()
        if not shapes:
            return f"<span style='color:{GREY}'>inputs: no shape (the model configuration has problems)</span>"
        lines = []
        for shape in shapes:
            main, details = shape_parts(shape)
            unit = unbreakable(html.escape(details))  # "(one-hot, float)" wraps as one unit, never inside
            extra = f" <span style='color:{GREY}'>({unit})</span>" if details else ""
            lines.append(f"<b>{html.escape(main)}</b>{extra}")
        return "<br>".join(lines)

    def _shapes(self) -> list[TensorShape]:
        batch, seq = self._batch_and_seq()
        try:
            path = tensor_path(self._cfg, len(self._task.vocabulary()), batch, seq)
        except (KeyError, TypeError, ValueError):
            # An invalid configuration is the config panel's to report; here it just has no shape.
            return []
        return path[:2] if self._cfg.encoding == "embedding" else path[:1]

    def _batch_and_seq(self) -> tuple[int, int]:
        return len(self._task.pairs), max((len(p.input) for p in self._task.pairs), default=0)
