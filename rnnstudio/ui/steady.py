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

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


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

    It asks for no width of its own (a long message no longer widens the window), and its
    height is fixed, so a new text repaints it without relaying out its parents.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self.setFixedHeight(self.sizeHint().height())
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("Mmmm…"))
        self._full = ""
        self._tip = ""
        self._interaction = Qt.TextInteractionFlag.NoTextInteraction

    def setTextInteractionFlags(self, flags: Qt.TextInteractionFlag) -> None:
        """Selecting works while the text is whole; cut short, what would be selected is not the text."""
        self._interaction = flags
        self._elide()

    def set_tip(self, tip: str) -> None:
        """The tooltip while the text is shown whole (elided, the tooltip gives the text, then this)."""
        self._tip = tip
        self._elide()

    def setText(self, text: str) -> None:
        """Show ``text``, elided to the label's width."""
        if text == self._full:
            return
        self._full = text
        self._elide()

    def text(self) -> str:
        """The whole text, not its elided form."""
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._elide()
        super().resizeEvent(event)

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(0, self.width()))
        super().setText(shown)
        whole = shown == self._full
        super().setTextInteractionFlags(self._interaction if whole else Qt.TextInteractionFlag.NoTextInteraction)
        if whole:
            self.setToolTip(self._tip)
        else:
            self.setToolTip(f"{self._full}\n{self._tip}" if self._tip else self._full)
