"""Trainer factories for tests: the core's Trainer, with one fact about it changed."""

from __future__ import annotations

from rnnstudio.core.trainer import Trainer


def trainer_factory_of_sizes(*sizes: int):
    """A trainer factory whose n-th trainer reports a snapshot of sizes[n] bytes (as a model that
    large would), without the memory such a model would take."""
    remaining = iter(sizes)

    def factory(task, model, train):
        trainer = Trainer(task, model, train)
        size = next(remaining)
        trainer.snapshot_nbytes = lambda: size
        return trainer

    return factory
