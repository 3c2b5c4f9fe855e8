"""``watch`` on a record that holds several steps (a voltage series or a re-applied step
written to one file, EC-Lab's sequence of CA steps): each look judges the hold still
running, with a note, instead of refusing the record.

A review (dcregimes) found that once the second step had started, fit_dcpol refused the
record ("the record holds 2 separate holds ... --segment N chooses one") at every look,
so the watcher never judged the running hold, and ``watch`` has no ``--segment``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sescreen.io.measurement import Measurement, Technique
from sescreen.sequential import HoldWatcher


def _two_holds(v1=0.05, v2=0.2, sigma=3e-9, seed=0):
    """Two settled holds of one cell (sigma_e = 3e-9 S/cm, far above 1e-10: a FAIL at
    either), 6 h each, one file; the set-point column shows the step."""
    rng = np.random.default_rng(seed)
    t1 = np.arange(10.0, 6 * 3600, 10.0)
    i_ss1, i_ss2 = sigma * v1 / 0.1, sigma * v2 / 0.1
    i1 = i_ss1 * (1 + 20 * np.exp(-t1 / 120) + 3 * np.exp(-t1 / 900))
    i2 = i_ss2 + (i_ss2 - i_ss1) * (20 * np.exp(-t1 / 120) + 3 * np.exp(-t1 / 900))
    t = np.r_[t1, t1 + t1[-1]]
    i = np.r_[i1, i2] * (1 + 0.003 * rng.standard_normal(t.size))
    control = np.r_[np.full(t1.size, v1), np.full(t1.size, v2)]
    data = pd.DataFrame({"time_s": t, "current_a": i, "control_v": control})
    # as read() gives it: the record's set-point is its first hold's
    return Measurement(data=data, format="synthetic", technique=Technique.CONSTANT_VOLTAGE,
                       technique_name="test", applied_voltage_v=v1, area_cm2=1.0,
                       source="two holds")


def test_a_look_after_the_second_step_judges_the_running_hold():
    m = _two_holds()
    w = HoldWatcher(thickness_cm=0.1, confirm=1)  # one look decides: which hold it judges
    look = w.look(m)
    assert look.outcome == "fail" and look.decided
    lo, hi = look.sigma_e_interval
    assert lo < 3e-9 < hi
    assert any("the running one (hold 1 at 0.2 V" in n for n in look.notes)
    assert w.last_fit.voltage_v == 0.2


def test_a_look_before_the_second_step_has_enough_points_judges_the_first():
    m = _two_holds()
    n1 = int((m.data["control_v"] == 0.05).sum())
    part = m.data.iloc[: n1 + 5].reset_index(drop=True)  # 5 points of the second step
    w = HoldWatcher(thickness_cm=0.1, confirm=1)  # one look decides: which hold it judges
    import dataclasses

    look = w.look(dataclasses.replace(m, data=part))
    assert look.decided and w.last_fit.voltage_v == 0.05
    assert not any("running one" in n for n in look.notes)
