"""Where a windowed run's training time goes, against the trainer alone.

gui_throughput.py measures the window's epochs/s against the headless trainer's.
This splits the difference. It alternates fresh processes, headless (the trainer
alone, no Qt loaded) and windowed (the issue's run, as gui_throughput.py runs it:
window shown offscreen, plot and log live, after a warm-up run). Over the span the
rate is measured on (epoch 1 to the last), each reports, per epoch:

- wall: the time an epoch takes, as the rate counts it;
- cpu: the training thread's CPU time (from /proc; 10 ms ticks, so over a run good to ~0.1%);
- held: how long the window's frames held training at its epoch gate (windowed only);
- and the training thread's voluntary context switches a second (each time it blocked).

With --gil, also how long the training thread waited for the GIL: an LD_PRELOAD probe
around PyEval_RestoreThread and PyGILState_Ensure, built with the C compiler `cc`,
times those calls in the training thread and sums the ones over 20 us. It costs that
thread two clock reads per call (~90 calls an epoch), and it runs on both sides.
The holds are not GIL waits: the gate is a Python lock, whose waits the probe does
not see.

    python bench/time_split.py [--rounds 6] [--epochs 5000] [--timer] [--gil]

--timer runs gui_throughput.py's 5 ms QTimer in the GUI thread (off by default: it is
the measure's probe, not the app's work).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from bench_stats import median_interval  # noqa: E402 (after the path is set)
from process_cost import TRAINING_THREAD  # noqa: E402

PROBE_ENV = "RNNSTUDIO_GIL_PROBE"
PROBE_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
typedef void (*restore_t)(void *);
typedef int (*ensure_t)(void);
static restore_t real_restore;
static ensure_t real_ensure;
volatile int probe_tid = 0;  /* the thread whose waits count; 0: none */
volatile double probe_waited = 0; volatile long probe_waits = 0;
static __thread int my_tid;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static int watched(void) { if (!my_tid) my_tid = syscall(SYS_gettid); return probe_tid && my_tid == probe_tid; }
static void count(double d) { if (d > 20e-6) { probe_waited += d; probe_waits++; } }
void PyEval_RestoreThread(void *ts) {
    if (!real_restore) real_restore = (restore_t)dlsym(RTLD_NEXT, "PyEval_RestoreThread");
    if (!watched()) { real_restore(ts); return; }
    double a = now(); real_restore(ts); count(now() - a);
}
int PyGILState_Ensure(void) {
    if (!real_ensure) real_ensure = (ensure_t)dlsym(RTLD_NEXT, "PyGILState_Ensure");
    if (!watched()) return real_ensure();
    double a = now(); int r = real_ensure(); count(now() - a); return r;
}
"""


def build_probe(folder: str) -> str:
    """The GIL probe as a shared library in ``folder``; SystemExit naming what is missing."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise SystemExit("time_split: --gil needs a C compiler (cc or gcc) to build its probe")
    source, library = Path(folder) / "gil_probe.c", Path(folder) / "gil_probe.so"
    source.write_text(PROBE_C)
    done = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(library), str(source), "-ldl"], capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"time_split: could not build the GIL probe:\n{done.stderr.decode(errors='replace')}")
    return str(library)


def thread_stats(tid: int) -> tuple[float, int]:
    """(CPU seconds, voluntary context switches) of one thread of this process."""
    stat = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
    status = Path(f"/proc/self/task/{tid}/status").read_text()
    switches = int(status.split("\nvoluntary_ctxt_switches:")[1].split()[0])
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK"), switches


class Probe:
    """The GIL probe's counters when this process was started with it preloaded, else nothing."""

    def __init__(self) -> None:
        path = os.environ.get(PROBE_ENV)
        self.lib = ctypes.CDLL(path) if path else None

    def watch(self, tid: int) -> None:
        if self.lib:
            ctypes.c_int.in_dll(self.lib, "probe_tid").value = tid

    def reset(self) -> None:
        if self.lib:
            ctypes.c_double.in_dll(self.lib, "probe_waited").value = 0.0
            ctypes.c_long.in_dll(self.lib, "probe_waits").value = 0

    def waited(self) -> float | None:
        return ctypes.c_double.in_dll(self.lib, "probe_waited").value if self.lib else None


def headless(epochs: int) -> dict:
    import threading

    from rnnstudio.core.presets import get_preset
    from rnnstudio.core.trainer import Trainer

    probe, tid = Probe(), threading.get_native_id()
    project = get_preset("rnn-embedding").project
    list(Trainer(project.task, project.model, replace(project.train, epochs=200)).epochs())  # warm up
    probe.watch(tid)
    trainer = Trainer(project.task, project.model, replace(project.train, epochs=epochs))
    for result in trainer.epochs():
        if result.epoch == 1:  # the rate's span starts here, as in the window
            first, (cpu0, sw0) = result, thread_stats(tid)
            probe.reset()
    cpu1, sw1 = thread_stats(tid)
    return {
        "wall": result.elapsed - first.elapsed,
        "cpu": cpu1 - cpu0,
        "held": 0.0,
        "switches": sw1 - sw0,
        "gil": probe.waited(),
    }


def windowed(epochs: int, timer: bool) -> dict:
    import gui_throughput

    from rnnstudio.core import control

    held = [0.0]
    hold = control.RunControl.hold

    @contextlib.contextmanager
    def timed_hold(self, *args, **kwargs):
        with hold(self, *args, **kwargs):
            start = time.perf_counter()  # the gate is shut and the loop parked (or 3 ms passed)
            try:
                yield
            finally:
                held[0] += time.perf_counter() - start

    control.RunControl.hold = timed_hold
    probe = Probe()
    window = gui_throughput.open_window(epochs, timer=timer, budget=None)
    tid = next(
        int(t)
        for t in os.listdir("/proc/self/task")
        if Path(f"/proc/self/task/{t}/comm").read_text().strip() == TRAINING_THREAD
    )
    probe.watch(tid)
    mark: dict = {}

    def on_results(batch) -> None:
        if batch.results and "stats" not in mark:  # right after epoch 1
            mark["stats"] = thread_stats(tid)
            held[0] = 0.0
            probe.reset()

    window.window.session.results_arrived.connect(on_results)
    gui_throughput.issue_run(window)
    cpu1, sw1 = thread_stats(tid)
    history = window.window.history()
    window.close()
    cpu0, sw0 = mark["stats"]
    return {
        "wall": history[-1].elapsed - history[0].elapsed,
        "cpu": cpu1 - cpu0,
        "held": held[0],
        "switches": sw1 - sw0,
        "gil": probe.waited(),
    }


def child(kind: str, epochs: int, timer: bool, probe: str | None) -> dict:
    command = [sys.executable, __file__, "--child", kind, "--epochs", str(epochs)] + (["--timer"] if timer else [])
    env = dict(os.environ)
    if probe:
        env.update({"LD_PRELOAD": probe, PROBE_ENV: probe})
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"time_split: a {kind} run failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def summary(values: list[float], form: str = ".3f") -> str:
    """The median of the rounds' values and its 95% interval (bench_stats), each in ``form``."""
    low, high, _ = median_interval(values)
    return f"{statistics.median(values):{form}} [{low:{form}} .. {high:{form}}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=5000)
    parser.add_argument("--timer", action="store_true", help="run gui_throughput.py's 5 ms probe timer too")
    parser.add_argument("--gil", action="store_true", help="time the training thread's GIL waits (needs cc)")
    parser.add_argument("--child", choices=["headless", "window"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rounds < 1 or args.epochs < 2:
        parser.error("--rounds must be at least 1 and --epochs at least 2")
    if args.child:
        result = headless(args.epochs) if args.child == "headless" else windowed(args.epochs, args.timer)
        print(json.dumps(result))
        return
    folder = tempfile.mkdtemp(prefix="rnnstudio-bench-")
    probe = build_probe(folder) if args.gil else None
    n = args.epochs - 1  # epochs in the span
    runs: dict[str, list[dict]] = {"headless": [], "window": []}
    print(f"rnn-embedding, {args.epochs} epochs x {args.rounds} rounds, 5 ms timer {'on' if args.timer else 'off'}")
    for i in range(args.rounds):
        for kind in ("headless", "window") if i % 2 == 0 else ("window", "headless"):
            r = child(kind, args.epochs, args.timer, probe)
            runs[kind].append(r)
            gil = "" if r["gil"] is None else f", GIL waits {r['gil'] / r['wall']:.2%}"
            print(
                f"  round {i + 1} {kind:8s}: wall {r['wall'] / n * 1e3:.3f} ms/epoch, cpu {r['cpu'] / n * 1e3:.3f}, "
                f"on CPU {r['cpu'] / r['wall']:.1%}, held {r['held'] / r['wall']:.2%}{gil}, "
                f"{r['switches'] / r['wall']:.0f} blocks/s",
                flush=True,
            )
    pairs = list(zip(runs["headless"], runs["window"], strict=True))
    print("median [95% interval] over the rounds:")
    print(f"  window / headless, wall per epoch: {summary([w['wall'] / h['wall'] for h, w in pairs])}")
    print(f"  window / headless, CPU per epoch:  {summary([w['cpu'] / h['cpu'] for h, w in pairs])}")
    for kind, rs in runs.items():
        parts = [f"on CPU {summary([r['cpu'] / r['wall'] for r in rs], '.1%')}"]
        if kind == "window":
            parts.append(f"held {summary([r['held'] / r['wall'] for r in rs], '.2%')}")
        if probe:
            parts.append(f"GIL waits {summary([r['gil'] / r['wall'] for r in rs], '.2%')}")
        parts.append(f"blocks/s {summary([r['switches'] / r['wall'] for r in rs], '.0f')}")
        print(f"  {kind}: " + ", ".join(parts))
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
