"""The training session: a worker thread runs the core's trainer; results reach the GUI thread intact."""

from __future__ import annotations

import sys
import threading
from dataclasses import replace

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from rnnstudio.core.config import PROBE_MAX_BYTES, PROBE_SPARSE_BYTES
from rnnstudio.core.presets import get_preset
from rnnstudio.core.results import DIVERGED, FAILED, FINISHED, STOPPED
from rnnstudio.core.trainer import Trainer
from rnnstudio.session.training import DENSE_RUN_EPOCHS, IDLE, PAUSED, RUNNING
from tests.trainer_doubles import trainer_factory_of_sizes


def preset(preset_id: str = "rnn-embedding", **train_changes):
    p = get_preset(preset_id).project
    return p.task, p.model, replace(p.train, **train_changes)


class Collector:
    """Keeps every result and outcome the session delivers (slots run in the GUI thread)."""

    def __init__(self, session) -> None:
        self.batches = []
        self.outcomes = []
        self.threads = set()
        session.results_arrived.connect(self.on_batch)
        session.run_ended.connect(self.outcomes.append)

    def on_batch(self, batch) -> None:
        self.threads.add(threading.current_thread().name)
        self.batches.append(batch)

    @property
    def results(self):
        return [r for b in self.batches for r in b.results]


def test_pyside_signal_emits_do_not_leak_references_to_true(qtbot) -> None:
    """PySide6 6.12.0 drops a reference to True per emit and crashes Python 3.11 (PITFALLS.md)."""

    class Emitter(QObject):
        fired = Signal(bool)

    emitter = Emitter()
    received = [0]

    def count(value: bool) -> None:  # keeps no reference: a kept one would hide the one dropped
        received[0] += value

    emitter.fired.connect(count)
    before = sys.getrefcount(True)
    for _ in range(200):  # few enough that a leaking build does not free True during the test
        emitter.fired.emit(True)
    assert received[0] == 200
    assert sys.getrefcount(True) >= before


def test_run_delivers_every_epoch_in_order_equal_to_headless(qtbot, make_session) -> None:
    task, model, train = preset(epochs=300)
    session = make_session()
    got = Collector(session)
    with qtbot.waitSignal(session.run_ended, timeout=60_000):
        assert session.start(task, model, train)
    assert got.outcomes[-1].status == FINISHED
    assert [r.epoch for r in got.results] == list(range(1, 301))
    headless = list(Trainer(task, model, train).epochs())
    assert [r.loss for r in got.results] == [r.loss for r in headless]
    assert [r.predictions for r in got.results] == [r.predictions for r in headless]
    with_results = [b for b in got.batches if b.results]
    assert with_results[0].results[0].epoch == 1 and len(with_results[0].results) == 1  # first epoch at once
    assert len(got.batches) < 300  # coalesced, not one signal per epoch
    assert got.threads == {threading.main_thread().name}
    assert session.state == IDLE


def test_train_again_continues_from_current_weights(qtbot, make_session) -> None:
    task, model, train = preset(epochs=10)
    session = make_session()
    got = Collector(session)
    for _ in range(2):
        assert not session.is_active()
        with qtbot.waitSignal(session.run_ended, timeout=60_000):
            session.start(task, model, train)
    assert [r.epoch for r in got.results] == list(range(1, 21))
    one_run = list(Trainer(task, model, replace(train, epochs=20)).epochs())
    assert [r.loss for r in got.results] == [r.loss for r in one_run]
    # a changed configuration starts afresh
    assert session.can_continue(task, model, train)
    assert not session.can_continue(task, model, replace(train, lr=0.01))
    with qtbot.waitSignal(session.run_ended, timeout=60_000):
        session.start(task, model, replace(train, lr=0.01))
    assert got.results[-1].epoch == 10


def test_a_run_continues_with_other_threads_or_an_equal_explicit_vocabulary(qtbot, make_session) -> None:
    task, model, train = preset(epochs=5, threads=1)
    built = []

    def factory(*args):
        built.append(Trainer(*args))
        return built[-1]

    session = make_session(factory)
    got = Collector(session)
    with qtbot.waitSignal(session.run_ended, timeout=60_000):
        session.start(task, model, train)
    explicit = replace(task, vocab=task.vocabulary().chars)
    assert session.can_continue(explicit, model, replace(train, threads=2))
    assert not session.can_continue(task, model, replace(train, device="cpu"))  # the weights live on a device
    with qtbot.waitSignal(session.run_ended, timeout=60_000):
        session.start(explicit, model, replace(train, threads=2))
    assert [r.epoch for r in got.results] == list(range(1, 11))
    assert len(built) == 1 and built[0].threads == 2  # the new count applies from this run on


def test_pause_step_resume_and_stop(qtbot, make_session) -> None:
    task, model, train = preset(epochs=100_000)
    session = make_session()
    got = Collector(session)
    session.start(task, model, train)
    qtbot.waitUntil(lambda: len(got.results) >= 3, timeout=30_000)
    with qtbot.waitSignal(session.paused_at, timeout=10_000) as paused:
        session.pause()
    assert session.state == PAUSED
    epoch = paused.args[0]
    qtbot.waitUntil(lambda: got.results[-1].epoch == epoch)  # flushed on pause
    with qtbot.waitSignal(session.paused_at, timeout=10_000) as stepped:
        session.step()
    assert stepped.args[0] == epoch + 1
    qtbot.waitUntil(lambda: got.results[-1].epoch == epoch + 1)
    with qtbot.waitSignal(session.paused_at, timeout=10_000) as stepped:
        session.step(7)  # several epochs, then paused again
    assert stepped.args[0] == epoch + 8
    with pytest.raises(ValueError, match="at least one epoch"):
        session.step(0)  # would leave a count that makes the next Step run none
    qtbot.waitUntil(lambda: got.results[-1].epoch == epoch + 8)
    session.resume()
    assert session.state == RUNNING
    qtbot.waitUntil(lambda: got.results[-1].epoch > epoch + 12, timeout=30_000)
    with qtbot.waitSignal(session.run_ended, timeout=10_000):
        session.stop()
    assert got.outcomes[-1].status == STOPPED
    assert [r.epoch for r in got.results] == list(range(1, got.results[-1].epoch + 1))


def test_step_from_idle_runs_exactly_one_epoch_then_waits(qtbot, make_session) -> None:
    task, model, train = preset(epochs=50)
    session = make_session()
    got = Collector(session)
    with qtbot.waitSignal(session.paused_at, timeout=60_000) as paused:
        session.start(task, model, train, steps=1)
    assert paused.args[0] == 1
    qtbot.waitUntil(lambda: len(got.results) == 1)
    assert session.state == PAUSED
    with qtbot.waitSignal(session.run_ended, timeout=10_000):
        session.stop()
    assert [r.epoch for r in got.results] == [1]


def test_a_failing_factory_ends_the_run_with_the_reason(qtbot, make_session) -> None:
    def broken(task, model, train):
        raise RuntimeError("out of memory (simulated)")

    session = make_session(broken)
    got = Collector(session)
    with qtbot.waitSignal(session.run_ended, timeout=10_000):
        session.start(*preset())
    assert got.outcomes[-1].status == FAILED
    assert "out of memory (simulated)" in got.outcomes[-1].message
    assert session.state == IDLE


def test_an_exception_mid_run_keeps_the_epochs_before_it(qtbot, make_session) -> None:
    built = []

    class Flaky(Trainer):
        def epochs(self, control=None, count=None):
            for r in super().epochs(control, count):
                if r.epoch == 4 and len(built) == 1:
                    raise ValueError("boom at epoch 4")
                yield r

    def factory(*args):
        built.append(args)
        return Flaky(*args)

    session = make_session(factory)
    got = Collector(session)
    with qtbot.waitSignal(session.run_ended, timeout=60_000):
        session.start(*preset())
    assert got.outcomes[-1].status == FAILED and "boom at epoch 4" in got.outcomes[-1].message
    assert [r.epoch for r in got.results] == [1, 2, 3]
    # the session is usable again, from fresh weights (a failed run leaves none to continue)
    with qtbot.waitSignal(session.run_ended, timeout=60_000):
        session.start(*preset())
    assert got.outcomes[-1].status == FINISHED
    assert len(built) == 2 and got.results[-1].epoch == 15


def test_divergence_is_a_clear_outcome(qtbot, make_session) -> None:
    task, model, train = preset("rnn-onehot", optimizer="sgd", lr=10.0, epochs=200)
    model = replace(model, nonlinearity="relu", head="linear", hidden_size=64)
    session = make_session()
    got = Collector(session)
    with qtbot.waitSignal(session.run_ended, timeout=60_000):
        session.start(task, model, train)
    outcome = got.outcomes[-1]
    if outcome.status != DIVERGED:
        pytest.skip("this configuration did not diverge on this build")
    assert "try a lower learning rate" in outcome.message
    assert not session.can_continue(task, model, train)  # its weights would only diverge again


def test_shutdown_during_a_run_joins_the_thread(qtbot, make_session) -> None:
    task, model, train = preset(epochs=1_000_000)
    session = make_session()
    got = Collector(session)
    session.start(task, model, train)
    qtbot.waitUntil(lambda: len(got.results) >= 2, timeout=30_000)
    thread = session._thread
    session.shutdown()
    assert thread.isFinished()
    assert session.state == IDLE


def test_probes_carry_initial_and_final_weights_and_gradient_flow(qtbot, make_session) -> None:
    task, model, train = preset(epochs=40)
    session = make_session()
    got = Collector(session)
    with qtbot.waitSignal(session.run_ended, timeout=60_000):
        session.start(task, model, train)
    probes = [snap for b in got.batches for snap in b.snapshots]
    assert probes[0].epoch == 0 and probes[-1].epoch == 40  # untrained, and the weights it ended with
    assert got.batches[0].results == ()  # the epoch-0 probe comes alone, before any epoch
    reference = Trainer(task, model, train)
    initial = reference.snapshot()
    list(reference.epochs())
    final = reference.snapshot()
    for name, value in final.weights.items():
        assert (probes[-1].weights[name] == value).all()
        assert (probes[0].weights[name] == initial.weights[name]).all()
    assert probes[-1].grad_norms.shape == (model.num_layers, len(task.pairs[0].input))
    assert (probes[-1].grad_norms == reference.gradient_flow()).all()


@pytest.mark.parametrize(
    ("size", "probed"),
    [(1_000, "every batch"), (PROBE_SPARSE_BYTES + 1, "start and end"), (PROBE_MAX_BYTES + 1, "never")],
)
def test_a_large_model_is_probed_sparsely_and_a_huge_one_never(qtbot, make_session, monkeypatch, size, probed):
    """Each probe copies every weight: a large model's would fill the memory (64 MB each at hiddenSize 2048)."""
    from rnnstudio.session import training

    monkeypatch.setattr(training, "PROBE_BUDGET", 1.0)  # no time limit: only the size decides
    task, model, train = preset(epochs=30)

    session = make_session(trainer_factory_of_sizes(size), interval=1e-9)
    got = Collector(session)
    infos = []
    session.trainer_built.connect(infos.append)
    with qtbot.waitSignal(session.run_ended, timeout=60_000):
        session.start(task, model, train)
    probed_epochs = [snap.epoch for b in got.batches for snap in b.snapshots]
    expected = {"every batch": list(range(31)), "start and end": [0, 30], "never": []}[probed]
    assert probed_epochs == expected
    # ... and the views are told so, to say why their snapshots are few or none
    assert [i.recording for i in infos] == [
        {"every batch": "every", "start and end": "sparse", "never": "never"}[probed]
    ]


@pytest.mark.parametrize(
    ("epochs", "seconds", "dense"),
    [(15, 60.0, True), (DENSE_RUN_EPOCHS, 60.0, True), (DENSE_RUN_EPOCHS + 1, 60.0, False), (15, 1e-9, False)],
    ids=["15-epochs", "the-most-epochs", "one-epoch-too-many", "probes-too-slow"],
)
def test_a_short_run_is_probed_after_every_epoch_a_long_or_slow_one_within_the_budget(
    qtbot, make_session, monkeypatch, epochs, seconds, dense
):
    """The notebook's 15-epoch program gave Time steps and Gradient flow epochs 0 and 15 only. But a
    probe steps the network by hand: on 32 pairs of 200 characters 100 probes took 9 s more."""
    from rnnstudio.session import training

    monkeypatch.setattr(training, "DENSE_SECONDS", seconds)  # what the probes may take in all
    task, model, train = preset(epochs=epochs)
    session = make_session(interval=10.0)  # one batch for the first epoch, the rest at the end
    got = Collector(session)
    with qtbot.waitSignal(session.run_ended, timeout=60_000):
        session.start(task, model, train)
    probed = [snap.epoch for b in got.batches for snap in b.snapshots]
    if dense:
        assert probed == list(range(epochs + 1))
    else:  # the first batch's probe (if the budget allowed it), and the end's
        assert probed[0] == 0 and probed[-1] == epochs and len(probed) <= 3
    assert len(got.batches) <= 3  # still coalesced: the probes ride in the batches
    assert [r.epoch for r in got.results] == list(range(1, epochs + 1))


def test_a_step_and_a_pause_always_come_with_the_weights_they_stopped_at(qtbot, make_session) -> None:
    """The probe budget may refuse a batch's probe; a pause or an end must not."""
    task, model, train = preset(epochs=50)
    session = make_session()
    got = Collector(session)
    with qtbot.waitSignal(session.paused_at, timeout=60_000):
        session.start(task, model, train, steps=1)
    qtbot.waitUntil(lambda: any(snap.epoch == 1 for b in got.batches for snap in b.snapshots))
    with qtbot.waitSignal(session.paused_at, timeout=10_000):
        session.step()
    qtbot.waitUntil(lambda: any(snap.epoch == 2 for b in got.batches for snap in b.snapshots))
    with qtbot.waitSignal(session.run_ended, timeout=10_000):
        session.stop()


def test_after_shutdown_late_results_are_ignored_and_nothing_restarts(qtbot, make_session) -> None:
    session = make_session()
    got = Collector(session)
    session.start(*preset(epochs=1_000_000))
    qtbot.waitUntil(lambda: len(got.results) >= 2, timeout=30_000)
    session.shutdown()
    seen = len(got.batches)
    QApplication.processEvents()  # deliver any batch the worker had queued: it must be dropped
    assert len(got.batches) == seen
    assert not session.start(*preset()) and session._thread is None


def test_a_longer_batch_interval_takes_effect_mid_run_and_still_delivers_every_epoch(qtbot, make_session) -> None:
    # The window slows batches to its refresh rate while a run goes: fewer wake-ups, nothing dropped.
    task, model, train = preset(epochs=1500)
    session = make_session(interval=1 / 30)
    got = Collector(session)
    with qtbot.waitSignal(session.results_arrived, timeout=60_000):
        assert session.start(task, model, train)
    with pytest.raises(ValueError):
        session.set_batch_interval(0)
    session.set_batch_interval(60.0)
    assert session.batch_interval() == 60.0
    before = len(got.batches)
    with qtbot.waitSignal(session.run_ended, timeout=60_000):
        pass
    assert len(got.batches) - before <= 2  # at most one already under way, then the run's final flush
    assert [r.epoch for r in got.results] == list(range(1, 1501))
