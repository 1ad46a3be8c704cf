"""The task editor: input/target pairs, the selected pair's fields, the vocabulary and the encoding preview."""

from __future__ import annotations

import html
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QFontMetrics,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPixmap,
    QShortcut,
    QUndoCommand,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollArea,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from rnnstudio.core.config import ModelConfig

# Problems and unknown characters are listed up to MAX_LISTED, then "… and N more": a string of
# hundreds of unknown characters must not make the editor, and so the window, hundreds of lines tall.
from rnnstudio.core.problems import MAX_LISTED, Problem, listed, plural
from rnnstudio.core.sequences import Pair, Task
from rnnstudio.core.vocab import Vocabulary

from . import style
from .encoding_preview import EncodingPreview
from .steady import relayout_later
from .vocab_strip import GREY, RED, VocabStrip, WrapLabel, display_char, monospace_font

#: Lines of the encoding preview shown before it scrolls (the default preset's takes 7, two pairs 10).
PREVIEW_LINES = 12
_FIELDS = ("input", "target")
_OOV_BG = style.WRONG_FILL
_OOV_FG = "#82071e"
_TEXT = style.TEXT
#: Any constant shared by text-edit commands: QUndoStack only tries to merge commands with equal ids.
_TEXT_EDIT_ID = 0x7E57

_OOV_ROLE = Qt.ItemDataRole.UserRole + 1
#: Characters of a string shown highlighted in the out-of-vocabulary note (a window around the first unknown one).
OOV_WINDOW = 40


def _utf16_len(text: str) -> int:
    # Qt counts cursor positions in UTF-16 units: an emoji outside the BMP is two of them.
    return len(text.encode("utf-16-le")) // 2


def _diff_cursors(before: str, after: str) -> tuple[int, int]:
    """Where the cursor belongs after an undo (in ``before``) and a redo (in ``after``): the edited spot's end."""
    p = 0
    while p < len(before) and p < len(after) and before[p] == after[p]:
        p += 1
    s = 0
    while s < len(before) - p and s < len(after) - p and before[-1 - s] == after[-1 - s]:
        s += 1
    return _utf16_len(before[: len(before) - s]), _utf16_len(after[: len(after) - s])


def _fair_share(sizes: Sequence[int], budget: int) -> list[int]:
    """How many of each group to list within ``budget``, taking one from each group in turn."""
    take = [0] * len(sizes)
    while budget > 0 and any(t < n for t, n in zip(take, sizes, strict=True)):
        for k, n in enumerate(sizes):
            if budget > 0 and take[k] < n:
                take[k] += 1
                budget -= 1
    return take


def _oov_positions(text: str, vocab: Vocabulary | None) -> set[int]:
    """Positions of characters outside an explicit vocabulary (none for a derived one)."""
    if vocab is None:
        return set()
    return {i for i, c in enumerate(text) if c not in vocab}


@dataclass(frozen=True)
class _State:
    """What an undo step restores: the task, the selected pair, and where the user was working."""

    task: Task
    pair: int
    chip: int | None = None  # selected vocabulary entry; None leaves the chips' selection alone
    cursor: tuple[str, int] | None = None  # (field, UTF-16 position) of the affected line edit


class _EditCommand(QUndoCommand):
    """One undoable change to the task; typing in one field of one pair merges into a single command."""

    def __init__(self, editor: TaskEditor, text: str, before: _State, after: _State, merge_field: str = "") -> None:
        super().__init__(text)
        # The stack may belong to the main window and outlive the editor.
        self._editor = weakref.ref(editor)
        self._before = before
        self._after = after
        self._merge_field = merge_field
        self._session = editor._edit_session
        self._pushed = False

    def id(self) -> int:
        return _TEXT_EDIT_ID if self._merge_field else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _EditCommand):
            return False
        if (other._merge_field, other._session, other._before.pair) != (
            self._merge_field,
            self._session,
            self._before.pair,
        ):
            return False
        field = self._merge_field
        old = getattr(self._before.task.pairs[self._before.pair], field)
        new = getattr(other._after.task.pairs[other._after.pair], field)
        at_undo, at_redo = _diff_cursors(old, new)
        self._before = replace(self._before, cursor=(field, at_undo))
        self._after = replace(other._after, cursor=(field, at_redo))
        # Typing and then deleting back to the start leaves nothing to undo.
        self.setObsolete(self._after.task == self._before.task)
        return True

    def redo(self) -> None:
        editor = self._editor()
        if editor is None:
            return
        initial = not self._pushed
        if not initial:
            editor._seal_merging()
        self._pushed = True
        editor._apply(self._after, initial=initial)

    def undo(self) -> None:
        editor = self._editor()
        if editor is None:
            return
        editor._seal_merging()
        editor._apply(self._before, initial=False)


def _problem_icon() -> QIcon:
    """A small red disc with a white '!', drawn here so it looks the same on every platform."""
    pm = QPixmap(12, 12)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(RED))
    p.drawEllipse(0, 0, 12, 12)
    p.setPen(QColor("white"))
    f = p.font()
    f.setBold(True)
    f.setPixelSize(10)
    p.setFont(f)
    p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, "!")
    p.end()
    return QIcon(pm)


class _PairsModel(QAbstractTableModel):
    """The pairs as rows "#", "Input", "Target", with each row's problems for colour and tooltips."""

    HEADERS = ("#", "Input", "Target")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pairs: tuple[Pair, ...] = ()
        self._vocab: Vocabulary | None = None
        self._messages: dict[tuple[int, str], list[str]] = {}
        self._row_messages: dict[int, list[str]] = {}
        self._icon: QIcon | None = None

    def set_task(self, task: Task) -> None:
        """Show these pairs; an explicit vocabulary turns on the out-of-vocabulary highlight."""
        vocab = task.vocabulary() if task.vocab is not None else None
        if len(task.pairs) != len(self._pairs):
            self.beginResetModel()
            self._pairs, self._vocab = task.pairs, vocab
            self.endResetModel()
        else:
            self._pairs, self._vocab = task.pairs, vocab
            if self._pairs:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._pairs) - 1, 2))

    def set_problems(self, problems: Sequence[Problem]) -> None:
        """Remember which rows and cells have problems."""
        self._messages, self._row_messages = {}, {}
        for p in problems:
            if p.pair is None:
                continue
            self._row_messages.setdefault(p.pair, []).append(str(p))
            if p.field in _FIELDS:
                self._messages.setdefault((p.pair, p.field), []).append(str(p))
        if self._pairs:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._pairs) - 1, 2))

    def row_has_problem(self, row: int) -> bool:
        """Whether any problem points at pair ``row``."""
        return row in self._row_messages

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._pairs)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 3

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        # Cells are edited through the fields below the table, so every change is one undo command.
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._pairs):
            return None
        row, col = index.row(), index.column()
        pair = self._pairs[row]
        field = _FIELDS[col - 1] if col else ""
        if role == Qt.ItemDataRole.DisplayRole:
            return str(row + 1) if col == 0 else getattr(pair, field)
        if role == _OOV_ROLE and col:
            return _oov_positions(getattr(pair, field), self._vocab)
        if role == Qt.ItemDataRole.ToolTipRole:
            msgs = self._row_messages.get(row, []) if col == 0 else self._messages.get((row, field), [])
            if col:
                text = getattr(pair, field)
                head = f"{field}: {text!r} ({plural(len(text), 'character')})"
                return "\n".join([head, *msgs])
            return "\n".join(msgs) if msgs else None
        if role == Qt.ItemDataRole.ForegroundRole:
            bad = row in self._row_messages if col == 0 else (row, field) in self._messages
            return QColor(RED) if bad else None
        if role == Qt.ItemDataRole.DecorationRole and col == 0 and row in self._row_messages:
            if self._icon is None:
                self._icon = _problem_icon()
            return self._icon
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class _StringDelegate(QStyledItemDelegate):
    """Draws a string character by character: spaces as a grey '␣', characters outside the vocabulary on red."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._font = monospace_font()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        oov = index.data(_OOV_ROLE) or set()
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        fg = index.data(Qt.ItemDataRole.ForegroundRole)
        colour = opt.palette.highlightedText().color() if selected else (fg or QColor(_TEXT))
        rect = opt.rect.adjusted(4, 0, -4, 0)
        fm = QFontMetrics(self._font)
        painter.save()
        painter.setFont(self._font)
        if not text:
            painter.setPen(QColor(GREY if not selected else colour))
            painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, "(empty)")
            painter.restore()
            return
        ellipsis_w = fm.horizontalAdvance("…")
        x = rect.left()
        for i, ch in enumerate(text):
            # Invisible characters get a visible stand-in: a space, a tab or a zero-width space is data too.
            hidden = ch == " " or not ch.isprintable()
            shown = display_char(ch)
            w = fm.horizontalAdvance(shown)
            if x + w > rect.right() - (ellipsis_w if i < len(text) - 1 else 0):
                painter.setPen(colour)
                painter.drawText(x, rect.top(), ellipsis_w, rect.height(), Qt.AlignmentFlag.AlignVCenter, "…")
                break
            if i in oov:
                painter.fillRect(x, rect.top() + 2, w, rect.height() - 4, QColor(_OOV_BG))
                painter.setPen(QColor(_OOV_FG))
            elif hidden:
                painter.setPen(QColor("#8c959f") if not selected else colour)
            else:
                painter.setPen(colour)
            painter.drawText(x, rect.top(), w, rect.height(), Qt.AlignmentFlag.AlignVCenter, shown)
            x += w
        painter.restore()


class _PreviewScroll(QScrollArea):
    """Holds the encoding preview at its whole height up to PREVIEW_LINES lines, then scrolls.

    A 95-character vocabulary and 30-step pairs made the preview 18 lines tall, and the pairs table
    above it, the column's one stretching part, was left 4 rows at 1280 x 800.
    """

    def __init__(self, preview: QWidget) -> None:
        super().__init__()
        self.setWidget(preview)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # its lines wrap
        preview.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # other text: another height to ask for
            self.updateGeometry()
        return False

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():  # the lines wrap anew: another height to ask for
            relayout_later(self)

    def _line(self) -> int:
        return self.fontMetrics().lineSpacing()

    def sizeHint(self) -> QSize:
        preview = self.widget()
        width = self.viewport().width() if self.isVisible() else preview.sizeHint().width()
        height = preview.heightForWidth(width) if preview.hasHeightForWidth() else -1
        if height < 0:
            height = preview.sizeHint().height()
        return QSize(preview.sizeHint().width(), min(height, PREVIEW_LINES * self._line()))

    def minimumSizeHint(self) -> QSize:
        return QSize(0, min(self.sizeHint().height(), 3 * self._line()))


class TaskEditor(QWidget):
    """Edits the task: its pairs, the selected pair's input and target, and the vocabulary; every edit is undoable.

    The editor shows problems its owner passes to ``set_problems`` at their fields
    and never changes what the user typed.
    """

    task_changed = Signal(object)
    selection_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None, undo_stack: QUndoStack | None = None) -> None:
        super().__init__(parent)
        self._stack = undo_stack if undo_stack is not None else QUndoStack(self)
        self._task = Task(())
        self._selected = -1
        self._problems: tuple[Problem, ...] = ()
        self._read_only = False
        self._syncing = False
        # Bumped whenever typing must start a new undo step (other pair, undo, redo, new task).
        self._edit_session = 0

        self._read_only_note = QLabel("Read-only while training: stop the run to edit the task.")
        self._read_only_note.setObjectName("readOnlyNote")
        self._read_only_note.setWordWrap(True)
        self._read_only_note.setStyleSheet(
            f"QLabel {{ background: #fff8c5; color: {GREY}; border: 1px solid #d4a72c;"
            " border-radius: 3px; padding: 2px 4px; font-style: italic; }"
        )
        self._read_only_note.hide()

        root = QVBoxLayout(self)
        root.setContentsMargins(4, 4, 4, 4)
        root.setSpacing(6)
        root.addWidget(self._read_only_note)
        root.addWidget(self._build_pairs_box(), 1)
        root.addWidget(self._build_pair_box())
        root.addWidget(self._build_vocab_box())
        root.addWidget(self._build_encoding_box())

        self.setStyleSheet(
            f'QLineEdit[problem="true"] {{ border: 2px solid {RED}; border-radius: 3px; padding: 0px 2px; }}'
            f'QLineEdit[readOnly="true"] {{ background: #eaeef2; color: {GREY}; }}'
            "QGroupBox { font-weight: bold; }"
        )
        # One undo history: Ctrl+Z anywhere in the editor (line edits included) goes to the QUndoStack.
        for w in (self, *self.findChildren(QWidget)):
            w.installEventFilter(self)
        self._apply(_State(self._task, -1), initial=True, emit=False)

    # ----- building ---------------------------------------------------------------------------

    def _build_pairs_box(self) -> QGroupBox:
        box = QGroupBox("Pairs")
        self._model = _PairsModel(self)
        self.table = QTableView()
        self.table.setObjectName("pairsTable")
        # Tab leaves the table (the arrows walk it); Tab moving the current cell changed the pair silently.
        self.table.setTabKeyNavigation(False)
        self.table.setModel(self._model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setMinimumHeight(80)
        delegate = _StringDelegate(self.table)
        self.table.setItemDelegateForColumn(1, delegate)
        self.table.setItemDelegateForColumn(2, delegate)
        row_h = max(QFontMetrics(monospace_font()).height(), self.fontMetrics().height()) + 6
        self.table.verticalHeader().setDefaultSectionSize(row_h)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_changed)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.table.setToolTip(
            "Double-click, Return, F2 or Space: edit the selected pair's strings below · Delete: remove the pair"
        )

        self.add_action = QAction("Add", self)
        self.add_action.setShortcuts([QKeySequence("Ctrl+Shift+A"), QKeySequence(Qt.Key.Key_Insert)])
        self.add_action.setToolTip("Add an empty pair at the end (Ctrl+Shift+A / Insert)")
        self.remove_action = QAction("Remove", self)
        self.remove_action.setToolTip("Remove the selected pair (Delete in the table)")
        self.duplicate_action = QAction("Duplicate", self)
        self.duplicate_action.setShortcut(QKeySequence("Ctrl+D"))
        self.duplicate_action.setToolTip("Insert a copy of the selected pair below it (Ctrl+D)")
        for action in (self.add_action, self.duplicate_action):
            # Only while the focus is inside the editor, so the app's own shortcuts stay free.
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        self.add_action.triggered.connect(self._on_add_triggered)
        self.remove_action.triggered.connect(self._on_remove_triggered)
        self.duplicate_action.triggered.connect(self._on_duplicate_triggered)
        # Delete removes a pair only from the table: in a line edit it must delete a character.
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.remove_action.trigger)
        # The keyboard route from the table to the selected pair's strings, as a double-click.
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2, Qt.Key.Key_Space):
            edit_key = QShortcut(QKeySequence(key), self.table)
            edit_key.setContext(Qt.ShortcutContext.WidgetShortcut)
            edit_key.activated.connect(self._on_table_edit_key)
            if key == Qt.Key.Key_Space:
                edit_key.activated.connect(self._on_table_space)
        # Space held down: its repeats reach the field it opened, where they would type over the
        # selected string; they are dropped until Space is let go (see eventFilter).
        self._space_held_from_table = False

        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.add_button = self._tool_button(self.add_action, "addPairButton")
        self.remove_button = self._tool_button(self.remove_action, "removePairButton")
        self.duplicate_button = self._tool_button(self.duplicate_action, "duplicatePairButton")
        for b in (self.add_button, self.remove_button, self.duplicate_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self._count_label = QLabel()
        self._count_label.setStyleSheet(f"color: {GREY};")
        buttons.addWidget(self._count_label)

        layout = QVBoxLayout(box)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        return box

    @staticmethod
    def _tool_button(action: QAction, name: str) -> QToolButton:
        button = QToolButton()
        button.setObjectName(name)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

    def _build_pair_box(self) -> QGroupBox:
        box = QGroupBox("Selected pair")
        grid = QGridLayout(box)
        grid.setContentsMargins(6, 4, 6, 6)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(3)
        self.input_edit = QLineEdit()
        self.input_edit.setObjectName("inputEdit")
        self.target_edit = QLineEdit()
        self.target_edit.setObjectName("targetEdit")
        self._edits = {"input": self.input_edit, "target": self.target_edit}
        self._length_labels: dict[str, QLabel] = {}
        tips = {
            "input": "What the model reads, one character per time step (seqLen = its length)",
            "target": "What the model should emit: one character for each input character",
        }
        for row, (field, edit) in enumerate(self._edits.items()):
            # No truncation: the core reports strings that are too long, the field keeps them whole.
            edit.setMaxLength(2**31 - 1)
            edit.setFont(monospace_font(1))
            edit.setToolTip(tips[field])
            edit.setProperty("problem", False)
            edit.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            edit.customContextMenuRequested.connect(lambda pos, e=edit: self._on_edit_context_menu(e, pos))
            edit.textEdited.connect(lambda text, f=field: self._on_field_edited(f, text))
            label = QLabel(field.capitalize())
            label.setBuddy(edit)
            length = QLabel()
            length.setObjectName(f"{field}LengthLabel")
            length.setStyleSheet(f"color: {GREY};")
            length.setMinimumWidth(length.fontMetrics().horizontalAdvance("9999") + 2)
            length.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self._length_labels[field] = length
            grid.addWidget(label, row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(length, row, 2)
        self.input_edit.returnPressed.connect(self.target_edit.setFocus)

        self.problem_label = WrapLabel()
        self.problem_label.setObjectName("pairProblemLabel")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextFormat(Qt.TextFormat.PlainText)
        self.problem_label.setStyleSheet(f"color: {RED};")
        self.problem_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.oov_label = WrapLabel()
        self.oov_label.setObjectName("oovLabel")
        self.oov_label.setWordWrap(True)
        self.oov_label.setTextFormat(Qt.TextFormat.RichText)
        self.oov_label.setToolTip("Characters on red are not in the explicit vocabulary")
        grid.addWidget(self.problem_label, 2, 0, 1, 3)
        grid.addWidget(self.oov_label, 3, 0, 1, 3)
        grid.setColumnStretch(1, 1)
        return box

    def _build_vocab_box(self) -> QGroupBox:
        box = QGroupBox("Vocabulary")
        self.vocab_strip = VocabStrip()
        self.vocab_strip.explicit_requested.connect(self._on_vocab_explicit_requested)
        self.vocab_strip.derive_requested.connect(self._on_vocab_derive_requested)
        self.vocab_strip.chars_add_requested.connect(self._on_vocab_chars_add_requested)
        self.vocab_strip.entry_remove_requested.connect(self._on_vocab_entry_remove_requested)
        self.vocab_strip.entry_move_requested.connect(self._on_vocab_entry_move_requested)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addWidget(self.vocab_strip)
        return box

    def _build_encoding_box(self) -> QGroupBox:
        box = QGroupBox("Encoding")
        self.encoding_preview = EncodingPreview()
        self.encoding_scroll = _PreviewScroll(self.encoding_preview)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addWidget(self.encoding_scroll)
        return box

    # ----- public API -------------------------------------------------------------------------

    def undo_stack(self) -> QUndoStack:
        """The stack every edit of this editor goes through."""
        return self._stack

    def set_task(self, task: Task, keep_history: bool = False) -> None:
        """Replace everything (New / Open / preset): select pair 0 and clear the undo history.

        ``keep_history``: leave the undo history as it is, for an owner that clears it with
        clear_history() once the new task is shown for good, or puts the old task back.
        """
        self._seal_merging()
        if not keep_history:
            self._stack.clear()
        self._apply(_State(task, 0 if task.pairs else -1, chip=-1), initial=False, emit=False)

    def end_typing_step(self) -> None:
        """The next typing starts an undo step of its own (a run trained on the strings as they are)."""
        self._seal_merging()

    def clear_history(self) -> None:
        """Forget every undo step."""
        self._seal_merging()
        self._stack.clear()

    def task(self) -> Task:
        """The task as the user has edited it."""
        return self._task

    def selected_pair(self) -> int:
        """Index of the selected pair, -1 for none."""
        return self._selected

    def select_pair(self, i: int) -> None:
        """Select pair ``i`` (-1 for none)."""
        if not -1 <= i < len(self._task.pairs):
            raise IndexError(f"pair {i} does not exist (the task has {len(self._task.pairs)})")
        self._set_selected(i)

    def set_problems(self, problems: Sequence[Problem]) -> None:
        """Show the task's problems at their fields, rows and vocabulary entries."""
        self._problems = tuple(problems)
        self._model.set_problems(self._problems)
        self.vocab_strip.set_problems(self._problems)
        self._show_pair_problems()

    def set_model_config(self, cfg: ModelConfig) -> None:
        """Use this model configuration for the encoding preview's tensor shape."""
        self.encoding_preview.set_model_config(cfg)

    def set_read_only(self, ro: bool) -> None:
        """Make every edit control read-only (greyed, with a note) while training runs.

        Undo/redo keys inside the editor are ignored too; the owner disables its own
        Edit > Undo/Redo actions, since the stack may be shared.
        """
        self._read_only = ro
        self._read_only_note.setVisible(ro)
        for edit in self._edits.values():
            edit.setReadOnly(ro)
            self._repolish(edit)
        self.vocab_strip.set_read_only(ro)
        self._update_actions()

    def is_read_only(self) -> bool:
        """Whether editing is switched off."""
        return self._read_only

    # ----- applying a state -------------------------------------------------------------------

    def _seal_merging(self) -> None:
        self._edit_session += 1

    def _current_state(self, cursor: tuple[str, int] | None = None) -> _State:
        return _State(self._task, self._selected, self.vocab_strip.selected_entry(), cursor)

    def _push(self, text: str, after: _State, merge_field: str = "", before: _State | None = None) -> None:
        self._stack.push(_EditCommand(self, text, before or self._current_state(), after, merge_field))

    def _apply(self, state: _State, *, initial: bool, emit: bool = True) -> None:
        """Show ``state``; ``initial`` is the first run of a command the user just made (keep their cursor)."""
        self._task = state.task
        self._syncing = True
        try:
            self._model.set_task(state.task)
        finally:
            self._syncing = False
        vocab = state.task.vocabulary()
        self.vocab_strip.set_vocab(vocab.chars, state.task.vocab is None, state.chip)
        self._count_label.setText(f"{len(state.task.pairs)} pair{'s' if len(state.task.pairs) != 1 else ''}")
        self._set_selected(state.pair, force=True)
        if state.cursor is not None and 0 <= state.pair < len(state.task.pairs):
            field, pos = state.cursor
            edit = self._edits[field]
            if not initial:
                edit.setCursorPosition(pos)
            # Follow the edit into its field, but never pull focus from outside the fields.
            if initial or self.input_edit.hasFocus() or self.target_edit.hasFocus():
                edit.setFocus()
        if emit:
            self.task_changed.emit(state.task)

    def _set_selected(self, i: int, *, force: bool = False, from_view: bool = False) -> None:
        changed = i != self._selected
        if not changed and not force:
            return
        self._selected = i
        if changed:
            self._seal_merging()
        if not from_view:
            self._syncing = True
            try:
                if 0 <= i < len(self._task.pairs):
                    self.table.selectRow(i)
                    self.table.scrollTo(self._model.index(i, 1))
                else:
                    self.table.clearSelection()
                    self.table.setCurrentIndex(QModelIndex())
            finally:
                self._syncing = False
        self._load_fields()
        if changed:
            self.selection_changed.emit(i)

    def _load_fields(self) -> None:
        pair = self._task.pairs[self._selected] if 0 <= self._selected < len(self._task.pairs) else None
        for field, edit in self._edits.items():
            text = getattr(pair, field) if pair is not None else ""
            # Leave an identical text alone so the user's cursor and selection survive each keystroke.
            if edit.text() != text:
                edit.setText(text)
            edit.setEnabled(pair is not None)
            edit.setPlaceholderText("" if pair is not None else "add a pair first")
            self._length_labels[field].setText(str(len(text)) if pair is not None else "")
            self._length_labels[field].setToolTip(plural(len(text), "character") if pair is not None else "")
        self._show_oov(pair)
        self._show_pair_problems()
        self.encoding_preview.set_data(self._task, self._selected)
        self._update_actions()

    def _update_actions(self) -> None:
        has_pair = 0 <= self._selected < len(self._task.pairs)
        self.add_action.setEnabled(not self._read_only)
        self.remove_action.setEnabled(not self._read_only and has_pair)
        self.duplicate_action.setEnabled(not self._read_only and has_pair)

    def _show_oov(self, pair: Pair | None) -> None:
        vocab = self._task.vocabulary() if self._task.vocab is not None else None
        parts = []
        if pair is not None and vocab is not None:
            for field in _FIELDS:
                text = getattr(pair, field)
                bad = _oov_positions(text, vocab)
                if not bad:
                    continue
                # A window of the string from just before its first unknown character: the field above holds it all.
                start = max(0, min(min(bad) - 8, len(text) - OOV_WINDOW))
                end = min(len(text), start + OOV_WINDOW)
                cells = ["…"] if start > 0 else []
                for i in range(start, end):
                    shown = html.escape(display_char(text[i]))
                    if i in bad:
                        shown = f"<span style='background:{_OOV_BG}; color:{_OOV_FG}; font-weight:bold'>{shown}</span>"
                    cells.append(shown)
                if end < len(text):
                    cells.append("…")
                names = ", ".join(listed([f"{html.escape(display_char(text[i]))} at {i + 1}" for i in sorted(bad)]))
                mono = html.escape(monospace_font().family())
                parts.append(
                    f"{field}: <span style='font-family:\"{mono}\"'>{''.join(cells)}</span>"
                    f" <span style='color:{GREY}'>(not in the vocabulary: {names})</span>"
                )
        self.oov_label.setText("<br>".join(parts))
        self.oov_label.setVisible(bool(parts))

    def _show_pair_problems(self) -> None:
        i = self._selected
        groups: list[tuple[str, list[str]]] = []
        for field, edit in self._edits.items():
            mine = [str(p) for p in self._problems if p.field == field and p.pair == i and i >= 0]
            edit.setProperty("problem", bool(mine))
            self._repolish(edit)
            edit.setToolTip("\n".join(listed(mine)))
            groups.append((f"the {field}", mine))
        groups.append(("the task", [str(p) for p in self._problems if p.field in ("pairs", "vocab")]))
        # At most MAX_LISTED lines, shared among the fields so that each one's problems show.
        take = _fair_share([len(found) for _, found in groups], MAX_LISTED)
        lines = [f"• {p}" for (_, found), n in zip(groups, take, strict=True) for p in found[:n]]
        rest = [
            (f"{len(found) - n} in {where}") for (where, found), n in zip(groups, take, strict=True) if len(found) > n
        ]
        if rest:
            more = sum(len(found) - n for (_, found), n in zip(groups, take, strict=True))
            lines.append(f"• … and {more} more ({', '.join(rest)})" if len(rest) > 1 else f"• … and {more} more")
        others = sorted({p.pair for p in self._problems if p.pair is not None and p.pair != i})
        if others:
            numbers = ", ".join(str(n + 1) for n in others[:8]) + (", …" if len(others) > 8 else "")
            lines.append(f"Also problems in pair{'s' if len(others) > 1 else ''} {numbers} (marked in the table)")
        self.problem_label.setText("\n".join(lines))
        self.problem_label.setVisible(bool(lines))

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        # Property selectors in a style sheet are only re-evaluated on a re-polish.
        widget.style().unpolish(widget)
        widget.style().polish(widget)
        widget.update()

    # ----- user actions -----------------------------------------------------------------------

    def _on_field_edited(self, field: str, text: str) -> None:
        i = self._selected
        if self._read_only or not 0 <= i < len(self._task.pairs):
            return
        pairs = list(self._task.pairs)
        old = getattr(pairs[i], field)
        if old == text:
            return
        pairs[i] = replace(pairs[i], **{field: text})
        at_undo, at_redo = _diff_cursors(old, text)
        before = _State(self._task, i, cursor=(field, at_undo))
        after = _State(replace(self._task, pairs=tuple(pairs)), i, cursor=(field, at_redo))
        self._push(f"Edit {field} of pair {i + 1}", after, merge_field=field, before=before)

    def _on_add_triggered(self) -> None:
        if self._read_only:
            return
        pairs = (*self._task.pairs, Pair("", ""))
        after = _State(replace(self._task, pairs=pairs), len(pairs) - 1, cursor=("input", 0))
        self._push("Add pair", after)

    def _on_remove_triggered(self) -> None:
        i = self._selected
        if self._read_only or not 0 <= i < len(self._task.pairs):
            return
        pairs = self._task.pairs[:i] + self._task.pairs[i + 1 :]
        after = _State(replace(self._task, pairs=pairs), min(i, len(pairs) - 1))
        self._push(f"Remove pair {i + 1}", after)

    def _on_duplicate_triggered(self) -> None:
        i = self._selected
        if self._read_only or not 0 <= i < len(self._task.pairs):
            return
        pairs = (*self._task.pairs[: i + 1], self._task.pairs[i], *self._task.pairs[i + 1 :])
        self._push(f"Duplicate pair {i + 1}", _State(replace(self._task, pairs=pairs), i + 1))

    def _push_vocab(self, text: str, vocab: tuple[str, ...] | None, chip: int) -> None:
        if self._read_only:
            return
        self._push(text, _State(replace(self._task, vocab=vocab), self._selected, chip))

    def _on_vocab_explicit_requested(self) -> None:
        if self._task.vocab is None:
            self._push_vocab("Make the vocabulary explicit", self._task.vocabulary().chars, -1)

    def _on_vocab_derive_requested(self) -> None:
        if self._task.vocab is not None:
            self._push_vocab("Derive the vocabulary from the strings", None, -1)

    def _on_vocab_chars_add_requested(self, text: str) -> None:
        vocab = self._task.vocab
        if vocab is not None and text:
            # Each code point becomes an entry, duplicates included: the core reports them.
            self._push_vocab(f"Add {text!r} to the vocabulary", (*vocab, *text), len(vocab) + len(text) - 1)

    def _on_vocab_entry_remove_requested(self, i: int) -> None:
        vocab = self._task.vocab
        if vocab is not None and 0 <= i < len(vocab):
            new = vocab[:i] + vocab[i + 1 :]
            self._push_vocab(f"Remove {vocab[i]!r} from the vocabulary", new, min(i, len(new) - 1))

    def _on_vocab_entry_move_requested(self, i: int, j: int) -> None:
        vocab = self._task.vocab
        if vocab is not None and 0 <= i < len(vocab) and 0 <= j < len(vocab) and i != j:
            new = list(vocab)
            new.insert(j, new.pop(i))
            self._push_vocab(f"Move {vocab[i]!r} to index {j}", tuple(new), j)

    def _on_table_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._syncing:
            return
        row = current.row() if current.isValid() else -1
        if row >= 0:
            self._set_selected(row, from_view=True)

    def _on_table_selection_changed(self, *_args: object) -> None:
        # A click on empty space clears the view's selection; the selected pair stays put.
        if self._syncing or self.table.selectionModel().hasSelection():
            return
        if 0 <= self._selected < len(self._task.pairs):
            self._syncing = True
            try:
                self.table.selectRow(self._selected)
            finally:
                self._syncing = False

    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        edit = self.target_edit if index.column() == 2 else self.input_edit
        edit.setFocus()
        edit.selectAll()

    def _on_table_space(self) -> None:
        self._space_held_from_table = self.selected_pair() >= 0

    def _on_table_edit_key(self) -> None:
        if self.selected_pair() >= 0:
            self._on_table_double_clicked(self.table.currentIndex())

    def _on_edit_context_menu(self, edit: QLineEdit, pos: QPoint) -> None:
        menu = self._edit_menu(edit)
        menu.exec(edit.mapToGlobal(pos))
        menu.deleteLater()

    def _edit_menu(self, edit: QLineEdit) -> QMenu:
        """The line edit's standard menu, its Undo/Redo pointed at the stack (one history, not two)."""
        menu = edit.createStandardContextMenu()
        for action in menu.actions():
            name = action.objectName()
            if name in ("edit-undo", "edit-redo"):
                action.triggered.disconnect()
                undo = name == "edit-undo"
                action.setEnabled(not self._read_only and (self._stack.canUndo() if undo else self._stack.canRedo()))
                action.triggered.connect(self._stack.undo if undo else self._stack.redo)
        return menu

    def _typing_to_undo(self, watched: QObject, redo: bool) -> bool:
        """Whether ``watched`` is a line edit with typing of its own to undo (or redo) first.

        The pair fields' typing is on the stack; another field (the characters to add to the
        vocabulary) keeps its own history, which Ctrl+Z works through before going on to the stack.
        """
        if not isinstance(watched, QLineEdit) or watched in self._edits.values() or watched.isReadOnly():
            return False
        return watched.isRedoAvailable() if redo else watched.isUndoAvailable()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Send Undo/Redo keys pressed anywhere in the editor to the QUndoStack (one history).

        A line edit with a history of its own undoes its typing first (see _typing_to_undo).
        """
        kind = event.type()
        if self._space_held_from_table and isinstance(event, QKeyEvent) and watched in self._edits.values():
            if event.key() == Qt.Key.Key_Space and event.isAutoRepeat():
                return True  # a repeat of the Space that opened this field: not typing
            if kind == QEvent.Type.KeyPress or (kind == QEvent.Type.KeyRelease and event.key() == Qt.Key.Key_Space):
                self._space_held_from_table = False
        if kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and isinstance(event, QKeyEvent):
            undo = event.matches(QKeySequence.StandardKey.Undo)
            redo = event.matches(QKeySequence.StandardKey.Redo)
            if (undo or redo) and self._typing_to_undo(watched, redo):
                return super().eventFilter(watched, event)  # the field claims the key and undoes its typing
            if undo or redo:
                if kind == QEvent.Type.ShortcutOverride:
                    # Claim the key so neither a window-wide shortcut nor QLineEdit's private undo runs.
                    event.accept()
                    return True
                if not self._read_only:
                    if redo:
                        self._stack.redo()
                    else:
                        if self._typing_to_undo(watched, redo=True):
                            # Past the field's typing into the stack: drop the field's redo, or Ctrl+Shift+Z
                            # would redo that typing instead of the step just undone (one linear history).
                            watched.setText(watched.text())
                        self._stack.undo()
                return True
        return super().eventFilter(watched, event)
