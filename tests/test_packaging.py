"""The data the package reads at run time resolve inside the package namespace in a wheel
and to datasets/ in a checkout; setup.py ships every file the main job reads. (CI builds the
wheel, installs it in a fresh environment and runs the main job from an unrelated folder.)"""

from __future__ import annotations

import runpy
from pathlib import Path

import pandas as pd
import setuptools

from sescreen import literature, resources
from sescreen.screening import EXAMPLE_CANDIDATES

ROOT = Path(__file__).resolve().parents[1]


def _shipped(monkeypatch) -> set[str]:
    monkeypatch.setattr(setuptools, "setup", lambda **kw: None)
    setup = runpy.run_path(str(ROOT / "setup.py"), run_name="setup_under_test")
    return {rel.as_posix() for _, rel in setup["_shipped_files"]()}


def test_checkout_reads_datasets_in_place():
    assert resources.data_root() == ROOT / "datasets"
    assert literature.DATASET == ROOT / "datasets" / "literature" / "electrolytes.csv"
    assert EXAMPLE_CANDIDATES == ROOT / "datasets" / "examples" / "candidates.csv"


def test_wheel_ships_every_file_the_main_job_reads(monkeypatch):
    shipped = _shipped(monkeypatch)
    table = pd.read_csv(EXAMPLE_CANDIDATES, dtype=str, keep_default_na=False)
    needed = {"examples/candidates.csv", "literature/electrolytes.csv",
              "literature/ranges.csv", "literature/han2019_stated.csv"}
    for column in ("file", "ndp", "ccd_file"):
        if column in table:
            needed |= {f"examples/{v}" for v in table[column] if v}
    assert needed <= shipped, sorted(needed - shipped)
    assert "examples/generate.py" not in shipped  # the generator stays in the repository


def test_installed_layout_wins(tmp_path, monkeypatch):
    """In an installed package, sescreen/data (never a top-level site-packages/datasets)."""
    (tmp_path / "data" / "literature").mkdir(parents=True)
    (tmp_path.parent / "datasets").mkdir(exist_ok=True)
    monkeypatch.setattr(resources.importlib.resources, "files", lambda name: tmp_path)
    monkeypatch.setattr(resources, "_CHECKOUT", tmp_path.parent)
    assert resources.data_root() == tmp_path / "data"
