"""A bounded store of weight snapshots, thinned evenly over the epochs as a run grows."""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from .config import SNAPSHOT_BUDGET_BYTES
from .results import WeightSnapshot

#: Snapshots kept at most; memory is this many times the model's weights, up to the byte budget (see README).
DEFAULT_CAPACITY = 200


class SnapshotStore:
    """Keeps at most ``capacity`` snapshots, and at most ``max_bytes`` of them, spread evenly over the epochs seen.

    The first and the latest are always kept (even when the two alone exceed ``max_bytes``).
    When full, the snapshot whose removal leaves the smallest gap between its neighbours
    goes, so the kept epochs stay close to evenly spaced however long the run: a large
    model keeps fewer snapshots, as evenly spread.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY, max_bytes: int = SNAPSHOT_BUDGET_BYTES) -> None:
        if capacity < 2:
            raise ValueError("a snapshot store keeps at least 2 snapshots")
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._items: list[WeightSnapshot] = []
        self._epochs: list[int] = []
        self._nbytes = 0

    def add(self, snapshot: WeightSnapshot) -> None:
        """Keep ``snapshot``; one for an epoch already kept replaces it."""
        i = bisect.bisect_left(self._epochs, snapshot.epoch)
        if i < len(self._epochs) and self._epochs[i] == snapshot.epoch:
            self._nbytes += snapshot.nbytes() - self._items[i].nbytes()
            self._items[i] = snapshot
        else:
            self._items.insert(i, snapshot)
            self._epochs.insert(i, snapshot.epoch)
            self._nbytes += snapshot.nbytes()
        while len(self._items) > 2 and (len(self._items) > self.capacity or self._nbytes > self.max_bytes):
            self._drop_densest()

    def _drop_densest(self) -> None:
        e = self._epochs
        best = min(range(1, len(e) - 1), key=lambda k: e[k + 1] - e[k - 1])
        self._nbytes -= self._items[best].nbytes()
        del self._items[best]
        del self._epochs[best]

    def clear(self) -> None:
        """Forget every snapshot (fresh weights)."""
        self._items.clear()
        self._epochs.clear()
        self._nbytes = 0

    def epochs(self) -> list[int]:
        """The epochs kept, ascending."""
        return list(self._epochs)

    def latest(self) -> WeightSnapshot | None:
        """The newest snapshot, or None."""
        return self._items[-1] if self._items else None

    def nearest(self, epoch: int) -> WeightSnapshot | None:
        """The kept snapshot closest to ``epoch`` (the later one on a tie)."""
        if not self._items:
            return None
        i = bisect.bisect_left(self._epochs, epoch)
        if i == 0:
            return self._items[0]
        if i == len(self._items):
            return self._items[-1]
        before, after = self._epochs[i - 1], self._epochs[i]
        return self._items[i] if after - epoch <= epoch - before else self._items[i - 1]

    def nbytes(self) -> int:
        """Memory held by the kept snapshots' arrays."""
        return self._nbytes

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[WeightSnapshot]:
        return iter(list(self._items))
