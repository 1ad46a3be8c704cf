"""The task editor driven as a user: typing, problems at their fields, pairs, undo/redo, vocabulary, preview."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QColor, QInputMethodEvent, QKeyEvent, QKeySequence, QTextDocument
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QMainWindow

from rnnstudio.core.config import ModelConfig
from rnnstudio.core.describe import tensor_path
from rnnstudio.core.sequences import Pair, Task
from rnnstudio.ui.encoding_preview import shape_line
from rnnstudio.ui.task_editor import TaskEditor

HELLO = Task.of([("hello", "ohlol")])
TWO = Task.of([("hello", "ohlol"), ("abc", "cba")])


@pytest.fixture
def editor(qtbot):
    w = TaskEditor()
    qtbot.addWidget(w)
    w.resize(420, 640)
    w.set_task(HELLO)
    return w


def shown(qtbot, w):
    """Show the editor as an active window so focus and shortcuts behave as for a user."""
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(lambda: w.isActiveWindow())
    return w


def focus(qtbot, widget):
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)


def type_text(widget, text: str) -> None:
    """Type any Unicode as a keyboard layout would (QTest.keyClicks only knows ASCII)."""
    for ch in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, ch))


def commit_text(widget, text: str) -> None:
    """Insert text the way an input method (CJK, emoji picker) commits it."""
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def red_pixels(widget, colour: str = "#cf222e", tolerance: int = 40) -> int:
    img = widget.grab().toImage()
    want = QColor(colour)
    count = 0
    for y in range(img.height()):
        for x in range(img.width()):
            c = img.pixelColor(x, y)
            if (
                abs(c.red() - want.red()) < tolerance
                and abs(c.green() - want.green()) < tolerance
                and abs(c.blue() - want.blue()) < tolerance
            ):
                count += 1
    return count


def plain(label: QLabel) -> str:
    """What a rich-text label reads as on screen."""
    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText().replace("\xa0", " ")


def select_row(qtbot, w, row: int) -> None:
    rect = w.table.visualRect(w.table.model().index(row, 1))
    qtbot.mouseClick(w.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


# ----- typing ---------------------------------------------------------------------------------


def test_fields_have_names_and_labels(editor):
    assert editor.findChild(QLineEdit, "inputEdit") is editor.input_edit
    assert editor.findChild(QLineEdit, "targetEdit") is editor.target_edit
    labels = {lab.text() for lab in editor.findChildren(QLabel)}
    assert {"Input", "Target"} <= labels
    assert editor.input_edit.text() == "hello"
    assert editor.target_edit.text() == "ohlol"


def test_typing_in_input_changes_task_and_emits(qtbot, editor):
    seen = []
    editor.task_changed.connect(seen.append)
    editor.input_edit.setCursorPosition(5)
    qtbot.keyClicks(editor.input_edit, "!")
    assert editor.task().pairs[0] == Pair("hello!", "ohlol")
    assert seen and seen[-1] == editor.task()
    editor.target_edit.setCursorPosition(0)
    qtbot.keyClicks(editor.target_edit, "x")
    assert editor.task().pairs[0].target == "xohlol"
    assert seen[-1] == editor.task()


def test_set_task_does_not_emit_and_clears_history(qtbot, editor):
    qtbot.keyClicks(editor.input_edit, "z")
    assert editor.undo_stack().count() == 1
    with qtbot.assertNotEmitted(editor.task_changed):
        editor.set_task(TWO)
    assert editor.task() == TWO
    assert editor.undo_stack().count() == 0
    assert editor.selected_pair() == 0
    assert editor.input_edit.text() == "hello"


@pytest.mark.parametrize(
    "text",
    ["hello  ", "  lead", "日本語", "a😀b", "é\u0301", "\u200bzw"],
)
def test_text_stays_exactly_as_typed(qtbot, editor, text):
    editor.input_edit.clear()
    editor.input_edit.setText("")
    editor.set_task(Task.of([("", "")]))
    type_text(editor.input_edit, text)
    assert editor.task().pairs[0].input == text
    # Problems come back from the owner: they must not make the field touch the text.
    editor.set_problems(editor.task().problems())
    assert editor.input_edit.text() == text
    assert editor.task().pairs[0].input == text


def test_loaded_control_characters_survive_editing(qtbot, editor):
    # A tab cannot be typed into a line edit, but a project file can hold one: editing
    # the other field, or this one elsewhere, must keep it.
    editor.set_task(Task.of([("a\tb ", "x\ny")]))
    editor.input_edit.setCursorPosition(0)
    qtbot.keyClicks(editor.input_edit, "z")
    qtbot.keyClicks(editor.target_edit, "w")
    assert editor.task().pairs[0] == Pair("za\tb ", "x\nyw")


def test_input_method_commit_emoji_and_cjk(qtbot, editor):
    editor.set_task(Task.of([("", "")]))
    commit_text(editor.target_edit, "😀日本 ")
    assert editor.task().pairs[0].target == "😀日本 "
    assert editor.target_edit.text() == "😀日本 "


def test_long_paste_is_not_truncated(qtbot, editor):
    shown(qtbot, editor)
    editor.set_task(Task.of([("", "")]))
    QApplication.clipboard().setText("ab" * 20000)
    focus(qtbot, editor.input_edit)
    qtbot.keyClick(editor.input_edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert editor.task().pairs[0].input == "ab" * 20000


# ----- problems at their fields ---------------------------------------------------------------


def test_length_mismatch_outlines_target_and_shows_message(qtbot, editor):
    editor.set_task(Task.of([("hello", "ohlol"), ("abc", "cb")]))
    editor.show()
    editor.select_pair(1)
    before = red_pixels(editor.target_edit)
    problems = editor.task().problems()
    assert [p.field for p in problems] == ["target"]
    editor.set_problems(problems)
    assert editor.target_edit.property("problem") is True
    assert editor.input_edit.property("problem") is False
    # The outline is really drawn in red, not just a property nobody styles.
    assert red_pixels(editor.target_edit) > before + 20
    assert red_pixels(editor.input_edit) < 5
    assert str(problems[0]) in editor.problem_label.text()
    assert editor.problem_label.isVisible()
    # The table marks the row, with the message as its tooltip.
    model = editor.table.model()
    assert str(problems[0]) in model.data(model.index(1, 0), Qt.ItemDataRole.ToolTipRole)
    assert model.data(model.index(1, 2), Qt.ItemDataRole.ForegroundRole) == QColor("#cf222e")
    assert model.data(model.index(0, 2), Qt.ItemDataRole.ForegroundRole) is None
    # On the other pair the fields are clean and the label points at the row.
    editor.select_pair(0)
    assert editor.target_edit.property("problem") is False
    assert "pair 2" in editor.problem_label.text()
    editor.set_problems([])
    editor.select_pair(1)
    assert editor.target_edit.property("problem") is False
    assert not editor.problem_label.isVisible()


def test_task_wide_problems_are_listed(qtbot, editor):
    editor.set_task(Task(()))
    editor.show()
    problems = editor.task().problems()
    editor.set_problems(problems)
    assert "there are no pairs" in editor.problem_label.text()
    assert "the vocabulary is empty" in editor.problem_label.text()
    assert "the vocabulary is empty" in editor.vocab_strip.problem_label.text()
    assert not editor.input_edit.isEnabled()


def test_typing_is_never_blocked_by_problems(qtbot, editor):
    editor.task_changed.connect(lambda t: editor.set_problems(t.problems()))
    editor.target_edit.setCursorPosition(5)
    qtbot.keyClicks(editor.target_edit, "xyz  ")
    assert editor.task().pairs[0].target == "ohlolxyz  "
    assert editor.target_edit.property("problem") is True
    assert editor.target_edit.text() == "ohlolxyz  "


# ----- pairs: add, remove, duplicate ----------------------------------------------------------


def test_add_remove_duplicate_with_buttons(qtbot, editor):
    seen = []
    editor.task_changed.connect(seen.append)
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    assert editor.task().pairs == (Pair("hello", "ohlol"), Pair("", ""))
    assert editor.selected_pair() == 1
    assert editor.input_edit.text() == ""
    qtbot.keyClicks(editor.input_edit, "ab")
    qtbot.keyClicks(editor.target_edit, "ba")
    qtbot.mouseClick(editor.duplicate_button, Qt.MouseButton.LeftButton)
    assert editor.task().pairs[1:] == (Pair("ab", "ba"), Pair("ab", "ba"))
    assert editor.selected_pair() == 2
    editor.select_pair(0)
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    assert editor.task().pairs == (Pair("ab", "ba"), Pair("ab", "ba"))
    assert editor.input_edit.text() == "ab"
    assert seen[-1] == editor.task()


def test_removing_the_last_pair_is_allowed(qtbot, editor):
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    assert editor.task().pairs == ()
    assert editor.selected_pair() == -1
    assert not editor.input_edit.isEnabled()
    assert not editor.remove_button.isEnabled()
    assert any(p.field == "pairs" for p in editor.task().problems())


def test_shortcuts_add_duplicate_delete(qtbot, editor):
    shown(qtbot, editor)
    focus(qtbot, editor.input_edit)
    qtbot.keyClick(
        editor.input_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert len(editor.task().pairs) == 2
    # Add puts the cursor in the new pair's input, ready to type.
    qtbot.waitUntil(editor.input_edit.hasFocus)
    qtbot.keyClicks(editor.input_edit, "q")
    assert editor.task().pairs[1] == Pair("q", "")
    qtbot.keyClick(editor.input_edit, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert editor.task().pairs[1:] == (Pair("q", ""), Pair("q", ""))
    focus(qtbot, editor.table)
    qtbot.keyClick(editor.table, Qt.Key.Key_Insert)
    assert len(editor.task().pairs) == 4
    focus(qtbot, editor.table)
    editor.select_pair(0)
    qtbot.keyClick(editor.table, Qt.Key.Key_Delete)
    assert editor.task().pairs == (Pair("q", ""), Pair("q", ""), Pair("", ""))
    # Delete inside a line edit deletes a character, never a pair.
    editor.select_pair(0)
    focus(qtbot, editor.input_edit)
    editor.input_edit.setCursorPosition(0)
    qtbot.keyClick(editor.input_edit, Qt.Key.Key_Delete)
    assert editor.task().pairs == (Pair("", ""), Pair("q", ""), Pair("", ""))


def test_buttons_show_shortcuts_in_tooltips(editor):
    assert "Ctrl+Shift+A" in editor.add_button.toolTip()
    assert "Ctrl+D" in editor.duplicate_button.toolTip()
    assert "Delete" in editor.remove_button.toolTip()


def test_selection_changed_on_clicking_a_row(qtbot, editor):
    editor.set_task(TWO)
    shown(qtbot, editor)
    with qtbot.waitSignal(editor.selection_changed) as blocker:
        select_row(qtbot, editor, 1)
    assert blocker.args == [1]
    assert editor.selected_pair() == 1
    assert editor.input_edit.text() == "abc"
    assert editor.target_edit.text() == "cba"


# ----- undo / redo ----------------------------------------------------------------------------


def test_typing_merges_into_one_undo_step(qtbot, editor):
    editor.input_edit.setCursorPosition(5)
    qtbot.keyClicks(editor.input_edit, "abc")
    assert editor.task().pairs[0].input == "helloabc"
    assert editor.undo_stack().count() == 1
    seen = []
    editor.task_changed.connect(seen.append)
    editor.undo_stack().undo()
    assert editor.task() == HELLO
    assert editor.input_edit.text() == "hello"
    assert seen == [HELLO]
    editor.undo_stack().redo()
    assert editor.task().pairs[0].input == "helloabc"
    assert editor.input_edit.text() == "helloabc"
    assert seen[-1] == editor.task()


def test_typing_in_another_field_or_pair_is_a_new_step(qtbot, editor):
    editor.set_task(TWO)
    qtbot.keyClicks(editor.input_edit, "a")
    qtbot.keyClicks(editor.target_edit, "b")
    editor.select_pair(1)
    qtbot.keyClicks(editor.target_edit, "c")
    editor.select_pair(0)
    qtbot.keyClicks(editor.target_edit, "d")
    assert editor.undo_stack().count() == 4
    editor.undo_stack().undo()
    assert editor.task().pairs[0].target == "ohlolb"
    assert editor.task().pairs[1].target == "cbac"


def test_ctrl_z_in_line_edit_goes_to_the_stack(qtbot, editor):
    shown(qtbot, editor)
    focus(qtbot, editor.input_edit)
    editor.input_edit.setCursorPosition(5)
    qtbot.keyClicks(editor.input_edit, "abc")
    focus(qtbot, editor.target_edit)
    qtbot.keyClicks(editor.target_edit, "xy")
    after = editor.task()
    stack = editor.undo_stack()
    assert stack.index() == 2
    # Pressed in the *input* field, Ctrl+Z still undoes the last step of the one history (the target).
    focus(qtbot, editor.input_edit)
    qtbot.keyClick(editor.input_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert stack.index() == 1
    assert editor.task() == Task.of([("helloabc", "ohlol")])
    assert editor.target_edit.text() == "ohlol"
    qtbot.keyClick(editor.input_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.task() == HELLO
    assert editor.input_edit.text() == "hello"
    redo = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(editor.input_edit, Qt.Key.Key_Z, redo)
    qtbot.keyClick(editor.input_edit, Qt.Key.Key_Z, redo)
    assert editor.task() == after
    assert stack.index() == 2


def test_ctrl_z_undoes_once_with_an_app_undo_action(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    editor = TaskEditor()
    window.setCentralWidget(editor)
    action = editor.undo_stack().createUndoAction(window)
    action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
    window.menuBar().addMenu("Edit").addAction(action)
    editor.set_task(HELLO)
    shown(qtbot, window)
    focus(qtbot, editor.input_edit)
    qtbot.keyClicks(editor.input_edit, "a")
    focus(qtbot, editor.target_edit)
    qtbot.keyClicks(editor.target_edit, "b")
    qtbot.keyClick(editor.target_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.undo_stack().index() == 1
    assert editor.task().pairs[0] == Pair("helloa", "ohlol")
    # With the focus outside the line edits the app's action does the undo.
    focus(qtbot, editor.table)
    qtbot.keyClick(editor.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.task() == HELLO


def test_ctrl_z_in_the_vocabulary_add_field_undoes_its_typing_first(qtbot):
    # In a window whose Edit > Undo (Ctrl+Z) drives the editor's stack, as in the app.
    window = QMainWindow()
    qtbot.addWidget(window)
    editor = TaskEditor()
    window.setCentralWidget(editor)
    stack = editor.undo_stack()
    action = stack.createUndoAction(window)
    action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
    window.menuBar().addMenu("Edit").addAction(action)
    editor.set_task(HELLO)
    shown(qtbot, window)
    strip = editor.vocab_strip
    qtbot.mouseClick(strip.explicit_button, Qt.MouseButton.LeftButton)
    add = strip.add_edit
    focus(qtbot, add)
    qtbot.keyClicks(add, "xy")
    ctrl_z = Qt.KeyboardModifier.ControlModifier
    redo = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    # The field's own typing first: the vocabulary and the stack stay as they were.
    qtbot.keyClick(add, Qt.Key.Key_Z, ctrl_z)
    assert add.text() == "" and stack.index() == 1 and editor.task().vocab == ("e", "h", "l", "o")
    qtbot.keyClick(add, Qt.Key.Key_Z, redo)
    assert add.text() == "xy" and stack.index() == 1
    # Added: the field empties, and Ctrl+Z in it, with no typing left to undo, undoes the Add.
    qtbot.keyClick(add, Qt.Key.Key_Return)
    assert editor.task().vocab == ("e", "h", "l", "o", "x", "y") and add.text() == ""
    qtbot.keyClick(add, Qt.Key.Key_Z, ctrl_z)
    assert editor.task().vocab == ("e", "h", "l", "o") and stack.index() == 1
    qtbot.keyClick(add, Qt.Key.Key_Z, redo)
    assert editor.task().vocab == ("e", "h", "l", "o", "x", "y") and stack.index() == 2
    # One linear history: undone past the field's typing, redo redoes the editor's step, not the typing.
    qtbot.keyClicks(add, "q")
    qtbot.keyClick(add, Qt.Key.Key_Z, ctrl_z)
    qtbot.keyClick(add, Qt.Key.Key_Z, ctrl_z)
    assert add.text() == "" and stack.index() == 1
    qtbot.keyClick(add, Qt.Key.Key_Z, redo)
    assert add.text() == "" and stack.index() == 2


def test_context_menu_undo_uses_the_stack(qtbot, editor):
    qtbot.keyClicks(editor.input_edit, "ab")
    menu = editor._edit_menu(editor.input_edit)
    qtbot.addWidget(menu)
    undo = next(a for a in menu.actions() if a.objectName() == "edit-undo")
    assert undo.isEnabled()
    undo.trigger()
    assert editor.task() == HELLO
    assert editor.undo_stack().index() == 0
    redo = next(a for a in editor._edit_menu(editor.input_edit).actions() if a.objectName() == "edit-redo")
    redo.trigger()
    assert editor.task().pairs[0].input == "helloab"


def test_undo_restores_text_and_selection_of_the_pair(qtbot, editor):
    editor.set_task(Task.of([("a b ", "1 2 "), ("日本", "本日"), ("x😀", "😀x")]))
    editor.select_pair(1)
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    assert editor.task().pairs == (Pair("a b ", "1 2 "), Pair("x😀", "😀x"))
    editor.select_pair(0)
    with qtbot.waitSignal(editor.selection_changed) as blocker:
        editor.undo_stack().undo()
    assert blocker.args == [1]
    assert editor.selected_pair() == 1
    assert editor.input_edit.text() == "日本"
    assert editor.table.selectionModel().isRowSelected(1)
    editor.select_pair(2)
    type_text(editor.target_edit, " 😀")
    editor.select_pair(0)
    editor.undo_stack().undo()
    assert editor.selected_pair() == 2
    assert editor.target_edit.text() == "😀x"
    editor.undo_stack().redo()
    assert editor.target_edit.text() == "😀x 😀"
    assert editor.task().pairs[2].target == "😀x 😀"


def test_undo_of_add_and_duplicate(qtbot, editor):
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(editor.duplicate_button, Qt.MouseButton.LeftButton)
    assert len(editor.task().pairs) == 3
    editor.undo_stack().undo()
    editor.undo_stack().undo()
    assert editor.task() == HELLO
    assert editor.selected_pair() == 0


# ----- vocabulary -----------------------------------------------------------------------------


def test_vocab_strip_shows_derived_chips(editor):
    strip = editor.vocab_strip
    editor.set_task(Task.of([("a b\u200b", "b a ")]))
    texts = [strip.chips.item(i).text() for i in range(strip.chips.count())]
    assert texts == ["␣", "a", "b", "U+200B"]
    assert "|V| = 4" in strip.size_label.text()
    assert "derived from the strings" in strip.mode_label.text()
    assert strip.explicit_button.isVisibleTo(strip)
    assert not strip._edit_row.isVisibleTo(strip)


def test_explicit_vocab_edits_are_undoable(qtbot, editor):
    strip = editor.vocab_strip
    stack = editor.undo_stack()
    qtbot.mouseClick(strip.explicit_button, Qt.MouseButton.LeftButton)
    assert editor.task().vocab == ("e", "h", "l", "o")
    assert "explicit" in strip.mode_label.text()
    assert strip._edit_row.isVisibleTo(strip)
    qtbot.keyClicks(strip.add_edit, "x e")
    qtbot.mouseClick(strip.add_button, Qt.MouseButton.LeftButton)
    # Each character is an entry; the duplicate 'e' is kept and reported, not dropped.
    assert editor.task().vocab == ("e", "h", "l", "o", "x", " ", "e")
    assert strip.add_edit.text() == ""
    editor.set_problems(editor.task().problems())
    assert "is already at index" in strip.problem_label.text()
    assert strip.chips.item(6).data(Qt.ItemDataRole.UserRole + 1) is True
    assert strip.chips.item(0).data(Qt.ItemDataRole.UserRole + 1) is False
    # Reorder: select 'x' (index 4), move it left twice.
    strip.select_entry(4)
    qtbot.mouseClick(strip.left_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(strip.left_button, Qt.MouseButton.LeftButton)
    assert editor.task().vocab == ("e", "h", "x", "l", "o", " ", "e")
    assert strip.selected_entry() == 2
    qtbot.mouseClick(strip.right_button, Qt.MouseButton.LeftButton)
    assert editor.task().vocab == ("e", "h", "l", "x", "o", " ", "e")
    strip.select_entry(6)
    qtbot.mouseClick(strip.remove_button, Qt.MouseButton.LeftButton)
    assert editor.task().vocab == ("e", "h", "l", "x", "o", " ")
    qtbot.mouseClick(strip.derive_button, Qt.MouseButton.LeftButton)
    assert editor.task().vocab is None
    assert stack.count() == 7
    expected = [
        ("e", "h", "l", "x", "o", " "),
        ("e", "h", "l", "x", "o", " ", "e"),
        ("e", "h", "x", "l", "o", " ", "e"),
        ("e", "h", "l", "x", "o", " ", "e"),
        ("e", "h", "l", "o", "x", " ", "e"),
        ("e", "h", "l", "o"),
        None,
    ]
    for vocab in expected:
        stack.undo()
        assert editor.task().vocab == vocab
        assert strip.chars() == editor.task().vocabulary().chars
    assert editor.task() == HELLO
    for _ in expected:
        stack.redo()
    assert editor.task().vocab is None


def test_out_of_vocabulary_characters_are_highlighted(qtbot, editor):
    editor.set_task(Task.of([("hex", "ohl")], vocab="ehlo"))
    editor.show()
    editor.set_problems(editor.task().problems())
    # The field's label names the character and its 1-based position.
    assert "x at 3" in plain(editor.oov_label)
    assert editor.oov_label.isVisibleTo(editor)
    assert "'x' is not in the vocabulary" in editor.problem_label.text()
    assert "?" in plain(editor.encoding_preview.x_label)
    # The table paints the character on red; the same string in a derived vocabulary does not.
    cell = editor.table.visualRect(editor.table.model().index(0, 1))
    img = editor.table.viewport().grab(cell).toImage()
    oov = QColor("#ffcecb")
    marked = sum(1 for y in range(img.height()) for x in range(img.width()) if img.pixelColor(x, y) == oov)
    assert marked > 20
    editor.select_pair(-1)
    editor.set_task(Task.of([("hex", "ohl")]))
    img = editor.table.viewport().grab(cell).toImage()
    assert not any(img.pixelColor(x, y) == oov for y in range(img.height()) for x in range(img.width()))
    assert not editor.oov_label.isVisibleTo(editor)


def test_a_combining_accent_is_drawn_in_the_table(qtbot, editor):
    """A pasted e + U+0301 is two characters; the table must not hide the second (it has no width alone)."""
    editor.show()
    editor.select_pair(-1)
    cell = editor.table.visualRect(editor.table.model().index(0, 1))

    def dark_pixels(task: Task) -> int:
        editor.set_task(task)
        img = editor.table.viewport().grab(cell).toImage()
        ground = img.pixelColor(img.width() - 2, img.height() // 2)  # the cell's right end: no text there
        return sum(1 for y in range(img.height()) for x in range(img.width()) if img.pixelColor(x, y) != ground)

    plain_ink = dark_pixels(Task.of([("hello", "ohlol")]))
    accent_ink = dark_pixels(Task.of([("he\u0301llo", "ohlol")]))
    assert accent_ink > plain_ink + 10  # the mark shows, on its dotted circle


def test_hundreds_of_unknown_characters_do_not_make_the_editor_grow(qtbot, editor):
    editor.show()
    heights = {}
    for n in (8, 60, 500):
        editor.set_task(Task.of([("xyzw" * (n // 4), "ohlol")], vocab="ehlo"))
        editor.set_problems(editor.task().problems())
        heights[n] = editor.minimumSizeHint().height()
    # 500 unknown characters: five listed, one line for the rest; the target's problem still shows.
    lines = editor.problem_label.text().splitlines()
    assert lines[:4] == [
        f"• pair 1, input, position {k}: {c!r} is not in the vocabulary" for k, c in enumerate("xyzw", 1)
    ]
    assert lines[4].startswith("• pair 1, target, position 6: has 5 characters but its input has 500")
    assert lines[5:] == ["• … and 496 more"]
    assert plain(editor.oov_label).endswith(
        "(not in the vocabulary: x at 1, y at 2, z at 3, w at 4, x at 5, … and 495 more)"
    )
    assert editor.input_edit.toolTip().splitlines()[-1] == "… and 495 more"
    assert heights[500] == heights[60] <= heights[8] + 60


# ----- encoding preview -----------------------------------------------------------------------


def test_encoding_preview_onehot(editor):
    preview = editor.encoding_preview
    # h e l l o with idx2char e h l o (the notebook's own comment has a typo: [1,0,0,2,3]).
    assert "x_data = [1, 0, 2, 2, 3]" in plain(preview.x_label)
    assert "y_data = [3, 1, 2, 3, 2]" in plain(preview.y_label)
    assert "'e', 'h', 'l', 'o'" in plain(preview.idx2char_label)
    first = tensor_path(ModelConfig(), 4, 1, 5)[0]
    assert first.shape == (5, 1, 4)
    assert preview.shape_text() == shape_line(first)
    assert "inputs: seqLen × batchSize × inputSize = 5 × 1 × 4 (one-hot" in preview.shape_text()
    assert "5 × 1 × 4" in plain(preview.shape_label)


def test_encoding_preview_embedding_whole_batch(editor):
    editor.set_task(Task.of([("hello", "ohlol"), ("hel", "ohl"), ("lolol", "hehel")]))
    cfg = ModelConfig(encoding="embedding", embedding_size=7)
    editor.set_model_config(cfg)
    text = editor.encoding_preview.shape_text()
    path = tensor_path(cfg, 4, 3, 5)
    assert text.splitlines() == [shape_line(path[0]), shape_line(path[1])]
    assert "inputs: batchSize × seqLen = 3 × 5 (indices, LongTensor)" in text
    assert "batchSize × seqLen × embeddingSize = 3 × 5 × 7" in text
    editor.select_pair(1)
    assert "x_data = [1, 0, 2]" in plain(editor.encoding_preview.x_label)
    # Typing a longer input grows seqLen for the whole batch.
    editor.input_edit.setCursorPosition(3)
    type_text(editor.input_edit, "lollo")
    assert "3 × 8" in editor.encoding_preview.shape_text()
    editor.set_model_config(ModelConfig())
    assert editor.encoding_preview.shape_text() == shape_line(tensor_path(ModelConfig(), 4, 3, 8)[0])


# ----- read-only ------------------------------------------------------------------------------


def test_read_only_blocks_every_edit(qtbot, editor):
    shown(qtbot, editor)
    editor.set_task(TWO)
    seen = []
    editor.task_changed.connect(seen.append)
    editor.set_read_only(True)
    assert editor._read_only_note.isVisible()
    assert "read-only while training" in editor._read_only_note.text().lower()
    focus(qtbot, editor.input_edit)
    qtbot.keyClicks(editor.input_edit, "zzz")
    qtbot.keyClick(editor.input_edit, Qt.Key.Key_Backspace)
    qtbot.keyClick(editor.input_edit, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(editor.vocab_strip.explicit_button, Qt.MouseButton.LeftButton)
    focus(qtbot, editor.table)
    qtbot.keyClick(editor.table, Qt.Key.Key_Delete)
    assert editor.task() == TWO
    assert seen == []
    assert editor.input_edit.isReadOnly() and editor.target_edit.isReadOnly()
    for b in (editor.add_button, editor.remove_button, editor.duplicate_button, editor.vocab_strip.explicit_button):
        assert not b.isEnabled()
    # Greyed: the read-only field is painted on a grey background.
    img = editor.input_edit.grab().toImage()
    assert img.pixelColor(img.width() - 6, img.height() // 2) == QColor("#eaeef2")
    # Browsing pairs still works.
    select_row(qtbot, editor, 1)
    assert editor.input_edit.text() == "abc"
    editor.set_read_only(False)
    focus(qtbot, editor.input_edit)
    editor.input_edit.setCursorPosition(3)
    qtbot.keyClicks(editor.input_edit, "d")
    assert editor.task().pairs[1].input == "abcd"
    assert not editor._read_only_note.isVisible()


def test_read_only_explicit_vocab_controls_disabled(qtbot, editor):
    editor.set_task(Task.of([("ab", "ba")], vocab="ab"))
    editor.vocab_strip.select_entry(0)
    editor.set_read_only(True)
    strip = editor.vocab_strip
    for w in (strip.add_edit, strip.add_button, strip.remove_button, strip.right_button, strip.derive_button):
        assert not w.isEnabled()


def test_builds_alone(qtbot):
    w = TaskEditor()
    qtbot.addWidget(w)
    assert w.task() == Task(())
    assert w.selected_pair() == -1
    assert w.undo_stack() is not None
    with pytest.raises(IndexError):
        w.select_pair(0)


def test_uses_a_given_undo_stack(qtbot):
    from PySide6.QtGui import QUndoStack

    stack = QUndoStack()
    w = TaskEditor(undo_stack=stack)
    qtbot.addWidget(w)
    assert w.undo_stack() is stack
    w.set_task(HELLO)
    qtbot.keyClicks(w.input_edit, "a")
    assert stack.count() == 1


def test_action_objects_exist(editor):
    assert isinstance(editor.add_action, QAction)


def test_lengths_are_counted_in_good_english(qtbot, editor):
    editor.set_task(Task.of([("h", "ohlol")]))
    model = editor.table.model()
    assert model.data(model.index(0, 1), Qt.ItemDataRole.ToolTipRole).startswith("input: 'h' (1 character)")
    assert model.data(model.index(0, 2), Qt.ItemDataRole.ToolTipRole).startswith("target: 'ohlol' (5 characters)")
    assert editor._length_labels["input"].toolTip() == "1 character"
    assert editor._length_labels["target"].toolTip() == "5 characters"


def focus_table_on_second_pair(qtbot, editor) -> None:
    """The editor shown with TWO's pairs, the second selected and the table in focus."""
    editor.set_task(TWO)
    shown(qtbot, editor)
    editor.select_pair(1)
    focus(qtbot, editor.table)


def test_tab_leaves_the_pairs_table_and_return_or_space_goes_to_the_input(qtbot, editor):
    """Tab used to walk the table's cells (silently changing the pair) and never leave it."""
    focus_table_on_second_pair(qtbot, editor)
    qtbot.keyClick(editor.table, Qt.Key.Key_Tab)
    assert not editor.table.hasFocus()
    assert editor.selected_pair() == 1
    focus(qtbot, editor.table)
    qtbot.keyClick(editor.table, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert not editor.table.hasFocus()
    assert editor.selected_pair() == 1
    for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2, Qt.Key.Key_Space):
        focus(qtbot, editor.table)
        qtbot.keyClick(editor.table, key)
        assert editor.input_edit.hasFocus(), key
        assert editor.input_edit.text() == "abc"


def test_space_held_in_the_table_does_not_type_over_the_string_it_opens(qtbot, editor):
    """The first Space goes to the field and selects its string; the key's repeats must not replace it."""
    focus_table_on_second_pair(qtbot, editor)
    qtbot.keyPress(editor.table, Qt.Key.Key_Space)
    assert editor.input_edit.hasFocus() and editor.input_edit.selectedText() == "abc"

    def space(kind: QEvent.Type, repeat: bool) -> None:
        QApplication.sendEvent(
            editor.input_edit, QKeyEvent(kind, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier, " ", repeat)
        )

    for _ in range(3):  # the key held down
        space(QEvent.Type.KeyRelease, True)
        space(QEvent.Type.KeyPress, True)
    assert editor.input_edit.text() == "abc" and editor.task().pairs[1].input == "abc"
    space(QEvent.Type.KeyRelease, False)  # let go: from now on Space types
    space(QEvent.Type.KeyPress, False)
    assert editor.input_edit.text() == " "


def test_encoding_preview_counts_one_pair_in_the_singular(editor):
    assert "batchSize = 1 pair ·" in plain(editor.encoding_preview.batch_label)  # not "1 pairs"
    editor.set_task(TWO)
    assert "batchSize = 2 pairs ·" in plain(editor.encoding_preview.batch_label)


def test_encoding_preview_wraps_its_sizes_between_them_not_inside_one(editor):
    label = editor.encoding_preview.batch_label
    parts = ["batchSize = 1 pair", "seqLen = 5 (longest input)", "|V| = 4"]
    whole = label.fontMetrics().horizontalAdvance(" · ".join(parts))
    for width in range(whole - 80, whole + 1, 2):  # narrow columns: the last part or two go below
        doc = QTextDocument()
        doc.setDefaultFont(label.font())
        doc.setHtml(label.text())
        doc.setTextWidth(width)
        doc.documentLayout().documentSize()  # lays the text out
        layout, text = doc.firstBlock().layout(), doc.toPlainText()
        lines = [
            text[layout.lineAt(i).textStart() :][: layout.lineAt(i).textLength()] for i in range(layout.lineCount())
        ]
        lines = [line.replace("\xa0", " ").replace("\u2060", "") for line in lines]  # as a reader sees them
        shown = [part.strip() for line in lines for part in line.split("·") if part.strip()]
        assert shown == parts, (width, lines)  # each part whole on one line


def test_a_paste_that_would_make_a_huge_vocabulary_adds_nothing_and_keeps_the_text(qtbot, editor):
    """20,000 pasted characters took the window 22 s to draw as chips and problems."""
    strip = editor.vocab_strip
    qtbot.mouseClick(strip.explicit_button, Qt.MouseButton.LeftButton)
    pasted = "a" * 20_000
    strip.add_edit.setText(pasted)  # as a paste puts it there
    qtbot.keyClick(strip.add_edit, Qt.Key.Key_Return)
    assert editor.task().vocab == ("e", "h", "l", "o")
    assert strip.add_edit.text() == pasted  # nothing typed is lost: cut it down and press Enter again
    assert strip.problem_label.text() == (
        "• Adding 20,000 characters would make 20,004 entries: a vocabulary holds at most 512. Nothing was added."
    )
    strip.add_edit.setText("a" * 600)  # a few over the limit: added, and shown as problems to fix
    qtbot.keyClick(strip.add_edit, Qt.Key.Key_Return)
    assert len(editor.task().vocab) == 604
    editor.set_problems(editor.task().problems())
    lines = strip.problem_label.text().split("\n")
    assert len(lines) == 6 and lines[-1] == "… and 595 more"  # 599 duplicates and the size: five, then a count


def test_idx2char_of_a_right_to_left_script_reads_in_index_order(qtbot, editor):
    """'['ו','ל','ם','ש']' was laid out right to left, so it seemed to list index 3 first."""
    from PySide6.QtGui import QTextLayout

    editor.input_edit.setFocus()
    editor.input_edit.selectAll()
    qtbot.keyClick(editor.input_edit, Qt.Key.Key_Backspace)
    editor.input_edit.insert("שלום")  # QTest sends no such keys; insert() is typing for the field
    editor.target_edit.selectAll()
    editor.target_edit.insert("םולש")
    chars = editor.task().vocabulary().chars
    assert len(chars) == 4
    text = plain(editor.encoding_preview.idx2char_label)
    layout = QTextLayout(text, editor.encoding_preview.idx2char_label.font())
    layout.beginLayout()
    line = layout.createLine()
    line.setLineWidth(10_000)
    layout.endLayout()
    xs = [line.cursorToX(text.index(c))[0] for c in chars]
    assert xs == sorted(xs), (text, xs)  # index 0 leftmost, as the chips and x_data number them


def test_the_encoding_lines_shrink_back_when_a_long_pair_becomes_short(qtbot, editor):
    """After a pair whose x_data wrapped, a short one left each line two lines high: blank bands."""
    shown(qtbot, editor)
    x_label = editor.encoding_preview.x_label
    one_line = x_label.height()
    for text in ("hello world, hello world", "hello"):
        focus(qtbot, editor.input_edit)
        editor.input_edit.selectAll()
        qtbot.keyClicks(editor.input_edit, text)
        if text != "hello":
            qtbot.waitUntil(lambda: x_label.height() > one_line)  # wrapped onto more lines
    qtbot.waitUntil(lambda: x_label.height() == one_line)
    assert x_label.minimumHeight() <= one_line


def test_idx2char_copied_from_the_preview_is_python_without_layout_marks(qtbot, editor):
    import ast

    from PySide6.QtGui import QGuiApplication

    shown(qtbot, editor)
    editor.input_edit.selectAll()
    editor.input_edit.insert("שלום")
    editor.target_edit.selectAll()
    editor.target_edit.insert("םולש")
    label = editor.encoding_preview.idx2char_label
    label.setFocus()
    label.setSelection(0, len(plain(label)))
    qtbot.keyClick(label, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("idx2char = ") and "\u200e" not in copied
    assert ast.literal_eval(copied.removeprefix("idx2char = ")) == list(editor.task().vocabulary().chars)
