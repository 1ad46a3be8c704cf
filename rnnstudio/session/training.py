"""The training session: one long-lived worker thread that owns the trainer, and the run state machine.

Control goes GUI -> worker through RunControl's thread-safe flags; results come
back as coalesced ResultBatch signals. Every worker signal is connected to a
@Slot of TrainingSession, which lives in the GUI thread and re-emits GUI-thread
signals for the views (and for tests to wait on).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.coalesce import DEFAULT_INTERVAL, Coalescer
from ..core.config import PROBE_MAX_BYTES, PROBE_SPARSE_BYTES, ModelConfig, TrainConfig
from ..core.control import RunControl
from ..core.problems import ValidationError
from ..core.project_io import history_key
from ..core.results import DIVERGED, FAILED, EpochResult, RunOutcome, WeightSnapshot
from ..core.sequences import Task

log = logging.getLogger(__name__)

#: Builds a trainer for (task, model config, train config); called in the worker thread.
TrainerFactory = Callable[[Task, ModelConfig, TrainConfig], Any]


def default_trainer_factory(task: Task, model: ModelConfig, train: TrainConfig) -> Any:
    """The core's Trainer; torch is imported here, in the worker thread, on first use."""
    from ..core.trainer import Trainer

    return Trainer(task, model, train)


def default_cuda_available() -> bool:
    """Whether torch sees CUDA; imports torch on first use (in the calling thread), like the factory."""
    try:
        from ..core.trainer import cuda_available
    except Exception:  # no usable torch: no CUDA either (training says why when it starts)
        log.exception("torch could not be loaded")
        return False
    return cuda_available()


#: Share of a run's time the worker may spend taking probes (weights + gradient flow) for the views.
PROBE_BUDGET = 0.05
#: A run of at most this many epochs, of a model whose weights take at most DENSE_MAX_BYTES, is probed
#: after every epoch when its probes would take at most DENSE_SECONDS in all (from the last probe's
#: time): the notebook's 15-epoch programs are seen epoch by epoch in Time steps and Gradient flow. A
#: probe takes one to a few epochs' time (more on long strings: it steps the network by hand), so a
#: longer or slower run is probed at the window's update rate within PROBE_BUDGET instead.
DENSE_RUN_EPOCHS = 100
DENSE_MAX_BYTES = 2**20
DENSE_SECONDS = 0.5


def default_warm_up() -> None:
    """Load torch in the worker thread before the first run, so Train responds at once."""
    from ..core.trainer import warm_up

    warm_up()


IDLE = "idle"
RUNNING = "running"
PAUSED = "paused"
STOPPING = "stopping"


@dataclass(frozen=True)
class RunRequest:
    """What the GUI asks the worker to run."""

    task: Task
    model: ModelConfig
    train: TrainConfig
    epochs: int
    fresh: bool
    control: RunControl


#: TrainerInfo.recording's values.
EVERY, SPARSE, NEVER = "every", "sparse", "never"


@dataclass(frozen=True)
class TrainerInfo:
    """Facts about a freshly built trainer, for the status bar and the inside views."""

    device: str
    threads: int
    #: When the worker takes weight snapshots: EVERY (as the probe budget allows), SPARSE (when
    #: a run starts, pauses or ends: a large model) or NEVER (a huge model, or none can be taken).
    recording: str = EVERY


@dataclass(frozen=True)
class ResultBatch:
    """Per-epoch results, in order, with nothing dropped; plus the probes taken since the last batch,
    in epoch order (at most one for most runs; one per epoch for a short run, see DENSE_RUN_EPOCHS).

    ``results`` may be empty for a batch that carries only the initial (epoch 0) probe.
    """

    results: tuple[EpochResult, ...]
    snapshots: tuple[WeightSnapshot, ...] = ()


class TrainingWorker(QObject):
    """Runs the trainer in its own thread; keeps it between runs so Train can continue."""

    trainer_built = Signal(object)  # TrainerInfo
    batch_ready = Signal(object)  # ResultBatch
    paused = Signal(int)  # the epoch it waits after
    run_ended = Signal(object)  # RunOutcome
    warmed_up = Signal()

    def __init__(self, factory: TrainerFactory, interval: float = DEFAULT_INTERVAL, probes: bool = True) -> None:
        super().__init__()
        self._factory = factory
        self._interval = interval
        self.probes_enabled = probes
        self._trainer: Any = None
        self._coalescer: Coalescer[EpochResult] = Coalescer(interval)
        self._run_start = 0.0
        self._probe_time = 0.0
        self._probed_epoch: int | None = None  # the epoch of the last probe sent
        self._snapshot_bytes = 0  # of the current trainer's weights
        self._last_probe_seconds: float | None = None  # how long the last probe took
        self._probes: list[WeightSnapshot] = []  # taken since the last batch

    @Slot(object)
    def run(self, request: RunRequest) -> None:
        """Train request.epochs epochs; always ends with run_ended, whatever happens."""
        self._coalescer = Coalescer(self._interval)
        self._run_start = time.perf_counter()
        self._probe_time = 0.0
        self._probes = []
        control = request.control
        outcome: RunOutcome | None = None
        try:
            if request.fresh or self._trainer is None:
                self._trainer = None
                self._probed_epoch = None
                self._trainer = self._factory(request.task, request.model, request.train)
                size = getattr(self._trainer, "snapshot_nbytes", None)
                self._snapshot_bytes = size() if callable(size) else 0
                self.trainer_built.emit(
                    TrainerInfo(str(self._trainer.device), self._trainer.threads, self._recording())
                )
                initial = self._probe(force=True)  # epoch 0: the untrained network, for the views
                if initial is not None:
                    self.batch_ready.emit(ResultBatch((), (initial,)))
            elif hasattr(self._trainer, "threads"):  # continuing: the threads may have changed since
                self._trainer.threads = request.train.resolved_threads()
            probe = self._last_probe_seconds
            dense = (  # probed after every epoch (DENSE_RUN_EPOCHS)
                request.epochs <= DENSE_RUN_EPOCHS
                and self._recording() == EVERY
                and self._snapshot_bytes <= DENSE_MAX_BYTES
                and probe is not None
                and probe * request.epochs <= DENSE_SECONDS
            )
            control.on_block = self._on_block
            for result in self._trainer.epochs(control, request.epochs):
                if dense:
                    self._keep(self._probe(force=True))
                batch = self._coalescer.add(result)
                if batch:
                    if not dense:
                        self._keep(self._probe())
                    self.batch_ready.emit(ResultBatch(tuple(batch), self._taken()))
            outcome = self._trainer.outcome
        except ValidationError as exc:
            outcome = RunOutcome(FAILED, self._epoch(), f"cannot train: {exc}")
        except Exception as exc:  # the run ends and says why; the app stays usable
            log.exception("training failed")
            outcome = RunOutcome(FAILED, self._epoch(), f"training failed: {type(exc).__name__}: {exc}")
        finally:
            control.on_block = None
            self._flush()
            self.run_ended.emit(outcome or RunOutcome(FAILED, self._epoch(), "training ended unexpectedly"))

    def set_interval(self, seconds: float) -> None:
        """Seconds between batches; plain attributes the worker reads between epochs (GUI thread)."""
        self._interval = seconds
        self._coalescer.interval = seconds

    @Slot()
    def reset(self) -> None:
        """Forget the trainer: the next run starts from fresh weights."""
        self._trainer = None

    @Slot(object)
    def warm_up(self, function: Callable[[], None]) -> None:
        """Run ``function`` in this thread (torch's one-time costs); failures only get logged."""
        try:
            function()
        except Exception:
            log.exception("warm-up failed")
        finally:
            self.warmed_up.emit()

    def _epoch(self) -> int:
        return getattr(self._trainer, "epoch", 0) if self._trainer is not None else 0

    def _recording(self) -> str:
        """When this trainer's weights will be probed (see TrainerInfo.recording)."""
        if not hasattr(self._trainer, "probe") or self._snapshot_bytes > PROBE_MAX_BYTES:
            return NEVER
        return SPARSE if self._snapshot_bytes > PROBE_SPARSE_BYTES else EVERY

    def _keep(self, snapshot: WeightSnapshot | None) -> None:
        """Keep a probe for the next batch."""
        if snapshot is not None:
            self._probes.append(snapshot)

    def _taken(self) -> tuple[WeightSnapshot, ...]:
        """The probes taken since the last batch, handed over."""
        taken, self._probes = tuple(self._probes), []
        return taken

    def _probe(self, force: bool = False) -> WeightSnapshot | None:
        """Weights and gradient flow now, if the probe budget allows (always when forced).

        A large model is probed only when forced (start, pause, end), a huge one never: each
        probe copies every weight, and the window keeps many (see PROBE_SPARSE_BYTES).
        """
        trainer = self._trainer
        if not self.probes_enabled or trainer is None:
            return None
        recording = self._recording()
        if recording == NEVER or (recording == SPARSE and not force):
            return None
        start = time.perf_counter()
        if not force and self._probe_time > PROBE_BUDGET * (start - self._run_start):
            return None
        try:
            snapshot = trainer.probe()
        except Exception:  # a probe is a view's extra; it never ends a run
            log.exception("probe failed")
            return None
        finally:
            self._last_probe_seconds = time.perf_counter() - start
            self._probe_time += self._last_probe_seconds
        self._probed_epoch = snapshot.epoch
        return snapshot

    def _flush(self) -> None:
        """Send what is pending, with the current weights whenever they have not been probed yet.

        Called when the run pauses or ends: the views then always have the weights it stopped
        with, even when the budget refused the probe of the last batch (a Step, slow epochs).
        """
        batch = self._coalescer.flush()
        if self._trainer is not None and self._epoch() != self._probed_epoch:
            self._keep(self._probe(force=True))
        snapshots = self._taken()
        if batch or snapshots:
            self.batch_ready.emit(ResultBatch(tuple(batch), snapshots))

    def _on_block(self) -> None:  # in the worker thread, just before it waits while paused
        self._flush()
        self.paused.emit(self._epoch())


class TrainingSession(QObject):
    """Starts, pauses, steps, stops and resets runs; relays results to the GUI thread.

    States: idle -> running <-> paused -> (stopping) -> idle. The trainer lives
    in the worker thread between runs, so ``start`` continues from the current
    weights unless the task or configuration changed (or ``reset`` was called).
    """

    state_changed = Signal(str)
    trainer_built = Signal(object)  # TrainerInfo
    results_arrived = Signal(object)  # ResultBatch
    paused_at = Signal(int)  # the worker is waiting after this epoch
    run_ended = Signal(object)  # RunOutcome
    warmed_up = Signal()  # the warm-up (torch's one-time costs) is done

    _run_requested = Signal(object)
    _reset_requested = Signal()
    _warm_up_requested = Signal(object)

    def __init__(
        self,
        trainer_factory: TrainerFactory | None = None,
        parent: QObject | None = None,
        interval: float = DEFAULT_INTERVAL,
        probes: bool = True,
        warm_up: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._factory = trainer_factory or default_trainer_factory
        self._interval = interval
        self._probes = probes
        self._warm_up = warm_up
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._control: RunControl | None = None
        self._state = IDLE
        self._trainer_key: tuple | None = None
        self._closed = False  # after shutdown: no new thread, and late worker signals are ignored

    # -- queries ---------------------------------------------------------
    @property
    def state(self) -> str:
        """idle, running, paused or stopping."""
        return self._state

    def is_active(self) -> bool:
        """Whether a run is going (running, paused or stopping)."""
        return self._state != IDLE

    def can_continue(self, task: Task, model: ModelConfig, train: TrainConfig) -> bool:
        """Whether the next start would continue the current weights rather than start afresh."""
        return self._trainer_key is not None and self._trainer_key == _key(task, model, train)

    # -- commands --------------------------------------------------------
    def start(
        self,
        task: Task,
        model: ModelConfig,
        train: TrainConfig,
        epochs: int | None = None,
        steps: int | None = None,
    ) -> bool:
        """Train ``epochs`` more epochs (train.epochs by default); with ``steps``, run that many then pause."""
        if self.is_active() or self._closed:
            return False
        self._ensure_thread()
        fresh = not self.can_continue(task, model, train)
        self._trainer_key = _key(task, model, train)
        self._control = RunControl(paused=steps is not None)
        if steps:
            self._control.step(steps)
        request = RunRequest(task, model, train, train.epochs if epochs is None else epochs, fresh, self._control)
        self._set_state(PAUSED if steps is not None else RUNNING)
        self._run_requested.emit(request)
        return True

    def pause(self) -> None:
        """Pause after the current epoch; pending results are flushed."""
        if self._state == RUNNING and self._control is not None:
            self._control.pause()
            self._set_state(PAUSED)

    def resume(self) -> None:
        """Carry on after a pause."""
        if self._state == PAUSED and self._control is not None:
            self._control.resume()
            self._set_state(RUNNING)

    def step(self, epochs: int = 1) -> None:
        """Run exactly ``epochs`` more epochs of the run (one by default), then wait paused."""
        if epochs < 1:
            raise ValueError(f"a step is at least one epoch, not {epochs}")
        if self._state in (RUNNING, PAUSED) and self._control is not None:
            self._control.step(epochs)
            self._set_state(PAUSED)

    def stop(self) -> None:
        """End the run before its next epoch."""
        if self._state in (RUNNING, PAUSED) and self._control is not None:
            self._control.request_stop()
            self._set_state(STOPPING)

    def reset(self) -> None:
        """Drop the trained weights: the next start builds a fresh model (only when idle)."""
        if self.is_active():
            return
        self._trainer_key = None
        if self._worker is not None:
            self._reset_requested.emit()

    def shutdown(self) -> None:
        """Stop any run and join the worker thread (closeEvent and test teardown); the session is then closed.

        Results the worker had already queued are still delivered after this returns; they are ignored.
        """
        self._closed = True
        self._trainer_key = None
        if self._control is not None:
            self._control.request_stop()
        if self._thread is not None:
            self._thread.quit()  # quit before wait: the run loop returns, then the event loop exits
            self._thread.wait()
            self._thread = None
            self._worker = None
        if self._state != IDLE:
            self._set_state(IDLE)

    @contextmanager
    def holding_training(self) -> Iterator[None]:
        """Keep the training thread at its next epoch boundary while the block runs (the GUI draws a frame).

        See RunControl.hold. Must not wait on the worker inside: the worker may be waiting here.
        """
        control = self._control
        if control is None:
            yield
            return
        with control.hold():
            yield

    def batch_interval(self) -> float:
        """Seconds between two result batches of a run (the first epoch and flushes aside)."""
        return self._interval

    def set_batch_interval(self, seconds: float) -> None:
        """Send results this often, from the current run's next batch on (a view shows them no faster)."""
        if seconds <= 0:
            raise ValueError("the batch interval must be positive")
        self._interval = seconds
        if self._worker is not None:
            self._worker.set_interval(seconds)

    def set_probes(self, enabled: bool) -> None:
        """Whether runs take probes (weights + gradient flow) for the inside views."""
        self._probes = enabled
        if self._worker is not None:
            self._worker.probes_enabled = enabled  # a plain bool, read by the worker between epochs

    def warm_up(self) -> None:
        """Start the worker thread and let it load torch before the first run (if a warm-up was given)."""
        if self._warm_up is not None and not self._closed:
            self._ensure_thread()
            self._warm_up_requested.emit(self._warm_up)
            self._warm_up = None

    # -- worker wiring ---------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        self._thread = QThread()
        self._thread.setObjectName("rnnstudio-training")
        self._worker = TrainingWorker(self._factory, self._interval, self._probes)
        self._worker.moveToThread(self._thread)
        self._run_requested.connect(self._worker.run)
        self._reset_requested.connect(self._worker.reset)
        self._warm_up_requested.connect(self._worker.warm_up)
        self._worker.warmed_up.connect(self._on_worker_warmed_up)
        self._worker.trainer_built.connect(self._on_worker_trainer_built)
        self._worker.batch_ready.connect(self._on_worker_batch_ready)
        self._worker.paused.connect(self._on_worker_paused)
        self._worker.run_ended.connect(self._on_worker_run_ended)
        self._thread.start()

    @Slot(object)
    def _on_worker_trainer_built(self, info: TrainerInfo) -> None:
        self.trainer_built.emit(info)

    @Slot(object)
    def _on_worker_batch_ready(self, batch: ResultBatch) -> None:
        if not self._closed:
            self.results_arrived.emit(batch)

    @Slot(int)
    def _on_worker_paused(self, epoch: int) -> None:
        self.paused_at.emit(epoch)

    @Slot()
    def _on_worker_warmed_up(self) -> None:
        self.warmed_up.emit()

    @Slot(object)
    def _on_worker_run_ended(self, outcome: RunOutcome) -> None:
        if self._closed:
            return
        if outcome.status in (FAILED, DIVERGED):
            # A failed run leaves no weights to continue from; a diverged one, weights that diverge again.
            self._trainer_key = None
            if self._worker is not None:
                self._reset_requested.emit()
        self._control = None
        self._set_state(IDLE)
        self.run_ended.emit(outcome)

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)


def _key(task: Task, model: ModelConfig, train: TrainConfig) -> tuple:
    """What must be unchanged for a run to continue the same weights.

    The epoch count and the torch threads may change (the worker applies the threads to each
    run), and so may an explicit vocabulary equal to the derived one; the device may not (the
    weights live there).
    """
    return (history_key(task, model, train), train.device)
