"""The trainer beyond the notebook's single pair: batches, continuing, divergence, clipping and inspection.

Reference numbers come from plain PyTorch modules built here with the same seed and in
the same order as the app builds its model, then run pair by pair (no padding at all).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rnnstudio.core.config import ModelConfig, TrainConfig
from rnnstudio.core.control import RunControl
from rnnstudio.core.model import build_model
from rnnstudio.core.presets import get_preset
from rnnstudio.core.problems import ValidationError
from rnnstudio.core.results import DIVERGED, FINISHED, STOPPED, EpochResult, epochs_per_second
from rnnstudio.core.sequences import Task
from rnnstudio.core.trainer import Trainer, infer, model_from_snapshot, parameter_count
from rnnstudio.core.vocab import Vocabulary

PAIRS = [("hello", "ohlol"), ("xy", "yx"), ("mnpqrst", "tsrqpnm")]  # three lengths, no conflicting steps


def preset(preset_id: str):
    return get_preset(preset_id).project


# --- an independent reference ----------------------------------------------------------------


class Reference:
    """Plain torch modules holding given weights; runs one pair at a time, or unrolls a padded batch."""

    def __init__(self, cfg: ModelConfig, vocab_size: int, state: dict[str, torch.Tensor]) -> None:
        self.cfg = cfg
        self.v = vocab_size
        self.h = cfg.effective_hidden(vocab_size)
        self.layers = 1 if cfg.cell == "rnncell" else cfg.num_layers
        self.emb = None
        if cfg.encoding == "embedding":
            self.emb = nn.Embedding(vocab_size, cfg.embedding_size)
            self.emb.weight.data.copy_(state["emb.weight"])
        in_size = vocab_size if cfg.encoding == "onehot" else cfg.embedding_size
        self.cells = []
        for layer in range(self.layers):
            size = in_size if layer == 0 else self.h
            if cfg.cell in ("rnn", "rnncell"):
                cell = nn.RNNCell(size, self.h, nonlinearity=cfg.nonlinearity)
            elif cfg.cell == "lstm":
                cell = nn.LSTMCell(size, self.h)
            else:
                cell = nn.GRUCell(size, self.h)
            suffix = "" if cfg.cell == "rnncell" else f"_l{layer}"
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).data.copy_(state[f"rnn.{name}{suffix}"])
            self.cells.append(cell)
        self.fc = None
        if cfg.head == "linear":
            self.fc = nn.Linear(self.h, vocab_size)
            self.fc.weight.data.copy_(state["fc.weight"])
            self.fc.bias.data.copy_(state["fc.bias"])

    @classmethod
    def seeded(cls, cfg: ModelConfig, vocab_size: int, seed: int) -> Reference:
        """The initial weights the app draws for this seed: the notebook's order, emb -> rnn -> fc."""
        torch.manual_seed(seed)
        modules = {}
        in_size = vocab_size if cfg.encoding == "onehot" else cfg.embedding_size
        hidden = cfg.effective_hidden(vocab_size)
        if cfg.encoding == "embedding":
            modules["emb"] = nn.Embedding(vocab_size, cfg.embedding_size)
        if cfg.cell == "rnncell":
            modules["rnn"] = nn.RNNCell(in_size, hidden, nonlinearity=cfg.nonlinearity)
        else:
            kind = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cfg.cell]
            kwargs = {"nonlinearity": cfg.nonlinearity} if cfg.cell == "rnn" else {}
            modules["rnn"] = kind(in_size, hidden, num_layers=cfg.num_layers, **kwargs)
        if cfg.head == "linear":
            modules["fc"] = nn.Linear(hidden, vocab_size)
        state = {f"{m}.{k}": v for m, mod in modules.items() for k, v in mod.state_dict().items()}
        return cls(cfg, vocab_size, state)

    def parameters(self) -> list[torch.Tensor]:
        mods = [self.emb, *self.cells, self.fc]
        return [p for m in mods if m is not None for p in m.parameters()]

    def step_input(self, index: int | None) -> torch.Tensor:
        """What one step reads for one pair; ``None`` is padding (zeros: what it is does not matter)."""
        if index is None:
            return torch.zeros(self.v if self.emb is None else self.cfg.embedding_size)
        if self.emb is None:
            return F.one_hot(torch.tensor(index), self.v).float()
        return self.emb(torch.tensor(index))

    def unroll(self, sequences: list[list[int]]) -> tuple[list[list[torch.Tensor]], list[torch.Tensor]]:
        """Hidden state per step and layer (B x H tensors) and logits per step, for right-padded sequences."""
        b, t = len(sequences), max(len(s) for s in sequences)
        zeros = torch.zeros(b, self.h)
        states = [(zeros, zeros) if self.cfg.cell == "lstm" else zeros for _ in self.cells]
        hiddens, logits = [], []
        for step in range(t):
            x = torch.stack([self.step_input(s[step] if step < len(s) else None) for s in sequences])
            hs = []
            for layer, cell in enumerate(self.cells):
                states[layer] = cell(x, states[layer])
                h = states[layer][0] if self.cfg.cell == "lstm" else states[layer]
                hs.append(h)
                x = h
            hiddens.append(hs)
            logits.append(x if self.fc is None else self.fc(x))
        return hiddens, logits

    def loss_and_predictions(self, inputs: list[list[int]], targets: list[list[int]], reduction: str):
        """The loss over the real steps only, the predicted indices per pair, and the hidden states."""
        hiddens, logits = self.unroll(inputs)
        rows, labels, predictions = [], [], []
        for b, target in enumerate(targets):
            pair_logits = torch.stack([logits[t][b] for t in range(len(target))])
            rows.append(pair_logits)
            labels.append(torch.tensor(target))
            predictions.append(pair_logits.argmax(1).tolist())
        rows_t, labels_t = torch.cat(rows), torch.cat(labels)
        if reduction == "mean":
            loss = F.cross_entropy(rows_t, labels_t)
        else:
            loss = F.cross_entropy(rows_t, labels_t, reduction="sum") / len(targets)
        return loss, predictions, hiddens, rows


def make_trainer(preset_id: str, pairs=PAIRS, **train_changes) -> Trainer:
    project = preset(preset_id)
    return Trainer(Task.of(pairs), project.model, replace(project.train, **train_changes))


# --- several pairs, padding ------------------------------------------------------------------


@pytest.mark.parametrize("preset_id", ["rnncell-onehot", "rnn-onehot", "rnn-embedding"])
def test_padding_is_kept_out_of_loss_accuracy_and_predictions(preset_id: str) -> None:
    pairs = [("hello", "ohlol"), ("hi", "ih"), ("lol", "hel")]  # lengths 5, 2, 3: two padded pairs
    trainer = make_trainer(preset_id, pairs)
    cfg, train = trainer.model_cfg, trainer.train_cfg
    vocab = trainer.vocab
    first = next(trainer.epochs(count=1))

    ref = Reference.seeded(cfg, len(vocab), train.seed)
    inputs = [vocab.encode(p[0]) for p in pairs]
    targets = [vocab.encode(p[1]) for p in pairs]
    # each pair alone: batch of one, no padding anywhere
    losses, correct, predictions = [], 0, []
    for x, y in zip(inputs, targets, strict=True):
        _, logits = ref.unroll([x])
        rows = torch.stack([step[0] for step in logits])
        losses.append(F.cross_entropy(rows, torch.tensor(y), reduction="none"))
        pred = rows.argmax(1).tolist()
        correct += sum(p == t for p, t in zip(pred, y, strict=True))
        predictions.append(vocab.decode(pred))
    per_step = torch.cat(losses)
    expected = per_step.mean() if train.loss_reduction == "mean" else per_step.sum() / len(pairs)
    assert first.loss == pytest.approx(expected.item(), rel=1e-6)
    assert first.accuracy == correct / 10  # 10 real target characters, not 3 x 5 padded ones
    assert first.predictions == tuple(predictions)
    assert [len(p) for p in first.predictions] == [5, 2, 3]


# Each optimiser, each cell, padding in every batch: the trainer's numbers against plain torch
# modules seeded as the app seeds, stepped by torch's own optimiser (its default, per-tensor form).
OPTIMISER_CASES = {
    "rnn-onehot-2layers-sgd-momentum": (ModelConfig(hidden_size=6, num_layers=2, head="linear"), "sgd", 0.9, "mean"),
    "lstm-embedding-2layers-rmsprop-momentum": (
        ModelConfig(cell="lstm", encoding="embedding", hidden_size=6, num_layers=2, head="linear"),
        "rmsprop",
        0.5,
        "sum",
    ),
    "gru-onehot-adagrad": (ModelConfig(cell="gru", hidden_size=6, head="linear"), "adagrad", 0.0, "mean"),
    "rnncell-onehot-rmsprop": (ModelConfig(cell="rnncell", head="none"), "rmsprop", 0.0, "mean"),
    "lstm-onehot-sgd-sum": (ModelConfig(cell="lstm", hidden_size=5, head="linear"), "sgd", 0.0, "sum"),
    "gru-embedding-2layers-adam": (
        ModelConfig(cell="gru", encoding="embedding", hidden_size=6, num_layers=2, head="linear"),
        "adam",
        0.0,
        "mean",
    ),
    "rnn-embedding-relu-adagrad": (
        ModelConfig(encoding="embedding", hidden_size=6, head="linear", nonlinearity="relu"),
        "adagrad",
        0.0,
        "sum",
    ),
}


@pytest.mark.parametrize("case", sorted(OPTIMISER_CASES))
def test_every_optimiser_and_cell_trains_as_plain_torch_does(case: str) -> None:
    model, optimiser, momentum, reduction = OPTIMISER_CASES[case]
    train = TrainConfig(optimizer=optimiser, lr=0.02, momentum=momentum, loss_reduction=reduction, epochs=8, seed=7)
    trainer = Trainer(Task.of(PAIRS), model, train)
    results = list(trainer.epochs())

    vocab = trainer.vocab
    ref = Reference.seeded(model, len(vocab), train.seed)
    kind = {"adam": torch.optim.Adam, "adagrad": torch.optim.Adagrad}.get(optimiser)
    params = ref.parameters()
    opt = (
        kind(params, lr=train.lr)
        if kind
        else getattr(torch.optim, {"sgd": "SGD", "rmsprop": "RMSprop"}[optimiser])(
            params, lr=train.lr, momentum=momentum
        )
    )
    inputs = [vocab.encode(x) for x, _ in PAIRS]
    targets = [vocab.encode(y) for _, y in PAIRS]
    for result in results:
        opt.zero_grad()
        loss, predictions, _, _ = ref.loss_and_predictions(inputs, targets, reduction)
        loss.backward()
        opt.step()
        assert result.loss == pytest.approx(loss.item(), rel=1e-5), f"epoch {result.epoch}"
        assert result.predictions == tuple(vocab.decode(p) for p in predictions), f"epoch {result.epoch}"
    assert results[-1].loss < results[0].loss  # it trained: the comparison is not of eight idle epochs


def test_several_pairs_of_different_lengths_learn_together() -> None:
    task = Task.of(PAIRS)
    model = ModelConfig(cell="rnn", encoding="embedding", hidden_size=16, num_layers=2, head="linear")
    trainer = Trainer(task, model, TrainConfig(lr=0.05, epochs=60, seed=1))
    results = list(trainer.epochs())
    assert trainer.outcome.status == FINISHED
    assert results[-1].predictions == ("ohlol", "yx", "tsrqpnm")
    assert results[-1].accuracy == 1.0  # only reachable if padding does not count as wrong
    assert results[-1].loss < 0.01 * results[0].loss
    assert all(len(r.predictions) == 3 for r in results)


def test_invalid_task_or_configuration_is_refused_with_every_problem() -> None:
    with pytest.raises(ValidationError) as info:
        Trainer(Task.of([("ab", "abc"), ("", "x")]), ModelConfig(), TrainConfig())
    assert len(info.value.problems) == 2
    with pytest.raises(ValidationError) as info:
        Trainer(Task.of([("ab", "ba")]), ModelConfig(hidden_size=5), TrainConfig(lr=-1.0))
    assert sorted(p.field for p in info.value.problems) == ["hidden_size", "lr"]


# --- continuing, stopping --------------------------------------------------------------------


def test_continuing_numbers_epochs_on_and_equals_one_uninterrupted_run() -> None:
    parts = make_trainer("rnn-embedding")
    first = list(parts.epochs(count=4))
    second = list(parts.epochs(count=7))
    assert [r.epoch for r in first + second] == list(range(1, 12))
    assert parts.outcome.status == FINISHED and parts.outcome.epoch == 11
    assert parts.outcome.message == "finished 7 more epochs (11 in all)"  # not "finished 11 epochs"
    whole = make_trainer("rnn-embedding")
    straight = list(whole.epochs(count=11))
    assert whole.outcome.message == "finished 11 epochs"
    assert [r.loss for r in first + second] == [r.loss for r in straight]
    assert [r.predictions for r in first + second] == [r.predictions for r in straight]
    for name, array in whole.snapshot().weights.items():
        np.testing.assert_array_equal(parts.snapshot().weights[name], array)
    assert parts.snapshot().epoch == 11
    list(parts.epochs(count=1))
    assert parts.outcome.message == "finished 1 more epoch (12 in all)"
    one = make_trainer("rnn-embedding")
    list(one.epochs(count=1))
    assert one.outcome.message == "finished 1 epoch"  # not "1 epochs"


def test_epochs_without_a_count_runs_the_configured_number_each_time() -> None:
    trainer = make_trainer("rnn-onehot", [("hello", "ohlol")])
    n = trainer.train_cfg.epochs
    assert [r.epoch for r in trainer.epochs()] == list(range(1, n + 1))
    assert [r.epoch for r in trainer.epochs()] == list(range(n + 1, 2 * n + 1))


def test_stop_via_run_control_then_continue_from_where_it_stopped() -> None:
    trainer = make_trainer("rnn-onehot")
    control = RunControl()
    results = []
    for r in trainer.epochs(control):
        results.append(r)
        if r.epoch == 3:
            control.request_stop()
    assert [r.epoch for r in results] == [1, 2, 3]
    assert trainer.outcome.status == STOPPED
    assert trainer.outcome.epoch == 3
    assert trainer.outcome.message == "stopped after epoch 3"
    more = list(trainer.epochs(count=2))
    assert [r.epoch for r in more] == [4, 5]
    straight = [r.loss for r in make_trainer("rnn-onehot").epochs(count=5)]
    assert [r.loss for r in results + more] == straight


def test_huge_learning_rate_ends_as_diverged_with_advice_not_an_exception() -> None:
    model = ModelConfig(
        cell="rnn", encoding="embedding", hidden_size=64, num_layers=2, nonlinearity="relu", head="linear"
    )
    train = TrainConfig(optimizer="sgd", lr=10.0, epochs=30, seed=0, loss_reduction="sum")
    trainer = Trainer(Task.of([("hello", "ohlol")]), model, train)
    results = list(trainer.epochs())
    outcome = trainer.outcome
    assert outcome.status == DIVERGED
    match = re.fullmatch(r"diverged at epoch (\d+), loss (nan|inf|-inf): try a lower learning rate", outcome.message)
    assert match, outcome.message
    assert int(match.group(1)) == len(results) + 1 < 30  # the epoch whose loss was not finite
    assert outcome.epoch == trainer.epoch == len(results)  # the last good epoch
    assert all(math.isfinite(r.loss) for r in results)  # no NaN reaches a plot


# --- clipping --------------------------------------------------------------------------------


def test_clipping_reports_the_gradient_norm_and_scales_the_step() -> None:
    lr, clip = 0.1, 0.05
    trainer = make_trainer("rnn-onehot", [("hello", "ohlol")], optimizer="sgd", lr=lr, clip_grad_norm=clip)
    vocab, cfg = trainer.vocab, trainer.model_cfg
    ref = Reference.seeded(cfg, len(vocab), trainer.train_cfg.seed)
    loss, _, _, _ = ref.loss_and_predictions([vocab.encode("hello")], [vocab.encode("ohlol")], "mean")
    params = ref.parameters()
    grads = torch.autograd.grad(loss, params)
    norm = torch.sqrt(sum((g**2).sum() for g in grads)).item()
    assert norm > clip  # the test needs a step that is clipped

    first = next(trainer.epochs(count=1))
    assert first.grad_norm == pytest.approx(norm, rel=1e-5)
    assert first.clipped is True
    assert first.to_json()["grad_norm"] == first.grad_norm and first.to_json()["clipped"] is True

    # the step taken is the clipped one: w - lr * g * clip / norm
    scale = clip / (norm + 1e-6)
    after = trainer.snapshot().weights
    names = ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0"]
    for name, p, g in zip(names, params, grads, strict=True):
        expected = (p - lr * scale * g).detach().numpy()
        np.testing.assert_allclose(after[name], expected, rtol=1e-5, atol=1e-7)


def test_clipping_off_reports_no_norm_and_a_high_limit_never_clips() -> None:
    off = next(make_trainer("rnn-onehot", [("hello", "ohlol")], clip_grad_norm=0.0).epochs(count=1))
    assert off.grad_norm is None and off.clipped is False
    assert "grad_norm" not in off.to_json()
    high = next(make_trainer("rnn-onehot", [("hello", "ohlol")], clip_grad_norm=1e6).epochs(count=1))
    low = next(make_trainer("rnn-onehot", [("hello", "ohlol")], clip_grad_norm=1e-3).epochs(count=1))
    assert high.clipped is False and low.clipped is True
    assert high.grad_norm == pytest.approx(low.grad_norm)  # the norm is measured before clipping
    assert high.loss == off.loss  # epoch 1's loss comes before any step


# --- inference -------------------------------------------------------------------------------


def test_infer_equals_the_training_forward_at_the_same_weights() -> None:
    trainer = make_trainer("rnn-embedding")
    list(trainer.epochs(count=6))
    vocab, cfg = trainer.vocab, trainer.model_cfg
    state = {k: torch.as_tensor(v) for k, v in trainer.snapshot().weights.items()}
    ref = Reference(cfg, len(vocab), state)
    inferences = [trainer.infer(x, y) for x, y in PAIRS]
    for (x, _y), inf in zip(PAIRS, inferences, strict=True):
        assert inf.probabilities.shape == (len(x), len(vocab))
        np.testing.assert_allclose(inf.probabilities.sum(axis=1), 1.0, atol=1e-6)
        _, logits = ref.unroll([vocab.encode(x)])
        expected = torch.softmax(torch.stack([step[0] for step in logits]), dim=1).detach().numpy()
        np.testing.assert_allclose(inf.probabilities, expected, rtol=1e-5, atol=1e-6)
        assert inf.indices == tuple(vocab.encode(x))
        assert inf.hidden.shape == (cfg.num_layers, len(x), cfg.hidden_size)
        assert inf.inputs.shape == (len(x), cfg.embedding_size)
    # the next epoch's own forward (batched, padded) predicts what infer predicted, with the same loss
    nxt = next(trainer.epochs(count=1))
    assert nxt.predictions == tuple(inf.predicted for inf in inferences)
    real_steps = np.concatenate([inf.step_losses for inf in inferences])
    assert nxt.loss == pytest.approx(real_steps.mean(), rel=1e-5)
    for (_x, y), inf in zip(PAIRS, inferences, strict=True):
        target_p = inf.probabilities[np.arange(len(y)), vocab.encode(y)]
        np.testing.assert_allclose(inf.step_losses, -np.log(target_p), rtol=1e-5)


def test_infer_hidden_states_are_the_logits_when_there_is_no_head() -> None:
    trainer = make_trainer("rnncell-onehot", [("hello", "ohlol")])
    list(trainer.epochs(count=4))
    inf = trainer.infer("lol")
    assert inf.hidden.shape == (1, 3, 4)
    np.testing.assert_allclose(inf.probabilities, torch.softmax(torch.tensor(inf.hidden[-1]), 1).numpy(), atol=1e-6)
    np.testing.assert_array_equal(inf.inputs, np.eye(4, dtype=np.float32)[trainer.vocab.encode("lol")])
    assert inf.predicted == trainer.vocab.decode(inf.probabilities.argmax(1).tolist())


def test_infer_runs_without_dropout_and_leaves_the_model_training() -> None:
    model = ModelConfig(cell="gru", encoding="embedding", hidden_size=8, num_layers=3, dropout=0.5, head="linear")
    trainer = Trainer(Task.of([("hello", "ohlol")]), model, TrainConfig(epochs=3))
    list(trainer.epochs())
    a, b = trainer.infer("hello"), trainer.infer("hello")
    np.testing.assert_array_equal(a.probabilities, b.probabilities)
    assert trainer.model.training


def test_infer_names_unknown_characters_by_position() -> None:
    trainer = make_trainer("rnn-onehot", [("hello", "ohlol")])
    with pytest.raises(ValidationError) as info:
        trainer.infer("hexlz")
    assert [(p.field, p.position) for p in info.value.problems] == [("input", 2), ("input", 4)]
    assert "position 3: 'x' is not in the vocabulary" in str(info.value)
    assert "position 5: 'z' is not in the vocabulary" in str(info.value)
    with pytest.raises(ValidationError) as info:
        trainer.infer("hello", "ohlQl")
    assert [(p.field, p.position) for p in info.value.problems] == [("target", 3)]
    with pytest.raises(ValidationError, match="target: has 2 characters, the input 5"):
        trainer.infer("hello", "oh")
    with pytest.raises(ValidationError, match="target: has 1 character, the input 5"):
        trainer.infer("hello", "o")
    with pytest.raises(ValidationError, match="empty"):
        trainer.infer("")


# --- gradient flow ---------------------------------------------------------------------------


GRADIENT_CASES = {
    "rnncell-onehot-sum": (preset("rnncell-onehot").model, "sum"),
    "rnn-2layer-embedding": (preset("rnn-embedding").model, "mean"),
    "lstm-2layer-onehot": (ModelConfig(cell="lstm", hidden_size=6, num_layers=2, head="linear"), "mean"),
    "gru-embedding": (ModelConfig(cell="gru", encoding="embedding", hidden_size=6, head="linear"), "sum"),
}


@pytest.mark.parametrize("case", sorted(GRADIENT_CASES))
def test_gradient_flow_equals_an_independent_unrolled_autograd(case: str) -> None:
    model, reduction = GRADIENT_CASES[case]
    pairs = [("hello", "ohlol"), ("hi", "ih")]  # padding in the batch too
    trainer = Trainer(Task.of(pairs), model, TrainConfig(epochs=3, seed=5, loss_reduction=reduction))
    list(trainer.epochs())
    grads_before = [p.grad.clone() for p in trainer.model.parameters()]

    flow = trainer.gradient_flow()

    vocab = trainer.vocab
    state = {k: torch.as_tensor(v) for k, v in trainer.snapshot().weights.items()}
    ref = Reference(model, len(vocab), state)
    inputs = [vocab.encode(x) for x, _ in pairs]
    targets = [vocab.encode(y) for _, y in pairs]
    loss, _, hiddens, _ = ref.loss_and_predictions(inputs, targets, reduction)
    for hs in hiddens:
        for h in hs:
            h.retain_grad()
    loss.backward()
    expected = np.array([[hiddens[t][layer].grad.norm().item() for t in range(5)] for layer in range(ref.layers)])

    assert flow.shape == (ref.layers, 5)  # numLayers x seqLen
    np.testing.assert_allclose(flow, expected, atol=1e-5, rtol=1e-5)
    assert (flow[:, :4] > 0).all()  # gradient reaches back to the first steps
    # parameter gradients are left as training left them
    for before, p in zip(grads_before, trainer.model.parameters(), strict=True):
        torch.testing.assert_close(p.grad, before, rtol=0, atol=0)


# --- snapshots, sizes, other cells -----------------------------------------------------------


def test_model_from_snapshot_reproduces_infer_and_draws_no_random_numbers() -> None:
    trainer = make_trainer("rnn-embedding")
    list(trainer.epochs(count=5))
    snapshot = trainer.snapshot()
    list(trainer.epochs(count=1))  # the trainer moves on; the snapshot stays at epoch 5
    torch.manual_seed(1234)
    state = torch.get_rng_state()
    model = model_from_snapshot(trainer.model_cfg, trainer.vocab, snapshot)
    got = infer(model, trainer.vocab, "hello", "ohlol")
    assert torch.equal(torch.get_rng_state(), state)

    at5 = make_trainer("rnn-embedding")
    list(at5.epochs(count=5))
    want = at5.infer("hello", "ohlol")
    for field in ("inputs", "hidden", "probabilities", "step_losses"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
    assert got.predicted == want.predicted
    assert snapshot.epoch == 5


@pytest.mark.parametrize(
    "cfg",
    [
        ModelConfig(cell="rnncell"),
        ModelConfig(cell="rnn", encoding="embedding", embedding_size=10, hidden_size=8, num_layers=2, head="linear"),
        ModelConfig(cell="lstm", hidden_size=7, num_layers=3, head="linear"),
        ModelConfig(cell="gru", encoding="embedding", embedding_size=3, hidden_size=5, num_layers=2, head="linear"),
        ModelConfig(cell="rnncell", encoding="embedding", embedding_size=4, hidden_size=6, head="linear"),
    ],
    ids=["rnncell", "rnn-embedding", "lstm", "gru", "rnncell-embedding"],
)
def test_parameter_count_matches_a_real_model_without_touching_the_generator(cfg: ModelConfig) -> None:
    state = torch.get_rng_state()
    count = parameter_count(cfg, 11)
    assert torch.equal(torch.get_rng_state(), state)  # a preview in the GUI must not shift a later seed
    assert count == sum(p.numel() for p in build_model(cfg, 11).parameters())


def test_parameter_count_of_the_notebooks_embedding_model() -> None:
    # Embedding(4, 10) + RNN(10 -> 8) + RNN(8 -> 8) + Linear(8 -> 4)
    expected = 4 * 10 + (8 * 10 + 8 * 8 + 8 + 8) + (8 * 8 + 8 * 8 + 8 + 8) + (8 * 4 + 4)
    assert parameter_count(preset("rnn-embedding").model, 4) == expected == 380


@pytest.mark.parametrize(("cell", "encoding"), list(itertools.product(["lstm", "gru"], ["onehot", "embedding"])))
def test_lstm_and_gru_learn_hello_ohlol(cell: str, encoding: str) -> None:
    model = ModelConfig(cell=cell, encoding=encoding, hidden_size=8, num_layers=2, head="linear")
    trainer = Trainer(Task.of([("hello", "ohlol")]), model, TrainConfig(lr=0.05, epochs=30, seed=0))
    results = list(trainer.epochs())
    assert trainer.outcome.status == FINISHED
    assert results[-1].loss < 0.3 * results[0].loss
    assert results[-1].predictions == ("ohlol",)
    assert trainer.infer("hello").predicted == "ohlol"


def test_snapshot_is_a_copy_that_training_does_not_change() -> None:
    trainer = make_trainer("rnn-onehot")
    snap = trainer.snapshot()
    before = {k: v.copy() for k, v in snap.weights.items()}
    list(trainer.epochs(count=3))
    for k, v in snap.weights.items():
        np.testing.assert_array_equal(v, before[k])
    assert snap.epoch == 0
    with pytest.raises(TypeError):
        snap.weights["rnn.weight_ih_l0"] = np.zeros(1)  # read-only mapping across threads


def test_vocab_of_trainer_is_the_tasks() -> None:
    trainer = make_trainer("rnn-onehot", [("hello", "ohlol")])
    assert trainer.vocab == Vocabulary.derive(["hello", "ohlol"])


def test_an_infinite_gradient_norm_under_clipping_is_divergence_and_leaves_the_weights(monkeypatch) -> None:
    """Clipping by an infinite norm scales every gradient to 0: the run would freeze and call itself finished."""
    import torch

    p = get_preset("rnn-embedding").project
    trainer = Trainer(p.task, p.model, replace(p.train, clip_grad_norm=1.0, epochs=10))
    list(trainer.epochs(count=3))
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    real = torch.nn.utils.clip_grad_norm_
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", lambda params, limit: real(params, limit) * float("inf"))
    assert list(trainer.epochs()) == []
    assert trainer.outcome.status == "diverged"
    assert trainer.outcome.message == "diverged at epoch 4, gradient norm inf: try a lower learning rate"
    assert all(torch.equal(before[k], v) for k, v in trainer.model.state_dict().items())


def test_epochs_per_second_counts_the_epochs_between_two_results_over_their_training_time() -> None:
    first = EpochResult(1, 1.0, 0.2, ("hhhhh",), elapsed=0.5)
    last = EpochResult(501, 0.1, 1.0, ("ohlol",), elapsed=1.5)
    assert epochs_per_second(first, last) == 500.0


def test_a_long_history_keeps_one_object_per_predicted_string_not_one_per_epoch() -> None:
    # Every epoch is kept: 256 pairs grew the window by 23 MB per 1,000 epochs, each epoch a new
    # copy of strings the run had predicted many times before.
    pairs = [(s, s[::-1]) for s in ("hello", "world", "abcde", "lol")]
    p = get_preset("rnn-embedding").project
    results = list(Trainer(Task.of(pairs), p.model, replace(p.train, epochs=300)).epochs())
    assert results[-1].predictions == tuple(t for _, t in pairs)  # learned: unchanged epoch after epoch
    for before, after in itertools.pairwise(results):
        if after.predictions == before.predictions:
            assert after.predictions is before.predictions
    strings = {id(s) for r in results for s in r.predictions}
    assert len(strings) == len({s for r in results for s in r.predictions})  # one object per string
