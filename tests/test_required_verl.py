"""recipe/rwml/REQUIRED_VERL.txt (verl-recipe's format) names the verl release pyproject.toml pins and installs."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def required() -> dict[str, str]:
    lines = (ROOT / "recipe" / "rwml" / "REQUIRED_VERL.txt").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    assert all(len(p) == 2 for p in pairs), pairs
    return {k.strip(): v.strip() for k, v in pairs}


def test_required_verl_is_the_release_pyproject_pins_and_the_one_installed():
    req = required()
    assert req["UPSTREAM"] == "https://github.com/verl-project/verl.git"
    assert req["MODE"] == "pinned_release" and req["RECIPE_FOLDER"] == "recipe/rwml"
    version = req["TAG"].removeprefix("v")
    assert f"=={version}" in req["PIP_INSTALL"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = [d for d in project["dependencies"] + project["optional-dependencies"]["gpu"] if re.match(r"verl\b", d)]
    assert pins and all(d.endswith(f"=={version}") for d in pins), pins
    assert metadata.version("verl") == version


def test_readme_has_the_required_verl_section():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Required verl version", 1)[1].split("\n## ", 1)[0]
    assert "recipe/rwml/REQUIRED_VERL.txt" in section and required()["PIP_INSTALL"] in section
