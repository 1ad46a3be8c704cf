"""Training speed with the window live vs headless, and how responsive the GUI thread stays.

Runs the rnn-embedding preset for N epochs (default 5,000) headless (the core's
trainer in a process of its own, as `rnnstudio train` runs it) and in the window
(shown offscreen, plot and log live, also in a fresh process of its own after a
warm-up run), alternately: headless, window, headless, window, ..., headless.
Each windowed run is compared with the mean of the
headless runs just before and just after it, so the drifts of a shared machine
(its speed changes by a third within a minute) fall on both sides. It prints
the median of these per-round ratios window / headless (target >= 0.90) with
their range, and the waits of a 5 ms QTimer in the GUI thread during the
windowed runs: the longest (target <= 50 ms), the 99th percentile, and how many
exceeded 50 ms.

    python bench/gui_throughput.py [--epochs 5000] [--rounds 7] [--budget B] [--max-ms MS]
        [--one-process | --null | --versus BUDGET MAX_MS | --inside | --refresh-cost]

With --one-process, all windowed runs happen in one window of this process (as
before 2026-11-28): that samples one process's placement on the CPUs, where the
headless side samples a fresh one every run.

--inside and --refresh-cost compare within one process (they always run so).

With --refresh-cost, what the live refresh alone costs: single runs of 4 x --epochs
epochs switch the refresh off and on every 1.5 s (so the drift falls on both).

With --null, the measure's own resolution: the same rounds with a third headless
run in place of the window. Its ratio would be 1.00 on a steady machine; how far
its median and range stray from that is how far a round's or a run's ratio can
stray with no window at all.

With --versus BUDGET MAX_MS, what the live refresh rate costs: pairs of windowed
runs, each in a fresh process, one with the app's refresh settings and one with
that budget and longest interval (AB, BA, AB, ...), each compared with the
headless runs around it, and the second's epochs/s with the first's in each round.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_stats import median_interval

from rnnstudio.core.presets import get_preset
from rnnstudio.core.results import epochs_per_second
from rnnstudio.core.trainer import Trainer

#: The windowed process's first run, not measured (the headless side warms up with 200 epochs).
WARM_UP_EPOCHS = 500

if "--headless-only" not in sys.argv:  # the headless runs load no Qt, as `rnnstudio train`
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer

    from rnnstudio.app import create_application, freeze_startup_objects


def child_output(command: list[str]) -> str:
    """The last line a benchmark child printed; its errors shown if it failed."""
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"gui_throughput: a child run failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    return out.stdout.strip().splitlines()[-1]


def headless_in_subprocess(epochs: int) -> float:
    """Epochs/s of the trainer alone, in a fresh interpreter with no Qt loaded."""
    return float(child_output([sys.executable, __file__, "--headless-only", "--epochs", str(epochs)]))


def window_in_subprocess(epochs: int, timer: bool, budget: float | None, max_ms: int | None = None) -> dict:
    """One windowed run in a fresh process of its own: {"rate", "gaps", "interval"}."""
    command = [sys.executable, __file__, "--window-only", "--epochs", str(epochs)]
    command += [] if timer else ["--no-timer"]
    command += [] if budget is None else ["--budget", str(budget)]
    command += [] if max_ms is None else ["--max-ms", str(max_ms)]
    return json.loads(child_output(command))


def open_window(epochs: int, timer: bool, budget: float | None, max_ms: int | None = None) -> Windowed:
    """The application (its settings in a temporary folder) and the benchmark's window, warmed up.

    A first run not measured, as the headless side warms up too: a window's first run also pays
    for loading torch in the worker, freezing the startup heap and the first paint of the plot.
    """
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, tempfile.mkdtemp(prefix="rnnstudio-bench-"))
    windowed = Windowed(create_application(), WARM_UP_EPOCHS, timer=timer)
    if budget is not None or max_ms is not None:
        from rnnstudio.ui.main_window import LIVE_BUDGET

        windowed.window.set_live_refresh_budget(LIVE_BUDGET if budget is None else budget, max_ms)
    windowed.run()
    windowed.set_epochs(epochs)
    return windowed


def issue_run(windowed: Windowed) -> dict:
    """One run of issue 3's window, as a user gets it: {"rate", "gaps", "interval"}.

    The plot and the predictions log live, and the weight snapshots the inside views are drawn from
    taken as the app takes them (runs before 2026-11-29 evening left them out: about one a second,
    each as long as an epoch, some 0.2% of a run).
    """
    rate, gaps = windowed.run()
    return {"rate": rate, "gaps": gaps, "interval": windowed.window.live_refresh_interval_ms()}


def window_only(epochs: int, timer: bool, budget: float | None, max_ms: int | None) -> None:
    """The child of window_in_subprocess: prints issue_run's result as JSON."""
    windowed = open_window(epochs, timer, budget, max_ms)
    result = issue_run(windowed)
    windowed.close()
    print(json.dumps(result))


def headless(epochs: int) -> float:
    p = get_preset("rnn-embedding").project
    trainer = Trainer(p.task, p.model, replace(p.train, epochs=epochs))
    results = list(trainer.epochs())
    return epochs_per_second(results[0], results[-1])  # the same span the windowed run measures


class Windowed:
    """A window whose every run() is a fresh run (reset weights); reused for several runs in one process."""

    def __init__(self, app, epochs: int, timer: bool = True) -> None:
        from rnnstudio.ui.main_window import MainWindow

        self.app = app
        self.window = MainWindow()
        self.window.session.warmed_up.connect(freeze_startup_objects)  # as run_app does
        self.window.resize(1440, 900)
        self.window.show()
        self.set_epochs(epochs)
        self.gaps: list[int] = []  # ms between two ticks of the 5 ms timer, this run
        self.timer = timer  # the probe is Python in the GUI thread: it takes the GIL 200 times a second
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._tick)

    def set_epochs(self, epochs: int) -> None:
        """Runs from now on train ``epochs`` epochs (typed into the model panel, as a user would)."""
        self.window.config_panel.findChild(object, "epochsSpin").setValue(epochs)
        self.epochs = epochs

    def _on_first_results(self, batch) -> None:
        if self.timer and batch.results and not self._timer.isActive():  # trainer built, torch warm: start
            self._clock.start()
            self._timer.start()

    def _tick(self) -> None:
        self.gaps.append(self._clock.restart())

    def run(self) -> tuple[float, list[int]]:
        """Epochs/s of one fresh run, and the timer's waits during it."""
        w = self.window
        w.act_reset.trigger()
        self.gaps = []
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
        return epochs_per_second(history[0], history[-1]), self.gaps

    def close(self) -> None:
        self.window.setWindowModified(False)
        self.window.close()


def refresh_cost(windowed: Windowed, epochs: int, runs: int, segment_ms: int = 1500) -> None:
    """What the live refresh itself costs training, measured inside single long runs.

    Runs of separate processes differ by the machine's drift; here one run switches the plot, log
    and status bar refresh off and on every ``segment_ms``, and epochs/s is summed per state (the
    20 epochs after each switch left out: the previous state's last frame spills over).
    """
    window = windowed.window
    refresh = window._live._function

    def skip() -> None:  # results still arrive and are kept; only the drawing is left out
        window._live_pending.clear()

    marks: list[tuple[int, bool]] = []
    state = {"on": False, "cost": None}

    def switch() -> None:
        trainer = window.session._worker._trainer if window.session._worker else None
        if trainer is not None:
            live = window._live
            state["on"] = not state["on"]
            if state["on"]:  # the refresh interval as it had adapted to real refreshes, not to skips
                live._cost = state["cost"] if state["cost"] is not None else live._cost
                live._adapt()
            else:
                state["cost"] = live._cost
            live._function = refresh if state["on"] else skip
            marks.append((trainer.epoch, state["on"]))

    timer = QTimer()
    timer.setInterval(segment_ms)
    timer.timeout.connect(switch)
    windowed.set_epochs(epochs)
    ratios = []
    for i in range(runs):
        marks[:] = [(0, False)]
        state["on"] = False
        window._live._function = skip
        timer.start()
        windowed.run()
        timer.stop()
        window._live._function = refresh
        history = window.history()
        elapsed = {r.epoch: r.elapsed for r in history}
        totals = {False: [0, 0.0], True: [0, 0.0]}
        ends = [epoch for epoch, _ in marks[1:]] + [history[-1].epoch]
        for (start, on), end in zip(marks, ends, strict=True):
            start = max(start, history[0].epoch) + 20
            if end - start >= 50:
                totals[on][0] += end - start
                totals[on][1] += elapsed[end] - elapsed[start]
        rate = {on: n / t for on, (n, t) in totals.items()}
        ratios.append(rate[True] / rate[False])
        print(f"  run {i + 1}: refresh off {rate[False]:.0f} epochs/s, on {rate[True]:.0f}, ratio {ratios[-1]:.3f}")
    if state["cost"] is not None:  # the interval the real refreshes had adapted to, as the throttle computes it
        window._live._cost = state["cost"]
        window._live._adapt()
    interval = window.live_refresh_interval_ms()
    print(
        f"live refresh on / off, within runs: {statistics.median(ratios):.3f} median of {runs} "
        f"[{min(ratios):.3f} .. {max(ratios):.3f}]; refreshing every {interval:.0f} ms"
    )


def bracketed(middle: Callable[[], float], epochs: int, rounds: int, name: str) -> tuple[list[float], list[float]]:
    """Rounds of middle() between headless runs: the headless rates, and middle / mean of the two around it."""
    h_rates = [headless_in_subprocess(epochs)]
    ratios: list[float] = []
    for i in range(rounds):
        rate = middle()
        h_rates.append(headless_in_subprocess(epochs))
        around = (h_rates[-2] + h_rates[-1]) / 2
        ratios.append(rate / around)
        print(f"  round {i + 1}: {name} {rate:.0f} epochs/s, headless around it {around:.0f}, ratio {ratios[-1]:.2f}")
    return h_rates, ratios


def measure(run_window: Callable[[], dict], args: argparse.Namespace, how: str) -> None:
    """The issue's measure: run_window() (issue_run's result) between headless runs, then report."""
    print(f"rnn-embedding, {args.epochs} epochs x {args.rounds} rounds, {how}")
    runs: list[dict] = []

    def window_rate() -> float:
        runs.append(run_window())
        return runs[-1]["rate"]

    h_rates, ratios = bracketed(window_rate, args.epochs, args.rounds, "window")
    gaps = [gap for run in runs for gap in run["gaps"]]
    interval = int(statistics.median(run["interval"] for run in runs))
    report(h_rates, [run["rate"] for run in runs], ratios, gaps, interval, timer=not args.no_timer)


def spread(ratios: list[float], note: str = "") -> str:
    """The median of per-round ratios, how many, their range, ``note``, and where the true median
    lies with 95% confidence if the rounds are independent (bench_stats.py)."""
    level = 0.95
    low, high, confidence = median_interval(ratios, level)
    where = (
        f"true median in {low:.2f} .. {high:.2f} ({confidence:.0%})"
        if confidence >= level
        else f"too few rounds for a {level:.0%} interval"
    )
    return (
        f"{statistics.median(ratios):.2f} median of {len(ratios)} rounds "
        f"[{min(ratios):.2f} .. {max(ratios):.2f}]{note}; {where}"
    )


def report(
    h_rates: list[float], g_rates: list[float], ratios: list[float], gaps: list[int], interval: int, timer: bool
) -> None:
    """Print the medians, the ratio with its range and the timer's waits."""
    print(f"headless trainer : {statistics.median(h_rates):8.0f} epochs/s (median)")
    print(f"window, live plot: {statistics.median(g_rates):8.0f} epochs/s (median); refreshing every {interval} ms")
    print(f"ratio window/headless: {spread(ratios, ' (target >= 0.90)')}")
    print(f"GUI 5 ms timer   : {timer_waits(gaps, timer)}")


def timer_waits(gaps: list[int], timer: bool) -> str:
    """The 5 ms timer's longest wait, its 99th percentile and how many waits went over 50 ms."""
    if not timer:
        return "not run (--no-timer)"
    gaps = sorted(gaps) or [0]
    p99 = gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))]
    over = sum(g > 50 for g in gaps)
    return (
        f"longest wait {gaps[-1]} ms (target <= 50 ms), 99th percentile {p99} ms, "
        f"{over} of {len(gaps)} waits over 50 ms"
    )


def versus(args: argparse.Namespace, budget: float, max_ms: int) -> None:
    """The app's refresh settings against (budget, max_ms): pairs of windows in fresh processes, in
    the order AB, BA, AB, ..., each compared with the headless runs around it, and with its pair."""
    first = "the app's refresh" if args.budget is None and args.max_ms is None else "--budget/--max-ms"
    names = [first, f"budget {budget:g}, at most {max_ms} ms"]
    settings = {names[0]: (args.budget, args.max_ms), names[1]: (budget, max_ms)}
    print(f"rnn-embedding, {args.epochs} epochs x {args.rounds} rounds of two windows, each in a fresh process")
    runs: list[tuple[str, dict]] = []

    def window_rate() -> float:
        i = len(runs)
        name = names[(i % 2) ^ (i // 2 % 2)]  # AB, BA, ...: neither always runs first
        print(f"  pair {i // 2 + 1}, {name}:")
        runs.append((name, window_in_subprocess(args.epochs, not args.no_timer, *settings[name])))
        return runs[-1][1]["rate"]

    _, ratios = bracketed(window_rate, args.epochs, 2 * args.rounds, "window")
    rates = {name: [run["rate"] for n, run in runs if n == name] for name in names}
    for name in names:
        mine = [r for (n, _), r in zip(runs, ratios, strict=True) if n == name]
        gaps = [g for n, run in runs if n == name for g in run["gaps"]]
        interval = int(statistics.median(run["interval"] for n, run in runs if n == name))
        print(
            f"{name}: window/headless {spread(mine)}; {statistics.median(rates[name]):.0f} epochs/s, "
            f"refreshing every {interval} ms\n  5 ms timer: {timer_waits(gaps, not args.no_timer)}"
        )
    paired = [b / a for a, b in zip(rates[names[0]], rates[names[1]], strict=True)]
    print(f"window rates, {names[1]} / {names[0]}, within each round: {spread(paired)}")


def null_test(epochs: int, rounds: int) -> None:
    print(f"null test: rnn-embedding, {epochs} epochs x {rounds} rounds, headless in place of the window")
    _, ratios = bracketed(lambda: headless_in_subprocess(epochs), epochs, rounds, "headless")
    print(f"ratio headless/headless: {spread(ratios, ' (1.00 on a steady machine)')}")


def inside_modes(window) -> dict:
    """Name -> how to set the window up: the baseline, then each inside view shown with probes on."""

    def baseline() -> None:
        window.session.set_probes(False)
        window.show_view(window.prediction_log)

    def showing(view, setup=None):
        def apply() -> None:
            window.session.set_probes(True)
            window.show_view(view)
            if setup:
                setup()

        return apply

    return {
        "window, no inside views": baseline,
        "+ film-strip": showing(window.film_strip),
        "+ time steps (latest)": showing(window.step_inspector),
        "+ try it ('hello')": showing(window.try_it, lambda: window.try_it.set_text("hello")),
        "+ gradient flow": showing(window.gradient_flow),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=7)
    mode = parser.add_mutually_exclusive_group()  # the issue's measure, in fresh processes, if none
    mode.add_argument("--inside", action="store_true", help="measure the inside views (issue 4)")
    parser.add_argument("--budget", type=float, help="share of the GUI thread's time for live refreshes")
    parser.add_argument("--max-ms", type=int, help="longest interval between live refreshes (ms)")
    parser.add_argument("--no-timer", action="store_true", help="throughput only, without the 5 ms timer probe")
    mode.add_argument(
        "--refresh-cost", action="store_true", help="the live refresh's own cost, switched off and on within runs"
    )
    mode.add_argument(
        "--null", action="store_true", help="the measure's resolution: a headless run in place of the window"
    )
    mode.add_argument(
        "--one-process", action="store_true", help="all windowed runs in this process, not each in a fresh one"
    )
    mode.add_argument(
        "--versus",
        nargs=2,
        type=float,
        metavar=("BUDGET", "MAX_MS"),
        help="the app's refresh settings (or --budget/--max-ms) against these, in pairs of fresh windows",
    )
    parser.add_argument("--headless-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--window-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.headless_only:
        headless(200)  # warm up torch, as the window's warm-up does
        print(headless(args.epochs))
        return
    if args.epochs < 50 or args.rounds < 1:
        parser.error("need --epochs >= 50 and --rounds >= 1")
    from rnnstudio.ui.main_window import LIVE_MIN_MS  # the throttle refuses a longest interval below it

    for budget, max_ms in [(args.budget, args.max_ms), args.versus or (None, None)]:
        if budget is not None and not 0 < budget <= 1:
            parser.error("a refresh budget is a share of the GUI thread's time: more than 0, at most 1")
        if max_ms is not None and not (float(max_ms).is_integer() and LIVE_MIN_MS <= max_ms <= 60_000):
            parser.error(f"a longest refresh interval is a whole number of ms from {LIVE_MIN_MS} to 60,000")
    if args.null and (args.budget is not None or args.max_ms is not None):
        parser.error("--null runs no window: --budget and --max-ms do not apply")
    if args.window_only:
        window_only(args.epochs, not args.no_timer, args.budget, args.max_ms)
        return
    if args.null:
        null_test(args.epochs, args.rounds)
        return
    if args.versus:
        versus(args, args.versus[0], int(args.versus[1]))
        return
    if not (args.one_process or args.inside or args.refresh_cost):

        def fresh() -> dict:
            return window_in_subprocess(args.epochs, not args.no_timer, args.budget, args.max_ms)

        measure(fresh, args, "each run in a fresh process")
        return
    windowed = open_window(args.epochs, not args.no_timer, args.budget, args.max_ms)
    if args.refresh_cost:
        windowed.window.session.set_probes(False)
        windowed.timer = False
        print(f"rnn-embedding, {4 * args.epochs} epochs x {args.rounds} runs")
        refresh_cost(windowed, 4 * args.epochs, args.rounds)
        windowed.close()
        return
    if args.inside:
        print(f"rnn-embedding, {args.epochs} epochs x {args.rounds} rounds, in this one process")
        modes = inside_modes(windowed.window)
        rates: dict[str, list[float]] = {name: [] for name in modes}
        for _ in range(args.rounds):
            for name, apply in modes.items():
                apply()
                rates[name].append(windowed.run()[0])
        windowed.close()
        base = rates["window, no inside views"]
        for name, values in rates.items():
            # Each view against the baseline of its own round (the machine drifts between rounds).
            ratios = [v / b for v, b in zip(values, base, strict=True)]
            print(f"{name:26s} {statistics.median(values):6.0f} epochs/s   ratio {spread(ratios, ' (target >= 0.90)')}")
        return
    measure(lambda: issue_run(windowed), args, "all windowed runs in this one process")
    windowed.close()


if __name__ == "__main__":
    main()
