"""The studio window: task editor, configuration, live loss plot, predictions log and run controls.

MainWindow owns the wiring: widgets emit what the user wants, MainWindow turns
that into calls on the TrainingSession, and the session's results are handed to
the views. No widget calls a sibling.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, QEvent, QObject, QRect, QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..core.config import NO_CUDA, ModelConfig, TrainConfig
from ..core.describe import chance_loss, chance_steps
from ..core.presets import DEFAULT_PRESET, get_preset, own_description, presets
from ..core.problems import Problem, plural
from ..core.project_io import (
    Project,
    ProjectError,
    ProjectTooLargeError,
    history_key,
    load_project,
    save_project,
)
from ..core.results import (
    DIVERGED,
    FAILED,
    FINISHED,
    STOPPED,
    EpochResult,
    RunOutcome,
    WeightSnapshot,
    epochs_per_second,
)
from ..core.sequences import Pair, Task
from ..core.snapshots import SnapshotStore
from ..core.vocab import Vocabulary
from ..session.inspector import InferenceRequest, Inspector, InspectorReply, WalkthroughRequest
from ..session.training import (
    EVERY,
    IDLE,
    NEVER,
    PAUSED,
    RUNNING,
    SPARSE,
    STOPPING,
    ResultBatch,
    TrainerFactory,
    TrainingSession,
    default_cuda_available,
    default_trainer_factory,
    default_warm_up,
)
from . import style
from .config_panel import ConfigPanel
from .config_undo import ConfigCommand
from .dialogs import with_suffix
from .film_strip import FilmStrip
from .gradient_flow import GradientFlowView
from .loss_plot import LossPanel
from .numbers import format_loss
from .prediction_log import PredictionLogView
from .shapes_view import ShapesView
from .steady import ElidedLabel, LabelSlot, fix_label_size
from .step_inspector import StepInspector
from .task_editor import TaskEditor
from .throttle import FrameThrottle, Throttle
from .try_it import TryItView
from .vocab_strip import display_string

#: Shortest time between two refreshes of an inside view that follows the latest weights: each
#: costs an inference in the inspector thread or a heatmap redraw, taken from training's time.
INSIDE_REFRESH_MS = 250

#: The plot, log and status bar refresh at most 10 times a second during a run, and less often
#: when a refresh costs the GUI thread more than LIVE_BUDGET of its time (see FrameThrottle).
#: A refresh (a frame, and the result batch before it) was measured to cost training more than
#: its own GUI time: on the CI machine kind, refreshing about twice a second instead of once made
#: the training thread's own CPU time per epoch 3-13% higher, for ~10 ms of GUI time a frame
#: (README: Performance; why is not found). So the budget is 1% of the GUI thread's time, which
#: there means a refresh about once a second (on a machine whose frames take 3 ms, three times a
#: second). `bench/gui_throughput.py --versus 0.025 500`: the former 2.5% and 500 ms at most
#: trained at 0.86 of this, median of 10 paired rounds (README: Performance).
LIVE_MIN_MS, LIVE_MAX_MS, LIVE_BUDGET = 100, 1000, 0.01

#: Shortest time between two result batches from the worker; runs send them as often as the
#: live views refresh, so never faster than this.
BATCH_MIN_S = 0.1

#: What the inside views say of a model whose weights are recorded rarely or never (TrainerInfo.recording).
RECORDING_HINTS = {
    SPARSE: "A model this large is recorded only when a run starts, pauses or ends, not while it runs: "
    "pause (F6) to look inside its newest weights.",
    NEVER: "A model this large is not recorded for the inside views: a copy of its weights would take too much memory.",
}

#: What the inside views say over a history opened from a file: the file has no weights to look inside.
NO_WEIGHTS_IN_FILE = (
    "A project file keeps the run's losses and predictions, not its weights: press Train (F5) to train "
    "from fresh weights and look inside."
)
#: Training time (seconds) from which discarding an unsaved history asks first: a shorter run is
#: trained again in moments (the same settings and seed give the same numbers).
ASK_BEFORE_DISCARDING_SECONDS = 60.0

PROJECT_SUFFIX = ".rnnproj.json"
PROJECT_FILTER = "RNN Studio projects (*.rnnproj.json *.json);;All files (*)"
MAX_RECENT = 8
#: The three columns' first-run widths (pairs, plot and views, settings) in a 1440-px window.
DEFAULT_COLUMNS = (420, 660, 360)
#: Room left around a first-run window fitted into a small screen, and for its title bar above it.
SCREEN_MARGIN = 16
TITLE_BAR = 32
#: For how long after fitting a window a change of its size centres it again (ms): its views settle.
SETTLE_MS = 1500
_NOTHING_SHOWN = object()  # the inside views show no pair yet (None: the selected one is not in the run)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Shown:
    """What set_project puts back if showing a new project fails."""

    project: Project  # with the whole history, even one the settings have moved on from
    path: Path | None
    history_key: tuple | None
    modified: bool
    changed_outside_undo: bool  # a change the undo history cannot take back (the window stays modified)


def app_settings() -> QSettings:
    """UI state only (geometry, splitters, recent files); tests point QSettings.setPath elsewhere."""
    return QSettings(QSettings.IniFormat, QSettings.UserScope, "RNN Studio", "rnnstudio")


class _WrapToViewport(QObject):
    """Keeps a word-wrapped label inside a scroll area no wider than the area's visible part, so a
    page wider than its tab (a narrow window) still shows the whole note, wrapped, at its left."""

    def __init__(self, label: QLabel, area: QScrollArea) -> None:
        super().__init__(label)
        self._label = label
        area.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._label.setMaximumWidth(max(80, watched.width() - 12))  # the page's side margins
        return False


class RunProgress(QProgressBar):
    """A progress bar in per-mille steps that repaints with the rest of the window.

    QProgressBar.setValue repaints synchronously, which cost ~10 ms (a whole
    backing-store flush) on every results batch; here a change only schedules
    an ordinary update, and only when the drawn value changes.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(0, 1000)
        self.setTextVisible(False)

    def set_fraction(self, done: int, total: int) -> None:
        """Show ``done`` of ``total``."""
        value = 0 if total <= 0 else min(1000, done * 1000 // total)
        if value != self.value():
            self.setUpdatesEnabled(False)  # setValue's own repaint() then does nothing...
            self.setValue(value)
            self.setUpdatesEnabled(True)  # ...and this schedules a normal, coalesced update


def _format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Banner(QWidget):
    """A dismissible line above the plot that says how a run ended when it did not simply finish."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBanner")
        self.setAttribute(Qt.WA_StyledBackground, True)  # a plain QWidget paints no stylesheet background
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.hide()

    def show_message(self, text: str, error: bool = True) -> None:
        """Show ``text``: red for errors, amber for warnings."""
        colour, border = (style.WRONG_BG, style.ERROR) if error else ("#fff8c5", "#9a6700")
        self.setStyleSheet(
            f"#messageBanner {{ background: {colour}; border: 1px solid {border}; border-radius: 4px; }}"
            f"#messageBanner QLabel {{ color: #1f2328; }}"
        )
        self.label.setText(text)
        self.show()


class MainWindow(QMainWindow):
    """RNN Studio's main window; built with no arguments it has the default preset loaded."""

    #: Asked only when a configuration says "cuda", or once torch is loaded (it imports torch).
    cuda_available: Callable[[], bool] = staticmethod(default_cuda_available)

    def __init__(self, trainer_factory: TrainerFactory | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        factory = trainer_factory or default_trainer_factory
        warm_up = default_warm_up if factory is default_trainer_factory else None
        # Batches at up to 10 a second; the plot, log and status bar show them through _live, whose
        # interval keeps the GUI's work (taken from training through the GIL) within a budget.
        self.session = TrainingSession(factory, self, interval=BATCH_MIN_S, warm_up=warm_up)
        self.inspector = Inspector(parent=self)
        self.snapshots = SnapshotStore()
        self._pending_flow: list[WeightSnapshot] = []
        self._pending_results: list[EpochResult] = []
        self._follow_throttle = Throttle(INSIDE_REFRESH_MS, self._refresh_following_view, self)
        self._live_pending: list[EpochResult] = []  # in the history, not yet in the plot and log
        self._in_frame = False  # inside _drawing_frame
        self._live = FrameThrottle(self._refresh_live, self, min_ms=LIVE_MIN_MS, max_ms=LIVE_MAX_MS, budget=LIVE_BUDGET)
        self._run_model: ModelConfig | None = None
        self._run_vocab: Vocabulary | None = None
        self._path: Path | None = None
        # Changes the undo history cannot take back (a run's epochs): the project stays modified
        # even when the strings and options are undone to their saved state.
        self._changed_outside_undo = False
        # The options as the panel last showed them, the "before" of the next change's undo step;
        # a run in between starts a new step (see ConfigCommand).
        self._config_shown: tuple[ModelConfig, TrainConfig] | None = None
        self._config_session = 0
        self._pushing_config = False
        self._name = ""
        self._description = ""
        self._history: list[EpochResult] = []
        self._history_key: tuple | None = None  # the settings the history was trained with
        self._fresh_run: tuple[Task, ModelConfig, TrainConfig] | None = None  # started, trainer not built yet
        self._run_task: Task | None = None
        self._run_target_epoch = 0
        self._run_first: EpochResult | None = None
        self._problems: list[Problem] = []
        self._showing_problems = False  # the status bar lists problems (rather than news or an outcome)
        # What the inside views show: (index, Pair) of the run, (Pair, reason) for a pair not in it, or None.
        self._shown_pair: object = _NOTHING_SHOWN
        self._history_in_file: EpochResult | None = None  # the last epoch of the history saved or opened
        # The latest inference asked for per view ("steps", "try"), None once the view was told why there
        # is none: only its reply is shown, not a slower one for the pair or text the user has left.
        self._asked: dict[str, InferenceRequest | None] = {"steps": None, "try": None}
        self._last_outcome: RunOutcome | None = None
        self._rate = 0.0
        # The status bar's run figures before the current run began, put back if it trains no epoch.
        self._status_before: tuple[int, EpochResult | None, float] | None = None

        self._fitted_into: QRect | None = None  # the screen area fitted into, while the views settle
        self._build_widgets()
        self._build_actions()
        self._build_menus()
        self._build_status_bar()
        self._wire()
        self.resize(1440, 900)
        self._restore_settings()
        self.load_preset(DEFAULT_PRESET)
        self.session.warm_up()

    # ------------------------------------------------------------------ layout
    def _build_widgets(self) -> None:
        self.task_editor = TaskEditor()
        self.config_panel = ConfigPanel()
        self.config_panel.set_presets([(p.id, p.name, p.description) for p in presets()])
        self.loss_panel = LossPanel()
        self.prediction_log = PredictionLogView()
        self.banner = Banner()

        self.run_bar = QToolBar("Run")
        self.run_bar.setObjectName("runToolBar")
        self.run_bar.setMovable(False)
        self.addToolBar(Qt.TopToolBarArea, self.run_bar)

        self.film_strip = FilmStrip()
        self.step_inspector = StepInspector()
        self.try_it = TryItView()
        self.gradient_flow = GradientFlowView()
        self.shapes_view = ShapesView()
        self.bottom_tabs = QTabWidget()
        self.bottom_tabs.setObjectName("bottomTabs")
        for widget, title, tip in (
            (self.prediction_log, "Predictions", "Every epoch's loss, accuracy and predicted strings"),
            (self.film_strip, "Film-strip", "Which position is learned when: epochs × positions"),
            (self.step_inspector, "Time steps", "Inside one pass: inputs, hidden states, probabilities, per step"),
            (self.try_it, "Try it", "Type a string and see what the trained model predicts"),
            (self.gradient_flow, "Gradient flow", "‖∂L/∂hₜ‖ per time step: vanishing and exploding gradients"),
            (self.shapes_view, "Shapes", "Every tensor's shape, and the notebook's shape walkthroughs"),
        ):
            page = widget
            if widget in (self.shapes_view, self.gradient_flow, self.step_inspector, self.try_it):
                # Wide views scroll rather than forcing the whole window wider than a laptop screen.
                page = QScrollArea()
                page.setWidget(widget)
                page.setWidgetResizable(True)
                page.setFrameShape(QScrollArea.NoFrame)
                if widget is self.gradient_flow:  # its note is read without scrolling sideways
                    _WrapToViewport(widget.recording_hint, page)
            index = self.bottom_tabs.addTab(page, title)
            self.bottom_tabs.setTabToolTip(index, tip)

        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.addWidget(self.banner)
        self.centre_split = QSplitter(Qt.Vertical)
        self.centre_split.setObjectName("centreSplitter")
        self.centre_split.addWidget(self.loss_panel)
        self.centre_split.addWidget(self.bottom_tabs)
        self.centre_split.setStretchFactor(0, 3)
        self.centre_split.setStretchFactor(1, 2)
        self.centre_split.setSizes([500, 360])
        centre_layout.addWidget(self.centre_split, 1)

        config_scroll = QScrollArea()
        config_scroll.setWidget(self.config_panel)
        config_scroll.setWidgetResizable(True)
        # Below its own width the panel scrolls sideways rather than keeping the window from fitting
        # an 800-px screen (the three columns' minimums added up to 909 px).
        config_scroll.setMinimumWidth(min(self.config_panel.minimumSizeHint().width() + 24, 170))

        self.main_split = QSplitter(Qt.Horizontal)
        self.main_split.setObjectName("mainSplitter")
        self.main_split.addWidget(self.task_editor)
        self.main_split.addWidget(centre)
        self.main_split.addWidget(config_scroll)
        self.main_split.setStretchFactor(0, 0)
        self.main_split.setStretchFactor(1, 1)
        self.main_split.setStretchFactor(2, 0)
        self.main_split.setSizes(list(DEFAULT_COLUMNS))
        self.setCentralWidget(self.main_split)

    def _action(self, text: str, slot, shortcuts=(), tip: str = "", name: str = "") -> QAction:
        act = QAction(text, self)
        sequences: list[QKeySequence] = []
        for shortcut in shortcuts:  # a standard key may be empty on a platform, or equal a spelled one
            sequence = QKeySequence(shortcut)
            if not sequence.isEmpty() and sequence not in sequences:
                sequences.append(sequence)
        if sequences:
            act.setShortcuts(sequences)
        keys = " or ".join(s.toString(QKeySequence.NativeText) for s in sequences)
        base = tip or text.replace("&", "").rstrip(".…")
        act.setToolTip(f"{base} ({keys})" if keys else base)
        act.setStatusTip(base)
        if name:
            act.setObjectName(name)
        act.triggered.connect(slot)
        return act

    def _build_actions(self) -> None:
        self.act_train = self._action(
            "&Train", self._on_train_triggered, ("F5", "Ctrl+Return"), "Train, or continue from the current weights"
        )
        self.act_pause = self._action("&Pause", self._on_pause_triggered, ("F6",), "Pause or resume the run")
        self.act_step = self._action("&Step", self._on_step_triggered, ("F10",), "Train exactly one epoch")
        self.act_stop = self._action("St&op", self._on_stop_triggered, ("Shift+F5",), "Stop the run")
        self.act_reset = self._action(
            "&Reset weights", self._on_reset_triggered, ("Ctrl+Shift+R",), "Forget the trained weights and history"
        )
        for act, name in (
            (self.act_train, "trainButton"),
            (self.act_pause, "pauseButton"),
            (self.act_step, "stepButton"),
            (self.act_stop, "stopButton"),
            (self.act_reset, "resetButton"),
        ):
            button = QToolButton()
            button.setObjectName(name)
            button.setDefaultAction(act)
            button.setToolButtonStyle(Qt.ToolButtonTextOnly)
            button.setMinimumWidth(84)
            self.run_bar.addWidget(button)
            setattr(self, name.replace("Button", "_button"), button)
        self.act_new = self._action("&New", self._on_new_triggered, (QKeySequence.New,))
        self.act_open = self._action("&Open…", self._on_open_triggered, (QKeySequence.Open,), "Open a project")
        self.act_save = self._action("&Save", self.save, (QKeySequence.Save,), "Save the project")
        self.act_save_as = self._action("Save &As…", self.save_as, (QKeySequence.SaveAs,), "Save the project as")
        # Not Ctrl+E: on Linux a line edit takes it (end of line), so it would export only now and then.
        self.act_export_csv = self._action(
            "Export losses as &CSV…", self.loss_panel.ask_export_csv, ("Ctrl+Shift+E",), "Export losses as CSV"
        )
        self.act_export_png = self._action(
            "Export plot as &PNG…", self.loss_panel.ask_export_png, ("Ctrl+Shift+P",), "Export plot as PNG"
        )
        for act in (self.act_export_csv, self.act_export_png):  # enabled with the plot's own export buttons
            act.setEnabled(self.loss_panel.csv_button.isEnabled())
            self.loss_panel.export_enabled_changed.connect(act.setEnabled)
        # An export during a run writes every epoch received, not only those drawn so far.
        self.loss_panel.export_starting.connect(self._live.flush)
        self.act_quit = self._action(
            "&Quit", self.close, (QKeySequence.Quit, "Ctrl+Q") if sys.platform != "win32" else ("Alt+F4",)
        )
        self.act_about = self._action("&About RNN Studio", self._on_about_triggered, (QKeySequence.HelpContents,))
        stack = self.task_editor.undo_stack()
        self.act_undo = stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcuts(QKeySequence.Undo)
        self.act_redo = stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts(QKeySequence.Redo)
        # The stack renames these on every edit ("Undo Edit input of pair 1"), and the tooltip with them.
        stack.undoTextChanged.connect(self._on_undo_text_changed)
        stack.redoTextChanged.connect(self._on_redo_text_changed)
        self._on_undo_text_changed(stack.undoText())
        self._on_redo_text_changed(stack.redoText())

    @Slot(str)
    def _on_undo_text_changed(self, text: str) -> None:
        self._set_tip_with_keys(self.act_undo, f"Undo {text}" if text else "Undo")

    @Slot(str)
    def _on_redo_text_changed(self, text: str) -> None:
        self._set_tip_with_keys(self.act_redo, f"Redo {text}" if text else "Redo")

    @staticmethod
    def _set_tip_with_keys(act: QAction, base: str) -> None:
        keys = " or ".join(s.toString(QKeySequence.NativeText) for s in act.shortcuts())
        act.setToolTip(f"{base} ({keys})" if keys else base)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.act_new)
        file_menu.addAction(self.act_open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.setObjectName("recentMenu")
        file_menu.addSeparator()
        file_menu.addAction(self.act_save)
        file_menu.addAction(self.act_save_as)
        file_menu.addSeparator()
        file_menu.addAction(self.act_export_csv)
        file_menu.addAction(self.act_export_png)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.act_undo)
        edit_menu.addAction(self.act_redo)
        run_menu = bar.addMenu("&Run")
        for act in (self.act_train, self.act_pause, self.act_step, self.act_stop):
            run_menu.addAction(act)
        run_menu.addSeparator()
        run_menu.addAction(self.act_reset)
        self.presets_menu = bar.addMenu("&Presets")
        self.preset_actions = []
        for p in presets():
            act = QAction(p.name, self)
            act.setStatusTip(p.description)
            act.setData(p.id)
            act.triggered.connect(lambda _=False, pid=p.id: self._on_preset_chosen(pid))
            self.presets_menu.addAction(act)
            self.preset_actions.append(act)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.act_about)
        for menu in (file_menu, edit_menu, run_menu):
            menu.setToolTipsVisible(True)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        # Any message fits: a long one ends in "…" with the whole text in its tooltip, and asks
        # for no width, so it neither cuts off unseen nor keeps the window from getting narrower.
        self.state_label = ElidedLabel()
        self.state_label.setObjectName("runStateLabel")
        self.epoch_label = QLabel()
        self.epoch_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)  # next to the progress bar
        self.progress = RunProgress()
        self.progress.setObjectName("runProgress")
        self.rate_label = QLabel()
        self.time_label = QLabel()
        # These change on every refresh of a run: fixed sizes keep that from relaying out the window,
        # and keep the numbers from shifting their neighbours as they grow. The templates are what a
        # run shows (a week of hours, a million epochs); an empty one is hidden (see _set_status_text).
        fix_label_size(self.epoch_label, "epoch 0000000/0000000")
        fix_label_size(self.rate_label, "0,000,000 epochs/s")
        fix_label_size(self.time_label, "elapsed 00:00:00 · ETA 00:00:00")
        self.progress.setFixedSize(120, self.progress.sizeHint().height())
        sb.addWidget(LabelSlot(self.state_label), 1)
        for w in (self.epoch_label, self.progress, self.rate_label, self.time_label):
            sb.addPermanentWidget(w)
        for label in (self.epoch_label, self.rate_label, self.time_label):
            label.hide()

    @staticmethod
    def _set_status_text(label: QLabel, text: str) -> None:
        """Show ``text`` in one of the status bar's read-outs, hiding it while empty (it reserves no room then)."""
        label.setText(text)
        if label.isHidden() == bool(text):  # shown/hidden only when that changes: a relayout then, not per refresh
            label.setVisible(bool(text))

    def _wire(self) -> None:
        self.task_editor.task_changed.connect(self._on_editor_task_changed)
        self.config_panel.config_changed.connect(self._on_config_changed)
        self.config_panel.preset_chosen.connect(self._on_preset_chosen)
        self.session.state_changed.connect(self._on_session_state_changed)
        self.session.results_arrived.connect(self._on_session_results)
        self.session.paused_at.connect(self._on_session_paused_at)
        self.session.run_ended.connect(self._on_session_run_ended)
        self.session.trainer_built.connect(self._on_run_started)
        self.session.trainer_built.connect(self._on_session_trainer_built)
        self.session.warmed_up.connect(self._on_session_warmed_up)
        self.task_editor.undo_stack().cleanChanged.connect(self._on_undo_clean_changed)
        self.task_editor.undo_stack().indexChanged.connect(self._on_undo_index_changed)
        self.task_editor.selection_changed.connect(self._on_editor_selection_changed)
        self.bottom_tabs.currentChanged.connect(self._on_bottom_tab_changed)
        self.inspector.replied.connect(self._on_inspector_replied)
        self.step_inspector.epoch_requested.connect(self._on_step_epoch_requested)
        self.step_inspector.follow_latest_changed.connect(self._on_step_follow_changed)
        self.try_it.text_submitted.connect(self._on_try_text_submitted)
        self.shapes_view.walkthrough_requested.connect(self._on_walkthrough_requested)

    # ------------------------------------------------------------ project state
    def task(self) -> Task:
        """The task as edited."""
        return self.task_editor.task()

    def model_config(self) -> ModelConfig:
        """The model configuration as edited."""
        return self.config_panel.model_config()

    def train_config(self) -> TrainConfig:
        """The training configuration as edited."""
        return self.config_panel.train_config()

    def project(self) -> Project:
        """Everything the user would save, with the run's history if it belongs to these settings.

        After the strings or the configuration were edited, the history describes another
        network, so it is not saved with them (see history_dropped_because). The epoch count,
        the device, the torch threads and an explicit vocabulary equal to the derived one do
        not change the network: the history stays.
        """
        task, model, train = self.task(), self.model_config(), self.train_config()
        history = tuple(self._history) if history_key(task, model, train) == self._history_key else ()
        return own_description(Project(task, model, train, history, self._name, self._description))

    def history_dropped_because(self) -> str | None:
        """Why project() leaves out the window's history ("the strings changed since the run"), or None."""
        if not self._history or self._history_key is None:
            return None
        task, model, train = self.task(), self.model_config(), self.train_config()
        key = history_key(task, model, train)
        if key == self._history_key:
            return None
        if key[:2] != self._history_key[:2]:
            return "the strings changed since the run"
        return "the settings changed since the run"

    def history(self) -> list[EpochResult]:
        """Every epoch recorded since the weights were last fresh."""
        return list(self._history)

    def set_project(self, project: Project, path: Path | None = None) -> bool:
        """Show ``project``: strings, configuration, history; fresh weights.

        All or nothing: should showing it fail, the window goes back to the project it had (its
        strings and their undo history, configuration, history, file, title and modified flag; the
        weights start fresh), says why, and returns False.
        """
        previous = _Shown(
            Project(
                self.task(),
                self.model_config(),
                self.train_config(),
                tuple(self._history),
                self._name,
                self._description,
            ),
            self._path,
            self._history_key,
            self.isWindowModified(),
            self._changed_outside_undo,
        )
        try:
            self._show_project(project, path)
        except Exception as exc:
            log.exception("could not show the project")
            self._show_project(previous.project, previous.path, strict=False)
            self._history_key = previous.history_key
            self._changed_outside_undo = previous.changed_outside_undo
            self.setWindowModified(previous.modified)
            self._refresh_title()
            shown = path.name if path is not None else (project.name or "the project")
            message = f"{shown} could not be shown ({type(exc).__name__}: {exc}); the previous project is still open"
            self.banner.show_message(message)
            QMessageBox.warning(self, "Could not open the project", message)
            return False
        self.task_editor.clear_history()  # shown for good: the old strings' edits no longer apply
        self._set_dirty(False)
        self._history_in_file = self._history[-1] if self._history and path is not None else None
        return True

    def _show_project(self, project: Project, path: Path | None, strict: bool = True) -> None:
        """set_project's work: the project's data into the window, then into the views.

        ``strict`` False (putting back the previous project): a view that fails is logged and
        skipped, so the strings, configuration, history and file are back whatever the views do.
        The strings' undo history and the modified flag are left to set_project.
        """
        self.session.reset()
        self._path = path
        self._name, self._description = project.name, project.description
        self.task_editor.set_task(project.task, keep_history=True)
        self.config_panel.set_config(project.model, project.train)
        self._config_shown = (project.model, project.train)
        self._history = list(project.history)
        self._history_key = history_key(project.task, project.model, project.train)
        self._last_outcome = None
        self._forget_run_figures()
        steps = (
            lambda: self._start_fresh_views(project.task, None),
            lambda: self.prediction_log.model().set_history(self._history),
            lambda: self.loss_panel.set_history(self._history),
            lambda: self.film_strip.set_history(self._history),
            # The history's clipping, not the last run's: "clipping off" over a saved run clipped throughout.
            lambda: self.gradient_flow.set_clipping(project.train.clip_grad_norm),
            lambda: self.gradient_flow.add_results(self._history),
            lambda: self._show_recording_hint(NO_WEIGHTS_IN_FILE if self._history else "", none_recorded=True),
            self.banner.hide,
            self._revalidate,
            self._update_status,
        )
        for step in steps:
            try:
                step()
            except Exception:
                if strict:
                    raise
                log.exception("a view could not show the restored project")

    def load_preset(self, preset_id: str) -> None:
        """Load one of the notebook's programs (no unsaved-changes prompt: see _on_preset_chosen)."""
        preset = get_preset(preset_id)
        if self.set_project(preset.project):
            self.state_label.setText(f"Loaded preset “{preset.name}”: ready to train")

    def open_project(self, path: str | os.PathLike) -> bool:
        """Open a project file; on error the window says why and keeps what it had."""
        try:
            project = load_project(path)
        except Exception as exc:  # ProjectError names the problem; anything else is a bug, but no reason to crash
            if not isinstance(exc, ProjectError):
                log.exception("could not read %s", path)
                exc = ProjectError(f"{path} could not be read ({type(exc).__name__}: {exc})")
            self.banner.show_message(f"Could not open the project: {exc}")
            QMessageBox.warning(self, "Could not open the project", str(exc))
            return False
        if not self.set_project(project, Path(path)):
            return False
        self._add_recent(str(Path(path).resolve()))
        opened = f"Opened {Path(path).name}"
        self.state_label.setText(f"{opened}: {self._problems_text()}" if self._problems else opened)
        self._showing_problems = bool(self._problems)  # fixing them then says "Ready to train"
        return True

    def save(self) -> bool:
        """Save to the current file, or ask where."""
        if self._path is None:
            return self.save_as()
        return self._save_to(self._path)

    def save_as(self) -> bool:
        """Ask for a file name and save there."""
        start = str(self._path or Path.home() / "untitled.rnnproj.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save project", start, PROJECT_FILTER)
        if not path:
            return False
        path = with_suffix(self, path, PROJECT_SUFFIX)  # "lesson1": the Open dialog's filter would hide it
        if path is None:
            return False
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        project = self.project()
        dropped = self.history_dropped_because()
        without = "" if dropped is None else f" without the history: {dropped}"
        try:
            try:
                save_project(project, path)
            except ProjectTooLargeError as exc:  # a long run's history: the rest can still be saved
                answer = QMessageBox.question(
                    self,
                    "The history is too large to save",
                    f"{exc}.\n\nSave the project without its history? Its strings and settings are saved; "
                    "the history stays in the window (File > Export losses as CSV keeps the losses).",
                    QMessageBox.Save | QMessageBox.Cancel,
                )
                if answer != QMessageBox.Save:
                    return False
                save_project(project, path, include_history=False)
                without = " without its history (too large)"
        except ProjectError as exc:
            QMessageBox.critical(
                self, "Could not save the project", f"{exc}\n\nYour work is still open; nothing was lost."
            )
            return False
        self._path = path
        self._add_recent(str(path.resolve()))
        self._set_dirty(False)
        # What the file now holds: this history, or (left out) none of it.
        self._history_in_file = self._history[-1] if self._history and not without else None
        going_on = {RUNNING: "; training goes on…", PAUSED: "; paused"}.get(self.session.state, "")
        self.state_label.setText(f"Saved {path.name}{without}{going_on}")
        return True

    def _set_dirty(self, dirty: bool) -> None:
        self.setWindowModified(dirty)
        self._changed_outside_undo = dirty
        if not dirty:
            self.task_editor.undo_stack().setClean()
        self._refresh_title()

    def _mark_changed(self) -> None:
        """A change the undo history cannot take back: the project is modified until saved."""
        self._changed_outside_undo = True
        self.setWindowModified(True)

    @Slot(bool)
    def _on_undo_clean_changed(self, clean: bool) -> None:
        # Undoing every edit back to the saved strings leaves nothing to save (unless more changed);
        # the stack says so only after the undone command's own task_changed.
        self.setWindowModified(self._changed_outside_undo or not clean)
        self._refresh_title()

    @Slot()
    def _refresh_title(self) -> None:
        task, model, train = self.task(), self.model_config(), self.train_config()
        preset_name = own_description(Project(task, model, train, (), self._name, self._description)).name
        name = self._path.name if self._path else (preset_name or "untitled")
        self.setWindowTitle(f"{name}[*] — RNN Studio")

    def _may_discard_history(self, doing: str) -> bool:
        """True when the history shown may go: it is in the project's file, it trained in moments, or
        the user says so (after saving it, if they choose and it can still be saved)."""
        history, in_file = self._history, self._history_in_file
        saved = next((i + 1 for i in range(len(history) - 1, -1, -1) if history[i] is in_file), 0)
        unsaved = history[saved:]  # trained since the file was saved (a run continued after it)
        if not unsaved:
            return True
        took = unsaved[-1].elapsed - (history[saved - 1].elapsed if saved else 0.0)
        if took < ASK_BEFORE_DISCARDING_SECONDS:
            return True
        shown = (
            f"{doing} the {plural(len(history), 'epoch')} shown; "
            f"{'the last ' if saved else ''}{plural(len(unsaved), 'epoch')}, which took "
            f"{_format_duration(took)} to train, are not saved in a file."
        )
        dropped = self.history_dropped_because()
        if dropped is not None:  # a save would leave them out: only undoing the change keeps them
            answer = QMessageBox.question(
                self,
                "Replace the run shown?",
                f"{shown}\n\nA save would leave them out: {dropped}. To keep them, cancel, undo the "
                "change (Ctrl+Z) and save.",
                QMessageBox.Discard | QMessageBox.Cancel,
                QMessageBox.Cancel,
            )
            return answer == QMessageBox.Discard
        answer = QMessageBox.question(
            self,
            "Replace the run shown?",
            f"{shown}\n\nSave the project first to keep them?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
            QMessageBox.Save,
        )
        if answer == QMessageBox.Save:
            return self.save() and self._history[-1] is self._history_in_file
        return answer == QMessageBox.Discard

    def _confirm_discard(self) -> bool:
        """True when it is fine to drop the current project (saved, discarded, or nothing to lose)."""
        if not self.isWindowModified():
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            "The project has unsaved changes. Save them first?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
            QMessageBox.Save,
        )
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    # ----------------------------------------------------------- recent files
    def recent_files(self) -> list[str]:
        """Recently opened or saved projects, newest first."""
        value = app_settings().value("recentFiles", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if isinstance(v, str)]

    def _add_recent(self, path: str) -> None:
        files = [path] + [f for f in self.recent_files() if f != path]
        app_settings().setValue("recentFiles", files[:MAX_RECENT])
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for f in files:
            act = self.recent_menu.addAction(f.replace("&", "&&"))  # a path's "&" is a character, not a mnemonic
            act.triggered.connect(lambda _=False, path=f: self._on_recent_triggered(path))
        self.recent_menu.setEnabled(bool(files) and not self.session.is_active())

    def _on_recent_triggered(self, path: str) -> None:
        if self.session.is_active() or not self._confirm_discard():
            return
        if not self.open_project(path) and not Path(path).exists():
            # Moved or deleted: the message said so; the entry would only fail again.
            app_settings().setValue("recentFiles", [f for f in self.recent_files() if f != path])
            self._rebuild_recent_menu()

    # --------------------------------------------------------------- settings
    def fit_to_screen(self, available: QRect) -> None:
        """Fit the first-run window (1440 x 900) into a smaller screen's ``available`` area, centred there.

        Call it once the window is shown: only then are its widgets' least sizes known, and it is
        never made smaller than they need. The three columns keep their proportions (the side
        panels would otherwise keep their width and squeeze the plot), the settings no narrower
        than their form on one line while the plot column can spare it. A window whose geometry
        was remembered from a last session is left as it was.
        """
        if self._geometry_restored or available.isEmpty():
            return
        least = self.minimumSize().expandedTo(self.minimumSizeHint())
        width = max(least.width(), min(self.width(), available.width() - 2 * SCREEN_MARGIN))
        height = max(least.height(), min(self.height(), available.height() - 2 * SCREEN_MARGIN - TITLE_BAR))
        if (width, height) == (self.width(), self.height()):
            return
        self.resize(width, height)
        total = sum(DEFAULT_COLUMNS)
        left, _, right = (round(width * c / total) for c in DEFAULT_COLUMNS)
        settings = self.main_split.widget(2)
        form = self.config_panel.sizeHint().width() + settings.verticalScrollBar().sizeHint().width()
        plot_least = self.main_split.widget(1).minimumSizeHint().width()
        right = max(right, min(form, width - left - plot_least))
        self.main_split.setSizes([left, max(width - left - right, plot_least), right])
        self._centre_in(available)
        # Narrower, wrapped texts may need more height than the window's least at full width, which
        # shows only once the views have refreshed at the new width: until then, centred again on
        # each change of size (see resizeEvent).
        self._fitted_into = available
        QTimer.singleShot(SETTLE_MS, self, self._forget_fit)

    def _forget_fit(self) -> None:
        self._fitted_into = None

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fitted_into is not None:
            self._centre_in(self._fitted_into)

    def _centre_in(self, available: QRect) -> None:
        """Centre the window in ``available``, leaving room for the title bar the window manager adds."""
        x = available.left() + max(0, (available.width() - self.width()) // 2)
        y = available.top() + max(0, (available.height() - self.height() - TITLE_BAR) // 2)
        self.move(x, y)

    def _restore_settings(self) -> None:
        s = app_settings()
        geometry = s.value("window/geometry")
        self._geometry_restored = isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)
        for splitter in (self.main_split, self.centre_split):
            state = s.value(f"window/{splitter.objectName()}")
            if isinstance(state, QByteArray):
                splitter.restoreState(state)
        self.loss_panel.set_log_scale(s.value("plot/logScale", False, type=bool))
        self._rebuild_recent_menu()

    def _save_settings(self) -> None:
        s = app_settings()
        s.setValue("window/geometry", self.saveGeometry())
        for splitter in (self.main_split, self.centre_split):
            s.setValue(f"window/{splitter.objectName()}", splitter.saveState())
        s.setValue("plot/logScale", self.loss_panel.log_scale())
        s.sync()

    # ------------------------------------------------------------- validation
    def _revalidate(self) -> None:
        task = self.task()
        task_problems = task.problems()
        vocab_size = len(task.vocabulary())
        model, train = self.model_config(), self.train_config()
        config_problems = model.problems(vocab_size) + train.problems()
        if train.device == "cuda":
            cuda = self.cuda_available()
            self.config_panel.set_cuda_available(cuda)
            if not cuda:  # Train would fail at once (and used to take the shown run with it)
                config_problems.append(Problem("device", NO_CUDA))
        self.task_editor.set_problems(task_problems)
        self.task_editor.set_model_config(model)
        self.config_panel.set_vocab_size(vocab_size)
        self.config_panel.set_problems(config_problems)
        self._show_matching_preset(task, model, train)
        self._problems = task_problems + config_problems
        if task.pairs and not task_problems:
            seq_len = max(len(p.input) for p in task.pairs)
            self.shapes_view.set_configuration(model, vocab_size, len(task.pairs), seq_len)
        self.shapes_view.set_strings_have_problems(bool(task_problems))
        self._update_chance_line()
        self._update_actions()
        self._update_ready_text()

    def _update_chance_line(self) -> None:
        """The chance loss of the run the plot shows; with no run shown, of the one Train would start.

        Edits after a run leave its curve on the plot: the line stays that run's, not the edits'.
        """
        if self._history_key is not None and (self._history or self.session.is_active()):
            pairs, chars, _model, train = self._history_key
            vocab_size = len(chars)
        else:
            task, train = self.task(), self.train_config()
            pairs, vocab_size = task.pairs, len(task.vocabulary())
        if vocab_size > 1 and pairs:
            n_targets = sum(len(p.target) for p in pairs)
            counts = (n_targets, len(pairs), train.loss_reduction)
            self.loss_panel.set_chance_loss(chance_loss(vocab_size, *counts), chance_steps(*counts))  # "5·ln|V|"
        else:
            self.loss_panel.set_chance_loss(None)

    @Slot()
    def _on_session_warmed_up(self) -> None:
        # torch is loaded now: the device list can say at once whether "cuda" would work.
        self.config_panel.set_cuda_available(self.cuda_available())

    def _problems_text(self) -> str:
        return f"{plural(len(self._problems), 'problem')} to fix before training (marked in red)"

    def _update_ready_text(self) -> None:
        """While idle, the status says whether training can start (outcomes and file news stay until then)."""
        if self.session.is_active():
            return
        text = self.state_label.text()
        if self._problems:
            self.state_label.setText(self._problems_text())
            self._showing_problems = True
        elif self._showing_problems:
            self.state_label.setText("Ready to train (F5)")
            self._showing_problems = False
        elif not text:
            self.state_label.setText("Ready to train (F5)")

    @Slot(object)
    def _on_editor_task_changed(self, task: Task) -> None:
        self.setWindowModified(self._changed_outside_undo or not self.task_editor.undo_stack().isClean())
        self._revalidate()
        if self._run_model is None and not self._history and not self.session.is_active():
            # No run shown (no weights, no epochs): the views show the strings the next run will
            # train on, not a run that never happened ("edited since the run", the old targets).
            self._start_fresh_views(task, None)
            return
        # The same row may now hold another pair (one above it was removed): follow the content.
        self._on_editor_selection_changed(self.task_editor.selected_pair())

    @Slot(object, object)
    def _on_config_changed(self, model: ModelConfig, train: TrainConfig) -> None:
        before, self._config_shown = self._config_shown, (model, train)
        if before is not None and before != self._config_shown:  # an undo step; the stack marks the change
            command = ConfigCommand(
                self._apply_config, before, self._config_shown, self._config_session, self.config_panel.is_typed
            )
            self._pushing_config = True
            try:
                self.task_editor.undo_stack().push(command)
            finally:
                self._pushing_config = False
        self._revalidate()

    @Slot(int)
    def _on_undo_index_changed(self, _index: int) -> None:
        """Any step, undo or redo but an option's own change: the next option change is a new step."""
        if not self._pushing_config:
            self._config_session += 1

    def _apply_config(self, model: ModelConfig, train: TrainConfig) -> None:
        """Undo or redo of an option: the panel shows it, and the window checks it as if typed."""
        self.config_panel.set_config(model, train)
        self._config_shown = (model, train)
        self.task_editor.end_typing_step()  # typing in a string after this is a step of its own
        self._revalidate()

    def _show_matching_preset(self, task: Task, model: ModelConfig, train: TrainConfig) -> None:
        """The preset box names the preset whose strings and settings these are, else reads "Custom".

        Whether loaded, opened from a file, made by New, or edited back (undo, or by hand).
        """
        current = (task, model, train)
        shown = next((p.id for p in presets() if (p.project.task, p.project.model, p.project.train) == current), None)
        self.config_panel.set_current_preset(shown)
        self._refresh_title()  # a preset's name names the window only while the network is the preset's

    @Slot(str)
    def _on_preset_chosen(self, preset_id: str) -> None:
        if self.session.is_active():
            return
        if not self._confirm_discard():  # the combo goes back to what it showed: nothing was loaded
            self._show_matching_preset(self.task(), self.model_config(), self.train_config())
            return
        self.load_preset(preset_id)

    # ------------------------------------------------------------ run control
    def _continues(self, task: Task, model: ModelConfig, train: TrainConfig) -> bool:
        """Whether Train continues trained weights. Weights stopped before their first epoch are as
        fresh as a new run's (the same seed): that reads "Train", not "Continue"."""
        return bool(self._history) and self.session.can_continue(task, model, train)

    def _update_actions(self) -> None:
        state = self.session.state
        active = state != IDLE
        valid = not self._problems
        can_continue = self._continues(self.task(), self.model_config(), self.train_config())
        self.act_train.setText("&Continue" if can_continue and not active else "&Train")
        self.act_train.setEnabled(not active and valid)
        self.act_pause.setEnabled(state in (RUNNING, PAUSED))
        self.act_pause.setText("&Resume" if state == PAUSED else "&Pause")
        self.act_step.setEnabled(valid and state in (IDLE, RUNNING, PAUSED))
        self.act_stop.setEnabled(state in (RUNNING, PAUSED))
        self.act_reset.setEnabled(not active and (bool(self._history) or can_continue))
        for act in (self.act_new, self.act_open, *self.preset_actions):
            act.setEnabled(not active)
        self.recent_menu.setEnabled(not active and bool(self.recent_files()))
        self.task_editor.set_read_only(active)
        self.config_panel.set_read_only(active)
        stack = self.task_editor.undo_stack()
        self.act_undo.setEnabled(not active and stack.canUndo())
        self.act_redo.setEnabled(not active and stack.canRedo())
        if not valid and not active:
            first = self._problems[0]
            more = f" (and {len(self._problems) - 1} more)" if len(self._problems) > 1 else ""
            self.act_train.setToolTip(f"Fix this first: {first}{more}")
        else:
            self.act_train.setToolTip(
                f"{'Continue from the current weights' if can_continue else 'Train from fresh weights'} (F5)"
            )

    def _begin_run(self, steps: int | None) -> None:
        task, model, train = self.task(), self.model_config(), self.train_config()
        if self._problems:
            return
        fresh = not self.session.can_continue(task, model, train)
        if fresh and not self._may_discard_history("A fresh run replaces"):
            return
        continuing = self._continues(task, model, train)  # before start(): it may take the new key
        # A fresh run empties the history and the views once its trainer is built: a run that
        # fails to start (no CUDA, out of memory) leaves the previous one shown and saveable.
        self._fresh_run = (task, model, train) if fresh else None
        start_epoch = self._history[-1].epoch if self._history and not fresh else 0
        self._status_before = (self._run_target_epoch, self._run_first, self._rate)
        self._run_target_epoch = start_epoch + train.epochs
        self._run_first = None
        self._rate = 0.0
        self._last_outcome = None
        self.banner.hide()
        if self.session.start(task, model, train, steps=steps):
            self.task_editor.end_typing_step()  # undo after the run can go back to the strings it trained on
            self._config_session += 1  # ... and to the options
            self.loss_panel.set_x_goal(self._run_target_epoch)
            self.state_label.setText("Continuing from the current weights…" if continuing else "Starting…")
            self._mark_changed()
        self._update_status()

    @Slot(object)
    def _on_run_started(self, _info) -> None:
        """The trainer of a fresh run is built: forget the previous run (see _begin_run)."""
        if self._fresh_run is None:
            return
        task, model, train = self._fresh_run
        self._fresh_run = None
        self._status_before = None  # the previous run leaves the views now: its figures go too
        self._history.clear()
        self._history_key = history_key(task, model, train)
        self._start_fresh_views(task, model)
        self._update_chance_line()
        self.gradient_flow.set_clipping(train.clip_grad_norm)

    @Slot()
    def _on_train_triggered(self) -> None:
        if self.session.state == PAUSED:
            self.session.resume()
        elif self.session.state == IDLE:
            self._begin_run(None)

    @Slot()
    def _on_pause_triggered(self) -> None:
        if self.session.state == PAUSED:
            self.session.resume()
        else:
            self.session.pause()

    @Slot()
    def _on_step_triggered(self) -> None:
        if self.session.state == IDLE:
            self._begin_run(1)
        else:
            self.session.step()

    @Slot()
    def _on_stop_triggered(self) -> None:
        self.session.stop()

    @Slot()
    def _on_reset_triggered(self) -> None:
        if self.session.is_active() or not self._may_discard_history("Reset weights discards"):
            return
        self.session.reset()
        self._history.clear()
        self.gradient_flow.set_clipping(self.train_config().clip_grad_norm)  # the next run's, no old run's
        # No run left to show: the views show the strings the next run trains on, as before any run
        # (the old run's targets headed the log, and the film strip said the pair was "edited since the run").
        self._start_fresh_views(self.task(), None)
        self._update_chance_line()  # no run shown: the line of the one Train would start
        self._last_outcome = None
        self._forget_run_figures()
        self.banner.hide()
        self.state_label.setText("Weights reset: the next run starts fresh")
        self._update_actions()
        self._update_status()

    # -------------------------------------------------------- session events
    @Slot(str)
    def _on_session_state_changed(self, state: str) -> None:
        self._update_actions()
        if state == RUNNING:
            self.state_label.setText("Training…")
        elif state == PAUSED:
            self.state_label.setText("Pausing…" if self.session.is_active() else "")
        elif state == STOPPING:
            self.state_label.setText("Stopping…")
        self._update_status()

    @Slot(object)
    def _on_session_trainer_built(self, info) -> None:
        self.state_label.setText(f"Training on {info.device}, {info.threads} thread(s)…")
        self._show_recording(info.recording)

    def _show_recording(self, recording: str) -> None:
        """Tell the inside views how the run's weights are recorded (TrainerInfo.recording): a large
        model's few snapshots get a note, a huge model's none a message in the views' place."""
        self._show_recording_hint(RECORDING_HINTS.get(recording, ""), none_recorded=recording == NEVER)

    def _show_recording_hint(self, hint: str, none_recorded: bool) -> None:
        """Say why the inside views have few snapshots, or (``none_recorded``) none, in their place."""
        self.step_inspector.set_recording_hint(hint, none_recorded=none_recorded)
        self.gradient_flow.set_recording_hint(hint, none_recorded=none_recorded)
        self.try_it.set_recording_hint(hint if none_recorded else "")

    @Slot(object)
    def _on_session_results(self, batch: ResultBatch) -> None:
        for snapshot in batch.snapshots:
            self._on_snapshot(snapshot)
        results = batch.results
        if not results:
            return
        if not self.isWindowModified():  # saved mid-run: what came after is not in the file yet
            self._mark_changed()
        if self._visible(self.film_strip) or self._visible(self.gradient_flow):
            # Hidden views catch up when their tab is shown; a shown one is fed a few times a second.
            self._pending_results.extend(results)
            self._follow_throttle.request()
        if self._run_first is None:
            self._run_first = results[0]
        self._history.extend(results)
        self._live_pending.extend(results)
        self._live.request()
        # Results need not come faster than they are shown: each batch wakes the GUI thread, and
        # a wake-up costs training more than its own time (GIL hand-offs), ~3% at 10 a second.
        interval = max(BATCH_MIN_S, self._live.interval_ms() / 1000)
        if interval != self.session.batch_interval():
            self.session.set_batch_interval(interval)

    def live_refresh_interval_ms(self) -> int:
        """How often the plot, log and status bar currently refresh during a run (ms)."""
        return self._live.interval_ms()

    def set_live_refresh_budget(self, budget: float, max_ms: int | None = None) -> None:
        """The share of the GUI thread's time the live refreshes may take (LIVE_BUDGET by default),
        and the longest interval between them (LIVE_MAX_MS by default)."""
        self._live.set_budget(budget, max_ms)

    def _refresh_live(self) -> None:
        """Show the epochs that arrived since the last refresh: the plot now, then the log and the
        status bar on the next turn of the event loop. Two shorter frames instead of one: the GUI
        thread serves its timers and input between them, and a frame the machine stretches stays
        shorter (README: Performance). The throttle counts both parts' cost."""
        results, self._live_pending = self._live_pending, []
        if results:
            with self._drawing_frame():
                self.loss_panel.append(results)
        self._live.then(lambda: self._refresh_log(results))

    def _refresh_log(self, results: list[EpochResult]) -> None:
        with self._drawing_frame():
            if results:
                self.prediction_log.model().append(results)
                last, first = results[-1], self._run_first
                if first is not None and last.elapsed > first.elapsed:
                    self._rate = epochs_per_second(first, last)
            self._update_status()

    @contextmanager
    def _drawing_frame(self) -> Iterator[None]:
        """Update views inside this; the frame is painted before the training thread goes on.

        The training thread waits at its next epoch boundary meanwhile (a frame gate): drawn
        with training running, a frame's many GIL releases would each hand the GIL to and fro
        between the threads (see RunControl.hold).
        """
        if self._in_frame:  # already drawing one (the gate is not re-entrant): just update
            yield
            return
        self._in_frame = True
        try:
            with self.session.holding_training():
                yield
                self._paint_frame()
        finally:
            self._in_frame = False

    def _paint_frame(self) -> None:
        """Paint now, not after the hold: the scene and the table first process the updates they
        queued for themselves, labels their deferred updates, the table its delayed layout; then
        the window paints what is dirty. What was left queued would run after the hold, beside
        training: a second paint of the labels and their parents after every frame."""
        QCoreApplication.sendPostedEvents(self.loss_panel.plot.scene(), QEvent.Type.MetaCall)
        QCoreApplication.sendPostedEvents(self.prediction_log, QEvent.Type.MetaCall)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.UpdateLater)
        self.prediction_log.executeDelayedItemsLayout()
        QCoreApplication.sendPostedEvents(self, QEvent.Type.UpdateRequest)

    @Slot(int)
    def _on_session_paused_at(self, epoch: int) -> None:
        self._live.flush()
        if self.session.state == PAUSED:
            self.state_label.setText(f"Paused after epoch {epoch}: Resume (F6), Step (F10) or Stop (Shift+F5)")

    @Slot(object)
    def _on_session_run_ended(self, outcome: RunOutcome) -> None:
        self._fresh_run = None  # a run that failed to start leaves the previous one shown
        if self._run_first is None and self._status_before is not None:  # ... and so does its count
            self._run_target_epoch, self._run_first, self._rate = self._status_before
        self._status_before = None
        self._live.flush()
        self.loss_panel.set_x_goal(None)  # a run stopped early: fit the plot to what it did
        self._last_outcome = outcome
        text = outcome.message[:1].upper() + outcome.message[1:]
        if self._history and outcome.status in (FINISHED, STOPPED):
            last = self._history[-1]
            predicted = " | ".join(display_string(p) for p in last.predictions)  # U+200B, not nothing
            text += f"; loss {format_loss(last.loss)}, predicted {predicted}"
        self.state_label.setText(text)
        if outcome.status in (DIVERGED, FAILED):
            self.banner.show_message(text, error=True)
        self._update_actions()
        self._update_status()

    def _forget_run_figures(self) -> None:
        """No run to tell of (a project opened, weights reset): no target, rate or elapsed time."""
        self._run_target_epoch, self._run_first, self._rate = 0, None, 0.0
        self._status_before = None

    def _update_status(self) -> None:
        # The status bar reads the newest epoch the log shows, not the newest received: results
        # that arrived since the last frame wait for the next one, and a fresh run that is still
        # starting has shown nothing yet (the previous run stays in the views until it has).
        last = None if self._fresh_run is not None else self.prediction_log.model().last_result()
        epoch = last.epoch if last is not None else 0
        target = max(self._run_target_epoch, epoch)
        in_run = self.session.is_active() or self._last_outcome is not None
        if in_run:
            self._set_status_text(self.epoch_label, f"epoch {epoch}/{target}")
            self.progress.set_fraction(epoch, target)
        else:
            self._set_status_text(self.epoch_label, f"epoch {epoch}" if epoch else "")
        self.progress.setVisible(in_run)  # an empty bar before any run says nothing
        self._set_status_text(self.rate_label, f"{self._rate:,.0f} epochs/s" if self._rate > 0 else "")
        if self._run_first is not None and last is not None and last.epoch >= self._run_first.epoch:
            elapsed = last.elapsed - self._run_first.elapsed
            if self.session.state == RUNNING and self._rate > 0:  # no ETA while paused
                eta = (target - epoch) / self._rate
                self._set_status_text(
                    self.time_label, f"elapsed {_format_duration(elapsed)} · ETA {_format_duration(eta)}"
                )
            else:
                self._set_status_text(self.time_label, f"elapsed {_format_duration(elapsed)}")
        else:
            self._set_status_text(self.time_label, "")

    # ------------------------------------------------------------- commands
    @Slot()
    def _on_new_triggered(self) -> None:
        if self.session.is_active() or not self._confirm_discard():
            return
        project = get_preset(DEFAULT_PRESET).project
        if self.set_project(replace(project, history=(), name="", description="")):
            self.state_label.setText("New project")

    @Slot()
    def _on_open_triggered(self) -> None:
        if self.session.is_active() or not self._confirm_discard():
            return
        start = str(self._path.parent) if self._path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open project", start, PROJECT_FILTER)
        if path:
            self.open_project(path)

    @Slot()
    def _on_about_triggered(self) -> None:
        QMessageBox.about(self, "About RNN Studio", about_text())

    # ------------------------------------------------------ inside the network
    def _start_fresh_views(self, task: Task, model: ModelConfig | None) -> None:
        """Empty every run view for a run of ``task`` (``model`` None: there are no weights)."""
        self._run_task = task
        self._run_model = model
        self._run_vocab = task.vocabulary() if model is not None else None
        self.snapshots.clear()
        self._pending_flow = []
        self._pending_results = []
        self._live_pending = []
        self._live.cancel()
        self.prediction_log.model().set_targets([p.target for p in task.pairs], [p.input for p in task.pairs])
        self.loss_panel.clear()
        self.film_strip.clear()
        self.gradient_flow.clear()
        self.step_inspector.clear()
        self.step_inspector.set_snapshot_epochs([])
        self.try_it.set_inference(None)
        self.try_it.set_weights_epoch(None)
        self._show_recording(EVERY)  # until a trainer says its weights are recorded rarely
        chars = self._run_vocab.chars if self._run_vocab is not None else task.vocabulary().chars
        self.step_inspector.set_vocabulary(chars)
        self.try_it.set_vocabulary(chars)
        if task.pairs:
            self.gradient_flow.set_input_text(max((p.input for p in task.pairs), key=len))
        self._shown_pair = _NOTHING_SHOWN  # the views were emptied: show the selected pair again
        self._on_editor_selection_changed(self.task_editor.selected_pair())

    def _inspected(self) -> tuple[int, Pair] | None:
        """The selected pair's index in the run's task, and the pair (None if the run never had it).

        Matched by content, not by row: after the user removes or reorders pairs, row 1 of the
        editor may be another pair of the run, or none of them.
        """
        task = self._run_task
        index = self.task_editor.selected_pair()
        edited = self.task().pairs
        if task is None or not 0 <= index < len(edited):
            return None
        pair = edited[index]
        if index < len(task.pairs) and task.pairs[index] == pair:
            return index, pair
        return (task.pairs.index(pair), pair) if pair in task.pairs else None

    def _not_in_run_reason(self) -> str:
        """Why the selected pair is not one the run trained on: 'edited since' or 'added after' the run.

        Edited when the run's pair in that row is no longer in the task (its strings were changed);
        added otherwise (a new row, or one whose old pair is still elsewhere in the task).
        """
        task = self._run_task
        index = self.task_editor.selected_pair()
        if task is not None and 0 <= index < len(task.pairs) and task.pairs[index] not in self.task().pairs:
            return "edited since the run"
        return "added after the run"

    def _inspected_pair(self) -> Pair | None:
        """The selected pair, if the run trained on it."""
        found = self._inspected()
        return found[1] if found else None

    def _visible(self, view: QWidget) -> bool:
        page = self.bottom_tabs.currentWidget()
        return page is view or (isinstance(page, QScrollArea) and page.widget() is view)

    def show_view(self, view: QWidget) -> None:
        """Bring the bottom tab holding ``view`` to the front."""
        for i in range(self.bottom_tabs.count()):
            page = self.bottom_tabs.widget(i)
            if page is view or (isinstance(page, QScrollArea) and page.widget() is view):
                self.bottom_tabs.setCurrentIndex(i)
                return

    def _on_snapshot(self, snapshot: WeightSnapshot) -> None:
        self.snapshots.add(snapshot)
        if self._visible(self.gradient_flow):
            self._pending_flow.append(snapshot)
        if self._visible(self.step_inspector) or self._visible(self.try_it) or self._pending_flow:
            self._follow_throttle.request()

    def _refresh_following_view(self) -> None:
        """Bring the shown inside view to the newest snapshot (throttled to a few times a second)."""
        with self._drawing_frame():
            self._feed_following_view()

    def _feed_following_view(self) -> None:
        if self._visible(self.step_inspector):
            self.step_inspector.set_snapshot_epochs(self.snapshots.epochs())
            if self.step_inspector.follows_latest():
                self._request_steps(None)
        elif self._visible(self.try_it):
            self._request_try(self.try_it.text())
        elif self._visible(self.film_strip) and self._pending_results:
            self.film_strip.append(self._pending_results)
        elif self._visible(self.gradient_flow):
            if self._pending_results:
                self.gradient_flow.add_results(self._pending_results)
            if self._pending_flow:
                self.gradient_flow.add_snapshots(self._pending_flow)
        self._pending_flow = []
        self._pending_results = []

    def _request_steps(self, epoch: int | None) -> None:
        snapshot = self.snapshots.latest() if epoch is None else self.snapshots.nearest(epoch)
        pair = self._inspected_pair()
        self._asked["steps"] = None
        if snapshot is None or self._run_model is None or self._run_vocab is None:
            self.step_inspector.set_inference(None)
            return
        if pair is None:
            reason = self._not_in_run_reason()
            self.step_inspector.set_message(f"This pair was {reason}: train again to look inside it.")
            return
        self._submit(InferenceRequest("steps", self._run_model, self._run_vocab, snapshot, pair.input, pair.target))

    def _submit(self, request: InferenceRequest) -> None:
        self._asked[request.channel] = request
        self.inspector.submit(request)

    def _request_try(self, text: str) -> None:
        snapshot = self.snapshots.latest()
        # Named even with nothing typed: paused or after a run, there are trained weights to try.
        self.try_it.set_weights_epoch(snapshot.epoch if snapshot is not None and self._run_model is not None else None)
        self._asked["try"] = None
        if not text or self.try_it.problems():
            return
        if snapshot is None or self._run_model is None or self._run_vocab is None:
            unrecorded = self.try_it.recording_hint()  # a huge model's weights: there are some, not kept
            self.try_it.set_message(unrecorded or "No trained weights yet: press Train (F5) or Step (F10) first.")
            return
        self._submit(InferenceRequest("try", self._run_model, self._run_vocab, snapshot, text))

    @Slot(int)
    def _on_editor_selection_changed(self, _index: int) -> None:
        found = self._inspected()
        index = self.task_editor.selected_pair()
        pairs = self.task().pairs
        absent = None
        if found is None and self._run_task is not None and 0 <= index < len(pairs):
            absent = (pairs[index], self._not_in_run_reason())
        shown = found if found is not None else absent
        if shown == self._shown_pair:
            return  # typing in a pair, or a row moving under the same pair: the views already show it
        self._shown_pair = shown
        if found is not None:
            run_index, pair = found
            self.film_strip.set_pair(run_index, pair.input, pair.target)
        elif absent is not None:
            # The run has no predictions for it: the strip says so rather than keep the previous pair's rows.
            pair, reason = absent
            self.film_strip.set_pair_not_in_run(
                pair.input, pair.target, f"This pair was {reason}: train again to see its predictions."
            )
        if self._visible(self.step_inspector):
            self._request_steps(None if self.step_inspector.follows_latest() else self.step_inspector.selected_epoch())

    @Slot(int)
    def _on_bottom_tab_changed(self, _index: int) -> None:
        """Hidden views are not fed during a run; the one shown is brought up to date."""
        self._pending_flow = []
        self._pending_results = []
        if self._visible(self.step_inspector):
            self.step_inspector.set_snapshot_epochs(self.snapshots.epochs())
            follow = self.step_inspector.follows_latest()
            self._request_steps(None if follow else self.step_inspector.selected_epoch())
        elif self._visible(self.try_it):
            self._request_try(self.try_it.text())
        elif self._visible(self.gradient_flow):
            self.gradient_flow.set_snapshots(list(self.snapshots))
            self.gradient_flow.add_results(self._history)
        elif self._visible(self.film_strip):
            self.film_strip.set_history(self._history)

    @Slot(int)
    def _on_step_epoch_requested(self, epoch: int) -> None:
        self._request_steps(epoch)

    @Slot(bool)
    def _on_step_follow_changed(self, follow: bool) -> None:
        if follow:
            self._request_steps(None)

    @Slot(str)
    def _on_try_text_submitted(self, text: str) -> None:
        self._request_try(text)

    @Slot(object)
    def _on_walkthrough_requested(self, params: dict) -> None:
        self.inspector.submit(WalkthroughRequest("lesson", **params))

    @Slot(object)
    def _on_inspector_replied(self, reply: InspectorReply) -> None:
        request = reply.request
        if reply.channel == "lesson":
            if reply.error:
                self.shapes_view.set_message(reply.error)
            else:
                self.shapes_view.set_walkthrough(reply.result)
            return
        if request is not self._asked.get(reply.channel):
            return  # the user moved on (another pair, more typing, a message instead): not what is asked now
        if self.snapshots.nearest(request.snapshot.epoch) is not request.snapshot:
            return  # weights reset or thinned away since the request: a newer one is on its way
        view = self.step_inspector if reply.channel == "steps" else self.try_it
        if reply.error:
            view.set_message(reply.error)
        elif reply.channel == "try" and request.text != self.try_it.text():
            return  # the user typed on; a newer request is on its way
        else:
            with self._drawing_frame():
                view.set_inference(reply.result, request.snapshot.epoch)

    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()  # accepted only once the threads are joined: an escape here must not close half-way
        if not self._confirm_discard():
            return
        self.shut_down()
        self._save_settings()
        event.accept()

    @Slot()
    def shut_down(self) -> None:
        """Stop any run and join the training and inspector threads; safe to call more than once."""
        self._follow_throttle.cancel()
        self._live.cancel()
        self.session.shutdown()
        self.inspector.shutdown()


def about_text() -> str:
    """Versions of RNN Studio, Python, torch (if loaded or installed) and Qt."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    torch_version = _torch_version()
    return (
        f"<b>RNN Studio {__version__}</b><br>"
        "Build small recurrent networks on character sequences, train them live and watch them learn.<br><br>"
        f"Python {platform.python_version()}<br>"
        f"torch {torch_version}<br>"
        f"Qt {qVersion()} (PySide6 {pyside_version})"
    )


def _torch_version() -> str:
    module = sys.modules.get("torch")
    if module is not None:
        return str(module.__version__)
    try:
        from importlib.metadata import version

        return version("torch")
    except Exception:
        return "not installed"
