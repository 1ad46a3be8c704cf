"""TryItView: validation of typed text, debounced submission, and the trained model's answer drawn exactly."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel

from rnnstudio.core.results import Inference
from rnnstudio.ui.heatmaps import ARGMAX_MARK, SEQUENTIAL_LUT, lut_colour
from rnnstudio.ui.try_it import PLACEHOLDER_TEXT, TryItView

VOCAB = ("e", "h", "l", "o")


@pytest.fixture(scope="module")
def trainer():
    """The rnn-embedding preset (hello -> ohlol) after 30 epochs."""
    from rnnstudio.core.presets import get_preset
    from rnnstudio.core.trainer import Trainer

    project = get_preset("rnn-embedding").project
    t = Trainer(project.task, project.model, project.train)
    list(t.epochs(count=30))
    assert t.vocab.chars == VOCAB
    return t


def make_view(qtbot, vocab=VOCAB) -> TryItView:
    view = TryItView()
    qtbot.addWidget(view)
    view.set_vocabulary(vocab)
    view.resize(900, 320)
    view.show()
    qtbot.waitExposed(view)
    return view


def record(view: TryItView) -> list[str]:
    sent: list[str] = []
    view.text_submitted.connect(sent.append)
    return sent


def test_typing_valid_text_submits_it_once_after_a_pause(qtbot):
    view = make_view(qtbot)
    assert view.objectName() == "tryItView" and view.input.objectName() == "tryInput"
    assert view.input.placeholderText() == PLACEHOLDER_TEXT
    sent = record(view)
    with qtbot.waitSignal(view.text_submitted, timeout=2000) as submitted:
        qtbot.keyClicks(view.input, "hello")
        assert view.is_submit_pending() and sent == []  # debounced: nothing per keystroke
    assert submitted.args == ["hello"]
    assert sent == ["hello"] and not view.is_submit_pending()
    assert view.problems() == [] and view.problem_label.isHidden()

    # Return sends at once.
    with qtbot.waitSignal(view.text_submitted, timeout=500) as submitted:
        qtbot.keyClick(view.input, Qt.Key.Key_Backspace)
        qtbot.keyClick(view.input, Qt.Key.Key_Return)
    assert submitted.args == ["hell"]
    assert not view.is_submit_pending()


def test_characters_outside_the_vocabulary_are_flagged_and_never_sent(qtbot):
    view = make_view(qtbot)
    sent = record(view)
    qtbot.keyClicks(view.input, "h")
    view.input.insert("é")  # as an input method commits it (QTest cannot type non-ASCII keys)
    qtbot.keyClicks(view.input, " lo")
    assert view.text() == "hé lo"  # never altered
    assert view.problems() == [
        "'é' at position 2 is not in the vocabulary",
        "' ' (space) at position 3 is not in the vocabulary",
    ]
    assert view.problem_label.isVisible()
    assert "'é' at position 2" in view.problem_label.text() and "position 3" in view.problem_label.text()
    assert "#cf222e" in view.input.styleSheet()  # the red outline
    assert not view.is_submit_pending()
    with qtbot.assertNotEmitted(view.text_submitted):
        qtbot.keyClick(view.input, Qt.Key.Key_Return)

    # Fixing the text clears the flags and sends only the valid string.
    with qtbot.waitSignal(view.text_submitted, timeout=2000) as submitted:
        view.input.selectAll()
        qtbot.keyClicks(view.input, "hello")
    assert submitted.args == ["hello"]
    assert sent == ["hello"]
    assert view.problems() == [] and view.input.styleSheet() == ""


def test_long_lists_of_problems_are_shortened_in_the_message_but_kept_in_full(qtbot):
    view = make_view(qtbot)
    view.set_text("xyzxyzxyz")
    assert len(view.problems()) == 9
    assert view.problems()[8] == "'z' at position 9 is not in the vocabulary"
    assert "and 4 more" in view.problem_label.text()


def test_a_new_vocabulary_revalidates_and_resubmits(qtbot):
    view = make_view(qtbot)
    view.set_text("hex")
    assert view.problems() == ["'x' at position 3 is not in the vocabulary"]
    with qtbot.waitSignal(view.text_submitted, timeout=2000) as submitted:
        view.set_vocabulary((*VOCAB, "x"))
    assert submitted.args == ["hex"]
    assert view.problems() == [] and view.input.styleSheet() == ""
    view.set_vocabulary(VOCAB)
    assert view.problems() and not view.is_submit_pending()


def test_shows_exactly_the_trainers_answer(qtbot, trainer):
    view = make_view(qtbot)
    inf = trainer.infer("hello")
    view.set_inference(inf, 30)
    shown = view.displayed_probabilities()
    assert shown is not None and shown.shape == (5, 4)
    assert np.array_equal(shown, trainer.infer("hello").probabilities)
    assert np.allclose(shown.sum(axis=1), 1.0, atol=1e-6)
    assert view.displayed_prediction() == inf.predicted == "ohlol"
    assert view.epoch_label.text() == "weights after epoch 30"
    # The argmax of each column is outlined, and it spells the prediction.
    marks = view.argmax_marks()
    assert marks == list(np.argmax(inf.probabilities, axis=1))
    assert "".join(VOCAB[i] for i in marks) == inf.predicted
    image = view.grid.grab().toImage()
    heatmap = view.grid.heatmap()
    for step, best in enumerate(marks):
        for cls in range(4):
            rect = heatmap.cell_rect(step, cls)
            edge = image.pixelColor(rect.left() + 1, rect.center().y())
            assert (edge == QColor(ARGMAX_MARK)) == (cls == best), (step, cls)
            # The cell's colour is its probability on the white-to-blue scale.
            fill = image.pixelColor(rect.left() + 4, rect.top() + 4)
            assert fill == lut_colour(SEQUENTIAL_LUT, float(inf.probabilities[step, cls])), (step, cls)
    centre = heatmap.cell_rect(0, VOCAB.index("o")).center()
    expected = f"step 1 'h': p('o') = {inf.probabilities[0, 3]:.3f} (most likely)"
    assert view.grid.text_at(QPointF(centre)) == expected
    qtbot.mouseMove(view.grid, centre)
    qtbot.waitUntil(lambda: view.readout.text() == expected)


def test_a_12_character_string_over_a_9_character_vocabulary(qtbot):
    from rnnstudio.core.presets import get_preset
    from rnnstudio.core.sequences import Task
    from rnnstudio.core.trainer import Trainer

    project = get_preset("rnn-embedding").project
    t = Trainer(Task.of([("hello world!", "ello world!h")]), project.model, project.train)
    list(t.epochs(count=5))
    view = make_view(qtbot, t.vocab.chars)
    assert len(t.vocab) == 9
    inf = t.infer("dlrow olleh!")
    view.set_text("dlrow olleh!")
    view.set_inference(inf, 5)
    assert view.problems() == []
    assert np.array_equal(view.displayed_probabilities(), inf.probabilities)
    assert view.displayed_prediction() == inf.predicted and len(inf.predicted) == 12
    assert not view.grab().isNull()


def test_never_crashes_on_empty_text_or_missing_answers(qtbot, trainer):
    view = make_view(qtbot)
    sent = record(view)
    with qtbot.assertNotEmitted(view.text_submitted):
        qtbot.keyClick(view.input, Qt.Key.Key_Return)
    qtbot.keyClicks(view.input, "h")
    view.input.clear()
    assert not view.is_submit_pending() and view.problems() == []

    view.set_inference(None)
    assert view.displayed_probabilities() is None and view.displayed_prediction() == ""
    assert view.epoch_label.text() == "no trained weights yet"
    view.set_inference(Inference("", (), np.zeros((0, 10)), np.zeros((2, 0, 8)), np.zeros((0, 4)), ""), 3)
    assert "empty" in view.message()
    view.grab()
    view.set_inference(trainer.infer("hello"), None)
    assert view.epoch_label.text() == "weights of an unknown epoch"
    view.set_message("the inspector failed: boom")
    assert view.message() == "the inspector failed: boom" and view.displayed_probabilities() is None
    view.grab()

    fresh = TryItView()  # no vocabulary yet
    qtbot.addWidget(fresh)
    fresh.set_text("abc")
    assert fresh.problems() == ["there is no vocabulary yet: add training pairs first"]
    assert sent == []


def test_the_label_names_the_trained_weights_before_anything_is_typed(qtbot, trainer):
    view = make_view(qtbot)
    assert view.epoch_label.text() == "no trained weights yet"
    view.set_weights_epoch(30)  # paused, or a run ended: weights exist, nothing typed
    assert view.epoch_label.text() == "weights after epoch 30"
    view.set_inference(None)
    assert view.epoch_label.text() == "weights after epoch 30"
    view.set_inference(trainer.infer("hello"), 12)  # an answer names the weights that made it
    assert view.epoch_label.text() == "weights after epoch 12"
    view.set_message("the inspector failed: boom")
    assert view.epoch_label.text() == "weights after epoch 30"
    view.set_weights_epoch(None)  # weights reset
    assert view.epoch_label.text() == "no trained weights yet"


def test_clearing_the_text_or_typing_a_stranger_removes_the_old_answer(qtbot, trainer):
    from rnnstudio.ui.try_it import EMPTY_MESSAGE, PROBLEM_MESSAGE

    view = make_view(qtbot)
    qtbot.keyClicks(view.input, "hel")
    view.set_inference(trainer.infer("hel"), 30)
    assert view.displayed_prediction() != "" and view.message() == ""

    # A character outside the vocabulary: the answer for "hel" must not stay under "helx".
    qtbot.keyClicks(view.input, "x")
    assert view.problems() != []
    assert view.displayed_prediction() == "" and view.displayed_probabilities() is None
    assert view.message() == PROBLEM_MESSAGE

    # Fixed again, answered again; then the field is cleared: back to the hint.
    qtbot.keyClick(view.input, Qt.Key.Key_Backspace)
    view.set_inference(trainer.infer("hel"), 30)
    assert view.displayed_prediction() != ""
    view.input.selectAll()
    qtbot.keyClick(view.input, Qt.Key.Key_Backspace)
    assert view.text() == ""
    assert view.displayed_prediction() == "" and view.displayed_probabilities() is None
    assert view.message() == EMPTY_MESSAGE
    assert view.epoch_label.text() == "no trained weights yet"


@pytest.fixture(scope="module")
def diverged():
    """The rnn-embedding preset with every weight NaN, as a diverged run leaves it (its answers are all NaN)."""
    import torch

    from rnnstudio.core.presets import get_preset
    from rnnstudio.core.trainer import Trainer

    project = get_preset("rnn-embedding").project
    t = Trainer(project.task, project.model, project.train)
    with torch.no_grad():
        for p in t.model.parameters():
            p.fill_(float("nan"))
    return t


def test_weights_that_give_nan_predict_nothing_and_say_so(qtbot, diverged):
    view = make_view(qtbot)
    with qtbot.waitSignal(view.text_submitted, timeout=2000) as submitted:
        qtbot.keyClicks(view.input, "hello")
    inf = diverged.infer(submitted.args[0])
    assert inf.predicted == "eeeee" and np.isnan(inf.probabilities).all()  # argmax of NaN: index 0, 'e'
    view.set_inference(inf, 3)

    # No made-up prediction: a dash per step, no "most likely" outline, and a note that says why.
    assert view.displayed_prediction() == "–––––"
    assert view.argmax_marks() == [None] * 5
    note = view.findChild(QLabel, "tryNonFinite")
    qtbot.waitUntil(note.isVisible)
    assert note.text() == "No prediction: these weights give NaN probabilities at every step (the run diverged)."
    image = view.grid.grab().toImage()
    heatmap = view.grid.heatmap()
    for step in range(5):
        for cls in range(4):
            rect = heatmap.cell_rect(step, cls)
            assert image.pixelColor(rect.left() + 1, rect.center().y()) != QColor(ARGMAX_MARK), (step, cls)
    cell = view.grid.column_rect(0).center()
    assert view.grid.text_at(QPointF(cell)) == "step 1 'h': no prediction (the probabilities are not numbers)"
    qtbot.mouseMove(view.grid, cell)
    qtbot.waitUntil(lambda: "no prediction" in view.readout.text())

    # Steps that are numbers keep their prediction; the note names the others.
    probs = inf.probabilities.copy()
    probs[:2] = np.eye(4)[[2, 3]]
    view.set_inference(replace(inf, probabilities=probs, predicted="loeee"), 3)
    assert view.displayed_prediction() == "lo–––" and view.argmax_marks() == [2, 3, None, None, None]
    assert note.text().startswith("No prediction at 3 steps of 5 (3, 4, 5): these weights give NaN")

    # A healthy answer (or none) takes the note away.
    view.set_inference(None)
    assert note.isHidden()
