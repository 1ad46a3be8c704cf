"""Undo for the model and training panel: each change of an option is a step on the window's undo
stack, beside the strings' edits, so Ctrl+Z takes back the last change whichever panel it was in."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import fields

from PySide6.QtGui import QUndoCommand

from ..core.config import ModelConfig, TrainConfig

Config = tuple[ModelConfig, TrainConfig]

#: QUndoCommand.id() of option changes: the task editor's commands use other ids.
_CONFIG_EDIT_ID = 0xC0F6

#: Changes of one box this close together are one step: typing "256", or holding an arrow key.
MERGE_SECONDS = 1.5


def now() -> float:
    """The clock merging reads (seconds; tests replace it)."""
    return time.monotonic()


#: How a step names an option where its field name would not say it as the panel does.
_LABELS = {
    "lr": "learning rate",
    "num_layers": "layers",
    "clip_grad_norm": "gradient clipping",
    "loss_reduction": "loss",
    "threads": "torch threads",
}


def changed_fields(before: Config, after: Config) -> list[str]:
    """The names of the options that differ, model first, in the panel's order."""
    return [
        f.name
        for old, new in zip(before, after, strict=True)
        for f in fields(old)
        if getattr(old, f.name) != getattr(new, f.name)
    ]


def option_label(name: str) -> str:
    return _LABELS.get(name, name.replace("_", " "))


class ConfigCommand(QUndoCommand):
    """One change of the options, pushed after the panel made it (so its first redo does nothing).

    Changes of one box in quick succession (typing "2", "25", "256") merge into one step, as
    typing into a string does, if ``typed``; a pick from a list is always a step of its own. A
    change of another option, or any other step, undo or redo in between (the owner then passes
    another ``session``), starts a new step.
    """

    def __init__(
        self,
        apply: Callable[[ModelConfig, TrainConfig], None],
        before: Config,
        after: Config,
        session: int,
        typed: Callable[[str], bool],
    ):
        self._fields = changed_fields(before, after)
        text = option_label(self._fields[0]) if len(self._fields) == 1 else "settings"
        super().__init__(f"Change {text}")
        self._apply = apply
        self._before = before
        self._after = after
        self._session = session
        self._typed = len(self._fields) == 1 and typed(self._fields[0])
        self._at = now()
        self._pushed = False

    def id(self) -> int:
        return _CONFIG_EDIT_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, ConfigCommand) or not (self._typed and other._typed):
            return False
        if (other._fields, other._session, other._before) != (self._fields, self._session, self._after):
            return False
        if other._at - self._at > MERGE_SECONDS:
            return False
        self._after, self._at = other._after, other._at
        self.setObsolete(self._after == self._before)  # typed back to where it started: no step
        return True

    def redo(self) -> None:
        if not self._pushed:  # the panel already shows it
            self._pushed = True
            return
        self._apply(*self._after)

    def undo(self) -> None:
        self._apply(*self._before)
