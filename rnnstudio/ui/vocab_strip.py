"""The vocabulary strip: index -> character chips, |V|, the mode, and explicit-vocabulary edits."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QModelIndex, QObject, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetrics, QKeySequence, QPainter, QPen, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from rnnstudio.core.problems import Problem, listed
from rnnstudio.core.project_io import MAX_OPEN_VOCAB
from rnnstudio.core.vocab import MAX_VOCAB

from . import style
from .steady import relayout_later

RED = style.ERROR
GREY = style.MUTED
_CHIP_BORDER = "#8c959f"
_CHIP_BG = style.BACKGROUND
_CHIP_SELECTED_BG = "#ddf4ff"
_CHIP_SELECTED_BORDER = "#0969da"
_CHIP_PROBLEM_BG = style.WRONG_BG

_PROBLEM_ROLE = Qt.ItemDataRole.UserRole + 1
_INDEX_ROLE = Qt.ItemDataRole.UserRole + 2


def display_char(ch: str) -> str:
    """How a vocabulary entry is drawn: a space as '␣', a non-printable as U+XXXX, a combining accent on
    a dotted circle (◌́), else itself."""
    if ch == " ":
        return "␣"
    if len(ch) != 1:
        # Only a hand-edited file can hold such an entry; show it quoted so it stands out.
        return repr(ch)
    if not ch.isprintable():
        return f"U+{ord(ch):04X}"
    if unicodedata.combining(ch):  # a lone accent has no width: drawn on a dotted circle, as fonts show it
        return "\u25cc" + ch
    return ch


def display_string(text: str) -> str:
    """``text`` with each character drawn as display_char draws it: nothing invisible, no lone accent."""
    return "".join(display_char(ch) for ch in text)


def monospace_font(point_delta: int = 0) -> QFont:
    """The system fixed-width font, so input and target characters line up."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    if point_delta and font.pointSize() > 0:
        font.setPointSize(font.pointSize() + point_delta)
    return font


class WrapLabel(QLabel):
    """A word-wrapped label that asks for the height its text needs at its current width.

    Nested layouts size a wrapped QLabel by its one-line minimum, which clips
    the second line of a long problem message; this keeps every line visible.
    """

    def resizeEvent(self, event) -> None:
        """Grow or shrink to the wrapped text's height at the new width."""
        super().resizeEvent(event)
        self._fit()

    def setText(self, text: str) -> None:
        """Set the text and refit the height."""
        super().setText(text)
        self._fit()

    def _fit(self) -> None:
        if not self.wordWrap() or self.width() <= 0:
            return
        h = self.heightForWidth(self.width()) if self.text() else 0
        if h > 0 and h == self.minimumHeight():
            # QLabel's heightForWidth is never below the label's minimum height: measure without it,
            # or a label that once needed two lines would keep their height for one.
            self.setMinimumHeight(0)
            h = self.heightForWidth(self.width())
        if h >= 0 and h != self.minimumHeight():
            self.setMinimumHeight(h)
            relayout_later(self)  # from a resize, inside the layout pass: the request would be dropped


class NoteLabel(QLabel):
    """A muted, word-wrapped note under a view's controls, hidden while it has nothing to say."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWordWrap(True)
        self.setStyleSheet(f"color: {style.MUTED}")
        self.hide()

    def set_note(self, text: str) -> None:
        """Say ``text``; '' hides the note. The same text again changes nothing (the views set theirs
        many times a second while training, and each new text lays the panel out again)."""
        if text != self.text():
            self.setText(text)
        self.setVisible(bool(text))


class _ChipDelegate(QStyledItemDelegate):
    """Draws one entry as a rounded chip: a small grey index, then the character."""

    _PAD = 5
    _GAP = 4

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._char_font = monospace_font(1)
        self._char_font.setBold(True)
        self._index_font = QFont()
        self._index_font.setPointSizeF(max(self._index_font.pointSizeF() - 1.5, 6.0))

    def _parts(self, index: QModelIndex) -> tuple[str, str]:
        return str(index.data(_INDEX_ROLE)), str(index.data(Qt.ItemDataRole.DisplayRole))

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        idx, ch = self._parts(index)
        iw = QFontMetrics(self._index_font).horizontalAdvance(idx)
        cfm = QFontMetrics(self._char_font)
        cw = max(cfm.horizontalAdvance(ch), cfm.horizontalAdvance("M"))
        return QSize(self._PAD * 2 + iw + self._GAP + cw + 2, cfm.height() + 6)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        idx, ch = self._parts(index)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        problem = bool(index.data(_PROBLEM_ROLE))
        bg, border = _CHIP_BG, _CHIP_BORDER
        if problem:
            bg, border = _CHIP_PROBLEM_BG, RED
        if selected:
            bg, border = _CHIP_SELECTED_BG, (RED if problem else _CHIP_SELECTED_BORDER)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = option.rect.adjusted(1, 1, -1, -1)
        painter.setPen(QPen(QColor(border), 2 if (selected or problem) else 1))
        painter.setBrush(QColor(bg))
        painter.drawRoundedRect(rect, 4, 4)
        enabled = bool(option.state & QStyle.StateFlag.State_Enabled)
        painter.setFont(self._index_font)
        painter.setPen(QColor(GREY))
        iw = QFontMetrics(self._index_font).horizontalAdvance(idx)
        irect = QRect(rect.left() + self._PAD, rect.top(), iw, rect.height())
        painter.drawText(irect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, idx)
        painter.setFont(self._char_font)
        painter.setPen(QColor(RED if problem else ("#1f2328" if enabled else GREY)))
        crect = QRect(irect.right() + self._GAP, rect.top(), rect.right() - irect.right() - self._GAP, rect.height())
        painter.drawText(crect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, ch)
        painter.restore()


class VocabStrip(QWidget):
    """Shows the vocabulary as chips with |V| and its mode; asks its owner for every edit.

    The strip never changes the vocabulary itself: it emits what the user asked
    for and its owner (the task editor) turns that into an undoable change and
    calls ``set_vocab`` back.
    """

    explicit_requested = Signal()
    derive_requested = Signal()
    chars_add_requested = Signal(str)
    entry_remove_requested = Signal(int)
    entry_move_requested = Signal(int, int)
    entry_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._chars: tuple[str, ...] = ()
        self._derived = True
        self._read_only = False
        self._problem_positions: dict[int, list[str]] = {}

        self.size_label = QLabel()
        self.size_label.setObjectName("vocabSizeLabel")
        self.mode_label = QLabel()
        self.mode_label.setObjectName("vocabModeLabel")
        self.mode_label.setWordWrap(True)  # a narrow column wraps it rather than widening the column
        self.explicit_button = QPushButton("Edit explicitly")
        self.explicit_button.setObjectName("vocabExplicitButton")
        self.explicit_button.setToolTip(
            "Turn the derived list into an explicit one you can reorder and extend (same order)"
        )
        self.derive_button = QPushButton("Derive")
        self.derive_button.setObjectName("vocabDeriveButton")
        self.derive_button.setToolTip("Go back to the vocabulary derived from the strings (sorted characters)")

        self.chips = QListWidget()
        self.chips.setObjectName("vocabChips")
        self.chips.setViewMode(QListView.ViewMode.ListMode)
        self.chips.setFlow(QListView.Flow.LeftToRight)
        self.chips.setWrapping(True)
        self.chips.setResizeMode(QListView.ResizeMode.Adjust)
        self.chips.setSpacing(2)
        self.chips.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self.chips.setItemDelegate(_ChipDelegate(self.chips))
        self.chips.setStyleSheet("QListWidget { background: #f6f8fa; border: 1px solid #d0d7de; }")
        self.chips.setToolTip("index → character (the notebook's idx2char); ␣ is a space")
        self.chips.currentRowChanged.connect(self._on_chips_current_changed)
        self._chip_delegate = self.chips.itemDelegate()
        self.chips.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.chips.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.chips.installEventFilter(self)
        self._fit_chips()

        self.add_edit = QLineEdit()
        self.add_edit.setObjectName("vocabAddEdit")
        self.add_edit.setPlaceholderText("characters to add")
        self.add_edit.setMaxLength(2**31 - 1)
        self.add_edit.setFont(monospace_font())
        self.add_edit.setToolTip("Each character you type becomes one entry, in order (Enter adds)")
        self.add_edit.returnPressed.connect(self._on_add_clicked)
        self.add_button = QPushButton("Add")
        self.add_button.setObjectName("vocabAddButton")
        self.add_button.setToolTip("Add each typed character as an entry (Enter)")
        self.add_button.clicked.connect(self._on_add_clicked)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("vocabRemoveButton")
        self.remove_button.setToolTip("Remove the selected entry (Delete in the chips)")
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.left_button = QPushButton("◀")
        self.left_button.setObjectName("vocabLeftButton")
        self.left_button.setToolTip("Move the selected entry left: its index goes down by 1 (Alt+Left in the chips)")
        self.left_button.clicked.connect(lambda: self._on_move_clicked(-1))
        self.right_button = QPushButton("▶")
        self.right_button.setObjectName("vocabRightButton")
        self.right_button.setToolTip("Move the selected entry right: its index goes up by 1 (Alt+Right in the chips)")
        self.right_button.clicked.connect(lambda: self._on_move_clicked(1))
        for b in (self.left_button, self.right_button):
            b.setFixedWidth(b.fontMetrics().horizontalAdvance("◀") + 22)
        # Keys act only while the chips have focus, so they never steal Delete or Alt+arrows elsewhere.
        for keys, slot in (
            (QKeySequence(QKeySequence.StandardKey.Delete), self._on_remove_clicked),
            (QKeySequence("Alt+Left"), lambda: self._on_move_clicked(-1)),
            (QKeySequence("Alt+Right"), lambda: self._on_move_clicked(1)),
        ):
            shortcut = QShortcut(keys, self.chips)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)
        self.explicit_button.clicked.connect(self.explicit_requested)
        self.derive_button.clicked.connect(self.derive_requested)

        self.problem_label = WrapLabel()
        self.problem_label.setObjectName("vocabProblemLabel")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(f"color: {RED};")
        self.problem_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        header = QHBoxLayout()
        header.setSpacing(6)
        header.addWidget(self.size_label)
        header.addWidget(self.mode_label, 1)
        header.addWidget(self.explicit_button)
        header.addWidget(self.derive_button)

        self._edit_row = QWidget()
        edit_row = QHBoxLayout(self._edit_row)
        edit_row.setContentsMargins(0, 0, 0, 0)
        edit_row.setSpacing(4)
        edit_row.addWidget(self.add_edit, 1)
        edit_row.addWidget(self.add_button)
        edit_row.addWidget(self.remove_button)
        edit_row.addWidget(self.left_button)
        edit_row.addWidget(self.right_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.chips)
        layout.addWidget(self._edit_row)
        layout.addWidget(self.problem_label)
        self._update_controls()

    # ----- public API -------------------------------------------------------------------------

    def set_vocab(self, chars: Sequence[str], derived: bool, selected: int | None = None) -> None:
        """Show these entries in this mode; ``selected`` picks a chip (None keeps the current one)."""
        chars = tuple(chars)
        if selected is None and chars == self._chars and derived == self._derived and self.chips.count() == len(chars):
            return  # unchanged (the usual case while typing): keep the chips' scroll position
        keep = self.chips.currentRow() if selected is None else selected
        self._chars = chars
        self._derived = derived
        self.chips.blockSignals(True)
        self.chips.clear()
        for i, ch in enumerate(self._chars):
            item = QListWidgetItem(display_char(ch))
            item.setData(_INDEX_ROLE, i)
            self.chips.addItem(item)
        if 0 <= keep < len(self._chars):
            self.chips.setCurrentRow(keep)
        self.chips.blockSignals(False)
        self.size_label.setText(f"<b>|V| = {len(self._chars)}</b>")
        if derived:
            self.mode_label.setText(f"<span style='color:{GREY}'><i>derived from the strings</i></span>")
            self.mode_label.setToolTip("The sorted set of every character in the inputs and targets")
        else:
            self.mode_label.setText("<b>explicit</b>")
            self.mode_label.setToolTip("Your own ordered list: characters outside it are problems")
        self._apply_problem_marks()
        self._update_controls()
        self._fit_chips()

    def chars(self) -> tuple[str, ...]:
        """The entries shown, in index order."""
        return self._chars

    def is_derived(self) -> bool:
        """Whether the shown vocabulary is derived from the strings."""
        return self._derived

    def selected_entry(self) -> int:
        """Index of the selected chip, -1 for none."""
        return self.chips.currentRow()

    def select_entry(self, i: int) -> None:
        """Select chip ``i`` (-1 clears the selection)."""
        self.chips.setCurrentRow(i if 0 <= i < len(self._chars) else -1)

    def set_problems(self, problems: Sequence[Problem]) -> None:
        """Mark the chips that vocabulary problems point at and list every vocabulary problem."""
        vocab_problems = [p for p in problems if p.field == "vocab"]
        self._problem_positions = {}
        for p in vocab_problems:
            if p.position is not None:
                self._problem_positions.setdefault(p.position, []).append(str(p))
        # Every problem marks its chip; the list names the first few (a thousand lines would bury the panel).
        lines = listed([f"• {p}" for p in vocab_problems])
        self.problem_label.setText("\n".join(lines))
        self.problem_label.setVisible(bool(vocab_problems))
        self._apply_problem_marks()

    def set_read_only(self, ro: bool) -> None:
        """Disable every edit control (chips stay browsable)."""
        self._read_only = ro
        self._update_controls()

    # ----- internals --------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Refit the chips' height whenever their width changes."""
        if watched is self.chips and event.type() == QEvent.Type.Resize:
            self._fit_chips()
        return super().eventFilter(watched, event)

    def _fit_chips(self) -> None:
        # As many rows as the chips wrap into, at most three, then scroll: a 512-character
        # vocabulary must not eat the panel, and a 4-character one must not leave a hole.
        self.chips.setFixedHeight(self._chip_rows_height(self._chip_rows(most=3)))
        # The strip asks for its new height once the layout pass that resized the chips is over: asked
        # within it, the panel kept the old height and the chips ran over the Encoding box below.
        relayout_later(self)

    def _chip_rows(self, most: int) -> int:
        """How many rows the chips wrap into at the list's current width, wrapped as QListView wraps
        (counted up to ``most``: a pasted page of 20,000 characters is not measured chip by chip).

        A left-to-right wrapping list with an as-needed vertical scroll bar lays out in its viewport
        less the scroll bar's width, whether or not the bar shows (so the bar never makes the chips
        jump); it starts a row ``spacing`` in, moves ``width + 2 * spacing`` per chip, and wraps a chip
        whose right edge plus ``spacing`` would reach that width.
        """
        chips = self.chips
        spacing = chips.spacing()
        width = chips.maximumViewportSize().width()
        if chips.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAsNeeded:
            style_ = chips.style()
            width -= style_.pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, chips.verticalScrollBar())
            if style_.styleHint(QStyle.StyleHint.SH_ScrollView_FrameOnlyAroundContents, None, chips):
                width -= 2 * chips.frameWidth()
        opt = QStyleOptionViewItem()
        rows, x = 1, spacing
        for i in range(chips.count()):
            w = self._chip_delegate.sizeHint(opt, chips.model().index(i, 0)).width()
            if x > spacing and x + w + spacing >= width:
                rows, x = rows + 1, spacing
                if rows > most:
                    return most
            x += w + 2 * spacing
        return rows

    def _chip_rows_height(self, rows: int) -> int:
        """The list's height that shows ``rows`` rows of chips with a little air under the last."""
        gap = 2 * self.chips.spacing()
        opt = QStyleOptionViewItem()
        if self.chips.count():
            chip_h = self._chip_delegate.sizeHint(opt, self.chips.model().index(0, 0)).height()
        else:
            chip_h = QFontMetrics(monospace_font(1)).height() + 6
        return rows * (chip_h + gap) + 2 * self.chips.frameWidth() + gap

    def _apply_problem_marks(self) -> None:
        for i in range(self.chips.count()):
            item = self.chips.item(i)
            messages = self._problem_positions.get(i)
            item.setData(_PROBLEM_ROLE, bool(messages))
            ch = self._chars[i]
            tip = f"index {i}: {ch!r}" + (f" (U+{ord(ch):04X})" if len(ch) == 1 else "")
            if messages:
                tip += "\n" + "\n".join(messages)
            item.setToolTip(tip)

    def _update_controls(self) -> None:
        explicit = not self._derived
        editable = explicit and not self._read_only
        self.explicit_button.setVisible(self._derived)
        self.derive_button.setVisible(explicit)
        self.explicit_button.setEnabled(not self._read_only)
        self.derive_button.setEnabled(not self._read_only)
        self._edit_row.setVisible(explicit)
        row = self.chips.currentRow()
        has_sel = 0 <= row < len(self._chars)
        self.add_edit.setEnabled(editable)
        self.add_button.setEnabled(editable)
        self.remove_button.setEnabled(editable and has_sel)
        self.left_button.setEnabled(editable and has_sel and row > 0)
        self.right_button.setEnabled(editable and has_sel and row < len(self._chars) - 1)

    def _on_chips_current_changed(self, row: int) -> None:
        self._update_controls()
        self.entry_selected.emit(row)

    def _on_add_clicked(self) -> None:
        text = self.add_edit.text()
        if not text or self._derived or self._read_only:
            return
        # Up to as many entries as a file may open with (a few over MAX_VOCAB show as a problem to cut
        # down); a pasted page would take the window many seconds to draw. The text stays in the field.
        if len(self._chars) + len(text) > MAX_OPEN_VOCAB:
            self.problem_label.setText(
                f"• Adding {len(text):,} characters would make {len(self._chars) + len(text):,} entries: "
                f"a vocabulary holds at most {MAX_VOCAB}. Nothing was added."
            )
            self.problem_label.setVisible(True)
            return
        # setText, not clear(): the typing now lives in the vocabulary, whose Add is undoable, and
        # an empty field history lets Ctrl+Z in the field undo that Add rather than bring the text back.
        self.add_edit.setText("")
        self.chars_add_requested.emit(text)

    def _on_remove_clicked(self) -> None:
        row = self.chips.currentRow()
        if 0 <= row < len(self._chars) and not self._derived and not self._read_only:
            self.entry_remove_requested.emit(row)

    def _on_move_clicked(self, step: int) -> None:
        row = self.chips.currentRow()
        to = row + step
        if 0 <= row < len(self._chars) and 0 <= to < len(self._chars) and not self._derived and not self._read_only:
            self.entry_move_requested.emit(row, to)
