"""The charge line from a current-density log with missing samples, out of order, or ending
before the series (review ndp3): one NaN had made every later Q/e NaN and skipped the
charge comparison silently; unordered times made np.interp return garbage; a log ending
early held Q/e constant, understating the charge."""

from __future__ import annotations

import numpy as np
import pytest
from test_ndp_boundary import CAL, STD, TIMES, _profile, _smeared_series

from sescreen.constants import ELEMENTARY_CHARGE
from sescreen.ndp import analyse

HOST = ("Li6.4La3Zr1.4Ta0.6O12", 5.1)
J = 0.1  # mA/cm^2


@pytest.fixture(scope="module")
def series():
    return _smeared_series(_profile("uniform", 1.0), fwhm_kev=18.0, seed=31)


def _q_last():
    return J * 1e-3 * TIMES[-1] / ELEMENTARY_CHARGE  # Q/e of a constant current, atoms/cm^2


def test_nan_samples_are_dropped_not_propagated(series):
    tl = np.arange(0.0, TIMES[-1] + 60, 10.0)
    jl = np.full(tl.size, J)
    jl[50:60] = np.nan
    a = analyse(series, CAL, standard=STD, host=HOST, current_log=(tl, jl))
    assert a.charge_atoms[-1] == pytest.approx(_q_last(), rel=1e-6)
    assert any("not numbers" in w for w in a.warnings)
    assert a.summary()["expected_fraction_of_charge"] is not None  # the comparison is made


def test_unordered_log_is_sorted(series):
    tl = np.arange(0.0, TIMES[-1] + 60, 10.0)
    rng = np.random.default_rng(0)
    order = rng.permutation(tl.size)
    order = order[order != 0]  # the log's first sample stays its start
    order = np.r_[0, order]
    a = analyse(series, CAL, standard=STD, host=HOST,
                current_log=(tl[order], np.full(tl.size, J)))
    assert a.charge_atoms[-1] == pytest.approx(_q_last(), rel=1e-6)


def test_log_ending_before_the_series_is_not_extrapolated(series):
    tl = np.arange(0.0, 1000.0, 10.0)
    a = analyse(series, CAL, standard=STD, host=HOST, current_log=(tl, np.full(tl.size, J)))
    assert np.isnan(a.charge_atoms[-1])
    assert np.all(np.isfinite(a.charge_atoms[TIMES <= tl[-1]]))
    assert any("ends" in w and "charge comparison is not made" in w for w in a.warnings)


def test_long_gap_is_flagged(series):
    tl = np.r_[np.arange(0.0, 2000.0, 10.0), np.arange(5000.0, TIMES[-1] + 60, 10.0)]
    a = analyse(series, CAL, standard=STD, host=HOST, current_log=(tl, np.full(tl.size, J)))
    assert a.charge_atoms[-1] == pytest.approx(_q_last(), rel=1e-6)
    assert any("gap" in w for w in a.warnings)


def test_last_frame_as_reference_is_refused(series):
    """It gave a ZeroDivisionError in summary() (t0 = 0)."""
    from sescreen.errors import InputError

    with pytest.raises(InputError, match="last frame"):
        analyse(series, CAL, standard=STD, reference_frame=series.n_frames - 1)
