"""Presets: named architectures with the data settings they were made for (assets/presets)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

PRESET_DIR = Path(__file__).resolve().parents[2] / "assets" / "presets"
DEFAULT = "Cookbook Erf net"
#: what the preset menu names a stack that is no preset's (edited, from a link or a lesson)
CUSTOM = "Custom stack"
CUSTOM_DESCRIPTION = ("A stack of your own: edited here, opened from a link, or a lesson "
                      "step's. Choose a preset to start again from one.")


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    spec: list
    settings: dict


def load_presets(directory: Path = PRESET_DIR) -> dict[str, Preset]:
    """Every ``*.json`` preset by its display name, in file-name order."""
    presets = {}
    for path in sorted(directory.glob("*.json")):
        entry = json.loads(path.read_text())
        presets[entry["name"]] = Preset(entry["name"], entry["description"], entry["spec"],
                                        entry.get("settings", {}))
    return presets


PRESETS = load_presets()
