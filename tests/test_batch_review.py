"""Review of ``sescreen batch`` / manifests / ``arrhenius MANIFEST``: regression tests for
the defects an adversarial review found.

Every file here is built by hand (plain strings), not by sescreen's writers: a hold that
decays as two exponentials onto a steady state, with uniform noise.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from sescreen.cli import main
from sescreen.manifest import read_measurement_manifest


def _hold(path: Path, i_ss: float, seed: int = 0, *, volts: float = 0.1) -> Path:
    """A CSV hold (units in the headers, voltage and area as metadata lines)."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, 3000.0, 5.0)
    i = i_ss * (1 + 1.5 * np.exp(-t / 25) + 0.5 * np.exp(-t / 90)
                + rng.uniform(-2e-3, 2e-3, t.size))
    lines = [f"# voltage: {volts} V", "# area: 1 cm2", "# technique: CA", "time/s,I/nA"]
    lines += [f"{a:.1f},{b * 1e9:.6g}" for a, b in zip(t, i, strict=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _two_holds(path: Path) -> Path:
    """One record, 0.1 V then 0.2 V (a control-voltage column marks the holds)."""
    t = np.arange(0.0, 3000.0, 5.0)
    lines = ["# area: 1 cm2", "# technique: CA", "time/s\tI/A\tcontrol/V"]
    for k, (ii, v) in enumerate(((1e-9, 0.1), (4e-9, 0.2))):
        rng = np.random.default_rng(10 + k)
        cur = ii * (1 + 1.5 * np.exp(-t / 25) + 0.5 * np.exp(-t / 90)
                    + rng.uniform(-2e-3, 2e-3, t.size))
        lines += [f"{a + 3000.0 * k:.1f}\t{b:.6e}\t{v}" for a, b in zip(t, cur, strict=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _manifest(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# -- outputs never overwrite inputs ---------------------------------------------------------
@pytest.mark.parametrize("which", ["out", "journal", "lock"])
def test_a_symlink_in_the_folder_to_the_output_is_refused(tmp_path, which):
    """``lab/link.csv -> ../data/a.csv`` with ``--out data/a.csv``: the linked measurement
    was silently left out and then overwritten by the table (or the journal, the lock)."""
    real = _hold(tmp_path / "data" / "a.csv", 2e-9)
    before = real.read_bytes()
    _hold(tmp_path / "lab" / "own.csv", 1e-9)
    out = tmp_path / "data" / {"out": "a.csv", "journal": "r.csv", "lock": "r.csv"}[which]
    target = {"out": real, "journal": tmp_path / "data" / "r.csv.jsonl",
              "lock": tmp_path / "data" / "r.csv.lock"}[which]
    if which != "out":
        target.write_bytes(before)
    (tmp_path / "lab" / "link.csv").symlink_to(target)
    r = _invoke("batch", tmp_path / "lab", "--thickness", "1mm", "--workers", "1",
                "--out", out)
    assert r.exit_code == 2, r.output
    assert target.read_bytes() == before
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "link.csv" in lines[0], lines


def test_a_hard_link_in_the_folder_to_the_output_is_refused(tmp_path):
    real = _hold(tmp_path / "data" / "a.csv", 2e-9)
    (tmp_path / "lab").mkdir()
    os.link(real, tmp_path / "lab" / "h.csv")
    r = _invoke("batch", tmp_path / "lab", "--thickness", "1mm", "--workers", "1",
                "--out", real)
    assert r.exit_code == 2, r.output
    assert "h.csv" in r.stderr and "never writes over an input" in r.stderr


# -- manifests ----------------------------------------------------------------------------
@pytest.mark.parametrize("header, cell, key, value", [
    ("thickness (m)", "1e-3", "thickness_cm", 0.1),
    ("thickness (mm)", "5E-1", "thickness_cm", 0.05),
    ("area (cm2)", "7.85e-1", "area_cm2", 0.785),
    ("voltage (mV)", "1e2", "voltage_v", 0.1),
    ("temperature (K)", "3.0315e2", "temperature_k", 303.15),
    ("skip (s)", "1e1", "skip_s", 10.0),
    ("thickness_mm", "1,0e0", "thickness_cm", 0.1),
])
def test_scientific_notation_under_a_unit_header(tmp_path, header, cell, key, value):
    """A spreadsheet writes 7.85e-1: it is a number in the header's unit, not a cell
    'without a unit'."""
    m = _manifest(tmp_path / "m.csv", f"file;{header}\na.csv;{cell}\n")
    assert read_measurement_manifest(m)[0].fit[key] == pytest.approx(value)


@pytest.mark.parametrize("cell", ["30", "30 F", "hot"])
def test_a_bad_temperature_cell_names_its_row(tmp_path, cell):
    m = _manifest(tmp_path / "m.csv", f"file,thickness,temperature\na.csv,1 mm,1 K\n"
                                      f"b.csv,1 mm,{cell}\n".replace(",1 K", ",300 K"))
    r = _invoke("batch", "--manifest", m, "--workers", "1")
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "row 2" in lines[0] and "m.csv" in lines[0], lines


def test_the_same_header_twice_is_named_as_such(tmp_path):
    m = _manifest(tmp_path / "m.csv", "file,thickness,thickness\na.csv,1 mm,2 mm\n")
    r = _invoke("batch", "--manifest", m, "--workers", "1")
    assert r.exit_code == 2
    assert "two manifest columns mean 'thickness'" in r.stderr, r.stderr
    assert "thickness.1" not in r.stderr


def test_trailing_empty_columns_of_a_spreadsheet_are_ignored(tmp_path):
    """Excel writes ``file,thickness,,`` when cells right of the table were ever touched."""
    _hold(tmp_path / "a.csv", 2e-9)
    m = _manifest(tmp_path / "m.csv", "file,thickness,,\r\na.csv,1 mm,,\r\n")
    rows = read_measurement_manifest(m)
    assert len(rows) == 1 and rows[0].fit == {"thickness_cm": pytest.approx(0.1)}


def test_a_filled_column_without_header_names_its_position(tmp_path):
    m = _manifest(tmp_path / "m.csv", "file,thickness,\na.csv,1 mm,oops\n")
    r = _invoke("batch", "--manifest", m, "--workers", "1")
    assert r.exit_code == 2
    assert "Unnamed" not in r.stderr and "column 3" in r.stderr, r.stderr


def test_a_newline_in_a_listed_file_name_stays_one_line(tmp_path):
    _hold(tmp_path / "a.csv", 2e-9)
    m = _manifest(tmp_path / "m.csv", 'file,thickness\n"x\ny.csv",1 mm\na.csv,1 mm\n')
    r = _invoke("batch", "--manifest", m, "--workers", "1", "--out", tmp_path / "r.csv")
    assert r.exit_code == 1, r.output
    failed = [ln for ln in r.stdout.splitlines() if "y.csv" in ln]
    assert len(failed) == 1 and failed[0].lstrip().startswith("failed:"), r.stdout
    assert "x\\ny.csv" in failed[0]
    table = pd.read_csv(tmp_path / "r.csv")
    assert "\n" not in table["error"].dropna().str.cat()


def test_a_later_hold_does_not_claim_the_first_hold_voltage(tmp_path):
    """Segment 1 is fitted at 0.2 V; its row must not warn '... control column: 0.1 V'."""
    f = _two_holds(tmp_path / "steps.tsv")
    m = _manifest(tmp_path / "m.csv", "file,thickness,segment\nsteps.tsv,1 mm,0\n"
                                      "steps.tsv,1 mm,1\n")
    r = _invoke("batch", "--manifest", m, "--workers", "1", "--out", tmp_path / "r.csv")
    assert r.exit_code == 0, r.output
    table = pd.read_csv(tmp_path / "r.csv", keep_default_na=False)
    assert list(table["segment"]) == [0, 1] and list(table["voltage_v"]) == [0.1, 0.2]
    assert "0.1 V" not in table["warnings"][1], table["warnings"][1]
    assert f.is_file()


# -- arrhenius MANIFEST ---------------------------------------------------------------------
def _series(tmp_path: Path) -> list[str]:
    for k, name in enumerate(("a.csv", "b.csv", "c.csv")):
        _hold(tmp_path / name, 1e-9 * (k + 1), seed=k)
    return ["a.csv,1,1,25", "b.csv,1,1,50", "c.csv,1,1,75"]


def test_arrhenius_reads_a_manifest_with_a_bom(tmp_path):
    rows = _series(tmp_path)
    text = "file,thickness (mm),area (cm2),temperature (C)\r\n" + "\r\n".join(rows) + "\r\n"
    m = _manifest(tmp_path / "m.csv", "\ufeff" + text)
    r = _invoke("arrhenius", m, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["n_points"] == 3


def test_arrhenius_says_which_files_were_skipped_when_too_few_remain(tmp_path):
    rows = _series(tmp_path)
    _two_holds(tmp_path / "c.csv")  # two holds, no segment: skipped
    m = _manifest(tmp_path / "m.csv", "file,thickness (mm),area (cm2),temperature (C)\n"
                  + "\n".join(rows) + "\n")
    r = _invoke("arrhenius", m)
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "c.csv" in lines[0] and "3 different temperatures" in lines[0]


def test_arrhenius_names_why_no_file_of_the_manifest_could_be_analysed(tmp_path):
    _two_holds(tmp_path / "steps.tsv")
    m = _manifest(tmp_path / "m.csv", "file,thickness (mm),area (cm2),temperature (C)\n"
                  "gone.csv,1,1,25\nsteps.tsv,1,1,50\n")
    r = _invoke("arrhenius", m)
    assert r.exit_code == 2
    line = r.stderr.strip()
    assert "gone.csv" in line and "steps.tsv" in line and "2 separate holds" in line, line
    assert line.count("steps.tsv") == 1  # the file named once, not 'f: f: ...'
