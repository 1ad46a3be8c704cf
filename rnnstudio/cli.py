"""Command line: launch the app, list presets, or train headless (no Qt on the headless paths)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from . import __version__
from .core.config import CELLS, DEVICES, ENCODINGS, HEADS, NONLINEARITIES, OPTIMIZERS, REDUCTIONS
from .core.problems import ValidationError, listed
from .core.project_io import Project, ProjectError

if TYPE_CHECKING:
    from .core.results import EpochResult
    from .core.trainer import Trainer

COMMANDS = ("train", "presets")
_KEEP = object()  # --hidden not given (None means "auto")


class UsageError(Exception):
    """Bad arguments or data: one line on stderr, exit status 2."""


#: The options that take a string, which may itself start with '-'.
_STRING_OPTIONS = ("--input", "--target", "--vocab")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        for option in _STRING_OPTIONS:
            if message == f"argument {option}: expected one argument":
                # "--input -ab": argparse took "-ab" for an option, and says only that a value is missing.
                message += f" (a string that starts with '-' goes after '=': {option}=-ab)"
        raise UsageError(message)


def _hidden(value: str) -> int | None:
    if value.lower() == "auto":
        return None
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {value!r}: give a whole number or 'auto'") from None


def build_parser() -> argparse.ArgumentParser:
    """The parser for ``rnnstudio`` and ``python main.py``."""
    parser = _Parser(
        prog="rnnstudio",
        description="RNN Studio: build, train and watch small recurrent networks on character sequences. "
        "With no command (or a project FILE) it opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"RNN Studio {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    sub.add_parser("presets", help="list the bundled presets")
    t = sub.add_parser(
        "train",
        help="train headless and print the notebook's lines",
        description="Train headless. Options given override the preset's or project's values.",
    )
    src = t.add_mutually_exclusive_group()
    src.add_argument("--preset", metavar="ID", help="start from a preset (default: rnn-embedding)")
    src.add_argument("--project", metavar="FILE", help="start from a saved project")
    t.add_argument(
        "--input",
        action="append",
        metavar="S",
        help="an input string (repeat for more pairs); one that starts with '-' goes after '=': --input=-ab",
    )
    t.add_argument("--target", action="append", metavar="T", help="its target, as long as the input (--target=-ba)")
    t.add_argument(
        "--vocab", metavar="CHARS", help="an explicit vocabulary, in index order (default: derived; --vocab=-ab)"
    )
    t.add_argument("--seed", type=int)
    t.add_argument("--epochs", type=int)
    t.add_argument("--lr", type=float, help="learning rate")
    t.add_argument("--momentum", type=float, help="momentum, for sgd and rmsprop")
    t.add_argument("--cell", choices=CELLS)
    t.add_argument("--encoding", choices=ENCODINGS)
    t.add_argument("--embedding-size", type=int, metavar="N")
    t.add_argument(
        "--hidden", type=_hidden, default=_KEEP, metavar="N", help="hidden size, or 'auto' (= vocabulary size)"
    )
    t.add_argument("--layers", type=int, metavar="N")
    t.add_argument("--nonlinearity", choices=NONLINEARITIES)
    t.add_argument("--dropout", type=float)
    t.add_argument("--head", choices=HEADS)
    t.add_argument("--optimizer", choices=OPTIMIZERS)
    t.add_argument("--loss", choices=REDUCTIONS, help="loss over time steps: mean, or sum (the RNNCell program)")
    t.add_argument("--clip", type=float, metavar="X", help="clip the gradient norm to X (0: off)")
    t.add_argument("--device", choices=DEVICES)
    t.add_argument("--threads", type=int, metavar="N", help="torch threads (0: auto)")
    t.add_argument("--save-project", metavar="FILE", help="save the project and its history when done")
    t.add_argument("--save-weights", metavar="FILE", help="save the trained weights (safetensors)")
    t.add_argument("--jsonl", action="store_true", help="print one JSON object per epoch, nothing else")
    return parser


def _start_project(args: argparse.Namespace) -> Project:
    from .core.presets import DEFAULT_PRESET, get_preset
    from .core.project_io import load_project

    if args.project:
        return replace(load_project(args.project), history=())
    return get_preset(args.preset or DEFAULT_PRESET).project


_MODEL_ARGS = {
    "cell": "cell",
    "encoding": "encoding",
    "embedding_size": "embedding_size",
    "layers": "num_layers",
    "nonlinearity": "nonlinearity",
    "dropout": "dropout",
    "head": "head",
}
_TRAIN_ARGS = {
    "seed": "seed",
    "epochs": "epochs",
    "lr": "lr",
    "momentum": "momentum",
    "optimizer": "optimizer",
    "loss": "loss_reduction",
    "clip": "clip_grad_norm",
    "device": "device",
    "threads": "threads",
}


def project_from_args(args: argparse.Namespace) -> Project:
    """The preset or project, with every option given on the command line applied."""
    from .core.sequences import Task

    project = _start_project(args)
    inputs, targets = args.input or [], args.target or []
    if len(inputs) != len(targets):
        raise UsageError(
            f"--input given {len(inputs)} time(s) but --target {len(targets)}: give one --target per --input"
        )
    task = project.task
    if inputs:
        task = Task.of(zip(inputs, targets, strict=True), task.vocab)
    if args.vocab is not None:
        task = Task.of(task.pairs, args.vocab)
    model_changes = {f: getattr(args, a) for a, f in _MODEL_ARGS.items() if getattr(args, a) is not None}
    if args.hidden is not _KEEP:
        model_changes["hidden_size"] = args.hidden
    train_changes = {f: getattr(args, a) for a, f in _TRAIN_ARGS.items() if getattr(args, a) is not None}
    from .core.presets import own_description

    changed = replace(
        project, task=task, model=replace(project.model, **model_changes), train=replace(project.train, **train_changes)
    )
    return own_description(changed)  # --cell gru on a preset: its name no longer describes the network


#: The flag that sets each configuration field, so a problem names what the user typed ("--layers", not "num layers").
_FLAGS = {field: "--" + arg.replace("_", "-") for arg, field in {**_MODEL_ARGS, **_TRAIN_ARGS}.items()}
_FLAGS["hidden_size"] = "--hidden"


def _check(project: Project) -> None:
    problems = project.task.problems()
    problems += project.model.problems(len(project.task.vocabulary())) + project.train.problems()
    if problems:
        raise _naming_flags(ValidationError(problems))


def _naming_flags(error: ValidationError) -> ValidationError:
    """The same problems, each under the command-line flag that sets its field (--layers, not num_layers)."""
    return ValidationError([replace(p, field=_FLAGS.get(p.field, p.field)) for p in error.problems])


def _ignored_options(args: argparse.Namespace, project: Project) -> list[str]:
    """The options given on the command line that this configuration does not use, each saying why."""
    model, train = project.model, project.train
    stacked = "an RNNCell loop has one layer" if model.cell == "rnncell" else "give --layers 2 or more"
    ignored = [
        (args.embedding_size, model.encoding != "embedding", "--embedding-size is used only with an embedding input"),
        (args.nonlinearity, not model.uses_nonlinearity(), "--nonlinearity: LSTM and GRU have fixed activations"),
        (args.dropout or None, not model.uses_dropout(), f"--dropout acts between stacked layers ({stacked})"),
        (
            args.momentum or None,
            not train.uses_momentum(),
            f"--momentum is used only by sgd and rmsprop, not {train.optimizer}",
        ),
    ]  # a dropout or momentum of 0 given where it does not apply changes nothing: no warning
    return [f"{why}; ignored" for given, unused, why in ignored if given is not None and unused]


def cmd_presets() -> int:
    """Print the presets, one per line with its description."""
    from .core.presets import DEFAULT_PRESET, presets

    for p in presets():
        mark = " (default)" if p.id == DEFAULT_PRESET else ""
        pairs = ", ".join(f"{q.input} -> {q.target}" for q in p.project.task.pairs)
        print(f"{p.id}{mark}: {p.name} [{pairs}]")
        print(f"    {p.description}")
    return 0


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before training, a --save-project / --save-weights file that could not be written."""
    from .core.project_io import check_writable

    given = (("--save-project", args.save_project), ("--save-weights", args.save_weights))
    outputs = [(flag, path) for flag, path in given if path]
    for flag, path in outputs:
        try:
            check_writable(path)
        except ProjectError as exc:
            raise UsageError(f"{flag}: {exc}") from None
    if len(outputs) == 2 and Path(outputs[0][1]).resolve() == Path(outputs[1][1]).resolve():
        raise UsageError("--save-project and --save-weights name the same file: the weights would replace the project")


def _save_outputs(
    args: argparse.Namespace, project: Project, history: list[EpochResult], trainer: Trainer
) -> list[str]:
    """Save what was asked for, each on its own so one failure does not cost the other; the failures."""
    from .core.project_io import ProjectTooLargeError, save_project, save_weights

    failures = []
    if args.save_project:
        try:
            try:
                save_project(replace(project, history=tuple(history)), args.save_project)
            except ProjectTooLargeError as exc:  # the strings and settings still save, without the history
                save_project(project, args.save_project, include_history=False)
                print(f"rnnstudio: warning: {exc}; saved it without its history", file=sys.stderr)
        except ProjectError as exc:
            failures.append(str(exc))
    if args.save_weights:
        meta = {
            "model": json.dumps(project.model.__dict__),
            "vocab": json.dumps(list(trainer.vocab.chars), ensure_ascii=False),
            "epoch": str(trainer.epoch),
        }
        try:
            save_weights(trainer.snapshot().weights, args.save_weights, meta)
        except ProjectError as exc:
            failures.append(str(exc))
    return failures


class _Lines:
    """Standard output for a run's lines. Once its reader has gone (`rnnstudio train | head`), the
    rest are dropped and the run goes on: the files asked for are saved at its end as always."""

    def __init__(self) -> None:
        self.closed = False

    def print(self, line: str) -> None:
        if self.closed:
            return
        try:
            print(line)
        except BrokenPipeError:
            self.closed = True
            # What is still buffered, and Python's own flush at exit, go nowhere instead of failing again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


def cmd_train(args: argparse.Namespace) -> int:
    """Train headless; print the notebook's lines or JSON lines; save what was asked for."""
    project = project_from_args(args)
    _check(project)
    _check_outputs(args)  # an unwritable output is found now, not after the training it would have kept
    for warning in _ignored_options(args, project):
        print(f"rnnstudio: warning: {warning}", file=sys.stderr)
    from .core.trainer import Trainer  # torch loads only now, after the arguments are known good

    try:
        trainer = Trainer(project.task, project.model, project.train)
    except ValidationError as exc:  # what only torch can tell: no CUDA for --device cuda
        raise _naming_flags(exc) from None
    total = trainer.epoch + project.train.epochs
    history = []
    out = _Lines()
    try:
        for r in trainer.epochs():
            history.append(r)
            if args.jsonl:
                out.print(json.dumps(r.to_json()))
            else:
                out.print(f"Predicted: {' | '.join(r.predictions)}, Epoch [{r.epoch}/{total}] loss = {r.loss:.3f}")
            if out.closed and not (args.save_project or args.save_weights):
                return 0  # `| head` has read its lines, and no file waits for the rest of the run
        outcome = trainer.outcome
    except KeyboardInterrupt:
        from .core.results import STOPPED, RunOutcome

        outcome = RunOutcome(STOPPED, trainer.epoch, f"stopped after epoch {trainer.epoch}")
    if args.jsonl:
        final = {"outcome": outcome.status, "epochs": outcome.epoch, "message": outcome.message}
        out.print(json.dumps(final))
    if outcome.status != "finished":
        print(f"rnnstudio: {outcome.message}", file=sys.stderr)
    failures = _save_outputs(args, project, history, trainer)
    for failure in failures:
        print(f"rnnstudio: error: {failure}", file=sys.stderr)
    if failures:
        return 2
    return {"finished": 0, "stopped": 130}.get(outcome.status, 1)


def _launch(argv: Sequence[str]) -> int:
    if len(argv) > 1:
        raise UsageError(f"unexpected arguments {' '.join(argv[1:])!r}: give at most one project file to open")
    from .app import run_app

    return run_app(argv[0] if argv else None)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``rnnstudio`` and ``python main.py``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if sys.stdout.encoding and sys.stdout.encoding.lower().replace("-", "") != "utf8":
        sys.stdout.reconfigure(errors="replace")
    try:
        if argv[:1] == ["--"]:  # the end of options: what follows is a file, even "-x.json" or "train"
            return _launch(argv[1:])
        if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-")):
            return _launch(argv)
        args = build_parser().parse_args(argv)
        if args.command == "presets":
            return cmd_presets()
        if args.command == "train":
            return cmd_train(args)
        return _launch([])
    except ValidationError as exc:  # the first few problems: an empty --vocab made every character one
        print(f"rnnstudio: error: {'; '.join(listed([str(p) for p in exc.problems]))}", file=sys.stderr)
        return 2
    except (UsageError, ProjectError) as exc:
        print(f"rnnstudio: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `rnnstudio train | head` closed our stdout: not an error
        return 0
    except KeyboardInterrupt:  # Ctrl+C outside the training loop (torch takes seconds to load): no traceback
        print("rnnstudio: interrupted", file=sys.stderr)
        return 130
