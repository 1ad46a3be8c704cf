"""StepInspector fed from a real short run: probabilities, target marks, right/wrong colours, slider, odd data."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor, QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from rnnstudio.core.results import Inference
from rnnstudio.ui.heatmaps import DIVERGING_LUT, TARGET_MARK, lut_colour
from rnnstudio.ui.step_inspector import PLACEHOLDER, RIGHT_BG, WRONG_BG, StepInspector

TEXT, TARGET = "hello", "ohlol"
EPOCHS = (0, 1, 2, 3, 5, 30)


@pytest.fixture(scope="module")
def run():
    """Inferences of the rnn-embedding preset on hello -> ohlol after each of EPOCHS, and the trainer at the end."""
    from rnnstudio.core.presets import get_preset
    from rnnstudio.core.trainer import Trainer

    project = get_preset("rnn-embedding").project
    trainer = Trainer(project.task, project.model, project.train)
    inferences: dict[int, Inference] = {}
    for epoch in EPOCHS:
        list(trainer.epochs(count=epoch - trainer.epoch))
        inferences[epoch] = trainer.infer(TEXT, TARGET)
    return trainer, inferences


def make_view(qtbot, chars=("e", "h", "l", "o")) -> StepInspector:
    view = StepInspector()
    qtbot.addWidget(view)
    view.set_vocabulary(chars)
    view.resize(1000, 360)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_shows_exactly_the_trainers_probabilities_and_prediction(qtbot, run):
    trainer, inferences = run
    view = make_view(qtbot, trainer.vocab.chars)
    assert view.objectName() == "stepInspector"
    view.set_snapshot_epochs(EPOCHS)
    view.set_inference(inferences[30], 30)

    shown = view.displayed_probabilities()
    again = trainer.infer(TEXT, TARGET)  # the trainer is still at epoch 30
    assert shown is not None and shown.shape == (5, 4)
    assert np.array_equal(shown, again.probabilities)
    assert np.allclose(shown.sum(axis=1), 1.0, atol=1e-6)
    assert view.displayed_prediction() == again.predicted == "ohlol"
    assert view.displayed_epoch() == 30
    assert view.epoch_label.text() == "after epoch 30 (snapshot 6 of 6)"
    assert view.grid.row_kinds() == ["header", "input", "hidden1", "hidden2", "probs", "predicted", "target", "loss"]
    assert not view.grab().isNull()


def test_target_marks_sit_on_the_targets_characters(qtbot, run):
    trainer, inferences = run
    view = make_view(qtbot, trainer.vocab.chars)
    view.set_inference(inferences[1], 1)
    expected = [trainer.vocab.index(c) for c in TARGET]
    assert view.target_marks() == expected

    image = view.grid.grab().toImage()
    mark = QColor(TARGET_MARK)
    for step, target in enumerate(expected):
        for cls in range(4):
            rect = view.probability_cell_rect(step, cls)
            edge = image.pixelColor(rect.left() + 1, rect.center().y())
            assert (edge == mark) == (cls == target), (step, cls, edge.name())


def test_predicted_characters_are_coloured_right_or_wrong_against_the_target(qtbot, run):
    trainer, inferences = run
    # An early epoch where some characters are already right and some still wrong.
    mixed = next(
        inf
        for inf in inferences.values()
        if 0 < sum(p == t for p, t in zip(inf.predicted, TARGET, strict=True)) < len(TARGET)
    )
    view = make_view(qtbot, trainer.vocab.chars)
    view.set_inference(mixed, 2)
    assert view.displayed_prediction() == mixed.predicted
    image = view.grid.grab().toImage()
    for step, (p, t) in enumerate(zip(mixed.predicted, TARGET, strict=True)):
        cell = view.grid.column_rect(step, "predicted")
        background = image.pixelColor(cell.left() + 3, cell.top() + 3)
        assert background == QColor(RIGHT_BG if p == t else WRONG_BG), (step, p, t)


def test_heat_strips_colour_each_input_and_hidden_value_centred_at_zero(qtbot, run):
    trainer, inferences = run
    inf = inferences[30]
    view = make_view(qtbot, trainer.vocab.chars)
    view.set_inference(inf, 30)
    image = view.grid.grab().toImage()
    in_lim = max(1.0, float(np.abs(inf.inputs).max()))  # embeddings get their own symmetric scale
    rows = [("input", 0, inf.inputs, in_lim)] + [
        ("hidden", layer, inf.hidden[layer], 1.0) for layer in range(inf.hidden.shape[0])
    ]
    for kind, layer, values, lim in rows:
        units = values.shape[1]
        for step in (0, 3):
            cell = view.grid.column_rect(step, kind, layer)
            for unit in (0, units // 2, units - 1):
                y = cell.top() + int((unit + 0.5) * cell.height() / units)
                colour = image.pixelColor(cell.center().x(), y)
                expected = lut_colour(DIVERGING_LUT, (float(values[step, unit]) + lim) / (2 * lim))
                assert abs(colour.red() - expected.red()) + abs(colour.blue() - expected.blue()) <= 12, (
                    kind,
                    layer,
                    step,
                    unit,
                )


def test_read_out_names_step_character_and_probability(qtbot, run):
    trainer, inferences = run
    inf = inferences[30]
    view = make_view(qtbot, trainer.vocab.chars)
    view.set_inference(inf, 30)
    l_index = trainer.vocab.index("l")
    centre = QPointF(view.probability_cell_rect(2, l_index).center())
    assert view.grid.text_at(centre) == f"step 3 'l': p('l') = {inf.probabilities[2, l_index]:.3f} (target)"
    loss_cell = QPointF(view.grid.column_rect(0, "loss").center())
    assert f"{float(inf.step_losses[0]):.4f}" in view.grid.text_at(loss_cell)

    # Hovering shows the same text as a tooltip.
    point = view.probability_cell_rect(2, l_index).center()
    QApplication.sendEvent(view.grid, QHelpEvent(QEvent.Type.ToolTip, point, view.grid.mapToGlobal(point)))
    assert QToolTip.text() == view.grid.text_at(centre)
    QToolTip.hideText()


def test_moving_the_slider_requests_snapshot_epochs_and_stops_following(qtbot, run):
    view = make_view(qtbot)
    view.set_snapshot_epochs(EPOCHS)
    assert view.follows_latest() and view.selected_epoch() == 30
    view.slider.setFocus()
    with (
        qtbot.waitSignal(view.epoch_requested) as requested,
        qtbot.waitSignal(view.follow_latest_changed) as follow,
    ):
        qtbot.keyClick(view.slider, Qt.Key.Key_Left)
    assert requested.args == [5]
    assert follow.args == [False]
    assert not view.follows_latest() and not view.follow_check.isChecked()
    with qtbot.waitSignal(view.epoch_requested) as requested:
        qtbot.keyClick(view.slider, Qt.Key.Key_Home)
    assert requested.args == [0]
    assert view.epoch_label.text() == "after epoch 0 (snapshot 1 of 6)"

    # New snapshots keep the slider on its epoch when not following, else the nearest one.
    with qtbot.assertNotEmitted(view.epoch_requested):
        view.set_snapshot_epochs([*EPOCHS, 40])
    assert view.selected_epoch() == 0
    with qtbot.waitSignal(view.epoch_requested) as requested:
        qtbot.keyClick(view.slider, Qt.Key.Key_Right)
        qtbot.keyClick(view.slider, Qt.Key.Key_Right)
        qtbot.keyClick(view.slider, Qt.Key.Key_Right)
    assert view.selected_epoch() == 3
    view.set_snapshot_epochs([0, 4, 10, 40])
    assert view.selected_epoch() == 4


def test_following_latest_tracks_new_snapshots_until_a_manual_move(qtbot):
    view = make_view(qtbot)
    with qtbot.assertNotEmitted(view.epoch_requested):
        for last in range(4):
            view.set_snapshot_epochs(range(last + 1))
            assert view.selected_epoch() == last
    assert view.epoch_label.text() == "after epoch 3 (snapshot 4 of 4)"

    with qtbot.waitSignal(view.epoch_requested):
        qtbot.keyClick(view.slider, Qt.Key.Key_Left)
    view.set_snapshot_epochs(range(6))
    assert view.selected_epoch() == 2 and not view.follows_latest()

    # Checking "latest" jumps to the newest snapshot and asks for it.
    with (
        qtbot.waitSignal(view.follow_latest_changed) as follow,
        qtbot.waitSignal(view.epoch_requested) as requested,
    ):
        qtbot.mouseClick(view.follow_check, Qt.MouseButton.LeftButton)
    assert follow.args == [True] and requested.args == [5]
    assert view.selected_epoch() == 5
    view.set_snapshot_epochs(range(8))
    assert view.selected_epoch() == 7


def test_shows_placeholder_message_and_clears(qtbot, run):
    trainer, inferences = run
    view = make_view(qtbot, trainer.vocab.chars)
    assert view.message() == PLACEHOLDER
    assert view.displayed_probabilities() is None and view.displayed_epoch() is None
    assert view.epoch_label.text() == "no snapshots yet"
    assert not view.slider.isEnabled()

    view.set_snapshot_epochs(EPOCHS)
    view.set_inference(inferences[30], 30)
    assert view.message() == ""
    view.set_message("the inspector failed: boom")
    assert view.message() == "the inspector failed: boom"
    assert view.displayed_probabilities() is None
    view.set_inference(inferences[30], 30)
    view.clear()
    assert view.message() == PLACEHOLDER
    assert view.selected_epoch() is None and view.displayed_probabilities() is None
    assert not view.grab().isNull()


def test_never_crashes_on_odd_data(qtbot, run):
    trainer, inferences = run
    inf = inferences[30]
    view = make_view(qtbot, trainer.vocab.chars)

    empty = Inference("", (), np.zeros((0, 4)), np.zeros((2, 0, 8)), np.zeros((0, 4)), "", None, None)
    view.set_inference(empty, 3)
    assert "empty" in view.message()
    assert view.displayed_probabilities().shape == (0, 4)
    view.grab()

    no_target = replace(inf, target=None, step_losses=None)
    view.set_inference(no_target, 30)
    assert view.target_marks() == [None] * 5
    assert "no target" in view.grid.text_at(QPointF(view.grid.column_rect(1, "target").center()))
    view.grab()

    one_layer = replace(inf, hidden=inf.hidden[:1])
    view.set_inference(one_layer, 30)
    assert view.grid.row_kinds()[:3] == ["header", "input", "hidden1"]
    assert "hidden2" not in view.grid.row_kinds()
    view.grab()

    # A large vocabulary and a long string: cells shrink to their minimum and the grid scrolls.
    rng = np.random.default_rng(0)
    vocab = [chr(0x4E00 + i) for i in range(300)]
    logits = rng.normal(size=(30, 300))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    text = "".join(vocab[i] for i in rng.integers(0, 300, 30))
    big = Inference(
        text,
        tuple(vocab.index(c) for c in text),
        rng.normal(size=(30, 64)),
        np.tanh(rng.normal(size=(3, 30, 128))),
        probs,
        "".join(vocab[i] for i in probs.argmax(1)),
        text,
        -np.log(probs[np.arange(30), [vocab.index(c) for c in text]]),
    )
    view.set_vocabulary(vocab)
    view.set_inference(big, 100)
    assert view.displayed_probabilities() is probs
    assert view.grid.minimumHeight() > view.scroll.viewport().height()  # scrolls rather than squashing rows
    view.grab()

    # A vocabulary shorter than the model's output (stale): rows it does not name get their index.
    view.set_vocabulary(["e", "h"])
    view.set_inference(inf, 30)
    assert view.grid.heatmap().label_width(view.font()) > 0
    view.grab()


def test_the_legend_wraps_its_entries_onto_lines_that_fit_instead_of_cutting_them(qtbot) -> None:
    view = make_view(qtbot)
    legend = view.legend
    fm = legend.legend_metrics()
    entries = legend.entries()
    assert len(entries) == 3
    one_line = legend.sizeHint().width()
    assert legend.lines(one_line) == [entries]
    narrowest = legend.minimumSizeHint().width()
    assert narrowest < one_line
    for width in (narrowest, (narrowest + one_line) // 2, one_line - 1):
        lines = legend.lines(width)
        assert [e for line in lines for e in line] == entries  # all of them, in order
        assert len(lines) > 1
        for line in lines:  # each line within the width (the margins and the gaps between entries counted)
            drawn = sum(legend.entry_width(fm, e) for e in line) + legend._GAP * (len(line) - 1)
            assert drawn + 2 * legend._MARGIN <= width
        assert legend.heightForWidth(width) > legend.heightForWidth(one_line)


def test_a_wider_scale_in_the_legend_moves_it_to_a_line_of_its_own_and_reads_plainly(qtbot, run) -> None:
    _, inferences = run
    view = make_view(qtbot)
    inf = inferences[30]
    view.set_inference(inf, 30)
    assert [e.low for e in view.legend.entries()[:1]] == ["−1"]  # tanh: the scale is ±1
    view.resize(view.width() + 2000, 360)  # room for everything on one line...
    view.resize(_one_line_width(view), 360)  # ...and then just enough for it
    assert view.top_lines() == 1
    view.set_inference(replace(inf, hidden=inf.hidden * 120.0), 30)  # a relu network's hidden states
    entry = view.legend.entries()[0]
    assert (entry.low, entry.high) == ("−120", "+120")  # not −1.2e+02
    assert view.top_lines() == 2  # the wider legend no longer fits beside the controls
    QApplication.processEvents()
    assert len(view.legend.lines()) == 1  # on its own line, whole


@pytest.mark.parametrize(
    ("scale", "pattern"),
    [
        (1234.0, r"1,\d{3}"),
        (723_249.0, r"7\d\d,\d{3}"),
        (2_759_698.0, r"2\.\d\de\+06"),
        (7.2324862e35, r"7\.\d\de\+35"),
    ],
)
def test_a_diverged_runs_scale_reads_as_a_short_number_and_the_legend_stays_whole(qtbot, run, scale, pattern) -> None:
    # A diverged run's legend read "−723,248,621,808,877,087,567,770,382,097,186,816 …", cut at the edge.
    _, inferences = run
    view = make_view(qtbot)
    inf = inferences[30]
    view.resize(900, 360)
    view.set_inference(replace(inf, hidden=inf.hidden * scale), 30)
    entry = view.legend.entries()[0]
    assert re.fullmatch(f"−{pattern}", entry.low) and re.fullmatch(f"\\+{pattern}", entry.high), entry
    QApplication.processEvents()
    assert len(view.legend.lines()) == 1  # the whole legend on one line of a 900 px view


def _one_line_width(view: StepInspector) -> int:
    """The narrowest width at which the view puts its controls and legend on one line."""
    width = view.width()
    while view._top_lines_for(width - 1) == 1:
        width -= 1
    return width


def test_the_top_row_lays_out_the_same_however_its_width_was_reached(qtbot) -> None:
    direct = make_view(qtbot)
    direct.resize(330, 360)
    stepped = make_view(qtbot)
    for width in (1200, 600, 330):
        stepped.resize(width, 360)
    QApplication.processEvents()
    assert direct.top_lines() == stepped.top_lines() == 3
    for a, b in zip(
        (direct.slider, direct.follow_check, direct.epoch_label, direct.legend),
        (stepped.slider, stepped.follow_check, stepped.epoch_label, stepped.legend),
        strict=True,
    ):
        assert a.geometry() == b.geometry()


def test_weights_that_give_nan_predict_nothing_and_say_so(qtbot, run) -> None:
    import torch

    from rnnstudio.core.presets import get_preset
    from rnnstudio.core.trainer import Trainer

    project = get_preset("rnn-embedding").project
    diverged = Trainer(project.task, project.model, project.train)
    with torch.no_grad():
        for p in diverged.model.parameters():
            p.fill_(float("nan"))  # what a diverged run leaves
    inf = diverged.infer(TEXT, TARGET)
    assert inf.predicted == "eeeee" and np.isnan(inf.probabilities).all()  # argmax of NaN: index 0, 'e'

    view = make_view(qtbot, diverged.vocab.chars)
    view.set_snapshot_epochs([0, 4])
    view.set_inference(inf, 4)
    assert view.displayed_prediction() == "–––––"
    qtbot.waitUntil(view.diverged_label.isVisible)
    assert view.diverged_label.text().startswith("No prediction: these weights give NaN probabilities at every step")
    image = view.grid.grab().toImage()
    for step in range(5):
        cell = view.grid.column_rect(step, "predicted")
        # Neither right (green) nor wrong (red): there is no character to judge.
        assert image.pixelColor(cell.left() + 3, cell.top() + 3) not in (QColor(RIGHT_BG), QColor(WRONG_BG)), step
    cell = view.grid.column_rect(1, "predicted").center()
    assert view.grid.text_at(QPointF(cell)) == "step 2 'e': no prediction (the probabilities are not numbers)"

    trainer, inferences = run
    view.set_vocabulary(trainer.vocab.chars)
    view.set_inference(inferences[30], 30)  # healthy weights: a prediction, and the note goes
    assert view.displayed_prediction() == "ohlol" and view.diverged_label.isHidden()


def test_the_epoch_label_counts_snapshots_not_a_run_of_as_many_epochs(qtbot, run) -> None:
    """A large model is recorded only when a run starts, pauses or ends: at epoch 2 of 8 the one
    snapshot is epoch 0's, and "(of 0)" read as a run of 0 epochs."""
    trainer, inferences = run
    view = make_view(qtbot, trainer.vocab.chars)
    view.set_snapshot_epochs([0])  # the run's start
    view.set_inference(inferences[0], 0)
    assert view.epoch_label.text() == "after epoch 0 (snapshot 1 of 1)"
    view.set_snapshot_epochs([0, 3])  # paused at epoch 3
    view.set_inference(inferences[3], 3)
    assert view.epoch_label.text() == "after epoch 3 (snapshot 2 of 2)"
    view.slider.setFocus()
    with qtbot.waitSignal(view.epoch_requested) as requested:
        qtbot.keyClick(view.slider, Qt.Key.Key_Left)
    assert requested.args == [0]
    assert view.epoch_label.text() == "after epoch 0 (snapshot 1 of 2) · showing 3"
    # The label keeps room for its text: nothing is cut.
    label = view.epoch_label
    qtbot.waitUntil(lambda: label.fontMetrics().horizontalAdvance(label.text()) <= label.width())
