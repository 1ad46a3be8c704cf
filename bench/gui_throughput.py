"""Training speed with the window live vs headless, and how responsive the GUI thread stays.

Runs the rnn-embedding preset for N epochs (default 5,000) headless (the core's
trainer in this thread) and in the window (shown offscreen, plot and log live),
alternating, and prints the median epochs/s of each, their ratio (target >= 0.90),
and the longest wait of a 5 ms QTimer in the GUI thread during the windowed runs
(target <= 50 ms).

    python bench/gui_throughput.py [--epochs 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer  # noqa: E402

from rnnstudio.app import create_application  # noqa: E402
from rnnstudio.core.presets import get_preset  # noqa: E402
from rnnstudio.core.trainer import Trainer  # noqa: E402


def headless(epochs: int) -> float:
    p = get_preset("rnn-embedding").project
    trainer = Trainer(p.task, p.model, replace(p.train, epochs=epochs))
    last = None
    for last in trainer.epochs():
        pass
    first_epoch_time = 0.0
    return (epochs - 1) / (last.elapsed - first_epoch_time) if last else 0.0


class Windowed:
    """One window reused across rounds; each round is a fresh run."""

    def __init__(self, app, epochs: int) -> None:
        from rnnstudio.ui.main_window import MainWindow

        self.app = app
        self.window = MainWindow()
        self.window.resize(1440, 900)
        self.window.show()
        spin = self.window.config_panel.findChild(object, "epochsSpin")
        spin.setValue(epochs)
        self.epochs = epochs
        self.max_gap = 0.0
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._tick)

    def _on_first_results(self, batch) -> None:
        if batch.results and not self._timer.isActive():  # trainer built, torch warm: start measuring
            self._clock.start()
            self._timer.start()

    def _tick(self) -> None:
        gap = self._clock.restart()
        self.max_gap = max(self.max_gap, gap)

    def run(self) -> tuple[float, float]:
        w = self.window
        w.act_reset.trigger()
        self.max_gap = 0.0
        loop = QEventLoop()
        w.session.run_ended.connect(loop.quit)
        w.session.results_arrived.connect(self._on_first_results)
        w.act_train.trigger()
        loop.exec()  # the GUI thread runs its event loop, as in the app
        w.session.run_ended.disconnect(loop.quit)
        w.session.results_arrived.disconnect(self._on_first_results)
        self._timer.stop()
        history = w.history()
        assert len(history) == self.epochs, len(history)
        rate = (history[-1].epoch - history[0].epoch) / (history[-1].elapsed - history[0].elapsed)
        return rate, self.max_gap

    def close(self) -> None:
        self.window.setWindowModified(False)
        self.window.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings_dir = tempfile.mkdtemp(prefix="rnnstudio-bench-")
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, settings_dir)
    app = create_application()
    windowed = Windowed(app, args.epochs)
    headless(200)  # warm up torch
    h_rates, g_rates, gaps = [], [], []
    for _ in range(args.rounds):
        h_rates.append(headless(args.epochs))
        rate, gap = windowed.run()
        g_rates.append(rate)
        gaps.append(gap)
    windowed.close()
    h, g = statistics.median(h_rates), statistics.median(g_rates)
    print(f"rnn-embedding, {args.epochs} epochs x {args.rounds} rounds, alternating")
    print(f"headless trainer : {h:8.0f} epochs/s")
    print(f"window, live plot: {g:8.0f} epochs/s   ratio {g / h:.2f} (target >= 0.90)")
    print(f"GUI 5 ms timer   : longest wait {max(gaps):.0f} ms (target <= 50 ms)")


if __name__ == "__main__":
    main()
