"""Break-it review of the compiled record passes and grid projection: cases where the
compiled path and the numpy reference (``SESCREEN_PURE_PYTHON=1``) parted."""

from __future__ import annotations

import numpy as np
import pytest
from test_record_core import projections_agree

from sescreen.dcpol import core
from sescreen.dcpol.record import summarize

pytestmark = pytest.mark.skipif(not core.available(), reason="the compiled core is not built")


@pytest.mark.parametrize("lo, hi", [(np.array([np.nan, 0.0]), np.array([1.0, np.nan])),
                                    (np.array([np.nan, np.nan]), np.array([np.inf, np.inf])),
                                    (np.array([2.0, 3.0]), np.array([1.0, -1.0]))])
def test_projection_clips_as_numpy_clip(lo, hi, monkeypatch):
    """NaN bounds (start_params' on NaN bin means) give NaN amplitudes as numpy.clip gives
    them, and crossed bounds give the upper one: the compiled projection kept the
    unclipped value."""
    rng = np.random.default_rng(3)
    cols, y, w = rng.standard_normal((6, 20)), rng.standard_normal(20), np.ones(20)
    combos = np.array([[0, j] for j in range(1, 6)])
    projections_agree(cols, y, w, combos, lo, hi, monkeypatch)


def test_grid_start_on_a_nan_sample_agrees(monkeypatch):
    """One NaN current: the numpy path finds no finite grid point (None); the compiled one
    returned zero amplitudes as a start."""
    from sescreen.dcpol.grid import grid_start
    from sescreen.transients import start_params

    t = np.linspace(1.0, 1000.0, 500)
    y = 1 + 5 * np.exp(-t / 100)
    y[200] = np.nan
    got = []
    with np.errstate(all="ignore"):
        b = summarize(t, y).binned()
        for pure in ("0", "1"):
            monkeypatch.setenv("SESCREEN_PURE_PYTHON", pure)
            tpl = start_params("exp1", b.t, b.y)[0]
            got.append(grid_start("exp1", b, tpl))
    assert got[0] is None and got[1] is None


def test_summarize_where_the_limit_squared_overflows(monkeypatch):
    """Second differences ~1e154: the clipping limit is finite but its square is not, while
    every d^2 still is. The numpy path gathered no values beyond it and then failed
    (``np.concatenate([])``); both paths must give the same noise."""
    rng = np.random.default_rng(0)
    t, y = np.arange(1.0, 11.0), rng.standard_normal(10) * 3e153
    out = []
    with np.errstate(all="ignore"):
        for pure in ("0", "1"):
            monkeypatch.setenv("SESCREEN_PURE_PYTHON", pure)
            out.append(summarize(t, y))
    assert out[0].noise_sd == pytest.approx(out[1].noise_sd, rel=1e-9)
    assert np.array_equal(out[0].suspects, out[1].suspects)
