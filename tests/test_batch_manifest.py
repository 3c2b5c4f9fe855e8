"""``sescreen batch`` for real lab folders: a manifest with per-file material, geometry,
temperature, voltage, segment and reader options; reader options on the command line; the
default output beside the folder; progress to a pipe; exit codes.

The records are written by hand here (plain string building, several dialects), not by
sescreen's writers, and decay as a sum of two exponentials with a slow linear drift of
0.05 % over the hold and uniform (not Gaussian) noise.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from sescreen.batch import run_batch
from sescreen.cli import main
from sescreen.errors import SescreenError


def _current(t: np.ndarray, i_ss: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    decay = 1.5 * np.exp(-t / 25.0) + 0.5 * np.exp(-t / 90.0)
    drift = 5e-4 * t / t[-1]
    return i_ss * (1 + decay + drift + rng.uniform(-2e-3, 2e-3, t.size))


def _units_csv(path: Path, i_ss: float, seed: int = 0) -> Path:
    """CSV with units in the headers and the voltage and area as metadata lines."""
    t = np.arange(0.0, 3000.0, 5.0)
    i = _current(t, i_ss, seed)
    lines = ["# voltage: 0.1 V", "# area: 1 cm2", "# technique: CA", "time/s,I/nA"]
    lines += [f"{a:.1f},{b * 1e9:.6g}" for a, b in zip(t, i, strict=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def _bare_semicolon(path: Path, i_ss: float, seed: int = 1) -> Path:
    """Bare headers (no units, no metadata), semicolons and decimal commas, in minutes."""
    t = np.arange(0.0, 3000.0, 6.0)
    i = _current(t, i_ss, seed)
    rows = ["t;i"] + [f"{a / 60:.5f};{b * 1e9:.6f}".replace(".", ",")
                      for a, b in zip(t, i, strict=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="latin-1")
    return path


def _two_holds(path: Path, i_ss: tuple[float, float]) -> Path:
    """One file, two holds (0.1 V then 0.2 V) marked by a control-voltage column."""
    t = np.arange(0.0, 3000.0, 5.0)
    lines = ["# area: 1 cm2", "# technique: CA", "time/s\tI/A\tcontrol/V"]
    for k, (ii, v) in enumerate(zip(i_ss, (0.1, 0.2), strict=True)):
        cur = _current(t, ii, seed=10 + k)
        lines += [f"{a + 3000.0 * k:.1f}\t{b:.6e}\t{v}" for a, b in zip(t, cur, strict=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _lab(tmp_path: Path) -> Path:
    data = tmp_path / "lab"
    _units_csv(data / "llzo_a.csv", 2e-9)
    _bare_semicolon(data / "raw" / "lps_b.txt", 3e-9)
    _two_holds(data / "steps.tsv", (1e-9, 4e-9))
    manifest = data / "manifest.csv"
    manifest.write_text(
        "file,material,thickness (mm),area,temperature,voltage,segment,time_unit,current_unit\n"
        "llzo_a.csv,LLZO,1,,30 C,,,,\n"
        "raw/lps_b.txt,#3 Li3PS4,0.5,0.5 cm2,25 C,50 mV,,min,nA\n"
        "steps.tsv,LiPON,2,,60 C,,1,,\n", encoding="utf-8")
    return manifest


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_manifest_options_reach_each_file(tmp_path):
    manifest = _lab(tmp_path)
    out = tmp_path / "out" / "r.csv"
    r = _invoke("batch", "--manifest", manifest, "--workers", "1", "--out", out, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["ok"] == 3
    table = pd.read_csv(out, keep_default_na=False, na_values=[""])
    by = {m: row for m, row in zip(table["material"], table.to_dict("records"), strict=True)}
    assert set(by) == {"LLZO", "#3 Li3PS4", "LiPON"}  # a name starting with '#' is kept
    # sigma_e = I_ss L / (V A): each file's own thickness, area and voltage
    expected = {"LLZO": 2e-9 * 0.1 / (0.1 * 1.0), "#3 Li3PS4": 3e-9 * 0.05 / (0.05 * 0.5),
                "LiPON": 4e-9 * 0.2 / (0.2 * 1.0)}
    for name, sigma in expected.items():
        assert by[name]["sigma_e_s_cm"] == pytest.approx(sigma, rel=0.01), name
        assert by[name]["sigma_e_lo_s_cm"] <= sigma * 1.001
    assert by["LLZO"]["temperature_k"] == pytest.approx(303.15)
    assert by["#3 Li3PS4"]["area_cm2"] == pytest.approx(0.5)
    assert by["#3 Li3PS4"]["voltage_v"] == pytest.approx(0.05)
    assert by["LiPON"]["segment"] == 1 and by["LiPON"]["thickness_cm"] == pytest.approx(0.2)
    for col in ("sigma_e_s_cm", "i_ss_a", "t_hold_s", "voltage_v", "size_bytes"):
        assert col in table.columns  # units in the headers


def test_manifest_journal_recomputes_only_the_changed_row(tmp_path):
    manifest = _lab(tmp_path)
    out = tmp_path / "r.csv"
    first = run_batch(manifest=manifest, fit_kwargs={}, out=out, workers=1)
    assert first.computed == 3
    text = manifest.read_text().replace("LiPON,2,", "LiPON,1,")
    manifest.write_text(text)
    again = run_batch(manifest=manifest, fit_kwargs={}, out=out, workers=1)
    assert again.reused == 2 and again.computed == 1
    row = again.table[again.table["material"] == "LiPON"].iloc[0]
    assert row["sigma_e_s_cm"] == pytest.approx(4e-9 * 0.1 / 0.2, rel=0.01)


@pytest.mark.parametrize("edit, expect", [
    (lambda s: s.replace("thickness (mm)", "thicknes (mm)"), "unknown manifest column"),
    (lambda s: s.replace("raw/lps_b.txt,#3 Li3PS4,0.5", "raw/lps_b.txt,#3 Li3PS4,1 parsec"),
     "row 2"),
    (lambda s: s.replace("60 C,,1,", "60 C,,one,"), "segment of row 3"),
    (lambda s: s.replace("llzo_a.csv,LLZO,1,", "llzo_a.csv,LLZO,,"), "no electrolyte thickness"),
    (lambda s: s + "llzo_a.csv,again,1,,30 C,,,,\n", "rows 1 and 4"),
])
def test_bad_manifest_rows_are_refused_before_any_file(tmp_path, edit, expect):
    manifest = _lab(tmp_path)
    manifest.write_text(edit(manifest.read_text()))
    out = tmp_path / "r.csv"
    r = _invoke("batch", "--manifest", manifest, "--workers", "1", "--out", out)
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and expect in lines[0] and "manifest" in lines[0], lines
    assert not out.exists()


def test_a_missing_file_of_the_manifest_is_a_listed_failure(tmp_path):
    manifest = _lab(tmp_path)
    manifest.write_text(manifest.read_text() + "gone.csv,X,1,1 cm2,30 C,0.1 V,,,\n")
    r = _invoke("batch", "--manifest", manifest, "--workers", "1", "--out", tmp_path / "r.csv")
    assert r.exit_code == 1, r.output
    assert "gone.csv" in r.stdout and "failed: " in r.stdout
    table = pd.read_csv(tmp_path / "r.csv")
    assert (table["status"] == "ok").sum() == 3 and len(table) == 4


def test_reader_options_on_the_command_line(tmp_path):
    for k in range(2):
        _bare_semicolon(tmp_path / "raw" / f"b{k}.txt", (k + 1) * 1e-9, seed=k)
    base = ["batch", tmp_path / "raw", "--thickness", "1mm", "--area", "1cm2", "--voltage",
            "0.1V", "--workers", "1", "--out", tmp_path / "r.csv"]
    r = _invoke(*base)
    assert r.exit_code == 1 and "failed: " in r.stdout  # bare headers: the unit is unknown
    assert "--current-unit" in r.stdout and "current_unit=" not in r.stdout  # CLI terms
    r = _invoke(*base, "--time-unit", "min", "--current-unit", "nA", "--temperature", "25C")
    assert r.exit_code == 0, r.output
    table = pd.read_csv(tmp_path / "r.csv")
    np.testing.assert_allclose(table["sigma_e_s_cm"], [1e-9, 2e-9], rtol=0.01)
    np.testing.assert_allclose(table["temperature_k"], 298.15)


def test_a_batch_wide_unit_applies_only_to_files_without_one(tmp_path):
    """Review 4, D4: --current-unit nA meant for a bare header rescaled a file whose header
    states nA... or A: each file that states its unit keeps it, and its row says so; a
    manifest row's own unit contradicting its file is that row's one-line error."""
    _bare_semicolon(tmp_path / "raw" / "bare.txt", 1e-9)
    _units_csv(tmp_path / "raw" / "units.csv", 2e-9)
    r = _invoke("batch", tmp_path / "raw", "--thickness", "1mm", "--area", "1cm2",
                "--voltage", "0.1V", "--time-unit", "min", "--current-unit", "pA",
                "--workers", "1", "--out", tmp_path / "r.csv")
    assert r.exit_code == 0, r.output
    table = pd.read_csv(tmp_path / "r.csv").set_index("file")
    bare, units = (table.loc[str(tmp_path / "raw" / n)] for n in ("bare.txt", "units.csv"))
    assert bare["sigma_e_s_cm"] == pytest.approx(1e-12, rel=0.01)  # nA written, read as pA
    assert units["sigma_e_s_cm"] == pytest.approx(2e-9, rel=0.01)  # its own nA
    assert "current_unit='pA' not applied to column 'I/nA'" in units["warnings"]
    assert "time_unit='min' not applied to column 'time/s'" in units["warnings"]
    manifest = tmp_path / "raw" / "manifest.csv"
    manifest.write_text("file,thickness (mm),current_unit\nunits.csv,1,pA\n")
    r = _invoke("batch", "--manifest", manifest, "--workers", "1", "--out", tmp_path / "m.csv")
    assert r.exit_code == 1, r.output
    error = pd.read_csv(tmp_path / "m.csv")["error"].iloc[0]
    assert "units.csv" in error and "'I/nA' states its unit 'nA'" in error


def test_the_default_output_lies_beside_the_folder(tmp_path, monkeypatch):
    _units_csv(tmp_path / "runs" / "a.csv", 1e-9)
    monkeypatch.chdir(tmp_path / "runs")
    r = _invoke("batch", ".", "--thickness", "1mm", "--workers", "1")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "runs-batch.csv").is_file()
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["a.csv"]
    monkeypatch.chdir(tmp_path)
    r = _invoke("batch", "--manifest", _lab(tmp_path), "--workers", "1")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "lab" / "manifest-batch.csv").is_file()


@pytest.mark.parametrize("args, expect", [
    (["batch", "--thickness", "1mm"], "give the FOLDER"),
    (["batch", ".", "--manifest", "m.csv", "--thickness", "1mm"], "not both"),
])
def test_folder_or_manifest(tmp_path, monkeypatch, args, expect):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.csv").write_text("file\nx.csv\n")
    r = _invoke(*args)
    assert r.exit_code == 2 and expect in r.stderr


def test_batch_progress_to_a_pipe_is_plain_lines(tmp_path, monkeypatch):
    import sescreen.progress

    for k in range(3):
        _units_csv(tmp_path / "d" / f"h{k}.csv", 1e-9, seed=k)
    orig = sescreen.progress.Progress.__init__
    monkeypatch.setattr(sescreen.progress.Progress, "__init__",
                        functools.partialmethod(orig, every_s=0.0, first_after_s=0.0))
    r = _invoke("batch", tmp_path / "d", "--thickness", "1mm", "--workers", "1",
                "--out", tmp_path / "r.csv")
    assert r.exit_code == 0
    lines = r.stderr.splitlines()
    assert "analysing: 3/3 files, 100 %" in lines[-1] and "\r" not in r.stderr
    assert len(lines) >= 3
    r = _invoke("batch", tmp_path / "d", "--thickness", "1mm", "--workers", "1",
                "--out", tmp_path / "r2.csv", "--quiet")
    assert r.exit_code == 0 and r.stderr == ""


def test_check_takes_a_segment_and_says_so(tmp_path):
    f = _two_holds(tmp_path / "steps.tsv", (1e-9, 4e-9))
    r = _invoke("check", f, "--thickness", "1mm", "--json")
    assert r.exit_code == 2 and "--segment" in r.stderr
    r = _invoke("check", f, "--thickness", "1mm", "--segment", "1", "--json")
    assert r.exit_code == 1, r.output  # 2e-9 S/cm fails at 1 mA/cm2
    assert json.loads(r.stdout)["sigma_e"] == pytest.approx(2e-9, rel=0.01)
    r = _invoke("check", f, "--thickness", "1mm", "--segment", "2")
    assert r.exit_code == 2 and "2 hold(s)" in r.stderr


def test_run_batch_needs_exactly_one_source(tmp_path):
    with pytest.raises(SescreenError, match="not neither"):
        run_batch(fit_kwargs={"thickness_cm": 0.1}, out=tmp_path / "r.csv")


def test_a_file_stating_an_impossible_voltage_is_a_failed_row(tmp_path):
    """batch judges the metadata a file states as dcpol does (sescreen.limits): a 5 kV hold
    is a listed failure unless --voltage overrides it."""
    f = _units_csv(tmp_path / "d" / "a.csv", 1e-9)
    f.write_text(f.read_text().replace("# voltage: 0.1 V", "# voltage: 5000 V"))
    _units_csv(tmp_path / "d" / "b.csv", 1e-9)
    r = _invoke("batch", tmp_path / "d", "--thickness", "1mm", "--workers", "1",
                "--out", tmp_path / "r.csv")
    assert r.exit_code == 1 and "a.csv" in r.stdout and "applied voltage" in r.stdout
    r = _invoke("batch", tmp_path / "d", "--thickness", "1mm", "--workers", "1",
                "--voltage", "0.1V", "--out", tmp_path / "r2.csv")
    assert r.exit_code == 0, r.output
