"""RunControl: stop, pause, resume and single steps for a training loop, without Qt."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Longest a frame waits for the training loop to reach its checkpoint (seconds): about two epochs here.
PARK_TIMEOUT = 0.003


class RunControl:
    """Thread-safe flags the training loop checks between epochs.

    The GUI thread calls ``pause``, ``resume``, ``step`` and ``request_stop``;
    the training thread calls ``checkpoint`` before each epoch. ``on_block``,
    if set, runs in the training thread each time it is about to wait while
    paused (the session flushes its pending results there).
    """

    def __init__(self, paused: bool = False) -> None:
        self._cond = threading.Condition()
        self._stop = False
        self._paused = paused
        self._steps = 0
        self._gate = threading.Lock()  # held by the GUI while it draws a frame; see hold()
        self._parked = threading.Event()  # set by the loop when it finds the gate held
        self.on_block: Callable[[], None] | None = None
        self.paused_seconds = 0.0  # time the loop has spent waiting paused (written by the loop only)

    @property
    def stop_requested(self) -> bool:
        """Whether a stop was asked for."""
        return self._stop

    @property
    def paused(self) -> bool:
        """Whether the loop waits at its next checkpoint (unless a step is granted)."""
        return self._paused

    def request_stop(self) -> None:
        """Stop before the next epoch; wakes a paused loop."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def pause(self) -> None:
        """Wait before the next epoch until resumed, stepped or stopped."""
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        """Carry on training epoch after epoch."""
        with self._cond:
            self._paused = False
            self._steps = 0
            self._cond.notify_all()

    def step(self, epochs: int = 1) -> None:
        """Run exactly ``epochs`` more epochs, then wait paused."""
        with self._cond:
            self._paused = True
            self._steps += epochs
            self._cond.notify_all()

    @contextmanager
    def hold(self, park_timeout: float = PARK_TIMEOUT) -> Iterator[None]:
        """Keep the training loop at its next checkpoint while the block runs.

        The GUI thread draws a frame inside this. Both threads run Python, and a
        frame makes hundreds of calls that release the GIL (every Qt signal emit,
        every C++ -> Python call of a paint): each one handed the GIL to the
        training thread and back, which cost the training thread a context switch
        and the frame a switch interval. Waiting at the checkpoint instead costs
        training only the frame's own few milliseconds, at most an epoch late.

        So the block starts only once the loop has arrived at its checkpoint, or
        after ``park_timeout`` seconds (an epoch longer than that; the block then
        runs beside it), and at once when the loop is paused or stopping. The
        wait releases the GIL: the loop gets there at full speed.
        """
        self._parked.clear()  # before taking the gate: the loop sets it only while the gate is held
        with self._gate:
            if park_timeout > 0 and not self._paused and not self._stop:
                self._parked.wait(park_timeout)
            yield

    def parked(self) -> bool:
        """Whether the loop has arrived at its checkpoint during the current hold (for tests)."""
        return self._parked.is_set()

    def checkpoint(self) -> bool:
        """Called before each epoch: True to run it, False to stop. Blocks while paused (or held)."""
        if not self._paused and not self._stop:  # the hot path takes one uncontended lock
            if not self._gate.acquire(blocking=False):  # a frame is being drawn: say so, then wait
                self._parked.set()
                self._gate.acquire()
            self._gate.release()
            if not self._paused and not self._stop:  # a pause or stop asked for while held counts now
                return True
        start = time.perf_counter()
        try:
            return self._wait_while_paused()
        finally:
            self.paused_seconds += time.perf_counter() - start

    def _wait_while_paused(self) -> bool:
        notified = False
        with self._cond:
            while True:
                if self._stop:
                    return False
                if not self._paused:
                    return True
                if self._steps > 0:
                    self._steps -= 1
                    return True
                if not notified and self.on_block is not None:
                    notified = True
                    callback = self.on_block
                    self._cond.release()
                    try:
                        callback()
                    finally:
                        self._cond.acquire()
                    continue
                self._cond.wait()
