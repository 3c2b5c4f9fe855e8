"""sescreen watch / sescreen.sequential: the look boundary, replay, a file written while it
is read, the CLI contract, ca.mpr replayed, and a sample of the watch benchmark."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import load_benchmark, sigint_default

from sescreen.errors import InputError
from sescreen.sequential import HoldWatcher, LookBoundary, RecordFile, WatchHistory, widen

ROOT = Path(__file__).resolve().parents[1]
WRITER = ROOT / "tests" / "watch_writer.py"
CLI = [sys.executable, "-c", "from sescreen.cli import main; main()"]


def _cli(*args, **kw):
    return subprocess.run([*CLI, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=kw.pop("timeout", 120), **kw)


def _writer():
    sys.path.insert(0, str(WRITER.parent))
    import watch_writer

    return watch_writer


# -- the boundary ----------------------------------------------------------------------
def test_series_spends_at_most_alpha_over_any_number_of_looks():
    b = LookBoundary(0.05)
    total = sum(b.alpha_at(k) for k in range(1, 200_001))
    assert total <= 0.05 and total > 0.0499
    assert b.z_at(1) == pytest.approx(2.165, abs=1e-3)  # alpha_1 = 0.0304
    assert b.z_at(10) > b.z_at(2) > b.z_at(1) > 1.96


def test_fixed_schedule_splits_alpha_and_then_has_nothing_left():
    b = LookBoundary(0.05, max_looks=4)
    assert [b.alpha_at(k) for k in (1, 4, 5)] == [0.0125, 0.0125, 0.0]
    assert math.isinf(b.z_at(5))
    with pytest.raises(InputError):
        LookBoundary(1.5)


def test_widen_contains_the_95_interval_and_grows_with_z():
    lo95, hi95 = 2e-10, 8e-10
    lo, hi = widen(4e-10, (lo95, hi95), 1.959963984540054)
    assert (lo, hi) == pytest.approx((lo95, hi95))
    lo3, hi3 = widen(4e-10, (lo95, hi95), 3.0)
    assert lo3 < lo95 and hi3 > hi95 and lo3 > 0
    # log-symmetric: the ratios to the point scale by z / 1.96
    assert math.log(hi3 / 4e-10) == pytest.approx(math.log(2) * 3 / 1.959963984540054)
    # an upper bound only widens about the point in linear sigma_e
    assert widen(1e-13, (0.0, 1e-12), 3.92) == pytest.approx(
        (0.0, 1e-13 + 9e-13 * 3.92 / 1.959963984540054))
    assert widen(1e-13, (0.0, 1e-12), math.inf) == (0.0, math.inf)


# -- the Python API --------------------------------------------------------------------
def _decay(t, i_ss=1e-9):
    return i_ss * (1 + 3 * np.exp(-t / 300) + np.exp(-t / 1500))


def test_feed_points_look_and_history_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    w = HoldWatcher(thickness_cm=0.1, area_cm2=1.0, voltage_v=0.1, target_ma_cm2=1.0)
    t = np.arange(0.0, 4 * 3600, 10.0)
    i = _decay(t) * (1 + 0.003 * rng.standard_normal(t.size))
    looks = []
    for end in (1800, 7200, 14400):
        sel = (t >= (looks[-1].elapsed_s + 1 if looks else -1)) & (t <= end)
        for tk, ik in zip(t[sel], i[sel], strict=True):  # point by point
            w.feed(tk, ik)
        looks.append(w.look())
        if w.stopped:
            break
    last = looks[-1]
    # sigma_e = I L / (V A) = 1e-9 * 0.1 / 0.1 = 1e-9 S/cm: far above 1e-10, a FAIL, said
    # at the second look and decided at the third, its repetition (confirm=2)
    assert [(lk.outcome, lk.in_a_row, lk.decided) for lk in looks[1:]] == [
        ("fail", 1, False), ("fail", 2, True)]
    assert "(1 of 2 looks in a row)" in looks[1].line() and looks[1].stop is None
    assert last.stop == "decided" and "(decided)" in last.line()
    lo, hi = last.sigma_e_interval
    assert lo <= last.sigma_e_interval_95[0] and hi >= last.sigma_e_interval_95[1]
    assert lo < 1e-9 < hi
    path = w.history.to_json_lines(tmp_path / "h.jsonl")
    back = WatchHistory.from_json_lines(path)
    assert [lk.summary() for lk in back] == [lk.summary() for lk in w.history]
    import matplotlib

    matplotlib.use("Agg")
    assert back.plot().get_yscale() == "log"
    assert w.history.summary()["decision"] == "fail"


def test_precision_does_not_preempt_a_pending_decision():
    """A PASS or FAIL that waits for its confirmation goes on to be confirmed even when its
    interval is already as narrow as --precision asks; an undecided narrow interval
    stops."""
    rng = np.random.default_rng(3)
    t = np.arange(0.0, 4 * 3600, 10.0)
    i = _decay(t) * (1 + 0.003 * rng.standard_normal(t.size))
    w = HoldWatcher(thickness_cm=0.1, area_cm2=1.0, voltage_v=0.1, target_ma_cm2=1.0,
                    precision=0.9)
    looks = []
    for end in (1800, 7200, 14400):
        sel = (t > (looks[-1].elapsed_s if looks else -1)) & (t <= end)
        w.feed(t[sel], i[sel])
        looks.append(w.look())
        if w.stopped:
            break
    fails = [lk for lk in looks if lk.outcome == "fail"]
    assert fails[0].precision_reached and fails[0].stop is None  # waits for the next look
    assert looks[-1].stop == "decided" and looks[-1].outcome == "fail"
    # a target the interval straddles: narrow enough, undecided -> stops for precision
    # (Han's threshold 1e-10 S/cm (1 mA/cm^2 / j)^2 at sigma_e itself)
    w2 = HoldWatcher(thickness_cm=0.1, area_cm2=1.0, voltage_v=0.1,
                     target_ma_cm2=math.sqrt(1e-10 / looks[-1].sigma_e), precision=0.9)
    w2.feed(t[t <= 7200], i[t <= 7200])
    lk = w2.look()
    assert lk.outcome == "inconclusive" and lk.precision_reached and lk.stop == "precision"


def test_feeding_needs_voltage_and_area():
    w = HoldWatcher(thickness_cm=0.1)
    w.feed([0.0, 1.0], [1e-9, 1e-9])
    with pytest.raises(InputError, match="voltage_v and area_cm2"):
        w.look()


# -- a file written while it is read ---------------------------------------------------
def test_record_file_never_reads_a_half_written_row(tmp_path):
    ww = _writer()
    path = tmp_path / "log.csv"
    path.write_text(ww.rows(20) + ww.row(20)[:9])  # "200.0,1.2" parses, but is unfinished
    with RecordFile(path, technique="constant_voltage", area_cm2=1.0) as src:
        m = src.poll()
        assert len(m) == 20 and m.current_a[-1] == float(ww.row(19).split(",")[1])
        assert src.poll() is None  # nothing new complete
        path.write_text(ww.rows(21))
        assert len(src.poll()) == 21


def test_reading_while_another_process_appends_and_rewrites(tmp_path):
    """Poll as fast as possible while a writer process appends rows in split writes and
    rewrites the file in place: every record read is exactly a prefix of the true rows."""
    ww = _writer()
    warm = tmp_path / "warm.csv"  # the first read imports the readers: not during the race
    warm.write_text(ww.rows(20))
    with RecordFile(warm, technique="constant_voltage", area_cm2=1.0) as src:
        assert len(src.poll()) == 20
    path = tmp_path / "live.csv"
    n = 300
    proc = subprocess.Popen([sys.executable, str(WRITER), str(path), "--rows", str(n),
                             "--chunk", "30", "--pause", "0.05",
                             "--rewrite-pause", "1.0"])  # seen even on a loaded machine
    truth = np.array([[float(x) for x in ww.row(k).split(",")[:2]] for k in range(n)])
    seen, rewrites = [], 0
    try:
        while not path.exists():
            time.sleep(0.01)
        with RecordFile(path, technique="constant_voltage", area_cm2=1.0) as src:
            while proc.poll() is None or not seen or seen[-1] < n:
                m = src.poll() if path.stat().st_size > len(ww.HEADER) else None
                if m is not None:
                    k = len(m)
                    np.testing.assert_array_equal(m.time_s, truth[:k, 0])
                    np.testing.assert_array_equal(m.current_a, truth[:k, 1])
                    seen.append(k)
                    rewrites += bool(src.notes)
                if proc.poll() is not None and seen and seen[-1] == n:
                    break
                time.sleep(0.005)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert seen[-1] == n and len(seen) > 5
    assert rewrites >= 1  # the rewrite in place was seen and read afresh


def test_watch_follows_a_growing_file_and_stops_when_it_stops_growing(tmp_path):
    path = tmp_path / "live.csv"
    proc = subprocess.Popen([sys.executable, str(WRITER), str(path), "--rows", "900",
                             "--chunk", "150", "--pause", "0.3"])
    try:
        while not path.exists() or path.stat().st_size < 2000:
            time.sleep(0.02)
        r = _cli("watch", path, "--thickness", "1mm", "--area", "1cm2", "--technique",
                 "constant_voltage", "--target", "10mA/cm2", "--every", "1s", "--idle",
                 "3s", "--json-lines")
    finally:
        proc.wait(timeout=30)
    assert r.returncode in (0, 1, 3), r.stderr
    objs = [json.loads(s) for s in r.stdout.splitlines()]
    looks, final = objs[:-1], objs[-1]
    assert looks and final["final"] and final["exit_code"] == r.returncode
    for lk in looks:
        assert {"elapsed_s", "sigma_e", "sigma_e_interval", "outcome", "decided"} <= set(lk)
    # 1e-9 A * 0.1 cm / (0.1 V * 1 cm2) = 1e-9 S/cm: above 1e-12 (10 mA/cm2), a FAIL
    if final["decided"]:
        assert final["outcome"] == "fail" and r.returncode == 1
    else:
        assert final["stop"] == "idle" and looks[-1]["n_points"] == 900


def test_ctrl_c_prints_the_last_state(tmp_path):
    ww = _writer()
    path = tmp_path / "still.csv"
    path.write_text(ww.rows(4))  # too short to fit: watch waits for more
    proc = subprocess.Popen([*CLI, "watch", str(path), "--thickness", "1mm", "--area",
                             "1cm2", "--technique", "constant_voltage", "--every", "0.2s",
                             "--idle", "1h"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=sigint_default)
    deadline = time.time() + 60
    out = ""
    while time.time() < deadline and "look   1" not in out:
        out += proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted; last state" in rest and "stop: interrupted" in rest


# -- the CLI on a replayed record ------------------------------------------------------
def test_replay_json_lines_contract(tmp_path):
    ww = _writer()
    path = tmp_path / "done.csv"
    path.write_text(ww.rows(900))
    r = _cli("watch", path, "--thickness", "1mm", "--area", "1cm2", "--technique",
             "constant_voltage", "--replay", "--every", "20min", "--json-lines",
             "--history", tmp_path / "h.jsonl")
    objs = [json.loads(s) for s in r.stdout.splitlines()]
    assert r.returncode == 1, r.stderr  # 1e-9 S/cm > 1e-10: FAIL
    assert objs[-1]["final"] and objs[-1]["outcome"] == "fail" and objs[-1]["decided"]
    # decided at a look before the end (a look of an unsettled hold cannot FAIL: the
    # decision waits for the decay to settle), at the sequential level of that look, when
    # the FAIL of the look before is repeated (--confirm 2)
    assert objs[-2]["stop"] == "decided" and 0.95 < objs[-2]["level"] < 1
    assert objs[-2]["elapsed_s"] < 8990 and objs[-2]["in_a_row"] == 2
    assert (objs[-3]["outcome"], objs[-3]["decided"]) == ("fail", False)
    assert len(WatchHistory.from_json_lines(tmp_path / "h.jsonl")) == len(objs) - 1


def test_a_record_that_ends_decides_on_its_last_look(tmp_path):
    """A FAIL first seen at the last look of a finished record decides (exit 1): no later
    look can repeat it, and the look judged the whole record, as ``check`` does. With
    --confirm 1 the first clearing look decides, earlier than the default's second."""
    path = tmp_path / "done.csv"
    path.write_text(_writer().rows(900))
    args = ("watch", path, "--thickness", "1mm", "--area", "1cm2", "--technique",
            "constant_voltage", "--replay", "--json-lines")
    r = _cli(*args, "--every", "50min")
    objs = [json.loads(s) for s in r.stdout.splitlines()]
    assert r.returncode == 1, r.stderr
    last = objs[-2]
    assert (last["stop"], last["outcome"], last["in_a_row"], last["decided"]) == (
        "end", "fail", 1, True)
    assert any("the record ended" in n for n in last["notes"])
    once = [json.loads(s) for s in _cli(*args, "--every", "20min", "--confirm", "1")
            .stdout.splitlines()]
    twice = [json.loads(s) for s in _cli(*args, "--every", "20min").stdout.splitlines()]
    assert once[-1]["decided_at_s"] < twice[-1]["decided_at_s"]


def test_a_file_with_a_header_and_no_rows_yet_is_waited_for(tmp_path):
    """An instrument that has written its header and no row yet is not bad input (exit 2,
    as it had been): watching waits for rows, and judges them when they come."""
    import threading

    path = tmp_path / "started.csv"
    text = _writer().rows(900)
    head, _, body = text.partition("\n")
    path.write_text(head + "\n")
    r = _cli("watch", path, "--thickness", "1mm", "--area", "1cm2", "--technique",
             "constant_voltage", "--every", "1s", "--idle", "2s", "--json-lines")
    final = json.loads(r.stdout.splitlines()[-1])
    assert r.returncode == 3 and final["stop"] == "idle" and final["n_looks"] == 0, r.stderr
    timer = threading.Timer(2.0, lambda: path.write_text(head + "\n" + body))
    timer.start()
    try:
        r = _cli("watch", path, "--thickness", "1mm", "--area", "1cm2", "--technique",
                 "constant_voltage", "--every", "1s", "--idle", "5s", "--json-lines")
    finally:
        timer.join()
    objs = [json.loads(s) for s in r.stdout.splitlines()]
    assert r.returncode == 1 and objs[0]["k"] == 1 and objs[-1]["outcome"] == "fail", r.stderr


def test_a_finished_file_without_a_last_line_end_is_read_whole(tmp_path, realdata):
    """EC-Lab ends its exports without a line end (the real ca.mpt does): while the file
    grows only complete lines are read, but once it has stopped growing (--idle) its last
    row is read too; it had never been."""
    from sescreen.io import read

    src = realdata / "biologic" / "ca.mpt"
    assert not src.read_bytes().endswith(b"\n")
    path = tmp_path / "ca.mpt"
    path.write_bytes(src.read_bytes())
    r = _cli("watch", path, "--thickness", "1mm", "--every", "1s", "--idle", "2s",
             "--json-lines", "--confirm", "5")
    looks = [json.loads(s) for s in r.stdout.splitlines()][:-1]
    whole = len(read(src))
    assert [o["n_points"] for o in looks] == [whole - 1, whole, whole], r.stderr
    assert looks[-1]["stop"] == "idle"


def test_watch_bad_input_is_one_line_exit_2(tmp_path):
    r = _cli("watch", tmp_path / "none.csv", "--thickness", "1mm")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "none.csv" in r.stderr
    r = _cli("watch", tmp_path / "none.csv", "--thickness", "1mm", "--precision", "200%")
    assert r.returncode == 2 and "--precision" in r.stderr


def test_ca_mpr_replayed_live(realdata):
    path = realdata / "biologic" / "ca.mpr"
    r = _cli("watch", path, "--thickness", "1mm", "--replay", "--every", "2h")
    assert r.returncode in (1, 3), r.stderr
    lines = [s for s in r.stdout.splitlines() if s.startswith("look")]
    assert lines and "sigma_e" in lines[0]
    print("\n" + r.stdout)


# -- a sample of the benchmark ---------------------------------------------------------
def test_watch_benchmark_sample_makes_no_wrong_decision():
    bench = load_benchmark("watch_holds.py")
    rows = bench.evaluate(["plain_exp2_stopped", "broad_tau_stopped"], looks=3,
                          indices=(1, 2), workers=2)
    assert not any(r["crashed"] for r in rows)
    for thr in bench.THRESHOLDS:
        assert not [r for r in rows if bench.wrong(r, thr)]
    assert any(r[f"seq_{thr:.0e}"] for r in rows for thr in bench.THRESHOLDS)
