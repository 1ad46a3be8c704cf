"""The inspector thread answers the views' requests; on a channel the latest request wins."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from rnnstudio.core.presets import get_preset
from rnnstudio.core.trainer import Trainer
from rnnstudio.session.inspector import InferenceRequest, Inspector, WalkthroughRequest


@pytest.fixture
def inspector(qtbot):
    made = []

    def make(compute=None):
        made.append(Inspector(compute))
        return made[-1]

    yield make
    for i in made:
        i.shutdown()


def test_inference_reply_equals_the_trainer(qtbot, inspector) -> None:
    p = get_preset("rnn-embedding").project
    trainer = Trainer(p.task, p.model, p.train)
    list(trainer.epochs(count=3))
    insp = inspector()
    request = InferenceRequest("steps", p.model, trainer.vocab, trainer.snapshot(), "hello", "ohlol")
    with qtbot.waitSignal(insp.replied, timeout=30_000) as reply:
        insp.submit(request)
    got = reply.args[0]
    assert got.error is None and got.request is request
    np.testing.assert_array_equal(got.result.probabilities, trainer.infer("hello").probabilities)


def test_bad_text_becomes_an_error_message_not_a_crash(qtbot, inspector) -> None:
    p = get_preset("rnn-onehot").project
    trainer = Trainer(p.task, p.model, p.train)
    insp = inspector()
    with qtbot.waitSignal(insp.replied, timeout=30_000) as reply:
        insp.submit(InferenceRequest("try", p.model, trainer.vocab, trainer.snapshot(), "hexlo"))
    assert reply.args[0].result is None
    assert "'x' is not in the vocabulary" in reply.args[0].error


def test_latest_request_on_a_channel_wins(qtbot, inspector) -> None:
    gate = threading.Event()
    computed = []

    def compute(request):
        gate.wait(10)  # the first request blocks the worker while more arrive
        computed.append(request.seed)
        return request.seed

    insp = inspector(compute)
    replies = []
    insp.replied.connect(replies.append)
    for seed in range(5):
        insp.submit(WalkthroughRequest("lesson", 1, 3, 4, 2, 1, seed))
    gate.set()
    qtbot.waitUntil(lambda: bool(replies) and replies[-1].result == 4, timeout=10_000)
    assert computed[-1] == 4
    assert len(computed) < 5  # stale requests were skipped, not queued
