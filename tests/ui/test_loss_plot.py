"""LossPlot / LossPanel: exact curve data, items made once, chance line, log scale, read-out, exports."""

from __future__ import annotations

import csv
import math
import os
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from rnnstudio.core.results import EpochResult
from rnnstudio.ui import loss_plot
from rnnstudio.ui.loss_plot import CHANCE_LABEL, LossPanel, LossPlot


def make_results(first: int, count: int, seed: int = 0) -> list[EpochResult]:
    """Epochs first..first+count-1 with a noisy decreasing loss and a rising accuracy."""
    rng = np.random.default_rng(seed)
    out = []
    for e in range(first, first + count):
        loss = 1.6 * math.exp(-e / 40) + 0.01 + 0.02 * float(rng.random())
        acc = min(1.0, round((1 - math.exp(-e / 30)) * 5) / 5)
        out.append(EpochResult(e, loss, acc, ("ohlol",), e * 0.01))
    return out


@pytest.fixture
def panel(qtbot):
    w = LossPanel()
    qtbot.addWidget(w)
    w.resize(800, 450)
    return w


def first_item(panel: LossPanel):
    return panel.plot.plotItem.listDataItems()[0]


def test_built_alone_with_labels(qtbot):
    w = LossPanel()
    qtbot.addWidget(w)
    assert isinstance(w.plot, LossPlot)
    assert w.plot.objectName() == "lossPlot"
    item = w.plot.plotItem
    assert item.getAxis("bottom").labelText == "epoch"
    assert item.getAxis("left").labelText == "loss"
    assert item.getAxis("right").labelText == "accuracy"
    assert item.getAxis("right").isVisible()
    assert len(w.epochs()) == 0 and not w.png_button.isEnabled() and not w.csv_button.isEnabled()
    # The legend names both curves.
    labels = [label.text for _, label in w.plot._legend.items]
    assert any("loss" in t for t in labels) and any("accuracy" in t for t in labels)


def test_append_batches_feed_the_first_data_item_exactly(panel):
    # A continued run: epochs start at 11, not 1.
    results = make_results(11, 250)
    for i in range(0, 250, 60):
        panel.append(results[i : i + 60])
    losses = np.array([r.loss for r in results])
    epochs = np.array([r.epoch for r in results])
    accs = np.array([r.accuracy for r in results])
    item = first_item(panel)
    assert np.array_equal(item.yData, losses)
    assert np.array_equal(item.xData, epochs)
    x, y = item.getData()
    assert np.array_equal(y, losses) and np.array_equal(x, epochs)
    assert np.array_equal(panel.losses(), losses)
    assert np.array_equal(panel.epochs(), epochs)
    assert np.array_equal(panel.accuracies(), accs)
    assert np.array_equal(panel.plot.accuracy_curve().yData, accs)
    # Getters return copies: changing them does not change the plot.
    panel.losses()[0] = 99.0
    assert panel.losses()[0] == losses[0]
    assert panel.csv_button.isEnabled() and panel.png_button.isEnabled()


def test_items_are_created_once_and_fed_one_set_data_per_call(panel, monkeypatch):
    panel.append(make_results(1, 5))
    item = first_item(panel)
    accuracy = panel.plot.accuracy_curve()
    chance = panel.plot.chance_line()
    n_items = len(panel.plot.plotItem.listDataItems())
    calls = []
    original = type(item).setData
    monkeypatch.setattr(item, "setData", lambda *a, **k: (calls.append(1), original(item, *a, **k)))
    batches = [make_results(6 + 100 * k, 100) for k in range(5)]
    for batch in batches:
        panel.append(batch)
    assert len(calls) == 5
    assert first_item(panel) is item
    assert panel.plot.accuracy_curve() is accuracy and panel.plot.chance_line() is chance
    assert len(panel.plot.plotItem.listDataItems()) == n_items
    assert len(item.yData) == 505


def test_accuracy_view_is_x_linked_with_fixed_range(panel):
    panel.append(make_results(1, 200))
    view = panel.plot.accuracy_view()
    low, high = view.viewRange()[1]
    assert (low, high) == pytest.approx((0.0, 1.05))
    assert view.linkedView(view.XAxis) is panel.plot.plotItem.vb
    # Accuracy is not a data item of the loss plot, so the loss curve stays first.
    assert panel.plot.accuracy_curve() not in panel.plot.plotItem.listDataItems()


def test_chance_line_value_hidden_and_log_units(panel):
    panel.append(make_results(1, 50))
    line = panel.plot.chance_line()
    chance = math.log(5)
    panel.set_chance_loss(chance)
    assert line.isVisible()
    assert line.value() == pytest.approx(chance)
    assert line.label.format == CHANCE_LABEL == "chance ln|V|"
    panel.set_log_scale(True)
    assert line.value() == pytest.approx(math.log10(chance))
    panel.set_chance_loss(2.0)
    assert line.value() == pytest.approx(math.log10(2.0))
    panel.set_log_scale(False)
    assert line.value() == pytest.approx(2.0)
    panel.set_chance_loss(None)
    assert not line.isVisible()
    panel.set_log_scale(True)
    assert not line.isVisible()


def test_log_toggle_from_the_checkbox(panel, qtbot):
    panel.show()
    qtbot.waitExposed(panel)
    panel.append(make_results(1, 100))
    panel.set_chance_loss(1.5)
    with qtbot.waitSignal(panel.log_scale_changed) as blocker:
        qtbot.mouseClick(panel.log_check, Qt.LeftButton)
    assert blocker.args == [True]
    assert panel.log_scale() and panel.plot.log_scale()
    item = first_item(panel)
    assert item.opts["logMode"][1] is True
    assert panel.plot.plotItem.getAxis("left").logMode
    assert not panel.plot.plotItem.getAxis("right").logMode  # accuracy stays linear
    assert panel.plot.chance_line().value() == pytest.approx(math.log10(1.5))
    # .yData keeps the raw losses; getData is in log10 view units, as pyqtgraph does.
    assert np.array_equal(item.yData, panel.losses())
    assert np.allclose(item.getData()[1], np.log10(panel.losses()))
    with qtbot.waitSignal(panel.log_scale_changed) as blocker:
        qtbot.mouseClick(panel.log_check, Qt.LeftButton)
    assert blocker.args == [False]
    assert not panel.log_scale() and item.opts["logMode"][1] is False
    # The programmatic setter keeps the checkbox in step.
    panel.set_log_scale(True)
    assert panel.log_check.isChecked()


def test_csv_export_holds_every_epoch_at_full_precision(panel, tmp_path):
    results = make_results(3, 120)
    panel.append(results)
    path = tmp_path / "losses.csv"
    panel.export_csv(str(path))
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "loss", "accuracy"]
    assert len(rows) == 121
    assert [int(r[0]) for r in rows[1:]] == [r.epoch for r in results]
    assert [float(r[1]) for r in rows[1:]] == [r.loss for r in results]
    assert [float(r[2]) for r in rows[1:]] == [r.accuracy for r in results]
    assert os.listdir(tmp_path) == ["losses.csv"]  # no temporary file left behind


def test_csv_export_failure_raises_and_keeps_the_old_file(panel, tmp_path, monkeypatch):
    panel.append(make_results(1, 3))
    with pytest.raises(OSError):
        panel.export_csv(str(tmp_path / "missing" / "losses.csv"))
    target = tmp_path / "keep.csv"
    target.write_text("old")

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space"):
        panel.export_csv(str(target))
    # Written through a temporary file: the old file is intact and no temporary file is left.
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["keep.csv"]


def test_png_export_writes_a_png(panel, tmp_path):
    panel.append(make_results(1, 200))
    panel.set_chance_loss(math.log(5))
    path = tmp_path / "plot.png"
    panel.export_png(str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage(str(path))
    assert not image.isNull() and image.width() > 100 and image.height() > 100
    # Not a blank image: the loss curve's blue is in it somewhere.
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}
    assert len(colours) > 3


def test_export_buttons_ask_for_a_file_and_report_failures(panel, qtbot, tmp_path, monkeypatch):
    panel.append(make_results(1, 10))
    good = tmp_path / "out"  # no suffix: the panel adds .csv
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(good), "CSV files (*.csv)"))
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a))
    qtbot.mouseClick(panel.csv_button, Qt.LeftButton)
    assert (tmp_path / "out.csv").read_text().startswith("epoch,loss,accuracy\n")
    assert warnings == []

    bad = tmp_path / "missing" / "plot.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(bad), "PNG images (*.png)"))
    qtbot.mouseClick(panel.png_button, Qt.LeftButton)
    assert len(warnings) == 1
    assert str(bad) in warnings[0][2]

    # Cancelling the dialog writes nothing and says nothing.
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    assert panel.ask_export_csv() is None
    assert len(warnings) == 1


def test_an_export_named_without_its_suffix_asks_before_replacing_the_file_it_would_write(panel, tmp_path, monkeypatch):
    # The dialog confirms "report", not report.csv: exporting there replaced a file without a word.
    panel.append(make_results(1, 10))
    kept = tmp_path / "report.csv"
    kept.write_text("my own data\n")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "report"), ""))
    asked = []
    answer = QMessageBox.Cancel
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or answer)
    assert panel.ask_export_csv() is None
    assert kept.read_text() == "my own data\n"
    assert asked and "report.csv already exists" in asked[0]
    answer = QMessageBox.Yes
    assert panel.ask_export_csv() == str(kept)
    assert kept.read_text().startswith("epoch,loss,accuracy\n")
    # A name the dialog already asked about is not asked about twice.
    asked.clear()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(kept), ""))
    assert panel.ask_export_csv() == str(kept) and asked == []


def test_readout_names_the_epoch_nearest_the_mouse(panel, qtbot):
    panel.show()
    qtbot.waitExposed(panel)
    panel.append(make_results(1, 200))
    vb = panel.plot.plotItem.vb
    qtbot.waitUntil(lambda: vb.viewRange()[0][1] >= 200)
    scene = panel.plot.scene()
    assert panel.readout_label.text().startswith("latest: epoch 200")

    scene.sigMouseMoved.emit(vb.mapViewToScene(QPointF(57.3, 0.5)))
    assert panel.readout_label.text().startswith("epoch 57 ")
    loss = panel.losses()[56]
    assert f"loss {loss:.4f}" in panel.readout_label.text()
    assert panel.plot.hovered_epoch() == 57
    scene.sigMouseMoved.emit(vb.mapViewToScene(QPointF(57.7, 0.5)))
    assert panel.readout_label.text().startswith("epoch 58 ")
    scene.sigMouseMoved.emit(vb.mapViewToScene(QPointF(5000, 0.5)))  # outside the plot area
    assert panel.plot.hovered_epoch() is None
    assert panel.readout_label.text().startswith("latest: epoch 200")


def test_view_follows_data_until_the_user_zooms(panel, qtbot):
    panel.show()
    qtbot.waitExposed(panel)
    vb = panel.plot.plotItem.vb
    panel.append(make_results(1, 100))
    qtbot.waitUntil(lambda: vb.viewRange()[0][1] >= 100)
    panel.append(make_results(101, 100))
    qtbot.waitUntil(lambda: vb.viewRange()[0][1] >= 200)
    assert panel.plot.is_auto_ranging()
    wheel_zoom(panel.plot)  # the user zooms in with the mouse wheel: following stops
    assert not panel.plot.is_auto_ranging()
    zoomed = vb.viewRange()[0]
    assert zoomed[1] - zoomed[0] < 190
    panel.append(make_results(201, 100))
    panel.grab()  # paint: a following view would move here
    assert vb.viewRange()[0] == pytest.approx(zoomed)
    panel.plot.follow_data()
    qtbot.waitUntil(lambda: vb.viewRange()[0][1] >= 300)


def test_during_a_run_the_x_axis_spans_the_whole_run_and_stays_put(panel, qtbot):
    # The curve grows across a fixed axis (as a progress does); the axis is not rebuilt per refresh.
    panel.show()
    qtbot.waitExposed(panel)
    vb = panel.plot.plotItem.vb
    changes = []
    vb.sigXRangeChanged.connect(lambda *_: changes.append(vb.viewRange()[0]))
    panel.set_x_goal(5000)
    qtbot.waitUntil(lambda: vb.viewRange()[0][1] >= 5000)
    first = len(changes)
    for start in range(1, 3000, 100):
        panel.append(make_results(start, 100))
    panel.grab()
    assert len(changes) == first  # 3,000 epochs in 30 batches: the x range never moved
    assert 5000 <= vb.viewRange()[0][1] < 5500
    panel.set_x_goal(None)  # the run was stopped at 3,000: the plot fits what it did
    qtbot.waitUntil(lambda: vb.viewRange()[0][1] < 4000)
    assert vb.viewRange()[0][1] >= 3000


def wheel_zoom(plot) -> None:
    """Send the plot's viewport a real wheel event (zoom in) at its centre."""
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    viewport = plot.viewport()
    centre = QPointF(viewport.width() / 2, viewport.height() / 2)
    event = QWheelEvent(
        centre,
        viewport.mapToGlobal(centre),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.NoButton,
        Qt.NoModifier,
        Qt.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, event)


def test_epochs_must_increase(panel):
    panel.append(make_results(1, 10))
    with pytest.raises(ValueError, match="increase"):
        panel.append(make_results(5, 3))
    assert len(panel.epochs()) == 10


def test_set_history_and_clear(panel):
    panel.append(make_results(1, 50))
    history = make_results(1, 30, seed=3)
    panel.set_history(history)
    assert np.array_equal(first_item(panel).yData, [r.loss for r in history])
    assert panel.epochs().tolist() == list(range(1, 31))
    panel.append(make_results(31, 5, seed=4))
    assert len(panel.losses()) == 35
    item = first_item(panel)
    panel.clear()
    assert first_item(panel) is item
    assert len(panel.losses()) == 0 and item.yData is None
    assert not panel.csv_button.isEnabled()
    panel.append(make_results(1, 3))
    assert panel.epochs().tolist() == [1, 2, 3]


def test_hundred_thousand_epochs_in_batches(panel, qtbot):
    panel.show()
    qtbot.waitExposed(panel)
    n, batch = 100_000, 500
    epochs = np.arange(1, n + 1)
    losses = 1.6 * np.exp(-epochs / 20_000) + 0.01 * np.sin(epochs)
    accs = np.minimum(1.0, epochs / n)
    buffers = set()
    for start in range(0, n, batch):
        sl = slice(start, start + batch)
        panel.append(
            [
                EpochResult(int(e), float(lo), float(a), ("ohlol",), 0.0)
                for e, lo, a in zip(epochs[sl], losses[sl], accs[sl], strict=True)
            ]
        )
        buffers.add(id(panel.plot._losses))  # structural: the buffer is reallocated only when it doubles
    assert len(buffers) <= math.ceil(math.log2(n / 1024)) + 1
    item = first_item(panel)
    assert np.array_equal(item.yData, losses) and np.array_equal(item.xData, epochs)
    assert np.array_equal(item.getData()[1], losses)
    assert np.array_equal(panel.losses(), losses)
    # Drawing is downsampled (fewer points than epochs) while the data stays exact.
    panel.grab()
    drawn = item.curve.getData()[1]
    assert 0 < len(drawn) < n


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (6.85431, "6.8543"),
        (131.69734, "131.6973"),
        (0.0, "0.0000"),
        (959440530440192.0, "9.594e+14"),
        (2.5e-5, "2.500e-05"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
    ],
)
def test_format_loss_is_compact_at_any_size(value, text):
    assert loss_plot.format_loss(value) == text


def test_an_accuracy_short_of_all_or_above_none_never_reads_100_or_0_percent(panel, qtbot):
    # 256 pairs, one character of 5,120 always wrong: the read-out and the log said "accuracy 100.0%"
    # beside the red character.
    from rnnstudio.ui.prediction_log import ACCURACY_COLUMN, PredictionLogModel

    one_wrong = 5119 / 5120
    results = [EpochResult(1, 0.5, 1 / 5120, ("x",), 0.1), EpochResult(2, 0.1, one_wrong, ("x",), 0.2)]
    results.append(EpochResult(3, 0.01, 1.0, ("x",), 0.3))
    panel.show()
    qtbot.waitExposed(panel)
    panel.append(results)
    assert "accuracy 100.0%" in panel.readout_label.text()  # the latest, epoch 3, is all right
    vb = panel.plot.plotItem.vb
    qtbot.waitUntil(lambda: vb.viewRange()[0][1] >= 3)
    panel.plot.scene().sigMouseMoved.emit(vb.mapViewToScene(QPointF(2.0, 0.1)))
    assert panel.readout_label.text().startswith("epoch 2 ") and "accuracy >99.9%" in panel.readout_label.text()
    log = PredictionLogModel()
    log.set_targets(["x"])
    log.append(results)
    assert [log.data(log.index(row, ACCURACY_COLUMN)) for row in range(3)] == ["<0.1%", ">99.9%", "100.0%"]


def test_a_loss_of_0_on_a_log_scale_is_named_not_left_out_silently(panel, qtbot):
    # A 20,000-epoch LSTM reached a loss of exactly 0.0: on the log scale its curve simply stopped.
    plot = panel.plot
    results = make_results(1, 30)
    results[20:] = [replace(r, loss=0.0) for r in results[20:]]
    panel.show()
    qtbot.waitExposed(panel)
    panel.append(results[:10])
    plot.set_log_scale(True)
    assert plot.zero_note() == ""  # nothing it cannot draw yet
    panel.append(results[10:])
    assert plot.zero_note() == "a loss of 0 (first at epoch 21) is not drawn on a log scale"
    plot.set_log_scale(False)
    assert plot.zero_note() == ""  # a linear axis draws it
    plot.set_log_scale(True)
    assert "epoch 21" in plot.zero_note()
    panel.set_history(make_results(1, 5))
    assert plot.zero_note() == ""


def shown_panel(qtbot, width: int, height: int) -> LossPanel:
    panel = LossPanel()
    qtbot.addWidget(panel)
    panel.resize(width, height)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_a_diverged_runs_readout_fits_beside_the_export_buttons(qtbot):
    panel = shown_panel(qtbot, 630, 420)  # the loss panel's size in the 1440 x 900 window
    panel.append(
        [EpochResult(1, 6.8543, 0.4, ("lllll",), 0.0), EpochResult(2, 959440530440192.0, 0.4, ("ooooo",), 0.0)]
    )
    label = panel.readout_label
    assert label.text() == "latest: epoch 2   loss 9.594e+14   accuracy 40.0%"
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()
    assert label.mapTo(panel, label.rect().topLeft()).x() + label.width() <= panel.png_button.x()


@pytest.mark.parametrize("width", [290, 450, 900])
def test_epoch_tick_labels_of_a_long_run_are_short_and_never_touch(qtbot, width):
    # A 100,000-epoch run in a narrow window read "0 2000040000600000800000": labels ran together.
    from PySide6.QtGui import QFontMetrics

    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(width, 280)
    plot.show()
    qtbot.waitExposed(plot)
    plot.append(make_results(1, 300))
    plot.set_x_goal(100_000)
    axis = plot.plotItem.getAxis("bottom")
    lo, hi = axis.range
    size = axis.geometry().width()
    levels = axis.tickValues(lo, hi, size)
    values = sorted(v for _spacing, vs in levels for v in vs)
    labels = axis.tickStrings(values, 1.0, 0.0)
    assert len(values) >= 3, labels
    assert all(len(label) <= 4 for label in labels), labels  # 20k, 100k, not 20000
    assert "100k" in labels or "50k" in labels
    metrics = QFontMetrics(axis.font())
    x = [(v - lo) / (hi - lo) * size for v in values]
    for i in range(len(values) - 1):
        room = x[i + 1] - x[i]
        half_widths = (metrics.horizontalAdvance(labels[i]) + metrics.horizontalAdvance(labels[i + 1])) / 2
        assert room >= half_widths + 4, (labels, room)


def test_epoch_ticks_read_as_short_numbers():
    assert [loss_plot.format_epoch_tick(v) for v in (0, 5, 500, 20_000, 12_500, 1_000_000, 1_500_000)] == [
        "0",
        "5",
        "500",
        "20k",
        "12.5k",
        "1M",
        "1.5M",
    ]


def test_a_narrow_panel_gives_the_read_out_a_row_of_its_own_and_shortens_it_before_eliding(panel, qtbot) -> None:
    # At 1024 x 768 the read-out had a few dozen pixels beside the export buttons: "latest: …".
    panel.resize(900, 400)
    panel.show()
    qtbot.waitExposed(panel)
    panel.append(make_results(1, 200))
    label = panel.readout_label
    qtbot.waitUntil(lambda: label.text().startswith("latest: epoch 200"))
    whole = label.text()
    loss = whole.split("loss ")[1].split()[0]
    assert not panel.readout_below() and label.shown_text() == whole
    assert label.mapTo(panel, label.rect().topLeft()).y() < panel.png_button.geometry().bottom()
    bar_bottom = panel.png_button.geometry().bottom() + panel._bar.contentsMargins().bottom()
    assert panel.plot.geometry().top() == bar_bottom + 1  # the empty row for the read-out takes no room
    assert label.toolTip().startswith("Epoch, loss and accuracy")
    assert label.textInteractionFlags() & Qt.TextSelectableByMouse  # whole: the numbers can be selected

    panel.resize(330, 400)  # Export PNG and Export CSV would leave it a few dozen pixels
    QApplication.processEvents()
    assert panel.readout_below()
    assert label.mapTo(panel, label.rect().topLeft()).y() > panel.png_button.geometry().bottom()
    assert label.width() > 300  # the panel's whole width, not what the buttons leave
    assert label.shown_text() == whole
    assert label.toolTip().startswith("Epoch, loss and accuracy")

    panel.resize(240, 400)  # too narrow for it whole: a shorter form
    QApplication.processEvents()
    shown = label.shown_text()
    assert shown in panel.plot.readout_shorter() and "epoch 200" in shown and loss in shown
    assert label.fontMetrics().horizontalAdvance(shown) <= label.width()
    assert label.text() == whole and label.toolTip().startswith(whole)  # the tooltip has it whole
    assert panel.png_button.isVisible() and panel.csv_button.isVisible()

    panel.resize(900, 400)
    QApplication.processEvents()
    assert not panel.readout_below() and label.shown_text() == whole
    assert label.textInteractionFlags() & Qt.TextSelectableByMouse
    assert panel.plot.geometry().top() == bar_bottom + 1


def test_the_read_outs_shorter_forms_keep_the_epoch_the_loss_and_the_accuracy(panel, qtbot) -> None:
    panel.append([EpochResult(1, 6.8543, 0.4, ("lllll",), 0.0), EpochResult(2, 1.25e-05, 1.0, ("ohlol",), 0.0)])
    plot = panel.plot
    assert plot.readout_text() == "latest: epoch 2   loss 1.250e-05   accuracy 100.0%"
    forms = plot.readout_shorter()
    assert forms[-1] == "2: 1.250e-05, 100.0%"
    widths = [len(form) for form in (plot.readout_text(), *forms)]
    assert widths == sorted(widths, reverse=True) and len(set(widths)) == len(widths)  # each one shorter
    assert all("1.250e-05" in form and "100.0%" in form for form in forms)
    assert all(form.startswith("latest: ") for form in forms[:-1])  # told apart from a hover
    plot._set_hover(0)
    assert plot.readout_text() == "epoch 1   loss 6.8543   accuracy 40.0%"
    assert plot.readout_shorter() == ("epoch 1  loss 6.8543  acc. 40.0%", "1: 6.8543, 40.0%")


SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def test_a_diverging_runs_log_axis_reads_its_losses_with_no_scale_factor(qtbot):
    # Losses of 1 .. 1e11 were labelled "loss (x1e+12)" with ticks 10^-12 .. 1 on the log scale.
    panel = shown_panel(qtbot, 700, 450)
    panel.append([EpochResult(e, 1.35 * 10 ** (e * 11 / 200), 0.4, ("lllll",), 0.0) for e in range(1, 201)])
    axis = panel.plot.plotItem.getAxis("left")
    for log in (False, True):
        panel.set_log_scale(log)
        QApplication.processEvents()
        assert "x1e" not in axis.labelString() and "loss" in axis.labelString()
        lo, hi = axis.range
        spacing, values = axis.tickValues(lo, hi, axis.geometry().height())[0]  # the major ticks
        labels = axis.tickStrings(values, axis.autoSIPrefixScale * axis.scale, spacing)
        if log:  # view units are log10 of the loss
            assert labels == [("1" if v == 0 else f"10{str(int(v)).translate(SUPERSCRIPTS)}") for v in values]
            assert max(values) >= 10
        else:
            assert max(float(label) for label in labels) >= 1e11


# ----- the chance line's label; the hover line in exports ---------------------------------------


def test_the_chance_line_of_a_summed_loss_is_labelled_with_its_steps(panel, qtbot):
    # RNNCell preset: the loss adds up 5 steps, the line sits at 5 ln 4 = 6.93, not at ln|V|.
    panel.show()
    qtbot.waitExposed(panel)
    panel.append(make_results(1, 20))
    line = panel.plot.chance_line()
    panel.set_chance_loss(5 * math.log(4), steps=5)
    assert line.isVisible() and line.value() == pytest.approx(6.931, abs=1e-3)
    assert line.label.textItem.toPlainText() == "chance 5·ln|V|" == panel.plot.chance_label()
    assert "summed over 5 time steps" in line.toolTip()
    # Pairs of different lengths: the mean number of steps per pair.
    panel.set_chance_loss(4.5 * math.log(4), steps=4.5)
    assert line.label.textItem.toPlainText() == "chance 4.5·ln|V|"
    # Hidden, then shown again for a mean loss: the label follows, though it changed while hidden.
    panel.set_chance_loss(None, steps=5)
    panel.set_chance_loss(math.log(4))
    assert line.isVisible() and line.label.textItem.toPlainText() == CHANCE_LABEL
    assert "summed" not in line.toolTip()
    assert loss_plot.chance_label(5.0) == "chance 5·ln|V|" and loss_plot.chance_label(13 / 3) == "chance 4.33·ln|V|"


def hover_line_pixels(image: QImage, x: int) -> int:
    """The most pixels in one column within 2 px of ``x`` drawn in the hover line's grey.

    The line is antialiased (a 1 px line between two pixel columns draws both at part strength), so
    a pixel counts when it is the grey laid over the background at any strength from a fifth up.
    """
    grey, back = QColor(loss_plot.HOVER_COLOUR), QColor(loss_plot.BACKGROUND)
    channels = [(back.red(), grey.red()), (back.green(), grey.green()), (back.blue(), grey.blue())]
    best = 0
    for col in range(max(0, x - 2), min(image.width(), x + 3)):
        count = 0
        for y in range(image.height()):
            c = image.pixelColor(col, y)
            alphas = [(b - v) / (b - g) for v, (b, g) in zip((c.red(), c.green(), c.blue()), channels, strict=True)]
            if min(alphas) >= 0.2 and max(alphas) <= 1.05 and max(alphas) - min(alphas) <= 0.08:
                count += 1
        best = max(best, count)
    return best


def test_a_png_exported_with_the_mouse_on_the_plot_has_no_hover_line(panel, qtbot, tmp_path, monkeypatch):
    panel.show()
    qtbot.waitExposed(panel)
    panel.append(make_results(1, 40))
    plot = panel.plot
    vb = plot.plotItem.vb
    qtbot.waitUntil(lambda: vb.viewRange()[0][1] >= 40)
    # The user rests the mouse on epoch 30: the grey hover line and the read-out follow it.
    scene_point = vb.mapViewToScene(QPointF(30, 0.5))
    qtbot.mouseMove(plot.viewport(), plot.mapFromScene(scene_point))
    qtbot.waitUntil(lambda: plot.hovered_epoch() == 30)
    live_x = plot.mapFromScene(vb.mapViewToScene(QPointF(30, 0.5))).x()
    plot_height = vb.sceneBoundingRect().height()
    assert hover_line_pixels(plot.grab().toImage(), live_x) > plot_height / 2  # the live view shows it

    path = tmp_path / "plot.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), "PNG images (*.png)"))
    qtbot.mouseClick(panel.png_button, Qt.LeftButton)
    image = QImage(str(path))
    assert not image.isNull()
    source = plot.plotItem.sceneBoundingRect()
    export_x = round((vb.mapViewToScene(QPointF(30, 0.5)).x() - source.left()) * image.width() / source.width())
    assert hover_line_pixels(image, export_x) < 10  # no line: at most a stray antialiased pixel or two
    assert (
        len({image.pixelColor(x, y).name() for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)})
        > 3
    )

    # The live view keeps its hover line and read-out after the export.
    assert plot.hovered_epoch() == 30 and panel.readout_label.text().startswith("epoch 30 ")
    assert hover_line_pixels(plot.grab().toImage(), live_x) > plot_height / 2
