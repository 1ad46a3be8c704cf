"""What the inspection views rely on: snapshots thinned evenly, snapshot inference, the notebook walkthrough."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnstudio.core.model import walkthrough
from rnnstudio.core.presets import get_preset
from rnnstudio.core.results import WeightSnapshot
from rnnstudio.core.snapshots import SnapshotStore
from rnnstudio.core.trainer import Trainer, infer_snapshot


def snap(epoch: int) -> WeightSnapshot:
    return WeightSnapshot(epoch, {"w": np.zeros((10, 10), np.float32)})


def test_store_is_bounded_keeps_first_and_latest_and_stays_even() -> None:
    store = SnapshotStore(capacity=50)
    for epoch in range(0, 20_001, 7):
        store.add(snap(epoch))
    epochs = store.epochs()
    assert len(store) == 50
    assert epochs[0] == 0 and epochs[-1] == 19_999
    gaps = np.diff(epochs)
    assert gaps.max() <= 3 * gaps.mean()  # no stretch of the run left without snapshots
    assert store.nbytes() == 50 * 400


def test_store_keeps_within_its_byte_budget_thinning_evenly() -> None:
    store = SnapshotStore(capacity=200, max_bytes=10 * 400)  # room for 10 of these 400-byte snapshots
    for epoch in range(0, 1_001):
        store.add(snap(epoch))
        assert store.nbytes() <= 10 * 400
    epochs = store.epochs()
    assert len(store) == 10 and epochs[0] == 0 and epochs[-1] == 1_000
    gaps = np.diff(epochs)
    assert gaps.max() <= 3 * gaps.mean()
    assert store.nbytes() == sum(s.nbytes() for s in store)
    store.add(WeightSnapshot(1_000, {"w": np.zeros((20, 10), np.float32)}))  # a larger one replacing the latest
    assert store.nbytes() == sum(s.nbytes() for s in store) <= 10 * 400
    store.clear()
    assert store.nbytes() == 0


def test_store_keeps_the_first_and_latest_even_over_its_budget() -> None:
    store = SnapshotStore(max_bytes=100)
    for epoch in (0, 5, 9):
        store.add(snap(epoch))
    assert store.epochs() == [0, 9]


def test_a_trainer_knows_its_snapshot_size_without_taking_one() -> None:
    p = get_preset("rnn-embedding").project
    trainer = Trainer(p.task, p.model, p.train)
    assert trainer.snapshot_nbytes() == sum(a.nbytes for a in trainer.snapshot().weights.values())


def test_store_nearest_and_replace() -> None:
    store = SnapshotStore(capacity=10)
    for epoch in (0, 10, 20):
        store.add(snap(epoch))
    assert store.nearest(14).epoch == 10
    assert store.nearest(15).epoch == 20  # ties go to the later snapshot
    assert store.nearest(-5).epoch == 0 and store.nearest(99).epoch == 20
    replacement = snap(10)
    store.add(replacement)
    assert len(store) == 3 and store.nearest(10) is replacement
    store.clear()
    assert store.latest() is None and store.nearest(3) is None


@pytest.mark.parametrize("preset_id", ["rnncell-onehot", "rnn-onehot", "rnn-embedding"])
def test_snapshot_inference_equals_the_trainers_own(preset_id: str) -> None:
    p = get_preset(preset_id).project
    trainer = Trainer(p.task, p.model, p.train)
    list(trainer.epochs(count=5))
    rng_before = torch.get_rng_state()
    got = infer_snapshot(p.model, trainer.vocab, trainer.snapshot(), "hello", "ohlol")
    assert torch.equal(rng_before, torch.get_rng_state())  # inspection never disturbs a seeded run
    expected = trainer.infer("hello", "ohlol")
    np.testing.assert_array_equal(got.probabilities, expected.probabilities)
    np.testing.assert_allclose(got.probabilities.sum(axis=1), 1.0, rtol=1e-6)
    assert got.predicted == expected.predicted
    # and they equal the next training epoch's own forward pass (no dropout in the presets)
    next_epoch = next(trainer.epochs(count=1))
    assert got.predicted == next_epoch.predictions[0]


@pytest.mark.parametrize(
    ("batch", "seq", "inp", "hidden", "layers"), [(1, 3, 4, 2, 1), (2, 5, 3, 6, 2), (4, 1, 7, 1, 3)]
)
def test_walkthrough_prints_the_sizes_torch_returns(batch, seq, inp, hidden, layers) -> None:
    rng_before = torch.get_rng_state()
    w = walkthrough(batch, seq, inp, hidden, layers, seed=3)
    assert torch.equal(rng_before, torch.get_rng_state())
    cell = torch.nn.RNNCell(input_size=inp, hidden_size=hidden)
    x_t = torch.randn(batch, inp)
    h = cell(x_t, torch.zeros(batch, hidden))
    rnn = torch.nn.RNN(input_size=inp, hidden_size=hidden, num_layers=layers)
    out, hn = rnn(torch.randn(seq, batch, inp), torch.zeros(layers, batch, hidden))
    assert len(w.cell_steps) == seq
    for step in w.cell_steps:
        assert step.input_shape == tuple(x_t.shape)
        assert step.output_shape == tuple(h.shape) == step.hidden.shape
        assert np.all(np.abs(step.hidden) < 1)  # tanh
    assert w.rnn_output_shape == tuple(out.shape) == w.rnn_output.shape
    assert w.rnn_hidden_shape == tuple(hn.shape) == w.rnn_hidden.shape
    np.testing.assert_array_equal(w.rnn_output[-1], w.rnn_hidden[-1])  # the last layer's last step
    text = w.transcript()
    assert f"Input size:  torch.Size({list(x_t.shape)})" in text
    assert f"Output size: torch.Size({list(out.shape)})" in text
    assert f"Hidden size:  torch.Size({list(hn.shape)})" in text


def test_walkthrough_is_repeatable_by_seed_and_refuses_bad_sizes() -> None:
    a, b = walkthrough(seed=5), walkthrough(seed=5)
    np.testing.assert_array_equal(a.rnn_output, b.rnn_output)
    assert not np.array_equal(a.rnn_output, walkthrough(seed=6).rnn_output)
    with pytest.raises(ValueError, match="hidden_size"):
        walkthrough(hidden_size=0)
