"""A current range that overloads clips the readings at its full scale
(sescreen.dcpol.analysis._check_clipped).

A settled hold whose noise reaches past the range's full scale reads full scale instead:
the upper tail of the noise is cut off and every mean, fit and tail level lies below the
current the cell carries. An independent review (its own generator: settled exp2 holds,
noise 5-20 % of I_ss, clipped at I_ss + 0-1 noise sd) found the 95 % interval covering the
truth in 12 of 40 holds and a PASS at 1.01x the threshold; such a hold is refused now,
while a staircase (whose every level repeats) and a charging spike that overloads the
range at the start of the hold are not."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from sescreen.dcpol import fit_dcpol
from sescreen.errors import FitError
from sescreen.io.measurement import Measurement, Technique

L_CM, V, AREA, THR = 0.1, 0.1, 1.0, 1e-10


def _hold(t, i):
    data = pd.DataFrame({"time_s": t, "current_a": i, "control_v": np.full(t.size, V)})
    return Measurement(data=data, format="synthetic", technique=Technique.CONSTANT_VOLTAGE,
                       technique_name="clipped hold", applied_voltage_v=V, area_cm2=AREA,
                       temperature_k=298.15, source="clipped")


def _settled(seed, n=3000, noise=0.12):
    """A settled exp2 hold of 10 h at 1.02x the 1 mA/cm^2 threshold, white noise ``noise``
    x I_ss: (t, current before any clipping, I_ss)."""
    rng = np.random.default_rng(seed)
    i_ss = 1.02 * THR * V * AREA / L_CM
    t_hold = 36000.0
    t = np.linspace(t_hold / n, t_hold, n)
    i = i_ss * (1 + 300 * np.exp(-t / 100) + 10 * np.exp(-t / 1500))
    i = i + rng.normal(0, noise * i_ss, n)
    return np.r_[0.0, t], np.r_[3 * i[0], i], i_ss


def _fit(t, i):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_dcpol(_hold(t, i), thickness_cm=L_CM, accuracy_a=0.0)


def test_a_clipped_settled_hold_is_refused_not_passed():
    t, i, i_ss = _settled(8)
    clipped = np.minimum(i, i_ss * 1.036)  # full scale 0.3 noise sd above I_ss
    with pytest.raises(FitError, match="overloaded and clipped") as err:
        _fit(t, clipped)
    assert "clipped" in str(err.value) and "t = " in str(err.value)
    # unclipped, the same hold's interval covers the truth
    lo, hi = _fit(t, i).sigma_e_interval
    assert lo <= 1.02 * THR <= hi


def test_an_overload_at_the_start_and_a_staircase_are_not_clipping():
    t, i, i_ss = _settled(3, noise=0.02)
    # the charging transient overloads a 10x I_ss range in its first minutes only
    early = np.minimum(i, 10 * i_ss)
    assert (early == 10 * i_ss).sum() > 10
    lo, hi = _fit(t, early).sigma_e_interval
    assert lo <= 1.02 * THR <= hi
    # a staircase of 0.05 I_ss steps: its top level repeats like every other
    step = 0.05 * i_ss
    stairs = np.round(i / step) * step
    lo, hi = _fit(t, stairs).sigma_e_interval
    assert lo <= 1.02 * THR <= hi
