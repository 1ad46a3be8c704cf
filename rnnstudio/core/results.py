"""Frozen results that cross from the training thread to the UI: plain Python and numpy."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np


@dataclass(frozen=True, slots=True)  # no __dict__ each: a long run keeps millions of them
class EpochResult:
    """One epoch as the notebook prints it, plus accuracy and timing.

    ``loss`` and ``predictions`` come from the epoch's own forward pass (before
    its optimiser step). ``elapsed`` is seconds of training since the trainer
    started, time spent paused excluded. ``grad_norm`` is the total gradient
    norm when clipping is on, and ``clipped`` whether it was above the limit.
    """

    epoch: int
    loss: float
    accuracy: float
    predictions: tuple[str, ...]
    elapsed: float
    grad_norm: float | None = None
    clipped: bool = False

    def to_json(self) -> dict:
        """The record written by --jsonl and kept in a project's history."""
        out = {
            "epoch": self.epoch,
            "loss": self.loss,
            "accuracy": self.accuracy,
            "predictions": list(self.predictions),
        }
        if self.grad_norm is not None:
            # JSON has no inf or nan: a non-finite norm is written as null
            out["grad_norm"] = self.grad_norm if math.isfinite(self.grad_norm) else None
            out["clipped"] = self.clipped
        return out


def epochs_per_second(first: EpochResult, last: EpochResult) -> float:
    """Training speed between two results of one trainer (``last`` after ``first``), from their ``elapsed``."""
    return (last.epoch - first.epoch) / (last.elapsed - first.elapsed)


FINISHED = "finished"
STOPPED = "stopped"
DIVERGED = "diverged"
FAILED = "failed"


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended: finished, stopped, diverged or failed, with a message for people."""

    status: str
    epoch: int
    message: str


@dataclass(frozen=True)
class WeightSnapshot:
    """The model's weights after ``epoch`` optimiser steps (epoch 0: as initialised).

    ``grad_norms``, when present, is the norm of d(loss)/d(hidden state) for the
    whole batch at these weights: numLayers x seqLen (see trainer.gradient_flow).
    """

    epoch: int
    weights: Mapping[str, np.ndarray] = field(repr=False)
    grad_norms: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))

    def nbytes(self) -> int:
        """Memory held by the weight and gradient arrays."""
        extra = 0 if self.grad_norms is None else self.grad_norms.nbytes
        return sum(a.nbytes for a in self.weights.values()) + extra


@dataclass(frozen=True)
class Inference:
    """What the model does with one string, step by step.

    ``inputs`` is what each step reads (one-hot row or embedding vector),
    ``hidden`` the hidden state of every layer (numLayers x seqLen x hiddenSize),
    ``probabilities`` softmax over the vocabulary per step (seqLen x numClass).
    ``step_losses`` is the cross-entropy of each step when a target was given.
    """

    text: str
    indices: tuple[int, ...]
    inputs: np.ndarray
    hidden: np.ndarray
    probabilities: np.ndarray
    predicted: str
    target: str | None = None
    step_losses: np.ndarray | None = None


@dataclass(frozen=True)
class WalkthroughStep:
    """One step of the notebook's RNNCell walkthrough: the shapes it printed and the hidden values."""

    index: int
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    hidden: np.ndarray  # batchSize x hiddenSize


@dataclass(frozen=True)
class Walkthrough:
    """The notebook's two shape walkthroughs run on random input: an RNNCell loop and one nn.RNN call."""

    batch_size: int
    seq_len: int
    input_size: int
    hidden_size: int
    num_layers: int
    seed: int
    cell_steps: tuple[WalkthroughStep, ...]
    rnn_input_shape: tuple[int, ...]
    rnn_output_shape: tuple[int, ...]
    rnn_hidden_shape: tuple[int, ...]
    rnn_output: np.ndarray  # seqLen x batchSize x hiddenSize
    rnn_hidden: np.ndarray  # numLayers x batchSize x hiddenSize

    def transcript(self) -> str:
        """What the notebook's two cells print for these sizes."""
        lines = ["## Use RNNCell"]
        for step in self.cell_steps:
            lines.append(f"{'=' * 20} {step.index} {'=' * 20}")
            lines.append(f"Input size:  torch.Size({list(step.input_shape)})")
            lines.append(f"Output size:  torch.Size({list(step.output_shape)})")
            lines.append(np.array2string(step.hidden, precision=4, separator=", "))
        lines.append("")
        lines.append("## Use RNN")
        lines.append(f"Output size: torch.Size({list(self.rnn_output_shape)})  # seqLen, batchSize, hiddenSize")
        lines.append(f"Output: {np.array2string(self.rnn_output, precision=4, separator=', ')}")
        lines.append(f"Hidden size:  torch.Size({list(self.rnn_hidden_shape)})  # numLayers, batchSize, hiddenSize")
        lines.append(f"Hidden:  {np.array2string(self.rnn_hidden, precision=4, separator=', ')}")
        return "\n".join(lines)
