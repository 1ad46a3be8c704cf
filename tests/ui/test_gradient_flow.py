"""GradientFlowView: the heatmap equals real snapshots' grad_norms, layer switching, log scale, clipped epochs."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor

from rnnstudio.core.presets import get_preset
from rnnstudio.core.results import EpochResult, WeightSnapshot
from rnnstudio.core.sequences import Task
from rnnstudio.core.trainer import Trainer
from rnnstudio.ui.gradient_flow import NON_FINITE_COLOUR, GradientFlowView, format_norm, log_ticks

FOX = "the quick brown fox "


@pytest.fixture(scope="module")
def probed_run():
    """The notebook's embedding preset (2 layers), probed at epochs 0, 10, 20, 30."""
    p = get_preset("rnn-embedding").project
    trainer = Trainer(p.task, p.model, p.train)
    snaps = [trainer.probe()]
    results = []
    for _ in range(3):
        results += list(trainer.epochs(count=10))
        snaps.append(trainer.probe())
    return snaps, results, trainer


@pytest.fixture(scope="module")
def clipped_run():
    """A 20-step string with a clipping limit small enough to clip some epochs but not all."""
    p = get_preset("rnn-embedding").project
    limit = 0.1
    trainer = Trainer(Task.of([(FOX, FOX[::-1])]), p.model, replace(p.train, lr=0.01, clip_grad_norm=limit))
    snaps = [trainer.probe()]
    results = []
    for _ in range(6):
        results += list(trainer.epochs(count=20))
        snaps.append(trainer.probe())
    return snaps, results, limit


def make_view(qtbot) -> GradientFlowView:
    view = GradientFlowView()
    qtbot.addWidget(view)
    view.resize(1000, 360)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_built_alone(qtbot):
    view = GradientFlowView()
    qtbot.addWidget(view)
    assert view.objectName() == "gradientFlowView"
    combo = view.findChild(type(view.layer_combo), "gradLayerCombo")
    assert combo is view.layer_combo and combo.count() == 1 and combo.currentText() == "layer 1"
    assert view.displayed_epochs() == [] and view.displayed_matrix(0).size == 0
    assert view.clip_label.text() == "clipping off" and not view.clip_markers_visible()
    assert view.heat_plot.getAxis("bottom").labelText == "time step"
    assert view.heat_plot.getAxis("left").labelText == "epoch"
    assert view.colour_bar.getAxis("left").labelText == "‖∂L/∂hₜ‖"
    assert not view.grab().isNull()


def test_matrix_equals_the_snapshots_grad_norms(qtbot, probed_run):
    snaps, _, _ = probed_run
    view = make_view(qtbot)
    view.add_snapshots(snaps[:2])
    view.add_snapshots(snaps[2:])
    assert view.displayed_epochs() == [0, 10, 20, 30]
    layers, steps = snaps[0].grad_norms.shape
    assert (layers, steps) == (2, 5)
    for layer in range(layers):
        expected = np.stack([s.grad_norms[layer] for s in snaps])
        np.testing.assert_array_equal(view.displayed_matrix(layer), expected)
    # The two layers differ, so switching layers must change what is drawn.
    assert not np.allclose(view.displayed_matrix(0), view.displayed_matrix(1))
    # The image is log10 of the norms, rows = epochs, columns = steps.
    np.testing.assert_allclose(view.heat_image.image, np.log10(view.displayed_matrix(0)))
    # The line plot: the latest snapshot, one curve per layer.
    curves = view.latest_curves()
    assert len(curves) == 2
    for layer, curve in enumerate(curves):
        x, y = curve.getOriginalDataset()
        np.testing.assert_array_equal(x, np.arange(1, steps + 1))
        np.testing.assert_allclose(y, snaps[-1].grad_norms[layer])
    assert "epoch 30" in view.line_plot.titleLabel.text


def test_layer_combo_switches_the_heatmap(qtbot, probed_run):
    snaps, _, _ = probed_run
    view = make_view(qtbot)
    view.add_snapshots(snaps)
    combo = view.layer_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["layer 1", "layer 2"]
    assert combo.currentIndex() == 0  # the first layer by default
    with qtbot.waitSignal(view.layer_changed) as blocker:
        combo.setFocus()
        qtbot.keyClick(combo, Qt.Key_Down)
    assert blocker.args == [1] and view.layer() == 1
    np.testing.assert_allclose(view.heat_image.image, np.log10(np.stack([s.grad_norms[1] for s in snaps])))
    np.testing.assert_array_equal(view.displayed_matrix(), view.displayed_matrix(1))


def test_replacing_ignoring_and_setting_snapshots(qtbot, probed_run):
    snaps, _, _ = probed_run
    view = make_view(qtbot)
    view.add_snapshots(snaps)
    # Without grad_norms: ignored.
    view.add_snapshots([WeightSnapshot(40, {}, None)])
    assert view.displayed_epochs() == [0, 10, 20, 30]
    # Same epoch again: replaced, not duplicated.
    doubled = WeightSnapshot(20, {}, snaps[2].grad_norms * 2)
    view.add_snapshots([doubled])
    assert view.displayed_epochs() == [0, 10, 20, 30]
    np.testing.assert_array_equal(view.displayed_matrix(0)[2], snaps[2].grad_norms[0] * 2)
    # The owner thinned its store: set_snapshots replaces everything.
    view.set_snapshots([snaps[0], snaps[3]])
    assert view.displayed_epochs() == [0, 30]
    np.testing.assert_array_equal(view.displayed_matrix(1), np.stack([snaps[0].grad_norms[1], snaps[3].grad_norms[1]]))
    view.clear()
    assert view.displayed_epochs() == [] and view.displayed_matrix(0).size == 0


def test_clipped_epochs_are_the_results_with_clipped_true(qtbot, clipped_run):
    snaps, results, limit = clipped_run
    expected = [r.epoch for r in results if r.clipped]
    assert 0 < len(expected) < len(results), "the run must clip some epochs and not others"
    view = make_view(qtbot)
    view.set_clipping(limit)
    view.set_input_text(FOX)
    view.add_snapshots(snaps)
    for i in range(0, len(results), 25):
        view.add_results(results[i : i + 25])
    assert view.clipped_epochs() == expected
    assert view.clip_markers_visible() and view.clip_plot.isVisible()
    assert view.clip_label.text() == f"clipping at {limit:g}: clipped in {len(expected)} of {len(results)} epochs"
    # The strip's share per row: epochs nearest each snapshot that clipped.
    epochs = np.array(view.displayed_epochs())
    fractions = view.clip_fractions()
    for row in range(len(epochs)):
        nearest = [r for r in results if np.argmin(np.abs(epochs - r.epoch)) == row]
        if nearest:
            want = sum(r.clipped for r in nearest) / len(nearest)
            assert fractions[row] == pytest.approx(want)
    np.testing.assert_allclose(view.clip_image.image[:, 0], fractions)
    assert fractions.max() > 0
    # Steps are labelled with the input's characters (a space shows as ␣).
    top = view.heat_plot.getAxis("top")._tickLevels[0]
    assert [label for _, label in top][:4] == ["t", "h", "e", "␣"]
    # Clipping off: markers hidden, the label says so.
    view.set_clipping(0)
    assert view.clip_label.text() == "clipping off"
    assert not view.clip_markers_visible() and not view.clip_plot.isVisible()


def test_twenty_step_matrix_and_log_scale(qtbot, clipped_run):
    snaps, _, _ = clipped_run
    view = make_view(qtbot)
    view.add_snapshots(snaps)
    matrix = view.displayed_matrix(0)
    assert matrix.shape == (len(snaps), 20)
    lo, hi = view.levels()
    assert lo == pytest.approx(math.log10(min(s.grad_norms.min() for s in snaps)))
    assert hi == pytest.approx(math.log10(max(s.grad_norms.max() for s in snaps)))
    # The colour bar's ticks carry real values, not log10 exponents.
    labels = [label for _, label in view.colour_bar.axis._tickLevels[0]]
    assert labels and all(float(label) > 0 for label in labels)


def test_zeros_and_a_new_shape(qtbot):
    view = make_view(qtbot)
    norms = np.array([[0.0, 1e-3, 1e-1]])
    view.add_snapshots([WeightSnapshot(0, {}, norms), WeightSnapshot(5, {}, norms * 10)])
    assert np.all(np.isfinite(view.heat_image.image))
    assert view.levels() == pytest.approx((-3.0, 0.0))
    assert view.heat_image.image[0, 0] == pytest.approx(-3.0)  # a zero sits at the bottom of the scale
    # A snapshot of another model (2 layers x 4 steps) starts the picture afresh.
    view.add_snapshots([WeightSnapshot(0, {}, np.ones((2, 4)))])
    assert view.displayed_epochs() == [0] and view.displayed_matrix(1).shape == (1, 4)
    assert view.layer_combo.count() == 2


def test_results_without_snapshots_and_a_restarted_run(qtbot):
    view = make_view(qtbot)
    view.set_clipping(1.0)
    view.add_results([EpochResult(e, 1.0, 0.0, ("x",), 0.0, 2.0, e % 2 == 0) for e in range(1, 11)])
    assert view.clipped_epochs() == [2, 4, 6, 8, 10]
    assert "clipped in 5 of 10 epochs" in view.clip_label.text()
    # Epoch numbers starting again: a new run, counted afresh.
    view.add_results([EpochResult(1, 1.0, 0.0, ("x",), 0.0, 2.0, True)])
    assert view.clipped_epochs() == [1]


def test_log_ticks_and_format():
    assert [t for _, t in log_ticks(-3, 0)] == ["0.001", "0.01", "0.1", "1"]
    assert [t for _, t in log_ticks(-6.2, -4.1)] == ["1e-6", "1e-5"]
    small = log_ticks(-1.0, -0.5)  # less than a decade: 1-2-5 steps
    assert [t for _, t in small] == ["0.1", "0.2"]
    # One or two decades: 2 and 5 between the powers of ten, not only the ends.
    assert [t for _, t in log_ticks(-1, 0)] == ["0.1", "0.2", "0.5", "1"]
    assert format_norm(0) == "0" and format_norm(12345.0) == "1.2e4"


def test_hover_readout_names_epoch_step_character_and_norm(qtbot, probed_run):
    snaps, _, _ = probed_run
    view = make_view(qtbot)
    view.set_input_text("hello")
    view.add_snapshots(snaps)
    vb = view.heat_plot.vb
    scene_pos = vb.mapViewToScene(QPointF(3.0, 1.0))  # step 3, second row (epoch 10)
    value = snaps[1].grad_norms[0][2]
    assert view.readout_at(scene_pos) == f"epoch 10, step 3 ('l'): ‖∂L/∂hₜ‖ = {format_norm(float(value))}"
    view.graphics.scene().sigMouseMoved.emit(scene_pos)
    assert view.readout_label.text() == view.readout_at(scene_pos)
    assert view.readout_at(vb.mapViewToScene(QPointF(50.0, 1.0))) == ""  # outside the steps


def pixel_at(view: GradientFlowView, step: int, row: int) -> QColor:
    """The colour drawn at the centre of heatmap cell (time step ``step`` 1-based, row ``row``)."""
    image = view.graphics.grab().toImage()
    scene = view.heat_plot.vb.mapViewToScene(QPointF(float(step), float(row)))
    return image.pixelColor(view.graphics.mapFromScene(scene) + view.graphics.viewport().pos())


def test_non_finite_norms_stand_out_instead_of_looking_vanished(qtbot):
    view = make_view(qtbot)
    view.set_input_text("abc")
    # A run that blows up: epoch 5 overflowed at steps 1 and 2.
    view.add_snapshots(
        [
            WeightSnapshot(0, {}, np.array([[0.0, 1e-3, 1e-1]])),
            WeightSnapshot(5, {}, np.array([[np.inf, np.nan, 1e-2]])),
        ]
    )
    assert view.levels() == pytest.approx((-3.0, -1.0))  # the scale spans the finite norms only
    lowest = QColor(view.colour_map.map(0.0, mode="qcolor"))
    marked = QColor(NON_FINITE_COLOUR)
    assert pixel_at(view, 1, 0) == lowest  # a zero: vanished, the bottom of the scale
    assert pixel_at(view, 1, 1) == marked  # inf
    assert pixel_at(view, 2, 1) == marked  # nan
    assert pixel_at(view, 3, 1) != marked
    assert marked not in view.colour_map.getLookupTable(nPts=256, mode="qcolor")  # no colour of the scale
    assert view.non_finite_label.isVisibleTo(view) and "NaN" in view.non_finite_label.text()
    assert "non-finite" in view.non_finite_label.toolTip()
    vb = view.heat_plot.vb
    assert view.readout_at(vb.mapViewToScene(QPointF(1.0, 1.0))).endswith("= inf (non-finite: the gradient overflowed)")
    # The latest snapshot plots its one finite norm and says why the others are missing.
    assert "2 of 3 norms of epoch 5 are NaN or inf" in view.line_note.text()
    # A finite run again: the marks and the legend go.
    view.set_snapshots([WeightSnapshot(0, {}, np.array([[1e-3, 1e-2, 1e-1]]))])
    assert pixel_at(view, 1, 0) != marked and not view.non_finite_label.isVisibleTo(view)
    assert view.line_note.text() == ""


def note_fits(note, plot) -> bool:
    item = note.item
    return plot.vb.sceneBoundingRect().contains(item.mapRectToScene(item.boundingRect()))


def test_empty_plots_say_why_in_full_at_the_windows_default_size(qtbot):
    view = GradientFlowView()
    qtbot.addWidget(view)
    view.resize(650, 300)  # the Gradient flow tab in a 1440 x 900 window
    view.show()
    qtbot.waitExposed(view)
    assert view.heat_note.text() == "No gradient snapshots yet: they arrive while training runs."
    assert note_fits(view.heat_note, view.heat_plot)
    # A diverged run: every norm of the latest snapshot is NaN, so its log plot has no point to draw.
    view.add_snapshots([WeightSnapshot(0, {}, np.ones((1, 5))), WeightSnapshot(3, {}, np.full((1, 5), np.nan))])
    assert view.heat_note.text() == ""
    assert view.line_note.text().startswith("Nothing to plot: every norm of epoch 3 is NaN or inf")
    assert note_fits(view.line_note, view.line_plot)
    view.resize(500, 300)  # narrower still: the note wraps again
    qtbot.waitUntil(lambda: note_fits(view.line_note, view.line_plot))


def drawn_labels(axis) -> list[str]:
    """The tick labels the axis paints (those pyqtgraph drops for lack of room are not listed)."""
    from PySide6.QtGui import QImage, QPainter

    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _rect, _flags, text in specs[2]] if specs else []


@pytest.mark.parametrize("lo, hi", [(0.15, 0.9), (0.012, 0.08), (0.3, 0.35), (0.02, 0.9)])
def test_the_latest_snapshot_axis_has_numbers_when_the_norms_span_under_a_decade(qtbot, lo, hi):
    # A log axis over one decade showed no number at all (after one Step; the RNNCell preset: 0.1..1).
    view = make_view(qtbot)
    view.add_snapshots([WeightSnapshot(0, {}, np.array([[lo, (lo + hi) / 2, hi, lo * 1.1, hi * 0.9]]))])
    labels = drawn_labels(view.line_plot.getAxis("left"))
    assert len(labels) >= 2, labels
    values = [float(label) for label in labels]
    assert all(lo / 10 <= v <= hi * 10 for v in values), labels


def test_one_snapshot_leaves_the_epoch_axis_label_plain(qtbot):
    view = make_view(qtbot)
    view.add_snapshots([WeightSnapshot(0, {}, np.array([[0.02, 0.5, 0.9]]))])
    for name in ("left", "bottom"):
        assert "x0.001" not in view.heat_plot.getAxis(name).labelString()
    assert "epoch" in view.heat_plot.getAxis("left").labelString()


def test_a_narrow_tab_puts_the_status_under_the_title_instead_of_scrolling_sideways(qtbot, probed_run):
    # In a 1280 px window the tab is ~480 px: title, layer box, clipping count and read-out in one row
    # made the page 536 px wide, so it scrolled sideways and the read-out had 7 px to be read in.
    from PySide6.QtWidgets import QScrollArea

    snaps, _, _ = probed_run
    view = GradientFlowView()
    area = QScrollArea()
    area.setWidget(view)
    area.setWidgetResizable(True)
    qtbot.addWidget(area)
    area.resize(480, 300)
    area.show()
    qtbot.waitExposed(area)
    view.set_input_text("hello")
    view.add_snapshots(snaps)
    qtbot.waitUntil(view.status_on_own_row)
    qtbot.waitUntil(lambda: view.width() <= area.viewport().width())
    assert not area.horizontalScrollBar().isVisible()
    scene_pos = view.heat_plot.vb.mapViewToScene(QPointF(3.0, 1.0))
    view.graphics.scene().sigMouseMoved.emit(scene_pos)
    readout = view.readout_label
    assert readout.text().startswith("epoch 10, step 3")
    assert readout.width() >= readout.fontMetrics().horizontalAdvance(readout.text())  # read whole

    area.resize(1000, 300)  # room for one row again: the plots get the height back
    qtbot.waitUntil(lambda: not view.status_on_own_row())
    qtbot.waitUntil(lambda: view.status_row.geometry().top() < view.layer_combo.geometry().bottom())  # beside it
    # A long clipping count in a mid-width view moves the status down rather than push the page wider.
    area.resize(900, 300)
    qtbot.waitUntil(lambda: not view.status_on_own_row())
    view.set_clipping(0.5)
    view.add_results([EpochResult(e, 1.0, 0.0, ("x",), 0.0, clipped=True) for e in range(1, 123_457)])
    qtbot.waitUntil(view.status_on_own_row)
    qtbot.waitUntil(lambda: view.width() <= area.viewport().width())
    assert "123,456" in view.clip_label.text()
    # In the 1280 px window's tab, the read-out then goes under the count: it kept 208 px of 303 beside it.
    area.resize(480, 300)
    view.graphics.scene().sigMouseMoved.emit(scene_pos)
    qtbot.waitUntil(lambda: readout.width() >= readout.fontMetrics().horizontalAdvance(readout.text()))
    assert readout.geometry().top() >= view.clip_label.geometry().bottom()
    assert not area.horizontalScrollBar().isVisible()
