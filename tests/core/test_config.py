"""Configuration validation: every invalid value names its field and says what to change."""

from __future__ import annotations

import math
import os

import pytest

from rnnstudio.core.config import (
    CELLS,
    ENCODINGS,
    MAX_SEED,
    MIN_NONZERO,
    ModelConfig,
    TrainConfig,
    check,
    from_dict,
    to_dict,
)
from rnnstudio.core.presets import presets
from rnnstudio.core.problems import ValidationError


def fields_of(problems) -> list[str]:
    return [p.field for p in problems]


# --- the model -------------------------------------------------------------------------------


def test_defaults_are_valid() -> None:
    assert ModelConfig().problems(4) == []
    assert TrainConfig().problems() == []


def test_head_none_needs_hidden_size_equal_to_vocabulary_size() -> None:
    cfg = ModelConfig(head="none", hidden_size=8)
    (problem,) = cfg.problems(vocab_size=4)
    assert problem.field == "hidden_size"
    # it says what to change: the number, auto, or a linear head
    assert "set it to 4 or auto" in problem.message
    assert "linear head" in problem.message
    # the same sizes are fine with a linear head, with auto, or when they agree
    assert ModelConfig(head="linear", hidden_size=8).problems(4) == []
    assert ModelConfig(head="none", hidden_size=None).problems(4) == []
    assert ModelConfig(head="none", hidden_size=4).problems(4) == []
    # the vocabulary size is what decides: a 6-character vocabulary asks for 6
    (problem6,) = ModelConfig(head="none", hidden_size=4).problems(6)
    assert "set it to 6 or auto" in problem6.message


def test_rnncell_has_a_single_layer() -> None:
    (problem,) = ModelConfig(cell="rnncell", num_layers=2).problems(4)
    assert problem.field == "num_layers"
    assert "set layers to 1" in problem.message and "'rnn'" in problem.message
    assert ModelConfig(cell="rnn", num_layers=2).problems(4) == []


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("cell", "transformer", CELLS),
        ("encoding", "bytes", ENCODINGS),
        ("nonlinearity", "sigmoid", ("tanh", "relu")),
        ("head", "softmax", ("none", "linear")),
        ("cell", "RNN", CELLS),  # choices are exact, not case-folded
    ],
)
def test_bad_model_choice_names_field_and_lists_the_choices(field: str, value: str, allowed: tuple) -> None:
    (problem,) = ModelConfig(**{field: value}).problems(4)
    assert problem.field == field
    assert repr(value) in problem.message
    assert "choose one of" in problem.message
    for choice in allowed:
        assert choice in problem.message


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("optimizer", "lbfgs", ("adam", "sgd", "rmsprop", "adagrad")),
        ("loss_reduction", "max", ("mean", "sum")),
        ("device", "tpu", ("auto", "cpu", "cuda")),
    ],
)
def test_bad_train_choice_names_field_and_lists_the_choices(field: str, value: str, allowed: tuple) -> None:
    (problem,) = TrainConfig(**{field: value}).problems()
    assert problem.field == field
    assert "choose one of" in problem.message
    for choice in allowed:
        assert choice in problem.message


@pytest.mark.parametrize(
    ("field", "value", "hint"),
    [
        ("embedding_size", 0, "from 1"),
        ("embedding_size", 10_000, "to 4096"),
        ("hidden_size", 0, "or auto"),
        ("hidden_size", -3, "or auto"),
        ("num_layers", 0, "from 1 to 8"),
        ("num_layers", 9, "from 1 to 8"),
        ("dropout", 1.0, "from 0 to 0.99"),
        ("dropout", -0.1, "from 0 to 0.99"),
        ("dropout", math.nan, "from 0 to 0.99"),
        # a bool is not a number of layers even though Python counts True as 1
        ("num_layers", True, "whole number"),
        ("embedding_size", True, "whole number"),
        ("dropout", False, "from 0 to 0.99"),
        ("dropout", 0.995, "from 0 to 0.99"),  # beyond what the window's dropout box can hold
        ("dropout", 5e-324, "use 0 or at least 1e-300"),  # nor can it hold this exactly
        ("hidden_size", 2.5, "whole number"),
    ],
)
def test_bad_model_value_names_field_and_range(field: str, value: object, hint: str) -> None:
    cfg = ModelConfig(**{field: value, "head": "linear"})
    problems = cfg.problems(4)
    assert fields_of(problems) == [field]
    assert hint in problems[0].message


@pytest.mark.parametrize(
    ("field", "value", "hint"),
    [
        ("lr", 0.0, "from 1e-06 to 10"),
        ("lr", -0.01, "from 1e-06 to 10"),
        ("lr", math.nan, "from 1e-06 to 10"),
        ("lr", math.inf, "from 1e-06 to 10"),
        ("lr", 10.5, "from 1e-06 to 10"),
        ("lr", True, "from 1e-06 to 10"),
        ("lr", 1e-7, "from 1e-06 to 10"),
        ("momentum", 1.0, "from 0 to 0.999"),
        ("momentum", -0.5, "from 0 to 0.999"),
        ("momentum", 1e-310, "1e-310 is too small to tell from 0: use 0 or at least 1e-300"),
        ("epochs", 0, "from 1"),
        ("epochs", -5, "from 1"),
        ("epochs", 1.5, "whole number"),
        ("epochs", True, "whole number"),
        ("seed", -1, f"from 0 to {MAX_SEED}"),
        ("seed", MAX_SEED + 1, f"from 0 to {MAX_SEED}"),
        ("seed", False, "whole number"),  # False is not seed 0
        ("clip_grad_norm", -1.0, "0 (off) or a positive number"),
        ("clip_grad_norm", math.inf, "0 (off) or a positive number"),
        ("clip_grad_norm", math.nan, "0 (off) or a positive number"),
        ("clip_grad_norm", 2e6, "up to 1e+06"),
        ("clip_grad_norm", 2.2250738585072014e-308, "use 0 (off) or at least 1e-300"),
        ("threads", -1, "0 (auto)"),
        ("threads", 1000, "up to 256"),
        ("threads", True, "0 (auto)"),
    ],
)
def test_bad_train_value_names_field_and_range(field: str, value: object, hint: str) -> None:
    problems = TrainConfig(**{field: value}).problems()
    assert fields_of(problems) == [field]
    assert hint in problems[0].message


def test_limits_themselves_are_valid() -> None:
    assert TrainConfig(lr=10.0, seed=MAX_SEED, epochs=1, momentum=0.99, threads=256).problems() == []
    assert TrainConfig(seed=0, clip_grad_norm=0.0).problems() == []
    assert TrainConfig(optimizer="sgd", momentum=MIN_NONZERO, clip_grad_norm=MIN_NONZERO).problems() == []
    assert ModelConfig(dropout=MIN_NONZERO).problems() == []
    assert ModelConfig(cell="lstm", num_layers=8, dropout=0.5, hidden_size=4096, head="linear").problems(4) == []


def test_all_problems_come_at_once_and_check_raises_them_together() -> None:
    model = ModelConfig(cell="rnncell", num_layers=3, head="none", hidden_size=7, dropout=2.0)
    train = TrainConfig(lr=0.0, epochs=0, seed=-1, optimizer="nope")
    assert sorted(fields_of(model.problems(4))) == ["dropout", "hidden_size", "num_layers"]
    assert sorted(fields_of(train.problems())) == ["epochs", "lr", "optimizer", "seed"]
    with pytest.raises(ValidationError) as info:
        check(model, train, 4)
    assert len(info.value.problems) == 7
    assert "learning rate" in str(info.value) and "hidden size" in str(info.value)


def test_check_passes_a_valid_combination() -> None:
    check(ModelConfig(cell="gru", hidden_size=16, head="linear", num_layers=2), TrainConfig(optimizer="sgd"), 4)


@pytest.mark.parametrize("preset", presets(), ids=lambda p: p.id)
def test_bundled_presets_validate_clean(preset) -> None:
    project = preset.project
    vocab_size = len(project.task.vocabulary())
    assert project.task.problems() == []
    assert project.model.problems(vocab_size) == []
    assert project.train.problems() == []


# --- from_dict: what files give us ------------------------------------------------------------


def test_from_dict_round_trips_non_default_configurations() -> None:
    model = ModelConfig(cell="lstm", encoding="embedding", embedding_size=6, hidden_size=12, num_layers=3, dropout=0.2)
    train = TrainConfig(optimizer="rmsprop", lr=0.3, momentum=0.5, epochs=7, seed=99, loss_reduction="sum")
    assert from_dict(ModelConfig, to_dict(model), "model") == model
    assert from_dict(TrainConfig, to_dict(train), "train") == train


def test_from_dict_fills_missing_fields_with_defaults_and_widens_ints_to_floats() -> None:
    train = from_dict(TrainConfig, {"lr": 1, "epochs": 3}, "train")
    assert train == TrainConfig(lr=1.0, epochs=3)
    assert isinstance(train.lr, float)
    assert from_dict(ModelConfig, {"hidden_size": None}, "model").hidden_size is None


def test_from_dict_rejects_unknown_fields_naming_them() -> None:
    with pytest.raises(ValidationError) as info:
        from_dict(ModelConfig, {"cell": "gru", "hiden_size": 8}, "model")
    (problem,) = info.value.problems
    assert problem.field == "model"
    assert "'hiden_size'" in problem.message and "unknown" in problem.message


@pytest.mark.parametrize(
    ("cls", "where", "data", "field"),
    [
        (ModelConfig, "model", {"num_layers": "2"}, "model.num_layers"),
        (ModelConfig, "model", {"num_layers": True}, "model.num_layers"),
        (ModelConfig, "model", {"hidden_size": 8.0}, "model.hidden_size"),
        (ModelConfig, "model", {"hidden_size": False}, "model.hidden_size"),
        (ModelConfig, "model", {"cell": 3}, "model.cell"),
        (ModelConfig, "model", {"dropout": "0.1"}, "model.dropout"),
        (TrainConfig, "train", {"lr": "fast"}, "train.lr"),
        (TrainConfig, "train", {"lr": None}, "train.lr"),
        (TrainConfig, "train", {"epochs": 15.0}, "train.epochs"),
        (TrainConfig, "train", {"seed": [1]}, "train.seed"),
        (TrainConfig, "train", {"optimizer": None}, "train.optimizer"),
    ],
)
def test_from_dict_rejects_wrong_types_naming_the_field(cls: type, where: str, data: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        from_dict(cls, data, where)
    assert [p.field for p in info.value.problems] == [field]
    assert "wrong type" in info.value.problems[0].message


def test_from_dict_reports_every_bad_field_at_once() -> None:
    with pytest.raises(ValidationError) as info:
        from_dict(TrainConfig, {"lr": "x", "epochs": "y", "colour": "red"}, "train")
    assert sorted(p.field for p in info.value.problems) == ["train", "train.epochs", "train.lr"]


@pytest.mark.parametrize("data", [[], "adam", 3, None])
def test_from_dict_needs_an_object(data: object) -> None:
    with pytest.raises(ValidationError) as info:
        from_dict(TrainConfig, data, "train")
    assert info.value.problems[0].field == "train"
    assert "must be an object" in info.value.problems[0].message


# --- threads ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("cores", "expected"), [(1, 1), (2, 1), (None, 1), (3, 3), (4, 4), (64, 4)])
def test_resolved_threads_is_one_on_small_machines(monkeypatch, cores: int | None, expected: int) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert TrainConfig(threads=0).resolved_threads() == expected


def test_explicit_threads_win_over_the_core_count(monkeypatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert TrainConfig(threads=3).resolved_threads() == 3


def test_a_non_finite_number_in_a_file_is_named_as_such() -> None:
    with pytest.raises(ValidationError) as info:
        from_dict(TrainConfig, {"lr": math.nan}, "train")
    assert str(info.value.problems[0]) == "train.lr: must be a finite number, not nan"
