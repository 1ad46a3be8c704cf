"""The headless command line: the notebook's lines, JSON lines, saving, and one clear line per bad argument.

A few runs go through ``python main.py`` in a real subprocess (each pays for importing
torch); the rest call ``rnnstudio.cli.main(argv)`` in-process.
"""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnstudio.cli import main
from rnnstudio.core.presets import get_preset
from rnnstudio.core.project_io import load_project, load_weights_file

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
LINE = re.compile(r"Predicted: (?P<pred>.+), Epoch \[(?P<epoch>\d+)/(?P<total>\d+)\] loss = (?P<loss>\d+\.\d{3})")
EPOCH_KEYS = {"epoch", "loss", "accuracy", "predictions"}


def run_main_py(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
    )


def in_process_run(preset_id: str, epochs: int | None = None):
    from rnnstudio.core.trainer import Trainer

    project = get_preset(preset_id).project
    trainer = Trainer(project.task, project.model, project.train)
    return trainer, list(trainer.epochs(count=epochs))


# --- real subprocesses -----------------------------------------------------------------------


def test_train_preset_prints_the_notebooks_lines_and_matches_an_in_process_run() -> None:
    proc = run_main_py("train", "--preset", "rnn-embedding")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 15
    for n, line in enumerate(lines, start=1):
        m = LINE.fullmatch(line)
        assert m, line
        assert (int(m["epoch"]), int(m["total"])) == (n, 15)
    assert LINE.fullmatch(lines[-1])["pred"] == "ohlol"
    _, results = in_process_run("rnn-embedding")
    expected = [f"Predicted: {r.predictions[0]}, Epoch [{r.epoch}/15] loss = {r.loss:.3f}" for r in results]
    assert lines == expected


def test_jsonl_prints_only_json_and_saves_project_and_weights(tmp_path: Path) -> None:
    project_path, weights_path = tmp_path / "run.json", tmp_path / "run.safetensors"
    proc = run_main_py(
        "train",
        "--preset",
        "rnn-onehot",
        "--epochs",
        "4",
        "--jsonl",
        "--save-project",
        str(project_path),
        "--save-weights",
        str(weights_path),
    )
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]  # every line is JSON
    assert all(isinstance(r, dict) for r in records)
    per_epoch = [r for r in records if "epoch" in r]
    assert [set(r) for r in per_epoch] == [EPOCH_KEYS] * 4
    assert [r["epoch"] for r in per_epoch] == [1, 2, 3, 4]
    assert records[:4] == per_epoch  # epochs first, in order
    assert records[4:] == [{"outcome": "finished", "epochs": 4, "message": "finished 4 epochs"}]  # last, once
    trainer, results = in_process_run("rnn-onehot", 4)
    assert [r["loss"] for r in per_epoch] == pytest.approx([r.loss for r in results], rel=1e-6)
    assert [r["predictions"] for r in per_epoch] == [list(r.predictions) for r in results]

    saved = load_project(project_path)
    assert [r.epoch for r in saved.history] == [1, 2, 3, 4]
    assert [r.loss for r in saved.history] == [r["loss"] for r in per_epoch]  # exactly what was printed
    assert [r.accuracy for r in saved.history] == [r["accuracy"] for r in per_epoch]
    assert saved.task == get_preset("rnn-onehot").project.task
    assert saved.model == get_preset("rnn-onehot").project.model
    assert saved.train.epochs == 4  # the options given are part of the saved project

    arrays, metadata = load_weights_file(weights_path)
    assert metadata["epoch"] == "4"
    assert json.loads(metadata["vocab"]) == ["e", "h", "l", "o"]
    weights = trainer.snapshot().weights
    assert set(arrays) == set(weights)
    for name in weights:
        np.testing.assert_allclose(arrays[name], weights[name], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("save", [True, False])
def test_a_reader_that_stops_early_still_gets_the_files_saved(tmp_path: Path, save: bool) -> None:
    # `rnnstudio train --save-project p | head -1`: the closed pipe ended the run, silently and with
    # status 0, before the project was saved. Now the run goes on and saves; with nothing to save, it ends.
    project_path = tmp_path / "p.rnnproj.json"
    epochs = 3000 if save else 1_000_000  # nothing to save: it ends now, not after 30 minutes of training
    args = ["train", "--preset", "rnn-embedding", "--epochs", str(epochs)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen(
        [sys.executable, "main.py", *args, *(["--save-project", str(project_path)] if save else [])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert LINE.match(proc.stdout.readline())  # the first line, as `head -1` reads it
    proc.stdout.close()
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()  # it trained on with no one reading and nothing to save
        raise
    assert proc.returncode == 0 and err == ""
    if save:
        assert [r.epoch for r in load_project(project_path).history] == list(range(1, epochs + 1))
    else:
        assert not project_path.exists()


def test_bad_argument_in_a_real_process_exits_2_with_one_line_and_no_traceback() -> None:
    proc = run_main_py("train", "--epochs", "x")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == ["rnnstudio: error: argument --epochs: invalid int value: 'x'"]


@pytest.mark.skipif(not Path("/dev/zero").exists() or sys.platform == "win32", reason="no /dev/zero here")
def test_a_device_given_as_the_project_exits_2_without_reading_it() -> None:
    import resource

    limit = 2**30  # were it read whole, the process fails fast instead of taking the machine's memory

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    proc = subprocess.run(
        [sys.executable, "main.py", "train", "--project", "/dev/zero"],
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=180,
        preexec_fn=cap_memory,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == ["rnnstudio: error: /dev/zero is a device, not a project file"]


# --- in-process ------------------------------------------------------------------------------


BAD_ARGUMENTS = [
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    (["train", "--epochs", "x"], "--epochs: invalid int value: 'x'"),
    (["train", "--lr", "fast"], "--lr: invalid float value: 'fast'"),
    (["train", "--input", "hello"], "--input given 1 time(s) but --target 0"),
    (["train", "--target", "ohlol"], "--input given 0 time(s) but --target 1"),
    (["train", "--input", "-ab", "--target", "ba"], "goes after '=': --input=-ab"),  # said only a value was missing
    (["train", "--project", "/nonexistent/dir/project.json"], "/nonexistent/dir/project.json does not exist"),
    (["train", "--project", str(DATA / "project_corrupt.json")], "is corrupt"),
    (["train", "--project", str(DATA / "project_newer.json")], "newer RNN Studio"),
    (["train", "--input", "hello", "--target", "ohl"], "pair 1, target, position 4: has 3 characters"),
    (["train", "--input", "ab", "--target", "bc", "--vocab", "ab"], "target, position 2: 'c' is not in the vocabulary"),
    (["train", "--input", "", "--target", "x"], "pair 1, input: is empty"),
    (["train", "--preset", "nope"], "no preset 'nope'; the presets are rnncell-onehot, rnn-onehot, rnn-embedding"),
    (["train", "--preset", "rnn-onehot", "--project", "p.json"], "not allowed with argument --preset"),
    (["train", "--lr", "0"], "--lr: the learning rate must be from 1e-06 to 10"),
    (["train", "--layers", "0"], "--layers: must be a whole number from 1 to 8"),
    (["train", "--clip", "-1"], "--clip: must be 0 (off) or a positive number"),
    (["train", "--hidden", "0"], "--hidden: must be a whole number from 1 to 4096, or auto"),
    (["train", "--embedding-size", "0"], "--embedding-size: must be a whole number"),
    (["train", "--loss", "sum", "--epochs", "0"], "--epochs: must be a whole number from 1 to 1,000,000"),
    (["train", "--hidden", "many"], "give a whole number or 'auto'"),
    (["train", "--cell", "transformer"], "invalid choice: 'transformer'"),
    (["train", "--preset", "rnn-onehot", "--hidden", "7"], "--hidden: head 'none' uses the hidden state"),
    (["train", "--preset", "rnncell-onehot", "--layers", "2"], "--layers: an RNNCell loop has a single layer"),
    (["presets", "--all"], "unrecognized arguments: --all"),
]


@pytest.mark.parametrize(("argv", "expected"), BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS])
def test_bad_arguments_exit_2_with_one_line_naming_the_problem(capsys, argv: list[str], expected: str) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""  # nothing trained, nothing printed
    assert len(err.splitlines()) == 1, err
    assert err.startswith("rnnstudio: error: ")
    assert expected in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "warnings"),
    [
        (["--momentum", "0.9"], ["--momentum is used only by sgd and rmsprop, not adam; ignored"]),
        (["--encoding", "onehot", "--embedding-size", "5"], ["--embedding-size is used only with an embedding input"]),
        (["--cell", "gru", "--nonlinearity", "relu"], ["--nonlinearity: LSTM and GRU have fixed activations"]),
        (["--layers", "1", "--dropout", "0.3"], ["--dropout acts between stacked layers (give --layers 2 or more)"]),
        (["--optimizer", "sgd", "--momentum", "0.9", "--dropout", "0.2", "--embedding-size", "6"], []),
        (["--momentum", "0", "--layers", "1", "--dropout", "0"], []),  # zeros change nothing
    ],
)
def test_an_option_the_configuration_does_not_use_is_trained_without_and_named(capsys, argv, warnings) -> None:
    # `--momentum 0.9` with Adam trained silently without it.
    assert main(["train", "--preset", "rnn-embedding", "--epochs", "1", *argv]) == 0
    out, err = capsys.readouterr()
    assert "Epoch [1/1]" in out
    lines = err.splitlines()
    assert len(lines) == len(warnings)
    for line, warning in zip(lines, warnings, strict=True):
        assert line.startswith("rnnstudio: warning: ") and warning in line


def test_cuda_without_cuda_is_refused_at_the_device_flag_before_training(capsys, monkeypatch) -> None:
    from rnnstudio.core import trainer

    monkeypatch.setattr(trainer.torch.cuda, "is_available", lambda: False)  # as on a machine without CUDA
    assert main(["train", "--device", "cuda", "--epochs", "2"]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # not one epoch trained
    assert err == "rnnstudio: error: --device: CUDA is not available here: use auto or cpu\n"


def test_many_problems_are_listed_up_to_five_then_counted(capsys) -> None:
    # An empty --vocab listed all eleven problems (every character of the pair) on one long line.
    assert main(["train", "--vocab", ""]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith("rnnstudio: error: vocab: the vocabulary is empty; ")
    assert err.count("is not in the vocabulary") == 4 and err.rstrip().endswith("… and 6 more")


def test_several_problems_share_the_one_line(capsys) -> None:
    assert main(["train", "--epochs", "0", "--lr", "nan", "--input", "ab", "--target", "abc"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "epochs" in err and "learning rate" in err and "pair 1, target" in err


@pytest.mark.parametrize(
    ("argv", "opened"),
    [(["--", "x.json"], "x.json"), (["--", "-odd.json"], "-odd.json"), (["--", "train"], "train"), (["--"], None)],
)
def test_double_dash_ends_the_options_and_the_rest_is_the_file_to_open(monkeypatch, argv, opened) -> None:
    from rnnstudio import app

    launched = []
    monkeypatch.setattr(app, "run_app", lambda path=None: launched.append(path) or 0)
    assert main(argv) == 0
    assert launched == [opened]


def test_double_dash_still_takes_one_file_at_most(capsys, monkeypatch) -> None:
    from rnnstudio import app

    monkeypatch.setattr(app, "run_app", lambda path=None: pytest.fail("the window opened"))
    assert main(["--", "a.json", "b.json"]) == 2
    assert "give at most one project file" in capsys.readouterr().err


def test_a_saved_project_keeps_a_preset_s_name_only_while_its_network_is_the_preset_s(tmp_path: Path, capsys) -> None:
    base = ["train", "--preset", "rnn-embedding", "--epochs", "1", "--save-project"]
    assert main([*base, str(tmp_path / "more.rnnproj.json"), "--lr", "0.01"]) == 0
    assert load_project(tmp_path / "more.rnnproj.json").name == "Embedding + 2-layer RNN + Linear"
    assert main([*base, str(tmp_path / "gru.rnnproj.json"), "--cell", "gru"]) == 0
    saved = load_project(tmp_path / "gru.rnnproj.json")
    assert (saved.name, saved.description, saved.model.cell) == ("", "", "gru")


def test_presets_lists_the_three_ids(capsys) -> None:
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    ids = [line.split(":")[0].split(" ")[0] for line in out.splitlines() if not line.startswith(" ")]
    assert ids == ["rnncell-onehot", "rnn-onehot", "rnn-embedding"]
    assert "rnn-embedding (default):" in out


def test_a_string_that_starts_with_a_dash_is_given_after_an_equals_sign(capsys) -> None:
    assert main(["train", "--input=-ab", "--target=b-a", "--vocab=-ab", "--epochs", "1"]) == 0
    assert "Epoch [1/1]" in capsys.readouterr().out


def test_pairs_and_options_from_the_command_line(capsys) -> None:
    argv = ["train", "--input", "hello", "--input", "xy", "--target", "ohlol", "--target", "yx"]
    argv += ["--epochs", "3", "--hidden", "12", "--cell", "gru", "--seed", "3"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for n, line in enumerate(lines, start=1):
        m = LINE.fullmatch(line)
        assert m and int(m["epoch"]) == n and m["total"] == "3", line
        first, second = m["pred"].split(" | ")  # one prediction per pair
        assert len(first) == 5 and len(second) == 2


def test_diverged_run_exits_1_with_the_advice_on_stderr(capsys) -> None:
    argv = ["train", "--input", "hello", "--target", "ohlol", "--cell", "rnn", "--encoding", "embedding"]
    argv += ["--hidden", "64", "--layers", "2", "--nonlinearity", "relu", "--head", "linear", "--optimizer", "sgd"]
    argv += ["--lr", "10", "--loss", "sum", "--seed", "0", "--epochs", "30", "--jsonl"]
    assert main(argv) == 1
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert records[-1]["outcome"] == "diverged" and "epoch" not in records[-1]
    assert all(set(r) == EPOCH_KEYS for r in records[:-1])
    assert re.fullmatch(r"rnnstudio: diverged at epoch \d+, loss (nan|inf): try a lower learning rate\n", err), err


def test_project_file_is_the_starting_point_and_its_old_history_is_not_kept(tmp_path: Path, capsys) -> None:
    out_path = tmp_path / "continued.json"
    argv = ["train", "--project", str(DATA / "project_v1.json"), "--epochs", "2", "--jsonl"]
    assert main([*argv, "--save-project", str(out_path)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    per_epoch = [r for r in records if "epoch" in r]
    assert [r["epoch"] for r in per_epoch] == [1, 2]
    assert all(len(r["predictions"]) == 3 for r in per_epoch)  # the file's three pairs
    assert all("grad_norm" in r for r in per_epoch)  # the file's clipping is on
    original = load_project(DATA / "project_v1.json")
    saved = load_project(out_path)
    assert saved.task == original.task and saved.model == original.model
    assert [r.epoch for r in saved.history] == [1, 2]


def test_an_output_that_cannot_be_written_is_refused_before_training(tmp_path: Path, capsys) -> None:
    target = tmp_path / "missing-folder" / "p.json"
    argv = ["train", "--preset", "rnn-onehot", "--epochs", "1", "--save-project", str(target)]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""  # nothing trained
    assert err == f"rnnstudio: error: --save-project: cannot save {target}: the folder {target.parent} does not exist\n"
    assert not target.parent.exists()


@pytest.mark.parametrize(
    ("flag", "where", "expected"),
    [
        ("--save-project", "folder", "it is a folder; give a file name"),
        ("--save-weights", "folder", "it is a folder; give a file name"),
        ("--save-weights", "missing/w.safetensors", "the folder"),
        ("--save-project", "a-file/p.json", "is not a folder"),
        ("--save-weights", "read-only/w.safetensors", "is not writable"),
    ],
)
def test_each_output_is_checked_before_training(tmp_path: Path, capsys, flag: str, where: str, expected: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    (tmp_path / "read-only").mkdir(mode=0o500)
    if where.startswith("read-only") and os.access(tmp_path / "read-only", os.W_OK) and os.geteuid() == 0:
        pytest.skip("root writes into a read-only folder")
    good = "--save-weights" if flag == "--save-project" else "--save-project"
    argv = ["train", "--preset", "rnn-onehot", "--epochs", "1", flag, str(tmp_path / where)]
    argv += [good, str(tmp_path / "good.out")]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"rnnstudio: error: {flag}: cannot save ") and expected in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "folder", "read-only"]  # nothing written


def test_an_output_in_a_folder_the_user_cannot_look_into_is_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    # Path.is_dir raises, not answers False, under a folder without search permission (root, running
    # these tests, may look anywhere: the refusal is simulated where pathlib asks the system).
    target = tmp_path / "locked" / "p.json"
    real_stat = Path.stat

    def stat(self, *args, **kwargs):
        if str(self).startswith(str(tmp_path / "locked")):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    assert main(["train", "--preset", "rnn-onehot", "--epochs", "1", "--save-project", str(target)]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # nothing trained, and no traceback
    assert err == (
        f"rnnstudio: error: --save-project: cannot save {target}: Permission denied "
        f"(the folder {target.parent} cannot be looked into)\n"
    )


def test_a_history_too_large_to_open_again_is_left_out_with_a_warning(tmp_path: Path, capsys, monkeypatch) -> None:
    from rnnstudio.core import project_io

    monkeypatch.setattr(project_io, "MAX_PROJECT_BYTES", 2_000)  # a few epochs' history is too much
    target = tmp_path / "p.json"
    assert main(["train", "--preset", "rnn-onehot", "--epochs", "30", "--save-project", str(target)]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"rnnstudio: warning: cannot save {target}: with its history of 30 epochs the file would be")
    assert err.endswith("; saved it without its history\n")
    saved = load_project(target)
    assert saved.history == () and saved.train.epochs == 30  # the strings and settings are there


def test_the_same_file_for_project_and_weights_is_refused(tmp_path: Path, capsys) -> None:
    path = str(tmp_path / "out.json")
    assert main(["train", "--epochs", "1", "--save-project", path, "--save-weights", path]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--save-project and --save-weights name the same file" in err


def test_a_save_that_fails_after_training_does_not_stop_the_other(tmp_path: Path, capsys, monkeypatch) -> None:
    from rnnstudio.core import project_io

    def disk_full(*args, **kwargs):
        raise project_io.ProjectError(f"cannot save {args[1]}: No space left on device")

    project_path, weights_path = tmp_path / "p.json", tmp_path / "w.safetensors"
    argv = ["train", "--preset", "rnn-onehot", "--epochs", "2"]
    argv += ["--save-project", str(project_path), "--save-weights", str(weights_path)]
    monkeypatch.setattr(project_io, "save_project", disk_full)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2  # the epochs were trained and shown
    assert err == f"rnnstudio: error: cannot save {project_path}: No space left on device\n"
    arrays, meta = load_weights_file(weights_path)  # the weights were saved all the same
    assert meta["epoch"] == "2" and arrays
    monkeypatch.undo()

    monkeypatch.setattr(project_io, "save_weights", disk_full)
    weights_path.unlink()
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err == f"rnnstudio: error: cannot save {weights_path}: No space left on device\n"
    assert [r.epoch for r in load_project(project_path).history] == [1, 2]
    assert not weights_path.exists()


def test_ctrl_c_before_training_begins_is_one_line_and_status_130(capsys, monkeypatch) -> None:
    """torch takes seconds to load and build: a Ctrl+C then printed a page of traceback."""
    from rnnstudio.core import trainer

    def interrupted(*args, **kwargs) -> None:
        raise KeyboardInterrupt  # as the signal arrives while the trainer is built

    monkeypatch.setattr(trainer.Trainer, "__init__", interrupted)
    assert main(["train", "--preset", "rnn-onehot"]) == 130
    out, err = capsys.readouterr()
    assert out == "" and err == "rnnstudio: interrupted\n"
