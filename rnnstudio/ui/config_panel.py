"""The model-and-training configuration panel: preset, cell, sizes, optimiser and schedule."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QPalette, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from rnnstudio.core.config import (
    MAX_CLIP,
    MAX_DROPOUT,
    MAX_EMBEDDING,
    MAX_EPOCHS,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_LR,
    MAX_MOMENTUM,
    MAX_SEED,
    MAX_THREADS,
    MIN_LR,
    ModelConfig,
    TrainConfig,
)
from rnnstudio.core.describe import count_parameters, large_model_warning
from rnnstudio.core.problems import Problem

from . import style

_ERROR = style.ERROR

# Qt's most: with it setValue keeps every double from 1e-306 up, bit for bit.
MAX_DECIMALS = 323

# Only widgets flagged with the dynamic "problem" property change look; everything else keeps the style's.
_STYLE = f"""
QSpinBox[problem="true"], QDoubleSpinBox[problem="true"], QComboBox[problem="true"] {{
    border: 2px solid {_ERROR};
    border-radius: 3px;
    padding: 1px 2px;
    background: #fff5f5;
}}
/* A styled border makes Qt draw the sub-controls itself: give the arrows a size or they vanish. */
QSpinBox[problem="true"]::up-button, QSpinBox[problem="true"]::down-button,
QDoubleSpinBox[problem="true"]::up-button, QDoubleSpinBox[problem="true"]::down-button {{ width: 16px; }}
QSpinBox[problem="true"]::up-arrow, QSpinBox[problem="true"]::down-arrow,
QDoubleSpinBox[problem="true"]::up-arrow, QDoubleSpinBox[problem="true"]::down-arrow {{ width: 7px; height: 7px; }}
QLabel[problem="true"] {{ color: {_ERROR}; font-weight: bold; }}
QLabel#problemsLabel {{
    color: {_ERROR};
    background: #fff5f5;
    border: 1px solid {_ERROR};
    border-radius: 3px;
    padding: 4px 6px;
}}
QLabel#readOnlyLabel {{
    background: #fff8c5;
    color: #4d2d00;
    border: 1px solid #d4a72c;
    border-radius: 3px;
    padding: 3px 6px;
}}
"""

# Reasons shown on options that do not apply; tests and users read these words.
WHY_EMBEDDING = "used only with an embedding input"
WHY_NONLINEARITY = "LSTM and GRU have fixed activations (sigmoid gates, tanh)"
WHY_DROPOUT_LAYERS = "dropout acts between stacked layers: add a layer"
WHY_DROPOUT_RNNCELL = (
    "dropout acts between stacked layers: an RNNCell loop has one layer (choose RNN, LSTM or GRU and add a layer)"
)
WHY_MOMENTUM = "momentum is used only by SGD and RMSprop; Adam and Adagrad ignore it"

_TIPS = {
    "preset": "Start from one of the notebook's programs: it loads the data, the model and the training settings. "
    "It names the preset whose strings and settings the window holds, and reads Custom when they match none. "
    "Pick the same preset again to reload it.",
    "cell": "The recurrent cell. RNNCell loop: torch.nn.RNNCell stepped by hand over the seqLen steps "
    "(the notebook's first program). RNN: torch.nn.RNN runs the whole sequence in one call. "
    "LSTM / GRU: gated cells that keep information for longer.",
    "encoding": "How a character becomes the RNN's input x_t. one-hot: a vector of length |V|, so inputSize = |V|. "
    "embedding: a learned lookup table torch.nn.Embedding(|V|, embeddingSize) reads LongTensor indices, "
    "and the RNN runs batch first (the notebook's third program).",
    "embedding_size": "embeddingSize: the length of each character's learned vector; "
    "the RNN's inputSize becomes embeddingSize.",
    "hidden_size": "hiddenSize: the size of the hidden state h_t. auto = |V| (numClass): head 'none' reads h_t "
    "as the logits, so it needs hiddenSize = numClass.",
    "num_layers": "numLayers: RNN layers stacked on one another; layer 2 reads layer 1's outputs. "
    "The hidden state h_0 has shape numLayers × batchSize × hiddenSize. An RNNCell loop has one layer.",
    "nonlinearity": "The activation of a plain RNN cell: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh), "
    "or relu instead of tanh.",
    "dropout": "Dropout probability on the outputs of every layer but the last (torch's dropout argument). "
    "It acts only between stacked layers and only while training.",
    "head": "What turns h_t into logits over numClass = |V| characters. none: the hidden state itself is the logits "
    "(the notebook's first two programs; needs hiddenSize = |V|). linear: torch.nn.Linear(hiddenSize, numClass), "
    "as in the third program.",
    "parameters": "Trainable weights and biases of this model for the current vocabulary: W_ih, W_hh, b_ih and b_hh "
    "of every layer (4 times as many for LSTM's gates, 3 times for GRU's), plus the embedding table "
    "(|V| × embeddingSize) and the linear head (hiddenSize × numClass + numClass).",
    "optimizer": "The torch.optim algorithm that updates the weights after loss.backward(); the notebook uses Adam.",
    "lr": "Learning rate (lr): how big a step optimizer.step() takes. The notebook uses 0.1 for the RNNCell "
    "program and 0.05 for the others.",
    "momentum": "Momentum for SGD and RMSprop: carries part of the previous update into the next one. 0 = none.",
    "epochs": "Epochs: each one is optimizer.zero_grad(), a forward pass over the pairs, loss.backward() and "
    "optimizer.step() (the notebook trains 15 or 25).",
    "seed": "torch.manual_seed before the model is built: the same seed gives the same starting weights, "
    "so the same run.",
    "loss_reduction": "How the CrossEntropyLoss of the seqLen time steps is combined. mean: one criterion call "
    "over all steps (programs 2 and 3). sum: loss += criterion(hidden, label) at every step, as the RNNCell "
    "program does, so the loss is seqLen times larger.",
    "clip_grad_norm": "Gradient clipping: torch.nn.utils.clip_grad_norm_ rescales the gradients when their total "
    "norm exceeds this value, against exploding gradients. off = no clipping.",
    "device": "Where training runs. auto: CUDA when a GPU is available, otherwise the CPU.",
    "threads": "torch.set_num_threads for the training thread. auto: 1 on machines with 2 cores or fewer, "
    "otherwise up to 4; small RNNs are usually fastest on 1.",
}


def shortest_text(value: float) -> str:
    """The shortest text that reads back as exactly ``value``: 0.05, 0.0012345678, 1.5e-6, 1000000."""
    if value == 0:
        return "0"
    mantissa, _, exponent = repr(float(value)).partition("e")
    mantissa = mantissa.removesuffix(".0")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


# A number as typed, maybe in scientific notation; the partial form is what can still become one.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_PARTIAL_NUMBER = re.compile(r"[+-]?\d*\.?\d*([eE][+-]?\d*)?")


class ExactDoubleSpinBox(QDoubleSpinBox):
    """A QDoubleSpinBox that holds any float exactly and shows it in its shortest form.

    A stock box rounds to its decimals (a project's lr 1.5e-6 became 2e-6, clip 1e-7 became 0, "off").
    Here the decimals are Qt's maximum, so setValue keeps every double from 1e-306 up; the text is
    the shortest one that reads back as the same double; typing accepts scientific notation (1e-3);
    and a step lands on the decimal the user expects (0.05 + 0.001 = 0.051, not 0.051000000000000004).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Decimals first: setRange/setValue round to the current decimals. Qt caps them at 323.
        self.setDecimals(MAX_DECIMALS)

    def textFromValue(self, value: float) -> str:
        return shortest_text(value).replace(".", self.locale().decimalPoint())

    def valueFromText(self, text: str) -> float:
        special = self.specialValueText()
        if special and text == special:
            return self.minimum()
        number = self._number(text)
        return self.value() if number is None else number

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        special = self.specialValueText()
        if special and text == special:
            return QValidator.State.Acceptable, text, pos
        plain = self._plain(text)
        if special and plain and special.startswith(plain):
            return QValidator.State.Intermediate, text, pos
        if not _PARTIAL_NUMBER.fullmatch(plain) or (plain.startswith("-") and self.minimum() >= 0):
            return QValidator.State.Invalid, text, pos
        number = self._number(text)
        if number is None:
            return QValidator.State.Intermediate, text, pos
        if self.minimum() <= number <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        # Like the stock box: more digits cannot bring a plain number back below the maximum
        # (an exponent still could, so "2e" stays open).
        if number > self.maximum() and "e" not in plain.lower():
            return QValidator.State.Invalid, text, pos
        return QValidator.State.Intermediate, text, pos

    def fixup(self, text: str) -> str:
        """A whole number outside the range, on Return or leaving the box: the nearer end of the range
        (as a stock box does), not the last value in range, which was the first digit typed on the way
        (5e-9 in the learning rate gave 5)."""
        plain = self._plain(text)
        if _NUMBER.fullmatch(plain):
            number = float(plain)  # 1e999 is inf: the top of the range
            return self.textFromValue(min(max(number, self.minimum()), self.maximum()))
        return text

    def stepBy(self, steps: int) -> None:
        value = self.value()
        step = self.singleStep()
        if self.stepType() == QAbstractSpinBox.StepType.AdaptiveDecimalStepType and value != 0:
            # One power of ten below the value, as Qt does; going down from a power of ten, below that.
            magnitude = abs(value) if (value < 0) == (steps < 0) else abs(value) / 1.01
            step = 10.0 ** (math.floor(math.log10(magnitude)) - 1)
        # Binary sums are a hair off the decimal (0.05 + 0.001); 15 digits drop only that hair.
        target = float(f"{value + steps * step:.15g}")
        self.setValue(min(max(target, self.minimum()), self.maximum()))
        if self.style().styleHint(QStyle.StyleHint.SH_SpinBox_SelectOnStep, None, self):
            self.selectAll()

    def _plain(self, text: str) -> str:
        """The text with a "." for the locale's decimal point; where that is not ".", a typed "." is refused
        (in 1.000 it groups thousands, and reading it as 1 would change the value without a word)."""
        point = self.locale().decimalPoint()
        text = text.strip()
        return text if point == "." else text.replace(".", "?").replace(point, ".")

    def _number(self, text: str) -> float | None:
        plain = self._plain(text)
        if not _NUMBER.fullmatch(plain):
            return None
        number = float(plain)
        return number if math.isfinite(number) else None


def _combo(items: Sequence[tuple[str, str]], name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    for text, data in items:
        combo.addItem(text, data)
    # Never let the longest item text widen the narrow panel.
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    return combo


def _draw_placeholder_as_text(combo: QComboBox) -> None:
    """Draw the combo box's placeholder in its text colour (Qt draws it grey, like a disabled box's text)."""
    shown = combo.palette()
    palette = QPalette()  # only the placeholder's colour set: every other role resolves as before
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive, QPalette.ColorGroup.Disabled):
        palette.setColor(group, QPalette.ColorRole.PlaceholderText, shown.color(group, QPalette.ColorRole.ButtonText))
    combo.setPalette(palette)


def _spin(name: str, low: int, high: int, special: str = "") -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(low, high)
    spin.setSpecialValueText(special)
    spin.setKeyboardTracking(True)
    spin.setAccelerated(True)
    return spin


def _double(name: str, low: float, high: float, step: float, special: str = "") -> ExactDoubleSpinBox:
    spin = ExactDoubleSpinBox()
    spin.setObjectName(name)
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setSpecialValueText(special)
    spin.setKeyboardTracking(True)
    return spin


def _set_combo_data(combo: QComboBox, value: str, field: str) -> None:
    index = combo.findData(value)
    if index < 0:
        allowed = ", ".join(str(combo.itemData(i)) for i in range(combo.count()))
        raise ValueError(f"{field} is {value!r}; the panel offers {allowed}")
    combo.setCurrentIndex(index)


def _about(n: int) -> str:
    """A rounded reading of a large count: "  (≈ 16.8 million)", "  (≈ 1.0 billion)"; "" below a million."""
    for size, name in ((1e9, "billion"), (1e6, "million")):
        if n >= size:
            return f"  (≈ {n / size:.1f} {name})"
    return ""


class ConfigPanel(QWidget):
    """Edits a ModelConfig and a TrainConfig, shows which options apply and where the problems are."""

    config_changed = Signal(object, object)  # ModelConfig, TrainConfig, after every user change
    preset_chosen = Signal(str)  # a preset id, each time the user picks one (also the same one again)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("configPanel")
        self.setStyleSheet(_STYLE)
        self._vocab_size: int | None = None
        self._updating = False
        self._read_only = False
        self._problems: tuple[Problem, ...] = ()

        self.preset_combo = _combo((), "presetCombo")
        self.preset_combo.setPlaceholderText("Custom")
        _draw_placeholder_as_text(self.preset_combo)  # "Custom" is a state, not a greyed-out box
        self.preset_combo.setMinimumContentsLength(12)

        self.cell_combo = _combo(
            (("RNNCell loop", "rnncell"), ("RNN", "rnn"), ("LSTM", "lstm"), ("GRU", "gru")), "cellCombo"
        )
        self.encoding_combo = _combo((("one-hot", "onehot"), ("embedding", "embedding")), "encodingCombo")
        self.embedding_spin = _spin("embeddingSpin", 1, MAX_EMBEDDING)
        self.hidden_spin = _spin("hiddenSpin", 0, MAX_HIDDEN, "auto (= |V|)")
        self.layers_spin = _spin("layersSpin", 1, MAX_LAYERS)
        self.nonlinearity_combo = _combo((("tanh", "tanh"), ("relu", "relu")), "nonlinearityCombo")
        # Ranges are the core's limits and the boxes hold any float the core accepts exactly: a loaded
        # project must never be clamped or rounded into something else without a word.
        self.dropout_spin = _double("dropoutSpin", 0.0, MAX_DROPOUT, 0.05)
        self.head_combo = _combo((("none (hidden = logits)", "none"), ("linear", "linear")), "headCombo")
        self.params_label = QLabel()
        self.params_label.setObjectName("paramsLabel")
        self.params_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.size_warning_label = QLabel()  # a warning, not a problem: a large model may still train
        self.size_warning_label.setObjectName("sizeWarningLabel")
        self.size_warning_label.setWordWrap(True)
        self.size_warning_label.setVisible(False)

        self.optimizer_combo = _combo(
            (("Adam", "adam"), ("SGD", "sgd"), ("RMSprop", "rmsprop"), ("Adagrad", "adagrad")), "optimizerCombo"
        )
        self.lr_spin = _double("lrSpin", MIN_LR, MAX_LR, 0.01)
        self.lr_spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.momentum_spin = _double("momentumSpin", 0.0, MAX_MOMENTUM, 0.05)
        self.epochs_spin = _spin("epochsSpin", 1, MAX_EPOCHS)
        self.epochs_spin.setGroupSeparatorShown(True)
        self.epochs_spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.seed_spin = _spin("seedSpin", 0, MAX_SEED)
        self.loss_combo = _combo((("mean", "mean"), ("sum (RNNCell program)", "sum")), "lossCombo")
        self.clip_spin = _double("clipSpin", 0.0, MAX_CLIP, 0.5, "off")
        self.device_combo = _combo((("auto", "auto"), ("cpu", "cpu"), ("cuda", "cuda")), "deviceCombo")
        auto_threads = TrainConfig(threads=0).resolved_threads()
        self.threads_spin = _spin("threadsSpin", 0, MAX_THREADS, f"auto (= {auto_threads})")

        # Config field name -> the control that edits it; problems and tooltips are keyed by these names.
        self._model_fields: dict[str, QWidget] = {
            "cell": self.cell_combo,
            "encoding": self.encoding_combo,
            "embedding_size": self.embedding_spin,
            "hidden_size": self.hidden_spin,
            "num_layers": self.layers_spin,
            "nonlinearity": self.nonlinearity_combo,
            "dropout": self.dropout_spin,
            "head": self.head_combo,
        }
        self._train_fields: dict[str, QWidget] = {
            "optimizer": self.optimizer_combo,
            "lr": self.lr_spin,
            "momentum": self.momentum_spin,
            "epochs": self.epochs_spin,
            "seed": self.seed_spin,
            "loss_reduction": self.loss_combo,
            "clip_grad_norm": self.clip_spin,
            "device": self.device_combo,
            "threads": self.threads_spin,
        }
        self._fields = {**self._model_fields, **self._train_fields}
        self._labels: dict[QWidget, QLabel] = {}
        self._why: dict[QWidget, str] = {}

        self._build_layout()
        for name in self._fields:
            self._set_tip(name)
        self.preset_combo.setToolTip(_TIPS["preset"])
        self.params_label.setToolTip(_TIPS["parameters"])

        self.preset_combo.activated.connect(self._on_preset_combo_activated)
        for widget in self._fields.values():
            if isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(self._on_control_changed)
            else:
                widget.valueChanged.connect(self._on_control_changed)
                widget.installEventFilter(self)  # Ctrl+Z: see eventFilter

        self.set_config(ModelConfig(), TrainConfig())

    # --- public API -----------------------------------------------------------------------------

    def set_presets(self, presets: Sequence[tuple[str, str, str]]) -> None:
        """Offer these presets as (id, name, description); keeps the current one selected if still offered."""
        current = self.preset_combo.currentData()
        self.preset_combo.clear()
        for preset_id, name, description in presets:
            self.preset_combo.addItem(name, preset_id)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        self.set_current_preset(current)

    def set_current_preset(self, preset_id: str | None) -> None:
        """Show this preset as selected (None or an unknown id: "Custom"); emits nothing."""
        index = -1 if preset_id is None else self.preset_combo.findData(preset_id)
        self.preset_combo.setCurrentIndex(index)

    def current_preset(self) -> str | None:
        """The id of the preset shown as selected, None for "Custom"."""
        return self.preset_combo.currentData()

    def set_config(self, model: ModelConfig, train: TrainConfig) -> None:
        """Show these configurations in the controls without emitting config_changed."""
        self._updating = True
        try:
            _set_combo_data(self.cell_combo, model.cell, "cell")
            _set_combo_data(self.encoding_combo, model.encoding, "encoding")
            self.embedding_spin.setValue(model.embedding_size)
            self.hidden_spin.setValue(0 if model.hidden_size is None else model.hidden_size)
            self.layers_spin.setValue(model.num_layers)
            _set_combo_data(self.nonlinearity_combo, model.nonlinearity, "nonlinearity")
            self.dropout_spin.setValue(model.dropout)
            _set_combo_data(self.head_combo, model.head, "head")
            _set_combo_data(self.optimizer_combo, train.optimizer, "optimizer")
            self.lr_spin.setValue(train.lr)
            self.momentum_spin.setValue(train.momentum)
            self.epochs_spin.setValue(train.epochs)
            self.seed_spin.setValue(train.seed)
            _set_combo_data(self.loss_combo, train.loss_reduction, "loss_reduction")
            self.clip_spin.setValue(train.clip_grad_norm)
            _set_combo_data(self.device_combo, train.device, "device")
            self.threads_spin.setValue(train.threads)
        finally:
            self._updating = False
        self._refresh()

    def model_config(self) -> ModelConfig:
        """The model configuration the controls show."""
        hidden = self.hidden_spin.value()
        return ModelConfig(
            cell=self.cell_combo.currentData(),
            encoding=self.encoding_combo.currentData(),
            embedding_size=self.embedding_spin.value(),
            hidden_size=None if hidden == 0 else hidden,
            num_layers=self.layers_spin.value(),
            nonlinearity=self.nonlinearity_combo.currentData(),
            dropout=self.dropout_spin.value(),
            head=self.head_combo.currentData(),
        )

    def train_config(self) -> TrainConfig:
        """The training configuration the controls show."""
        return TrainConfig(
            optimizer=self.optimizer_combo.currentData(),
            lr=self.lr_spin.value(),
            momentum=self.momentum_spin.value(),
            epochs=self.epochs_spin.value(),
            seed=self.seed_spin.value(),
            loss_reduction=self.loss_combo.currentData(),
            clip_grad_norm=self.clip_spin.value(),
            device=self.device_combo.currentData(),
            threads=self.threads_spin.value(),
        )

    def set_vocab_size(self, n: int | None) -> None:
        """Tell the panel |V|: "auto" hidden size shows its value and the parameter count follows."""
        self._vocab_size = n if n is not None and n > 0 else None
        auto = "|V|" if self._vocab_size is None else str(self._vocab_size)
        self.hidden_spin.setSpecialValueText(f"auto (= {auto})")
        self._refresh_parameters()

    def set_cuda_available(self, available: bool) -> None:
        """Say in the device list whether "cuda" works here; it stays selectable (a project may ask for it)."""
        index = self.device_combo.findData("cuda")
        tip = "CUDA works on this machine" if available else "Not available here: torch sees no CUDA device"
        self.device_combo.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)

    def set_problems(self, problems: Sequence[Problem]) -> None:
        """Outline the controls of configuration problems and list them; other problems are not this panel's."""
        self._problems = tuple(p for p in problems if self._field_of(p) is not None)
        flagged = {self._field_of(p) for p in self._problems}
        for name, widget in self._fields.items():
            self._mark(widget, name in flagged)
            self._mark(self._labels[widget], name in flagged)
            self._set_tip(name)
        self.problems_label.setText("\n".join(f"• {p}" for p in self._problems))
        self.problems_label.setVisible(bool(self._problems))

    def set_read_only(self, ro: bool) -> None:
        """Disable every control (while training runs) or enable those that apply again."""
        self._read_only = ro
        for box in (self.preset_combo, self.model_box, self.train_box):
            box.setEnabled(not ro)
        self.read_only_label.setVisible(ro)

    def is_read_only(self) -> bool:
        """Whether set_read_only(True) is in force."""
        return self._read_only

    def problems(self) -> tuple[Problem, ...]:
        """The configuration problems currently shown."""
        return self._problems

    # --- building -------------------------------------------------------------------------------

    def _form(self, box: QGroupBox) -> QFormLayout:
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # Below ~300 px a field moves under its label instead of clipping it.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(5)
        return form

    def _row(self, form: QFormLayout, text: str, name: str) -> None:
        widget = self._fields[name]
        label = QLabel(text)
        label.setBuddy(widget)
        label.setObjectName(f"{widget.objectName()}Label")
        form.addRow(label, widget)
        self._labels[widget] = label

    def _build_layout(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(8)

        top = QFormLayout()
        top.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        preset_label = QLabel("Prese&t")  # Alt+P is the Presets menu
        preset_label.setBuddy(self.preset_combo)
        top.addRow(preset_label, self.preset_combo)
        layout.addLayout(top)

        self.read_only_label = QLabel("read-only while training")
        self.read_only_label.setObjectName("readOnlyLabel")
        self.read_only_label.setToolTip("Stop or finish the run to change the model or the training settings.")
        self.read_only_label.setVisible(False)
        layout.addWidget(self.read_only_label)

        self.model_box = QGroupBox("Model")
        self.model_box.setObjectName("modelGroup")
        form = self._form(self.model_box)
        self._row(form, "cell", "cell")
        self._row(form, "input encoding", "encoding")
        self._row(form, "embedding size", "embedding_size")
        self._row(form, "hidden size", "hidden_size")
        self._row(form, "layers", "num_layers")
        self._row(form, "nonlinearity", "nonlinearity")
        self._row(form, "dropout", "dropout")
        self._row(form, "head", "head")
        form.addRow(self.params_label)
        form.addRow(self.size_warning_label)
        layout.addWidget(self.model_box)

        self.train_box = QGroupBox("Training")
        self.train_box.setObjectName("trainGroup")
        form = self._form(self.train_box)
        self._row(form, "optimizer", "optimizer")
        self._row(form, "learning rate", "lr")
        self._row(form, "momentum", "momentum")
        self._row(form, "epochs", "epochs")
        self._row(form, "seed", "seed")
        self._row(form, "loss over time steps", "loss_reduction")
        self._row(form, "gradient clipping", "clip_grad_norm")
        self._row(form, "device", "device")
        self._row(form, "torch threads", "threads")
        layout.addWidget(self.train_box)

        self.problems_label = QLabel()
        self.problems_label.setObjectName("problemsLabel")
        self.problems_label.setTextFormat(Qt.TextFormat.PlainText)
        self.problems_label.setWordWrap(True)
        self.problems_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems_label.setVisible(False)
        layout.addWidget(self.problems_label)
        layout.addStretch(1)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Ctrl+Z and Ctrl+Shift+Z in a spin box go to the window's undo, where each change of an
        option is a step (the box's text undo claimed the key even with nothing of its own to undo,
        so Ctrl+Z there did nothing, whatever was changed last). Typing that is not a value yet (an
        emptied box) is the box's own to undo first."""
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            redo = event.matches(QKeySequence.StandardKey.Redo)
            if redo or event.matches(QKeySequence.StandardKey.Undo):
                edit = watched.lineEdit() if isinstance(watched, QAbstractSpinBox) else None
                unfinished = edit is not None and not watched.hasAcceptableInput()
                if unfinished and (edit.isRedoAvailable() if redo else edit.isUndoAvailable()):
                    return super().eventFilter(watched, event)  # the box undoes its typing
                event.ignore()  # not claimed: the window's Undo/Redo shortcut runs
                return True
        return super().eventFilter(watched, event)

    def is_typed(self, name: str) -> bool:
        """Whether option ``name`` is a box one types into (its changes in a row may form one undo step)."""
        return isinstance(self._fields.get(name), QAbstractSpinBox)

    # --- state ----------------------------------------------------------------------------------

    def _on_control_changed(self, *_: object) -> None:
        if self._updating:
            return
        self._refresh()
        self.config_changed.emit(self.model_config(), self.train_config())

    def _on_preset_combo_activated(self, index: int) -> None:
        preset_id = self.preset_combo.itemData(index)
        if preset_id is not None:
            self.preset_chosen.emit(str(preset_id))

    def _refresh(self) -> None:
        """Enable what applies to the chosen cell, encoding, layers and optimiser; say why the rest does not."""
        model, train = self.model_config(), self.train_config()
        why: dict[str, str] = {}
        if model.encoding != "embedding":
            why["embedding_size"] = WHY_EMBEDDING
        if not model.uses_nonlinearity():
            why["nonlinearity"] = WHY_NONLINEARITY
        if model.cell == "rnncell":
            why["dropout"] = WHY_DROPOUT_RNNCELL
        elif not model.uses_dropout():
            why["dropout"] = WHY_DROPOUT_LAYERS
        if not train.uses_momentum():
            why["momentum"] = WHY_MOMENTUM
        for name in ("embedding_size", "nonlinearity", "dropout", "momentum"):
            widget = self._fields[name]
            reason = why.get(name)
            if reason is None:
                self._why.pop(widget, None)
            else:
                self._why[widget] = reason
            widget.setEnabled(reason is None)
            self._labels[widget].setEnabled(reason is None)
            self._set_tip(name)
        self._refresh_parameters()

    def _refresh_size_warning(self) -> None:
        warning = None if self._vocab_size is None else large_model_warning(self.model_config(), self._vocab_size)
        self.size_warning_label.setText(f"⚠ {warning}" if warning else "")
        self.size_warning_label.setVisible(warning is not None)

    def _refresh_parameters(self) -> None:
        self._refresh_size_warning()
        if self._vocab_size is None:
            self.params_label.setText("parameters: – (needs the vocabulary)")
            return
        n = count_parameters(self.model_config(), self._vocab_size)
        # Every digit (grouped, to read at a glance), and a rounded hint for the big ones.
        self.params_label.setText(f"parameters: {n:,}{_about(n)}")

    def _field_of(self, problem: Problem) -> str | None:
        """The config field a problem names ("hidden_size", or "model.hidden_size" from a file), if any."""
        name = problem.field
        for prefix in ("model.", "train."):
            if name.startswith(prefix):
                name = name[len(prefix) :]
        return name if name in self._fields else None

    def _set_tip(self, name: str) -> None:
        """The control's tooltip (and its label's): problems first, then why it is off, then what it means."""
        widget = self._fields[name]
        tip = self._compose_tip(name)
        widget.setToolTip(tip)
        self._labels[widget].setToolTip(tip)

    def _compose_tip(self, name: str) -> str:
        widget = self._fields[name]
        parts = [
            f"<p style='color:{_ERROR}'><b>⚠ {html.escape(p.message, quote=False)}</b></p>"
            for p in self._problems
            if self._field_of(p) == name
        ]
        if widget in self._why:
            parts.append(f"<p><i>Not used: {html.escape(self._why[widget], quote=False)}.</i></p>")
        parts.append(f"<p>{html.escape(_TIPS[name], quote=False)}</p>")
        return "".join(parts)

    @staticmethod
    def _mark(widget: QWidget, on: bool) -> None:
        widget.setProperty("problem", on)
        # A dynamic property only restyles after an unpolish/polish cycle.
        widget.style().unpolish(widget)
        widget.style().polish(widget)
        widget.update()
