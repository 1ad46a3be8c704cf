"""Render the README's pictures offscreen: the window in the middle of a run, and each inside view.

    python docs/make_screenshots.py [--out docs]

Trains two pairs (hello -> ohlol, "hello world" -> "dlrow olleh") with the
rnn-embedding preset for 300 epochs, pauses part-way, grabs the window, then
shows each bottom tab in turn and grabs it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_SCALE_FACTOR", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEventLoop, QSettings, QTimer

from rnnstudio.app import create_application
from rnnstudio.core.presets import get_preset
from rnnstudio.core.sequences import Task

#: The epoch of 300 the main screenshot is paused at.
PAUSE_AT = 243


def wait_until(app, condition, timeout: float = 60.0) -> None:
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: condition() and loop.quit())
    timer.start(20)
    QTimer.singleShot(int(timeout * 1000), loop.quit)
    loop.exec()
    timer.stop()
    if not condition():
        raise TimeoutError("the window did not get there in time")


def save(widget, path: Path) -> None:
    """Grab ``widget`` into ``path``; say so if the image could not be written."""
    if not widget.grab().save(str(path)):
        raise OSError(f"could not write {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, tempfile.mkdtemp(prefix="rnnstudio-shots-"))
    app = create_application()
    from rnnstudio.ui.main_window import MainWindow

    window = MainWindow()
    window.resize(1440, 900)
    window.show()
    preset = get_preset("rnn-embedding").project
    task = Task.of([("hello", "ohlol"), ("hello world", "dlrow olleh")])
    window.set_project(replace(preset, task=task, train=replace(preset.train, epochs=300, lr=0.01)))
    # Paused at epoch 243 of 300 whatever the machine's speed: Step once, then 242 epochs more.
    paused = []
    window.session.paused_at.connect(paused.append)
    window.act_step.trigger()
    wait_until(app, lambda: paused == [1])
    window.session.step(PAUSE_AT - 1)
    wait_until(app, lambda: paused[-1] == PAUSE_AT and len(window.history()) == PAUSE_AT)
    window.task_editor.select_pair(1)
    wait_until(app, lambda: True, timeout=0.3)  # let the views settle
    save(window, out / "screenshot.png")

    views = [
        (window.film_strip, "view_film_strip.png", lambda: window.film_strip.shown_epochs() != []),
        (window.step_inspector, "view_time_steps.png", lambda: window.step_inspector.displayed_epoch() is not None),
        (window.try_it, "view_try_it.png", None),
        (window.gradient_flow, "view_gradient_flow.png", lambda: window.gradient_flow.displayed_epochs() != []),
        (window.shapes_view, "view_shapes.png", None),
    ]
    # The views get a wide bottom pane for their pictures, as a user would drag the splitters.
    window.resize(1900, 1000)
    window.main_split.setSizes([400, 1100, 400])
    window.centre_split.setSizes([380, 560])
    for view, name, ready in views:
        window.show_view(view)
        if view is window.try_it:
            window.try_it.set_text("hello world")
            wait_until(app, lambda: window.try_it.displayed_prediction() != "")
        if view is window.shapes_view:
            view.request_walkthrough()
            wait_until(app, lambda: window.shapes_view.walkthrough() is not None)
        if ready is not None:
            wait_until(app, ready)
        wait_until(app, lambda: True, timeout=0.3)
        save(window.bottom_tabs, out / name)
    window.session.stop()
    window.session.shutdown()
    window.inspector.shutdown()
    window.setWindowModified(False)
    window.close()
    print(f"wrote screenshots to {out}")


if __name__ == "__main__":
    main()
