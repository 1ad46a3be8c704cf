"""Labels whose text changes many times a second without relaying out the window.

``QLabel.setText`` calls ``updateGeometry()``, which invalidates the layout the
label sits in, and from there every layout up to the QMainWindow's. A status
bar or read-out updated on each refresh of a run thus relaid out the whole
window about ten times a second: every widget was asked its size hints, and
each Python-derived widget's answer took the GIL from the training thread
(the training thread blocked ~1,500 times a second). Qt stops that walk at a
widget whose minimum and maximum sizes are equal, or whose parent has no layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


def relayout_later(widget: QWidget) -> None:
    """Ask the layouts above ``widget`` to size it again, once the layout pass now running is over.

    A size constraint set in a resizeEvent (a wrapped label's height for its new width) falls inside
    the parent layout's pass, which then drops the request: the panel kept the old height, and the
    text overlapped what lay below until something else relaid it out.
    """
    timer = getattr(widget, "_relayout_timer", None)
    if timer is None:
        # A zero-time timer of the widget's own: it goes with the widget, so it never fires for a
        # widget already deleted, and it holds its slot itself.
        timer = QTimer(widget)
        timer.setSingleShot(True)
        timer.setInterval(0)
        timer.timeout.connect(partial(_relayout, widget))
        widget._relayout_timer = timer
    timer.start()


def _relayout(widget: QWidget) -> None:
    # Every layout up to the window: a layout left dirty by the dropped request stops an ordinary
    # updateGeometry() from reaching the ones above it.
    w: QWidget | None = widget
    while w is not None:
        if w.layout() is not None:
            w.layout().invalidate()
        w = w.parentWidget()


def fix_label_size(label: QLabel, template: str) -> None:
    """Give ``label`` a fixed size that fits ``template``: its text changes then never relay out its parents."""
    width = label.fontMetrics().horizontalAdvance(template) + 2 * label.margin() + 8
    label.setFixedSize(width, label.sizeHint().height())


class LabelSlot(QWidget):
    """Holds one label at whatever width the layout gives the slot; the label's text changes stay inside.

    For a label that must stretch with its row (so it cannot have a fixed width):
    the slot is in the layout, the label is a plain child filling it.
    """

    def __init__(self, label: QLabel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._label = label
        label.setParent(self)
        self._height = label.sizeHint().height()
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self.setFixedHeight(self._height)

    def label(self) -> QLabel:
        """The label held."""
        return self._label

    def sizeHint(self) -> QSize:
        return QSize(self._label.sizeHint().width(), self._height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._label.setGeometry(self.rect())
        super().resizeEvent(event)


class ElidedLabel(QLabel):
    """A one-line label that fits any width: a text too long ends in "…" and the tooltip holds it whole.

    A text may come with shorter forms of itself: the label shows the first form that fits,
    and elides the shortest only when none does.

    It asks for no width of its own (a long message no longer widens the window), and its
    height is fixed, so a new text repaints it without relaying out its parents.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self.setFixedHeight(self.sizeHint().height())
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("Mmmm…"))
        self._forms: tuple[str, ...] = ("",)
        self._tip = ""
        self._interaction = Qt.TextInteractionFlag.NoTextInteraction

    def setTextInteractionFlags(self, flags: Qt.TextInteractionFlag) -> None:
        """Selecting works while a whole form is shown; cut short, what would be selected is not the text."""
        self._interaction = flags
        self._elide()

    def set_tip(self, tip: str) -> None:
        """The tooltip while the text is shown whole (else the tooltip gives the text, then this)."""
        self._tip = tip
        self._elide()

    def setText(self, text: str, shorter: Sequence[str] = ()) -> None:
        """Show ``text``, or the first of its ``shorter`` forms that fits, or the shortest elided."""
        forms = (text, *shorter)
        if forms == self._forms:
            return
        self._forms = forms
        self._elide()

    def text(self) -> str:
        """The whole text, not the form shown."""
        return self._forms[0]

    def shown_text(self) -> str:
        """What the label shows at its width: the text, a shorter form, or the shortest elided."""
        return super().text()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._elide()
        super().resizeEvent(event)

    def _elide(self) -> None:
        metrics = self.fontMetrics()
        width = max(0, self.width())
        fitting = (form for form in self._forms if metrics.horizontalAdvance(form) <= width)
        shown = next(fitting, None)
        if shown is None:
            shown = metrics.elidedText(self._forms[-1], Qt.TextElideMode.ElideRight, width)
        whole = shown in self._forms
        super().setText(shown)
        super().setTextInteractionFlags(self._interaction if whole else Qt.TextInteractionFlag.NoTextInteraction)
        full = self._forms[0]
        if shown == full:
            self.setToolTip(self._tip)
        else:
            self.setToolTip(f"{full}\n{self._tip}" if self._tip else full)
