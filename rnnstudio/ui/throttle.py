"""A leading-and-trailing throttle for GUI work: at once when idle, at most once per interval, last call kept."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Slot


class Throttle(QObject):
    """Calls ``function`` at most once per ``interval_ms``; a call asked for meanwhile runs at the end.

    So a view fed 10 times a second redraws a few times a second during a run,
    and always shows the last state once the run stops.
    """

    def __init__(self, interval_ms: int, function: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._function = function
        self._pending = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timer_timeout)

    def request(self) -> None:
        """Run now if the last run was long enough ago, else once when the interval ends."""
        if self._timer.isActive():
            self._pending = True
            return
        self._run()

    def flush(self) -> None:
        """Run a waiting call now (a run paused or ended: show its last state at once)."""
        if self._pending:
            self._pending = False
            self._timer.stop()
            self._run()

    def cancel(self) -> None:
        """Forget a waiting call and stop the timer (the window is closing)."""
        self._pending = False
        self._timer.stop()

    @Slot()
    def _on_timer_timeout(self) -> None:
        if self._pending:
            self._pending = False
            self._run()

    def _run(self) -> None:
        self._function()
        self._timer.start()


class FrameThrottle(Throttle):
    """A throttle for the live views whose interval adapts to what a refresh costs the GUI thread.

    Like Throttle it runs ``function`` at once when idle and at most once per
    interval, the last request kept. The interval is the GUI thread's CPU time
    for one refresh (``function`` and the parts it hands to ``then``, each of
    which paints what it changed, see MainWindow._drawing_frame) divided by
    ``budget``, within ``min_ms`` .. ``max_ms``: where a refresh costs 4 ms the views refresh 10 times a second
    at a 5% budget, where it costs 15 ms about 3 times. Every millisecond the
    GUI thread spends is taken from the training thread (the GIL, the frame
    gate), and more besides (measured in README: Performance), so this keeps
    training fast on slow machines and the views smooth on fast ones. Other GUI
    work between refreshes is not counted.
    """

    def __init__(
        self,
        function: Callable[[], None],
        parent: QObject | None = None,
        min_ms: int = 100,
        max_ms: int = 500,
        budget: float = 0.05,
        clock: Callable[[], float] = time.thread_time,
    ) -> None:
        _check(min_ms, max_ms, budget)
        super().__init__(min_ms, function, parent)
        self._min_ms, self._max_ms, self._budget = min_ms, max_ms, budget
        self._clock = clock
        self._cost: float | None = None  # smoothed CPU seconds per refresh
        self._used = 0.0  # CPU seconds of the refresh in progress (all its parts so far)
        self._rest: Callable[[], None] | None = None  # its next part, if any (see then)
        self._rest_timer = QTimer(self)
        self._rest_timer.setSingleShot(True)
        self._rest_timer.setInterval(0)
        self._rest_timer.timeout.connect(self._run_rest)

    def then(self, part: Callable[[], None]) -> None:
        """Called by the refresh: run ``part`` as the refresh's next part, on the next turn of the
        event loop, so that timers and input are served between the parts. Its CPU time counts
        in the refresh's cost. A flush runs it at once; a cancel drops it."""
        if self._rest is not None:
            raise RuntimeError("a refresh hands on one part at a time")
        self._rest = part
        self._rest_timer.start()

    def flush(self) -> None:
        """Run a waiting call now, and the rest of a refresh in progress."""
        super().flush()
        self._run_rest()

    def cancel(self) -> None:
        """Forget a waiting call and the rest of a refresh in progress."""
        super().cancel()
        self._rest = None
        self._rest_timer.stop()

    def set_budget(self, budget: float, max_ms: int | None = None) -> None:
        """The share of the GUI thread's time refreshes may take (0 < budget <= 1), and optionally
        the longest interval, however costly a refresh (min_ms <= max_ms). Both are checked first."""
        max_ms = self._max_ms if max_ms is None else max_ms
        _check(self._min_ms, max_ms, budget)
        self._budget, self._max_ms = budget, max_ms
        self._adapt()

    def interval_ms(self) -> int:
        """The interval the next refresh waits."""
        return self._timer.interval()

    def _run(self) -> None:
        # The timer runs from the start: a request made during the refresh waits for the next one.
        self._timer.start()
        try:
            self._run_rest()  # the previous refresh's parts come first
        finally:  # and this one runs even if they failed
            self._used = 0.0
            self._run_part(self._function)

    @Slot()
    def _run_rest(self) -> None:
        part, self._rest = self._rest, None
        self._rest_timer.stop()
        if part is not None:
            self._run_part(part)

    def _run_part(self, part: Callable[[], None]) -> None:
        start = self._clock()
        try:
            part()
        finally:
            self._used += self._clock() - start
            if self._rest is None:  # the refresh's last part: its whole cost is known
                used = self._used
                self._cost = used if self._cost is None else 0.5 * self._cost + 0.5 * used
                self._adapt()

    def _adapt(self) -> None:
        if self._cost is not None:
            wanted = 1000.0 * self._cost / self._budget
            self._timer.setInterval(int(min(max(wanted, self._min_ms), self._max_ms)))


def _check(min_ms: int, max_ms: int, budget: float) -> None:
    """A FrameThrottle's settings, refused unless 0 < min_ms <= max_ms and 0 < budget <= 1."""
    if not 0 < min_ms <= max_ms or not 0 < budget <= 1:
        raise ValueError("need 0 < min_ms <= max_ms and 0 < budget <= 1")
