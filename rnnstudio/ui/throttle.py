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
        self._function()
        self._timer.start()

    def cancel(self) -> None:
        """Forget a waiting call and stop the timer (the window is closing)."""
        self._pending = False
        self._timer.stop()

    @Slot()
    def _on_timer_timeout(self) -> None:
        if self._pending:
            self._pending = False
            self._function()
            self._timer.start()


class FrameThrottle(QObject):
    """A throttle for the live views whose interval adapts to what the GUI thread spends.

    Like Throttle it runs ``function`` at once when idle and at most once per
    interval, the last request kept. The interval is the GUI thread's CPU time
    per refresh (everything it did since the previous one, painting included)
    divided by ``budget``, within ``min_ms`` .. ``max_ms``: on a machine where a
    refresh costs 4 ms the views refresh 10 times a second, where it costs 15 ms
    about 3 times. Every millisecond the GUI thread runs Python is taken from
    the training thread through the GIL, so this keeps training fast on slow
    machines and the views smooth on fast ones.
    """

    def __init__(
        self,
        function: Callable[[], None],
        parent: QObject | None = None,
        min_ms: int = 100,
        max_ms: int = 500,
        budget: float = 0.05,
        clock: Callable[[], float] = time.thread_time,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        if not 0 < min_ms <= max_ms or not 0 < budget <= 1:
            raise ValueError("need 0 < min_ms <= max_ms and 0 < budget <= 1")
        self._function = function
        self._min_ms, self._max_ms, self._budget = min_ms, max_ms, budget
        self._clock, self._wall = clock, wall
        self._pending = False
        self._cost: float | None = None  # smoothed CPU seconds per refresh
        self._last: tuple[float, float] | None = None  # (CPU, wall) times of the last refresh
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(min_ms)
        self._timer.timeout.connect(self._on_timer_timeout)

    def set_budget(self, budget: float) -> None:
        """The share of the GUI thread's time refreshes may take (0 < budget <= 1)."""
        if not 0 < budget <= 1:
            raise ValueError("need 0 < budget <= 1")
        self._budget = budget

    def interval_ms(self) -> int:
        """The interval the next refresh waits."""
        return self._timer.interval()

    def request(self) -> None:
        """Refresh now if the last refresh was long enough ago, else once the interval ends."""
        if self._timer.isActive():
            self._pending = True
            return
        self._run()

    def flush(self) -> None:
        """Run a waiting refresh now (a run paused or ended: show its last state at once)."""
        if self._pending:
            self._pending = False
            self._timer.stop()
            self._run()

    def cancel(self) -> None:
        """Forget a waiting refresh and stop the timer."""
        self._pending = False
        self._timer.stop()

    @Slot()
    def _on_timer_timeout(self) -> None:
        if self._pending:
            self._pending = False
            self._run()

    def _run(self) -> None:
        cpu, wall = self._clock(), self._wall()
        if self._last is not None and wall - self._last[1] <= 2 * self._max_ms / 1000.0:
            # Refreshes in a row: the GUI's CPU time since the last one is what a refresh costs.
            used = cpu - self._last[0]
            self._cost = used if self._cost is None else 0.5 * self._cost + 0.5 * used
            wanted = 1000.0 * self._cost / self._budget
            self._timer.setInterval(int(min(max(wanted, self._min_ms), self._max_ms)))
        self._last = (cpu, wall)
        self._function()
        self._timer.start()
