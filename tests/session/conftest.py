"""Session fixtures: every session is shut down (its thread joined) at teardown."""

from __future__ import annotations

import pytest

from rnnstudio.session.training import TrainingSession


@pytest.fixture
def make_session(qtbot):
    sessions: list[TrainingSession] = []

    def make(factory=None, interval: float = 1 / 30) -> TrainingSession:
        session = TrainingSession(factory, interval=interval)
        sessions.append(session)
        return session

    yield make
    for s in sessions:
        s.shutdown()
