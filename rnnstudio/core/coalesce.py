"""Batches per-epoch results for the UI: the first at once, then a few batches a second."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

#: Default seconds between batches: about 30 a second.
DEFAULT_INTERVAL = 1.0 / 30.0


class Coalescer(Generic[T]):
    """Collects items and says when a batch is due; never drops an item.

    A batch is due on the first item, when ``interval`` has passed since the
    last batch, or when items arrive slower than ``interval`` (each is then
    shown at once). ``flush`` hands over whatever is pending.
    """

    def __init__(self, interval: float = DEFAULT_INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._pending: list[T] = []
        self._last_emit: float | None = None
        self._last_add: float | None = None

    def add(self, item: T) -> list[T] | None:
        """Queue ``item``; return the batch to send now, or None to wait."""
        now = self._clock()
        self._pending.append(item)
        slow = self._last_add is not None and now - self._last_add >= self.interval
        self._last_add = now
        if self._last_emit is None or slow or now - self._last_emit >= self.interval:
            return self._take(now)
        return None

    def flush(self) -> list[T]:
        """Everything pending (possibly nothing), as a batch."""
        return self._take(self._clock()) if self._pending else []

    @property
    def pending(self) -> int:
        """How many items wait for the next batch."""
        return len(self._pending)

    def _take(self, now: float) -> list[T]:
        batch, self._pending = self._pending, []
        self._last_emit = now
        return batch
