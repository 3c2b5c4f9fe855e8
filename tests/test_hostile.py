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
from conftest import write_wide_table
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


def test_screen_refuses_every_output_over_an_input_or_another_output(tmp_path):
    """--export-ccd was never checked against the inputs, nor --out against the ccd_file a
    table points to: both overwrote them, exit 0 (a review); two outputs on one path let one
    overwrite the other."""
    hold = _hold(tmp_path / "data" / "h.csv")
    cyc = tmp_path / "data" / "plating.csv"
    cyc.write_text("time/s,I/mA,Ewe/V\n0,0.1,0.01\n1,0.1,0.01\n")
    c = tmp_path / "c.csv"
    c.write_text("material,file,thickness (mm),temperature (C),ccd_file\n"
                 "A,data/h.csv,1,25,data/plating.csv\n")
    before = _snapshot(tmp_path)
    for args in (("--export-ccd", c), ("--export-ccd", hold), ("--out", cyc),
                 ("--export-ccd", cyc), ("--out", tmp_path / "x.csv", "--export-ccd",
                                         tmp_path / "x.csv")):
        err = _one_line_error(_invoke("screen", c, *args))
        assert "is the input" in err or "same file" in err, (args, err)
    assert _snapshot(tmp_path) == before


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


def test_csv_outputs_escape_formula_cells(tmp_path):
    c = tmp_path / "c.csv"
    c.write_text('material,sigma_e (S/cm)\n=HYPERLINK("http://x"),1e-11\n+A,1e-9\n-B,2e-9\n'
                 "@C,3e-12\n-4.5,1e-10\n")
    out = tmp_path / "r.csv"
    r = _invoke("screen", c, "--out", out)
    assert r.exit_code == 0, r.output
    cells = pd.read_csv(out, dtype=str)["material"].tolist()
    assert set(cells) == {"'=HYPERLINK(\"http://x\")", "'+A", "'-B", "'@C", "-4.5"}
    raw = pd.read_csv(out)
    assert np.isfinite(raw["margin_1ma_decades"]).all()  # numbers stay numbers


# -- batches always finish --------------------------------------------------------------
def _record_file(path: Path, t: np.ndarray) -> Path:
    i = 1e-9 * (1 + np.exp(-np.arange(t.size) / 10))
    return write_table(path, t, i, current_unit="nA",
                       comments={"voltage": "0.1 V", "area": "1 cm2", "technique": "CA"})


def test_batch_lists_any_failing_file_and_goes_on(tmp_path, monkeypatch):
    for k in range(4):
        _hold(tmp_path / "data" / f"h{k}.csv", seed=k)
    _record_file(tmp_path / "data" / "flat_time.csv", np.zeros(50))
    _record_file(tmp_path / "data" / "dup_time.csv", np.repeat(np.arange(25.0), 2))
    (tmp_path / "data" / "empty.csv").write_bytes(b"")
    (tmp_path / "data" / "binary.mpr").write_bytes(os.urandom(300))
    res = run_batch(tmp_path / "data", fit_kwargs=BATCH_KW, out=tmp_path / "r.csv",
                    workers=1)
    s = res.summary()
    assert s["n_files"] == 8 and s["ok"] + s["failed"] == 8, res.errors
    for name in ("flat_time", "empty", "binary"):
        assert sum(name in e for e in res.errors) == 1, res.errors
    dup = res.table[res.table["file"].str.contains("dup_time")]  # fitted, or one listed line
    assert len(dup) == 1 and (dup["status"].iloc[0] == "ok" or any("dup_time" in e
                                                                   for e in res.errors))
    assert all("\n" not in e for e in res.errors)

    import sescreen.dcpol

    real = sescreen.dcpol.fit_dcpol

    def explode(m, **kw):  # whatever the exception, it is that file's row
        if "h2" in str(m.source):
            raise ValueError("geomspace from 0")
        return real(m, **kw)

    monkeypatch.setattr(sescreen.dcpol, "fit_dcpol", explode)
    res = run_batch(tmp_path / "data", fit_kwargs=BATCH_KW, out=tmp_path / "r2.csv",
                    workers=1)
    bad = [e for e in res.errors if "h2.csv" in e]
    assert len(bad) == 1 and "ValueError" in bad[0]
    assert res.summary()["ok"] == s["ok"] - 1


@pytest.mark.parametrize("args", [
    ["--thickness", "0mm"], ["--thickness", "1 parsec"], ["--thickness", "-1mm"],
    ["--voltage", "0V"], ["--voltage", "1kV"], ["--area", "1 km2"], ["--area", "0cm2"],
    ["--workers", "-1"], ["--workers", "100000"], ["--scheduler", "ftp://host:8786"],
    ["--scheduler", "nonsense"],
    ["--model", "nosuch"], ["--bogus"],
])
def test_batch_bad_option_is_refused_once_before_any_file(tmp_path, args):
    for k in range(3):
        _hold(tmp_path / "data" / f"h{k}.csv", seed=k)
    base = ["batch", tmp_path / "data", "--out", tmp_path / "r.csv", "--workers", "1"]
    if "--thickness" not in args:
        base += ["--thickness", "1mm"]
    _one_line_error(_invoke(*base, *args))
    assert not (tmp_path / "r.csv").exists() and not (tmp_path / "r.csv.jsonl").exists()


def test_batch_damaged_journal_lines_are_skipped_and_recomputed(tmp_path):
    files = [_hold(tmp_path / "data" / f"h{k}.csv", seed=k) for k in range(6)]
    out = tmp_path / "r.csv"
    first = run_batch(tmp_path / "data", fit_kwargs=BATCH_KW, out=out, workers=1)
    journal = tmp_path / "r.csv.jsonl"
    lines = journal.read_bytes().splitlines()
    damaged = [lines[0], b"\xff\xfe\x00not utf-8", b"[1, 2]", b'{"file": 5}', b"null",
               lines[1][:-3] + b"}}", b'{"no_file": true}', lines[2].replace(b'"file"', b'"f"'),
               b'{"file": "x", "status": "ok", "options": "{}", "size_bytes": "big"}', lines[3]]
    journal.write_bytes(b"\n".join(damaged) + b"\n" + lines[4][:30])
    res = run_batch(tmp_path / "data", fit_kwargs=BATCH_KW, out=out, workers=1)
    assert res.reused == 2 and res.computed == 4  # lines 0 and 3 were intact
    assert len(res.warnings) == 1 and "damaged journal line" in res.warnings[0]
    pd.testing.assert_frame_equal(res.table.drop(columns=["mtime_ns"]),
                                  first.table.drop(columns=["mtime_ns"]))
    again = run_batch(tmp_path / "data", fit_kwargs=BATCH_KW, out=out, workers=1)
    assert again.reused == len(files) and again.computed == 0 and not again.warnings
    r = _invoke("batch", tmp_path / "data", "--thickness", "1mm", "--model", "exp1",
                "--workers", "1", "--out", out)
    assert r.exit_code == 0, r.output


def test_batch_resume_key_is_the_resolved_path(tmp_path, monkeypatch):
    for k in range(3):
        _hold(tmp_path / "data" / f"h{k}.csv", seed=k)
    out = tmp_path / "r.csv"
    run_batch(tmp_path / "data", fit_kwargs=BATCH_KW, out=out, workers=1)
    monkeypatch.chdir(tmp_path)
    res = run_batch("data", fit_kwargs=BATCH_KW, out="r.csv", workers=1)
    assert res.reused == 3 and res.computed == 0
    res = run_batch("./data/../data/", fit_kwargs=BATCH_KW, out=out, workers=1)
    assert res.reused == 3 and res.computed == 0


def test_batch_second_run_on_the_same_output_is_refused(tmp_path):
    from sescreen.batch.journal import Lock as _Lock

    pytest.importorskip("fcntl")
    _hold(tmp_path / "data" / "h.csv")
    out = tmp_path / "r.csv"
    with _Lock(tmp_path / "r.csv.lock"):
        with pytest.raises(SescreenError, match="another sescreen batch"):
            run_batch(tmp_path / "data", fit_kwargs=BATCH_KW, out=out, workers=1)
        r = _invoke("batch", tmp_path / "data", "--thickness", "1mm", "--out", out)
        assert "another sescreen batch" in _one_line_error(r)
    assert run_batch(tmp_path / "data", fit_kwargs=BATCH_KW, out=out, workers=1).computed == 1


# -- signals: real processes ----------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]


def _batch_process(folder: Path, out: Path, workers: int = 2):
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", "from sescreen.cli import main; main()", "batch", str(folder),
           "--thickness", "1mm", "--model", "exp1", "--workers", str(workers), "--out",
           str(out), "--json"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_lines(journal: Path, n: int, proc, timeout: float = 60) -> int:
    import time

    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_bytes().count(b"\n") >= n:
            return journal.read_bytes().count(b"\n")
        time.sleep(0.02)
    raise AssertionError("the batch finished or hung before the signal could be sent")


def _many_files(folder: Path, n: int, n_bad: int = 0) -> None:
    for k in range(n):
        _hold(folder / f"g{k % 3}" / f"h{k:03d}.csv", i_ss=1e-9 * (1 + k % 5), seed=k)
    for k in range(n_bad):
        (folder / f"bad_{k}.csv").write_text("time/s,I/mA\n0,1\n1,abc\n")


@pytest.mark.skipif(not hasattr(os, "kill") or os.name != "posix", reason="POSIX signals")
def test_sigkill_of_a_worker_is_survived(tmp_path):
    import signal

    psutil = pytest.importorskip("psutil")
    _many_files(tmp_path / "data", 16, n_bad=1)
    out = tmp_path / "r.csv"
    proc = _batch_process(tmp_path / "data", out)
    _wait_for_lines(tmp_path / "r.csv.jsonl", 3, proc)
    kids = psutil.Process(proc.pid).children()
    assert len(kids) == 2
    os.kill(kids[0].pid, signal.SIGKILL)  # what the OOM killer does
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr  # complete table; the one bad file is listed
    data = json.loads(stdout)
    assert data["n_files"] == 17 and data["ok"] == 16 and data["failed"] == 1, data
    table = pd.read_csv(out)
    assert len(table) == 17 and (table["status"] == "ok").sum() == 16
    assert table["file"].is_unique


@pytest.mark.skipif(not hasattr(os, "kill") or os.name != "posix", reason="POSIX signals")
def test_sigkill_of_the_main_process_takes_its_workers(tmp_path):
    import signal
    import time

    psutil = pytest.importorskip("psutil")
    _many_files(tmp_path / "data", 16)
    out = tmp_path / "r.csv"
    proc = _batch_process(tmp_path / "data", out)
    _wait_for_lines(tmp_path / "r.csv.jsonl", 3, proc)
    kids = psutil.Process(proc.pid).children()
    assert kids
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    deadline = time.time() + 5

    def alive(p):
        try:
            return p.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    while time.time() < deadline and any(alive(k) for k in kids):
        time.sleep(0.05)
    assert not any(alive(k) for k in kids), "workers outlived the killed main process"
    done = sum(1 for ln in (tmp_path / "r.csv.jsonl").read_bytes().split(b"\n")
               if ln.endswith(b"}"))
    res = run_batch(tmp_path / "data", fit_kwargs=BATCH_KW, out=out, workers=2)
    assert res.reused == done and res.computed == 16 - done  # no lock left behind
    assert len(pd.read_csv(out)) == 16 and (res.table["status"] == "ok").all()


def test_a_file_that_kills_its_worker_twice_is_listed(tmp_path, monkeypatch):
    """Retried once in a fresh worker, then listed; the other files are unaffected."""
    import sescreen.batch.workers as batch_mod

    _many_files(tmp_path / "data", 6)
    real = batch_mod.analyse_file

    def deadly(job):
        if job["file"].endswith("h003.csv"):
            os._exit(137)  # the worker dies as if SIGKILLed, every time
        return real(job)

    monkeypatch.setattr(batch_mod, "analyse_file", deadly)  # inherited by forked workers
    if "fork" not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip("needs the fork start method to patch the workers")
    res = run_batch(tmp_path / "data", fit_kwargs=BATCH_KW, out=tmp_path / "r.csv",
                    workers=2)
    assert res.summary()["ok"] == 5 and len(res.errors) == 1
    assert "h003.csv" in res.errors[0] and "died twice" in res.errors[0]


# -- tracebacks become one line ---------------------------------------------------------------
def _frames(folder: Path, n: int = 3) -> Path:
    from sescreen.ndp import Standard, depth_preset, synthesize_series
    from sescreen.ndp.spectra import write_spectra

    cal = depth_preset("han2019-llzo-x10")
    times = np.arange(n) * 180.0
    s = synthesize_series(lambda t, d: np.where(d >= 0, 2.2e22, 0.0), times, cal,
                          rng=np.random.default_rng(1), standard=Standard(850.0),
                          current_ma_cm2=0.1)
    write_spectra(s, folder)
    return folder


def _wide(path: Path, n: int = 3) -> Path:
    from sescreen.ndp.spectra import read_spectra

    return write_wide_table(read_spectra(_frames(path.parent / "frames_for_wide", n)), path)


GOOD_STACK = (ROOT / "sescreen" / "ndp" / "stacks" / "han2019-llzo.toml").read_text()


@pytest.mark.parametrize(("edit", "needle"), [
    (lambda t: t.replace('particle = "triton"', "particle = 3"), "particle"),
    (lambda t: t.replace('particle = "triton"', 'particle = ["triton"]'), "particle"),
    (lambda t: t.replace("density_g_cm3 = 1.42", 'density_g_cm3 = "dense"'), "density"),
    (lambda t: t.replace("density_g_cm3 = 1.42", "density_g_cm3 = inf"), "density"),
    (lambda t: t.replace("density_g_cm3 = 1.42", "density_g_cm3 = nan"), "density"),
    (lambda t: t.replace("thickness_um = 16.0", "thickness_um = -16.0"), "thickness"),
    (lambda t: t.replace("thickness_um = 16.0", "thickness_um = true"), "thickness"),
    (lambda t: t.replace("degree = 2", "degree = 0"), "degree"),
    (lambda t: t.replace("degree = 2", 'degree = "two"'), "degree"),
    (lambda t: t.replace("degree = 2", "degree = 2.5"), "degree"),
    (lambda t: t.replace("depth_window_um = [0.0, 16.0]", "depth_window_um = 16"), "window"),
    (lambda t: t.replace("depth_window_um = [0.0, 16.0]", 'depth_window_um = ["a", 1]'),
     "window"),
    (lambda t: t.replace('formula = "Cu"', 'formula = "((("'), "formula"),
    (lambda t: t.replace('formula = "Cu"', 'formula = "Li1e999"'), "formula"),
    (lambda t: t.replace('formula = "Cu"', "formula = 29"), "formula"),
    (lambda t: t.split("[[layers]]")[0] + 'layers = "none"\n', "layers"),
    (lambda t: t.split("[[layers]]")[0] + "layers = [1, 2]\n", "layers"),
    (lambda t: t.split("[[layers]]")[0], "layers"),
    (lambda t: "fit = 3\n" + t.replace("[fit]\n", "[other]\n"), "fit"),
    (lambda t: t.replace('preset = "han2019-llzo"', "preset = 5"), "preset"),
])
def test_stack_toml_of_wrong_types_is_one_line(tmp_path, edit, needle):
    path = tmp_path / "stack.toml"
    path.write_text(edit(GOOD_STACK))
    err = _one_line_error(_invoke("ndp", "calibrate", path, "--method", "stopping"))
    assert str(path) in err and needle in err.lower()


def test_stack_toml_not_utf8_and_not_toml(tmp_path):
    path = tmp_path / "stack.toml"
    path.write_bytes(GOOD_STACK.replace("Kapton", "K\u00e4pton").encode("latin-1"))
    assert "UTF-8" in _one_line_error(_invoke("ndp", "calibrate", path))
    path.write_bytes(b"[[[[" * 1000)
    assert "TOML" in _one_line_error(_invoke("ndp", "calibrate", path))
    path.write_bytes(b"a = " + b"[" * 5000 + b"]" * 5000)
    assert "TOML" in _one_line_error(_invoke("ndp", "calibrate", path))


@pytest.mark.parametrize("args", [
    ["--standard-counts", "inf"], ["--standard-counts", "1e-300"], ["--standard-counts", "nan"],
    ["--standard-counts", "-5"], ["--monitor", "0"], ["--host", "(((:5.1"],
    ["--host", "Li1e999O:5.1"], ["--host", "La2O3:6.5"], ["--host", "Li7La3Zr2O12:inf"],
    ["--boundary", "-2um"], ["--current", "-0.1mA/cm2"], ["--current", "1e300mA/cm2"],
    ["--window", "nan:5"], ["--window", "5:1"],
])
def test_ndp_options_out_of_range_are_one_line(tmp_path, args):
    frames = _frames(tmp_path / "frames")
    _one_line_error(_invoke("ndp", frames, "--stack", "han2019-llzo-x10", *args))


def test_ndp_inputs_that_used_to_raise(tmp_path):
    (tmp_path / "empty").mkdir()
    err = _one_line_error(_invoke("ndp", tmp_path / "empty", "--stack", "han2019-llzo-x10"))
    assert "empty" in err and "no spectra" in err
    wide = _wide(tmp_path / "wide.csv")
    lines = wide.read_text().splitlines()
    for k, broken in enumerate([lines[5].rsplit(",", 1)[0], lines[5] + ",7",
                                lines[3].replace(",", ",x,", 1), lines[5].replace(",", ",,", 1)]):
        bad = tmp_path / f"ragged{k}.csv"
        bad.write_text("\n".join([*lines[:5], broken, *lines[6:]]) + "\n")
        err = _one_line_error(_invoke("ndp", bad, "--stack", "han2019-llzo-x10"))
        assert f"ragged{k}.csv" in err
    frames = _frames(tmp_path / "f2")
    first = sorted(frames.iterdir())[0]
    first.write_text(first.read_text().replace("# monitor:", "# monitor: 1,2,3e\n# x:"))
    assert "f2" in _one_line_error(_invoke("ndp", frames, "--stack", "han2019-llzo-x10"))


def test_candidates_with_a_header_and_no_rows(tmp_path):
    c = tmp_path / "c.csv"
    c.write_text("material,sigma_e (S/cm)\n")
    assert "no rows" in _one_line_error(_invoke("screen", c))
    c.write_text("# only comments\nmaterial,sigma_e (S/cm)\n# and more\n")
    assert "no rows" in _one_line_error(_invoke("screen", c))


@pytest.mark.parametrize(("row", "needle"), [
    ("A,1e-10,-1e-11,25", "sigma_e_stderr"), ("A,1e-10,1e300,25", "sigma_e_stderr"),
    ("A,inf,,25", "sigma_e"), ("A,-1e-10,,25", "sigma_e"), ("A,1e-10,,-300", "temperature"),
    ("A,1e-10,,1e300", "temperature"), ("A,1e-10,nan,25", "sigma_e_stderr"),
])
def test_candidates_impossible_numbers(tmp_path, row, needle):
    c = tmp_path / "c.csv"
    c.write_text("material,sigma_e (S/cm),sigma_e_stderr (S/cm),temperature (C)\n" + row + "\n")
    r = _invoke("screen", c)
    if r.exit_code == 0:  # 'nan' is an empty cell for a stated error
        assert needle == "sigma_e_stderr" and "nan" in row
        return
    err = _one_line_error(r)
    assert needle in err and "c.csv" in err


@pytest.mark.parametrize(("rows", "needle"), [
    (["25,1e-8,1e300", "50,2e-8,1e-9", "75,4e-8,1e-9"], "stated error"),
    (["25,1e-8,-1e-9", "50,2e-8,1e-9", "75,4e-8,1e-9"], "stated error"),
    (["1e300,1e-8,", "50,2e-8,", "75,4e-8,"], "temperature"),
    (["-300,1e-8,", "50,2e-8,", "75,4e-8,"], "temperature"),
    (["25,inf,", "50,2e-8,", "75,4e-8,"], "sigma"),
    (["25,0,", "50,2e-8,", "75,4e-8,"], "sigma"),
])
def test_arrhenius_table_impossible_numbers(tmp_path, rows, needle):
    t = tmp_path / "s.csv"
    t.write_text("T (C),sigma (S/cm),sigma_stderr (S/cm)\n" + "\n".join(rows) + "\n")
    err = _one_line_error(_invoke("arrhenius", t))
    assert needle in err and "s.csv" in err


def test_report_with_mathtext_names_and_a_bad_formula(tmp_path):
    c = tmp_path / "c.csv"
    c.write_text("material,formula,sigma_e (S/cm),temperature (C)\n$\\frac{a}{$,(((,1e-11,25\n"
                 "$x^2$,Li7La3Zr2O12,1e-9,25\n")
    out = tmp_path / "r.html"
    r = _invoke("report", c, "--out", out)
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output and out.stat().st_size > 1000


def test_memory_error_is_one_line(tmp_path, monkeypatch):
    import sescreen.io

    hold = _hold(tmp_path / "h.csv")

    def boom(*a, **k):
        raise MemoryError

    monkeypatch.setattr(sescreen.io, "read", boom)
    assert "memory" in _one_line_error(_invoke("dcpol", hold, "--thickness", "1mm"))


def test_unexpected_exception_is_one_line(tmp_path, monkeypatch):
    import sescreen.io

    hold = _hold(tmp_path / "h.csv")

    def boom(*a, **k):
        raise ValueError("Maximum allowed size exceeded\nsecond line")

    monkeypatch.setattr(sescreen.io, "read", boom)
    err = _one_line_error(_invoke("dcpol", hold, "--thickness", "1mm"))
    assert "ValueError" in err and "bug" in err


# -- silent wrong numbers are refused -------------------------------------------------------
@pytest.mark.parametrize(("args", "needle"), [
    (["dcpol", "{hold}", "--thickness", "1 parsec"], "plausible range"),
    (["dcpol", "{hold}", "--thickness", "0mm"], "plausible range"),
    (["dcpol", "{hold}", "--thickness", "1mm", "--area", "1 m2"], "plausible range"),
    (["dcpol", "{hold}", "--thickness", "1mm", "--voltage", "1kV"], "plausible range"),
    (["dcpol", "{hold}", "--thickness", "1mm", "--voltage", "0V"], "plausible range"),
    (["dcpol", "{hold}", "--thickness", "1mm", "--temperature", "-300C"], "--temperature"),
    (["dcpol", "{hold}", "--thickness", "1mm", "--thickness-tol", "nan"], "fraction"),
    (["dcpol", "{hold}", "--thickness", "1mm", "--area-tol", "inf"], "fraction"),
    (["dcpol", "{hold}", "--thickness", "1mm", "--skip", "-5s"], "negative"),
    (["dcpol", "{cold}", "--thickness", "1mm"], "temperature"),
    (["check", "{hold}", "--thickness", "1mm", "--target", "1e-30mA/cm2"], "plausible range"),
    (["check", "{hold}", "--thickness", "1mm", "--target", "-1mA/cm2"], "plausible range"),
    (["criteria", "--ccd", "1e300mA/cm2"], "plausible range"),
    (["criteria", "--ccd", "0mA/cm2"], "plausible range"),
    (["screen", "{cands}", "--at", "-300C"], "--at"),
    (["arrhenius", "{hold}", "--thickness", "1mm", "--at", "1e300K"], "range"),
])
def test_impossible_quantities_are_refused(tmp_path, args, needle):
    hold = _hold(tmp_path / "h.csv")
    cold = tmp_path / "cold.csv"
    cold.write_text(hold.read_text().replace("# voltage", "# temperature: -300 C\n# voltage"))
    cands = tmp_path / "c.csv"
    cands.write_text("material,sigma_e (S/cm)\nA,1e-11\n")
    args = [a.format(hold=hold, cold=cold, cands=cands) for a in args]
    err = _one_line_error(_invoke(*args))
    assert needle in err


# -- messages: one line, escaped, capped; causes told apart -------------------------------
def test_usage_errors_are_one_line():
    for args in (["dcpol", "--bogus"], ["batch"], ["nosuch"], ["--bogus"],
                 ["dcpol", "x.csv", "--thickness", "1mm", "--model", "x"], ["ndp", "calibrate"]):
        err = _one_line_error(_invoke(*args))
        assert "--help" in err


def test_control_characters_and_huge_headers_in_messages(tmp_path):
    weird = tmp_path / "a\nb\rc\x1b[31m.csv"
    err = _one_line_error(_invoke("inspect", weird))
    assert "\\n" in err and "\x1b" not in err
    big = tmp_path / "big.csv"
    big.write_text("h" * 10_000_000 + "\n1\n")
    import time

    t0 = time.time()
    err = _one_line_error(_invoke("inspect", big))
    assert len(err) < 800 and time.time() - t0 < 10
    fields = tmp_path / "fields.csv"
    fields.write_text("t,i\n" + ",1" * 5_000_000 + "\n")
    t0 = time.time()
    err = _one_line_error(_invoke("dcpol", fields, "--thickness", "1mm"))
    assert "line 2" in err and time.time() - t0 < 10


def test_disk_full_and_permission_are_told_apart(tmp_path, monkeypatch):
    import errno

    import sescreen.atomic

    c = tmp_path / "c.csv"
    c.write_text("material,sigma_e (S/cm)\nA,1e-11\n")
    for code, needle in ((errno.ENOSPC, "disk is full"), (errno.EACCES, "permission denied"),
                         (errno.EROFS, "read-only")):
        def fail(path, data, code=code):
            raise OSError(code, os.strerror(code), str(path))

        monkeypatch.setattr(sescreen.atomic, "atomic_write_bytes", fail)
        err = _one_line_error(_invoke("screen", c, "--out", tmp_path / "r.csv"))
        assert needle in err and "r.csv" in err


def test_broken_pipe_exits_quietly():
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "from sescreen.cli import main; main()",
                             "criteria"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader goes away before the first line (| head -0)
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert proc.returncode == 141 and err == b"", err


def test_numpy_warnings_do_not_reach_stderr(monkeypatch):
    import warnings

    import sescreen.criteria

    real = sescreen.criteria.max_sigma_e

    def noisy(*a, **k):
        warnings.warn("divide by zero encountered in log", RuntimeWarning, stacklevel=1)
        return real(*a, **k)

    monkeypatch.setattr(sescreen.criteria, "max_sigma_e", noisy)
    r = _invoke("criteria", "--ccd", "1mA/cm2")
    assert r.exit_code == 0 and r.stderr == ""


def test_equal_or_duplicated_time_stamps_never_crash(tmp_path):
    """The log_bin ValueError of the campaign: every command ends in a result or one line."""
    flat = _record_file(tmp_path / "flat.csv", np.zeros(50))
    dup = _record_file(tmp_path / "dup.csv", np.repeat(np.arange(25.0), 2))
    zero_start = _record_file(tmp_path / "zeros.csv", np.r_[np.zeros(10), np.arange(1.0, 41)])
    c = tmp_path / "c.csv"
    c.write_text("material,file,thickness (mm),temperature (C)\nA,flat.csv,1,25\n"
                 "B,dup.csv,1,25\n")
    m = tmp_path / "m.csv"
    m.write_text("file,temperature (C),thickness (mm),area (cm2)\nflat.csv,25,1,1\n"
                 "dup.csv,50,1,1\nzeros.csv,75,1,1\n")
    for args in (["dcpol", flat, "--thickness", "1mm"], ["dcpol", dup, "--thickness", "1mm"],
                 ["dcpol", zero_start, "--thickness", "1mm"],
                 ["check", flat, "--thickness", "1mm"], ["check", dup, "--thickness", "1mm"],
                 ["screen", c], ["arrhenius", m]):
        r = _invoke(*args)
        assert r.exit_code in (0, 1, 2, 3), (args, r.output)
        assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
        if r.exit_code == 2:
            assert r.stderr.count("\n") == 1 and "unexpected" not in r.stderr, r.stderr


def test_arrhenius_files_judge_the_files_own_metadata(tmp_path):
    """A file of an Arrhenius series stating 5 kV is skipped with that reason, as dcpol and
    batch refuse it (sescreen.limits.check_file_metadata)."""
    from sescreen.sigma_table import points_from_measurements

    good = _hold(tmp_path / "a.csv")
    bad = tmp_path / "b.csv"
    bad.write_text(good.read_text().replace("# voltage: 0.1 V", "# voltage: 5000 V"))
    errors: list[str] = []
    points = points_from_measurements([good, bad], thickness_cm=0.1,
                                      temperatures_k=[300.0, 320.0], errors=errors)
    assert len(points) == 1 and len(errors) == 1
    assert "b.csv" in errors[0] and "applied voltage" in errors[0]
