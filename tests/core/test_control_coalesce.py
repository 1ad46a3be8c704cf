"""RunControl (pause, resume, step, stop across threads) and the Coalescer that batches results for the UI.

Threads are synchronised with conditions and events that have timeouts; nothing sleeps.
"""

from __future__ import annotations

import random
import threading
import time

import pytest

from rnnstudio.core.coalesce import Coalescer
from rnnstudio.core.control import RunControl
from rnnstudio.core.presets import get_preset
from rnnstudio.core.results import FINISHED, STOPPED

TIMEOUT = 10.0


class Loop:
    """A training loop stand-in: calls ``checkpoint()`` in its own thread, counting what it lets run."""

    def __init__(self, control: RunControl, max_epochs: int = 10**9) -> None:
        self.control = control
        self.max_epochs = max_epochs
        self.ran = 0
        self.blocks = 0
        self.block_threads: list[int] = []
        self.result: str | None = None
        self._cond = threading.Condition()
        control.on_block = self._on_block
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Loop:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.control.request_stop()  # never leave a thread waiting behind a failed test
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive()

    def _on_block(self) -> None:
        with self._cond:
            self.blocks += 1
            self.block_threads.append(threading.get_ident())
            self._cond.notify_all()

    def _run(self) -> None:
        result = "finished"
        while self.ran < self.max_epochs:
            if not self.control.checkpoint():
                result = "stopped"
                break
            with self._cond:
                self.ran += 1
                self._cond.notify_all()
        with self._cond:
            self.result = result
            self._cond.notify_all()

    def wait_for(self, predicate, what: str) -> None:
        with self._cond:
            ok = self._cond.wait_for(lambda: predicate() or self.result is not None, TIMEOUT)
            assert ok and predicate(), f"timed out waiting for {what} (ran={self.ran}, blocks={self.blocks})"

    def runs_past(self, count: int, seconds: float) -> bool:
        """Whether the loop runs more than ``count`` epochs within ``seconds`` (True as soon as it does)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.ran > count, seconds)

    def wait_blocks(self, n: int) -> None:
        self.wait_for(lambda: self.blocks >= n, f"block {n}")

    def join(self) -> str | None:
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive()
        return self.result


# --- RunControl on its own -------------------------------------------------------------------


def test_running_control_lets_every_epoch_through_until_stopped() -> None:
    control = RunControl()
    assert not control.paused and not control.stop_requested
    assert all(control.checkpoint() for _ in range(1000))
    control.request_stop()
    assert control.stop_requested
    assert control.checkpoint() is False
    assert control.checkpoint() is False  # a stop stays a stop


def test_paused_loop_blocks_then_steps_exactly_and_resumes() -> None:
    control = RunControl(paused=True)
    with Loop(control, max_epochs=10) as loop:
        loop.wait_blocks(1)
        assert loop.ran == 0  # paused from the start: not one epoch ran
        control.step(1)
        loop.wait_blocks(2)
        assert loop.ran == 1
        control.step(3)
        loop.wait_blocks(3)
        assert loop.ran == 4
        assert control.paused  # stepping leaves the run paused
        control.resume()
        assert loop.join() == "finished"
    assert loop.ran == 10
    assert loop.blocks == 3  # on_block: once per block, not once per wake-up
    assert set(loop.block_threads) == {loop.thread.ident}  # in the blocking thread


def test_stop_wakes_a_paused_loop() -> None:
    control = RunControl(paused=True)
    with Loop(control) as loop:
        loop.wait_blocks(1)
        control.request_stop()
        assert loop.join() == "stopped"
    assert loop.ran == 0


def test_pause_from_another_thread_stops_a_running_loop_between_epochs() -> None:
    control = RunControl()
    with Loop(control) as loop:
        loop.wait_for(lambda: loop.ran >= 3, "a few free-running epochs")
        control.pause()
        loop.wait_blocks(1)
        held = loop.ran
        control.step(1)
        loop.wait_blocks(2)
        assert loop.ran == held + 1
        control.request_stop()
        assert loop.join() == "stopped"
    assert loop.ran == held + 1


def test_hold_keeps_a_running_loop_at_its_next_checkpoint_until_released() -> None:
    # The GUI draws a frame inside hold(): the training loop must wait at the epoch boundary, then go on.
    control = RunControl()
    passed = threading.Event()

    def loop() -> None:
        assert control.checkpoint()
        passed.set()

    with control.hold():
        worker = threading.Thread(target=loop)
        worker.start()
        assert not passed.wait(0.2)  # held: the checkpoint does not return
    assert passed.wait(5)  # released: it does, and the epoch runs
    worker.join(5)
    assert control.checkpoint()  # and nothing stays held


def test_stop_while_held_ends_the_loop_once_the_hold_is_released() -> None:
    control = RunControl()
    results: list[bool] = []
    with control.hold():
        worker = threading.Thread(target=lambda: results.append(control.checkpoint()))
        worker.start()
        control.request_stop()
    worker.join(5)
    assert results == [False]


def test_a_hold_starts_once_a_running_loop_has_arrived_at_its_checkpoint() -> None:
    # The frame must not be drawn while an epoch is still running beside it (GIL hand-offs): hold()
    # returns only when the loop waits at its checkpoint, and the loop runs no epoch until released.
    control = RunControl()
    with Loop(control) as loop:
        loop.wait_for(lambda: loop.ran > 0, "the loop to run")
        with control.hold(park_timeout=TIMEOUT):
            assert control.parked()
            held = loop.ran
            # An epoch here takes microseconds: unheld, the loop would run on at once (and fail this early).
            assert not loop.runs_past(held, 0.05)
        loop.wait_for(lambda: loop.ran > held + 100, "the loop to run on after the hold")


def test_a_hold_does_not_wait_for_a_paused_loop() -> None:
    control = RunControl()
    control.pause()
    with Loop(control) as loop:
        loop.wait_blocks(1)
        start = time.monotonic()
        with control.hold(park_timeout=TIMEOUT):
            assert time.monotonic() - start < TIMEOUT / 2  # it would reach no checkpoint: no wait
            assert not control.parked()


def test_a_hold_gives_up_waiting_for_a_loop_in_a_long_epoch() -> None:
    control = RunControl()  # a run whose loop is not at a checkpoint (a long epoch, a trainer being built)
    start = time.monotonic()
    with control.hold(park_timeout=0.05):
        waited = time.monotonic() - start
    assert 0.04 <= waited < TIMEOUT / 2
    assert not control.parked()


def test_step_on_a_running_control_pauses_after_the_granted_epochs() -> None:
    control = RunControl()
    control.step(2)
    assert control.paused
    assert control.checkpoint() and control.checkpoint()
    with Loop(control, max_epochs=1) as loop:
        loop.wait_blocks(1)
        assert loop.ran == 0  # the third checkpoint waits


def test_resume_cancels_steps_not_yet_taken() -> None:
    control = RunControl(paused=True)
    control.step(5)
    control.resume()
    control.pause()
    with Loop(control) as loop:
        loop.wait_blocks(1)
        assert loop.ran == 0  # the five steps were not kept for later


def test_on_block_runs_without_the_lock_so_it_may_call_the_control() -> None:
    control = RunControl(paused=True)
    calls: list[int] = []

    def on_block() -> None:
        calls.append(threading.get_ident())
        control.step(1)  # would deadlock if checkpoint held its lock while calling back

    control.on_block = on_block
    done = threading.Event()
    answers: list[bool] = []

    def run() -> None:
        answers.append(control.checkpoint())
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert done.wait(TIMEOUT)
    thread.join(TIMEOUT)
    assert answers == [True]
    assert calls == [thread.ident]


# --- RunControl driving a real Trainer -------------------------------------------------------


def _trainer(preset_id: str = "rnn-onehot"):
    from rnnstudio.core.trainer import Trainer

    project = get_preset(preset_id).project
    return Trainer(project.task, project.model, project.train)


class TrainerThread:
    """Runs ``trainer.epochs(control)`` in a thread, recording results and blocks."""

    def __init__(self, trainer, control: RunControl) -> None:
        self.trainer = trainer
        self.control = control
        self.results: list = []
        self.blocks: list[int] = []  # how many results existed at each block
        self.block_threads: list[int] = []
        self.error: BaseException | None = None
        self.done = False
        self._cond = threading.Condition()
        control.on_block = self._on_block
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _on_block(self) -> None:
        with self._cond:
            self.blocks.append(len(self.results))
            self.block_threads.append(threading.get_ident())
            self._cond.notify_all()

    def _run(self) -> None:
        try:
            for r in self.trainer.epochs(self.control):
                with self._cond:
                    self.results.append(r)
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc
        finally:
            with self._cond:
                self.done = True
                self._cond.notify_all()

    def wait_blocks(self, n: int) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.blocks) >= n or self.done, TIMEOUT)
            assert len(self.blocks) >= n, f"run ended after {len(self.results)} epochs instead of blocking"

    def join(self) -> None:
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive()
        assert self.error is None


def test_step_runs_exactly_one_epoch_of_a_real_trainer_and_pausing_changes_no_number() -> None:
    trainer = _trainer()
    control = RunControl(paused=True)
    run = TrainerThread(trainer, control)
    try:
        run.wait_blocks(1)
        assert run.results == []
        control.step(1)
        run.wait_blocks(2)
        assert [r.epoch for r in run.results] == [1]
        control.step(1)
        run.wait_blocks(3)
        assert [r.epoch for r in run.results] == [1, 2]
        control.step(3)
        run.wait_blocks(4)
        assert [r.epoch for r in run.results] == [1, 2, 3, 4, 5]
        control.resume()
        run.join()
    finally:
        control.request_stop()
        run.thread.join(TIMEOUT)
    assert run.blocks == [0, 1, 2, 5]
    assert set(run.block_threads) == {run.thread.ident}
    assert trainer.outcome.status == FINISHED
    uninterrupted = [r.loss for r in _trainer().epochs()]
    assert [r.loss for r in run.results] == uninterrupted
    assert len(uninterrupted) == get_preset("rnn-onehot").project.train.epochs


def test_stop_from_another_thread_ends_a_paused_trainer_with_outcome_stopped() -> None:
    trainer = _trainer()
    control = RunControl(paused=True)
    run = TrainerThread(trainer, control)
    try:
        run.wait_blocks(1)
        control.step(2)
        run.wait_blocks(2)
        control.request_stop()
        run.join()
    finally:
        control.request_stop()
        run.thread.join(TIMEOUT)
    assert [r.epoch for r in run.results] == [1, 2]
    assert trainer.outcome.status == STOPPED
    assert trainer.outcome.epoch == 2
    assert trainer.outcome.message == "stopped after epoch 2"


def test_time_spent_paused_is_not_counted_as_training_time(monkeypatch) -> None:
    from rnnstudio.core import trainer as trainer_module

    trainer = _trainer()
    real = time.perf_counter
    offset = [0.0]
    monkeypatch.setattr(trainer_module.time, "perf_counter", lambda: real() + offset[0])
    control = RunControl(paused=True)
    steps_left = [3]

    def on_block() -> None:
        offset[0] += 1000.0  # as if the user left it paused for 1000 s
        if steps_left[0]:
            steps_left[0] -= 1
            control.step(1)
        else:
            control.request_stop()

    control.on_block = on_block  # each block: a long pause, then one more epoch (three in all)
    results = []
    for r in trainer.epochs(control):
        results.append(r)
    assert [r.epoch for r in results] == [1, 2, 3]
    assert trainer.outcome.status == STOPPED
    assert all(0 < r.elapsed < 100 for r in results)
    assert results[0].elapsed <= results[1].elapsed <= results[2].elapsed
    assert trainer.elapsed < 100


def test_time_a_frame_holds_the_loop_is_counted_as_training_time(monkeypatch) -> None:
    # The window's epochs/s must include what drawing costs training, or a live plot would look free.
    from rnnstudio.core import trainer as trainer_module

    trainer = _trainer()
    real = time.perf_counter
    offset = [0.0]
    monkeypatch.setattr(trainer_module.time, "perf_counter", lambda: real() + offset[0])
    control = RunControl()
    checkpoint = control.checkpoint

    def held_checkpoint() -> bool:
        offset[0] += 1000.0  # as if a frame held the loop at this checkpoint for 1000 s
        return checkpoint()

    control.checkpoint = held_checkpoint
    results = list(trainer.epochs(control, 3))
    assert [r.epoch for r in results] == [1, 2, 3]
    assert 3000 <= results[-1].elapsed < 3100
    assert 3000 <= trainer.elapsed < 3100


# --- Coalescer -------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_first_item_is_emitted_at_once() -> None:
    clock = FakeClock()
    c = Coalescer(interval=1.0, clock=clock)
    assert c.add("a") == ["a"]
    assert c.pending == 0


def test_fast_items_wait_and_go_out_together_once_the_interval_has_passed() -> None:
    clock = FakeClock()
    c = Coalescer(interval=1.0, clock=clock)
    assert c.add(1) == [1]
    for item, t in ((2, 0.2), (3, 0.5), (4, 0.9)):
        clock.now = 100.0 + t
        assert c.add(item) is None
    assert c.pending == 3
    clock.now = 101.0
    assert c.add(5) == [2, 3, 4, 5]
    assert c.pending == 0
    clock.now = 101.3
    assert c.add(6) is None  # a new interval starts at the last batch


def test_slow_items_are_each_emitted_immediately() -> None:
    clock = FakeClock()
    c = Coalescer(interval=0.5, clock=clock)
    for i in range(20):
        clock.advance(0.75)
        assert c.add(i) == [i]


def test_an_item_after_a_quiet_gap_goes_out_at_once_even_soon_after_a_flush() -> None:
    clock = FakeClock()
    c = Coalescer(interval=1.0, clock=clock)
    assert c.add("a") == ["a"]
    clock.advance(0.2)
    assert c.add("b") is None
    clock.advance(0.1)
    assert c.flush() == ["b"]  # e.g. on pause
    clock.advance(0.95)  # 1.05 s after "b", but only 0.95 s after the flush's batch
    assert c.add("c") == ["c"]  # the user is not kept waiting for a slow epoch


def test_flush_hands_over_everything_pending_and_nothing_twice() -> None:
    clock = FakeClock()
    c = Coalescer(interval=1.0, clock=clock)
    assert c.flush() == []
    c.add(0)
    for i in range(1, 6):
        clock.advance(0.01)
        assert c.add(i) is None
    assert c.pending == 5
    assert c.flush() == [1, 2, 3, 4, 5]
    assert c.flush() == []
    assert c.pending == 0


def test_default_interval_gives_a_few_dozen_batches_a_second() -> None:
    c = Coalescer()
    assert 1 / 60 <= c.interval <= 1 / 15


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_long_random_sequence_loses_and_reorders_nothing_and_batches_at_most_once_per_interval(seed: int) -> None:
    rng = random.Random(seed)
    clock = FakeClock()
    interval = 0.05
    c: Coalescer[int] = Coalescer(interval=interval, clock=clock)
    received: list[int] = []
    add_batch_times: list[float] = []  # batches returned by add since the last flush
    batches = 0
    n = 20_000
    for i in range(n):
        # bursts of fast epochs, slow stretches, and now and then a long stall
        clock.advance(rng.choice([0.0, 0.0005, 0.002, 0.01, rng.uniform(0, 0.2), rng.uniform(0, 2)]))
        batch = c.add(i)
        if batch is not None:
            assert batch, "a batch is never empty"
            received += batch
            batches += 1
            if add_batch_times:  # at most one batch per interval (flushes aside)
                assert clock.now - add_batch_times[-1] >= interval
            add_batch_times.append(clock.now)
        if rng.random() < 0.002:  # pause / stop / finish
            received += c.flush()
            add_batch_times.clear()
        assert len(received) + c.pending == i + 1  # nothing is lost at any moment
    received += c.flush()
    assert received == list(range(n))  # none dropped, none duplicated, none reordered
    assert batches < n / 2  # and batching did happen
