"""Frozen results that cross from the training thread to the UI: plain Python and numpy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np


@dataclass(frozen=True)
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
            out["grad_norm"] = self.grad_norm
            out["clipped"] = self.clipped
        return out


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
