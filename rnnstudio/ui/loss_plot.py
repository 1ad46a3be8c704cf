"""The live loss plot: loss per epoch, accuracy on a right-hand axis, the chance line and exports."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.project_io import atomic_write
from ..core.results import EpochResult
from . import style
from .dialogs import with_suffix
from .numbers import format_accuracy, format_loss
from .steady import ElidedLabel, LabelSlot

LOSS_COLOUR = "#0969da"
ACCURACY_COLOUR = "#bc4c00"
CHANCE_COLOUR = "#6e7781"
HOVER_COLOUR = "#8c959f"
TEXT_COLOUR = style.TEXT
BACKGROUND = style.BACKGROUND
CHANCE_LABEL = "chance ln|V|"  # a loss averaged over the time steps
ACCURACY_RANGE = (0.0, 1.05)
_INITIAL_CAPACITY = 1024


def chance_label(steps: float = 1.0) -> str:
    """The chance line's label: ln|V| per step, ``T·ln|V|`` for a loss summed over ``steps`` = T steps.

    A summed loss over pairs of different lengths gives the mean number of steps per pair (4.5·ln|V|).
    """
    if steps == 1:
        return CHANCE_LABEL
    return f"chance {_format_steps(steps)}·ln|V|"


def _format_steps(steps: float) -> str:
    return f"{round(float(steps), 2):g}"


_NICE_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def _nice_ceil(value: float) -> float:
    """The smallest 'nice' number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k) at or above ``value``."""
    if value <= 0:
        return 1.0
    scale = 10.0 ** np.floor(np.log10(value))
    for step in _NICE_STEPS:
        if step * scale >= value * (1 - 1e-12):
            return float(step * scale)
    return float(10.0 * scale)


def format_epoch_tick(value: float) -> str:
    """An epoch as a short axis label: 500, 20k, 1.5M (whole runs reach millions of epochs)."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{round(value / size, 6):g}{suffix}"
    return f"{round(value, 6):g}"


class EpochAxis(pg.AxisItem):
    """The epoch axis: short labels (20k, 1M), and no more ticks than their labels have room for.

    pyqtgraph's own spacing counts ticks from the axis length alone, so wide labels
    ("800000") ran into each other on a narrow window.
    """

    GAP_PX = 14  # free space between two labels

    def __init__(self, orientation: str = "bottom", **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        span = maxVal - minVal
        if span <= 0 or size <= 0 or not np.isfinite(span):
            return super().tickSpacing(minVal, maxVal, size)
        metrics = QFontMetrics(self.font() if self.style.get("tickFont") is None else self.style["tickFont"])
        # The finest 1-2-2.5-5 spacing whose labels, as they will read, fit between their ticks.
        scale = max(10.0 ** np.floor(np.log10(span / max(size, 1.0))), 1.0)  # epochs are whole numbers
        while True:
            for step in (1.0, 2.0, 2.5, 5.0):
                major = step * scale
                first = np.ceil(minVal / major) * major
                values = first + major * np.arange(int((maxVal - first) // major) + 1)
                widest = max((metrics.horizontalAdvance(format_epoch_tick(v)) for v in values), default=0)
                if major / span * size >= widest + self.GAP_PX or major >= span:
                    return [(major, 0.0)]
            scale *= 10.0

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [format_epoch_tick(v * scale) for v in values]


class _ExactCurve(pg.PlotDataItem):
    """A PlotDataItem whose getData() returns every recorded point, not the downsampled ones drawn.

    Drawing is downsampled for long runs; code reading the curve back (tests, the
    PlotItem's CSV writer) must still see each epoch's exact loss.
    """

    def getData(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        x, y = self.getOriginalDataset()
        if x is None or y is None:
            return None, None
        log_x, log_y = self.opts["logMode"]
        # Same mapping as pyqtgraph's own getData: log10 view units, non-positive values undefined.
        with np.errstate(divide="ignore", invalid="ignore"):
            if log_x:
                x = np.where(x > 0, np.log10(np.where(x > 0, x, 1.0)), np.nan)
            if log_y:
                y = np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)
        return x, y


#: The read-out of a long run: the panel keeps this much room for it beside the export buttons.
READOUT_TEMPLATE = "latest: epoch 100000   loss 1.234e-05   accuracy 100.0%"
_READOUT_GAP = 12  # px between the log toggle and the read-out


class LossPlot(pg.PlotWidget):
    """Loss per epoch (left axis), accuracy (right axis, 0..1), the chance loss and a hover read-out."""

    log_scale_changed = Signal(bool)
    readout_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=BACKGROUND, axisItems={"bottom": EpochAxis("bottom")})
        self.setObjectName("lossPlot")
        # PlotWidget binds plotItem.clear onto the instance, which would remove our items;
        # drop that binding so clear() below (forget the data, keep the items) is what callers get.
        del self.clear
        self._n = 0
        self._epochs = np.empty(_INITIAL_CAPACITY, dtype=np.float64)
        self._losses = np.empty(_INITIAL_CAPACITY, dtype=np.float64)
        self._accuracies = np.empty(_INITIAL_CAPACITY, dtype=np.float64)
        self._chance: float | None = None
        self._hover_index: int | None = None
        self._readout = ""
        self._readout_shorter: tuple[str, ...] = ()

        item = self.plotItem
        # The plot-options submenu offers FFT, log-x and derivative modes that the accuracy view
        # (a second ViewBox) cannot follow; the log toggle lives in our own API instead.
        item.setMenuEnabled(False, enableViewBoxMenu=True)
        # Long runs: draw at most a few points per pixel, and only what is visible when zoomed.
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        # No grid: on a software raster its alpha-blended lines cost ~18 ms a repaint, several
        # times the curves themselves, and that time is taken from training (the GIL).
        for name in ("left", "bottom", "right"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(TEXT_COLOUR, width=1))
            axis.setTextPen(pg.mkPen(TEXT_COLOUR, width=1))
        item.setLabel("bottom", "epoch", color=TEXT_COLOUR)
        item.setLabel("left", "loss", color=LOSS_COLOUR)
        # A diverging run's losses reach 1e11 and more: pyqtgraph would label the axis "loss (x1e+12)"
        # and, on the log scale, scale the exponents too (ticks 10^-12 .. 1 for losses 1 .. 1e12).
        item.getAxis("left").enableAutoSIPrefix(False)
        item.showAxis("right")
        item.setLabel("right", "accuracy", color=ACCURACY_COLOUR)

        # Created once and fed with setData: the first data item of the plot is the loss curve.
        self._loss_curve = _ExactCurve(pen=pg.mkPen(LOSS_COLOUR, width=1), name="loss")
        item.addItem(self._loss_curve)

        # Accuracy lives in its own ViewBox, x-linked to the loss view, with a fixed 0..1.05 range.
        self._accuracy_view = pg.ViewBox(enableMenu=False)
        self._accuracy_view.setMouseEnabled(x=False, y=False)
        # Below the plot item, so mouse drags and wheel reach the loss view and the legend stays on top.
        self._accuracy_view.setZValue(-1)
        item.scene().addItem(self._accuracy_view)
        item.getAxis("right").linkToView(self._accuracy_view)
        self._accuracy_view.setXLink(item)
        self._accuracy_view.enableAutoRange(x=False, y=False)
        self._accuracy_view.setYRange(*ACCURACY_RANGE, padding=0)
        self._accuracy_curve = pg.PlotDataItem(pen=pg.mkPen(ACCURACY_COLOUR, width=1), name="accuracy")
        self._accuracy_curve.setDownsampling(auto=True, method="peak")
        self._accuracy_curve.setClipToView(True)
        self._accuracy_view.addItem(self._accuracy_curve)
        for curve in (self._loss_curve, self._accuracy_curve):
            # "peak" keeps each pixel column's min and max, so one bucket per pixel loses nothing
            # visible; pyqtgraph's default of 5 draws five times the vertices, for ~3 ms a repaint.
            curve.opts["autoDownsampleFactor"] = 1.0
        item.vb.sigResized.connect(self._on_view_resized)

        self._chance_line = pg.InfiniteLine(
            angle=0,
            movable=False,
            pen=pg.mkPen(CHANCE_COLOUR, width=1, style=Qt.DashLine),
            label=CHANCE_LABEL,
            labelOpts={"position": 0.02, "color": CHANCE_COLOUR, "anchors": [(0, 1), (0, 1)]},
        )
        self._chance_line.setToolTip("The loss of a model that guesses uniformly among the |V| characters")
        self._chance_line.hide()
        item.addItem(self._chance_line)

        self._hover_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(HOVER_COLOUR, width=1))
        self._hover_line.hide()
        item.addItem(self._hover_line, ignoreBounds=True)

        self._legend = pg.LegendItem(labelTextColor=TEXT_COLOUR, brush=pg.mkBrush(255, 255, 255, 220))
        self._legend.setPen(pg.mkPen("#d0d7de", width=1))
        self._legend.setParentItem(item.vb)
        # Right edge, half-way down: a learning run's loss hugs the bottom and its accuracy the top.
        self._legend.anchor(itemPos=(1, 0.5), parentPos=(1, 0.5), offset=(-10, 0))
        self._legend.addItem(self._loss_curve, "loss (left axis)")
        self._legend.addItem(self._accuracy_curve, "accuracy (right axis)")

        # A log axis has no place for a loss of 0: the curve stops there, and this says so.
        self._zero_note = pg.LabelItem("", color=CHANCE_COLOUR, size="9pt")
        self._zero_note.setParentItem(item.vb)
        # Bottom right: where a loss of 0 would be, below a learned run's accuracy and clear of its start.
        self._zero_note.anchor(itemPos=(1, 1), parentPos=(1, 1), offset=(-8, -6))
        self._zero_note.hide()
        self._first_zero: int | None = None  # the first epoch whose loss is 0 (or below), if any

        # The view follows the data in steps ("nice" bounds that change O(log n) times a run)
        # rather than pyqtgraph's continuous auto-range, which would regenerate the axes' ticks
        # on every update. A zoom or pan by the user stops following; follow_data() resumes.
        self._following = True
        self._shown_range: tuple[float, float, float, float] | None = None
        self._x_goal: float | None = None  # the last epoch of the run in progress, if known
        item.vb.disableAutoRange()
        item.vb.sigRangeChangedManually.connect(self._on_range_changed_manually)

        item.ctrl.logYCheck.toggled.connect(self._on_log_check_toggled)
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self._update_readout()

    # ------------------------------------------------------------------ data
    def append(self, results: Sequence[EpochResult]) -> None:
        """Add epochs after those recorded (one setData per curve, whatever the batch size)."""
        if not results:
            return
        epochs = np.fromiter((r.epoch for r in results), dtype=np.float64, count=len(results))
        losses = np.fromiter((r.loss for r in results), dtype=np.float64, count=len(results))
        accuracies = np.fromiter((r.accuracy for r in results), dtype=np.float64, count=len(results))
        self.append_arrays(epochs, losses, accuracies)

    def append_arrays(self, epochs: np.ndarray, losses: np.ndarray, accuracies: np.ndarray) -> None:
        """Add epochs given as three equal-length arrays; epochs must increase past the last one."""
        epochs = np.asarray(epochs, dtype=np.float64).ravel()
        losses = np.asarray(losses, dtype=np.float64).ravel()
        accuracies = np.asarray(accuracies, dtype=np.float64).ravel()
        k = len(epochs)
        if not (len(losses) == len(accuracies) == k):
            raise ValueError("epochs, losses and accuracies must have the same length")
        if k == 0:
            return
        # The read-out finds epochs by binary search, so the x values must stay increasing.
        if (self._n and epochs[0] <= self._epochs[self._n - 1]) or (k > 1 and np.any(np.diff(epochs) <= 0)):
            raise ValueError(
                f"epochs must increase (got {epochs[0]:g} after {self._epochs[self._n - 1] if self._n else 0:g}); "
                "call clear() or set_history() to start again"
            )
        self._reserve(self._n + k)
        end = self._n + k
        self._epochs[self._n : end] = epochs
        self._losses[self._n : end] = losses
        self._accuracies[self._n : end] = accuracies
        self._n = end
        if self._first_zero is None:
            zeros = np.flatnonzero(losses <= 0)
            if zeros.size:
                self._first_zero = int(epochs[zeros[0]])
                self._update_zero_note()
        self._push()

    def set_history(self, results: Sequence[EpochResult]) -> None:
        """Replace everything shown by ``results``."""
        self._n = 0
        self._forget_zero()
        self._hover_index = None
        self._hover_line.hide()
        if results:
            self.append(results)
        else:
            self._push()

    def clear(self) -> None:
        """Forget every epoch (the curves stay, empty)."""
        self._n = 0
        self._forget_zero()
        self._hover_index = None
        self._hover_line.hide()
        self._push()

    def epochs(self) -> np.ndarray:
        """The recorded epoch numbers (a copy)."""
        return self._epochs[: self._n].astype(np.int64)

    def losses(self) -> np.ndarray:
        """The recorded losses (a copy)."""
        return self._losses[: self._n].copy()

    def accuracies(self) -> np.ndarray:
        """The recorded accuracies in 0..1 (a copy)."""
        return self._accuracies[: self._n].copy()

    def count(self) -> int:
        """How many epochs are recorded."""
        return self._n

    def loss_curve(self) -> pg.PlotDataItem:
        """The loss curve item (also plotItem.listDataItems()[0])."""
        return self._loss_curve

    def accuracy_curve(self) -> pg.PlotDataItem:
        """The accuracy curve item, in the right-hand ViewBox."""
        return self._accuracy_curve

    def accuracy_view(self) -> pg.ViewBox:
        """The ViewBox of the accuracy axis (x linked to the loss view, y fixed at 0..1.05)."""
        return self._accuracy_view

    def _reserve(self, needed: int) -> None:
        capacity = len(self._epochs)
        if needed <= capacity:
            return
        # Doubling keeps appends amortised O(batch) however long the run.
        while capacity < needed:
            capacity *= 2
        for name in ("_epochs", "_losses", "_accuracies"):
            old = getattr(self, name)
            new = np.empty(capacity, dtype=np.float64)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)

    def _push(self) -> None:
        n = self._n
        # Views into the buffers: setData keeps them, and later appends write past n only.
        self._loss_curve.setData(self._epochs[:n], self._losses[:n])
        self._accuracy_curve.setData(self._epochs[:n], self._accuracies[:n])
        self._follow()
        if self._hover_index is not None and self._hover_index >= n:
            self._hover_index = None
            self._hover_line.hide()
        self._update_readout()

    # ---------------------------------------------------------- chance, log
    def set_chance_loss(self, value: float | None, steps: float = 1.0) -> None:
        """Draw the dashed chance line at ``value`` (the loss of uniform guessing); None hides it.

        ``steps`` is how many time steps' losses ``value`` adds up (1 for a loss averaged over the
        steps; for a summed loss, the target length per pair, on average): the label names it.
        """
        self._chance = None if value is None else float(value)
        label = chance_label(steps)
        if self._chance_line.label.format != label:
            self._chance_line.label.setFormat(label)
            self._chance_line.label.setText(label)  # setFormat alone skips a hidden line's text
            tip = "The loss of a model that guesses uniformly among the |V| characters"
            if steps != 1:
                tip += f", summed over {_format_steps(steps)} time steps"
            self._chance_line.setToolTip(tip)
        self._place_chance_line()
        self._follow()

    def chance_label(self) -> str:
        """The chance line's label as drawn."""
        return self._chance_line.label.format

    def chance_loss(self) -> float | None:
        """The chance loss shown, or None."""
        return self._chance

    def chance_line(self) -> pg.InfiniteLine:
        """The dashed chance line item."""
        return self._chance_line

    def set_log_scale(self, on: bool) -> None:
        """Show the loss on a log10 axis (the accuracy axis stays linear)."""
        if bool(on) != self.log_scale():
            # Goes through the PlotItem's own log check so its state and ours never disagree.
            self.plotItem.setLogMode(y=bool(on))

    def log_scale(self) -> bool:
        """Whether the loss axis is logarithmic."""
        return self.plotItem.ctrl.logYCheck.isChecked()

    def _place_chance_line(self) -> None:
        value = self._chance
        if value is None or not np.isfinite(value) or (self.log_scale() and value <= 0):
            self._chance_line.hide()
            return
        # In log mode the view's y coordinates are log10 of the loss, and the line lives in view units.
        self._chance_line.setPos(np.log10(value) if self.log_scale() else value)
        self._chance_line.show()

    def zero_note(self) -> str:
        """What the plot says of losses a log axis cannot show ('' when nothing)."""
        return self._zero_note.text if self._zero_note.isVisible() else ""

    def _forget_zero(self) -> None:
        self._first_zero = None
        self._update_zero_note()

    def _update_zero_note(self) -> None:
        shown = self._first_zero is not None and self.log_scale()
        if shown:
            self._zero_note.setText(f"a loss of 0 (first at epoch {self._first_zero:,}) is not drawn on a log scale")
        self._zero_note.setVisible(shown)

    @Slot(bool)
    def _on_log_check_toggled(self, on: bool) -> None:
        # PlotItem.updateLogMode puts every axis in log mode; accuracy stays linear.
        self.plotItem.getAxis("right").setLogMode(False, False)
        self._update_zero_note()
        self._place_chance_line()
        self._shown_range = None
        self._follow()
        self.log_scale_changed.emit(on)

    # ---------------------------------------------------------------- views
    @Slot()
    def _on_view_resized(self) -> None:
        vb = self.plotItem.vb
        self._accuracy_view.setGeometry(vb.sceneBoundingRect())
        self._accuracy_view.linkedViewChanged(vb, self._accuracy_view.XAxis)

    def is_auto_ranging(self) -> bool:
        """Whether the view still follows the data (the user has not zoomed or panned)."""
        return self._following

    def set_x_goal(self, epoch: float | None) -> None:
        """Show the x axis up to ``epoch`` (the run's last epoch) while following; None: up to the data.

        The curve then grows across a fixed axis, as a progress does, and the axes are not
        rebuilt during the run (each rebuild costs the GUI thread tens of milliseconds).
        """
        self._x_goal = None if epoch is None else float(epoch)
        self._follow()

    def follow_data(self) -> None:
        """Resume following the data after the user zoomed or panned."""
        self._following = True
        self._shown_range = None
        self._follow()

    @Slot(object)
    def _on_range_changed_manually(self, _mask) -> None:
        self._following = False

    def _follow(self) -> None:
        """Show all the data (and the chance line) within ranges that grow in nice steps."""
        if not self._following:
            return
        n = self._n
        if n:
            x0, x_last = float(self._epochs[0]), float(self._epochs[n - 1])
            losses = self._losses[:n]
            finite = losses[np.isfinite(losses)]
            top = float(finite.max()) if finite.size else 1.0
            low = float(finite.min()) if finite.size else 0.1
        else:
            x0, x_last, top, low = 1.0, 10.0, 1.0, 0.1
        if self._chance is not None and np.isfinite(self._chance):
            top = max(top, self._chance)
        if self._x_goal is not None and self._x_goal >= x_last:
            x1 = max(self._x_goal, x0 + 1.0)  # the whole run, from its start: fixed until it ends
        else:
            x1 = max(_nice_ceil(x_last), x0 + 1.0)
        if self.log_scale():
            low = low if low > 0 else 1e-6
            y0, y1 = np.floor(np.log10(low)), np.ceil(np.log10(max(top, low) * 1.05))
            y1 = max(y1, y0 + 1)
        else:
            y0, y1 = 0.0, _nice_ceil(top * 1.05)
        shown = (x0, x1, float(y0), float(y1))
        if shown != self._shown_range:
            self._shown_range = shown
            self.plotItem.vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.04)

    # -------------------------------------------------------------- readout
    def readout_text(self) -> str:
        """What the read-out says: the epoch under the mouse, or the latest epoch."""
        return self._readout

    def readout_shorter(self) -> tuple[str, ...]:
        """Shorter forms of readout_text(), longest first, for a narrow window."""
        return self._readout_shorter

    def hovered_epoch(self) -> int | None:
        """The epoch under the mouse, or None."""
        return None if self._hover_index is None else int(self._epochs[self._hover_index])

    def nearest_index(self, x: float) -> int | None:
        """Index of the recorded epoch nearest to view x, or None when nothing is recorded."""
        n = self._n
        if n == 0 or not np.isfinite(x):
            return None
        epochs = self._epochs[:n]
        i = int(np.searchsorted(epochs, x))
        if i >= n:
            return n - 1
        if i > 0 and x - epochs[i - 1] <= epochs[i] - x:
            return i - 1
        return i

    @Slot(object)
    def _on_scene_mouse_moved(self, scene_pos: QPointF) -> None:
        vb = self.plotItem.vb
        index = None
        if vb.sceneBoundingRect().contains(scene_pos):
            index = self.nearest_index(vb.mapSceneToView(scene_pos).x())
        self._set_hover(index)

    def leaveEvent(self, event) -> None:
        self._set_hover(None)
        super().leaveEvent(event)

    def _set_hover(self, index: int | None) -> None:
        self._hover_index = index
        if index is None:
            self._hover_line.hide()
        else:
            self._hover_line.setPos(self._epochs[index])
            self._hover_line.show()
        self._update_readout()

    def _update_readout(self) -> None:
        if self._hover_index is not None:
            forms = self._describe(self._hover_index, "")
        elif self._n:
            forms = self._describe(self._n - 1, "latest: ")
        else:
            forms = ("no epochs yet",)
        if forms[0] != self._readout or forms[1:] != self._readout_shorter:
            self._readout, self._readout_shorter = forms[0], forms[1:]
            self.readout_changed.emit(forms[0])

    def _describe(self, i: int, prefix: str) -> tuple[str, ...]:
        """The read-out of recorded epoch ``i``, then shorter forms of it."""
        epoch = int(self._epochs[i])
        loss = format_loss(self._losses[i])
        accuracy = format_accuracy(self._accuracies[i])
        forms = (
            f"{prefix}epoch {epoch}   loss {loss}   accuracy {accuracy}",
            f"{prefix}epoch {epoch}  loss {loss}  acc. {accuracy}",
            f"{prefix or 'epoch '}{epoch}  loss {loss}  acc. {accuracy}",  # "latest" tells it from a hover
            f"{epoch}: {loss}, {accuracy}",
        )
        return tuple(dict.fromkeys(forms))  # a hover's second and third forms are the same

    # --------------------------------------------------------------- export
    def export_png(self, path: str) -> None:
        """Write the plot as a PNG image (atomically); OSError if it cannot be written."""
        hidden = not self.isVisible()
        if hidden:
            # A hidden widget (say, in a panel never shown) has no laid-out size: lay the scene out
            # at a readable size for the export, as GraphicsView.resizeEvent would.
            size = self.size().expandedTo(QSize(640, 400))
            pg.GraphicsView.setRange(self, QRectF(0, 0, size.width(), size.height()), padding=0, disableAutoPixel=False)
        # The hover line follows the mouse: it is no part of the figure. Hidden for the render
        # only (no event runs meanwhile, so the live view never shows it gone).
        hover_shown = self._hover_line.isVisible()
        self._hover_line.hide()
        try:
            exporter = pyqtgraph.exporters.ImageExporter(self.plotItem)
            exporter.parameters()["background"] = QColor(BACKGROUND)
            image = exporter.export(toBytes=True)
        finally:
            self._hover_line.setVisible(hover_shown)
            if hidden:
                pg.GraphicsView.setRange(
                    self, QRectF(0, 0, self.width(), self.height()), padding=0, disableAutoPixel=False
                )
        if image is None or image.isNull():
            raise OSError(f"could not render the plot to an image for {path}")
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.WriteOnly)
        if not image.save(buffer, "PNG"):
            raise OSError(f"could not encode the plot as PNG for {path}")
        buffer.close()
        atomic_write(path, bytes(data))

    def export_csv(self, path: str) -> None:
        """Write ``epoch,loss,accuracy`` rows at full float precision (atomically); OSError on failure."""
        n = self._n
        lines = ["epoch,loss,accuracy"]
        # repr of a Python float is the shortest text that reads back to the same float.
        lines.extend(
            f"{e},{loss!r},{acc!r}"
            for e, loss, acc in zip(
                self._epochs[:n].astype(np.int64).tolist(),
                self._losses[:n].tolist(),
                self._accuracies[:n].tolist(),
                strict=True,
            )
        )
        atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"))


class LossPanel(QWidget):
    """A LossPlot under a toolbar: log-scale toggle, the hover read-out and PNG / CSV export."""

    log_scale_changed = Signal(bool)
    #: Whether there is anything to export (the export buttons' state), for actions elsewhere to follow.
    export_enabled_changed = Signal(bool)
    #: Emitted just before an export writes: the owner can draw what it still holds back first.
    export_starting = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lossPanel")
        self.plot = LossPlot(self)

        self.log_check = QCheckBox("&Log scale")
        self.log_check.setObjectName("logScaleCheck")
        self.log_check.setToolTip("Show the loss on a log10 axis (Alt+L)")
        self.readout_label = ElidedLabel()  # a narrow window shows what fits, ending in "…"
        self.readout_label.setObjectName("lossReadout")
        self.readout_label.set_tip("Epoch, loss and accuracy at the mouse (or of the latest epoch)")
        self.readout_label.setTextInteractionFlags(Qt.TextSelectableByMouse)  # while shown whole
        self.png_button = QPushButton("Export P&NG…")
        self.png_button.setObjectName("exportPngButton")
        self.png_button.setToolTip("Save the plot as a PNG image (Alt+N)")
        self.csv_button = QPushButton("Export &CSV…")
        self.csv_button.setObjectName("exportCsvButton")
        self.csv_button.setToolTip("Save epoch, loss and accuracy as CSV (Alt+C)")

        # The read-out sits between the log toggle and the export buttons; where they leave it too
        # little room for a long run's figures (a narrow window), it takes a row of its own below.
        self._readout_slot = LabelSlot(self.readout_label)  # its text changes on every refresh of a run
        self._bar = QHBoxLayout()
        self._bar.setContentsMargins(4, 2, 4, 2)
        self._bar.addWidget(self.log_check)
        self._bar.addSpacing(_READOUT_GAP)
        self._bar.addWidget(self._readout_slot, 1)
        self._bar.addWidget(self.png_button)
        self._bar.addWidget(self.csv_button)
        self._below = QHBoxLayout()
        self._below.setContentsMargins(0, 0, 0, 0)  # empty, it takes no room (margins when it holds the read-out)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(self._bar)
        layout.addLayout(self._below)
        layout.addWidget(self.plot, 1)
        self._readout_room = self.readout_label.fontMetrics().horizontalAdvance(READOUT_TEMPLATE)

        self.log_check.toggled.connect(self._on_log_check_toggled)
        self.plot.log_scale_changed.connect(self._on_plot_log_scale_changed)
        self.plot.readout_changed.connect(self._show_readout)
        self._show_readout(self.plot.readout_text())
        self.png_button.clicked.connect(self.ask_export_png)
        self.csv_button.clicked.connect(self.ask_export_csv)
        self._update_buttons()

    # Data: delegated to the plot, which owns the buffers.
    def append(self, results: Sequence[EpochResult]) -> None:
        """Add a batch of finished epochs (epochs increasing past those shown)."""
        had = self.plot.count()
        self.plot.append(results)
        if not had:
            self._update_buttons()

    def set_history(self, results: Sequence[EpochResult]) -> None:
        """Replace everything shown by ``results``."""
        self.plot.set_history(results)
        self._update_buttons()

    def clear(self) -> None:
        """Forget every epoch."""
        self.plot.clear()
        self._update_buttons()

    def epochs(self) -> np.ndarray:
        """The recorded epoch numbers (a copy)."""
        return self.plot.epochs()

    def losses(self) -> np.ndarray:
        """The recorded losses (a copy)."""
        return self.plot.losses()

    def accuracies(self) -> np.ndarray:
        """The recorded accuracies in 0..1 (a copy)."""
        return self.plot.accuracies()

    def set_x_goal(self, epoch: float | None) -> None:
        """Show the x axis up to the run's last epoch (None: up to the data); see LossPlot.set_x_goal."""
        self.plot.set_x_goal(epoch)

    def set_chance_loss(self, value: float | None, steps: float = 1.0) -> None:
        """Draw the chance line at ``value``, the loss of ``steps`` time steps summed; None hides it."""
        self.plot.set_chance_loss(value, steps)

    def set_log_scale(self, on: bool) -> None:
        """Show the loss on a log10 axis."""
        self.plot.set_log_scale(on)

    def log_scale(self) -> bool:
        """Whether the loss axis is logarithmic."""
        return self.plot.log_scale()

    def export_png(self, path: str) -> None:
        """Write the plot as a PNG; OSError on failure."""
        self.plot.export_png(path)

    def export_csv(self, path: str) -> None:
        """Write ``epoch,loss,accuracy`` CSV; OSError on failure."""
        self.plot.export_csv(path)

    @Slot()
    def ask_export_png(self) -> str | None:
        """Ask for a file name and export the PNG; returns the path written, or None."""
        return self._ask_export("Export loss plot as PNG", "loss.png", "PNG images (*.png)", ".png", self.export_png)

    @Slot()
    def ask_export_csv(self) -> str | None:
        """Ask for a file name and export the CSV; returns the path written, or None."""
        return self._ask_export("Export losses as CSV", "losses.csv", "CSV files (*.csv)", ".csv", self.export_csv)

    def _ask_export(self, title: str, default_name: str, filters: str, suffix: str, export) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, title, default_name, filters)
        if not path:
            return None
        path = with_suffix(self, path, suffix)  # "report" is written as report.csv: ask before replacing it
        if path is None:
            return None
        self.export_starting.emit()
        try:
            export(path)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            QMessageBox.warning(self, "Export failed", f"Could not write {path}:\n{reason}")
            return None
        return path

    def readout_below(self) -> bool:
        """Whether the read-out has a row of its own under the log toggle and export buttons."""
        return self._below.indexOf(self._readout_slot) >= 0

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._place_readout(event.size().width())
        super().resizeEvent(event)

    def _place_readout(self, width: int) -> None:
        """The read-out beside the buttons if a long run's figures fit there, else on its own row.

        Decided by the panel's width alone, never by the text: a run's read-out changes on every
        refresh, and moving it then would relay out the window each time.
        """
        bar = self._bar
        margins = bar.contentsMargins()
        beside = (
            self.log_check.sizeHint().width()
            + _READOUT_GAP
            + self.png_button.sizeHint().width()
            + self.csv_button.sizeHint().width()
            + 4 * max(0, bar.spacing())
            + margins.left()
            + margins.right()
        )
        below = width - beside < self._readout_room
        if below == self.readout_below():
            return
        if below:
            bar.removeWidget(self._readout_slot)
            bar.insertStretch(2, 1)  # the export buttons stay on the right
            self._below.setContentsMargins(8, 0, 4, 2)
            self._below.addWidget(self._readout_slot, 1)
        else:
            self._below.removeWidget(self._readout_slot)
            self._below.setContentsMargins(0, 0, 0, 0)
            bar.takeAt(2)  # the stretch put there
            bar.insertWidget(2, self._readout_slot, 1)

    @Slot(str)
    def _show_readout(self, text: str) -> None:
        self.readout_label.setText(text, self.plot.readout_shorter())

    @Slot(bool)
    def _on_log_check_toggled(self, on: bool) -> None:
        self.plot.set_log_scale(on)

    @Slot(bool)
    def _on_plot_log_scale_changed(self, on: bool) -> None:
        self.log_check.setChecked(on)
        self.log_scale_changed.emit(on)

    def _update_buttons(self) -> None:
        has_data = self.plot.count() > 0
        self.png_button.setEnabled(has_data)
        self.csv_button.setEnabled(has_data)
        self.export_enabled_changed.emit(has_data)
