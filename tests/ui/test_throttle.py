"""The throttles that pace GUI work during a run: at once when idle, the last request kept, never lost."""

from __future__ import annotations

import pytest

from rnnstudio.ui.throttle import FrameThrottle, Throttle


class FakeClocks:
    """A CPU clock the test moves by hand: each call of the refresh 'costs' ``cost`` CPU seconds."""

    def __init__(self, cost: float) -> None:
        self.cpu = 0.0
        self.cost = cost
        self.calls = 0

    def refresh(self) -> None:
        self.calls += 1
        self.cpu += self.cost


def test_throttle_runs_at_once_then_keeps_the_last_request(qtbot):
    calls = []
    throttle = Throttle(50, lambda: calls.append(1))
    throttle.request()
    assert calls == [1]  # idle: at once
    throttle.request()
    throttle.request()
    assert calls == [1]  # within the interval: waits, and two requests make one call
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=2000)
    throttle.cancel()


def test_frame_throttle_stretches_its_interval_to_keep_within_the_budget(qtbot):
    clocks = FakeClocks(cost=0.030)  # 30 ms of GUI CPU per refresh, budget 10%: one every 300 ms
    throttle = FrameThrottle(clocks.refresh, min_ms=20, max_ms=400, budget=0.1, clock=lambda: clocks.cpu)
    assert throttle.interval_ms() == 20
    for _ in range(4):  # refreshes in a row, as during a run
        throttle.request()
        throttle.request()
        qtbot.waitUntil(lambda: not throttle._timer.isActive(), timeout=2000)
    assert clocks.calls == 8
    assert throttle.interval_ms() == pytest.approx(300, abs=2)


def test_frame_throttle_stays_within_its_bounds(qtbot):
    clocks = FakeClocks(cost=1.0)  # absurdly slow refreshes still come at least every max_ms
    throttle = FrameThrottle(clocks.refresh, min_ms=20, max_ms=60, budget=0.1, clock=lambda: clocks.cpu)
    throttle.request()
    throttle.request()
    qtbot.waitUntil(lambda: clocks.calls == 2, timeout=2000)
    assert throttle.interval_ms() == 60
    clocks.cost = 0.0  # cheap refreshes: back to the shortest interval
    for _ in range(6):
        throttle.request()
        throttle.request()
        qtbot.waitUntil(lambda: not throttle._timer.isActive(), timeout=2000)
    assert throttle.interval_ms() == 20


def test_frame_throttle_counts_only_the_refresh_not_other_gui_work(qtbot):
    # An inside view or the user's typing between refreshes must not slow the live views down.
    clocks = FakeClocks(cost=0.001)
    throttle = FrameThrottle(clocks.refresh, min_ms=20, max_ms=60, budget=0.1, clock=lambda: clocks.cpu)
    for _ in range(4):
        throttle.request()
        qtbot.waitUntil(lambda: not throttle._timer.isActive(), timeout=2000)
        clocks.cpu += 5.0  # the GUI did a lot of other work meanwhile
    assert throttle.interval_ms() == 20


def test_frame_throttle_request_made_during_a_refresh_waits_for_the_next(qtbot):
    calls = []

    def refresh() -> None:
        calls.append(1)
        if len(calls) == 1:
            throttle.request()  # e.g. a batch delivered while painting: not a nested refresh

    throttle = FrameThrottle(refresh, min_ms=20, max_ms=20, budget=1.0)
    throttle.request()
    assert calls == [1]
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=2000)
    throttle.cancel()


def test_frame_throttle_flush_runs_a_waiting_refresh_at_once_and_cancel_drops_it(qtbot):
    clocks = FakeClocks(cost=0.0)
    throttle = FrameThrottle(clocks.refresh, min_ms=1000, max_ms=1000, budget=0.1, clock=lambda: clocks.cpu)
    throttle.request()
    throttle.request()
    assert clocks.calls == 1
    throttle.flush()  # a run paused or ended: its last epochs are shown now, not a second later
    assert clocks.calls == 2
    throttle.flush()  # nothing waits: nothing runs
    assert clocks.calls == 2
    throttle.request()
    throttle.cancel()
    throttle.flush()
    assert clocks.calls == 2


def test_frame_throttle_budget_can_be_changed_and_is_checked(qtbot):
    clocks = FakeClocks(cost=0.010)
    throttle = FrameThrottle(clocks.refresh, min_ms=10, max_ms=1000, budget=0.1, clock=lambda: clocks.cpu)
    throttle.set_budget(0.02)  # 10 ms a refresh within 2%: one every 500 ms
    throttle.request()
    throttle.request()
    qtbot.waitUntil(lambda: clocks.calls == 2, timeout=2000)
    assert throttle.interval_ms() == pytest.approx(500, abs=2)
    with pytest.raises(ValueError):
        throttle.set_budget(0)
    throttle.cancel()


def test_frame_throttle_longest_interval_can_be_changed_and_is_checked(qtbot):
    clocks = FakeClocks(cost=0.015)
    throttle = FrameThrottle(clocks.refresh, min_ms=10, max_ms=1000, budget=0.01, clock=lambda: clocks.cpu)
    throttle.request()
    throttle.cancel()  # only the interval matters here: no timer left running, whatever fails below
    assert throttle.interval_ms() == 1000  # 15 ms within 1% wants 1500 ms: held at max_ms
    throttle.set_budget(0.01, max_ms=2000)  # a higher ceiling lets it stretch to what the budget asks
    assert throttle.interval_ms() == pytest.approx(1500, abs=2)
    throttle.set_budget(0.01, max_ms=300)  # however costly, at least every 300 ms
    assert throttle.interval_ms() == 300
    throttle.set_budget(0.01, max_ms=10)  # max_ms == min_ms is allowed
    assert throttle.interval_ms() == 10
    with pytest.raises(ValueError):
        throttle.set_budget(0.01, max_ms=5)  # below min_ms
    with pytest.raises(ValueError):
        throttle.set_budget(0.0, max_ms=300)  # a bad budget changes nothing, max_ms included
    assert throttle.interval_ms() == 10


@pytest.mark.parametrize("kwargs", [{"min_ms": 0}, {"min_ms": 50, "max_ms": 10}, {"budget": 0.0}, {"budget": 2.0}])
def test_frame_throttle_refuses_nonsense_settings(kwargs):
    with pytest.raises(ValueError):
        FrameThrottle(lambda: None, **kwargs)


def test_a_refresh_in_two_parts_serves_the_event_loop_between_them_and_counts_both(qtbot):
    from PySide6.QtCore import QTimer

    cpu = [0.0]
    order = []

    def second() -> None:
        order.append("second")
        cpu[0] += 0.020

    def first() -> None:
        order.append("first")
        cpu[0] += 0.010
        QTimer.singleShot(0, lambda: order.append("timer"))  # due at once: served between the parts
        throttle.then(second)

    throttle = FrameThrottle(first, min_ms=10, max_ms=1000, budget=0.1, clock=lambda: cpu[0])
    throttle.request()
    assert order == ["first"]  # the second part does not run within the first
    assert throttle.interval_ms() == 10  # nor is the refresh's cost known yet
    qtbot.waitUntil(lambda: "second" in order, timeout=2000)
    assert order == ["first", "timer", "second"]
    assert throttle.interval_ms() == pytest.approx(300, abs=2)  # 10 + 20 ms at 10%
    throttle.cancel()


def test_flush_runs_the_rest_of_a_refresh_at_once_and_cancel_drops_it(qtbot, event_loop_turn):
    parts = []

    def refresh() -> None:
        parts.append("first")
        throttle.then(lambda: parts.append("second"))

    throttle = FrameThrottle(refresh, min_ms=10, max_ms=1000, budget=0.1)
    throttle.request()
    throttle.flush()  # a run paused or ended: its last state is shown whole, now
    assert parts == ["first", "second"]
    throttle.cancel()  # stops the interval too: the next request runs at once
    throttle.request()
    throttle.cancel()  # the window is reset or closing: the rest of the refresh is not drawn
    event_loop_turn()  # when the rest would have run
    assert parts == ["first", "second", "first"]


def test_the_parts_of_successive_refreshes_run_in_order_and_each_refresh_counts_its_own(qtbot):
    cpu = [0.0]
    order = []

    def refresh() -> None:
        n = order.count("first") + 1
        order.append("first")
        cpu[0] += 0.010
        throttle.then(lambda: (order.append(f"second {n}"), cpu.__setitem__(0, cpu[0] + 0.020)))

    throttle = FrameThrottle(refresh, min_ms=10, max_ms=1000, budget=0.1, clock=lambda: cpu[0])
    throttle.request()  # runs at once; its second part waits for the event loop
    throttle.request()  # within the interval: waits
    throttle.flush()  # a batch and the run's end in one turn: the first refresh's rest comes first
    assert order == ["first", "second 1", "first", "second 2"]
    assert throttle.interval_ms() == pytest.approx(300, abs=2)  # each refresh 10 + 20 ms, at 10%
    throttle.cancel()


def test_a_refresh_hands_on_one_part_at_a_time(qtbot):
    def refresh() -> None:
        throttle.then(lambda: None)
        throttle.then(lambda: None)

    throttle = FrameThrottle(refresh, min_ms=10, max_ms=1000, budget=0.1)
    with pytest.raises(RuntimeError, match="one part at a time"):
        throttle.request()
    throttle.cancel()
