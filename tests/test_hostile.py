"""Hostile inputs (issue 11): nothing lost, nothing crashes, every message one line.

Data loss: no output may be (or lie inside) an input; a '#' name is data, not a comment;
an unreadable sub-folder is listed, not silently left out. Batches always finish (see
also the subprocess tests of worker and main-process SIGKILL below). Impossible quantities
are refused with the value and the range.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sescreen.batch import run_batch
from sescreen.cli import main
from sescreen.errors import SescreenError
from sescreen.io.table import read_text_table
from sescreen.io.writers import write_table
from sescreen.synthetic import dcpol_record

BATCH_KW = {"thickness_cm": 0.1, "model": "exp1"}


def _hold(path: Path, i_ss: float = 2e-9, seed: int = 0) -> Path:
    m = dcpol_record("exp1", dict(i_ss=i_ss, a1=2 * i_ss, tau1=60.0), hold_s=1500, dt_s=10,
                     noise_a=0.005 * i_ss, rng=np.random.default_rng(seed))
    return write_table(path, m.time_s, m.current_a, current_unit="nA",
                       comments={"voltage": "0.1 V", "area": "1 cm2", "technique": "CA"})


def _one_line_error(r, code: int = 2) -> str:
    assert r.exit_code == code, (r.exit_code, r.output)
    assert r.stderr.startswith("sescreen: error: "), r.stderr
    assert r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.output
    return r.stderr


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


# -- data loss ------------------------------------------------------------------------------
def test_screen_refuses_to_write_over_its_candidates_table(tmp_path):
    c = tmp_path / "c.csv"
    c.write_text("material,sigma_e (S/cm)\nA,1e-11\nB,1e-9\n")
    before = _snapshot(tmp_path)
    for out in (c, tmp_path / "." / "c.csv"):
        err = _one_line_error(_invoke("screen", c, "--out", out))
        assert "is the input" in err and "--out" in err
    os.link(c, tmp_path / "hard.csv")
    (tmp_path / "sym.csv").symlink_to(c)
    for out in ("hard.csv", "sym.csv"):
        assert "is the input" in _one_line_error(_invoke("screen", c, "--out",
                                                         tmp_path / out))
    assert {k: v for k, v in _snapshot(tmp_path).items() if k in before} == before


def test_screen_refuses_to_write_over_a_measurement_it_reads(tmp_path):
    hold = _hold(tmp_path / "data" / "h.csv")
    c = tmp_path / "c.csv"
    c.write_text("material,file,thickness (mm),temperature (C)\nA,data/h.csv,1,25\n")
    before = _snapshot(tmp_path)
    err = _one_line_error(_invoke("screen", c, "--out", hold))
    assert "h.csv" in err and "is the input" in err
    err = _one_line_error(_invoke("report", c, "--out", tmp_path / "data"))
    assert _snapshot(tmp_path) == before
    assert err


def test_batch_refuses_an_output_inside_its_folder(tmp_path):
    hold = _hold(tmp_path / "runs" / "h.csv")
    before = _snapshot(tmp_path)
    err = _one_line_error(_invoke("batch", tmp_path / "runs", "--thickness", "1mm",
                                  "--out", hold))
    assert "is the input" in err or "inside the input folder" in err
    err = _one_line_error(_invoke("batch", tmp_path / "runs", "--thickness", "1mm",
                                  "--out", tmp_path / "runs" / "sub" / "new.csv"))
    assert "inside the input folder" in err
    (tmp_path / "link").symlink_to(tmp_path / "runs")
    err = _one_line_error(_invoke("batch", tmp_path / "runs", "--thickness", "1mm",
                                  "--out", tmp_path / "link" / "new.csv"))
    assert "inside the input folder" in err
    assert _snapshot(tmp_path) == before
    with pytest.raises(SescreenError, match="inside the input folder"):
        run_batch(tmp_path / "runs", fit_kwargs=BATCH_KW, out=tmp_path / "runs" / "x.csv")


def test_a_name_starting_with_hash_is_a_candidate_not_a_comment(tmp_path):
    c = tmp_path / "c.csv"
    c.write_text("# my candidates\nmaterial,sigma_e (S/cm)\n#1 LLZO,1e-11\n# a note\nB,1e-9\n"
                 "#2,5e-12\n")
    r = _invoke("screen", c, "--json")
    assert r.exit_code == 0, r.output
    names = {m["material"] for m in json.loads(r.stdout)["materials"]}
    assert names == {"#1 LLZO", "B", "#2"}
    t = tmp_path / "s.csv"
    t.write_text("material,T (C),sigma (S/cm)\n" + "".join(
        f"#A,{tc},{1e-8 * np.exp(-3000 / (tc + 273.15) + 10):.4g}\n" for tc in (25, 50, 75)))
    r = _invoke("arrhenius", t, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["n_points"] == 3


_CELL = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
                              blacklist_characters=",\"'\r\n\t;|\x0b\x0c\x1c\x1d\x1e\x85"),
                min_size=1, max_size=12).map(str.strip).filter(bool)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(st.one_of(_CELL, st.from_regex(r"#[A-Za-z0-9 #=+-]{0,8}",
                                                                fullmatch=True)),
                               _CELL), min_size=1, max_size=8),
       comments=st.lists(st.from_regex(r"# [a-z ]{0,10}", fullmatch=True), max_size=3))
def test_table_reader_keeps_every_row(tmp_path_factory, rows, comments):
    """Every data row comes back, with its cells as written, whatever its first character
    ('#', '=', '-'); comment lines before the header and delimiter-free '#' lines after it
    are the only lines dropped."""
    rows = [(a.strip() or "x", b) for a, b in rows]
    lines = [*comments, "material,value"]
    for k, (a, b) in enumerate(rows):
        lines.append(f"{a},{b}")
        if k < len(comments):
            lines.append(comments[k])
    path = tmp_path_factory.mktemp("t") / "t.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    df = read_text_table(path)
    assert df["material"].tolist() == [a for a, _ in rows]
    assert df["value"].tolist() == [b for _, b in rows]


def test_unreadable_subfolder_is_listed_not_silently_left_out(tmp_path, monkeypatch):
    for k in range(3):
        _hold(tmp_path / "data" / f"h{k}.csv", seed=k)
    _hold(tmp_path / "data" / "locked" / "hidden.csv")
    real_walk = os.walk

    def walk(top, onerror=None, **kw):  # root reads everything: simulate the permission
        for root, dirs, files in real_walk(top, onerror=onerror, **kw):
            if Path(root).name == "locked":
                onerror(PermissionError(13, "Permission denied", root))
                dirs[:] = []
                continue
            yield root, dirs, files

    monkeypatch.setattr(os, "walk", walk)
    out = tmp_path / "r.csv"
    r = _invoke("batch", tmp_path / "data", "--thickness", "1mm", "--workers", "1",
                "--out", out, "--json")
    assert r.exit_code == 1, r.output
    data = json.loads(r.stdout)
    assert data["ok"] == 3 and data["failed"] == 1
    assert "locked" in data["errors"][0] and "permission" in data["errors"][0]
    table = pd.read_csv(out)
    assert len(table) == 4 and table["file"].str.endswith("locked").sum() == 1


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads every folder")
def test_unreadable_subfolder_for_real(tmp_path):
    _hold(tmp_path / "data" / "h.csv")
    locked = tmp_path / "data" / "locked"
    _hold(locked / "x.csv")
    locked.chmod(0)
    try:
        res = run_batch(tmp_path / "data", fit_kwargs=BATCH_KW, out=tmp_path / "r.csv",
                        workers=1)
    finally:
        locked.chmod(0o755)
    assert res.summary()["failed"] == 1 and "locked" in res.errors[0]
