"""A converter or export coarser than the steady current (sescreen.dcpol.estimate).

When the resolution step is several times I_ss the late readings round to 0 (with a
little noise, to 0 and one step): the tail's cell means have a median of exactly 0. The
fit took that median as its unit (1e-300 A), overflowed, and refused a settled hold as
"too short or too noisy", with numpy's RuntimeWarnings leaking through the API. Such a
hold supports an upper bound of about half a step; it is settled, and saying "not at
steady state" would send the user to hold longer for nothing.

The decay is a sum of a fast exponential and a slower power-law relaxation (a shape
none of the candidates has), rounded to the step, with Student-t noise of a fraction of
a step.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from sescreen.dcpol import fit_dcpol
from sescreen.io.measurement import Measurement, Technique

L_CM = 0.1
V = 0.1
I_SS = 1e-10  # A, with area 1 cm^2: sigma_e = I_SS L / V = 1e-10 S/cm


def _hold(step_over_iss: float, noise_over_step: float, seed: int) -> Measurement:
    rng = np.random.default_rng(seed)
    t = np.geomspace(1.0, 2e4, 4000)
    truth = I_SS + 5e-9 * np.exp(-t / 300.0) + 2e-10 * (1 + t / 50.0) ** -1.5
    q = step_over_iss * I_SS
    noisy = truth + noise_over_step * q * rng.standard_t(5, t.size)
    df = pd.DataFrame({"time_s": t, "current_a": np.round(noisy / q) * q, "voltage_v": V})
    return Measurement(df, "csv", technique=Technique.CONSTANT_VOLTAGE, applied_voltage_v=V,
                       area_cm2=1.0)


@pytest.mark.parametrize(("step", "noise", "seed"),
                         [(5, 0.0, 1), (10, 0.0, 2), (10, 0.1, 3), (20, 0.05, 4), (8, 0.3, 5)])
def test_a_step_coarser_than_the_current_is_fitted_and_covered(step, noise, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        r = fit_dcpol(_hold(step, noise, seed), thickness_cm=L_CM)
    lo, hi = r.sigma_e_interval
    assert r.upper_bound_only and lo == 0.0
    assert hi >= 1e-10  # covers the truth
    if noise > 0:  # dithered: about half a step and the rounding's error, not open
        assert hi <= 2 * step * 1e-10


@pytest.mark.parametrize(("step", "noise", "seed"), [(10, 0.1, 3), (8, 0.3, 5)])
def test_a_settled_hold_below_the_resolution_is_at_steady_state(step, noise, seed):
    r = fit_dcpol(_hold(step, noise, seed), thickness_cm=L_CM)
    assert r.steady_state_reached
    assert any("reaches 0" in w for w in r.warnings)
    assert "at steady state" in r.summary()["statement"]
