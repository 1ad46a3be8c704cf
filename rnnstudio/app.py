"""Composition root: the QApplication, pyqtgraph's global options, the main window and its trainer factory."""

from __future__ import annotations

import gc
import os
import sys

APP_NAME = "RNN Studio"
SWITCH_INTERVAL = 0.0005  # seconds; see create_application
ORG_NAME = "RNN Studio"


def _display_problem() -> str | None:
    """Why a window cannot open here, or None: Qt would otherwise abort the process."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return None
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return (
            "no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
            "run it on a desktop, or use 'rnnstudio train' to train headless"
        )
    return None


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options, set once: light theme, antialiasing off (width-1 pens stay fast)."""
    import pyqtgraph as pg

    pg.setConfigOptions(background="w", foreground="k", antialias=False, useOpenGL=False)


def create_application(argv: list[str] | None = None):
    """The QApplication with RNN Studio's names set (QSettings needs them before first use)."""
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    # Qt's GUI thread pool splits large fills (a Fusion scroll bar's gradients, say) between
    # threads of its own. During a run they woke on the training thread's CPU and pre-empted
    # the GUI thread 20-75 times a second, and the GUI waited for them while a frame held
    # training (README: Performance). Read once, when Qt first wants the pool.
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setOrganizationName(ORG_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    configure_pyqtgraph()
    keep_light_theme(app)
    # The training thread gives up the GIL in every backward pass; with Python's default 5 ms
    # switch interval it then waits up to 5 ms to get it back whenever the GUI thread is
    # painting, several times an epoch's length. A short interval hands it back quickly.
    sys.setswitchinterval(SWITCH_INTERVAL)
    return app


def keep_light_theme(app) -> None:
    """Keep the window light on a dark desktop: its colours are drawn for a light theme.

    The plots, the heatmaps, the predictions' right/wrong colours and the panels' own colours
    (ui/style.py) are fixed, and on a dark palette some of them went unreadable (the encoding
    preview's grey notes on dark grey) while others stayed white beside dark panels. So the app
    asks the platform for its light scheme; where the platform gives a dark palette all the same,
    now or on a later switch, it gets Fusion's light one.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QStyleFactory

    hints = app.styleHints()
    hints.setColorScheme(Qt.ColorScheme.Light)

    def lighten() -> None:
        if app.palette().color(QPalette.ColorRole.Window).lightness() < 128:
            app.setPalette(QStyleFactory.create("Fusion").standardPalette())

    lighten()
    if not app.property("rnnstudioKeepsLight"):  # once per application, however often it is set up
        app.setProperty("rnnstudioKeepsLight", True)
        # Queued: the platform may set its new palette after it announces the new scheme.
        hints.colorSchemeChanged.connect(lighten, Qt.ConnectionType.QueuedConnection)


def freeze_startup_objects() -> None:
    """Exempt what exists once Qt and torch are loaded from the cyclic GC.

    Its full collections otherwise walk every Qt, torch and pyqtgraph object and
    stalled the GUI (or training) for 100+ ms during long runs.
    """
    gc.collect()
    gc.freeze()


def run_app(project_path: str | None = None) -> int:
    """Open the window (with a project if given) and run until it closes; returns the exit status."""
    problem = _display_problem()
    if problem:
        print(f"rnnstudio: error: {problem}", file=sys.stderr)
        return 2
    app = create_application()
    from .session.training import default_trainer_factory
    from .ui.main_window import MainWindow

    window = MainWindow(trainer_factory=default_trainer_factory)
    window.session.warmed_up.connect(freeze_startup_objects)
    app.aboutToQuit.connect(window.shut_down)  # however the loop ends, no thread outlives it
    window.show()
    window.fit_to_screen(window.screen().availableGeometry())  # shown: its least sizes are known now
    if project_path:
        try:
            window.open_project(project_path)  # a bad file is reported in the window; the default preset stays
        except BaseException:  # Ctrl+C while reading, say: join the threads, or Qt aborts the process
            window.shut_down()
            raise
    return app.exec()
