"""ConfigPanel: round trips, what applies to which cell, problems at their fields, presets, read-only."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLabel, QWidget

from rnnstudio.core.config import (
    MAX_CLIP,
    MAX_DROPOUT,
    MAX_LR,
    MAX_MOMENTUM,
    MAX_SEED,
    MIN_LR,
    ModelConfig,
    TrainConfig,
)
from rnnstudio.core.describe import count_parameters
from rnnstudio.core.presets import presets
from rnnstudio.core.problems import Problem
from rnnstudio.ui.config_panel import ConfigPanel, shortest_text

CONTROLS = (
    "presetCombo",
    "cellCombo",
    "encodingCombo",
    "embeddingSpin",
    "hiddenSpin",
    "layersSpin",
    "nonlinearityCombo",
    "dropoutSpin",
    "headCombo",
    "optimizerCombo",
    "lrSpin",
    "momentumSpin",
    "epochsSpin",
    "seedSpin",
    "lossCombo",
    "clipSpin",
    "deviceCombo",
    "threadsSpin",
)


@pytest.fixture
def panel(qtbot) -> ConfigPanel:
    w = ConfigPanel()
    qtbot.addWidget(w)
    w.set_presets([(p.id, p.name, p.description) for p in presets()])
    return w


def child(panel: ConfigPanel, name: str) -> QWidget:
    found = panel.findChild(QWidget, name)
    assert found is not None, name
    return found


def choose(combo: QComboBox, data: str) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def type_into(qtbot, spin: QAbstractSpinBox, text: str) -> None:
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)


def shown_parameters(panel: ConfigPanel) -> int | None:
    match = re.search(r"parameters: ([\d,]+)", child(panel, "paramsLabel").text())
    return int(match.group(1).replace(",", "")) if match else None


def test_a_very_large_model_is_warned_about_but_not_refused(qtbot, panel) -> None:
    panel.set_vocab_size(4)
    warning = child(panel, "sizeWarningLabel")
    assert warning.isHidden()
    choose(child(panel, "cellCombo"), "lstm")
    child(panel, "hiddenSpin").setValue(4096)
    child(panel, "layersSpin").setValue(2)
    n = count_parameters(panel.model_config(), 4)
    assert n > 50_000_000
    assert not warning.isHidden()
    assert f"this model has {n:,} parameters: training will be slow and use ~" in warning.text()
    child(panel, "layersSpin").setValue(1)
    child(panel, "hiddenSpin").setValue(64)
    assert warning.isHidden()


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("preset", presets(), ids=lambda p: p.id)
def test_every_preset_round_trips_without_a_signal(qtbot, panel, preset) -> None:
    model, train = preset.project.model, preset.project.train
    # start from something different so a no-op set_config could not pass
    panel.set_config(ModelConfig(cell="gru", hidden_size=33, head="linear"), TrainConfig(lr=0.7, epochs=3))
    with qtbot.assertNotEmitted(panel.config_changed):
        panel.set_config(model, train)
    assert panel.model_config() == model
    assert panel.train_config() == train


def test_unusual_values_round_trip_exactly(panel) -> None:
    model = ModelConfig(
        cell="lstm",
        encoding="embedding",
        embedding_size=37,
        hidden_size=4096,
        num_layers=8,
        nonlinearity="relu",
        dropout=0.25,
        head="linear",
    )
    train = TrainConfig(
        optimizer="rmsprop",
        lr=0.0003,
        momentum=0.9,
        epochs=1_000_000,
        seed=MAX_SEED,
        loss_reduction="sum",
        clip_grad_norm=1.5,
        device="cuda",
        threads=3,
    )
    panel.set_config(model, train)
    assert panel.model_config() == model
    assert panel.train_config() == train
    for lr in (0.1, 0.05, 0.0001, 10.0, 0.123456):
        panel.set_config(model, replace(train, lr=lr))
        assert panel.train_config().lr == lr
    assert child(panel, "epochsSpin").text() == "1,000,000"
    assert child(panel, "lrSpin").text() == "0.123456"


FINE_VALUES = [
    # (dropout, lr, momentum, clip): more digits than a 6-decimal box kept, and values it rounded away
    (0.1234567, 0.0012345678, 0.9, 1e-7),
    (0.0, 1.5e-6, 0.123456789, 0.0),
    (0.30000000000000004, MIN_LR, 1e-12, MAX_CLIP),
    (MAX_DROPOUT, MAX_LR, MAX_MOMENTUM, 1e-300),
]


@pytest.mark.parametrize(("dropout", "lr", "momentum", "clip"), FINE_VALUES)
def test_float_values_round_trip_bit_for_bit(qtbot, panel, dropout, lr, momentum, clip) -> None:
    model = ModelConfig(cell="lstm", num_layers=2, dropout=dropout)
    train = TrainConfig(optimizer="sgd", lr=lr, momentum=momentum, clip_grad_norm=clip)
    with qtbot.assertNotEmitted(panel.config_changed):
        panel.set_config(model, train)
    assert panel.model_config() == model
    assert panel.train_config() == train
    for name, value in (("dropoutSpin", dropout), ("lrSpin", lr), ("momentumSpin", momentum), ("clipSpin", clip)):
        text = child(panel, name).text()
        assert len(text) <= 23, text  # readable, not 323 decimals
        if text != "off":
            assert float(text) == value, f"{name} shows {text!r} for {value!r}"


def test_fine_values_are_shown_in_their_shortest_form(panel) -> None:
    panel.set_config(ModelConfig(), TrainConfig(lr=1.5e-6, clip_grad_norm=1e-7))
    assert child(panel, "lrSpin").text() == "1.5e-6"
    assert child(panel, "clipSpin").text() == "1e-7"
    panel.set_config(ModelConfig(), TrainConfig(lr=0.0012345678, clip_grad_norm=MAX_CLIP))
    assert child(panel, "lrSpin").text() == "0.0012345678"
    assert child(panel, "clipSpin").text() == "1000000"
    panel.set_config(ModelConfig(), TrainConfig(clip_grad_norm=0.0))
    assert child(panel, "clipSpin").text() == "off"


def test_set_config_rejects_a_choice_the_panel_cannot_show(panel) -> None:
    with pytest.raises(ValueError, match="cell"):
        panel.set_config(ModelConfig(cell="transformer"), TrainConfig())


# --- user changes ----------------------------------------------------------------------------


def test_choosing_lstm_emits_the_new_configuration(qtbot, panel) -> None:
    panel.set_config(ModelConfig(cell="rnn"), TrainConfig(lr=0.1))
    with qtbot.waitSignal(panel.config_changed, timeout=1000) as blocker:
        choose(child(panel, "cellCombo"), "lstm")
    model, train = blocker.args
    assert model == ModelConfig(cell="lstm")
    assert train == TrainConfig(lr=0.1)
    assert panel.model_config().cell == "lstm"


def test_every_control_emits_its_field(qtbot, panel) -> None:
    panel.set_config(ModelConfig(), TrainConfig())
    changes = [
        ("encodingCombo", "embedding", "encoding"),
        ("headCombo", "linear", "head"),
        ("optimizerCombo", "sgd", "optimizer"),
        ("lossCombo", "sum", "loss_reduction"),
        ("deviceCombo", "cpu", "device"),
        ("nonlinearityCombo", "relu", "nonlinearity"),
    ]
    for name, value, field in changes:
        with qtbot.waitSignal(panel.config_changed, timeout=1000) as blocker:
            choose(child(panel, name), value)
        model, train = blocker.args
        assert getattr(model if hasattr(model, field) else train, field) == value
    spins = [
        ("embeddingSpin", 12, "embedding_size"),
        ("layersSpin", 3, "num_layers"),
        ("dropoutSpin", 0.2, "dropout"),
        ("momentumSpin", 0.9, "momentum"),
        ("seedSpin", 42, "seed"),
        ("clipSpin", 2.5, "clip_grad_norm"),
        ("threadsSpin", 2, "threads"),
    ]
    for name, value, field in spins:
        with qtbot.waitSignal(panel.config_changed, timeout=1000) as blocker:
            child(panel, name).setValue(value)
        model, train = blocker.args
        assert getattr(model if hasattr(model, field) else train, field) == value


def test_typing_a_learning_rate_gives_that_rate(qtbot, panel) -> None:
    panel.set_config(ModelConfig(), TrainConfig(lr=0.05))
    seen: list[float] = []
    panel.config_changed.connect(lambda _m, t: seen.append(t.lr))
    type_into(qtbot, child(panel, "lrSpin"), "0.01")
    assert panel.train_config().lr == 0.01
    assert seen and seen[-1] == 0.01
    # "0", "0.", "0.0" are below the minimum: nothing invalid is emitted on the way
    assert all(0 < lr <= 10 for lr in seen)
    qtbot.keyClick(child(panel, "lrSpin").lineEdit(), Qt.Key.Key_Return)
    assert child(panel, "lrSpin").text() == "0.01"
    assert panel.train_config().lr == 0.01


@pytest.mark.parametrize(
    ("name", "typed", "field", "value", "shown"),
    [
        ("lrSpin", "0.0012345678", "lr", 0.0012345678, "0.0012345678"),
        ("lrSpin", "1e-3", "lr", 0.001, "0.001"),
        ("lrSpin", "1.5E-6", "lr", 1.5e-6, "1.5e-6"),
        ("clipSpin", "1e-7", "clip_grad_norm", 1e-7, "1e-7"),  # a 6-decimal box made this 17
        ("clipSpin", "off", "clip_grad_norm", 0.0, "off"),
        ("dropoutSpin", "0.1234567", "dropout", 0.1234567, "0.1234567"),
        ("momentumSpin", ".95", "momentum", 0.95, "0.95"),
    ],
)
def test_a_typed_value_is_kept_as_typed(qtbot, panel, name, typed, field, value, shown) -> None:
    panel.set_config(ModelConfig(cell="gru", num_layers=2), TrainConfig(optimizer="sgd", clip_grad_norm=2.0))
    seen: list[object] = []
    panel.config_changed.connect(lambda m, t: seen.append(getattr(m if hasattr(m, field) else t, field)))
    spin = child(panel, name)
    type_into(qtbot, spin, typed)
    assert seen and seen[-1] == value
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    config = panel.model_config() if field == "dropout" else panel.train_config()
    assert getattr(config, field) == value
    assert spin.text() == shown


def test_a_comma_locale_shows_and_reads_its_own_decimal_point(qtbot, panel) -> None:
    lr = child(panel, "lrSpin")
    lr.setLocale(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    panel.set_config(ModelConfig(), TrainConfig(lr=0.0012345678))
    assert lr.text() == "0,0012345678"
    type_into(qtbot, lr, "1,5e-6")
    assert panel.train_config().lr == 1.5e-6
    type_into(qtbot, lr, "1.5")  # "." groups thousands here: refused, not read as 1.5 or 15
    assert panel.train_config().lr == 1.0 and lr.text() == "1"


def test_typing_outside_the_range_never_reaches_the_configuration(qtbot, panel) -> None:
    panel.set_config(ModelConfig(), TrainConfig(lr=0.05))
    lr = child(panel, "lrSpin")
    seen: list[float] = []
    panel.config_changed.connect(lambda _m, t: seen.append(t.lr))
    type_into(qtbot, lr, "20")  # the 0 is refused, as a stock box does: no more digits bring 20 below 10
    assert lr.text() == "2" and panel.train_config().lr == 2.0
    # above, below, beyond a float: Return takes the nearer end of the range, not the first digit
    # typed on the way (5e-9 gave 5, a hundred times the rate it replaced)
    for typed, kept in (("5e1", MAX_LR), ("5e-9", MIN_LR), ("1e999", MAX_LR), ("0", MIN_LR)):
        type_into(qtbot, lr, typed)
        qtbot.keyClick(lr.lineEdit(), Qt.Key.Key_Return)
        assert panel.train_config().lr == kept, typed
        assert lr.text() == shortest_text(kept)
    type_into(qtbot, lr, "x")
    assert lr.text() != "x"
    assert seen and all(MIN_LR <= v <= MAX_LR for v in seen)


@pytest.mark.parametrize(
    ("name", "start", "steps", "expected"),
    [
        ("lrSpin", 0.05, 1, 0.051),  # one power of ten below the value; a binary sum gives 0.051000000000000004
        ("lrSpin", 0.05, -1, 0.049),
        ("lrSpin", 0.1, -1, 0.099),
        ("lrSpin", 1.5e-6, -1, 1.4e-6),
        ("lrSpin", 0.0012345678, 1, 0.0013345678),
        ("lrSpin", MIN_LR, -1, MIN_LR),
        ("lrSpin", MAX_LR, 1, MAX_LR),
        ("dropoutSpin", 0.1, 1, 0.15),  # 0.1 + 0.05 is 0.15000000000000002 in binary
        ("dropoutSpin", 0.97, 1, MAX_DROPOUT),
        ("clipSpin", 1e-7, 1, 0.5000001),
        ("clipSpin", 0.5, -1, 0.0),
    ],
)
def test_a_step_lands_on_the_decimal_and_inside_the_range(qtbot, panel, name, start, steps, expected) -> None:
    spin = child(panel, name)
    spin.setValue(start)
    spin.stepBy(steps)
    assert spin.value() == expected
    assert spin.text() == ("off" if expected == 0 and name == "clipSpin" else shortest_text(expected))


def test_typing_epochs_and_hidden_size(qtbot, panel) -> None:
    panel.set_config(ModelConfig(), TrainConfig(epochs=15))
    type_into(qtbot, child(panel, "epochsSpin"), "2500")
    assert panel.train_config().epochs == 2500
    type_into(qtbot, child(panel, "hiddenSpin"), "16")
    assert panel.model_config().hidden_size == 16


# --- what applies ----------------------------------------------------------------------------


def test_options_that_do_not_apply_are_disabled_with_the_reason(panel) -> None:
    panel.set_config(ModelConfig(cell="rnn", encoding="onehot", num_layers=1), TrainConfig(optimizer="adam"))
    embedding, nonlin = child(panel, "embeddingSpin"), child(panel, "nonlinearityCombo")
    dropout, momentum = child(panel, "dropoutSpin"), child(panel, "momentumSpin")
    layers, hidden = child(panel, "layersSpin"), child(panel, "hiddenSpin")

    assert not embedding.isEnabled() and "used only with an embedding input" in embedding.toolTip()
    choose(child(panel, "encodingCombo"), "embedding")
    assert embedding.isEnabled() and "used only with" not in embedding.toolTip()

    assert nonlin.isEnabled()
    for cell in ("lstm", "gru"):
        choose(child(panel, "cellCombo"), cell)
        assert not nonlin.isEnabled() and "LSTM and GRU have fixed activations" in nonlin.toolTip()
    choose(child(panel, "cellCombo"), "rnncell")
    assert nonlin.isEnabled()

    # dropout: RNNCell never, other cells from two layers on
    assert not dropout.isEnabled() and "dropout acts between stacked layers" in dropout.toolTip()
    layers.setValue(2)
    assert not dropout.isEnabled()
    assert layers.isEnabled(), "layers stays editable: RNNCell with 2 layers is shown as a problem instead"
    choose(child(panel, "cellCombo"), "gru")
    assert dropout.isEnabled()
    layers.setValue(1)
    assert not dropout.isEnabled() and "dropout acts between stacked layers: add a layer" in dropout.toolTip()

    expected = {"adam": False, "sgd": True, "rmsprop": True, "adagrad": False}
    for optimizer, enabled in expected.items():
        choose(child(panel, "optimizerCombo"), optimizer)
        assert momentum.isEnabled() is enabled, optimizer
        assert ("momentum is used only by SGD and RMSprop" in momentum.toolTip()) is not enabled

    # the labels follow their fields, so the row reads as off too
    assert not panel.findChild(QLabel, "momentumSpinLabel").isEnabled()
    assert hidden.isEnabled() and layers.isEnabled()
    # a value set while disabled still round-trips: the config keeps it, the model ignores it
    assert panel.train_config().optimizer == "adagrad"


def test_set_config_applies_the_enabled_states(panel) -> None:
    panel.set_config(ModelConfig(cell="lstm", encoding="embedding", num_layers=3), TrainConfig(optimizer="sgd"))
    assert child(panel, "embeddingSpin").isEnabled()
    assert not child(panel, "nonlinearityCombo").isEnabled()
    assert child(panel, "dropoutSpin").isEnabled()
    assert child(panel, "momentumSpin").isEnabled()


# --- hidden size auto ------------------------------------------------------------------------


def test_hidden_size_auto_and_number(qtbot, panel) -> None:
    hidden = child(panel, "hiddenSpin")
    panel.set_config(ModelConfig(hidden_size=None), TrainConfig())
    assert hidden.text() == "auto (= |V|)"
    panel.set_vocab_size(4)
    assert hidden.text() == "auto (= 4)"
    with qtbot.waitSignal(panel.config_changed, timeout=1000) as blocker:
        hidden.stepUp()
    assert blocker.args[0].hidden_size == 1
    assert panel.model_config().hidden_size == 1
    with qtbot.waitSignal(panel.config_changed, timeout=1000) as blocker:
        hidden.stepDown()
    assert blocker.args[0].hidden_size is None
    assert hidden.text() == "auto (= 4)"
    panel.set_config(ModelConfig(hidden_size=8), TrainConfig())
    assert hidden.text() == "8" and panel.model_config().hidden_size == 8


# --- parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    [
        ModelConfig(cell="rnncell"),
        ModelConfig(cell="rnn", encoding="embedding", embedding_size=10, hidden_size=8, num_layers=2, head="linear"),
        ModelConfig(cell="lstm", hidden_size=32, num_layers=3, head="linear"),
        ModelConfig(cell="gru", encoding="embedding", embedding_size=5, num_layers=2),
        ModelConfig(cell="rnncell", num_layers=4, head="linear", hidden_size=7),
    ],
)
def test_parameter_count_matches_describe(panel, model) -> None:
    panel.set_vocab_size(4)
    panel.set_config(model, TrainConfig())
    assert shown_parameters(panel) == count_parameters(model, 4)
    panel.set_vocab_size(11)
    assert shown_parameters(panel) == count_parameters(model, 11)


def test_parameter_count_follows_user_changes_and_vocabulary(panel) -> None:
    panel.set_config(ModelConfig(cell="rnn", encoding="onehot", hidden_size=None, head="none"), TrainConfig())
    assert shown_parameters(panel) is None  # no vocabulary yet: no made-up number
    panel.set_vocab_size(4)
    assert shown_parameters(panel) == 4 * (4 + 4 + 2)
    child(panel, "layersSpin").setValue(2)
    assert shown_parameters(panel) == 4 * (4 + 4 + 2) * 2
    preset = next(p for p in presets() if p.id == "rnn-embedding")
    panel.set_config(preset.project.model, preset.project.train)
    assert child(panel, "paramsLabel").text() == "parameters: 380"


# --- problems --------------------------------------------------------------------------------


def outline_is_red(widget: QWidget) -> bool:
    image = widget.grab().toImage()
    red = QColor("#cf222e")
    y = image.height() // 2
    for x in range(3):
        c = image.pixelColor(x, y)
        if abs(c.red() - red.red()) + abs(c.green() - red.green()) + abs(c.blue() - red.blue()) < 60:
            return True
    return False


def test_problems_are_shown_at_their_fields_and_listed(panel) -> None:
    panel.resize(340, 720)
    panel.show()
    model = ModelConfig(cell="rnncell", num_layers=2, head="none", hidden_size=8)
    problems = [*model.problems(4), Problem("lr", "the learning rate must be above 0"), Problem("input", "empty")]
    assert {p.field for p in problems} == {"hidden_size", "num_layers", "lr", "input"}
    panel.set_config(model, TrainConfig())
    hidden, layers, lr, seed = (child(panel, n) for n in ("hiddenSpin", "layersSpin", "lrSpin", "seedSpin"))
    assert not outline_is_red(hidden)

    panel.set_problems(problems)
    listed = child(panel, "problemsLabel")
    assert listed.isVisible()
    for problem in problems[:3]:
        assert str(problem) in listed.text()
    assert "empty" not in listed.text(), "data problems belong to the data editor"
    for widget in (hidden, layers, lr):
        assert widget.property("problem") is True
        assert outline_is_red(widget), widget.objectName()
    assert "hidden size must equal the vocabulary size (4)" in hidden.toolTip()
    assert "an RNNCell loop has a single layer" in layers.toolTip()
    assert "hiddenSize: the size of the hidden state h_t" in hidden.toolTip()  # the explanation stays
    assert not seed.property("problem") and not outline_is_red(seed)

    panel.set_problems([])
    assert not listed.isVisible()
    assert not hidden.property("problem") and not outline_is_red(hidden)
    assert "vocabulary size" not in hidden.toolTip()


def test_problems_read_from_a_file_name_their_section(panel) -> None:
    panel.set_problems([Problem("train.epochs", "has the wrong type: '15'")])
    assert child(panel, "epochsSpin").property("problem") is True
    assert "wrong type" in child(panel, "epochsSpin").toolTip()


# --- presets ---------------------------------------------------------------------------------


def activate_in_popup(qtbot, combo: QComboBox, index: int) -> None:
    """Pick an item the way a user does: open the list, move to the item, press Return."""
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=1000)
    view.setCurrentIndex(view.model().index(index, 0))
    qtbot.keyClick(view, Qt.Key.Key_Return)


def test_presets_show_names_and_descriptions(panel) -> None:
    combo = child(panel, "presetCombo")
    assert [combo.itemData(i) for i in range(combo.count())] == [p.id for p in presets()]
    assert [combo.itemText(i) for i in range(combo.count())] == [p.name for p in presets()]
    assert combo.itemData(0, Qt.ItemDataRole.ToolTipRole) == presets()[0].description


def test_preset_chosen_on_activation_also_for_the_same_preset(qtbot, panel) -> None:
    panel.show()
    combo = child(panel, "presetCombo")
    with qtbot.assertNotEmitted(panel.preset_chosen):
        panel.set_current_preset("rnn-onehot")
    assert combo.currentData() == "rnn-onehot"
    index = combo.findData("rnn-embedding")
    with qtbot.waitSignal(panel.preset_chosen, timeout=1000) as blocker:
        activate_in_popup(qtbot, combo, index)
    assert blocker.args == ["rnn-embedding"]
    with qtbot.waitSignal(panel.preset_chosen, timeout=1000) as blocker:
        activate_in_popup(qtbot, combo, index)
    assert blocker.args == ["rnn-embedding"]


def test_no_preset_shows_custom(panel) -> None:
    combo = child(panel, "presetCombo")
    panel.set_current_preset("rnncell-onehot")
    panel.set_current_preset(None)
    assert combo.currentIndex() == -1 and combo.placeholderText() == "Custom"
    panel.set_current_preset("rnn-onehot")
    panel.set_presets([(p.id, p.name, p.description) for p in presets()])
    assert combo.currentData() == "rnn-onehot", "reloading the list keeps the selection"


# --- read-only, tooltips, layout -------------------------------------------------------------


def test_read_only_disables_every_control(panel) -> None:
    panel.show()
    panel.set_config(ModelConfig(cell="rnn", num_layers=2), TrainConfig(optimizer="adam"))
    panel.set_read_only(True)
    for name in CONTROLS:
        assert not child(panel, name).isEnabled(), name
    note = child(panel, "readOnlyLabel")
    assert note.isVisible() and note.text() == "read-only while training"
    panel.set_read_only(False)
    assert not note.isVisible()
    assert child(panel, "dropoutSpin").isEnabled() and child(panel, "cellCombo").isEnabled()
    assert not child(panel, "momentumSpin").isEnabled(), "what does not apply stays off after training"


def test_every_control_explains_itself(panel) -> None:
    for name in CONTROLS:
        assert len(child(panel, name).toolTip()) > 30, name
    assert "hiddenSize: the size of the hidden state h_t" in child(panel, "hiddenSpin").toolTip()
    assert "numLayers" in child(panel, "layersSpin").toolTip()


def test_labels_are_not_clipped_at_330_px(qtbot, panel) -> None:
    panel.set_vocab_size(4)
    panel.set_config(
        ModelConfig(head="none", cell="rnncell"), TrainConfig(loss_reduction="sum", epochs=1_000_000, seed=MAX_SEED)
    )
    panel.resize(330, 720)
    panel.show()
    qtbot.waitUntil(lambda: panel.width() == 330, timeout=1000)
    for label in panel.findChildren(QLabel):
        if label.isVisible() and not label.wordWrap():
            assert label.width() >= label.sizeHint().width(), label.text()
    for name in CONTROLS:
        widget = child(panel, name)
        assert widget.width() >= widget.minimumSizeHint().width(), name


@pytest.mark.parametrize(
    ("hidden", "layers", "text"),
    [
        (4096, 8, "parameters: 1,007,542,652  (≈ 1.0 billion)"),
        (1024, 2, "parameters: 12,761,468  (≈ 12.8 million)"),
    ],
)
def test_a_large_parameter_count_reads_in_groups_of_three_with_a_rounded_size(panel, hidden, layers, text) -> None:
    # It read "parameters: 1007075372 (≈ 1.01e+03 million)".
    model = ModelConfig(
        cell="lstm", encoding="embedding", embedding_size=37, hidden_size=hidden, num_layers=layers, head="linear"
    )
    panel.set_config(model, TrainConfig())
    panel.set_vocab_size(10)
    assert child(panel, "paramsLabel").text() == text


def darkest_text(combo: QComboBox) -> int:
    """The lightness of the darkest pixel in the combo box's text, as drawn (0 black .. 255 white)."""
    image = combo.grab().toImage()
    height = image.height()
    return min(image.pixelColor(x, y).lightness() for x in range(6, image.width() // 2) for y in range(4, height - 4))


def test_custom_in_the_preset_box_is_drawn_as_text_not_greyed_out(panel, qtbot) -> None:
    # Qt draws a combo box's placeholder grey: "Custom" read as a disabled box.
    panel.show()
    qtbot.waitExposed(panel)
    combo = child(panel, "presetCombo")
    panel.set_current_preset(presets()[0].id)
    named = darkest_text(combo)
    panel.set_current_preset(None)
    assert combo.currentText() == "" and combo.placeholderText() == "Custom"
    custom = darkest_text(combo)
    assert abs(custom - named) <= 10, (custom, named)
    panel.set_read_only(True)  # while training it is greyed out, as every control is
    assert darkest_text(combo) > custom + 40
