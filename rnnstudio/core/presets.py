"""The bundled presets: the notebook's three programs, stored as project files under resources/."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .project_io import Project, ProjectError, project_from_dict

DEFAULT_PRESET = "rnn-embedding"


@dataclass(frozen=True)
class Preset:
    """A named, described project to start from."""

    id: str
    name: str
    description: str
    project: Project


def resource_root():
    """The bundled resources folder, installed (rnnstudio.resources) or in a source checkout."""
    try:
        return resources.files("rnnstudio.resources")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "resources"


@lru_cache(maxsize=1)
def _load_all() -> tuple[Preset, ...]:
    folder = resource_root() / "presets"
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        doc = json.loads(entry.read_text(encoding="utf-8"))
        project = project_from_dict(doc, f"preset {entry.name}")
        found.append(Preset(doc["id"], project.name, project.description, project))
    order = {"rnncell-onehot": 0, "rnn-onehot": 1, "rnn-embedding": 2}
    return tuple(sorted(found, key=lambda p: (order.get(p.id, 99), p.id)))


def presets() -> tuple[Preset, ...]:
    """Every bundled preset, the notebook's programs first and in its order."""
    return _load_all()


def get_preset(preset_id: str) -> Preset:
    """The preset with this id; ProjectError lists the ids there are."""
    for p in presets():
        if p.id == preset_id:
            return p
    raise ProjectError(f"no preset {preset_id!r}; the presets are {', '.join(p.id for p in presets())}")


def own_description(project: Project) -> Project:
    """``project`` without a preset's name and description once its network is no longer that preset's.

    A preset's name and description describe its model and loss ("Embedding + 2-layer RNN + Linear"):
    other strings, epochs or a learning rate keep them true, a GRU or a summed loss does not. Names
    that are not a preset's are the user's, and stay.
    """
    for p in presets():
        if (project.name, project.description) == (p.name, p.description):
            same = project.model.in_effect() == p.project.model.in_effect()  # not options it ignores
            same = same and project.train.loss_reduction == p.project.train.loss_reduction
            return project if same else replace(project, name="", description="")
    return project
