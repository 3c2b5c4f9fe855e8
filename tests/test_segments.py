"""Measurement.segments(): steps by the programmed set-point, a sweep is one segment, and
linear time (issue 12: 34,000 'segments' in 8.6 s for one 57,000-point CV)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from sescreen.io import Measurement, Technique, read


def _cv(n_cycles: int = 5, points: int = 20_000, staircase: int = 1) -> pd.DataFrame:
    """A triangle sweep 0 -> 1 V -> 0, ``points`` per cycle, each level held ``staircase``
    samples."""
    half = points // 2
    up = np.repeat(np.linspace(0, 1, half // staircase), staircase)
    wave = np.tile(np.r_[up, up[::-1]], n_cycles)
    t = np.arange(len(wave)) * 0.01
    return pd.DataFrame({"time_s": t, "current_a": 1e-6 * np.gradient(wave),
                         "control_v": wave})


def test_sweep_is_one_segment_per_direction():
    m = Measurement(data=_cv(2, 2000), format="table", technique=Technique.SWEEP)
    assert len(m.segment_bounds()) <= 4  # up, down, up, down
    stair = Measurement(data=_cv(2, 2000, staircase=10), format="table",
                        technique=Technique.SWEEP)
    assert len(stair.segment_bounds()) <= 4


def test_holds_remain_segments():
    v = np.repeat([0.05, 0.1, 0.2], 100)
    df = pd.DataFrame({"time_s": np.arange(300.0), "current_a": np.full(300, 1e-9),
                       "control_v": v})
    m = Measurement(data=df, format="table", technique=Technique.CONSTANT_VOLTAGE)
    assert [len(s) for s in m.segments()] == [100, 100, 100]
    assert [s.applied_voltage_v for s in m.segments()] == [0.05, 0.1, 0.2]


def test_ramp_then_hold_splits_at_the_hold():
    v = np.r_[np.linspace(0, 0.5, 50), np.full(500, 0.5)]
    df = pd.DataFrame({"time_s": np.arange(550.0), "current_a": np.full(550, 1e-9),
                       "control_v": v})
    bounds = Measurement(data=df, format="table").segment_bounds()
    assert bounds[-1][1] - bounds[-1][0] >= 500 and len(bounds) <= 3


def test_inspect_of_a_large_cv_is_fast(tmp_path):
    df = _cv(5, 20_000)  # 10^5 points
    path = tmp_path / "cv.csv"
    df.rename(columns={"time_s": "time/s", "current_a": "I/A", "control_v": "control/V"}
              ).to_csv(path, index=False)
    t0 = time.perf_counter()
    m = read(path, technique="cv")
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    summary = m.summary()
    segs = m.segments()
    t_inspect = time.perf_counter() - t0
    assert summary["n_segments"] == len(segs) <= 10
    assert t_inspect < 0.5 and t_inspect < 2 * t_read, (t_inspect, t_read)


def test_each_hold_of_a_table_keeps_its_own_set_point(tmp_path):
    """A table with a control column and two holds (0.1 V, then 0.2 V) and no stated
    voltage: the record's voltage is the first hold's set-point, each segment its own (the
    median of the whole column, 0.15 V, was given to both: sigma_e off by a third)."""
    from sescreen.dcpol import holds
    from sescreen.io import read

    rows = ["# technique: CA", "time/s\tI/A\tcontrol/V"]
    rows += [f"{k * 5.0}\t{1e-9 * (1 + k // 100)}\t{0.1 if k < 100 else 0.2}"
             for k in range(200)]
    f = tmp_path / "two.tsv"
    f.write_text("\n".join(rows) + "\n")
    m = read(f)
    assert m.applied_voltage_v == pytest.approx(0.1)
    assert [h.applied_voltage_v for h in holds(m)] == pytest.approx([0.1, 0.2])
