"""The labels that change during a run: what they show at a given width."""

import pytest
from PySide6.QtCore import Qt

from rnnstudio.ui.steady import ElidedLabel

FORMS = ("latest: epoch 200   loss 0.0326   accuracy 100.0%", "epoch 200  loss 0.0326  acc. 100.0%", "200: 0.0326")


def width_of(label: ElidedLabel, text: str) -> int:
    return label.fontMetrics().horizontalAdvance(text)


@pytest.fixture
def label(qtbot) -> ElidedLabel:
    label = ElidedLabel()
    qtbot.addWidget(label)
    label.show()  # a hidden widget gets its resize events only when shown
    qtbot.waitExposed(label)
    return label


def test_an_elided_label_shows_the_longest_form_that_fits_and_elides_only_the_shortest(label):
    label.set_tip("Epoch, loss and accuracy")
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    label.setText(FORMS[0], FORMS[1:])
    expectations = [
        (width_of(label, FORMS[0]) + 4, FORMS[0]),
        (width_of(label, FORMS[0]) - 4, FORMS[1]),
        (width_of(label, FORMS[1]) - 4, FORMS[2]),
    ]
    for width, form in expectations:
        label.resize(width, label.height())
        assert label.shown_text() == form and label.text() == FORMS[0]
        assert label.textInteractionFlags() & Qt.TextSelectableByMouse  # a whole form: it can be copied
        tip = "Epoch, loss and accuracy" if form == FORMS[0] else f"{FORMS[0]}\nEpoch, loss and accuracy"
        assert label.toolTip() == tip
    label.resize(width_of(label, FORMS[2]) - 4, label.height())  # no form fits: the shortest, elided
    shown = label.shown_text()
    assert shown.endswith("…") and FORMS[2].startswith(shown[:-1]) and len(shown) > 1
    assert not label.textInteractionFlags() & Qt.TextSelectableByMouse  # it would copy "200: 0.0…"
    assert label.toolTip().startswith(FORMS[0])


def test_an_elided_label_with_one_form_elides_it(label):
    label.setText("Finished 3000 epochs; loss 5.794e-06, predicted ohlol")
    label.resize(width_of(label, "Finished 3000 epochs"), label.height())
    assert label.shown_text().startswith("Finished") and label.shown_text().endswith("…")
    assert label.toolTip() == "Finished 3000 epochs; loss 5.794e-06, predicted ohlol"
    label.setText("Ready")  # a new text drops the old one's forms
    assert label.shown_text() == "Ready" and label.toolTip() == ""
