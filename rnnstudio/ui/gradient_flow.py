"""Gradient flow: how large d(loss)/d(hidden state) is at each time step, epoch after epoch, on a log colour scale."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFontDatabase, QTextOption
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QGraphicsTextItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core.results import EpochResult, WeightSnapshot
from . import style
from .vocab_strip import NoteLabel

TEXT_COLOUR = style.TEXT
MUTED_COLOUR = style.MUTED
BACKGROUND = style.BACKGROUND
CLIP_COLOUR = style.ERROR
#: Heatmap cells whose norm is NaN or inf: outside the colour scale, which a diverged run would otherwise
#: paint in its lowest colour, as if the gradient had vanished rather than exploded.
NON_FINITE_COLOUR = "#ff00d4"
EMPTY_HINT = "No gradient snapshots yet: they arrive while training runs."
NORM_LABEL = "‖∂L/∂hₜ‖"
#: The longest usual read-out, for the room it needs beside the title.
READOUT_TEMPLATE = f"epoch 100000, step 20 ('w'): {NORM_LABEL} = 1.234e-05"
#: One colour per layer in the line plot (layer 1 first).
LAYER_COLOURS = ("#0969da", "#bc4c00", "#8250df", "#1a7f37", "#bf3989", "#6e7781", "#953800", "#0a3069")
#: Snapshot rows kept at most: beyond this the most crowded one goes (the owner usually thins first).
MAX_SNAPSHOTS = 400

_BOTTOM_AXIS_HEIGHT = 38
_TOP_AXIS_HEIGHT = 22
_CLIP_WIDTH = 46
#: Between the title, the layer box and the status parts; _arrange_bar counts on it.
_BAR_SPACING = 10


def format_norm(value: float) -> str:
    """A norm for a label: plain decimals between 0.001 and 10,000, scientific notation beyond."""
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)  # nan, inf
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.4g}"
    return f"{value:.2g}".replace("e-0", "e-").replace("e+0", "e")


def log_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """Ticks in log10 units between lo and hi, labelled with the real values (1e-05, 0.001, 1, 100, ...)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return []
    decades = list(range(math.ceil(lo), math.floor(hi) + 1))
    # Up to two decades, 2 and 5 between the powers of ten: the powers alone sit at the ends of such a
    # range, where pyqtgraph drops labels that overflow the axis, which left the axis with no number.
    steps = [1.0, 2.0, 5.0] if hi - lo <= 2 + 1e-9 else [1.0]
    if len(decades) > 8:  # many decades: every other (or third) one keeps the labels apart
        decades = decades[:: math.ceil(len(decades) / 8)]
    ticks = []
    for d in range(math.floor(lo), math.ceil(hi) + 1):
        if len(steps) == 1 and d not in decades:
            continue
        for m in steps:
            v = math.log10(m) + d
            if lo - 1e-9 <= v <= hi + 1e-9:
                ticks.append((v, format_norm(m * 10.0**d)))
    if len(ticks) < 2:  # less than a factor of two: label the ends
        ticks = [(lo, format_norm(10.0**lo)), (hi, format_norm(10.0**hi))]
    return ticks


class _ViewNote:
    """A muted message centred in a ViewBox and word-wrapped to its width, so that no plot is too narrow for it."""

    MARGIN = 8

    def __init__(self, view: pg.ViewBox) -> None:
        self._view = view
        self.item = QGraphicsTextItem(view)  # a child of the box, not of its data: pixel coordinates
        self.item.setDefaultTextColor(QColor(MUTED_COLOUR))
        option = QTextOption(Qt.AlignHCenter)
        option.setWrapMode(QTextOption.WordWrap)
        self.item.document().setDefaultTextOption(option)
        self.item.setZValue(10)
        self.item.hide()
        view.sigResized.connect(self._place)

    def set_text(self, text: str) -> None:
        """Show ``text`` ("" hides the note)."""
        if text != self.item.toPlainText():
            self.item.setPlainText(text)
        self.item.setVisible(bool(text))
        self._place()

    def text(self) -> str:
        """The message shown, or "" when hidden."""
        return self.item.toPlainText() if self.item.isVisible() else ""

    def _place(self, *_args) -> None:
        rect = self._view.boundingRect()
        self.item.setTextWidth(max(rect.width() - 2 * self.MARGIN, 40.0))
        height = self.item.boundingRect().height()
        self.item.setPos(rect.left() + self.MARGIN, rect.top() + max((rect.height() - height) / 2, 0.0))


def _visible_char(ch: str) -> str:
    if ch == " ":
        return "␣"
    return ch if ch.isprintable() else "·"


class GradientFlowView(QWidget):
    """Hidden-state gradient norms: a heatmap of epochs x time steps (log colours) and the latest per layer.

    The heatmap shows one layer (chosen in the combo); clipped epochs are marked in a strip
    beside it; the line plot shows the latest snapshot's norm per step for every layer.
    Vanishing gradients show as colours fading towards the first steps; exploding ones as a blaze
    of the top colour, and (with clipping on) as red marks in the "clipped" strip.
    """

    layer_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradientFlowView")
        self._snaps: dict[int, np.ndarray] = {}  # epoch -> numLayers x seqLen
        self._empty_hint = EMPTY_HINT
        self._epochs: list[int] = []  # sorted keys of _snaps
        self._shape: tuple[int, int] | None = None
        self._matrix = np.zeros((0, 0, 0))  # rows x layers x steps, in _epochs order
        self._levels = (0.0, 1.0)
        self._clip_limit = 0.0
        self._input_text = ""
        # Every epoch seen and the clipped ones, sorted: counts per row are two searchsorted calls.
        self._result_epochs = np.empty(1024, dtype=np.int64)
        self._n_results = 0
        self._clipped = np.empty(256, dtype=np.int64)
        self._n_clipped = 0
        self._curves: list[pg.PlotDataItem] = []
        # What was last handed to pyqtgraph: every setTicks / setRange / setTitle makes an axis or the
        # layout redraw, the costliest part of an update, so they are only called on a change.
        self._applied: dict[str, object] = {}

        # ----------------------------------------------------------- top bar
        self.title_label = QLabel(f"<b>Gradient flow</b>: {NORM_LABEL}, the size of d(loss)/d(hidden state)")
        self.title_label.setToolTip(
            "How strongly the loss depends on the hidden state at each time step.\n"
            "Fading towards the first steps: vanishing gradients (early inputs barely learn).\n"
            "Growing without bound: exploding gradients (clipping limits them)."
        )
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("gradLayerCombo")
        self.layer_combo.setToolTip("Which recurrent layer the heatmap shows")
        self.layer_combo.addItem("layer 1")
        self.clip_label = QLabel("clipping off")
        self.clip_label.setObjectName("gradClipLabel")
        self.non_finite_label = QLabel(f"<span style='color:{NON_FINITE_COLOUR}'>■</span> NaN / inf")
        self.non_finite_label.setObjectName("gradNonFiniteLabel")
        self.non_finite_label.setToolTip(
            "Cells in this colour hold a non-finite norm (NaN or inf): the gradient overflowed.\n"
            "Exploding gradients, not vanishing ones: the run diverged; try a lower learning rate or clipping."
        )
        self.non_finite_label.hide()
        self.readout_label = QLabel("")
        self.readout_label.setObjectName("gradReadout")
        self.readout_label.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.readout_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.readout_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 2)
        bar.addWidget(self.title_label)
        bar.addSpacing(_BAR_SPACING)
        bar.addWidget(self.layer_combo)
        bar.addSpacing(_BAR_SPACING)
        # The clipping count, the NaN key and the hover read-out: beside the title when the row has room
        # for all of them, on a row of their own under it when not (a 1280 px window's tab is ~480 px:
        # in one row the page scrolled sideways and the read-out had no room to be read).
        self.status_row = QWidget()
        self.status_row.setObjectName("gradStatusRow")
        status = QHBoxLayout(self.status_row)
        status.setContentsMargins(0, 0, 0, 0)
        self._status = status
        status.addWidget(self.clip_label)
        status.addSpacing(_BAR_SPACING)
        status.addWidget(self.non_finite_label)
        status.addWidget(self.readout_label, 1)
        bar.addWidget(self.status_row, 1)
        self._bar = bar
        self._readout_room = self.readout_label.fontMetrics().horizontalAdvance(READOUT_TEMPLATE)
        self.recording_hint = NoteLabel("gradRecordingHint")  # why the snapshots are few (a large model)
        self.recording_hint.setContentsMargins(6, 0, 6, 2)

        # ------------------------------------------------------------ plots
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("gradientFlowGraphics")
        self.graphics.setBackground(BACKGROUND)
        layout_item = self.graphics.ci
        layout_item.setContentsMargins(4, 4, 4, 4)
        layout_item.setSpacing(0)

        # Clipped strip: same rows as the heatmap (y linked), red where clipping acted.
        self.clip_plot = pg.PlotItem(enableMenu=False)
        self.clip_plot.setMouseEnabled(False, False)
        self.clip_plot.hideButtons()
        self.clip_plot.invertY(True)
        for name in ("left", "right"):
            self.clip_plot.hideAxis(name)
        self.clip_plot.showAxis("top")
        for name, height in (("top", _TOP_AXIS_HEIGHT), ("bottom", _BOTTOM_AXIS_HEIGHT)):
            axis = self.clip_plot.getAxis(name)
            axis.setHeight(height)
            axis.setTicks([[]])
            axis.setPen(pg.mkPen(BACKGROUND))
            axis.setTextPen(pg.mkPen(TEXT_COLOUR))
        self.clip_plot.getAxis("bottom").setLabel("clipped", color=CLIP_COLOUR)
        self.clip_image = pg.ImageItem(axisOrder="row-major")
        self.clip_image.setLookupTable(_clip_lut())
        self.clip_image.setLevels((0.0, 1.0))
        self.clip_plot.addItem(self.clip_image)
        self.clip_frame = pg.PlotDataItem(pen=pg.mkPen("#8c959f", width=1))
        self.clip_plot.addItem(self.clip_frame)
        self.clip_plot.setXRange(0.0, 1.0, padding=0)
        self.clip_plot.setMaximumWidth(_CLIP_WIDTH)
        self.clip_plot.setMinimumWidth(_CLIP_WIDTH)
        layout_item.addItem(self.clip_plot, 0, 0)

        # Heatmap.
        self.heat_plot = pg.PlotItem(enableMenu=False)
        self.heat_plot.setMouseEnabled(False, False)
        self.heat_plot.hideButtons()
        self.heat_plot.invertY(True)  # epochs run downwards, like the film strip and the predictions log
        self.heat_plot.showAxis("top")
        for name in ("left", "bottom", "top"):
            axis = self.heat_plot.getAxis(name)
            axis.setPen(pg.mkPen(TEXT_COLOUR, width=1))
            axis.setTextPen(pg.mkPen(TEXT_COLOUR, width=1))
        self.heat_plot.getAxis("bottom").setHeight(_BOTTOM_AXIS_HEIGHT)
        self.heat_plot.getAxis("top").setHeight(_TOP_AXIS_HEIGHT)
        self.heat_plot.setLabel("left", "epoch", color=TEXT_COLOUR)
        self.heat_plot.setLabel("bottom", "time step", color=TEXT_COLOUR)
        for name in ("left", "bottom"):
            # Epochs and steps are counts: one snapshot (a range near 0) made the label "epoch (x0.001)".
            self.heat_plot.getAxis(name).enableAutoSIPrefix(False)
        self.heat_image = pg.ImageItem(axisOrder="row-major")
        self.heat_plot.addItem(self.heat_image)
        # NaN / inf cells, drawn over the heatmap in their own colour (transparent elsewhere).
        self.non_finite_image = pg.ImageItem(axisOrder="row-major")
        self.heat_plot.addItem(self.non_finite_image)
        self.clip_plot.setYLink(self.heat_plot)
        layout_item.addItem(self.heat_plot, 0, 1)

        self.colour_map = pg.colormap.get("viridis")
        self.colour_bar = pg.ColorBarItem(
            values=(0.0, 1.0), colorMap=self.colour_map, label=NORM_LABEL, interactive=False, width=14
        )
        self.colour_bar.setImageItem(self.heat_image)
        for name in ("left", "right", "top", "bottom"):
            axis = self.colour_bar.getAxis(name)
            axis.setPen(pg.mkPen(TEXT_COLOUR, width=1))
            axis.setTextPen(pg.mkPen(TEXT_COLOUR, width=1))
        self.colour_bar.getAxis("left").setLabel(NORM_LABEL, color=TEXT_COLOUR)
        self.colour_bar.axis.setWidth(48)  # room for labels such as 0.0001 and 1e-05
        layout_item.addItem(self.colour_bar, 0, 2)

        # Latest snapshot: one curve per layer, log y.
        self.line_plot = pg.PlotItem(enableMenu=False)
        self.line_plot.hideButtons()
        self.line_plot.setLogMode(x=False, y=True)
        self.line_plot.showGrid(x=False, y=True, alpha=0.15)
        for name in ("left", "bottom"):
            axis = self.line_plot.getAxis(name)
            axis.setPen(pg.mkPen(TEXT_COLOUR, width=1))
            axis.setTextPen(pg.mkPen(TEXT_COLOUR, width=1))
        self.line_plot.getAxis("bottom").setHeight(_BOTTOM_AXIS_HEIGHT)
        self.line_plot.setLabel("left", NORM_LABEL, color=TEXT_COLOUR)
        # Plain values on the log axis: an SI prefix would relabel it in units of 0.001.
        self.line_plot.getAxis("left").enableAutoSIPrefix(False)
        self.line_plot.setLabel("bottom", "time step", color=TEXT_COLOUR)
        self.line_plot.setTitle("latest snapshot", color=TEXT_COLOUR, size="9pt")
        layout_item.addItem(self.line_plot, 0, 3)
        layout_item.layout.setColumnStretchFactor(1, 5)
        layout_item.layout.setColumnStretchFactor(3, 4)
        layout_item.layout.setColumnSpacing(2, 14)

        # What an empty plot would otherwise leave unsaid: no snapshots yet, or nothing finite to draw.
        self.heat_note = _ViewNote(self.heat_plot.vb)
        self.line_note = _ViewNote(self.line_plot.vb)

        main = QVBoxLayout(self)
        main.setContentsMargins(0, 0, 0, 0)
        main.setSpacing(0)
        main.addLayout(bar)
        main.addWidget(self.recording_hint)
        self._main = main
        main.addWidget(self.graphics, 1)

        self.layer_combo.currentIndexChanged.connect(self._on_layer_combo_changed)
        self.graphics.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.set_clipping(0.0)
        self._redraw()

    # ------------------------------------------------------------ snapshots
    def add_snapshots(self, snapshots: Sequence[WeightSnapshot]) -> None:
        """Add the snapshots that carry grad_norms (one for an epoch already shown replaces it)."""
        changed = False
        for snap in snapshots:
            norms = snap.grad_norms
            if norms is None:
                continue
            norms = np.asarray(norms, dtype=np.float64)
            if norms.ndim != 2:
                continue
            if self._shape is not None and norms.shape != self._shape:
                # A new model or task (other layers or steps): the old rows cannot share the picture.
                self._snaps.clear()
            self._shape = norms.shape
            self._snaps[int(snap.epoch)] = norms
            changed = True
        if not changed:
            return
        self._epochs = sorted(self._snaps)
        while len(self._epochs) > MAX_SNAPSHOTS:
            self._drop_densest()
        self._rebuild()

    def set_snapshots(self, snapshots: Sequence[WeightSnapshot]) -> None:
        """Replace every row by ``snapshots`` (those with grad_norms)."""
        self._snaps.clear()
        self._epochs = []
        self._shape = None
        self.add_snapshots(snapshots)
        if not self._snaps:
            self._rebuild()

    def _drop_densest(self) -> None:
        e = np.asarray(self._epochs)
        k = int(np.argmin(e[2:] - e[:-2])) + 1  # keeps the first and the latest
        del self._snaps[self._epochs[k]]
        del self._epochs[k]

    # -------------------------------------------------------------- results
    def add_results(self, results: Sequence[EpochResult]) -> None:
        """Record which epochs clipping acted on (the other fields are not used here)."""
        if not results:
            return
        epochs = np.fromiter((r.epoch for r in results), dtype=np.int64, count=len(results))
        if self._n_results and epochs[0] <= self._result_epochs[self._n_results - 1]:
            # Epochs went back: a new run began without clear(); count it afresh.
            self._n_results = 0
            self._n_clipped = 0
        clipped = epochs[np.fromiter((r.clipped for r in results), dtype=bool, count=len(results))]
        self._result_epochs, self._n_results = _append(self._result_epochs, self._n_results, epochs)
        self._clipped, self._n_clipped = _append(self._clipped, self._n_clipped, clipped)
        self._update_clip_label()
        self._draw_clip_strip()

    def set_clipping(self, limit: float) -> None:
        """The run's gradient-clipping limit; 0 turns clipping off and hides the clip markers."""
        self._clip_limit = max(float(limit), 0.0)
        on = self._clip_limit > 0
        self.clip_plot.setVisible(on)
        # A hidden item still takes its column in a graphics layout: give the space back.
        self.clip_plot.setMaximumWidth(_CLIP_WIDTH if on else 0)
        self.clip_plot.setMinimumWidth(_CLIP_WIDTH if on else 0)
        self._update_clip_label()
        self._draw_clip_strip()

    def set_input_text(self, text: str) -> None:
        """The input whose characters label the time steps (the selected pair's, or the longest)."""
        self._input_text = text
        self._set_step_ticks()

    def set_recording_hint(self, text: str, none_recorded: bool = False) -> None:
        """Say why the snapshots are few ('' says nothing): under the title; or, when there will be
        ``none_recorded``, in the empty plot's place, instead of "they arrive while training runs"."""
        self.recording_hint.set_note("" if none_recorded else text)
        self._empty_hint = (text if none_recorded else "") or EMPTY_HINT
        self._rebuild()

    def clear(self) -> None:
        """Forget every snapshot and result (the clipping setting and the recording hint stay)."""
        self._snaps.clear()
        self._epochs = []
        self._shape = None
        self._n_results = 0
        self._n_clipped = 0
        self._update_clip_label()
        self._rebuild()

    # --------------------------------------------------------------- getters
    def layer(self) -> int:
        """The layer the heatmap shows (0-based)."""
        return max(self.layer_combo.currentIndex(), 0)

    def set_layer(self, layer: int) -> None:
        """Show layer ``layer`` (0-based) in the heatmap."""
        self.layer_combo.setCurrentIndex(layer)

    def displayed_epochs(self) -> list[int]:
        """The snapshot epochs of the heatmap's rows, top to bottom."""
        return list(self._epochs)

    def displayed_matrix(self, layer: int | None = None) -> np.ndarray:
        """Rows (epochs shown) x time steps of the raw norms of ``layer`` (0-based; default the one shown)."""
        if self._matrix.size == 0:
            return np.zeros((0, 0))
        return self._matrix[:, self.layer() if layer is None else layer, :].copy()

    def clipped_epochs(self) -> list[int]:
        """The epochs on which clipping acted, as recorded from the results."""
        return self._clipped[: self._n_clipped].tolist()

    def clip_markers_visible(self) -> bool:
        """Whether the clipped strip is shown (clipping on)."""
        return self._clip_limit > 0

    def clip_fractions(self) -> np.ndarray:
        """Per heatmap row: the share of the epochs nearest that snapshot on which clipping acted."""
        rows = len(self._epochs)
        if rows == 0 or self._n_results == 0:
            return np.zeros(rows)
        e = np.asarray(self._epochs, dtype=np.float64)
        # Each row stands for the epochs nearer its snapshot than any other (first and last open-ended).
        edges = np.concatenate(([-np.inf], (e[1:] + e[:-1]) / 2, [np.inf]))
        everything = self._result_epochs[: self._n_results]
        clipped = self._clipped[: self._n_clipped]
        total = np.diff(np.searchsorted(everything, edges, side="right"))
        hits = np.diff(np.searchsorted(clipped, edges, side="right"))
        return np.divide(hits, total, out=np.zeros(rows), where=total > 0)

    def levels(self) -> tuple[float, float]:
        """The colour scale's range in log10 units."""
        return self._levels

    def latest_curves(self) -> list[pg.PlotDataItem]:
        """The line plot's curves, one per layer (shown or not)."""
        return list(self._curves)

    # -------------------------------------------------------------- drawing
    def _changed(self, key: str, value: object) -> bool:
        """Whether ``value`` differs from what was last applied under ``key`` (and remember it)."""
        if key in self._applied and _same(self._applied[key], value):
            return False
        self._applied[key] = value
        return True

    def _ticks(self, key: str, axis: pg.AxisItem, ticks) -> None:
        if self._changed("ticks " + key, ticks):
            axis.setTicks(ticks)

    def _range(self, plot: pg.PlotItem, x: tuple[float, float] | None, y: tuple[float, float] | None) -> None:
        if self._changed(f"range {id(plot)}", (x, y)):
            plot.setRange(xRange=x, yRange=y, padding=0)

    def _title(self, text: str) -> None:
        if self._changed("title", text):
            self.line_plot.setTitle(text, color=TEXT_COLOUR, size="9pt")

    def _rebuild(self) -> None:
        if self._epochs:
            self._matrix = np.stack([self._snaps[e] for e in self._epochs])
        else:
            self._matrix = np.zeros((0, 0, 0))
        self._sync_layer_combo()
        positive = self._matrix[(self._matrix > 0) & np.isfinite(self._matrix)]
        if positive.size:
            lo, hi = float(np.log10(positive.min())), float(np.log10(positive.max()))
            if hi - lo < 1e-6:
                lo, hi = lo - 0.5, hi + 0.5
            self._levels = (lo, hi)
        else:
            self._levels = (0.0, 1.0)
        if self._changed("levels", self._levels):
            self.colour_bar.setLevels(self._levels)
            self._ticks("bar", self.colour_bar.axis, [log_ticks(*self._levels)])
        self._redraw()

    def _sync_layer_combo(self) -> None:
        layers = self._matrix.shape[1] if self._matrix.size else (self._shape[0] if self._shape else 1)
        if self.layer_combo.count() != layers:
            current = self.layer_combo.currentIndex()
            self.layer_combo.blockSignals(True)
            self.layer_combo.clear()
            self.layer_combo.addItems([f"layer {i + 1}" for i in range(layers)])
            self.layer_combo.setCurrentIndex(current if 0 <= current < layers else 0)
            self.layer_combo.blockSignals(False)
        self.layer_combo.setEnabled(layers > 1)

    def _redraw(self) -> None:
        rows = len(self._epochs)
        steps = self._matrix.shape[2] if self._matrix.size else 0
        if rows == 0 or steps == 0:
            self.heat_image.clear()
            self.non_finite_image.clear()
            self.non_finite_label.hide()
            self.clip_image.clear()
            self.clip_frame.setData([], [])
            self._range(self.heat_plot, (0, 1), (0, 1))
            self.heat_note.set_text(self._empty_hint)
            self.line_note.set_text("")
            # Nothing to measure: no numbers on the axes, rather than a made-up 0..1.
            for name, axis in (
                ("heat left", self.heat_plot.getAxis("left")),
                ("heat bottom", self.heat_plot.getAxis("bottom")),
                ("line left", self.line_plot.getAxis("left")),
                ("line bottom", self.line_plot.getAxis("bottom")),
                ("bar", self.colour_bar.axis),
                ("heat top", self.heat_plot.getAxis("top")),
            ):
                self._ticks(name, axis, [[]])
            self._applied.pop("levels", None)
            for curve in self._curves:
                curve.setData([], [])
            self._title("latest snapshot")
            return
        self.heat_note.set_text("")
        lo, hi = self._levels
        norms = self.displayed_matrix()
        non_finite = ~np.isfinite(norms)
        with np.errstate(divide="ignore", invalid="ignore"):
            image = np.log10(norms)
        image[~np.isfinite(image)] = lo  # zeros: the bottom of the scale (non-finite cells are painted over)
        self.heat_image.setImage(image, autoLevels=False, levels=(lo, hi))
        self.heat_image.setRect(QRectF(0.5, -0.5, steps, rows))
        if non_finite.any():
            overlay = np.zeros((rows, steps, 4), dtype=np.uint8)
            overlay[non_finite] = QColor(NON_FINITE_COLOUR).getRgb()
            self.non_finite_image.setImage(overlay, autoLevels=False, levels=(0, 255))
            self.non_finite_image.setRect(QRectF(0.5, -0.5, steps, rows))
            self.non_finite_label.show()
        else:
            self.non_finite_image.clear()
            self.non_finite_label.hide()
        self._arrange_bar()
        self._range(self.heat_plot, (0.5, steps + 0.5), (-0.5, rows - 0.5))
        self._set_epoch_ticks()
        self._set_step_ticks()
        self._draw_clip_strip()
        self._draw_latest()

    def _set_epoch_ticks(self) -> None:
        rows = len(self._epochs)
        height = max(self.heat_plot.vb.height(), 60.0)
        most = max(int(height // 22), 2)
        if rows <= most:
            picks = list(range(rows))
        else:
            # Round epochs (0, 50, 100, ...): the row nearest each multiple of a 1-2-5 step.
            epochs = np.asarray(self._epochs)
            span = max(int(epochs[-1] - epochs[0]), 1)
            step = _nice_step(span / (most - 1))
            targets = np.arange(math.ceil(epochs[0] / step) * step, epochs[-1] + 1, step)
            idx = np.clip(np.searchsorted(epochs, targets), 1, rows - 1)
            nearer_left = (targets - epochs[idx - 1]) <= (epochs[idx] - targets)
            picks = sorted(set((idx - nearer_left).tolist()))
        ticks = [[(float(i), str(self._epochs[i])) for i in picks]]
        self._ticks("heat left", self.heat_plot.getAxis("left"), ticks)

    def _set_step_ticks(self) -> None:
        steps = self._matrix.shape[2] if self._matrix.size else 0
        for plot in (self.heat_plot, self.line_plot):
            # A label every k steps, k so that labels stay ~24 px apart (1-based, as a learner counts).
            k = max(1, math.ceil(steps * 24 / max(plot.vb.width(), 100.0)))
            numbers = [(float(t + 1), str(t + 1)) for t in range(0, steps, k)]
            self._ticks(f"{id(plot)} bottom", plot.getAxis("bottom"), [numbers])
        every = max(1, math.ceil(steps * 14 / max(self.heat_plot.vb.width(), 100.0)))
        text = self._input_text
        chars = [(float(t + 1), _visible_char(text[t])) for t in range(min(steps, len(text))) if t % every == 0]
        top = self.heat_plot.getAxis("top")
        self._ticks("heat top", top, [chars])

    def _draw_clip_strip(self) -> None:
        rows = len(self._epochs)
        if self._clip_limit <= 0 or rows == 0:
            self.clip_image.clear()
            self.clip_frame.setData([], [])
            return
        self.clip_image.setImage(self.clip_fractions()[:, None], autoLevels=False, levels=(0.0, 1.0))
        self.clip_image.setRect(QRectF(0.3, -0.5, 0.55, rows))
        self.clip_frame.setData([0.3, 0.85, 0.85, 0.3, 0.3], [-0.5, -0.5, rows - 0.5, rows - 0.5, -0.5])
        self._range(self.clip_plot, (0.0, 1.0), None)

    def _draw_latest(self) -> None:
        latest = self._matrix[-1]  # layers x steps
        layers, steps = latest.shape
        while len(self._curves) < layers:
            i = len(self._curves)
            colour = LAYER_COLOURS[i % len(LAYER_COLOURS)]
            curve = pg.PlotDataItem(
                pen=pg.mkPen(colour, width=1),
                symbol="o",
                symbolSize=5,
                symbolPen=pg.mkPen(colour, width=1),
                symbolBrush=pg.mkBrush(colour),
                connect="finite",
            )
            self.line_plot.addItem(curve)
            self._curves.append(curve)
        x = np.arange(1, steps + 1, dtype=np.float64)
        for i, curve in enumerate(self._curves):
            if i < layers:
                y = latest[i].astype(np.float64)
                y = np.where((y > 0) & np.isfinite(y), y, np.nan)  # log axis: zeros, NaN and inf leave a gap
                if np.isnan(y).all():
                    curve.setData([], [])  # all gaps (the note says why); pyqtgraph warns on an all-NaN curve
                else:
                    curve.setData(x, y)
                curve.show()
            else:
                curve.setData([], [])
                curve.hide()
        # Whole decades (log10 view units): the axis is redrawn only when a norm crosses one,
        # not on every update, and the curves do not jump about as they would with auto-range.
        positive = latest[(latest > 0) & np.isfinite(latest)]
        if positive.size:
            lo = math.floor(float(np.log10(positive.min())))
            hi = max(math.ceil(float(np.log10(positive.max()))), lo + 1)
            # A little room beyond the end decades, so that their labels are not cut off (and so dropped).
            pad = 0.05 * (hi - lo)
            self._range(self.line_plot, (0.5, steps + 0.5), (lo - pad, hi + pad))
            # The colour bar's labels (0.001, 1e-5), not pyqtgraph's mix of decimals and powers of ten.
            self._ticks("line left", self.line_plot.getAxis("left"), [log_ticks(lo, hi)])
        else:
            self._range(self.line_plot, (0.5, steps + 0.5), None)
        # The title doubles as the legend, so no legend box covers a curve; two layers to a line under
        # it, and the title short: the widest line is the plot's least width, which squeezed the heatmap
        # beside it (five time steps in 70 px, then in 137 px, in a 1280 px window).
        names = [
            f"<span style='color:{LAYER_COLOURS[i % len(LAYER_COLOURS)]}'>● layer {i + 1}</span>"
            for i in range(layers if layers > 1 else 0)
        ]
        lines = [" &nbsp;".join(names[i : i + 2]) for i in range(0, len(names), 2)]
        self._title("<br>".join([f"latest: epoch {self._epochs[-1]}", *lines]))
        self.line_note.set_text(self._latest_note(latest))

    def _latest_note(self, latest: np.ndarray) -> str:
        """Why some or all of the latest snapshot's points are missing from its log plot ("" if none are)."""
        epoch = self._epochs[-1]
        non_finite = int(np.count_nonzero(~np.isfinite(latest)))
        zeros = int(np.count_nonzero(latest == 0))
        if non_finite == latest.size:
            return (
                f"Nothing to plot: every norm of epoch {epoch} is NaN or inf. "
                "The gradients exploded and the run diverged."
            )
        if non_finite:
            return f"Gaps: {non_finite} of {latest.size} norms of epoch {epoch} are NaN or inf (exploding gradients)."
        if zeros == latest.size:
            return f"Nothing to plot: every norm of epoch {epoch} is 0, and a log axis has no 0."
        return ""

    def _update_clip_label(self) -> None:
        if self._clip_limit <= 0:
            text = "clipping off"
            tip = "Gradient clipping is off: every step uses the full gradient"
        else:
            n, hits = self._n_results, self._n_clipped
            text = f"clipping at {self._clip_limit:g}: clipped in {hits:,} of {n:,} epoch{'s' if n != 1 else ''}"
            tip = (
                f"Epochs whose total gradient norm was above {self._clip_limit:g} and was scaled down to it.\n"
                "The red strip beside the epochs shows the share of clipped epochs around each snapshot."
            )
        self.clip_label.setText(text)
        self.clip_label.setToolTip(tip)
        colour = CLIP_COLOUR if self._clip_limit > 0 and self._n_clipped else MUTED_COLOUR
        self.clip_label.setStyleSheet(f"color: {colour}")
        self._arrange_bar()  # the count grows with the run

    # ---------------------------------------------------------------- events
    @Slot(int)
    def _on_layer_combo_changed(self, index: int) -> None:
        if index < 0:
            return
        self._redraw()
        self.layer_changed.emit(index)

    @Slot(object)
    def _on_scene_mouse_moved(self, pos: QPointF) -> None:
        self.readout_label.setText(self.readout_at(pos))

    def readout_at(self, scene_pos: QPointF) -> str:
        """What the read-out says for a point of the scene: the norm of the cell under it, if any."""
        vb = self.heat_plot.vb
        rows = len(self._epochs)
        if not rows or not vb.sceneBoundingRect().contains(scene_pos):
            return ""
        p = vb.mapSceneToView(scene_pos)
        row, step = round(p.y()), round(p.x()) - 1
        steps = self._matrix.shape[2]
        if not (0 <= row < rows and 0 <= step < steps):
            return ""
        value = float(self._matrix[row, self.layer(), step])
        ch = ""
        if step < len(self._input_text):
            ch = f" ('{_visible_char(self._input_text[step])}')"
        note = "" if math.isfinite(value) else " (non-finite: the gradient overflowed)"
        return f"epoch {self._epochs[row]}, step {step + 1}{ch}: {NORM_LABEL} = {format_norm(value)}{note}"

    def status_on_own_row(self) -> bool:
        """Whether the clipping count and the read-out sit on a row under the title (a narrow view)."""
        return self._bar.indexOf(self.status_row) < 0

    def _arrange_bar(self) -> None:
        """One row when the title, the status and a read-out's room fit the view's width, else two."""
        spacing = _BAR_SPACING  # as the bar and the status row are laid out
        status = self.clip_label.sizeHint().width() + spacing + self._readout_room
        if not self.non_finite_label.isHidden():
            status += self.non_finite_label.sizeHint().width()
        margins = self._bar.contentsMargins()
        one_row = (
            margins.left()
            + self.title_label.sizeHint().width()
            + self.layer_combo.sizeHint().width()
            + 2 * spacing
            + status
            + margins.right()
        )
        own_row = self.width() < one_row
        # On its own row, the read-out goes under a clipping count too long to leave it its room.
        margins_lr = margins.left() + margins.right()
        stacked = own_row and self.width() - margins_lr < status
        direction = QBoxLayout.Direction.TopToBottom if stacked else QBoxLayout.Direction.LeftToRight
        if self._status.direction() != direction:
            self._status.setDirection(direction)
        if own_row == self.status_on_own_row():
            return
        if own_row:
            self._bar.removeWidget(self.status_row)
            self._bar.addStretch(1)
            self.status_row.setContentsMargins(margins.left(), 0, margins.right(), 2)
            self._main.insertWidget(1, self.status_row)
        else:
            self._main.removeWidget(self.status_row)
            self._bar.takeAt(self._bar.count() - 1)  # the stretch that stood in the row's place
            self.status_row.setContentsMargins(0, 0, 0, 0)
            self._bar.addWidget(self.status_row, 1)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange_bar()
        # Tick density depends on the plot's size in pixels.
        if self._epochs:
            self._set_epoch_ticks()
        self._set_step_ticks()


def _nice_step(raw: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at least ``raw``."""
    scale = 1
    while True:
        for m in (1, 2, 5):
            if m * scale >= raw:
                return m * scale
        scale *= 10


def _same(a: object, b: object) -> bool:
    try:
        return bool(a == b)
    except ValueError:  # arrays compared elementwise
        return False


def _append(buffer: np.ndarray, n: int, values: np.ndarray) -> tuple[np.ndarray, int]:
    """Append to a doubling buffer: amortised O(len(values))."""
    need = n + len(values)
    if need > len(buffer):
        grown = np.empty(max(need, 2 * len(buffer)), dtype=buffer.dtype)
        grown[:n] = buffer[:n]
        buffer = grown
    buffer[n:need] = values
    return buffer, need


def _clip_lut() -> np.ndarray:
    """White (never clipped) to the app's red (always clipped)."""
    start, end = np.array([255, 255, 255]), np.array(QColor(CLIP_COLOUR).getRgb()[:3])
    t = np.linspace(0.0, 1.0, 256)[:, None]
    return (start + (end - start) * np.sqrt(t)).astype(np.uint8)  # sqrt: a few clipped epochs already show
