"""The trainer reproduces the notebook's three programs number for number, for any strings.

The reference is the notebook's code itself (tests/notebook_programs.py), run by
PyTorch with the same seed: losses must agree within 1e-6 relative, predicted
strings exactly.
"""

from __future__ import annotations

import pytest

from rnnstudio.core.presets import get_preset
from rnnstudio.core.sequences import Task
from rnnstudio.core.trainer import Trainer
from tests.notebook_programs import PROGRAMS

STRINGS = [
    ("hello", "ohlol"),
    # The notebook's literal x_data = [1, 0, 0, 2, 3] spells "heelo" over idx2char e, h, l, o:
    # this pair is the notebook's programs exactly as printed.
    ("heelo", "ohlol"),
    ("日本語の文", "文の語本日"),  # CJK
    ("a b 🙂!", "!🙂 b a"),  # spaces and an emoji
    ("abcabcabcabc", "bcabcabcabca"),
    ("x", "y"),  # one step
]


def run_trainer(preset_id: str, text: str, target: str, seed: int) -> list[tuple[float, str]]:
    preset = get_preset(preset_id).project
    train = preset.train.__class__(**{**preset.train.__dict__, "seed": seed})
    trainer = Trainer(Task.of([(text, target)]), preset.model, train)
    return [(r.loss, r.predictions[0]) for r in trainer.epochs()]


@pytest.mark.parametrize("preset_id", sorted(PROGRAMS))
@pytest.mark.parametrize("seed", [0, 2, 7, 12345])
@pytest.mark.parametrize(("text", "target"), STRINGS)
def test_trainer_equals_notebook_program(preset_id: str, seed: int, text: str, target: str) -> None:
    epochs = get_preset(preset_id).project.train.epochs
    lr = get_preset(preset_id).project.train.lr
    expected = PROGRAMS[preset_id](text, target, seed, epochs=epochs, lr=lr)
    got = run_trainer(preset_id, text, target, seed)
    assert len(got) == len(expected) == epochs
    for epoch, ((loss, pred), (ref_loss, ref_pred)) in enumerate(zip(got, expected, strict=True), start=1):
        assert pred == ref_pred, f"epoch {epoch}: predicted {pred!r}, notebook {ref_pred!r}"
        assert loss == pytest.approx(ref_loss, rel=1e-6), f"epoch {epoch}"


@pytest.mark.parametrize("preset_id", sorted(PROGRAMS))
def test_presets_are_the_notebook_programs_on_hello(preset_id: str) -> None:
    preset = get_preset(preset_id).project
    assert [(p.input, p.target) for p in preset.task.pairs] == [("hello", "ohlol")]
    assert preset.task.vocabulary().chars == ("e", "h", "l", "o")  # the notebook's idx2char
    expected = PROGRAMS[preset_id]("hello", "ohlol", preset.train.seed, epochs=preset.train.epochs, lr=preset.train.lr)
    got = run_trainer(preset_id, "hello", "ohlol", preset.train.seed)
    assert [p for _, p in got] == [p for _, p in expected]
    assert got[-1][1] == "ohlol"  # the preset's seed learns the lesson within the notebook's epochs


def test_heelo_is_the_notebooks_literal_data() -> None:
    from rnnstudio.core.vocab import Vocabulary

    vocab = Vocabulary.derive(["heelo", "ohlol"])
    assert vocab.chars == ("e", "h", "l", "o")
    assert vocab.encode("heelo") == [1, 0, 0, 2, 3]  # the notebook's x_data
    assert vocab.encode("ohlol") == [3, 1, 2, 3, 2]  # the notebook's y_data
    assert vocab.encode("hello") == [1, 0, 2, 2, 3]  # what "hello" really is


def test_preset_configurations_match_the_notebook() -> None:
    cell = get_preset("rnncell-onehot").project
    assert (cell.model.cell, cell.model.encoding, cell.model.head) == ("rnncell", "onehot", "none")
    assert (cell.train.optimizer, cell.train.lr, cell.train.epochs, cell.train.loss_reduction) == (
        "adam",
        0.1,
        15,
        "sum",
    )
    rnn = get_preset("rnn-onehot").project
    assert (rnn.model.cell, rnn.model.encoding, rnn.model.head, rnn.model.num_layers) == ("rnn", "onehot", "none", 1)
    assert (rnn.train.lr, rnn.train.epochs, rnn.train.loss_reduction) == (0.05, 25, "mean")
    emb = get_preset("rnn-embedding").project
    assert (emb.model.encoding, emb.model.embedding_size, emb.model.hidden_size) == ("embedding", 10, 8)
    assert (emb.model.num_layers, emb.model.head, emb.train.lr, emb.train.epochs) == (2, "linear", 0.05, 15)
    # where the head is none the hidden size follows the vocabulary, so any strings work
    assert cell.model.hidden_size is None and rnn.model.hidden_size is None
