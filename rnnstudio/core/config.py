"""Model and training configuration: frozen dataclasses that validate themselves."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .problems import Problem, ValidationError, shown

CELLS = ("rnncell", "rnn", "lstm", "gru")
ENCODINGS = ("onehot", "embedding")
NONLINEARITIES = ("tanh", "relu")
HEADS = ("none", "linear")
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adagrad")
REDUCTIONS = ("mean", "sum")
DEVICES = ("auto", "cpu", "cuda")

MAX_HIDDEN = 4096
MAX_EMBEDDING = 4096
MAX_LAYERS = 8
MAX_EPOCHS = 1_000_000
MAX_SEED = 2**31 - 1
MIN_LR = 1e-6
MAX_LR = 10.0
MAX_DROPOUT = 0.99
MAX_MOMENTUM = 0.999
MAX_CLIP = 1e6
# A non-zero dropout, momentum or clip below this is refused: torch, training in float32, reads it
# as 0, and the window's boxes (which keep every double from 1e-306 up) would round it to another value.
MIN_NONZERO = 1e-300
MAX_THREADS = 256
#: Memory the window's weight snapshots may hold together (see core.snapshots).
SNAPSHOT_BUDGET_BYTES = 512 * 2**20
#: A model whose snapshot is larger than this is probed only when a run starts, pauses or ends,
#: not while it runs: each probe copies every weight (an LSTM with hiddenSize 2048 holds 64 MB).
PROBE_SPARSE_BYTES = 32 * 2**20
#: Above this a model is never probed: two snapshots would take half the budget.
PROBE_MAX_BYTES = SNAPSHOT_BUDGET_BYTES // 4
#: Above this many parameters the model panel warns that training will be slow and take memory.
LARGE_MODEL_PARAMETERS = 50_000_000

#: The problem of device "cuda" on a machine without CUDA (the window asks torch; so does the trainer).
NO_CUDA = "CUDA is not available here: use auto or cpu"


@dataclass(frozen=True)
class ModelConfig:
    """The network: cell, input encoding, sizes and output head.

    ``hidden_size`` None means "the vocabulary's size", which head "none" needs
    (the hidden state is then the logits, as in the notebook's first programs).
    Options that do not apply to the chosen cell or encoding are ignored.
    """

    cell: str = "rnn"
    encoding: str = "onehot"
    embedding_size: int = 10
    hidden_size: int | None = None
    num_layers: int = 1
    nonlinearity: str = "tanh"
    dropout: float = 0.0
    head: str = "none"

    def effective_hidden(self, vocab_size: int) -> int:
        """The hidden size the model is built with for this vocabulary."""
        return vocab_size if self.hidden_size is None else self.hidden_size

    def input_size(self, vocab_size: int) -> int:
        """What each RNN step reads: |V| for one-hot, the embedding size otherwise."""
        return vocab_size if self.encoding == "onehot" else self.embedding_size

    def uses_nonlinearity(self) -> bool:
        """Whether tanh/relu applies (plain RNN cells only)."""
        return self.cell in ("rnn", "rnncell")

    def uses_dropout(self) -> bool:
        """Whether dropout applies: it acts between stacked layers."""
        return self.cell != "rnncell" and self.num_layers > 1

    def in_effect(self) -> ModelConfig:
        """This configuration with the options that do not apply at their defaults: the network it builds."""
        default = ModelConfig()
        return replace(
            self,
            embedding_size=self.embedding_size if self.encoding == "embedding" else default.embedding_size,
            nonlinearity=self.nonlinearity if self.uses_nonlinearity() else default.nonlinearity,
            dropout=self.dropout if self.uses_dropout() else default.dropout,
        )

    def problems(self, vocab_size: int | None = None) -> list[Problem]:
        """Every invalid value or combination, each saying what to change."""
        return self.value_problems() + self.combination_problems(vocab_size)

    def value_problems(self) -> list[Problem]:
        """Fields whose value is outside what is allowed, whatever the other fields."""
        found = _choice_problems(self)
        if not _is_int(self.embedding_size) or not 1 <= self.embedding_size <= MAX_EMBEDDING:
            found.append(Problem("embedding_size", f"must be a whole number from 1 to {MAX_EMBEDDING}"))
        if self.hidden_size is not None and (not _is_int(self.hidden_size) or not 1 <= self.hidden_size <= MAX_HIDDEN):
            found.append(Problem("hidden_size", f"must be a whole number from 1 to {MAX_HIDDEN}, or auto"))
        if not _is_int(self.num_layers) or not 1 <= self.num_layers <= MAX_LAYERS:
            found.append(Problem("num_layers", f"must be a whole number from 1 to {MAX_LAYERS}"))
        if not _is_number(self.dropout) or not 0.0 <= self.dropout <= MAX_DROPOUT:
            found.append(Problem("dropout", f"must be from 0 to {MAX_DROPOUT}"))
        elif 0 < self.dropout < MIN_NONZERO:
            found.append(Problem("dropout", _too_small(self.dropout, "0")))
        return found

    def combination_problems(self, vocab_size: int | None = None) -> list[Problem]:
        """Values that are fine alone but not together (or not with this vocabulary size)."""
        found = []
        if self.cell == "rnncell" and _is_int(self.num_layers) and self.num_layers > 1:
            found.append(
                Problem(
                    "num_layers",
                    "an RNNCell loop has a single layer: set layers to 1, or use cell 'rnn' to stack layers",
                )
            )
        if (
            self.head == "none"
            and vocab_size is not None
            and self.hidden_size is not None
            and self.hidden_size != vocab_size
        ):
            found.append(
                Problem(
                    "hidden_size",
                    f"head 'none' uses the hidden state as the logits, so the hidden size must equal "
                    f"the vocabulary size ({vocab_size}): set it to {vocab_size} or auto, or use a linear head",
                )
            )
        return found


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser, schedule, loss reduction, seed and where to run."""

    optimizer: str = "adam"
    lr: float = 0.05
    momentum: float = 0.0
    epochs: int = 15
    seed: int = 0
    loss_reduction: str = "mean"
    clip_grad_norm: float = 0.0
    device: str = "auto"
    threads: int = 0

    def resolved_threads(self) -> int:
        """Torch threads for training: 1 on machines with 2 cores or fewer, else up to 4."""
        if self.threads:
            return self.threads
        cores = os.cpu_count() or 1
        return 1 if cores <= 2 else min(cores, 4)

    def uses_momentum(self) -> bool:
        """Whether the optimiser takes a momentum (SGD and RMSprop)."""
        return self.optimizer in ("sgd", "rmsprop")

    def problems(self) -> list[Problem]:
        """Every invalid value, each saying what is allowed."""
        found = _choice_problems(self)
        if not _is_number(self.lr) or not MIN_LR <= self.lr <= MAX_LR:
            found.append(Problem("lr", f"the learning rate must be from {MIN_LR:g} to {MAX_LR:g}"))
        if not _is_number(self.momentum) or not 0.0 <= self.momentum <= MAX_MOMENTUM:
            found.append(Problem("momentum", f"must be from 0 to {MAX_MOMENTUM}"))
        elif 0 < self.momentum < MIN_NONZERO:
            found.append(Problem("momentum", _too_small(self.momentum, "0")))
        if not _is_int(self.epochs) or not 1 <= self.epochs <= MAX_EPOCHS:
            found.append(Problem("epochs", f"must be a whole number from 1 to {MAX_EPOCHS:,}"))
        if not _is_int(self.seed) or not 0 <= self.seed <= MAX_SEED:
            found.append(Problem("seed", f"must be a whole number from 0 to {MAX_SEED}"))
        if not _is_number(self.clip_grad_norm) or not 0.0 <= self.clip_grad_norm <= MAX_CLIP:
            found.append(Problem("clip_grad_norm", f"must be 0 (off) or a positive number up to {MAX_CLIP:g}"))
        elif 0 < self.clip_grad_norm < MIN_NONZERO:
            found.append(Problem("clip_grad_norm", _too_small(self.clip_grad_norm, "0 (off)")))
        if not _is_int(self.threads) or not 0 <= self.threads <= MAX_THREADS:
            found.append(Problem("threads", f"must be 0 (auto) or a whole number up to {MAX_THREADS}"))
        return found


_CHOICES = {
    "cell": CELLS,
    "encoding": ENCODINGS,
    "nonlinearity": NONLINEARITIES,
    "head": HEADS,
    "optimizer": OPTIMIZERS,
    "loss_reduction": REDUCTIONS,
    "device": DEVICES,
}


def _choice_problems(cfg: ModelConfig | TrainConfig) -> list[Problem]:
    found = []
    for f in fields(cfg):
        allowed = _CHOICES.get(f.name)
        value = getattr(cfg, f.name)
        if allowed is not None and value not in allowed:
            found.append(Problem(f.name, f"is {shown(value)}; choose one of {', '.join(allowed)}"))
    return found


def _too_small(value: float, zero: str) -> str:
    return f"{value!r} is too small to tell from 0: use {zero} or at least {MIN_NONZERO:g}"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:  # a whole number too large for a float
        return False


def check(model: ModelConfig, train: TrainConfig, vocab_size: int | None) -> None:
    """Raise ValidationError with every problem of the two configurations."""
    problems = model.problems(vocab_size) + train.problems()
    if problems:
        raise ValidationError(problems)


def to_dict(cfg: ModelConfig | TrainConfig) -> dict[str, Any]:
    """A JSON-ready dict of a configuration."""
    return asdict(cfg)


def from_dict(cls: type, data: Any, where: str) -> Any:
    """Build ``cls`` from a mapping read from a file, naming any bad field.

    Missing fields take their defaults; unknown fields and wrong types raise
    ValidationError whose messages start with ``where`` (e.g. "model").
    """
    if not isinstance(data, dict):
        raise ValidationError([Problem(where, f"must be an object, not {type(data).__name__}")])
    known = {f.name: f for f in fields(cls)}
    problems = [Problem(where, f"unknown field {shown(k)}") for k in data if k not in known]
    values = {}
    for name, value in data.items():
        if name not in known:
            continue
        default = known[name].default
        ok = (
            (value is None and name == "hidden_size")
            or (isinstance(default, str) and isinstance(value, str))
            or (_is_int(default) and _is_int(value))
            or (isinstance(default, float) and _is_number(value))
            or (default is None and _is_int(value))
        )
        if (isinstance(value, float) or (isinstance(default, float) and _is_int(value))) and not _is_number(value):
            problems.append(Problem(f"{where}.{name}", f"must be a finite number, not {shown(value)}"))
            continue
        if not ok:
            problems.append(Problem(f"{where}.{name}", f"has the wrong type: {shown(value)}"))
            continue
        values[name] = float(value) if isinstance(default, float) else value
    if problems:
        raise ValidationError(problems)
    return cls(**values)
