"""Test setup: Qt runs offscreen at scale 1, pyqtgraph binds PySide6, torch uses one thread."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_SCALE_FACTOR"] = "1"
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def event_loop_turn(qtbot):
    """Call to let the GUI thread's event loop run until every zero-delay timer started before the
    call has fired (Qt fires those in the order they were started): no fixed sleep."""
    from PySide6.QtCore import QTimer

    def turn() -> None:
        done: list[bool] = []
        QTimer.singleShot(0, lambda: done.append(True))
        qtbot.waitUntil(lambda: bool(done), timeout=2000)

    return turn
