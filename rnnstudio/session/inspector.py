"""The inspector: a worker thread that runs inference and lessons for the views, latest request wins.

The views ask for what they show (the selected pair at an epoch, a string to
try, the notebook's walkthrough); requests on one channel replace any not yet
started, so scrubbing a slider never queues stale work. Torch stays in the core:
the compute function imports it lazily, in the worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from ..core.config import ModelConfig
from ..core.problems import ValidationError
from ..core.results import WeightSnapshot
from ..core.vocab import Vocabulary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InferenceRequest:
    """Run the model with ``snapshot``'s weights on ``text`` (and score it against ``target``)."""

    channel: str
    model: ModelConfig
    vocab: Vocabulary
    snapshot: WeightSnapshot
    text: str
    target: str | None = None


@dataclass(frozen=True)
class WalkthroughRequest:
    """Run the notebook's two shape walkthroughs for these sizes."""

    channel: str
    batch_size: int
    seq_len: int
    input_size: int
    hidden_size: int
    num_layers: int
    seed: int = 0


@dataclass(frozen=True)
class InspectorReply:
    """The answer to one request: a result, or an error message for people."""

    request: Any
    result: Any = None
    error: str | None = None

    @property
    def channel(self) -> str:
        """The channel the request came on."""
        return self.request.channel


class TorchCompute:
    """Answers requests with the core's torch code, imported lazily in the inspector thread."""

    def __init__(self) -> None:
        self._runner: Any = None

    def __call__(self, request: Any) -> Any:
        from ..core import model as core_model
        from ..core import trainer as core_trainer

        if self._runner is None:
            core_trainer.use_threads(1)  # per thread: this one
            self._runner = core_trainer.SnapshotRunner()
        if isinstance(request, InferenceRequest):
            return self._runner.infer(request.model, request.vocab, request.snapshot, request.text, request.target)
        if isinstance(request, WalkthroughRequest):
            return core_model.walkthrough(
                request.batch_size,
                request.seq_len,
                request.input_size,
                request.hidden_size,
                request.num_layers,
                request.seed,
            )
        raise TypeError(f"unknown request {type(request).__name__}")


class InspectorWorker(QObject):
    """Lives in the inspector thread; answers the latest request of each channel."""

    replied = Signal(object)  # InspectorReply

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        super().__init__()
        self._compute = compute
        self._pending: dict[str, Any] = {}
        self._scheduled = False

    @Slot(object)
    def submit(self, request: Any) -> None:
        """Queue ``request``, replacing an unstarted one on the same channel."""
        self._pending[request.channel] = request
        if not self._scheduled:
            self._scheduled = True
            QTimer.singleShot(0, self._drain)  # runs after the requests already queued: the latest wins

    @Slot()
    def _drain(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, {}
        for request in pending.values():
            try:
                reply = InspectorReply(request, self._compute(request))
            except ValidationError as exc:
                reply = InspectorReply(request, error=str(exc))
            except Exception as exc:  # a view shows the reason; the app carries on
                log.exception("inspection failed")
                reply = InspectorReply(request, error=f"{type(exc).__name__}: {exc}")
            self.replied.emit(reply)


class Inspector(QObject):
    """GUI-side handle: submit requests, get replies as a GUI-thread signal."""

    replied = Signal(object)  # InspectorReply
    _submitted = Signal(object)

    def __init__(self, compute: Callable[[Any], Any] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._compute = compute or TorchCompute()
        self._thread: QThread | None = None
        self._worker: InspectorWorker | None = None
        self._closed = False

    def submit(self, request: InferenceRequest | WalkthroughRequest) -> None:
        """Ask for ``request``; its reply arrives through ``replied`` (ignored once shut down)."""
        if self._closed:
            return
        if self._thread is None:
            self._thread = QThread()
            self._thread.setObjectName("rnnstudio-inspector")
            self._worker = InspectorWorker(self._compute)
            self._worker.moveToThread(self._thread)
            self._submitted.connect(self._worker.submit)
            self._worker.replied.connect(self._on_worker_replied)
            self._thread.start()
        self._submitted.emit(request)

    @Slot(object)
    def _on_worker_replied(self, reply: InspectorReply) -> None:
        if not self._closed:
            self.replied.emit(reply)

    def shutdown(self) -> None:
        """Join the inspector thread (closeEvent and test teardown); no thread starts again afterwards."""
        self._closed = True
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread = None
            self._worker = None
