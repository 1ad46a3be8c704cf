"""Trainer vs the notebook's own loop: epochs per second on each preset, side by side.

Runs each preset for a few thousand epochs with RNN Studio's trainer and with the
notebook's program (tests/notebook_programs.py, the notebook's code with its
print turned into a list append), alternating the two in one process, and prints
the median epochs/s of each and their ratio (trainer / notebook; >= 1.0 means the
trainer is at least as fast).

    python bench/engine_vs_notebook.py [--epochs 3000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from rnnstudio.core.presets import get_preset
from rnnstudio.core.trainer import Trainer
from tests.notebook_programs import PROGRAMS


def time_trainer(preset_id: str, epochs: int) -> float:
    project = get_preset(preset_id).project
    start = time.perf_counter()
    trainer = Trainer(project.task, project.model, replace(project.train, epochs=epochs, threads=1))
    kept = [r for r in trainer.epochs()]  # keep every result, as the notebook's list does
    assert len(kept) == epochs
    return epochs / (time.perf_counter() - start)


def time_notebook(preset_id: str, epochs: int) -> float:
    train = get_preset(preset_id).project.train
    start = time.perf_counter()
    out = PROGRAMS[preset_id]("hello", "ohlol", train.seed, epochs=epochs, lr=train.lr)
    assert len(out) == epochs
    return epochs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread, {args.epochs} epochs x {args.rounds} rounds, alternating")
    print(f"{'preset':<16} {'notebook ep/s':>14} {'trainer ep/s':>13} {'ratio':>6}")
    for preset_id in PROGRAMS:
        time_notebook(preset_id, 200)  # warm up both paths
        time_trainer(preset_id, 200)
        nb, tr = [], []
        for _ in range(args.rounds):
            nb.append(time_notebook(preset_id, args.epochs))
            tr.append(time_trainer(preset_id, args.epochs))
        n, t = statistics.median(nb), statistics.median(tr)
        print(f"{preset_id:<16} {n:>14.0f} {t:>13.0f} {t / n:>6.2f}")


if __name__ == "__main__":
    main()
