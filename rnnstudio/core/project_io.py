"""Project files: one JSON document with schema_version, written atomically; weights via safetensors.

A project holds the pairs, the vocabulary, the model and training
configuration and, optionally, the run's history. Older files are upgraded
through ``MIGRATIONS`` in order; newer, corrupt or truncated files are refused
with a ProjectError that says which and why. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .config import ModelConfig, TrainConfig, from_dict, to_dict
from .problems import ValidationError, plural, shown
from .results import EpochResult
from .sequences import MAX_PAIRS, Pair, Task
from .vocab import MAX_VOCAB

SCHEMA_VERSION = 1
APP_ID = "rnnstudio"

#: The largest project file read. A run of the default preset writes ~170 bytes an epoch, so its
#: longest run (1,000,000 epochs, 165 MB) still opens; reading is refused before it starts above this.
MAX_PROJECT_BYTES = 256 * 2**20
_LIMIT_TEXT = f"{MAX_PROJECT_BYTES // 2**20} MB"

#: The most pairs and vocabulary entries a file may hold. A few more than a task may train with
#: open, shown as a problem to cut down; far more would only freeze the window that draws them
#: (20,000 pairs took a minute), so such a file is refused with its count.
MAX_OPEN_PAIRS = 4 * MAX_PAIRS
MAX_OPEN_VOCAB = 2 * MAX_VOCAB

#: MIGRATIONS[n] upgrades a version-n document to version n + 1. Version 1 is the first.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


class ProjectError(ValueError):
    """A project or weights file that cannot be read or written, with the reason."""


class ProjectTooLargeError(ProjectError):
    """A save refused because the file would be larger than RNN Studio opens: its history made it so,
    and the project saves without it (``include_history=False``)."""


@dataclass(frozen=True)
class Project:
    """Everything a user keeps: task, configuration and, optionally, the run's history."""

    task: Task
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    history: tuple[EpochResult, ...] = ()
    name: str = ""
    description: str = ""


def history_key(task: Task, model: ModelConfig, train: TrainConfig) -> tuple:
    """What a run's history depends on: equal keys, the history belongs to the project.

    The pairs, the vocabulary's characters in order (an explicit one equal to the derived one
    is the same network), the model, and the training settings but the epoch count and where
    the run went (device, torch threads), which change how fast it computes, not what.
    """
    return (task.pairs, task.vocabulary().chars, model, replace(train, epochs=0, device="auto", threads=0))


def project_to_dict(project: Project, include_history: bool = True) -> dict[str, Any]:
    """The JSON document for ``project``."""
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "app": APP_ID,
        "name": project.name,
        "description": project.description,
        "pairs": [{"input": p.input, "target": p.target} for p in project.task.pairs],
        "vocab": None if project.task.vocab is None else list(project.task.vocab),
        "model": to_dict(project.model),
        "train": to_dict(project.train),
    }
    if include_history and project.history:
        doc["history"] = [dict(r.to_json(), elapsed=r.elapsed) for r in project.history]
    return doc


def project_from_dict(doc: Any, source: str = "the project") -> Project:
    """Parse and upgrade a document; ProjectError names what is wrong."""
    if not isinstance(doc, dict):
        raise ProjectError(f"{source} is not an RNN Studio project (expected a JSON object)")
    version = doc.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ProjectError(f"{source} has no valid schema_version: it is not an RNN Studio project")
    if version > SCHEMA_VERSION:
        raise ProjectError(
            f"{source} was written by a newer RNN Studio (schema_version {version}); "
            f"this version reads up to {SCHEMA_VERSION}: please upgrade RNN Studio"
        )
    if version < 1:
        raise ProjectError(f"{source} has an unknown schema_version {version}")
    while version < SCHEMA_VERSION:
        doc = MIGRATIONS[version](doc)
        version += 1
        doc["schema_version"] = version
    try:
        return _parse_v1(doc)
    except ValidationError as exc:
        raise ProjectError(f"{source}: {exc}") from None
    except (TypeError, ValueError, KeyError) as exc:
        raise ProjectError(f"{source}: {exc}") from None
    except RecursionError:  # a value nested too deeply for the messages that name it
        raise ProjectError(f"{source}: a value is nested too deeply (a project is a few levels deep)") from None


def _parse_v1(doc: dict) -> Project:
    pairs_raw = doc.get("pairs")
    if not isinstance(pairs_raw, list):
        raise ValueError("'pairs' must be a list of {input, target} objects")
    if len(pairs_raw) > MAX_OPEN_PAIRS:
        raise ValueError(
            f"it has {len(pairs_raw):,} pairs: a task trains at most {MAX_PAIRS}, "
            f"and RNN Studio opens files of up to {MAX_OPEN_PAIRS:,} pairs to cut down"
        )
    pairs = []
    for i, p in enumerate(pairs_raw):
        if isinstance(p, dict):
            inp, tgt = p.get("input"), p.get("target")
        elif isinstance(p, list) and len(p) == 2:
            inp, tgt = p
        else:
            raise ValueError(f"pair {i + 1} must be an object with 'input' and 'target'")
        if not isinstance(inp, str) or not isinstance(tgt, str):
            raise ValueError(f"pair {i + 1}: input and target must be strings")
        pairs.append(Pair(inp, tgt))
    vocab = doc.get("vocab")
    if vocab is not None:
        if not isinstance(vocab, list) or not all(isinstance(c, str) for c in vocab):
            raise ValueError("'vocab' must be null (derived) or a list of characters")
        if len(vocab) > MAX_OPEN_VOCAB:
            raise ValueError(
                f"its vocabulary has {len(vocab):,} entries: "
                f"a vocabulary holds at most {MAX_VOCAB}, and RNN Studio opens files of up to {MAX_OPEN_VOCAB:,} "
                "entries to cut down"
            )
        vocab = tuple(vocab)
    model = from_dict(ModelConfig, doc.get("model", {}), "model")
    train = from_dict(TrainConfig, doc.get("train", {}), "train")
    # Values no window control can hold are refused here, rather than silently changed on display;
    # combinations (say, head "none" with another hidden size) load and show as problems.
    value_problems = [replace(p, field=f"model.{p.field}") for p in model.value_problems()]
    value_problems += [replace(p, field=f"train.{p.field}") for p in train.problems()]
    if value_problems:
        raise ValidationError(value_problems)
    history_raw = doc.get("history")
    if history_raw is None:
        history_raw = []
    if not isinstance(history_raw, list):
        raise ValueError(f"'history' must be a list of epoch records, not {type(history_raw).__name__}")
    history = tuple(_parse_epoch(i, r) for i, r in enumerate(history_raw))
    for i in range(1, len(history)):
        if history[i].epoch <= history[i - 1].epoch:
            raise ValueError(
                f"history entry {i + 1} (epoch {history[i].epoch}) does not follow epoch {history[i - 1].epoch}"
            )
    name, description = doc.get("name", ""), doc.get("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        raise ValueError("'name' and 'description' must be strings")
    for where, text in (
        [("name", name), ("description", description)]
        + [(f"pair {i + 1}", p.input + p.target) for i, p in enumerate(pairs)]
        + [("vocab", "".join(vocab or ()))]
    ):
        bad = next((c for c in text if 0xD800 <= ord(c) <= 0xDFFF), None)
        if bad is not None:
            raise ValueError(f"{where} holds U+{ord(bad):04X}, half of a character: the text is not valid Unicode")
    task = Task(tuple(pairs), vocab)
    if vocab is None and len(task.vocabulary()) > MAX_OPEN_VOCAB:  # derived: as many as the strings hold
        raise ValueError(
            f"its strings hold {len(task.vocabulary()):,} different characters: a vocabulary holds at most "
            f"{MAX_VOCAB}, and RNN Studio opens files of up to {MAX_OPEN_VOCAB:,} to cut down"
        )
    _check_history_fits(history, task)
    return Project(task, model, train, history, name, description)


def _check_history_fits(history: tuple[EpochResult, ...], task: Task) -> None:
    """A history is saved only with the strings it was trained on: each epoch predicts one string
    per pair, as long as its target, from the vocabulary. ValueError naming the first entry that
    does not (a hand edit), which the log would otherwise colour against the wrong targets."""
    targets = [p.target for p in task.pairs]
    lengths = tuple(map(len, targets))
    for i, r in enumerate(history):
        if tuple(map(len, r.predictions)) == lengths:
            continue
        where = f"history entry {i + 1} (epoch {r.epoch})"
        if len(r.predictions) != len(targets):
            raise ValueError(
                f"{where} has {plural(len(r.predictions), 'prediction')} for {plural(len(targets), 'pair')}: "
                "the history is not of this project's strings"
            )
        j = next(j for j, p in enumerate(r.predictions) if len(p) != lengths[j])
        predicted = r.predictions[j]
        raise ValueError(
            f"{where}: pair {j + 1}'s prediction {shown(predicted)} has {plural(len(predicted), 'character')} "
            f"and its target {shown(targets[j])} {lengths[j]}: the history is not of this project's strings"
        )
    known = set(task.vocabulary().chars)
    if set("".join(p for r in history for p in r.predictions)) <= known:  # at once, then find which
        return
    for i, r in enumerate(history):
        for j, p in enumerate(r.predictions):
            stray = next((c for c in p if c not in known), None)
            if stray is not None:
                raise ValueError(
                    f"history entry {i + 1} (epoch {r.epoch}): pair {j + 1}'s prediction {shown(p)} holds "
                    f"{shown(stray)}, which is not in the vocabulary: a model can only predict its characters"
                )


#: The largest epoch number a history may hold: the views keep epochs in int64 arrays and plot them on
#: float64 axes, which count whole numbers exactly up to 2**53.
MAX_HISTORY_EPOCH = 2**53 - 1


def _history_number(where: str, name: str, value: Any, high: float = math.inf) -> float:
    """A finite float from 0 to ``high``; ValueError naming the field otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: {name} must be a number, not {shown(value)}")
    number = float(value) if not isinstance(value, int) or abs(value) < 2**1000 else math.inf
    if not (math.isfinite(number) and 0.0 <= number <= high):
        limits = "from 0 to 1" if high == 1.0 else "of at least 0"
        raise ValueError(f"{where}: {name} must be a finite number {limits}, not {shown(value)}")
    return number


def _parse_epoch(i: int, r: Any) -> EpochResult:
    """One history record, every field checked against what the app can hold and show."""
    where = f"history entry {i + 1}"
    if not isinstance(r, dict):
        raise ValueError(f"{where} must be an object with epoch, loss, accuracy and predictions, not {shown(r)}")
    missing = [k for k in ("epoch", "loss", "accuracy", "predictions") if k not in r]
    if missing:
        names = [repr(k) for k in missing]
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        raise ValueError(f"{where} is missing {listed}")
    epoch = r["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch <= MAX_HISTORY_EPOCH:
        raise ValueError(f"{where}: epoch must be a whole number from 1 to {MAX_HISTORY_EPOCH:,}, not {shown(epoch)}")
    predictions = r["predictions"]
    if not isinstance(predictions, list) or not all(isinstance(p, str) for p in predictions):
        raise ValueError(f"{where}: predictions must be a list of strings, not {shown(predictions)}")
    grad_norm = r.get("grad_norm")  # null: no clipping, or a norm JSON cannot hold (see EpochResult.to_json)
    clipped = r.get("clipped", False)
    if not isinstance(clipped, bool):
        raise ValueError(f"{where}: clipped must be true or false, not {shown(clipped)}")
    return EpochResult(
        epoch=epoch,
        loss=_history_number(where, "loss", r["loss"]),
        accuracy=_history_number(where, "accuracy", r["accuracy"], high=1.0),
        predictions=tuple(predictions),
        elapsed=_history_number(where, "elapsed", r.get("elapsed", 0.0)),
        grad_norm=None if grad_norm is None else _history_number(where, "grad_norm", grad_norm),
        clipped=clipped,
    )


#: What a document cut short may leave where parsing fails: nothing, or part of a number or of true/false/null.
_PARTIAL_TOKEN = re.compile(r"\s*(?:-?[0-9.eE+-]*|t(?:r(?:ue?)?)?|f(?:a(?:l(?:se?)?)?)?|n(?:u(?:ll?)?)?)\s*")

#: The end of a string cut inside a \uXXXX escape (or a surrogate pair), from the 'u' the decoder points at.
_PARTIAL_ESCAPE = re.compile(r"u[0-9a-fA-F]{0,4}(?:\\u[0-9a-fA-F]{0,4})?")


def _ends_early(text: str, exc: json.JSONDecodeError) -> bool:
    """Whether the JSON fails only because the text stops, e.g. inside a string or a number."""
    if exc.msg.startswith("Unterminated string"):  # the decoder reports this only at the end of the text
        return True
    if exc.msg.startswith("Invalid \\uXXXX escape"):
        return _PARTIAL_ESCAPE.fullmatch(text, exc.pos) is not None
    return exc.msg != "Extra data" and _PARTIAL_TOKEN.fullmatch(text, exc.pos) is not None


def loads_project(text: str, source: str = "the project") -> Project:
    """Parse a project from JSON text."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if _ends_early(text, exc):
            raise ProjectError(f"{source} is truncated (it ends in the middle of the document)") from None
        raise ProjectError(
            f"{source} is corrupt: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from None
    except RecursionError:
        raise ProjectError(
            f"{source} is corrupt: its JSON is nested too deeply to read (a project is a few levels deep)"
        ) from None
    except ValueError as exc:  # json reads integers only up to sys.get_int_max_str_digits() digits
        limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()
        if "integer string conversion" in str(exc) and limit:
            raise ProjectError(f"{source} is corrupt: it holds a whole number of more than {limit:,} digits") from None
        raise ProjectError(f"{source} is corrupt: {exc}") from None
    except MemoryError:
        raise ProjectError(f"{source} is too large to read into memory") from None
    return project_from_dict(doc, source)


def _size_text(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _read_project_bytes(p: Path) -> bytes:
    """The file's bytes, refused before reading if it is no regular file or larger than MAX_PROJECT_BYTES."""
    # O_NONBLOCK: opening a FIFO to read would otherwise wait for a writer, forever.
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        raise ProjectError(f"{p} does not exist") from None
    except IsADirectoryError:
        raise ProjectError(f"{p} is a folder, not a project file") from None
    except OSError as exc:
        raise ProjectError(f"cannot read {p}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        mode, size = st.st_mode, st.st_size
        if stat.S_ISDIR(mode):
            raise ProjectError(f"{p} is a folder, not a project file")
        if not stat.S_ISREG(mode):  # /dev/zero never ends, a FIFO may never deliver
            raise ProjectError(f"{p} is {_kind(mode)}, not a project file")
        if size > MAX_PROJECT_BYTES:
            raise ProjectError(f"{p} is {_size_text(size)}, more than the {_LIMIT_TEXT} RNN Studio opens")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_PROJECT_BYTES + 1)  # the file may have grown since fstat
    except OSError as exc:
        raise ProjectError(f"cannot read {p}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_PROJECT_BYTES:
        raise ProjectError(f"{p} is more than the {_LIMIT_TEXT} RNN Studio opens")
    return data


def load_project(path: str | os.PathLike) -> Project:
    """Read a project file; ProjectError for a missing, unreadable, special, oversized, corrupt or newer file."""
    p = Path(path)
    data = _read_project_bytes(p)
    # RNN Studio writes UTF-8. A file saved again by an editor may have gained a BOM, or become
    # UTF-16 (Notepad's "Unicode", PowerShell's Out-File): JSON's own detection reads all of them,
    # and names a codec that drops the BOM it found (utf-8-sig, utf-16, utf-32).
    try:
        text = data.decode(json.detect_encoding(data))
    except UnicodeDecodeError:
        raise ProjectError(f"{p} is not a text file: it is not an RNN Studio project") from None
    return loads_project(text, str(p))


def dumps_project(project: Project, include_history: bool = True) -> str:
    """The project as JSON text (UTF-8, readable, no NaN)."""
    return json.dumps(project_to_dict(project, include_history), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def _temporary_beside(p: Path) -> tuple[int, str]:
    """A new temporary file in ``p``'s folder, where a save writes before it swaps: (fd, its path)."""
    return tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)


def _written_path(path: str | os.PathLike) -> Path:
    """Where a save of ``path`` writes: through a symbolic link, the file it points to (the link stays)."""
    return Path(os.path.realpath(path))


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    A crash or a full disk leaves the old file as it was. OSError carries the reason.
    """
    p = _written_path(path)
    try:  # keep the permissions of the file being replaced; a new file gets the usual ones
        mode = p.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        fd, tmp = _temporary_beside(p)
    except PermissionError as exc:  # the file itself may be writable: say what the save needs
        raise PermissionError(
            exc.errno,
            f"the folder {p.parent} is not writable (a save writes the new file beside the old one, then swaps them)",
        ) from None
    try:
        os.chmod(tmp, mode)  # mkstemp makes 0600 files
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def check_writable(path: str | os.PathLike) -> None:
    """ProjectError unless a file can be saved at ``path``: for checks before long work, such as training."""
    p = Path(path)
    target = _written_path(p)  # where atomic_write will write
    folder = target.parent
    try:  # these raise, rather than answer False, for a folder the user may not look into
        is_dir, folder_exists, folder_is_dir = p.is_dir(), folder.exists(), folder.is_dir()
    except OSError as exc:
        raise ProjectError(
            f"cannot save {p}: {exc.strerror or exc} (the folder {folder} cannot be looked into)"
        ) from None
    if is_dir:
        raise ProjectError(f"cannot save {p}: it is a folder; give a file name")
    if not folder_exists:
        raise ProjectError(f"cannot save {p}: the folder {folder} does not exist")
    if not folder_is_dir:
        raise ProjectError(f"cannot save {p}: {folder} is not a folder")
    try:  # what atomic_write does first; permission bits alone miss read-only mounts and ACLs
        fd, probe = _temporary_beside(target)
    except OSError as exc:
        raise ProjectError(f"cannot save {p}: the folder {folder} is not writable ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)


def save_project(project: Project, path: str | os.PathLike, include_history: bool = True) -> None:
    """Save atomically; ProjectError says why a save failed (the old file is kept)."""
    try:
        data = dumps_project(project, include_history).encode("utf-8")
    except (ValueError, UnicodeError) as exc:  # a non-finite number or a lone surrogate: nothing is written
        raise ProjectError(f"cannot save {path}: the project holds something JSON cannot store ({exc})") from None
    if len(data) > MAX_PROJECT_BYTES:  # a file RNN Studio would refuse to open again is not written
        raise (ProjectTooLargeError if include_history and project.history else ProjectError)(
            f"cannot save {path}: with its history of {plural(len(project.history), 'epoch')} the file would be "
            f"{_size_text(len(data))}, more than the {_LIMIT_TEXT} RNN Studio opens"
        )
    try:
        atomic_write(path, data)
    except OSError as exc:
        raise ProjectError(f"cannot save {path}: {exc.strerror or exc}") from None


def save_weights(weights: Mapping[str, np.ndarray], path: str | os.PathLike, metadata: Mapping[str, str]) -> None:
    """Save weights as safetensors (plain arrays and string metadata, never pickle)."""
    from safetensors.numpy import save

    arrays = {k: np.ascontiguousarray(v) for k, v in weights.items()}
    try:
        atomic_write(path, save(arrays, metadata={"format": "rnnstudio-weights", **metadata}))
    except OSError as exc:
        raise ProjectError(f"cannot save {path}: {exc.strerror or exc}") from None


def load_weights_file(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a safetensors weights file: (arrays, metadata); ProjectError if it is not one."""
    from safetensors import safe_open

    p = Path(path)
    if not p.is_file():
        raise ProjectError(f"{p} does not exist")
    try:
        with safe_open(str(p), framework="numpy") as f:
            metadata = dict(f.metadata() or {})
            arrays = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise ProjectError(f"{p} is not a valid weights file ({exc})") from None
    return arrays, metadata
