"""Project and weights files: round trips, committed old and broken files, atomic saves, no pickle."""

from __future__ import annotations

import ast
import errno
import json
import os
import re
import tokenize
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rnnstudio.core import project_io
from rnnstudio.core.config import ModelConfig, TrainConfig
from rnnstudio.core.presets import get_preset
from rnnstudio.core.project_io import (
    Project,
    ProjectError,
    dumps_project,
    load_project,
    load_weights_file,
    loads_project,
    save_project,
    save_weights,
)
from rnnstudio.core.results import EpochResult
from rnnstudio.core.sequences import Pair, Task

DATA = Path(__file__).resolve().parents[1] / "data"
PACKAGE = Path(__file__).resolve().parents[2] / "rnnstudio"


def sample_project(vocab: str | None = "olhe 日本🙂") -> Project:
    two = vocab is None  # a history predicts one string per pair, as long as its target
    return Project(
        task=Task.of([("hello", "ohlol"), ("日本 🙂", "🙂 本日")] if two else [("hello", "ohlol")], vocab),
        model=ModelConfig(
            cell="lstm", encoding="embedding", embedding_size=5, hidden_size=9, num_layers=2, dropout=0.1
        ),
        train=TrainConfig(optimizer="rmsprop", lr=0.02, momentum=0.3, epochs=12, seed=41, clip_grad_norm=2.0),
        history=(
            EpochResult(
                1, 1.3862943611198906, 0.2, ("lllll", "本本本本")[: 1 + two], 0.0031, grad_norm=3.25, clipped=True
            ),
            EpochResult(
                2, 0.1 + 0.2, 0.4, ("ohlll", "🙂本本日")[: 1 + two], 0.0062
            ),  # a float with no short decimal form
            EpochResult(3, 1e-300, 1.0, ("ohlol", "🙂 本日")[: 1 + two], 0.0093, grad_norm=0.75, clipped=False),
        ),
        name="My project 🙂",
        description="two lines\nof description",
    )


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("vocab", ["olhe 日本🙂", None], ids=["explicit", "derived"])
def test_save_and_load_keep_everything(tmp_path: Path, vocab: str | None) -> None:
    project = sample_project(vocab)
    path = tmp_path / "p.json"
    save_project(project, path)
    loaded = load_project(path)
    assert loaded == project
    assert loaded.task.vocab == (None if vocab is None else tuple(vocab))  # derived stays derived
    assert loaded.history[1].loss == 0.1 + 0.2  # bit for bit
    assert loaded.history[0].grad_norm == 3.25 and loaded.history[0].clipped
    assert loaded.history[1].grad_norm is None
    assert loaded.task.vocabulary().chars == project.task.vocabulary().chars


def test_save_without_history(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    save_project(sample_project(), path, include_history=False)
    loaded = load_project(path)
    assert loaded.history == ()
    assert loaded.task == sample_project().task


def test_saved_file_is_readable_utf8_json_with_a_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    save_project(sample_project(), path)
    text = path.read_bytes().decode("utf-8")
    assert '"schema_version": 1' in text
    assert "My project 🙂" in text  # not \u-escaped: people can read and diff their projects


def test_a_preset_s_name_and_description_go_once_its_network_is_another() -> None:
    # A GRU on 256 reversal pairs, saved, still read "Embedding + 2-layer RNN + Linear" and "The
    # notebook's third program: ... a 2-layer RNN with hidden size 8".
    from rnnstudio.core.presets import own_description

    p = get_preset("rnn-embedding").project
    other_task = replace(p, task=Task.of([("abc", "cba")]), train=replace(p.train, epochs=300, lr=0.01, seed=7))
    assert own_description(other_task) == other_task  # the same network on other strings: still its name
    for changed in (
        replace(p, model=replace(p.model, cell="gru")),
        replace(p, model=replace(p.model, hidden_size=16)),
        replace(p, train=replace(p.train, loss_reduction="sum")),
    ):
        assert (own_description(changed).name, own_description(changed).description) == ("", "")
        assert own_description(changed).model == changed.model
    onehot = get_preset("rnn-onehot").project  # an option the network does not use changes nothing
    ignored = replace(onehot, model=replace(onehot.model, embedding_size=5, dropout=0.3))
    assert own_description(ignored).name == onehot.name
    mine = replace(p, name="my GRU", description="reversal", model=replace(p.model, cell="gru"))
    assert own_description(mine) == mine  # the user's own name stays whatever the network


def test_presets_round_trip_through_a_file(tmp_path: Path) -> None:
    project = get_preset("rnn-embedding").project
    save_project(project, tmp_path / "preset.json")
    assert load_project(tmp_path / "preset.json") == project


# --- the committed files ---------------------------------------------------------------------


def test_committed_version_1_project_loads_with_its_history() -> None:
    project = load_project(DATA / "project_v1.json")
    assert project.name == "Three pairs, explicit vocabulary"
    assert project.task.pairs == (Pair("hello", "ohlol"), Pair("hi le", "le hi"), Pair("日本", "本日"))
    assert project.task.vocab == ("o", "l", "h", "e", "i", " ", "日", "本")
    assert project.task.problems() == []
    assert project.model == ModelConfig(
        cell="gru",
        encoding="embedding",
        embedding_size=6,
        hidden_size=12,
        num_layers=2,
        nonlinearity="tanh",
        dropout=0.25,
        head="linear",
    )
    assert project.train == TrainConfig(
        optimizer="sgd",
        lr=0.5,
        momentum=0.9,
        epochs=40,
        seed=7,
        loss_reduction="sum",
        clip_grad_norm=1.5,
        device="cpu",
        threads=1,
    )
    assert [r.epoch for r in project.history] == [1, 2, 3]
    assert [r.loss for r in project.history] == [3.912, 3.1, 2.5]
    assert [r.accuracy for r in project.history] == [0.25, 0.5, 0.75]
    assert project.history[2].predictions == ("ohlol", "le hl", "本日")
    assert [(r.grad_norm, r.clipped) for r in project.history] == [(2.75, True), (1.25, False), (0.5, False)]
    assert project.history[1].elapsed == 0.008


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("project_corrupt.json", r"is corrupt: not valid JSON at line 17, column \d+"),
        ("project_truncated.json", r"is truncated"),
        ("project_newer.json", r"newer RNN Studio \(schema_version 99\).*upgrade"),
        ("not_a_project.json", r"not an RNN Studio project"),
        ("binary_not_utf8.json", r"not a text file: it is not an RNN Studio project"),
    ],
)
def test_committed_bad_files_are_refused_with_the_reason(name: str, expected: str) -> None:
    path = DATA / name
    with pytest.raises(ProjectError) as info:
        load_project(path)
    message = str(info.value)
    assert re.search(expected, message), message
    assert str(path) in message  # which file


def test_project_saved_by_an_editor_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "edited.json"
    path.write_bytes(b"\xef\xbb\xbf" + (DATA / "project_v1.json").read_bytes())
    assert load_project(path) == load_project(DATA / "project_v1.json")


def test_missing_file_and_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="does not exist"):
        load_project(tmp_path / "nope.json")
    with pytest.raises(ProjectError, match="is a folder"):
        load_project(tmp_path)


def test_every_cut_of_a_project_reads_as_truncated_not_corrupt() -> None:
    # a copy or download cut short can stop anywhere: inside a string, a number, a literal, between tokens
    text = dumps_project(sample_project())
    text_ascii = text.encode("ascii", "backslashreplace").decode("ascii").replace("\\U0001f642", "\\ud83d\\ude42")
    assert loads_project(text_ascii) == sample_project()  # the same project, written with \\u escapes
    for source in (text, text_ascii):
        end = len(source.rstrip())
        for n in range(end):
            with pytest.raises(ProjectError) as info:
                loads_project(source[:n])
            assert "truncated" in str(info.value), (n, source[max(0, n - 20) : n], str(info.value))


@pytest.mark.parametrize(
    "text",
    [
        '{"schema_version": 1, "pairs": [] ] }',
        '{"schema_version": 1,, "pairs": []}',
        '{"schema_version": 1} 2',
        '{"schema_version": 1, "name": "\\uZZZZ"}',
        '{"schema_version": tru, "pairs": []}',
    ],
)
def test_bad_json_before_the_end_is_corrupt_not_truncated(text: str) -> None:
    with pytest.raises(ProjectError) as info:
        loads_project(text)
    assert "corrupt" in str(info.value) and "line 1" in str(info.value)


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ('{"schema_version": 0, "pairs": []}', "unknown schema_version 0"),
        ('{"schema_version": "1", "pairs": []}', "no valid schema_version"),
        ('{"schema_version": true, "pairs": []}', "no valid schema_version"),
        ("[1, 2, 3]", "not an RNN Studio project"),
        ('{"schema_version": 1, "pairs": "hello"}', "'pairs' must be a list"),
        ('{"schema_version": 1, "pairs": [{"input": "ab", "target": 3}]}', "pair 1: input and target must be strings"),
        ('{"schema_version": 1, "pairs": [], "vocab": "abc"}', "'vocab' must be null"),
        ('{"schema_version": 1, "pairs": [], "model": {"num_layers": "2"}}', "model.num_layers: has the wrong type"),
        ('{"schema_version": 1, "pairs": [], "train": {"optimiser": "adam"}}', "unknown field 'optimiser'"),
        (
            '{"schema_version": 1, "pairs": [], "history": [{"epoch": 1, "loss": 1, "accuracy": 0, "predictions": []},'
            ' {"epoch": 2, "loss": "x", "accuracy": 0, "predictions": []}]}',
            "history entry 2: loss must be a number, not 'x'",
        ),
        (
            '{"schema_version": 1, "pairs": [], "history": '
            '[{"epoch": 1, "loss": NaN, "accuracy": 0, "predictions": []}]}',
            "history entry 1: loss must be a finite number of at least 0, not nan",
        ),
    ],
)
def test_documents_that_are_not_valid_projects_name_the_problem(doc: str, expected: str) -> None:
    with pytest.raises(ProjectError) as info:
        loads_project(doc, "x.json")
    assert expected in str(info.value)
    assert str(info.value).startswith("x.json")


# --- atomic saves ----------------------------------------------------------------------------


def _fail(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path, monkeypatch, failing: str) -> None:
    path = tmp_path / "p.json"
    save_project(sample_project(), path)
    before = path.read_bytes()
    changed = Project(Task.of([("ab", "ba")]))
    monkeypatch.setattr(project_io.os, failing, _fail)
    with pytest.raises(ProjectError) as info:
        save_project(changed, path)
    assert "cannot save" in str(info.value) and "No space left" in str(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]
    monkeypatch.undo()
    save_project(changed, path)  # and once the disk is fine again, the save goes through
    assert load_project(path) == changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]


def test_a_folder_that_cannot_take_a_new_file_is_named(tmp_path: Path, monkeypatch) -> None:
    # A writable file in a read-only folder: the save needs the folder (root, running these tests,
    # may write anywhere, so the folder's refusal is simulated where the temporary file is made).
    path = tmp_path / "p.json"
    save_project(sample_project(), path)
    before = path.read_bytes()

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(project_io.tempfile, "mkstemp", refuse)
    with pytest.raises(ProjectError) as info:
        save_project(Project(Task.of([("ab", "ba")])), path)
    assert f"the folder {tmp_path} is not writable" in str(info.value)
    assert path.read_bytes() == before


def test_failed_first_save_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(project_io.os, "replace", _fail)
    with pytest.raises(ProjectError):
        save_project(sample_project(), tmp_path / "new.json")
    assert list(tmp_path.iterdir()) == []


def test_failed_weights_save_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "w.safetensors"
    save_weights({"a": np.arange(3, dtype=np.float32)}, path, {})
    before = path.read_bytes()
    monkeypatch.setattr(project_io.os, "fsync", _fail)
    with pytest.raises(ProjectError, match="cannot save"):
        save_weights({"a": np.zeros(5, dtype=np.float32)}, path, {})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]


def test_saving_into_a_missing_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="cannot save"):
        save_project(sample_project(), tmp_path / "no" / "such" / "p.json")


# --- weights ---------------------------------------------------------------------------------


def test_weights_round_trip_and_load_into_a_fresh_trainer(tmp_path: Path) -> None:
    from rnnstudio.core.trainer import Trainer

    preset = get_preset("rnn-embedding").project
    trainer = Trainer(preset.task, preset.model, preset.train)
    for _ in trainer.epochs(count=5):
        pass
    weights = trainer.snapshot().weights
    path = tmp_path / "w.safetensors"
    save_weights(weights, path, {"epoch": "5", "note": "日本"})
    arrays, metadata = load_weights_file(path)
    assert set(arrays) == set(weights) == set(trainer.model.state_dict())
    for name, array in weights.items():
        assert arrays[name].dtype == array.dtype
        np.testing.assert_array_equal(arrays[name], array)
    assert metadata["epoch"] == "5" and metadata["note"] == "日本"
    assert metadata["format"] == "rnnstudio-weights"

    other = Trainer(preset.task, preset.model, TrainConfig(seed=99))  # different initial weights
    assert other.infer("hello").probabilities.tolist() != trainer.infer("hello").probabilities.tolist()
    other.load_weights(arrays)
    np.testing.assert_array_equal(other.infer("hello").probabilities, trainer.infer("hello").probabilities)


@pytest.mark.parametrize(
    "content",
    [b"", b"not safetensors at all", b"\x10\x00\x00\x00\x00\x00\x00\x00{broken json!!!}", os.urandom(2048)],
    ids=["empty", "text", "bad-header", "random"],
)
def test_garbage_weights_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "w.safetensors"
    path.write_bytes(content)
    with pytest.raises(ProjectError, match="not a valid weights file"):
        load_weights_file(path)


def test_missing_weights_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="does not exist"):
        load_weights_file(tmp_path / "none.safetensors")


# --- nothing is ever unpickled ---------------------------------------------------------------


UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}


def test_no_module_uses_pickle_or_torch_load() -> None:
    sources = sorted(PACKAGE.rglob("*.py"))
    assert PACKAGE / "core" / "project_io.py" in sources
    offenders = []
    for path in sources:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
                if node.module == "torch" and any(a.name == "load" for a in node.names):
                    offenders.append(f"{path}:{node.lineno}: from torch import load")
            elif isinstance(node, ast.Attribute) and node.attr == "load":
                base = node.value
                if isinstance(base, ast.Name) and base.id in ("torch", "pickle"):
                    offenders.append(f"{path}:{node.lineno}: {base.id}.load")
                continue
            else:
                continue
            offenders += [f"{path}:{node.lineno}: imports {n}" for n in names & UNSAFE_MODULES]
        # the names in code, not in comments or docstrings (which may say "never pickle")
        with path.open("rb") as f:
            code_names = {t.string for t in tokenize.tokenize(f.readline) if t.type == tokenize.NAME}
        offenders += [f"{path}: uses the name {n}" for n in sorted(code_names & (UNSAFE_MODULES | {"weights_only"}))]
    assert offenders == []


def test_saving_over_a_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "shared.rnnproj.json"
    project = get_preset("rnn-onehot").project
    save_project(project, path)
    os.chmod(path, 0o644)  # readable by colleagues
    save_project(project, path)
    assert path.stat().st_mode & 0o777 == 0o644
    fresh = tmp_path / "new.rnnproj.json"
    umask = os.umask(0o022)
    try:
        save_project(project, fresh)
    finally:
        os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0600


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"model": {"cell": "foo"}}, "model.cell"),
        ({"train": {"device": "tpu"}}, "train.device"),
        ({"train": {"lr": 1e-7}}, "train.lr"),  # below what the learning-rate box can hold
        ({"model": {"dropout": 0.995}}, "model.dropout"),
        ({"train": {"epochs": 0}}, "train.epochs"),
    ],
)
def test_values_no_control_can_hold_are_refused_not_changed(change: dict, named: str) -> None:
    doc = project_io.project_to_dict(get_preset("rnn-embedding").project)
    for section, values in change.items():
        doc[section].update(values)
    with pytest.raises(ProjectError, match=named.replace(".", r"\.")):
        project_io.project_from_dict(doc, "test.json")


def test_a_combination_problem_still_loads_so_it_can_be_fixed_in_the_window() -> None:
    doc = project_io.project_to_dict(get_preset("rnn-onehot").project)
    doc["model"].update({"cell": "rnncell", "num_layers": 2})
    project = project_io.project_from_dict(doc, "test.json")
    assert project.model.num_layers == 2 and project.model.problems(4)


def test_history_must_run_forward_and_text_must_be_real_characters() -> None:
    doc = project_io.project_to_dict(get_preset("rnn-embedding").project)
    doc["history"] = [
        {"epoch": 2, "loss": 1.0, "accuracy": 0.2, "predictions": ["lllll"]},
        {"epoch": 2, "loss": 0.9, "accuracy": 0.2, "predictions": ["lllll"]},
    ]
    with pytest.raises(ProjectError, match="does not follow epoch 2"):
        project_io.project_from_dict(doc, "test.json")
    doc = project_io.project_to_dict(get_preset("rnn-embedding").project)
    doc["pairs"][0]["input"] = "h\ud800llo"
    with pytest.raises(ProjectError, match="U\\+D800"):
        project_io.project_from_dict(doc, "test.json")


@pytest.mark.parametrize(
    ("predictions", "expected"),
    [
        (["lllll", "ohlol"], "history entry 2 (epoch 2) has 2 predictions for 1 pair"),
        ([], "history entry 2 (epoch 2) has 0 predictions for 1 pair"),
        (["ohlo"], "pair 1's prediction 'ohlo' has 4 characters and its target 'ohlol' 5"),
        (["ohlox"], "pair 1's prediction 'ohlox' holds 'x', which is not in the vocabulary"),
    ],
    ids=["a pair too many", "no prediction", "one character short", "a character outside the vocabulary"],
)
def test_a_history_that_does_not_fit_the_strings_is_refused(predictions: list[str], expected: str) -> None:
    # Only a hand edit makes one: the app saves a history only with the strings it trained on.
    doc = project_io.project_to_dict(get_preset("rnn-embedding").project)
    doc["history"] = [
        {"epoch": 1, "loss": 1.0, "accuracy": 0.2, "predictions": ["lllll"]},
        {"epoch": 2, "loss": 0.9, "accuracy": 0.2, "predictions": predictions},
    ]
    with pytest.raises(ProjectError, match=re.escape(expected)):
        project_io.project_from_dict(doc, "test.json")
    doc["history"][1]["predictions"] = ["ohlol"]
    assert project_io.project_from_dict(doc, "test.json").history[1].predictions == ("ohlol",)


def test_saving_what_json_cannot_hold_is_a_project_error_and_writes_nothing(tmp_path: Path) -> None:
    project = get_preset("rnn-embedding").project
    path = tmp_path / "p.json"
    broken = replace(project, task=Task.of([("h\udcffllo", "ohlol")]))
    with pytest.raises(ProjectError, match="cannot save"):
        save_project(broken, path)
    assert not path.exists() and list(tmp_path.iterdir()) == []
    inf_history = (EpochResult(1, 1.0, 0.2, ("lllll",), 0.1, grad_norm=float("inf"), clipped=True),)
    save_project(replace(project, history=inf_history), path)  # a non-finite norm is stored as null
    assert load_project(path).history[0].grad_norm is None


# --- hostile documents: one ProjectError naming the problem, never another exception ------------


def _with_history(*records: dict) -> str:
    doc = project_io.project_to_dict(get_preset("rnn-embedding").project)
    doc["history"] = list(records)
    return json.dumps(doc)


def _record(**change) -> dict:
    return {"epoch": 1, "loss": 1.0, "accuracy": 0.5, "predictions": ["lllll"], "elapsed": 0.1, **change}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            '{"schema_version": 1, "pairs": [], "seed": ' + "9" * 5000 + "}",
            "a whole number of more than 4,300 digits",
            id="5000-digit integer",
        ),
        pytest.param(
            '{"schema_version": 1, "pairs": [], "train": {"lr": 1' + "0" * 400 + "}}",
            "train.lr: must be a finite number, not a 401-digit number",
            id="401-digit learning rate",
        ),
        pytest.param(
            '{"schema_version": 1, "pairs": [], "model": {"dropout": -1' + "0" * 400 + "}}",
            "model.dropout: must be a finite number, not a 401-digit number",
            id="401-digit dropout",
        ),
        pytest.param("[" * 100_000 + "]" * 100_000, "nested too deeply", id="nested 100000 deep"),
        pytest.param(
            '{"schema_version": 1, "pairs": [], "model": {"cell": ' + "[" * 400 + "]" * 400 + "}}",
            "model.cell",
            id="value nested 400 deep",
        ),
        pytest.param(
            '{"schema_version": 1, "pairs": [], "model": {"cell": "' + "x" * 10**6 + '"}}',
            "is 'xxxxx",
            id="million-character cell",
        ),
        pytest.param(
            '{"schema_version": 1, "pairs": [], "train": {"' + "y" * 10**6 + '": 1}}',
            "unknown field 'yyyy",
            id="million-character key",
        ),
        pytest.param(
            '{"schema_version": 1, "pairs": [], "history": 5}',
            "'history' must be a list of epoch records, not int",
            id="history is a number",
        ),
        pytest.param(
            '{"schema_version": 1, "pairs": [], "history": {"epoch": 1}}',
            "'history' must be a list",
            id="history is an object",
        ),
        pytest.param(
            _with_history(_record(epoch=10**30)),
            "history entry 1: epoch must be a whole number from 1 to",
            id="epoch 10**30",
        ),
        pytest.param(_with_history(_record(epoch=2**63 - 1)), "not 9223372036854775807", id="epoch 2**63-1"),
        pytest.param(_with_history(_record(epoch=2**53)), "history entry 1: epoch", id="epoch 2**53"),
        pytest.param(_with_history(_record(), _record(epoch=0)), "history entry 2: epoch", id="epoch 0"),
        pytest.param(_with_history(_record(epoch=-3)), "not -3", id="epoch negative"),
        pytest.param(
            _with_history(_record(epoch=2.0)), "history entry 1: epoch must be a whole number", id="epoch float"
        ),
        pytest.param(_with_history(_record(epoch=True)), "history entry 1: epoch", id="epoch bool"),
        pytest.param(
            _with_history(_record(loss=-1.0)), "loss must be a finite number of at least 0", id="loss negative"
        ),
        pytest.param(_with_history(_record(loss=1e309)), "loss must be a finite number", id="loss infinite"),
        pytest.param(
            _with_history(_record(accuracy=7.5)),
            "accuracy must be a finite number from 0 to 1, not 7.5",
            id="accuracy 7.5",
        ),
        pytest.param(_with_history(_record(elapsed="nan")), "elapsed must be a number, not 'nan'", id="elapsed string"),
        pytest.param(
            _with_history(_record(elapsed=-100.0)),
            "elapsed must be a finite number of at least 0",
            id="elapsed negative",
        ),
        pytest.param(
            _with_history(_record(grad_norm=-1.0)),
            "grad_norm must be a finite number of at least 0",
            id="grad_norm negative",
        ),
        pytest.param(_with_history(_record(clipped="yes")), "clipped must be true or false", id="clipped string"),
        pytest.param(
            _with_history(_record(predictions="hello")),
            "predictions must be a list of strings, not 'hello'",
            id="predictions string",
        ),
        pytest.param(
            _with_history(_record(predictions=[1])), "predictions must be a list of strings", id="predictions numbers"
        ),
        pytest.param(_with_history(7), "history entry 1 must be an object", id="entry a number"),
        pytest.param(
            _with_history({"epoch": 1, "loss": 1.0}),
            "history entry 1 is missing 'accuracy' and 'predictions'",
            id="entry incomplete",
        ),
    ],
)
def test_hostile_documents_are_refused_with_a_project_error_naming_the_problem(text: str, expected: str) -> None:
    with pytest.raises(ProjectError) as info:
        loads_project(text, "x.json")
    message = str(info.value)
    assert message.startswith("x.json") and expected in message
    assert len(message) < 300 and "\n" not in message  # one line, however long the bad value


def test_history_numbers_at_their_limits_load() -> None:
    records = [_record(epoch=1, loss=0.0, accuracy=0.0, elapsed=0.0, grad_norm=None)]
    records.append(_record(epoch=2**53 - 1, loss=1e300, accuracy=1.0, elapsed=1e300, grad_norm=0.0, clipped=False))
    history = loads_project(_with_history(*records)).history
    assert [r.epoch for r in history] == [1, 2**53 - 1]
    assert history[1].accuracy == 1.0 and history[1].grad_norm == 0.0


def test_a_history_entry_with_a_huge_epoch_does_not_reach_the_views() -> None:
    """The epoch the reviewer's file held (10**30) overflowed the int64 arrays of the gradient-flow view."""
    text = _with_history(_record(epoch=10**30))
    with pytest.raises(ProjectError, match="history entry 1: epoch"):
        loads_project(text)
    history = loads_project(_with_history(_record(epoch=2**53 - 1))).history
    assert np.fromiter((r.epoch for r in history), dtype=np.int64)[0] == 2**53 - 1


# --- special and oversized files: refused before they are read -------------------------------


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.truncate(300 * 2**20)  # sparse: 300 MB on paper, no disk used
    with pytest.raises(ProjectError) as info:
        load_project(path)
    # The size in the message comes from the file's metadata, before any read.
    assert str(info.value) == f"{path} is 300.0 MB, more than the 256 MB RNN Studio opens"


def test_a_file_at_the_size_limit_is_read(tmp_path: Path, monkeypatch) -> None:
    text = dumps_project(sample_project()).encode("utf-8")
    path = tmp_path / "p.json"
    path.write_bytes(text)
    monkeypatch.setattr(project_io, "MAX_PROJECT_BYTES", len(text))
    assert load_project(path) == sample_project()
    monkeypatch.setattr(project_io, "MAX_PROJECT_BYTES", len(text) - 1)
    with pytest.raises(ProjectError, match="more than the"):
        load_project(path)


def test_a_save_too_large_to_open_again_is_refused_and_the_old_file_kept(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "p.json"
    save_project(sample_project(), path)
    before = path.read_bytes()
    monkeypatch.setattr(project_io, "MAX_PROJECT_BYTES", len(before) + 10)
    longer = replace(sample_project(), history=(*sample_project().history, EpochResult(4, 0.5, 1.0, ("o" * 99,), 1.0)))
    with pytest.raises(project_io.ProjectTooLargeError) as info:  # the window offers to save without it
        save_project(longer, path)
    assert str(info.value).startswith(f"cannot save {path}: with its history of 4 epochs the file would be")
    assert path.read_bytes() == before
    save_project(longer, path, include_history=False)  # without the history it fits
    assert load_project(path).history == ()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "p.json"
    os.mkfifo(fifo)
    outcome: list[BaseException | object] = []

    def load() -> None:
        try:
            outcome.append(load_project(fifo))
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=60)  # a guard against hanging the suite, not a timing: the answer is immediate
    if reader.is_alive():  # the load waits for a writer: be that writer so the thread can end
        os.close(os.open(fifo, os.O_WRONLY))
        reader.join()
    assert len(outcome) == 1 and isinstance(outcome[0], ProjectError), outcome
    assert str(outcome[0]) == f"{fifo} is a pipe (FIFO), not a project file"


def test_check_writable_finds_a_folder_files_cannot_be_made_in(tmp_path: Path, monkeypatch) -> None:
    project_io.check_writable(tmp_path / "p.json")  # a writable folder: fine, and nothing left behind
    assert list(tmp_path.iterdir()) == []

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(project_io.tempfile, "mkstemp", read_only)
    with pytest.raises(ProjectError) as info:
        project_io.check_writable(tmp_path / "p.json")
    assert (
        str(info.value)
        == f"cannot save {tmp_path / 'p.json'}: the folder {tmp_path} is not writable (Read-only file system)"
    )


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_project_saved_again_by_an_editor_in_another_unicode_encoding_opens(tmp_path: Path, encoding: str) -> None:
    """Notepad's "Unicode" and PowerShell's Out-File write UTF-16; some editors add a BOM to UTF-8."""
    project = replace(get_preset("rnn-embedding").project, name="naïve 本日")
    path = tmp_path / "p.rnnproj.json"
    path.write_bytes(dumps_project(project).encode(encoding))
    assert load_project(path) == project


def test_saving_through_a_link_writes_the_file_it_points_to_and_keeps_the_link(tmp_path: Path) -> None:
    project = get_preset("rnn-onehot").project
    (tmp_path / "synced").mkdir()
    real = tmp_path / "synced" / "p.rnnproj.json"
    save_project(project, real)
    link = tmp_path / "link.rnnproj.json"
    link.symlink_to(real)
    save_project(replace(project, name="edited"), link)
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert load_project(real).name == "edited"
    assert sorted(p.name for p in (tmp_path / "synced").iterdir()) == ["p.rnnproj.json"]  # no temporary left


def test_a_file_with_far_more_pairs_or_vocabulary_than_a_task_holds_is_refused_with_its_count() -> None:
    """A few over the limits open, to be cut down in the window; far more froze it (20,000 pairs: a minute)."""
    doc = {"schema_version": 1, "pairs": [["ab", "ba"]] * project_io.MAX_OPEN_PAIRS}
    opened = project_io.project_from_dict(doc, "p.json")
    assert [p.message for p in opened.task.problems()] == ["1,024 pairs is more than the limit of 256"]
    doc["pairs"].append(["ab", "ba"])
    with pytest.raises(ProjectError, match=re.escape("p.json: it has 1,025 pairs: a task trains at most 256, and")):
        project_io.project_from_dict(doc, "p.json")
    doc = {"schema_version": 1, "pairs": [["ab", "ba"]], "vocab": ["a"] * project_io.MAX_OPEN_VOCAB}
    assert len(project_io.project_from_dict(doc, "p.json").task.vocabulary()) == 1_024
    doc["vocab"].append("b")
    with pytest.raises(ProjectError, match="its vocabulary has 1,025 entries: a vocabulary holds at most 512"):
        project_io.project_from_dict(doc, "p.json")
    many = "".join(chr(0x4E00 + i) for i in range(1_025))  # a vocabulary derived from the strings
    doc = {"schema_version": 1, "pairs": [[many[:1_024], many[:1_024]]]}
    assert len(project_io.project_from_dict(doc, "p.json").task.vocabulary()) == 1_024
    doc["pairs"].append([many[-1], many[-1]])
    with pytest.raises(ProjectError, match="its strings hold 1,025 different characters: a vocabulary holds at most"):
        project_io.project_from_dict(doc, "p.json")


def test_the_check_before_training_looks_where_a_save_through_a_link_will_write(tmp_path: Path) -> None:
    link = tmp_path / "link.rnnproj.json"
    link.symlink_to(tmp_path / "gone" / "p.rnnproj.json")  # its folder does not exist
    with pytest.raises(ProjectError, match="does not exist"):
        project_io.check_writable(link)
    (tmp_path / "gone").mkdir()
    project_io.check_writable(link)
    save_project(get_preset("rnn-onehot").project, link)
    assert link.is_symlink() and load_project(tmp_path / "gone" / "p.rnnproj.json").task.pairs
