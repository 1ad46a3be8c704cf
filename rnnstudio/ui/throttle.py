"""A leading-and-trailing throttle for GUI work: at once when idle, at most once per interval, last call kept."""

from __future__ import annotations

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
