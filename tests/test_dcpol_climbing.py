"""A current that dips below its steady state and climbs back has no upper bound while it
climbs (sescreen.dcpol.judgement.climbing).

A cell warming to its temperature, a polarization relaxing or an electronic path growing
makes the current fall, dip below I_ss and climb back with a time constant tau of its own.
An approach from below leaves tau x its slope to go, unbounded for a tau beyond the hold, so
the mirrored t^-1/2 margin of a residual rise (widening.rising_margin) put the upper bound
at 0.3-0.6x the truth on a fourth review's holds, and a watcher PASSed at its first look.
The climb is generated here as a power-law approach, a shape none of the fitted models has.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from sescreen.criteria import fit_inputs, judge_at
from sescreen.dcpol import fit_dcpol
from sescreen.io.measurement import Measurement, Technique

L_CM, V, AREA = 0.1, 0.1, 1.0


def _dip_climb(seed, *, hold_s, depth=0.5, tau_s=2e5, noise=0.005, dt_s=10.0):
    """I_ss = 150 pA (sigma_e 1.5e-10 S/cm) times 1 + 20 exp(-t/200 s) minus ``depth`` x a
    power-law approach (1 + t/tau)^-1, white noise ``noise`` x I_ss."""
    rng = np.random.default_rng(seed)
    i_ss = 1.5e-10
    t = np.arange(dt_s, hold_s + dt_s / 2, dt_s)
    i = i_ss * (1 + 20 * np.exp(-t / 200) - depth / (1 + t / tau_s))
    i = i + rng.normal(0, noise * i_ss, t.size)
    data = pd.DataFrame({"time_s": np.r_[0.0, t], "current_a": np.r_[3 * i[0], i],
                         "control_v": np.full(t.size + 1, V)})
    m = Measurement(data=data, format="synthetic", technique=Technique.CONSTANT_VOLTAGE,
                    technique_name="dip and climb", applied_voltage_v=V, area_cm2=AREA,
                    temperature_k=298.15, source="climb")
    return m, i_ss * L_CM / (V * AREA)


def _fit(m):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_dcpol(m, thickness_cm=L_CM, accuracy_a=0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_climbing_current_has_no_upper_bound(seed):
    m, truth = _dip_climb(seed, hold_s=20000.0)  # climbs 2.7 % of I_ss over the last half
    fit = _fit(m)
    assert fit.sigma_e < 0.8 * truth  # the record sits in the dip
    assert fit.sigma_e_interval[1] == math.inf and not fit.steady_state_reached
    assert any("still climbs" in w and "no upper bound" in w for w in fit.warnings)
    # 1.5e-10 S/cm fails 1e-10 S/cm (1 mA/cm^2); the dip, at 0.5-0.8x, must not PASS it
    assert judge_at(fit.sigma_e, 1.0, **fit_inputs(fit))["outcome"] == "inconclusive"


def test_a_settled_hold_keeps_its_upper_bound():
    m, truth = _dip_climb(5, hold_s=20000.0, depth=0.0)
    fit = _fit(m)
    lo, hi = fit.sigma_e_interval
    assert lo < truth < hi < 1.1 * truth
    assert not any("still climbs" in w for w in fit.warnings)
