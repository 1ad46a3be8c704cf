"""Questions the window asks about files, in one place for every dialog that writes one."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm_replace(parent: QWidget, path: str) -> bool:
    """Ask whether to replace the existing file ``path``; True if the user says so."""
    answer = QMessageBox.question(
        parent,
        "Replace the file?",
        f"{Path(path).name} already exists in {Path(path).parent}.\n\nReplace it?",
        QMessageBox.Yes | QMessageBox.Cancel,
        QMessageBox.Cancel,
    )
    return answer == QMessageBox.Yes


def with_suffix(parent: QWidget, path: str, suffix: str) -> str | None:
    """``path`` as the save dialog returned it, with ``suffix`` added when it has none.

    The dialog asked before replacing the name it was given, not the one with the suffix: when that
    one exists, ask now. None if the user would rather not replace it.
    """
    if os.path.splitext(path)[1]:
        return path
    path += suffix
    if os.path.exists(path) and not confirm_replace(parent, path):
        return None
    return path
