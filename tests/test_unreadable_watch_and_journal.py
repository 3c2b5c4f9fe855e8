"""Review 4 (an independent reviewer's reproducers D7, D8, D9, D12): regression tests.

- D7: ``watch`` froze after one unparseable row (or a file emptied): the old state was kept
  silently and the watch stopped "idle" while the file grew.
- D8: ``batch`` crashed on a file name that is not UTF-8, with no table.
- D9: ``batch`` reused an edited journal line (``"status": "ok"`` made ``"error"``) and
  crashed after writing the table.
- D12: ``watch --plot`` wrote the final path directly; ``--plot``/``--history`` into a path
  that cannot be written failed only after the whole watch (the history naming its
  temporary file).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import follow_on_fake_clock

from sescreen.cli import main
from sescreen.sequential import WatchHistory

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from sescreen.cli import main; main()"]
HEADER = "# voltage: 0.1 V\n# area: 1 cm2\ntime/s,I/A,Ewe/V\n"  # data from line 4


def _row(k: int, scale: float = 1.0) -> str:
    t = 10.0 * k
    i = scale * 1e-9 * (1 + 3 * math.exp(-t / 300) + math.exp(-t / 1500))
    return f"{t:.1f},{i:.6e},0.1\n"


def _rows(a: int, b: int, scale: float = 1.0) -> str:
    return "".join(_row(k, scale) for k in range(a, b))


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _watch_live(path: Path, after_first_look, idle: str = "2s"):
    """``sescreen watch --json-lines`` on ``path``; ``after_first_look()`` runs once the
    first look is printed. Returns (exit code, JSON objects, stderr)."""
    proc = subprocess.Popen([*CLI, "watch", str(path), "--thickness", "1mm", "--every",
                             "0.25s", "--idle", idle, "--json-lines"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    assert first, proc.communicate(timeout=60)
    after_first_look()
    rest, err = proc.communicate(timeout=120)
    return proc.returncode, [json.loads(s) for s in (first + rest).splitlines()], err


# -- D7: a file that cannot be read at a later look ---------------------------------------
def test_watch_reports_an_unparseable_row_and_never_claims_idle_while_the_file_grows(
        tmp_path):
    path = tmp_path / "w7.csv"
    path.write_text(HEADER + _rows(0, 300))

    def grow_past_a_bad_row():
        with open(path, "a") as fh:
            fh.write("abc,def,ghi\n")  # line 304
        for k in range(300, 480, 20):  # 4.5 s of growth, longer than --idle
            time.sleep(0.5)
            with open(path, "a") as fh:
                fh.write(_rows(k, k + 20, scale=100.0))

    code, objs, err = _watch_live(path, grow_past_a_bad_row)
    final = objs[-1]
    assert code == 2 and final["final"] and final["exit_code"] == 2, err
    assert final["stop"] == "unreadable"  # not "idle": the file was growing
    assert any("line 304" in n for n in final["notes"])
    warnings = [s for s in err.splitlines() if s.startswith("sescreen: warning:")]
    assert len(warnings) == 1 and "w7.csv, line 304" in warnings[0], err  # reported once
    assert "sescreen: error: " in err and "line 304" in err.splitlines()[-1]
    assert all(o.get("n_points") in (None, 300) for o in objs)  # the bad part never judged


def test_watch_reports_a_file_emptied_under_it(tmp_path):
    path = tmp_path / "emptied.csv"
    path.write_text(HEADER + _rows(0, 300))
    code, objs, err = _watch_live(path, lambda: path.write_bytes(b""))
    assert code == 2 and objs[-1]["stop"] == "unreadable", err
    warnings = [s for s in err.splitlines() if s.startswith("sescreen: warning:")]
    assert len(warnings) == 1 and "emptied.csv" in warnings[0] and "emptied" in warnings[0]


def test_follow_judges_again_once_the_bad_row_is_fixed(tmp_path):
    """The bad row reported once, the growth past it not 'idle', and the next readable
    state judged, with a note saying what could not be read."""
    path = tmp_path / "fixed.csv"
    path.write_text(HEADER + _rows(0, 300))
    stages = [lambda: path.write_text(HEADER + _rows(0, 300) + "abc,def,ghi\n"),
              lambda: path.write_text(HEADER + _rows(0, 300) + "abc,def,ghi\n"
                                      + _rows(300, 330)),
              lambda: path.write_text(HEADER + _rows(0, 330))]  # the line deleted
    looks, reported = follow_on_fake_clock(path, stages)
    assert len(reported) == 1 and "line 304" in reported[0]
    assert [lk.n_points for lk in looks] == [300, 330, 330]
    assert any("line 304" in n and "read again" in n for n in looks[1].notes)
    assert looks[-1].stop == "idle"


# -- D8: a file name that is not UTF-8 ----------------------------------------------------
def test_batch_with_a_file_name_that_is_not_utf8_writes_its_table(tmp_path):
    data = tmp_path / "d8"
    data.mkdir()
    good = (HEADER + _rows(0, 300)).encode()
    try:
        (data / os.fsdecode(b"bad\xff\xfename.csv")).write_bytes(good)
        (data / os.fsdecode(b"zz\xff.csv")).write_bytes(b"garbage\n")
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    (data / "plain.csv").write_bytes(good)
    out = tmp_path / "out" / "t.csv"
    for _ in range(2):  # the second run resumes from the journal
        r = _invoke("batch", data, "--thickness", "1mm", "--workers", "1", "-q", "--out", out)
        assert r.exit_code == 1, (r.output, r.stderr)  # zz\xff.csv failed, and is listed
        table = out.read_text(encoding="utf-8")
        assert len(table.splitlines()) == 4 and "bad\\xff\\xfename.csv,,,ok" in table
        failed = [s for s in r.stdout.splitlines() if "failed:" in s]
        assert len(failed) == 1 and failed[0].count("zz\\xff.csv") == 1, failed
    assert "3 from the journal" in r.stdout


# -- D9: an edited journal line ------------------------------------------------------------
@pytest.mark.parametrize("edit", [('"status": "ok"', '"status": "error"'),
                                  ('"outcome_1ma": "fail"', '"outcome_1ma": "maybe"'),
                                  ('"sigma_e_s_cm": ', '"sigma_e_s_cm": "x", "_": ')])
def test_batch_an_edited_journal_line_is_skipped_and_recomputed(tmp_path, edit):
    data = tmp_path / "runs"
    data.mkdir()
    t = np.arange(0, 20000, 5.0)
    for k in range(3):
        i = 1e-9 * (1 + 3 * np.exp(-t / 500) + np.exp(-t / 3000)) \
            * (1 + np.random.default_rng(k).normal(0, 1e-3, t.size))
        (data / f"h{k}.csv").write_text(
            "# voltage: 0.1 V\n# area: 1 cm2\ntime/s,I/A\n"
            + "".join(f"{a:g},{b:.6e}\n" for a, b in zip(t, i, strict=True)))
    out = tmp_path / "o.csv"
    args = ("batch", data, "--thickness", "1mm", "--workers", "1", "-q", "--out", out,
            "--json")
    first = _invoke(*args)
    assert first.exit_code == 0, first.output
    journal = tmp_path / "o.csv.jsonl"
    lines = journal.read_text().splitlines()
    assert edit[0] in lines[1]
    lines[1] = lines[1].replace(*edit, 1)
    journal.write_text("\n".join(lines) + "\n")
    r = _invoke(*args)
    assert r.exit_code == 0, (r.output, r.stderr)
    summary = json.loads(r.stdout)
    assert (summary["computed"], summary["reused"], summary["failed"]) == (1, 2, 0)
    assert summary["errors"] == [] and summary["outcomes_1ma"]["fail"] == 3
    assert r.stderr.count("damaged journal line") == 1 and r.stderr.count("\n") == 1


# -- D12: watch's outputs ------------------------------------------------------------------
def _done_record(tmp_path: Path) -> Path:
    path = tmp_path / "done.csv"
    path.write_text(HEADER + _rows(0, 900))
    return path


def test_watch_plot_is_written_atomically_into_a_new_folder(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    targets = []
    savefig = Figure.savefig

    def spy(self, fname, *a, **kw):
        targets.append(fname)
        return savefig(self, fname, *a, **kw)

    monkeypatch.setattr(Figure, "savefig", spy)
    plot, history = tmp_path / "new" / "w.png", tmp_path / "new" / "h.jsonl"
    r = _invoke("watch", _done_record(tmp_path), "--thickness", "1mm", "--replay",
                "--every", "50min", "--plot", plot, "--history", history)
    assert r.exit_code == 1, (r.output, r.stderr)  # 1e-9 S/cm > 1e-10: FAIL, not an error
    assert plot.read_bytes().startswith(b"\x89PNG") and len(WatchHistory.from_json_lines(
        history)) >= 1
    assert targets and not any(isinstance(f, (str, os.PathLike)) for f in targets)
    assert sorted(p.name for p in plot.parent.iterdir()) == ["h.jsonl", "w.png"]


@pytest.mark.parametrize("option, name", [("--plot", "w.png"), ("--history", "h.jsonl")])
def test_watch_output_that_cannot_be_written_is_refused_before_watching(tmp_path, option,
                                                                         name):
    (tmp_path / "afile").write_text("a file, not a folder\n")
    target = tmp_path / "afile" / "sub" / name
    r = _invoke("watch", _done_record(tmp_path), "--thickness", "1mm", "--replay",
                "--every", "50min", option, target)
    assert r.exit_code == 2 and "look" not in r.stdout, r.stdout
    assert r.stderr.count("\n") == 1 and str(target) in r.stderr and ".tmp" not in r.stderr


def test_history_write_error_names_the_history_file(tmp_path):
    (tmp_path / "afile").write_text("")
    target = tmp_path / "afile" / "h.jsonl"
    with pytest.raises(OSError) as err:
        WatchHistory().to_json_lines(target)
    assert err.value.filename == str(target)
