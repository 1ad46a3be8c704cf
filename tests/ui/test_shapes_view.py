"""ShapesView: the data-path table equals real tensors' shapes; the lesson shows what torch returns."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QPlainTextEdit, QPushButton, QSpinBox, QTableWidget

from rnnstudio.core.config import ModelConfig, TrainConfig
from rnnstudio.core.model import walkthrough
from rnnstudio.core.presets import get_preset
from rnnstudio.core.sequences import Task
from rnnstudio.core.trainer import Trainer, batch_loss
from rnnstudio.ui.shapes_view import VALUES_ROLE, ShapesView

PAIRS = [("hello", "ohlol"), ("hi", "ih"), ("lol", "olo")]  # batchSize 3, seqLen 5 (padded)

VARIANTS = {
    "rnncell-onehot": get_preset("rnncell-onehot").project.model,
    "rnn-onehot": get_preset("rnn-onehot").project.model,
    "rnn-embedding": get_preset("rnn-embedding").project.model,
    "lstm-embedding-2": ModelConfig(
        cell="lstm", encoding="embedding", embedding_size=6, hidden_size=7, num_layers=2, head="linear"
    ),
    "gru-onehot-linear": ModelConfig(cell="gru", encoding="onehot", hidden_size=9, num_layers=3, head="linear"),
    "rnncell-embedding": ModelConfig(
        cell="rnncell", encoding="embedding", embedding_size=3, hidden_size=5, head="linear"
    ),
    "rnn-onehot-linear-relu": ModelConfig(
        cell="rnn", encoding="onehot", hidden_size=6, nonlinearity="relu", head="linear"
    ),
}


def observed_shapes(cfg: ModelConfig, task: Task) -> dict[str, tuple[int, ...]]:
    """Shapes of the tensors a real model makes on the task's batch, captured with forward hooks."""
    trainer = Trainer(task, cfg, TrainConfig(seed=0, epochs=1))
    model, batch = trainer.model, trainer.batch
    seen: dict[str, list] = {"emb": [], "rnn": [], "fc": []}
    hooks = []
    if not model.onehot:
        hooks.append(model.emb.register_forward_hook(lambda m, i, o: seen["emb"].append(o)))
    hooks.append(model.rnn.register_forward_hook(lambda m, i, o: seen["rnn"].append((i, o))))
    if model.fc is not None:
        hooks.append(model.fc.register_forward_hook(lambda m, i, o: seen["fc"].append(o)))
    with torch.no_grad():
        logits = model(batch.x, model.initial_state(batch.batch_size))
        loss = batch_loss(logits, batch.labels, trainer.train_cfg.loss_reduction, batch.batch_size)
    for h in hooks:
        h.remove()

    out: dict[str, tuple[int, ...]] = {}
    kind = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}.get(cfg.cell)
    if model.onehot:
        out["inputs (one-hot)"] = tuple(batch.x.shape)
    else:
        out["inputs (indices)"] = tuple(batch.x.shape)
        out["embedding output"] = tuple(seen["emb"][0].shape)
    if cfg.cell == "rnncell":
        (x_t, _h_prev), h_t = seen["rnn"][0]
        out["RNNCell input (one step)"] = tuple(x_t.shape)
        out["hidden (one step)"] = tuple(h_t.shape)
        out["hidden, all steps"] = (len(seen["rnn"]), *h_t.shape)
        head_in = torch.stack([o for _, o in seen["rnn"]])
    else:
        (x, _h0), (output, state) = seen["rnn"][0]
        layers = model.num_layers
        out[f"{kind} layer 1 input"] = tuple(x.shape)
        out[f"{kind} layer {layers} output"] = tuple(output.shape)
        h_n = state[0] if cfg.cell == "lstm" else state
        out["hidden h₀ / hₙ"] = tuple(h_n.shape)
        if cfg.cell == "lstm":
            out["cell state c₀ / cₙ"] = tuple(state[1].shape)
        head_in = output
    if model.fc is not None:
        out["linear output"] = tuple(seen["fc"][0].shape)
    else:
        out["logits = hidden state"] = tuple(head_in.shape)
    out["logits (flattened)"] = tuple(logits.shape)
    out["labels"] = tuple(batch.labels.shape)
    out["loss"] = tuple(loss.shape)
    return out


@pytest.fixture
def view(qtbot) -> ShapesView:
    w = ShapesView()
    qtbot.addWidget(w)
    w.resize(1000, 360)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_built_alone_with_the_notebooks_defaults(qtbot):
    w = ShapesView()
    qtbot.addWidget(w)
    assert w.objectName() == "shapesView"
    assert isinstance(w.findChild(QTableWidget, "shapesTable"), QTableWidget)
    spins = {
        name: w.findChild(QSpinBox, name)
        for name in (
            "lessonBatchSpin",
            "lessonSeqSpin",
            "lessonInputSpin",
            "lessonHiddenSpin",
            "lessonLayersSpin",
            "lessonSeedSpin",
        )
    }
    assert [spins[n].value() for n in list(spins)[:5]] == [1, 3, 4, 2, 1]
    for name in list(spins)[:5]:
        assert (spins[name].minimum(), spins[name].maximum()) == (1, 16)
    assert isinstance(w.findChild(QPushButton, "lessonRunButton"), QPushButton)
    assert w.walkthrough_params() == {
        "batch_size": 1,
        "seq_len": 3,
        "input_size": 4,
        "hidden_size": 2,
        "num_layers": 1,
        "seed": 0,
    }
    assert w.displayed_shapes() == [] and w.displayed_step_sizes() == []
    assert not w.grab().isNull()


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_data_path_equals_the_real_tensors(view, name):
    cfg = VARIANTS[name]
    task = Task.of(PAIRS)
    vocab = len(task.vocabulary())
    view.set_configuration(cfg, vocab, len(PAIRS), max(len(i) for i, _ in PAIRS))
    shown = dict(view.displayed_shapes())
    assert len(shown) == len(view.displayed_shapes()), "tensor names must be unique"
    observed = observed_shapes(cfg, task)
    for tensor, shape in observed.items():
        assert tensor in shown, f"{tensor!r} missing from the table: {list(shown)}"
        assert shown[tensor] == shape, f"{tensor}: table says {shown[tensor]}, torch made {shape}"
    # The table's text columns agree with the numeric shapes.
    table = view.table
    for row in range(table.rowCount()):
        shape = view.displayed_shapes()[row][1]
        assert table.item(row, 1).text() == (" × ".join(map(str, shape)) or "()")
    caption = view.caption.text()
    assert "batchSize = number of pairs (3)" in caption
    assert "seqLen = longest input (5)" in caption
    assert f"|V| = numClass = {vocab}" in caption


def test_table_follows_configuration_changes(view):
    view.set_configuration(VARIANTS["rnncell-onehot"], 4, 1, 5)
    names = [n for n, _ in view.displayed_shapes()]
    assert "RNNCell input (one step)" in names and "embedding output" not in names
    assert dict(view.displayed_shapes())["inputs (one-hot)"] == (5, 1, 4)
    assert view.table.item(0, 2).text() == "seqLen × batchSize × inputSize"
    view.set_configuration(VARIANTS["rnn-embedding"], 4, 2, 7)
    shapes = dict(view.displayed_shapes())
    assert shapes["inputs (indices)"] == (2, 7) and shapes["embedding output"] == (2, 7, 10)
    assert "RNN layer 2 output" in shapes
    view.set_configuration(VARIANTS["rnn-embedding"], 0, 0, 0)
    assert view.displayed_shapes() == [] and "Add a pair" in view.caption.text()


def torch_sizes(batch_size, seq_len, input_size, hidden_size, num_layers):
    """What the notebook's two cells report, computed with torch directly."""
    cell = torch.nn.RNNCell(input_size=input_size, hidden_size=hidden_size)
    dataset = torch.randn(seq_len, batch_size, input_size)
    hidden = torch.zeros(batch_size, hidden_size)
    steps = []
    with torch.no_grad():
        for inp in dataset:
            hidden = cell(inp, hidden)
            steps.append((tuple(inp.shape), tuple(hidden.shape)))
        rnn = torch.nn.RNN(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
        out, h_n = rnn(torch.randn(seq_len, batch_size, input_size), torch.zeros(num_layers, batch_size, hidden_size))
    return steps, (tuple(out.shape), tuple(h_n.shape))


@pytest.mark.parametrize("sizes", [(1, 3, 4, 2, 1), (3, 6, 5, 4, 2), (16, 1, 1, 16, 3)])
def test_lesson_sizes_equal_what_torch_returns(view, sizes):
    params = dict(zip(("batch_size", "seq_len", "input_size", "hidden_size", "num_layers"), sizes, strict=True), seed=4)
    view.set_walkthrough_params(params)
    assert view.walkthrough_params() == params
    w = walkthrough(**view.walkthrough_params())
    view.set_walkthrough(w)
    steps, rnn = torch_sizes(*sizes)
    assert view.displayed_step_sizes() == steps
    assert view.displayed_rnn_sizes() == rnn
    if sizes == (1, 3, 4, 2, 1):  # the notebook's printout
        assert steps == [((1, 4), (1, 2))] * 3 and rnn == ((3, 1, 2), (1, 1, 2))
    table = view.steps_table
    assert table.item(0, 1).text() == f"torch.Size([{sizes[0]}, {sizes[2]}])"
    for row, step in enumerate(w.cell_steps):
        np.testing.assert_array_equal(table.item(row, 3).data(VALUES_ROLE), step.hidden)
    transcript = view.findChild(QPlainTextEdit, "lessonTranscript")
    assert transcript.isReadOnly() and transcript.toPlainText() == w.transcript()
    assert QFontInfo(transcript.font()).fixedPitch()  # monospace, so the printout's columns line up


def test_run_button_and_debounced_changes_request_a_walkthrough(view, qtbot):
    emitted = []
    view.walkthrough_requested.connect(emitted.append)
    with qtbot.waitSignal(view.walkthrough_requested, timeout=1000) as blocker:
        qtbot.mouseClick(view.run_button, Qt.LeftButton)
    assert blocker.args == [view.walkthrough_params()]
    assert view.message() == "running…"
    emitted.clear()
    # A learner types a size and steps another: one request, once they pause, with the final values.
    spin = view.seq_spin
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "12")
    qtbot.keyClick(view.hidden_spin, Qt.Key_Up)
    qtbot.waitUntil(lambda: len(emitted) == 1, timeout=2000)
    assert not view._debounce.isActive()  # nothing further is pending
    assert emitted[0]["seq_len"] == 12 and emitted[0]["hidden_size"] == 3
    assert emitted[0] == view.walkthrough_params()
    assert set(emitted[0]) == {"batch_size", "seq_len", "input_size", "hidden_size", "num_layers", "seed"}
    # The owner answers: the result replaces the status.
    view.set_walkthrough(walkthrough(**emitted[0]))
    assert view.message() == "" and len(view.displayed_step_sizes()) == 12


def test_message_and_clearing(view):
    view.set_walkthrough(walkthrough())
    view.set_message("the lesson failed: out of memory")
    assert view.message() == "the lesson failed: out of memory" and view.status_label.isVisible()
    view.set_walkthrough(None)
    assert view.displayed_step_sizes() == [] and view.displayed_rnn_sizes() is None
    assert view.transcript.toPlainText() == ""


def test_tab_leaves_both_tables(view, qtbot):
    """Tab moves the focus on from the data-path and lesson tables instead of walking their cells."""
    view.set_configuration(VARIANTS["rnn-embedding"], 4, 2, 7)
    view.set_walkthrough(walkthrough())
    view.activateWindow()
    for table in (view.table, view.steps_table):
        assert table.rowCount() > 0
        table.setFocus()
        qtbot.waitUntil(table.hasFocus)
        table.setCurrentCell(0, 0)
        qtbot.keyClick(table, Qt.Key.Key_Tab)
        assert not table.hasFocus(), table.objectName()


@pytest.mark.parametrize(("width", "height"), [(480, 250), (648, 316), (648, 450), (648, 700), (520, 316)])
def test_stacked_the_data_path_shows_every_row_and_the_page_scrolls_to_the_lesson(qtbot, width, height):
    # At 1280 x 800 (a 480 x 250 tab) the data path showed one row of eleven, squeezed by the lesson
    # under it; a lesson three spin boxes wide made the page scroll sideways too.
    from PySide6.QtWidgets import QScrollArea

    from rnnstudio.ui.shapes_view import EMPTY_STEPS_HINT, STEPS_MIN_ROWS

    w = ShapesView()
    area = QScrollArea()  # as the window holds it
    area.setWidget(w)
    area.setWidgetResizable(True)
    qtbot.addWidget(area)
    p = get_preset("rnn-embedding").project
    w.set_configuration(p.model, 4, 1, 5)
    area.resize(width, height)
    area.show()
    qtbot.waitExposed(area)
    table = w.table
    row_h = table.verticalHeader().defaultSectionSize()
    qtbot.waitUntil(lambda: table.viewport().height() == table.rowCount() * row_h)  # every row, whole
    assert table.rowCount() == len(w.displayed_shapes()) >= 10
    qtbot.waitUntil(lambda: w.height() >= w.minimumSizeHint().height())  # the page has grown to hold it
    assert not area.horizontalScrollBar().isVisible()
    assert w.width() <= area.viewport().width()

    # The lesson follows below, its steps table with room for whole rows, the hint inside it.
    steps = w.steps_table
    assert steps.rowCount() == 0 and steps.hint() == EMPTY_STEPS_HINT
    body = steps.viewport()
    top = body.mapTo(w, body.rect().topLeft()).y()
    assert top > table.mapTo(w, table.rect().bottomLeft()).y()
    assert body.height() >= STEPS_MIN_ROWS * steps.verticalHeader().defaultSectionSize()
    assert top + body.height() <= w.height()  # inside the page: scrolling reaches it
    w.set_walkthrough(walkthrough(1, 3, 4, 2, 1, seed=0))
    label = w.rnn_label
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()) > 0)
    # Its last line is not cut: the page grows (scrolls) to hold it.
    qtbot.waitUntil(lambda: label.mapTo(w, label.rect().bottomLeft()).y() < w.height())
