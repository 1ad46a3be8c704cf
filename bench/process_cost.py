"""What the app's process costs the trainer, apart from any work the window does.

gui_throughput.py compares a windowed run with the trainer alone in a process of
its own. This splits that gap in two. Two long-lived processes take turns:

- plain: the trainer alone, no Qt loaded (as `rnnstudio train` runs it);
- app: QApplication and the main window (shown offscreen, as in gui_throughput.py).

Each turn runs N epochs: in the plain process, and in the app's process either
in its main thread with the window idle ("main": the same loop, no GUI work at
all) or as a run in the window, plot and log live ("window"). Each app-process
turn is compared with the mean of the plain turns just before and after it;
the processes stay up, so turns follow each other within a second or two and
the machine's drift mostly falls on both sides. Both sides of a round train on
the same CPU, taking the CPUs in turn (the training thread is pinned there, the
process's other threads to the other CPUs): this VM's CPUs can differ in speed
by a quarter for minutes at a time, and a long-lived process would otherwise
keep the CPU it happened to get. Prints the median ratio and its interquartile
range.

    python bench/process_cost.py [--epochs 1000] [--rounds 30] [--no-window] [--any-cpu]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
BENCH = Path(__file__).resolve().parent
CPUS = frozenset(os.sched_getaffinity(0))  # before any pinning
TRAINING_THREAD = "rnnstudio-train"  # the worker QThread's name as the kernel keeps it (15 characters)
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))


def serve(kind: str) -> None:
    """Answer "main N CPU" / "window N CPU" lines on stdin with epochs/s on stdout, until "quit".

    CPU >= 0: train on that CPU (see pin); -1: wherever the scheduler puts the thread.
    """
    from rnnstudio.core.presets import get_preset
    from rnnstudio.core.results import epochs_per_second
    from rnnstudio.core.trainer import Trainer

    project = get_preset("rnn-embedding").project
    trainer = Trainer(project.task, project.model, replace(project.train, epochs=1_000_000))

    def main_thread(n: int) -> float:
        results = list(trainer.epochs(count=n))
        return epochs_per_second(results[0], results[-1])

    main_thread(300)  # torch's one-time costs
    window = None
    if kind == "app":
        import gui_throughput

        window = gui_throughput.open_window(1000, timer=False, budget=None)
        window.window.session.set_probes(False)  # issue 3's window: plot and log, no inside views
    print("ready", flush=True)
    for line in sys.stdin:
        command, n, cpu = line.split()
        if command == "quit":
            break
        if int(cpu) >= 0:
            pin(int(cpu), TRAINING_THREAD if command == "window" else None)
        if command == "window" and window is not None:
            window.set_epochs(int(n))
            rate = window.run()[0]
        else:
            rate = main_thread(int(n))
        print(rate, flush=True)
    if window is not None:
        window.close()


def pin(cpu: int, thread_name: str | None) -> None:
    """Train on ``cpu``: the training thread there (``thread_name``, or the main thread), all others elsewhere."""
    others = CPUS - {cpu} or {cpu}
    main_tid = threading.get_native_id()
    trainer = None
    for tid in map(int, os.listdir("/proc/self/task")):
        try:
            name = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
        except OSError:  # the thread ended meanwhile
            continue
        if (name == thread_name) if thread_name else (tid == main_tid):
            trainer = tid
            continue
        try:
            os.sched_setaffinity(tid, others)
        except OSError:  # the thread ended meanwhile
            pass
    what = f"the thread named {thread_name!r}" if thread_name else "the main thread"
    if trainer is None:
        raise SystemExit(f"process_cost: found no {what} to pin")
    try:
        os.sched_setaffinity(trainer, {cpu})
    except OSError as exc:
        raise SystemExit(f"process_cost: could not pin {what} to CPU {cpu}: {exc}") from exc


class Server:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # Qt's offscreen warnings
            text=True,
        )
        self._expect("ready")

    def _expect(self, what: str) -> str:
        line = self.proc.stdout.readline().strip()
        if not line:
            raise SystemExit(f"process_cost: the {self.kind} process ended early (exit {self.proc.wait()})")
        if what and line != what:
            raise SystemExit(f"process_cost: the {self.kind} process said {line!r}, not {what!r}")
        return line

    def ask(self, command: str, epochs: int, cpu: int = -1) -> float:
        self.proc.stdin.write(f"{command} {epochs} {cpu}\n")
        self.proc.stdin.flush()
        return float(self._expect(""))

    def close(self) -> None:
        self.proc.stdin.write("quit 0 -1\n")
        self.proc.stdin.close()
        self.proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000, help="epochs per turn")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--no-window", action="store_true", help="only the app process's main thread")
    parser.add_argument(
        "--any-cpu", action="store_true", help="let the scheduler place the training threads (no pinning)"
    )
    parser.add_argument("--serve", choices=["plain", "app"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if args.epochs < 50 or args.rounds < 1:
        parser.error("need --epochs >= 50 and --rounds >= 1")
    plain, app = Server("plain"), Server("app")
    commands = ["main"] if args.no_window else ["main", "window"]
    ratios: dict[str, list[float]] = {c: [] for c in commands}
    print(f"rnn-embedding, turns of {args.epochs} epochs x {args.rounds} rounds")
    cpus = sorted(CPUS)
    for i in range(args.rounds):
        cpu = -1 if args.any_cpu else cpus[i % len(cpus)]  # both sides of a turn train on the same CPU
        random.shuffle(commands)  # neither always runs first
        for command in commands:
            before = plain.ask("main", args.epochs, cpu)
            rate = app.ask(command, args.epochs, cpu)
            after = plain.ask("main", args.epochs, cpu)
            ratios[command].append(rate / ((before + after) / 2))
    plain.close()
    app.close()
    labels = {
        "main": "app process, main thread, window idle",
        "window": "app process, a run in the window (live)",
    }
    for command, values in sorted(ratios.items()):
        values.sort()
        q1, q3 = values[len(values) // 4], values[(3 * len(values)) // 4]
        print(
            f"{labels[command]:40s} / plain process: median {statistics.median(values):.3f} "
            f"[IQR {q1:.3f} .. {q3:.3f}], {len(values)} turns"
        )


if __name__ == "__main__":
    main()
