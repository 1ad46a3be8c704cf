"""Machine-checked boundaries: the core and the CLI never load Qt; torch lives in model.py and trainer.py."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "rnnstudio" / "core"
QT_PREFIXES = ("PySide6", "shiboken6", "pyqtgraph")
TORCH_MODULES = {"model.py", "trainer.py"}

PROBE = """
import importlib, json, pkgutil, sys
import rnnstudio.core
core = sorted("rnnstudio.core." + m.name for m in pkgutil.iter_modules(rnnstudio.core.__path__))
for name in core:
    importlib.import_module(name)
import rnnstudio.cli
rc = rnnstudio.cli.main(["train", "--preset", "rnn-onehot", "--epochs", "2"])
print(json.dumps({
    "rc": rc,
    "core": core,
    "torch": "torch" in sys.modules,
    "qt": sorted(m for m in sys.modules if m.startswith(tuple(sys.argv[1:]))),
}))
"""


def test_core_and_cli_train_path_load_no_qt_in_a_fresh_interpreter() -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("PYQTGRAPH_QT_LIB", None)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *QT_PREFIXES], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    *train_lines, report_line = proc.stdout.splitlines()
    report = json.loads(report_line)
    assert report["rc"] == 0 and len(train_lines) == 2  # the train path really ran
    assert report["torch"]  # ... with torch loaded
    expected_core = sorted(f"rnnstudio.core.{p.stem}" for p in CORE.glob("*.py") if p.stem != "__init__")
    assert report["core"] == expected_core
    assert "rnnstudio.core.trainer" in report["core"]
    assert report["qt"] == []


def _module_level_imports(tree: ast.Module) -> list[tuple[str, int]]:
    """Imports that run when the module is imported: not those inside functions."""
    found = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(node, ast.Import):
                found.extend((alias.name, node.lineno) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((node.module, node.lineno))
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    visit([c for c in children if isinstance(c, ast.stmt | ast.ExceptHandler)])

    visit(tree.body)
    return found


def _imports_torch_at_module_level(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [line for name, line in _module_level_imports(tree) if name == "torch" or name.startswith("torch.")]


def test_only_model_and_trainer_import_torch_at_module_level() -> None:
    files = sorted(CORE.glob("*.py"))
    assert {p.name for p in files} >= TORCH_MODULES | {"config.py", "project_io.py", "control.py"}
    importing = {p.name for p in files if _imports_torch_at_module_level(p)}
    assert importing == TORCH_MODULES  # and both really do: the check sees imports
    assert _imports_torch_at_module_level(ROOT / "rnnstudio" / "cli.py") == []  # torch loads after the arguments


def test_module_level_import_finder_sees_guarded_imports_and_skips_lazy_ones() -> None:
    source = (
        "import os\n"
        "try:\n    import torch.nn\nexcept ImportError:\n    pass\n"
        "if True:\n    from torch import nn\n"
        "class A:\n    import torch as t\n"
        "def f():\n    import torch\n"
    )
    names = [n for n, _ in _module_level_imports(ast.parse(source))]
    assert names == ["os", "torch.nn", "torch", "torch"]
