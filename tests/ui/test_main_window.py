"""The studio window driven as a user drives it: presets, strings, Train, Pause, Step, Stop, files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSpinBox,
)

from rnnstudio import cli
from rnnstudio.core.presets import get_preset, presets
from rnnstudio.core.project_io import load_project, save_project
from rnnstudio.core.results import EpochResult
from rnnstudio.core.sequences import Task
from rnnstudio.core.trainer import Trainer
from rnnstudio.ui.main_window import MainWindow, about_text
from rnnstudio.ui.numbers import format_loss
from tests.trainer_doubles import trainer_factory_of_sizes

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def settings_in_tmp(tmp_path: Path):
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    yield


@pytest.fixture
def answer(monkeypatch):
    """What the user answers to the unsaved-changes question (default: discard)."""
    state = {"reply": QMessageBox.Discard, "asked": 0}

    def question(*args, **kwargs):
        state["asked"] += 1
        return state["reply"]

    monkeypatch.setattr(QMessageBox, "question", question)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.Ok)
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: QMessageBox.Ok)
    return state


@pytest.fixture
def make_window(qtbot, answer):
    windows: list[MainWindow] = []

    def make(**kwargs) -> MainWindow:
        window = MainWindow(**kwargs)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for w in windows:  # stop the worker and join the threads before the window goes away
        w.session.shutdown()
        w.inspector.shutdown()
        w.setWindowModified(False)
        w.close()


def child(window, cls, name):
    found = window.findChild(cls, name)
    assert found is not None, f"no {cls.__name__} named {name}"
    return found


def click(qtbot, window, name: str) -> None:
    button = child(window, QAbstractButton, name)
    assert button.isEnabled(), f"{name} is disabled"
    qtbot.mouseClick(button, Qt.LeftButton)


def epoch_results(count: int):
    """Results of epochs 1..count, as a run of the default preset delivers them."""
    return [EpochResult(n, 1.0 / n, 0.6, ("ohlhl",), n / 500) for n in range(1, count + 1)]


def train_to_end(qtbot, window, timeout: int = 60_000) -> None:
    with qtbot.waitSignal(window.session.run_ended, timeout=timeout):
        click(qtbot, window, "trainButton")


def replace_text(qtbot, edit: QLineEdit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key_Backspace)
    qtbot.keyClicks(edit, text)


def plotted_losses(window) -> list[float]:
    curve = child(window, object, "lossPlot").plotItem.listDataItems()[0]
    return [] if curve.yData is None else list(curve.yData)  # pyqtgraph keeps an empty curve as None


def log_rows(window) -> list[str]:
    view = child(window, object, "predictionLog")
    model = view.model()
    return [
        " ".join(str(model.index(r, c).data()) for c in range(model.columnCount())) for r in range(model.rowCount())
    ]


def cli_losses(capsys, *args: str) -> list[float]:
    assert cli.main(["train", *args, "--jsonl"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return [line["loss"] for line in lines if "epoch" in line]


def test_built_with_no_arguments_it_has_the_default_preset_and_the_named_controls(make_window) -> None:
    w = make_window()
    assert child(w, QComboBox, "presetCombo").currentData() == "rnn-embedding"
    assert child(w, QLineEdit, "inputEdit").text() == "hello"
    assert child(w, QLineEdit, "targetEdit").text() == "ohlol"
    for name in ("epochsSpin", "seedSpin", "hiddenSpin"):
        child(w, QSpinBox, name)
    assert child(w, QDoubleSpinBox, "lrSpin").value() == pytest.approx(0.05)
    assert child(w, QComboBox, "cellCombo").currentData() == "rnn"
    for name in ("trainButton", "pauseButton", "stepButton", "stopButton", "resetButton"):
        child(w, QAbstractButton, name)
    assert child(w, QAbstractButton, "trainButton").isEnabled()
    assert "F5" in child(w, QAbstractButton, "trainButton").toolTip()  # shortcuts are shown


def test_train_the_default_preset_to_ohlol_with_the_clis_numbers(qtbot, make_window, capsys) -> None:
    w = make_window()
    train_to_end(qtbot, w)
    rows = log_rows(w)
    assert len(rows) == 15 and "ohlol" in rows[-1]
    assert plotted_losses(w) == cli_losses(capsys, "--preset", "rnn-embedding")
    assert "epoch 15/15" in w.epoch_label.text()
    assert "Finished 15 epochs" in w.state_label.text()


def test_pick_a_preset_type_strings_and_train(qtbot, make_window, capsys) -> None:
    w = make_window()
    combo = child(w, QComboBox, "presetCombo")
    index = combo.findData("rnn-onehot")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)  # what choosing it in the popup does
    assert child(w, QComboBox, "cellCombo").currentData() == "rnn"
    replace_text(qtbot, child(w, QLineEdit, "inputEdit"), "abcd")
    replace_text(qtbot, child(w, QLineEdit, "targetEdit"), "dcba")
    epochs = child(w, QSpinBox, "epochsSpin")
    epochs.setValue(60)
    train_to_end(qtbot, w)
    assert len(log_rows(w)) == 60
    expected = cli_losses(capsys, "--preset", "rnn-onehot", "--input", "abcd", "--target", "dcba", "--epochs", "60")
    assert plotted_losses(w) == expected
    headless = list(Trainer(w.task(), w.model_config(), w.train_config()).epochs())
    assert log_rows(w)[-1].endswith(headless[-1].predictions[0])


def test_same_configuration_and_seed_twice_give_the_identical_curve(qtbot, make_window) -> None:
    w = make_window()
    train_to_end(qtbot, w)
    first = plotted_losses(w)
    click(qtbot, w, "resetButton")
    assert plotted_losses(w) == [] and log_rows(w) == []
    train_to_end(qtbot, w)
    assert plotted_losses(w) == first


def test_train_again_continues_from_the_current_weights(qtbot, make_window) -> None:
    w = make_window()
    train_to_end(qtbot, w)
    assert child(w, QAbstractButton, "trainButton").text().replace("&", "") == "Continue"
    train_to_end(qtbot, w)
    epochs = [int(row.split()[0]) for row in log_rows(w)]
    assert epochs == list(range(1, 31))
    p = get_preset("rnn-embedding").project
    one_run = list(Trainer(p.task, p.model, replace(p.train, epochs=30)).epochs())
    assert plotted_losses(w) == [r.loss for r in one_run]


def test_pause_step_resume_and_stop(qtbot, make_window) -> None:
    w = make_window()
    child(w, QSpinBox, "epochsSpin").setValue(1_000_000)
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: len(log_rows(w)) >= 5, timeout=30_000)
    assert not child(w, QLineEdit, "inputEdit").isEnabled() or child(w, QLineEdit, "inputEdit").isReadOnly()
    with qtbot.waitSignal(w.session.paused_at, timeout=10_000) as paused:
        click(qtbot, w, "pauseButton")
    epoch = paused.args[0]
    qtbot.waitUntil(lambda: len(log_rows(w)) == epoch)
    assert child(w, QAbstractButton, "pauseButton").text().replace("&", "") == "Resume"
    with qtbot.waitSignal(w.session.paused_at, timeout=10_000):
        click(qtbot, w, "stepButton")
    qtbot.waitUntil(lambda: len(log_rows(w)) == epoch + 1)
    click(qtbot, w, "pauseButton")  # resume
    qtbot.waitUntil(lambda: len(log_rows(w)) > epoch + 10, timeout=30_000)
    with qtbot.waitSignal(w.session.run_ended, timeout=10_000):
        click(qtbot, w, "stopButton")
    n = len(log_rows(w))
    assert [int(r.split()[0]) for r in log_rows(w)] == list(range(1, n + 1))  # no epoch lost
    assert "Stopped" in w.state_label.text()
    assert child(w, QLineEdit, "inputEdit").isEnabled() and not child(w, QLineEdit, "inputEdit").isReadOnly()


def test_step_from_idle_trains_exactly_one_epoch(qtbot, make_window) -> None:
    w = make_window()
    with qtbot.waitSignal(w.session.paused_at, timeout=60_000):
        click(qtbot, w, "stepButton")
    qtbot.waitUntil(lambda: len(log_rows(w)) == 1)
    with qtbot.waitSignal(w.session.run_ended, timeout=10_000):
        click(qtbot, w, "stopButton")
    assert len(log_rows(w)) == 1


def test_try_it_names_the_weights_while_paused_and_after_a_run_with_nothing_typed(qtbot, make_window) -> None:
    w = make_window()
    w.show_view(w.try_it)
    assert w.try_it.text() == "" and w.try_it.epoch_label.text() == "no trained weights yet"
    with qtbot.waitSignal(w.session.paused_at, timeout=60_000):
        click(qtbot, w, "stepButton")
    qtbot.waitUntil(lambda: w.try_it.epoch_label.text() == "weights after epoch 1")
    with qtbot.waitSignal(w.session.run_ended, timeout=10_000):
        click(qtbot, w, "stopButton")
    w.show_view(w.film_strip)
    w.show_view(w.try_it)
    assert w.try_it.epoch_label.text() == "weights after epoch 1"
    click(qtbot, w, "resetButton")
    assert w.try_it.epoch_label.text() == "no trained weights yet"


def test_invalid_strings_disable_train_and_keep_the_text(qtbot, make_window) -> None:
    w = make_window()
    target = child(w, QLineEdit, "targetEdit")
    replace_text(qtbot, target, "ohl ")  # wrong length, with a trailing space
    assert target.text() == "ohl " and w.task().pairs[0].target == "ohl "
    assert not child(w, QAbstractButton, "trainButton").isEnabled()
    assert not child(w, QAbstractButton, "stepButton").isEnabled()
    assert "the model emits one character per input character" in child(w, QAbstractButton, "trainButton").toolTip()
    replace_text(qtbot, target, "ohlol")
    assert child(w, QAbstractButton, "trainButton").isEnabled()


def test_an_invalid_configuration_disables_train(qtbot, make_window) -> None:
    w = make_window()
    combo = child(w, QComboBox, "presetCombo")
    index = combo.findData("rnn-onehot")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    child(w, QSpinBox, "hiddenSpin").setValue(8)  # head none needs hidden size == |V| = 4
    assert not child(w, QAbstractButton, "trainButton").isEnabled()
    assert "vocabulary size (4)" in child(w, QAbstractButton, "trainButton").toolTip()


def trainer_factory_failing_at(call: int, error: BaseException):
    """A trainer factory whose ``call``-th call (1-based) raises ``error``; the others build a Trainer."""
    calls = []

    def factory(task, model, train):
        calls.append(1)
        if len(calls) == call:
            raise error
        return Trainer(task, model, train)

    return factory


def test_an_exception_in_the_worker_is_shown_and_the_app_stays_usable(qtbot, make_window) -> None:
    w = make_window(trainer_factory=trainer_factory_failing_at(1, RuntimeError("simulated failure in the worker")))
    train_to_end(qtbot, w)
    assert w.banner.isVisible()
    assert "simulated failure in the worker" in w.banner.label.text()
    assert "simulated failure" in w.state_label.text()
    train_to_end(qtbot, w)  # the app is usable: the next run works
    assert len(log_rows(w)) == 15


def test_a_run_that_fails_to_start_leaves_the_previous_run_shown_and_saved(qtbot, make_window, tmp_path) -> None:
    failing = trainer_factory_failing_at(2, MemoryError("simulated: no memory for the new model"))
    w = make_window(trainer_factory=failing)
    train_to_end(qtbot, w)
    losses = plotted_losses(w)
    figures = [label.text() for label in (w.epoch_label, w.rate_label, w.time_label)]
    assert figures[0] == "epoch 15/15" and "epochs/s" in figures[1] and "elapsed" in figures[2]
    child(w, QDoubleSpinBox, "lrSpin").setValue(0.01)  # a fresh run, of 60 epochs
    child(w, QSpinBox, "epochsSpin").setValue(60)
    train_to_end(qtbot, w)
    assert "simulated: no memory" in w.banner.label.text()
    assert len(w.history()) == 15 and plotted_losses(w) == losses and len(log_rows(w)) == 15
    # the status bar still tells of the run shown, not "epoch 15/60" with no rate
    assert [label.text() for label in (w.epoch_label, w.rate_label, w.time_label)] == figures
    child(w, QSpinBox, "epochsSpin").setValue(15)
    child(w, QDoubleSpinBox, "lrSpin").setValue(0.05)  # back to the settings of the shown run
    assert w._save_to(tmp_path / "kept.rnnproj.json")
    assert len(load_project(tmp_path / "kept.rnnproj.json").history) == 15


def test_reset_new_and_open_leave_no_figures_of_the_previous_run_in_the_status_bar(
    qtbot, make_window, answer, tmp_path
) -> None:
    w = make_window()
    train_to_end(qtbot, w)
    assert w._save_to(tmp_path / "run.rnnproj.json")
    labels = (w.epoch_label, w.rate_label, w.time_label)
    click(qtbot, w, "resetButton")
    assert [label.text() for label in labels] == ["", "", ""]
    train_to_end(qtbot, w)
    w.open_project(str(tmp_path / "run.rnnproj.json"))  # its 15 epochs, but no run of this window's
    assert [label.text() for label in labels] == ["epoch 15", "", ""]
    train_to_end(qtbot, w)
    w.act_new.trigger()
    assert [label.text() for label in labels] == ["", "", ""]


def test_while_a_fresh_run_starts_the_status_bar_no_longer_counts_the_previous_one(qtbot, make_window) -> None:
    release = threading.Event()
    calls = []

    def slow_factory(task, model, train):  # the second trainer takes its time, as torch's first load can
        calls.append(1)
        if len(calls) == 2:
            release.wait(30)
        return Trainer(task, model, train)

    w = make_window(trainer_factory=slow_factory)
    train_to_end(qtbot, w)
    assert w.epoch_label.text() == "epoch 15/15"
    child(w, QSpinBox, "epochsSpin").setValue(20)  # a fresh run of 20 epochs
    child(w, QDoubleSpinBox, "lrSpin").setValue(0.01)
    try:
        with qtbot.waitSignal(w.session.run_ended, timeout=60_000):
            click(qtbot, w, "trainButton")
            qtbot.waitUntil(lambda: len(calls) == 2)
            assert w.state_label.text() == "Starting…"
            assert w.epoch_label.text() == "epoch 0/20" and w.time_label.text() == ""
            assert len(log_rows(w)) == 15  # the previous run stays shown until the new one has begun
            release.set()
    finally:
        release.set()
    assert w.epoch_label.text() == "epoch 20/20" and len(log_rows(w)) == 20


def test_time_steps_says_why_a_large_models_snapshots_are_few(qtbot, make_window) -> None:
    from rnnstudio.core.config import PROBE_SPARSE_BYTES

    w = make_window(trainer_factory=trainer_factory_of_sizes(PROBE_SPARSE_BYTES + 1, 1_000))
    w.show_view(w.step_inspector)
    hint = w.step_inspector.recording_hint
    assert hint.isHidden()
    train_to_end(qtbot, w)
    assert hint.isVisibleTo(w) and "only when a run starts, pauses or ends" in hint.text()
    assert w.gradient_flow.recording_hint.text() == hint.text()  # its rows are as few: it says so too
    qtbot.waitUntil(lambda: w.step_inspector.snapshot_epochs() == [0, 15])  # the start and the end only
    click(qtbot, w, "resetButton")  # a fresh small model: every batch is recorded again, no hint
    assert hint.isHidden() and w.gradient_flow.recording_hint.isHidden()
    train_to_end(qtbot, w)
    assert hint.isHidden()


def test_a_recording_note_wraps_in_what_a_narrow_window_shows_of_its_page(qtbot, make_window) -> None:
    """At 1000 px the gradient flow page is wider than its tab and scrolls sideways; its note must not run off."""
    from rnnstudio.session.training import SPARSE
    from rnnstudio.ui.main_window import RECORDING_HINTS

    w = make_window()
    w.resize(1000, 700)
    page = w.gradient_flow
    w.show_view(page)
    page.set_recording_hint(RECORDING_HINTS[SPARSE])
    viewport = page.parentWidget()  # the tab's scroll area shows the page through this
    qtbot.waitUntil(lambda: page.recording_hint.isVisible())
    QApplication.processEvents()
    assert page.width() > viewport.width()  # the narrow case: the page scrolls sideways
    note = page.recording_hint
    right = note.mapTo(viewport, note.rect().topRight()).x()
    assert 0 < right <= viewport.width()
    assert note.heightForWidth(note.width()) <= note.height()  # every wrapped line shown


@pytest.mark.parametrize(("size", "lines"), [((1000, 700), 3), ((1440, 900), 2), ((2400, 900), 1)])
def test_time_steps_controls_and_legend_are_whole_in_what_the_tab_shows(qtbot, make_window, size, lines) -> None:
    """The slider, epoch, latest and the whole legend (its target outline last) are on lines that fit the tab."""
    from rnnstudio.session.training import SPARSE
    from rnnstudio.ui.main_window import RECORDING_HINTS

    w = make_window()
    w.resize(*size)
    steps = w.step_inspector
    w.show_view(steps)
    steps.set_recording_hint(RECORDING_HINTS[SPARSE])
    train_to_end(qtbot, w)
    viewport = steps.parentWidget()  # the tab shows the page through this
    QApplication.processEvents()
    assert steps.width() <= viewport.width()  # nothing to scroll sideways to
    assert steps.top_lines() == lines
    legend = steps.legend
    assert [e.caption for e in legend.entries()] == ["hidden / input", "p", "target"]
    assert legend.height() >= legend.heightForWidth(legend.width())  # every line of the legend drawn
    for part in (steps.slider, steps.epoch_label, steps.follow_check, legend, steps.recording_hint):
        left = part.mapTo(viewport, part.rect().topLeft()).x()
        right = part.mapTo(viewport, part.rect().topRight()).x()
        assert 0 <= left and right <= viewport.width(), part.objectName()
    assert steps.recording_hint.heightForWidth(steps.recording_hint.width()) <= steps.recording_hint.height()


def test_inside_views_say_a_huge_model_is_not_recorded_instead_of_asking_to_train(qtbot, make_window) -> None:
    from rnnstudio.core.config import PROBE_MAX_BYTES

    w = make_window(trainer_factory=trainer_factory_of_sizes(PROBE_MAX_BYTES + 1, 1_000))
    steps, flow = w.step_inspector, w.gradient_flow
    assert steps.message().startswith("Train (or Step once)")
    train_to_end(qtbot, w)
    assert steps.snapshot_epochs() == [] and steps.message().startswith("A model this large is not recorded")
    assert steps.recording_hint.isHidden()  # said once, in the grid's place
    assert flow.heat_note.text().startswith("A model this large is not recorded")
    assert flow.recording_hint.isHidden()  # said once, in the empty plot's place
    assert w.try_it.message().startswith("A model this large is not recorded")
    assert w.try_it.epoch_label.text() == "no weights kept"  # not "no trained weights yet"
    w.show_view(w.try_it)
    with qtbot.waitSignal(w.try_it.text_submitted):
        w.try_it.set_text("hello")  # nothing to try it on, and the view says why
    assert w.try_it.message().startswith("A model this large is not recorded")
    assert w.try_it.epoch_label.text() == "no weights kept"
    click(qtbot, w, "resetButton")  # back to the usual advice, and then a small model's views
    assert steps.message().startswith("Train (or Step once)")
    assert not flow.heat_note.text().startswith("A model this large")
    assert w.try_it.epoch_label.text() == "no trained weights yet"
    train_to_end(qtbot, w)
    w.show_view(steps)
    qtbot.waitUntil(lambda: steps.snapshot_epochs()[-1:] == [15])


def test_cuda_without_cuda_is_a_problem_at_the_device_before_training(qtbot, make_window) -> None:
    w = make_window()
    w.cuda_available = lambda: False
    train_to_end(qtbot, w)
    device = child(w, QComboBox, "deviceCombo")
    index = device.findData("cuda")
    device.setCurrentIndex(index)
    assert not w.act_train.isEnabled()
    assert [p.field for p in w.config_panel.problems()] == ["device"]
    assert "CUDA is not available here" in device.toolTip()
    assert "Not available here" in device.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert device.model().item(index).isEnabled()  # a project may ask for it: it stays selectable
    assert len(w.history()) == 15
    device.setCurrentIndex(device.findData("auto"))
    assert w.act_train.isEnabled() and w.act_train.text() == "&Continue"  # the run is still there


def test_divergence_is_reported_with_advice(qtbot, make_window) -> None:
    def diverging(task, model, train):
        return Trainer(task, model, replace(train, optimizer="sgd", lr=10.0))

    w = make_window(trainer_factory=diverging)
    combo = child(w, QComboBox, "presetCombo")
    index = combo.findData("rnn-onehot")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    w.config_panel.set_config(
        replace(w.model_config(), head="linear", hidden_size=64, nonlinearity="relu"),
        replace(w.train_config(), epochs=300),
    )
    train_to_end(qtbot, w)
    if w._last_outcome.status != "diverged":
        pytest.skip("did not diverge on this build")
    assert w.banner.isVisible() and "try a lower learning rate" in w.banner.label.text()


def test_opening_a_file_with_problems_says_so_in_the_status_bar(qtbot, make_window, tmp_path: Path) -> None:
    # It said only "Opened mismatched.json", with Train disabled and no word why.
    from rnnstudio.core.sequences import Task

    w = make_window()
    path = tmp_path / "mismatched.json"
    save_project(replace(get_preset("rnn-embedding").project, task=Task.of([("hello", "ohl")])), path)
    assert w.open_project(path)
    assert not w.act_train.isEnabled()
    assert w.state_label.text().startswith("Opened mismatched.json: 1 problem to fix before training")
    replace_text(qtbot, child(w, QLineEdit, "targetEdit"), "ohlol")
    assert w.act_train.isEnabled() and w.state_label.text() == "Ready to train (F5)"


def test_a_run_stopped_before_its_first_epoch_leaves_train_not_continue(qtbot, make_window) -> None:
    # F5 then Shift+F5 at once: "Stopped after epoch 0", and the button read Continue with nothing trained.
    w = make_window()
    with qtbot.waitSignal(w.session.run_ended, timeout=60_000):
        w.act_train.trigger()
        w.act_stop.trigger()  # before the worker has trained an epoch
    assert w.history() == []
    assert w.act_train.text().replace("&", "") == "Train" and w.act_train.toolTip().startswith("Train from fresh")
    train_to_end(qtbot, w)
    assert len(w.history()) == w.train_config().epochs and w.history()[-1].predictions == ("ohlol",)
    assert w.act_train.text().replace("&", "") == "Continue"


def test_closing_during_a_run_stops_and_joins_the_worker(qtbot, make_window) -> None:
    w = make_window()
    child(w, QSpinBox, "epochsSpin").setValue(1_000_000)
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: len(log_rows(w)) >= 2, timeout=30_000)
    thread = w.session._thread
    assert w.close()
    assert thread.isFinished()


def test_unsaved_changes_prompt_on_new(qtbot, make_window, answer) -> None:
    w = make_window()
    replace_text(qtbot, child(w, QLineEdit, "inputEdit"), "hellx")
    answer["reply"] = QMessageBox.Cancel
    w.act_new.trigger()
    assert answer["asked"] == 1 and child(w, QLineEdit, "inputEdit").text() == "hellx"  # nothing lost
    answer["reply"] = QMessageBox.Discard
    w.act_new.trigger()
    assert child(w, QLineEdit, "inputEdit").text() == "hello"


def test_cancelling_a_preset_switch_leaves_the_preset_box_as_it_was(qtbot, make_window, answer) -> None:
    w = make_window()
    combo = child(w, QComboBox, "presetCombo")
    loaded = combo.currentData()
    train_to_end(qtbot, w)  # a run to save, but the strings and network are still the preset's
    assert w.isWindowModified() and combo.currentData() == loaded
    answer["reply"] = QMessageBox.Cancel
    other = next(i for i in range(combo.count()) if combo.itemData(i) != loaded)
    combo.setCurrentIndex(other)  # the user picks another preset...
    combo.activated.emit(other)
    assert answer["asked"] == 1  # ...is asked about the unsaved change, and cancels
    assert combo.currentData() == loaded  # the box goes back to the preset still shown
    replace_text(qtbot, child(w, QLineEdit, "inputEdit"), "hellx")
    combo.setCurrentIndex(other)
    combo.activated.emit(other)
    assert answer["asked"] == 2
    assert combo.currentIndex() == -1 and combo.placeholderText() == "Custom"  # back to what it showed
    assert child(w, QLineEdit, "inputEdit").text() == "hellx"


@pytest.mark.parametrize("preset_id", [p.id for p in presets()])
def test_the_preset_box_reads_custom_once_the_project_differs_from_its_preset(qtbot, make_window, preset_id) -> None:
    w = make_window()
    w.load_preset(preset_id)
    combo = child(w, QComboBox, "presetCombo")
    assert combo.currentData() == preset_id  # loading it round-trips through every control unchanged
    hidden = child(w, QSpinBox, "hiddenSpin")
    size = hidden.value()
    hidden.setValue(size + 1)
    assert combo.currentIndex() == -1 and combo.placeholderText() == "Custom"
    hidden.setValue(size)  # set back by hand: the preset's own settings again
    assert combo.currentData() == preset_id
    edit = child(w, QLineEdit, "inputEdit")
    replace_text(qtbot, edit, edit.text() + "x")
    assert combo.currentIndex() == -1
    while w.act_undo.isEnabled():
        w.act_undo.trigger()
    assert combo.currentData() == preset_id  # undone back to the preset's strings
    child(w, QSpinBox, "epochsSpin").setValue(child(w, QSpinBox, "epochsSpin").value() + 5)
    assert combo.currentIndex() == -1  # the preset also sets the number of epochs
    combo.setCurrentIndex(combo.findData(preset_id))
    combo.activated.emit(combo.findData(preset_id))  # picking it again reloads it (the change discarded)
    assert combo.currentData() == preset_id and not w.isWindowModified()
    assert child(w, QSpinBox, "epochsSpin").value() == get_preset(preset_id).project.train.epochs


def test_the_preset_box_names_a_preset_the_window_holds_however_it_got_there(qtbot, make_window, tmp_path) -> None:
    w = make_window()
    combo = child(w, QComboBox, "presetCombo")
    w.load_preset("rnn-onehot")
    path = tmp_path / "onehot.rnnproj.json"
    assert w._save_to(path)
    w.load_preset("rnncell-onehot")
    assert w.open_project(path)
    assert combo.currentData() == "rnn-onehot"  # a file holding a preset's strings and settings
    child(w, QSpinBox, "hiddenSpin").setValue(child(w, QSpinBox, "hiddenSpin").value() + 1)
    assert combo.currentIndex() == -1
    w.act_new.trigger()  # the default project: the default preset's strings and settings
    assert combo.currentData() == "rnn-embedding"
    from rnnstudio.core.sequences import Task

    w.set_project(replace(get_preset("rnn-embedding").project, task=Task.of([("abcd", "dcba")])))
    assert combo.currentIndex() == -1  # a project of its own


def test_undoing_every_edit_back_to_the_saved_strings_leaves_nothing_to_save(qtbot, make_window) -> None:
    w = make_window()
    edit = child(w, QLineEdit, "inputEdit")
    replace_text(qtbot, edit, "hellx")
    assert w.isWindowModified()
    while w.act_undo.isEnabled():
        w.act_undo.trigger()
    assert edit.text() == "hello" and not w.isWindowModified()  # Quit and New need not ask
    w.act_redo.trigger()
    assert w.isWindowModified()
    child(w, QSpinBox, "epochsSpin").setValue(123)  # an option's change is a step too
    while w.act_undo.isEnabled():
        w.act_undo.trigger()
    assert w.train_config().epochs == get_preset("rnn-embedding").project.train.epochs
    assert not w.isWindowModified()
    train_to_end(qtbot, w)  # a run is not in the undo history: its epochs are there to save
    replace_text(qtbot, edit, "hellx")
    while w.act_undo.isEnabled():
        w.act_undo.trigger()
    assert edit.text() == "hello" and w.isWindowModified()


def test_quit_has_a_shortcut_shown_once_in_its_tooltip(make_window) -> None:
    w = make_window()
    keys = [k.toString() for k in w.act_quit.shortcuts()]
    assert keys and len(keys) == len(set(keys))
    assert (
        w.act_quit.toolTip()
        == f"Quit ({' or '.join(k.toString(QKeySequence.NativeText) for k in w.act_quit.shortcuts())})"
    )


def test_save_and_open_round_trip_with_history(qtbot, make_window, tmp_path: Path) -> None:
    w = make_window()
    train_to_end(qtbot, w)
    path = tmp_path / "run.rnnproj.json"
    assert w._save_to(path)
    assert not w.isWindowModified()
    saved = load_project(path)
    assert [r.loss for r in saved.history] == plotted_losses(w)
    assert str(path.resolve()) in w.recent_files()
    w2 = make_window()
    assert w2.open_project(path)
    assert plotted_losses(w2) == plotted_losses(w)
    assert len(log_rows(w2)) == 15


def test_a_corrupt_project_is_refused_with_its_reason_and_nothing_is_lost(qtbot, make_window, tmp_path: Path) -> None:
    w = make_window()
    replace_text(qtbot, child(w, QLineEdit, "inputEdit"), "hellx")
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, "pairs": [', encoding="utf-8")
    assert not w.open_project(bad)
    assert "truncated" in w.banner.label.text()
    assert child(w, QLineEdit, "inputEdit").text() == "hellx"


def test_geometry_splitters_and_log_scale_are_remembered(qtbot, make_window) -> None:
    from rnnstudio.ui.main_window import app_settings

    w = make_window()
    w.main_split.setSizes([380, 640, 420])
    w.loss_panel.set_log_scale(True)
    geometry, state = w.saveGeometry(), w.main_split.saveState()
    w.close()
    s = app_settings()
    assert s.value("window/geometry") == geometry and s.value("window/mainSplitter") == state
    w2 = MainWindow()  # not shown yet: what it restored, before the offscreen screen (800x600) clamps it
    qtbot.addWidget(w2)
    assert w2.main_split.saveState() == state
    assert w2.loss_panel.log_scale()
    w2.session.shutdown()


def fitted_window(qtbot, screen) -> MainWindow:
    """A first-run window, shown, then fitted into ``screen`` (a QRect), as run_app does."""
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.fit_to_screen(screen)
    QApplication.processEvents()
    return w


def test_a_first_run_window_fits_a_small_screen_with_room_for_the_plot_and_the_settings(qtbot) -> None:
    from PySide6.QtCore import QRect

    plain = MainWindow()  # what the columns would be if the window were only made smaller
    qtbot.addWidget(plain)
    plain.resize(992, 688)
    plain.show()
    screen = QRect(0, 0, 1024, 768)
    w = fitted_window(qtbot, screen)
    big = fitted_window(qtbot, QRect(0, 0, 2560, 1440))
    try:
        assert screen.contains(w.frameGeometry())
        assert screen.bottom() - w.frameGeometry().bottom() >= 16  # room for a title bar the manager adds
        left, centre, right = w.main_split.sizes()
        assert centre > plain.main_split.sizes()[1] + 40  # the plot is not squeezed by the side columns
        assert abs(left / w.width() - 420 / 1440) < 0.01  # the pairs column in proportion: nothing in it
        # needs more (the vocabulary's "derived from the strings" wraps rather than widening it)
        assert right >= w.config_panel.sizeHint().width()  # settings keep their labels beside their fields
        assert (big.width(), big.height()) == (1440, 900)  # a large screen: the first-run size as it is
    finally:
        for window in (plain, w, big):
            window.session.shutdown()


@pytest.mark.parametrize("screen", [(0, 0, 800, 620), (1920, 0, 800, 600), (0, 0, 400, 300), (0, 0, 0, 0)])
def test_a_screen_smaller_than_the_window_can_be_gets_it_at_its_least_with_every_column(qtbot, screen) -> None:
    from PySide6.QtCore import QRect

    from rnnstudio.ui.main_window import SETTLE_MS, TITLE_BAR

    area = QRect(*screen)
    w = fitted_window(qtbot, area)
    try:
        qtbot.wait(SETTLE_MS + 300)  # the views refresh at the new width: wrapped texts may add height
        least = w.minimumSize()  # what the layouts need (Qt keeps the window no smaller)
        assert least.width() > 0 and w.width() >= least.width() and w.height() >= least.height()
        assert all(size > 0 for size in w.main_split.sizes())  # no column collapsed to nothing
        frame = w.frameGeometry()
        if not area.isEmpty():
            assert frame.left() >= area.left() and frame.top() >= area.top()  # never off the top or left
            if area.height() >= frame.height() + TITLE_BAR:
                assert frame.bottom() + TITLE_BAR <= area.bottom()  # nor, with its title bar, off the bottom
            if area.width() >= frame.width():
                assert frame.right() <= area.right()
        if area.isEmpty():
            assert (w.width(), w.height()) == (1440, 900)  # no screen to fit: left as it was
    finally:
        w.session.shutdown()


def test_a_remembered_window_is_not_refitted(qtbot, make_window) -> None:
    from PySide6.QtCore import QRect

    w = make_window()
    w.resize(1200, 800)
    w.close()  # saves the geometry
    again = MainWindow()
    qtbot.addWidget(again)
    size = again.size()
    again.fit_to_screen(QRect(0, 0, 1024, 768))
    assert again.size() == size
    again.session.shutdown()


def test_about_names_python_torch_and_qt_versions() -> None:
    import platform

    import torch
    from PySide6.QtCore import qVersion

    text = about_text()
    assert platform.python_version() in text and torch.__version__ in text and qVersion() in text


def test_inside_views_follow_a_run(qtbot, make_window) -> None:
    w = make_window()
    train_to_end(qtbot, w)
    p = get_preset("rnn-embedding").project
    reference = Trainer(p.task, p.model, p.train)
    list(reference.epochs())
    expected = reference.infer("hello", "ohlol")

    w.show_view(w.step_inspector)
    qtbot.waitUntil(lambda: w.step_inspector.displayed_epoch() == 15, timeout=30_000)
    np.testing.assert_array_equal(w.step_inspector.displayed_probabilities(), expected.probabilities)

    w.show_view(w.try_it)
    with qtbot.waitSignal(w.inspector.replied, timeout=30_000):
        replace_text(qtbot, child(w, QLineEdit, "tryInput"), "hello")
    qtbot.waitUntil(lambda: w.try_it.displayed_prediction() == expected.predicted, timeout=30_000)

    w.show_view(w.film_strip)
    assert w.film_strip.shown_epochs()[-1] == 15

    w.show_view(w.gradient_flow)
    assert w.gradient_flow.displayed_epochs()[0] == 0 and w.gradient_flow.displayed_epochs()[-1] == 15
    np.testing.assert_array_equal(w.gradient_flow.displayed_matrix(0)[-1], reference.gradient_flow()[0])

    w.show_view(w.shapes_view)
    shapes = dict(w.shapes_view.displayed_shapes())
    assert shapes["inputs (indices)"] == (1, 5) and shapes["embedding output"] == (1, 5, 10)


def test_launch_without_a_display_says_so_instead_of_crashing() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    if sys.platform != "linux":
        pytest.skip("the display check is for Linux")
    out = subprocess.run(
        [sys.executable, str(REPO / "main.py")], capture_output=True, text=True, env=env, cwd=REPO, timeout=60
    )
    assert out.returncode == 2
    assert "no display" in out.stderr and "Traceback" not in out.stderr


PAINT_AND_LIST_THREADS = """
import os
from rnnstudio.app import create_application
from rnnstudio.ui.main_window import MainWindow
app = create_application()
w = MainWindow()
w.resize(1440, 900)
w.show()
app.processEvents()
w.grab()  # every widget painted, the scroll bars' gradient fills among them
print(*(open(f"/proc/self/task/{t}/comm").read().strip() for t in os.listdir("/proc/self/task")), sep="\\n")
w.setWindowModified(False)
w.shut_down()
"""


def test_painting_the_window_starts_no_threads_of_qts_gui_pool() -> None:
    # Qt split large fills between threads of its own pool; during a run they woke on the training
    # thread's CPU and pre-empted the GUI thread 20-75 times a second. The app's process does without.
    if sys.platform != "linux":
        pytest.skip("thread names are read from /proc")
    env = {k: v for k, v in os.environ.items() if k != "QT_NO_GUI_THREADPOOL"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    out = subprocess.run(
        [sys.executable, "-c", PAINT_AND_LIST_THREADS], capture_output=True, text=True, env=env, cwd=REPO, timeout=120
    )
    assert out.returncode == 0, out.stderr
    threads = out.stdout.splitlines()
    assert "rnnstudio-train" in threads  # the listing is the app's, with its own thread
    assert "Thread (pooled)" not in threads


def test_closing_while_an_inside_view_follows_leaves_no_thread_behind(qtbot, make_window) -> None:
    w = make_window()
    child(w, QSpinBox, "epochsSpin").setValue(1_000_000)
    w.show_view(w.step_inspector)
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.step_inspector.displayed_epoch() is not None, timeout=30_000)
    assert w.close()
    QApplication.processEvents()  # deliver whatever the threads had queued before they were joined
    QApplication.processEvents()
    assert w.session._thread is None and w.inspector._thread is None


def test_saving_during_a_run_leaves_the_later_epochs_marked_unsaved(qtbot, make_window, tmp_path: Path) -> None:
    w = make_window()
    # Long enough that the save surely falls inside the run (400 epochs could end before the log's
    # second refresh, which comes up to a second after the first); stopped once saved.
    child(w, QSpinBox, "epochsSpin").setValue(100_000)
    with qtbot.waitSignal(w.session.run_ended, timeout=60_000):
        click(qtbot, w, "trainButton")
        qtbot.waitUntil(lambda: len(log_rows(w)) >= 5, timeout=30_000)
        w._save_to(tmp_path / "mid.rnnproj.json")
        assert w.state_label.text() == "Saved mid.rnnproj.json; training goes on…"
        click(qtbot, w, "stopButton")
    assert len(load_project(tmp_path / "mid.rnnproj.json").history) < len(w.history())
    assert w.isWindowModified()  # so Quit or New will ask before dropping the rest


def test_a_history_too_large_to_save_can_be_left_out(qtbot, make_window, answer, tmp_path, monkeypatch) -> None:
    from rnnstudio.core import project_io

    w = make_window()
    train_to_end(qtbot, w)
    monkeypatch.setattr(project_io, "MAX_PROJECT_BYTES", 2_000)  # 15 epochs of history are too much
    path = tmp_path / "p.rnnproj.json"
    answer["reply"] = QMessageBox.Cancel
    assert not w._save_to(path)
    assert answer["asked"] == 1 and not path.exists() and w.isWindowModified()
    answer["reply"] = QMessageBox.Save
    assert w._save_to(path)
    saved = load_project(path)
    assert saved.history == () and saved.task == w.task() and saved.train == w.train_config()
    assert w.state_label.text() == "Saved p.rnnproj.json without its history (too large)"
    assert len(w.history()) == 15  # still in the window


def test_history_is_saved_only_with_the_settings_that_made_it(qtbot, make_window, tmp_path: Path) -> None:
    w = make_window()
    train_to_end(qtbot, w)
    replace_text(qtbot, child(w, QLineEdit, "targetEdit"), "xxxxx")
    w._save_to(tmp_path / "edited.rnnproj.json")
    saved = load_project(tmp_path / "edited.rnnproj.json")
    assert saved.task.pairs[0].target == "xxxxx" and saved.history == ()


def test_settings_that_leave_the_network_the_same_keep_the_history(qtbot, make_window, tmp_path: Path) -> None:
    w = make_window()
    train_to_end(qtbot, w)
    child(w, QSpinBox, "threadsSpin").setValue(1)
    device = child(w, QComboBox, "deviceCombo")
    device.setCurrentIndex(device.findData("cpu"))
    click(qtbot, w, "vocabExplicitButton")  # the same characters in the same order
    assert w.task().vocab is not None
    path = tmp_path / "same.rnnproj.json"
    assert w._save_to(path)
    assert len(load_project(path).history) == 15
    assert w.state_label.text() == "Saved same.rnnproj.json"


def test_saving_without_the_history_says_so_and_why(qtbot, make_window, tmp_path: Path) -> None:
    w = make_window()
    train_to_end(qtbot, w)
    child(w, QDoubleSpinBox, "lrSpin").setValue(0.01)
    assert w._save_to(tmp_path / "lr.rnnproj.json")
    assert load_project(tmp_path / "lr.rnnproj.json").history == ()
    assert w.state_label.text() == "Saved lr.rnnproj.json without the history: the settings changed since the run"
    replace_text(qtbot, child(w, QLineEdit, "targetEdit"), "xxxxx")
    assert w._save_to(tmp_path / "t.rnnproj.json")
    assert w.state_label.text() == "Saved t.rnnproj.json without the history: the strings changed since the run"
    assert len(w.history()) == 15  # still in the window


@pytest.mark.parametrize(
    ("model_changes", "train_changes"),
    [
        ({}, {"lr": 0.0012345678}),
        ({}, {"lr": 1.5e-6, "clip_grad_norm": 1e-7}),  # were opened as 2e-6 and 0 (clipping off)
        ({"num_layers": 2, "dropout": 0.1234567}, {"optimizer": "sgd", "momentum": 0.123456789, "lr": 0.3}),
    ],
    ids=["lr-10-digits", "lr-and-clip-tiny", "dropout-momentum"],
)
def test_a_project_opens_and_saves_as_with_its_values_and_history_unchanged(
    make_window, monkeypatch, tmp_path: Path, model_changes, train_changes
) -> None:
    base = get_preset("rnn-embedding").project
    project = replace(
        base,
        model=replace(base.model, **model_changes),
        train=replace(base.train, **train_changes),
        history=tuple(epoch_results(10)),
        name="my project",  # the user's: a preset's name would go with its network (own_description)
        description="",
    )
    opened, saved = tmp_path / "opened.rnnproj.json", tmp_path / "saved.rnnproj.json"
    save_project(project, opened)
    w = make_window()
    assert w.open_project(opened)
    assert w.model_config() == project.model and w.train_config() == project.train
    assert not w.isWindowModified()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(saved), ""))
    assert w.save_as()
    before, after = json.loads(opened.read_text("utf-8")), json.loads(saved.read_text("utf-8"))
    assert after["model"] == before["model"] and after["train"] == before["train"]
    assert len(after["history"]) == 10 and after["history"] == before["history"]
    assert saved.read_bytes() == opened.read_bytes()


def test_a_project_the_cli_saved_opens_in_the_window_with_the_same_values(make_window, tmp_path: Path, capsys) -> None:
    path = tmp_path / "cli.rnnproj.json"
    argv = ["train", "--lr", "1.5e-6", "--clip", "1e-7", "--epochs", "2", "--save-project", str(path), "--jsonl"]
    assert cli.main(argv) == 0
    capsys.readouterr()
    saved = load_project(path)
    assert (saved.train.lr, saved.train.clip_grad_norm, len(saved.history)) == (1.5e-6, 1e-7, 2)
    w = make_window()
    assert w.open_project(path)
    assert w.train_config() == saved.train and w.model_config() == saved.model
    assert child(w, QDoubleSpinBox, "lrSpin").text() == "1.5e-6"
    assert child(w, QDoubleSpinBox, "clipSpin").text() == "1e-7"
    assert not w.isWindowModified()
    assert w.project().history == saved.history, "the CLI's epochs are kept for the next save"


def test_views_follow_the_selected_pair_by_content_after_edits(qtbot, make_window) -> None:
    from rnnstudio.core.sequences import Task

    w = make_window()
    p = get_preset("rnn-embedding").project
    w.set_project(replace(p, task=Task.of([("hello", "ohlol"), ("abcd", "dcba")])))
    train_to_end(qtbot, w)
    w.task_editor.select_pair(0)
    w.task_editor.remove_action.trigger()  # the user removes hello -> ohlol; abcd -> dcba is now row 0
    w.task_editor.select_pair(0)
    w.show_view(w.film_strip)
    assert (w.film_strip.input_text(), w.film_strip.target()) == ("abcd", "dcba")
    w.show_view(w.step_inspector)
    qtbot.waitUntil(lambda: w.step_inspector.displayed_epoch() is not None, timeout=30_000)
    assert w.step_inspector.grid.inference().text == "abcd"


def test_a_reply_for_weights_since_reset_is_not_shown(qtbot, make_window) -> None:
    w = make_window()
    train_to_end(qtbot, w)
    w.show_view(w.try_it)
    with qtbot.waitSignal(w.inspector.replied, timeout=30_000):
        replace_text(qtbot, child(w, QLineEdit, "tryInput"), "hello")
    qtbot.waitUntil(lambda: w.try_it.displayed_prediction() != "", timeout=30_000)
    with qtbot.waitSignal(w.inspector.replied, timeout=30_000):
        w._request_try("hello")  # a request in flight...
        click(qtbot, w, "resetButton")  # ...when the user resets the weights
    assert w.try_it.displayed_prediction() == ""


def test_status_and_readout_updates_do_not_relayout_the_window(make_window, qtbot):
    # A run changes these texts ten times a second; each change used to relay out the whole window
    # (every widget asked its size, each Python widget taking the GIL from training).
    window = make_window()
    qtbot.waitExposed(window)
    requests = []

    class Spy(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.LayoutRequest and obj is window:
                requests.append(event.type())
            return False

    spy = Spy()
    window.installEventFilter(spy)
    quiet = 0
    for _ in range(50):  # the layouts of the window's first showing settle (wrapped labels ask twice)
        seen = len(requests)
        QApplication.processEvents()
        quiet = quiet + 1 if len(requests) == seen else 0
        if quiet == 5:
            break
    assert quiet == 5, "the window kept relaying itself out"
    requests.clear()
    try:
        for n in (9, 99, 99_999, 1_000_000):
            window.epoch_label.setText(f"epoch {n}/{1_000_000}")
            window.rate_label.setText(f"{n:,} epochs/s")
            window.time_label.setText(f"elapsed 1:{n % 60:02d}:00 · ETA 12:34:56")
            window.loss_panel.readout_label.setText(f"latest: epoch {n}   loss 0.{n}   accuracy 75.0%")
            QApplication.processEvents()
    finally:
        window.removeEventFilter(spy)
    assert requests == []
    # The longest texts still fit, and the read-out fills the room its row gives it.
    for label in (window.epoch_label, window.rate_label, window.time_label):
        assert label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width(), (
            label.text(),
            label.fontMetrics().horizontalAdvance(label.text()),
            label.contentsRect().width(),
        )
    readout = window.loss_panel.readout_label
    assert readout.isVisible() and readout.geometry() == readout.parentWidget().rect()
    readout.setText("latest: epoch 99999   loss 0.3737   accuracy 75.0%")
    assert readout.width() >= readout.fontMetrics().horizontalAdvance(readout.text())
    window.resize(1440, 900)  # the README's screenshot size: a long run's read-out is not cut either
    QApplication.processEvents()
    readout.setText("latest: epoch 1000000   loss 1.234e-05   accuracy 100.0%")
    assert readout.width() >= readout.fontMetrics().horizontalAdvance(readout.text())


def test_a_live_refresh_paints_everything_it_changed_before_it_returns(make_window, qtbot):
    # A refresh is drawn while training waits at the frame gate; whatever it leaves queued (a label's
    # deferred update, the log's delayed layout) is painted after the gate opens, beside training.
    window = make_window()
    qtbot.waitExposed(window)
    for _ in range(3):
        QApplication.processEvents()
    results = epoch_results(600)
    window._run_first = results[0]
    window.loss_panel.set_x_goal(5000)  # as during a run of 5,000 epochs

    watched = {
        window.loss_panel.readout_label: "plot read-out",
        window.epoch_label: "epoch label",
        window.rate_label: "rate label",
        window.prediction_log.viewport(): "predictions log",
        window.loss_panel.plot.viewport(): "loss plot",
    }
    painted = []

    class Spy(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint and obj in watched:
                painted.append(watched[obj])
            return False

    def paints_left_behind(run_loop) -> list[str]:
        painted.clear()
        spy = Spy()
        QApplication.instance().installEventFilter(spy)
        try:
            run_loop()
        finally:
            QApplication.instance().removeEventFilter(spy)
        return list(painted)

    def refresh(batch, check_between=False) -> None:  # as results arriving during a run are shown
        window._history.extend(batch)
        window._live_pending.extend(batch)
        window._refresh_live()  # the plot's frame
        if check_between:  # what the event loop does before the next frame: posted events, not timers
            assert paints_left_behind(QApplication.sendPostedEvents) == []
        window._live.flush()  # the log's and status bar's frame, now rather than on the next turn

    refresh(results[:300])  # the run's first refresh: the log gets its scroll bar, the plot its range
    for _ in range(3):
        QApplication.processEvents()
    refresh(results[300:], check_between=True)  # the next one, as every later refresh of a run
    assert window.prediction_log.model().rowCount() == 600

    def turns() -> None:
        for _ in range(3):
            QApplication.processEvents()

    assert paints_left_behind(turns) == []
    assert window.loss_panel.readout_label.text().startswith("latest: epoch 600")


def test_results_come_from_the_worker_as_often_as_the_live_views_refresh(make_window, qtbot):
    from rnnstudio.session.training import ResultBatch
    from rnnstudio.ui.main_window import BATCH_MIN_S, LIVE_MAX_MS

    window = make_window()
    assert window.session.batch_interval() == BATCH_MIN_S
    window.set_live_refresh_budget(1e-6)  # any refresh is then too costly: the slowest rate
    results = epoch_results(10)
    window._on_session_results(ResultBatch(tuple(results[:5])))  # as a run's first batch: shown at once
    # The plot at once, the log and status bar on the next turn of the event loop: then the cost is known.
    qtbot.waitUntil(lambda: window.live_refresh_interval_ms() == LIVE_MAX_MS, timeout=2000)
    window._on_session_results(ResultBatch(tuple(results[5:])))
    assert window.session.batch_interval() == LIVE_MAX_MS / 1000
    assert len(window.history()) == 10
    window.set_live_refresh_budget(1e-6, max_ms=300)  # a lower ceiling: refreshes and batches follow it
    assert window.live_refresh_interval_ms() == 300
    window._on_session_results(ResultBatch(tuple(epoch_results(12)[10:])))
    assert window.session.batch_interval() == 0.3
    assert len(window.history()) == 12


def test_weights_reset_between_a_refreshs_two_frames_leaves_the_log_empty(make_window, event_loop_turn):
    window = make_window()
    results = epoch_results(20)
    window._run_first = results[0]
    window._history.extend(results)
    window._live_pending.extend(results)
    window._refresh_live()  # the plot at once; the log's frame waits for the next turn of the event loop
    window._on_reset_triggered()  # Reset weights, clicked in that turn
    event_loop_turn()  # when the log's frame would have run
    assert window.prediction_log.model().rowCount() == 0
    assert window.history() == []
    fresh = epoch_results(5)  # the next run's first results: nothing of the old run comes back with them
    window._run_first = fresh[0]
    window._history.extend(fresh)
    window._live_pending.extend(fresh)
    window._refresh_live()
    window._live.flush()
    assert window.prediction_log.model().rowCount() == 5


# --- bad files and failures while showing a project: the open project is never lost -----------


def _bad_project_files(folder: Path) -> dict[str, Path]:
    """The three kinds of file a reviewer found escaping as exceptions (and aborting main.py FILE)."""
    good = json.loads((REPO / "resources" / "presets" / "rnn-embedding.json").read_text(encoding="utf-8"))
    texts = {
        "5000-digit integer": json.dumps(good).replace('"epochs": 15', '"epochs": ' + "9" * 5000),
        "nested 100,000 deep": "[" * 100_000 + "]" * 100_000,
        "epoch 10**30": json.dumps(dict(good, history=[dict(epoch=10**30, loss=1.0, accuracy=0.5, predictions=["h"])])),
    }
    assert '"epochs": 15' in json.dumps(good)
    paths = {}
    for i, (kind, text) in enumerate(texts.items()):
        paths[kind] = folder / f"bad{i}.json"
        paths[kind].write_text(text, encoding="utf-8")
    return paths


@pytest.fixture
def warnings_shown(monkeypatch, answer) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append(text))
    return shown


def _window_state(w: MainWindow) -> tuple:
    return (w.project(), w.history(), w._path, w.windowTitle(), w.isWindowModified(), w.config_panel.current_preset())


def test_a_bad_file_is_refused_with_a_message_and_the_edited_project_stays(
    qtbot, make_window, tmp_path: Path, warnings_shown: list[str]
) -> None:
    w = make_window()
    replace_text(qtbot, child(w, QLineEdit, "inputEdit"), "hellx")
    before = _window_state(w)
    assert before[4]  # modified
    for kind, path in _bad_project_files(tmp_path).items():
        warnings_shown.clear()
        assert not w.open_project(path), kind
        assert len(warnings_shown) == 1 and warnings_shown[0].startswith(str(path)), (kind, warnings_shown)
        assert _window_state(w) == before, kind
    assert "corrupt" in warnings_shown[0] or "history entry 1: epoch" in warnings_shown[0]


def test_a_failure_while_showing_an_opened_project_puts_the_previous_one_back(
    qtbot, make_window, tmp_path: Path, monkeypatch, warnings_shown: list[str]
) -> None:
    w = make_window()
    w.set_project(replace(get_preset("rnn-embedding").project, history=tuple(epoch_results(3))), tmp_path / "mine.json")
    replace_text(qtbot, child(w, QLineEdit, "inputEdit"), "hellx")  # unsaved, and the history no longer matches
    child(w, QSpinBox, "epochsSpin").setValue(40)
    before = _window_state(w)
    assert before[2] == tmp_path / "mine.json" and before[3].startswith("mine.json") and before[4]
    other = tmp_path / "other.json"
    save_project(replace(get_preset("rnn-onehot").project, history=tuple(epoch_results(2))), other)

    def broken(results) -> None:
        raise RuntimeError("the view broke")

    monkeypatch.setattr(w.gradient_flow, "add_results", broken)  # a late step of showing a project fails
    assert not w.open_project(other)
    assert len(warnings_shown) == 1 and "the view broke" in warnings_shown[0] and "other.json" in warnings_shown[0]
    assert "the view broke" in w.banner.label.text()
    assert _window_state(w) == before
    assert child(w, QLineEdit, "inputEdit").text() == "hellx"
    assert str(other.resolve()) not in w.recent_files()
    w.act_undo.trigger()  # the undo history is kept too: the epochs, then the strings
    assert w.train_config().epochs == get_preset("rnn-embedding").project.train.epochs and w.isWindowModified()
    w.act_undo.trigger()
    assert child(w, QLineEdit, "inputEdit").text() == "hello" and not w.isWindowModified()  # as in mine.json
    w.act_redo.trigger()
    w.act_redo.trigger()
    assert child(w, QLineEdit, "inputEdit").text() == "hellx" and w.train_config().epochs == 40

    monkeypatch.undo()  # once the view works again, the same file opens
    assert w.open_project(other)
    assert w.task() == get_preset("rnn-onehot").project.task and len(w.history()) == 2


def test_the_chance_line_belongs_to_the_run_on_the_plot_not_to_later_edits(qtbot, make_window) -> None:
    # After a hello -> ohlol run, typing "hellx" moved the dashed line to ln 5 under the |V| = 4 curve.
    import math

    w = make_window()
    chance = w.loss_panel.plot._chance_line
    child(w, QSpinBox, "epochsSpin").setValue(5)
    assert chance.value() == pytest.approx(math.log(4))
    train_to_end(qtbot, w)
    replace_text(qtbot, child(w, QLineEdit, "inputEdit"), "hellx")  # |V| = 5 now, the curve still |V| = 4's
    assert len(w.history()) == 5 and chance.value() == pytest.approx(math.log(4))
    w.act_reset.trigger()  # the run leaves the plot: the line is the next run's
    assert w.history() == [] and chance.value() == pytest.approx(math.log(5))
    train_to_end(qtbot, w)
    assert chance.value() == pytest.approx(math.log(5))


def test_typing_after_a_run_is_an_undo_step_of_its_own(qtbot, make_window) -> None:
    # Typing before and after a run merged into one step: undo skipped the strings the run trained on.
    w = make_window()
    child(w, QSpinBox, "epochsSpin").setValue(5)
    target = child(w, QLineEdit, "targetEdit")
    target.setFocus()
    target.end(False)
    qtbot.keyClick(target, Qt.Key_Backspace)
    qtbot.keyClicks(target, "x")  # "ohlox"
    train_to_end(qtbot, w)
    target.setFocus()
    target.end(False)
    qtbot.keyClick(target, Qt.Key_Backspace)
    qtbot.keyClicks(target, "z")
    assert target.text() == "ohloz"
    w.act_undo.trigger()
    assert target.text() == "ohlox"  # the strings the run trained on
    w.act_undo.trigger()
    assert target.text() == "ohlol"


@pytest.mark.parametrize("how", ["New", "preset", "Open"])
def test_new_a_preset_or_open_starts_an_empty_undo_history(qtbot, make_window, tmp_path: Path, how: str) -> None:
    # Undo after Open must not put the previous project's strings into the new one.
    w = make_window()
    other = tmp_path / "other.json"
    save_project(get_preset("rnn-onehot").project, other)
    edit = child(w, QLineEdit, "inputEdit")
    replace_text(qtbot, edit, "hellx")
    assert w.act_undo.isEnabled()
    if how == "New":
        w.act_new.trigger()
    elif how == "preset":
        w.load_preset("rnncell-onehot")
    else:
        assert w.open_project(other)
    assert edit.text() == "hello" and not w.isWindowModified()
    assert not w.act_undo.isEnabled() and not w.act_redo.isEnabled()
    assert not w.task_editor.undo_stack().canUndo()


def test_after_a_failed_open_undoing_back_to_the_saved_strings_leaves_nothing_to_save(
    qtbot, make_window, tmp_path: Path, monkeypatch, warnings_shown: list[str]
) -> None:
    w = make_window()
    assert w._save_to(tmp_path / "mine.json")
    edit = child(w, QLineEdit, "inputEdit")
    replace_text(qtbot, edit, "hellx")
    assert w.isWindowModified()
    other = tmp_path / "other.json"
    save_project(get_preset("rnn-onehot").project, other)
    monkeypatch.setattr(w.loss_panel, "set_history", lambda results: 1 / 0)
    assert not w.open_project(other)
    assert edit.text() == "hellx" and w.isWindowModified() and w.windowTitle().startswith("mine.json")
    while w.act_undo.isEnabled():
        w.act_undo.trigger()
    assert edit.text() == "hello" and not w.isWindowModified()  # as saved: Quit need not ask
    monkeypatch.undo()
    assert w.open_project(other)  # shown for good: the old strings' edits are gone with them
    assert not w.act_undo.isEnabled() and not w.isWindowModified()


def test_main_py_with_a_bad_file_opens_the_window_with_the_default_preset_and_the_reason(
    qtbot, tmp_path: Path, monkeypatch, warnings_shown: list[str]
) -> None:
    from rnnstudio import app as app_module
    from rnnstudio.ui import main_window

    windows: list[MainWindow] = []

    class RecordedWindow(MainWindow):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            windows.append(self)

    # The application, its event loop ending at once: what run_app does before the loop is what is tested.
    loop_that_returns = SimpleNamespace(aboutToQuit=SimpleNamespace(connect=lambda slot: None), exec=lambda: 0)
    monkeypatch.setattr(main_window, "MainWindow", RecordedWindow)
    monkeypatch.setattr(app_module, "create_application", lambda *a: loop_that_returns)
    monkeypatch.setattr(app_module, "freeze_startup_objects", lambda: None)
    path = _bad_project_files(tmp_path)["epoch 10**30"]
    try:
        assert app_module.run_app(str(path)) == 0
        (w,) = windows
        assert w.task() == get_preset("rnn-embedding").project.task and w._path is None
        assert len(warnings_shown) == 1 and "history entry 1: epoch" in warnings_shown[0]
    finally:
        for w in windows:
            w.shut_down()
            w.setWindowModified(False)
            w.close()


def test_the_window_fits_an_800_px_screen_and_long_status_messages_end_in_an_ellipsis(make_window, qtbot):
    # The status bar's fixed read-outs (an empty elapsed/ETA slot too) kept the window 909 px wide at
    # least, and cut the state message off with no sign that there was more to read.
    window = make_window()
    qtbot.waitExposed(window)
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.width() == 800)
    assert window.statusBar().geometry().right() < 800
    # Nothing has run: the run's read-outs take no room.
    assert not any(w.isVisible() for w in (window.epoch_label, window.rate_label, window.time_label, window.progress))
    window.resize(1024, 640)
    qtbot.waitUntil(lambda: window.width() == 1024)
    message = "Paused after epoch 359: Resume (F6), Step (F10) or Stop (Shift+F5); " + "x" * 120
    label = window.state_label
    label.setText(message)
    QApplication.processEvents()
    drawn = QLabel.text(label)  # what the label paints
    assert drawn.endswith("…") and message.startswith(drawn[:-1])
    assert label.fontMetrics().horizontalAdvance(drawn) <= label.width()
    assert label.toolTip() == message and label.text() == message
    label.setText("Ready to train (F5)")
    assert QLabel.text(label) == "Ready to train (F5)" and label.toolTip() == ""
    # A run shows its read-outs, and the message still has the room left over.
    train_to_end(qtbot, window)
    assert all(w.isVisible() for w in (window.epoch_label, window.rate_label, window.time_label))
    assert label.isVisible() and label.width() > 300
    # The plot's read-out gives the last epoch's figures, not "latest: epoch 1…" beside the buttons.
    last = window.history()[-1]
    readout = window.loss_panel.readout_label
    shown = QLabel.text(readout)  # what it paints
    assert f"epoch {last.epoch} " in shown and format_loss(last.loss) in shown and "100.0%" in shown
    assert readout.fontMetrics().horizontalAdvance(shown) <= readout.width()


def test_open_recent_shows_an_ampersand_and_forgets_a_file_that_is_gone(qtbot, make_window, tmp_path: Path) -> None:
    # "R&D/a&b" was drawn "RD/ab" with underlines; a moved file stayed in the list, failing each time.
    w = make_window()
    folder = tmp_path / "R&D"
    folder.mkdir()
    path = folder / "a&b.rnnproj.json"
    assert w._save_to(path)
    entry = w.recent_menu.actions()[0]
    assert entry.iconText() == str(path.resolve())  # the text as drawn, mnemonics taken out
    moved = tmp_path / "moved.rnnproj.json"
    path.rename(moved)
    entry.trigger()
    assert w.banner.isVisible() and "Could not open" in w.banner.label.text()
    assert str(path.resolve()) not in w.recent_files()
    assert [a.iconText() for a in w.recent_menu.actions()] == []


def test_file_exports_follow_the_plots_buttons_and_write_every_epoch_received(
    make_window, qtbot, monkeypatch, tmp_path: Path
) -> None:
    # Before: File > Export was enabled with nothing to export (a header-only CSV), and during a run
    # wrote only the epochs drawn so far.
    from rnnstudio.session.training import ResultBatch
    from rnnstudio.ui.main_window import LIVE_MAX_MS

    window = make_window()
    panel = window.loss_panel
    actions = (window.act_export_csv, window.act_export_png)
    assert not panel.csv_button.isEnabled() and not any(a.isEnabled() for a in actions)
    window.set_live_refresh_budget(1e-6)  # refreshes as rare as they get: received epochs wait to be drawn
    results = epoch_results(10)
    window._on_session_results(ResultBatch(tuple(results[:5])))
    assert panel.csv_button.isEnabled() and all(a.isEnabled() for a in actions)
    qtbot.waitUntil(lambda: window.live_refresh_interval_ms() == LIVE_MAX_MS, timeout=2000)
    window._on_session_results(ResultBatch(tuple(results[5:])))
    path = tmp_path / "losses.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.act_export_csv.trigger()
    rows = path.read_text().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in rows] == [r.epoch for r in results]
    window.act_new.trigger()
    assert not panel.csv_button.isEnabled() and not any(a.isEnabled() for a in actions)


def _mnemonics(window) -> list[tuple[str, str]]:
    """(letter, text) of every Alt+letter the user can press now: menus, shown buttons, shown labels' buddies."""
    from PySide6.QtWidgets import QToolButton

    texts = [a.text() for a in window.menuBar().actions()]
    for button in window.findChildren(QAbstractButton):
        if button.isVisibleTo(window) and not isinstance(button, QToolButton):  # tool buttons drop "&"
            texts.append(button.text())
    for label in window.findChildren(QLabel):
        if label.buddy() is not None and label.isVisibleTo(window):
            texts.append(label.text())
    out = []
    for text in texts:
        m = re.search(r"&([^&])", text.replace("&&", ""))
        if m:
            out.append((m.group(1).lower(), text))
    return out


def test_every_alt_letter_reaches_one_thing_whichever_view_is_shown(make_window) -> None:
    # "&Preset" took Alt+P from the Presets menu; the Shapes view's "s&eed", "&hiddenSize" and "num&Layers"
    # took Alt+E, Alt+H and Alt+L from the Edit and Help menus and the Log scale box.
    window = make_window()
    for i in range(window.bottom_tabs.count()):
        window.bottom_tabs.setCurrentIndex(i)
        letters = [letter for letter, _ in _mnemonics(window)]
        clashes = sorted({(k, t) for k, t in _mnemonics(window) if letters.count(k) > 1})
        assert clashes == [], window.bottom_tabs.tabText(i)


def test_undo_redo_export_and_about_name_their_keys_and_no_two_actions_share_one(qtbot, make_window) -> None:
    # Undo/Redo tooltips dropped their keys once the stack renamed them; Export and About had none.
    w = make_window()
    edit = w.task_editor.input_edit
    edit.setFocus()
    qtbot.keyClicks(edit, "x")
    w.act_undo.trigger()
    for act in (w.act_undo, w.act_redo, w.act_export_csv, w.act_export_png, w.act_about):
        keys = [k.toString(QKeySequence.NativeText) for k in act.shortcuts()]
        assert keys and act.toolTip().endswith(f"({' or '.join(keys)})"), act.toolTip()
    assert w.act_redo.toolTip().startswith("Redo Edit input")
    taken = [k.toString() for a in w.findChildren(QAction) for k in a.shortcuts()]
    assert sorted({k for k in taken if taken.count(k) > 1}) == []


def test_before_any_run_the_views_show_the_strings_as_edited_not_a_run_that_never_happened(qtbot, make_window) -> None:
    # A fresh window, the pair edited, no training: the film-strip said "edited since the run" and the
    # predictions log's header still read "→ ohlol".
    from PySide6.QtCore import Qt as QtNS

    w = make_window()
    w.show_view(w.film_strip)
    replace_text(qtbot, w.task_editor.input_edit, "abcd")
    replace_text(qtbot, w.task_editor.target_edit, "dcba")
    assert (w.film_strip.input_text(), w.film_strip.target()) == ("abcd", "dcba")
    assert w.film_strip.note() == "" and "run" not in w.film_strip.caption_text()
    header = w.prediction_log.model().headerData(3, QtNS.Horizontal, QtNS.DisplayRole)
    assert header == "→ dcba"
    assert w.focusWidget() is w.task_editor.target_edit  # typing goes on where it was
    train_to_end(qtbot, w)
    assert w.history()[-1].predictions[0] and w.film_strip.row_count() > 0
    replace_text(qtbot, w.task_editor.target_edit, "dcbx")  # after a run: its views stay, and say so
    assert "edited since the run" in w.film_strip.note()
    assert w.prediction_log.model().headerData(3, QtNS.Horizontal, QtNS.DisplayRole) == "→ dcba"


def test_the_film_strip_names_a_pair_with_invisible_characters_visibly(qtbot, make_window) -> None:
    # Its caption showed "a​b → b​a" with the zero-width spaces invisible, and a lone accent bare.
    from rnnstudio.core.sequences import Task

    w = make_window()
    p = get_preset("rnn-embedding").project
    w.set_project(replace(p, task=Task.of([("a\u200bb", "b\u0301a")])))
    w.show_view(w.film_strip)
    caption = w.film_strip.caption_text()
    assert "aU+200Bb" in caption and "b\u25cc\u0301a" in caption


def test_a_pair_not_in_the_run_is_named_as_such_with_the_right_reason(qtbot, make_window) -> None:
    from rnnstudio.core.sequences import Task

    w = make_window()
    p = get_preset("rnn-embedding").project
    w.set_project(replace(p, task=Task.of([("hello", "ohlol"), ("ab", "ba")])))
    train_to_end(qtbot, w)
    w.show_view(w.film_strip)
    w.task_editor.select_pair(1)
    assert w.film_strip.input_text() == "ab" and w.film_strip.row_count() > 0

    # A pair added after the run: no rows of another pair, and a note saying why.
    w.task_editor.add_action.trigger()
    replace_text(qtbot, w.task_editor.input_edit, "xyz")
    replace_text(qtbot, w.task_editor.target_edit, "zyx")
    assert w.task_editor.selected_pair() == 2
    assert (w.film_strip.input_text(), w.film_strip.target()) == ("xyz", "zyx")
    assert w.film_strip.row_count() == 0
    assert "added after the run" in w.film_strip.note()
    assert "ab" not in w.film_strip.caption_text()
    w.show_view(w.step_inspector)
    qtbot.waitUntil(lambda: "added after the run" in w.step_inspector.message())

    # A pair of the run whose strings were edited: "edited", not "added".
    w.task_editor.select_pair(0)
    replace_text(qtbot, w.task_editor.input_edit, "hella")
    qtbot.waitUntil(lambda: "edited since the run" in w.step_inspector.message())
    w.show_view(w.film_strip)
    assert w.film_strip.input_text() == "hella" and w.film_strip.row_count() == 0
    assert "edited since the run" in w.film_strip.note()

    # Back to a pair of the run: its rows again, no note.
    w.task_editor.select_pair(1)
    assert (w.film_strip.input_text(), w.film_strip.note()) == ("ab", "")
    assert w.film_strip.row_count() > 0


def test_save_as_a_name_without_a_suffix_adds_the_project_suffix_and_asks_before_replacing(
    qtbot, make_window, tmp_path: Path, monkeypatch
) -> None:
    """A project saved as plain "lesson1" was hidden by the Open dialog's filter."""
    w = make_window()
    folder = tmp_path / "lessons"
    folder.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(folder / "lesson1"), ""))
    assert w.save_as()
    assert sorted(p.name for p in folder.iterdir()) == ["lesson1.rnnproj.json"]
    assert load_project(folder / "lesson1.rnnproj.json").task == w.task()
    # the dialog confirmed "lesson1", not the file the suffix now names: the window asks
    replace_text(qtbot, w.task_editor.input_edit, "hallo")
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.Cancel)
    assert not w.save_as()
    assert asked and "lesson1.rnnproj.json already exists" in asked[0]
    assert load_project(folder / "lesson1.rnnproj.json").task.pairs[0].input == "hello"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    assert w.save_as()
    assert load_project(folder / "lesson1.rnnproj.json").task.pairs[0].input == "hallo"


def test_ctrl_z_takes_back_option_changes_in_order_with_the_strings(qtbot, make_window) -> None:
    """Ctrl+Z after changing the cell undid a string edit out of view, and did nothing in a spin box."""
    w = make_window()
    w.activateWindow()  # the window's shortcuts take keys only in the active window
    qtbot.waitUntil(w.isActiveWindow)
    hidden, cell, lr = (
        child(w, QSpinBox, "hiddenSpin"),
        child(w, QComboBox, "cellCombo"),
        child(w, QDoubleSpinBox, "lrSpin"),
    )
    replace_text(qtbot, w.task_editor.input_edit, "world")
    replace_text(qtbot, hidden, "16")  # "1", then "16": one step
    cell.setFocus()
    qtbot.keyClick(cell, Qt.Key_Down)
    assert (w.model_config().hidden_size, w.model_config().cell) == (16, "lstm")
    assert w.act_undo.text().endswith("Change cell")

    qtbot.keyClick(cell, Qt.Key_Z, Qt.ControlModifier)
    assert (cell.currentData(), w.model_config().cell, w.task().pairs[0].input) == ("rnn", "rnn", "world")
    qtbot.keyClick(lr, Qt.Key_Z, Qt.ControlModifier)  # from a spin box that was not changed last
    assert (hidden.value(), w.model_config().hidden_size, w.task().pairs[0].input) == (8, 8, "world")
    qtbot.keyClick(hidden, Qt.Key_Z, Qt.ControlModifier)
    assert w.task().pairs[0].input == "hello"
    assert not w.isWindowModified()  # undone back to the preset: nothing to save
    qtbot.keyClick(hidden, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    qtbot.keyClick(hidden, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert (w.task().pairs[0].input, w.model_config().hidden_size, w.model_config().cell) == ("world", 16, "rnn")
    assert w.isWindowModified()


def test_an_option_changed_before_and_after_a_run_is_two_undo_steps(qtbot, make_window) -> None:
    w = make_window()
    epochs = child(w, QSpinBox, "epochsSpin")
    replace_text(qtbot, epochs, "3")
    train_to_end(qtbot, w)
    replace_text(qtbot, epochs, "5")
    w.act_undo.trigger()
    assert w.train_config().epochs == 3  # what the run trained with
    w.act_undo.trigger()
    assert w.train_config().epochs == get_preset("rnn-embedding").project.train.epochs


def test_the_chance_line_of_the_summed_loss_preset_says_it_sums_five_steps(qtbot, make_window) -> None:
    import math

    w = make_window()
    w.load_preset("rnncell-onehot")  # the notebook's RNNCell program sums the loss over the 5 steps
    plot = w.loss_panel.plot
    assert plot.chance_loss() == pytest.approx(5 * math.log(4)) and plot.chance_label() == "chance 5·ln|V|"
    w.load_preset("rnn-embedding")
    assert plot.chance_loss() == pytest.approx(math.log(4)) and plot.chance_label() == "chance ln|V|"


def test_shapes_kept_while_the_task_has_a_problem_say_so(qtbot, make_window) -> None:
    """The window sends only pairs without problems: a longer input than its target (a problem)
    leaves the last valid shapes, and the view must say they are those, not the strings typed."""
    window = make_window()
    window.resize(1440, 900)
    shapes = window.shapes_view
    window.show_view(shapes)
    title = shapes.path_title
    qtbot.waitUntil(lambda: dict(shapes.displayed_shapes()).get("inputs (indices)") == (1, 5))  # hello -> ohlol
    edit = window.findChild(QLineEdit, "inputEdit")
    edit.selectAll()
    qtbot.keyClicks(edit, "hello world")  # the target is still 'ohlol': a length problem
    qtbot.waitUntil(lambda: window.task().pairs[0].input == "hello world")
    assert window.task().problems()
    assert dict(shapes.displayed_shapes())["inputs (indices)"] == (1, 5)  # the last valid pairs' shapes...
    assert "seqLen = longest input (5)" in shapes.caption.text()
    # ...under a title that says whose they are, whole on its line.
    assert title.isVisible()
    assert title.text().startswith("<b>Data path</b> as before the strings' problems")
    assert title.width() >= title.sizeHint().width()
    assert "While the strings have a problem" in title.toolTip()
    qtbot.keyClick(edit, Qt.Key_Z, Qt.ControlModifier)  # back to hello: the shapes are the strings' again
    qtbot.waitUntil(lambda: not window.task().problems())
    assert title.text() == "<b>Data path</b> for the current model" and title.toolTip() == ""


def test_option_undo_steps_follow_what_the_user_did(qtbot, make_window, monkeypatch) -> None:
    from rnnstudio.ui import config_undo

    w = make_window()
    cell, epochs = child(w, QComboBox, "cellCombo"), child(w, QSpinBox, "epochsSpin")
    cell.setCurrentIndex(cell.findData("lstm"))
    cell.setCurrentIndex(cell.findData("gru"))
    w.act_undo.trigger()
    assert w.model_config().cell == "lstm"  # each pick from a list is a step
    w.act_undo.trigger()
    assert w.model_config().cell == "rnn"

    clock = [1000.0]
    monkeypatch.setattr(config_undo, "now", lambda: clock[0])
    epochs.stepBy(1)
    epochs.stepBy(1)  # in quick succession: one step, as typing "17" would be
    clock[0] += 60
    epochs.stepBy(1)  # a minute later: a step of its own
    w.act_undo.trigger()
    assert epochs.value() == 17
    w.act_undo.trigger()
    assert epochs.value() == 15

    edit = w.task_editor.input_edit
    replace_text(qtbot, edit, "hel")
    epochs.stepBy(1)
    w.act_undo.trigger()  # the epochs
    qtbot.keyClicks(edit, "p")  # after an undo, typing is a step of its own
    w.act_undo.trigger()
    assert edit.text() == "hel"
    w.act_undo.trigger()  # a string's undo in between: the next change of the same box is new too
    epochs.stepBy(1)
    epochs.stepBy(1)
    w.act_undo.trigger()
    assert epochs.value() == 15 and edit.text() == "hello"


def test_ctrl_z_in_a_box_undoes_its_own_typing_first(qtbot, make_window) -> None:
    w = make_window()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    replace_text(qtbot, w.task_editor.input_edit, "world")
    lr = child(w, QDoubleSpinBox, "lrSpin")
    lr.setFocus()
    lr.lineEdit().selectAll()
    qtbot.keyClick(lr, Qt.Key_Backspace)  # the box is empty: nothing the options could hold yet
    qtbot.keyClick(lr, Qt.Key_Z, Qt.ControlModifier)
    assert lr.text() == "0.05" and w.task().pairs[0].input == "world"  # not the string out of view
    # Typing that became a value is the window's step: one Ctrl+Z takes it back, with nothing left over.
    hidden, cell = child(w, QSpinBox, "hiddenSpin"), child(w, QComboBox, "cellCombo")
    replace_text(qtbot, hidden, "32")
    cell.setFocus()
    qtbot.keyClick(cell, Qt.Key_Down)  # LSTM
    qtbot.keyClick(cell, Qt.Key_Z, Qt.ControlModifier)  # back to RNN
    qtbot.keyClick(hidden, Qt.Key_Z, Qt.ControlModifier)  # back to 8, as one step of the history
    assert hidden.value() == 8 and w.act_undo.text().endswith("Edit input of pair 1")
    assert w.act_redo.text().endswith("Change hidden size")  # and LSTM's step is still there to redo


def test_the_gradient_heatmap_keeps_room_for_its_steps_in_a_1280_px_window(qtbot, make_window) -> None:
    """The latest-snapshot title's two-layer legend squeezed the heatmap of 'hello' into 72 px,
    its step and character labels thinned to one."""
    w = make_window()
    w.resize(1280, 800)
    w.show_view(w.gradient_flow)
    train_to_end(qtbot, w)
    view = w.gradient_flow
    qtbot.waitUntil(lambda: view.displayed_epochs()[-1:] == [15])
    qtbot.waitUntil(lambda: view.heat_plot.width() >= 30 * 5)  # five steps, each wide enough for its label


def test_in_a_1280_px_window_the_shapes_and_gradient_pages_do_not_scroll_sideways(qtbot, make_window) -> None:
    """At 1280 x 800 both pages were wider than their tab: the gradient flow's line plot was cut at
    step 4 of 5 and the read-out had no room, and the data path showed one row of eleven."""
    w = make_window()
    w.resize(1280, 800)
    train_to_end(qtbot, w)
    for view in (w.gradient_flow, w.shapes_view):
        w.show_view(view)
        page = w.bottom_tabs.currentWidget()
        qtbot.waitUntil(lambda page=page, view=view: 0 < view.width() <= page.viewport().width())
        assert not page.horizontalScrollBar().isVisible(), view.objectName()
    table = w.shapes_view.table
    row_h = table.verticalHeader().defaultSectionSize()
    qtbot.waitUntil(lambda: table.viewport().height() == table.rowCount() * row_h > 0)
    # The gradient flow's whole line plot is in view: its last step's tick sits inside the page.
    view = w.gradient_flow
    w.show_view(view)
    plot = view.line_plot
    qtbot.waitUntil(lambda: view.displayed_epochs()[-1:] == [15])
    right = view.graphics.mapFromScene(plot.vb.mapViewToScene(QPointF(5.0, 0.0))).x()
    assert view.graphics.mapTo(view, QPoint(right, 0)).x() < w.bottom_tabs.currentWidget().viewport().width()


def test_a_late_reply_for_a_pair_the_user_has_left_does_not_replace_what_they_look_at(qtbot, make_window):
    """Time steps: a slow inference of pair 1 arrived after the user had selected a pair added after the
    run, and replaced "This pair was added after the run" with pair 1's steps, for good."""
    import threading

    from rnnstudio.session.inspector import TorchCompute

    w = make_window()
    gate = threading.Event()
    compute = TorchCompute()
    w.inspector._compute = lambda request: gate.wait(30) and compute(request)  # a large model's slow pass
    train_to_end(qtbot, w)
    w.show_view(w.step_inspector)  # asks for pair 1 ("hello") at the latest weights: held at the gate
    w.task_editor.add_action.trigger()  # a new pair, selected: the run never had it
    replace_text(qtbot, w.task_editor.input_edit, "lo")
    replace_text(qtbot, w.task_editor.target_edit, "ol")
    qtbot.waitUntil(lambda: "added after the run" in w.step_inspector.message())
    with qtbot.waitSignal(w.inspector.replied, timeout=30_000):  # the window's slot is connected first
        gate.set()
    assert "added after the run" in w.step_inspector.message()
    assert w.step_inspector.grid.inference() is None
    # Back on pair 1, its steps are asked for again and shown.
    w.task_editor.select_pair(0)
    qtbot.waitUntil(lambda: w.step_inspector.grid.inference() is not None)
    assert w.step_inspector.grid.inference().text == "hello"


def test_the_gradient_flow_says_how_the_shown_history_was_clipped(
    qtbot, make_window, tmp_path: Path, monkeypatch
) -> None:
    """Opening a saved run clipped in every epoch said "clipping off"; after a clipped run, New said
    "clipping at 0.01" for a project without clipping."""
    w = make_window()
    p = get_preset("rnn-embedding").project
    w.set_project(replace(p, train=replace(p.train, clip_grad_norm=0.01, epochs=5)))
    view = w.gradient_flow
    w.show_view(view)
    train_to_end(qtbot, w)
    qtbot.waitUntil(lambda: view.clipped_epochs() == [1, 2, 3, 4, 5])
    path = tmp_path / "clipped.rnnproj.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    assert w.save_as()
    w.act_new.trigger()
    assert view.clip_label.text() == "clipping off" and not view.clip_plot.isVisible()
    assert w.open_project(path)
    assert view.clip_label.text() == "clipping at 0.01: clipped in 5 of 5 epochs"
    assert view.clipped_epochs() == [1, 2, 3, 4, 5]


def test_reset_weights_leaves_the_views_on_the_strings_of_the_next_run(qtbot, make_window) -> None:
    """After a run and an edit, Reset weights kept the forgotten run's target at the head of the log,
    and the film strip said the pair was "edited since the run" with no run left."""
    w = make_window()
    train_to_end(qtbot, w)
    replace_text(qtbot, w.task_editor.target_edit, "abcde")
    assert w.prediction_log.model().targets() == ["ohlol"]  # the run shown is still the one on "ohlol"
    assert "edited since the run" in w.film_strip.note()
    w.act_reset.trigger()
    assert w.history() == []
    assert w.prediction_log.model().targets() == ["abcde"]
    assert w.film_strip.note() == "" and w.film_strip.target() == "abcde"


def test_a_history_opened_from_a_file_says_its_weights_are_not_there(qtbot, make_window, tmp_path: Path) -> None:
    """After reopening a trained project, Try it said "No trained weights yet" and Time steps showed
    its placeholder beside a plot of 15 trained epochs."""
    from rnnstudio.ui.main_window import NO_WEIGHTS_IN_FILE

    w = make_window()
    train_to_end(qtbot, w)
    path = tmp_path / "run.rnnproj.json"
    save_project(w.project(), path)
    assert w.open_project(path) and len(w.history()) == 15
    w.show_view(w.step_inspector)
    qtbot.waitUntil(lambda: w.step_inspector.message() == NO_WEIGHTS_IN_FILE)
    w.show_view(w.try_it)
    w.try_it.set_text("hello")
    qtbot.waitUntil(lambda: w.try_it.message() == NO_WEIGHTS_IN_FILE)
    w.show_view(w.gradient_flow)
    assert w.gradient_flow.heat_note.text() == NO_WEIGHTS_IN_FILE
    # Trained again (the same seed: the same numbers), the views look inside.
    train_to_end(qtbot, w)
    qtbot.waitUntil(lambda: w.gradient_flow.displayed_epochs()[-1:] == [15])
    assert w.gradient_flow.heat_note.text() == ""
    w.show_view(w.try_it)
    qtbot.waitUntil(lambda: w.try_it.displayed_prediction() == "ohlol")


def test_discarding_an_unsaved_run_that_took_long_asks_first(qtbot, make_window, answer, monkeypatch, tmp_path) -> None:
    """Reset weights, or Train from fresh weights after a settings change, threw away a long run
    without a word."""
    from rnnstudio.ui import main_window

    w = make_window()
    train_to_end(qtbot, w)
    asked = answer["asked"]
    w.act_reset.trigger()  # 15 epochs in a blink: trained again in as long, nothing to ask
    assert answer["asked"] == asked and w.history() == []
    train_to_end(qtbot, w)
    monkeypatch.setattr(main_window, "ASK_BEFORE_DISCARDING_SECONDS", 0.0)  # as if it had taken an hour
    answer["reply"] = QMessageBox.Cancel
    w.act_reset.trigger()
    assert answer["asked"] == asked + 1 and len(w.history()) == 15
    child(w, QDoubleSpinBox, "lrSpin").setValue(0.01)
    w.act_train.trigger()  # the settings changed: a fresh run would replace the history
    assert answer["asked"] == asked + 2 and len(w.history()) == 15 and w.session.state == "idle"
    w.act_undo.trigger()  # the settings the history was trained with: it can be saved
    path = tmp_path / "long.rnnproj.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    answer["reply"] = QMessageBox.Save
    w.act_reset.trigger()  # saved first, then reset
    assert [r.epoch for r in load_project(path).history] == list(range(1, 16)) and w.history() == []
    train_to_end(qtbot, w)
    answer["reply"] = QMessageBox.Discard
    w.act_reset.trigger()
    assert answer["asked"] == asked + 4 and w.history() == []
    # A history that is in the file goes without a question.
    assert w.open_project(path) and len(w.history()) == 15
    w.act_reset.trigger()
    assert answer["asked"] == asked + 4 and w.history() == []


def test_the_title_and_a_saved_file_name_a_preset_only_while_its_network_is_the_preset_s(qtbot, make_window) -> None:
    """Edited into a GRU, the default preset's project kept its name in the title and its description
    ("a 2-layer RNN with hidden size 8") in the saved file."""
    w = make_window()
    assert w.windowTitle().startswith("Embedding + 2-layer RNN + Linear")
    cell = child(w, QComboBox, "cellCombo")
    cell.setCurrentIndex(cell.findData("gru"))
    qtbot.waitUntil(lambda: w.windowTitle().startswith("untitled"))
    assert (w.project().name, w.project().description) == ("", "")
    w.act_undo.trigger()
    qtbot.waitUntil(lambda: w.windowTitle().startswith("Embedding + 2-layer RNN + Linear"))
    assert w.project().description.startswith("The notebook's third program")


def test_a_long_encoding_scrolls_in_its_box_and_the_pairs_table_keeps_its_rows(qtbot, make_window, tmp_path) -> None:
    """100 pairs over 95 characters at 1280 x 800: the encoding preview grew 18 lines tall and left the
    pairs table 4 rows; and the vocabulary box kept a stale height, its chips over the Encoding box."""
    import random
    import string

    rng = random.Random(0)
    chars = string.printable[:95]
    pairs = []
    for _ in range(100):
        text = "".join(rng.choice(chars) for _ in range(rng.randint(10, 30)))
        pairs.append((text, text))
    base = get_preset("rnn-embedding").project
    path = tmp_path / "ascii.rnnproj.json"
    save_project(replace(base, task=Task.of(pairs), name="ascii", description=""), path)
    w = make_window()
    w.resize(1280, 800)
    assert w.open_project(path)
    editor = w.task_editor
    table, strip, scroll = editor.table, editor.vocab_strip, editor.encoding_scroll
    row_h = table.verticalHeader().defaultSectionSize()
    qtbot.waitUntil(lambda: table.viewport().height() >= 8 * row_h)  # was 4
    qtbot.waitUntil(lambda: strip.height() >= strip.minimumSizeHint().height())  # its chips inside it
    preview = editor.encoding_preview
    assert preview.height() > scroll.viewport().height()  # the rest of the preview scrolls
    assert scroll.verticalScrollBar().isVisible()


def test_the_discard_question_counts_what_is_not_in_the_file(qtbot, make_window, monkeypatch, tmp_path) -> None:
    """A Ctrl+S that left the history out (the settings had changed) still counted as keeping it, so
    Reset threw the run away without a question; and after a save and 15 more epochs, the question
    said all 30 were unsaved."""
    from rnnstudio.ui import main_window

    monkeypatch.setattr(main_window, "ASK_BEFORE_DISCARDING_SECONDS", 0.0)
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.Cancel)
    path = tmp_path / "run.rnnproj.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    w = make_window()
    train_to_end(qtbot, w)
    assert w.save_as()
    train_to_end(qtbot, w)  # Continue: 15 more epochs, not in the file
    w.act_reset.trigger()
    assert len(asked) == 1 and "30 epochs shown; the last 15 epochs" in asked[0] and len(w.history()) == 30
    child(w, QDoubleSpinBox, "lrSpin").setValue(0.01)
    assert w.save()  # the settings changed since the run: saved without its history
    assert load_project(path).history == ()
    w.act_reset.trigger()
    assert len(asked) == 2 and "the 30 epochs shown; 30 epochs, which took" in asked[1]
    assert len(w.history()) == 30  # cancelled: still there


def test_reset_weights_shows_the_next_runs_clipping_not_the_old_runs(qtbot, make_window) -> None:
    w = make_window()
    p = get_preset("rnn-embedding").project
    w.set_project(replace(p, train=replace(p.train, clip_grad_norm=0.01, epochs=3)))
    train_to_end(qtbot, w)
    assert w.gradient_flow.clip_label.text().startswith("clipping at 0.01")
    child(w, QDoubleSpinBox, "clipSpin").setValue(0.0)  # off, for the next run
    w.act_reset.trigger()
    assert w.gradient_flow.clip_label.text() == "clipping off"
