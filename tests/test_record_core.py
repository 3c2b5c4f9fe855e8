"""The one pass over the raw samples, compiled (``sescreen.dcpol.core``) against the
Python reference path (``SESCREEN_PURE_PYTHON=1``): every statistic of
:func:`~sescreen.dcpol.record.summarize` agrees to rounding on records of any length
and shape (smooth, noisy, a staircase, glitches, a few samples), and the core refuses
boundaries it cannot use."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sescreen.dcpol import core
from sescreen.dcpol.record import summarize

pytestmark = pytest.mark.skipif(not core.available(), reason="the compiled core is not built")

_FIELDS = ("cell_sum", "cell_time", "cell_n", "bin_n", "bin_t", "bin_y", "bin_d2", "bin_nd",
           "bin_first", "suspects")


def _both(t, y, monkeypatch):
    out = []
    for pure in ("0", "1"):
        monkeypatch.setenv("SESCREEN_PURE_PYTHON", pure)
        out.append(summarize(t, y))
    return out


def _agree(c, p):
    for f in _FIELDS:
        a, b = np.asarray(getattr(c, f)), np.asarray(getattr(p, f))
        assert a.shape == b.shape, f
        scale = max(float(np.max(np.abs(b))) if b.size else 0.0, 1e-300)
        assert np.allclose(a, b, rtol=1e-10, atol=1e-12 * scale), f
    assert c.noise_sd == pytest.approx(p.noise_sd, rel=1e-9, abs=1e-300)
    assert c.quantum == pytest.approx(p.quantum, rel=1e-12, abs=0.0)
    assert c.group == p.group


def _record(kind: str, n: int, rng):
    t = np.cumsum(rng.uniform(0.5, 1.5, n))
    y = 1e-9 * (1 + 5 * np.exp(-t / (0.1 * t[-1])))
    if kind == "noisy":
        y = y + 1e-11 * rng.standard_normal(n)
    elif kind == "staircase":
        y = np.round((y + 1e-11 * rng.standard_normal(n)) / 2e-11) * 2e-11
    elif kind == "glitches":
        y = y + 1e-11 * rng.standard_normal(n)
        y[rng.integers(0, n, max(1, n // 500))] = 0.0
    return t, y


@pytest.mark.parametrize("kind", ["smooth", "noisy", "staircase", "glitches"])
@pytest.mark.parametrize("n", [5, 37, 4_000, 70_000, 300_001])
def test_summarize_agrees(kind, n, monkeypatch):
    t, y = _record(kind, n, np.random.default_rng(n))
    _agree(*_both(t, y, monkeypatch))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(4, 3000), seed=st.integers(0, 2**31), spread=st.floats(1e-6, 10.0))
def test_summarize_agrees_on_random_records(n, seed, spread):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(1.0, n)) + 1e-3
    y = rng.standard_normal(n) * spread + rng.choice([0.0, 1e3])
    with pytest.MonkeyPatch.context() as mp:
        _agree(*_both(t, y, mp))


def test_core_refuses_boundaries_it_cannot_use():
    x = np.arange(10.0)
    with pytest.raises(ValueError, match="increase"):
        core.segment_sums(x, np.array([0, 5, 5]), np.array([0]))
    with pytest.raises(ValueError, match="increase"):
        core.segment_sums(x, np.array([0, 10]), np.array([0]))
    with pytest.raises(ValueError, match="sorted"):
        core.second_difference_sums(x, np.array([0, 2]), np.array([3, 5]), 1.0)
    with pytest.raises(ValueError, match="sorted"):
        core.second_difference_sums(x, np.array([0]), np.array([9]), 1.0)
    total, in_bin, far = core.second_difference_sums(x ** 2, np.array([0, 4]),
                                                     np.array([3, 8]), 3.0)
    assert total == pytest.approx(8 * 4.0) and list(in_bin) == [12.0, 16.0]
    assert far.size == 8  # every d = 2, d^2 = 4 > 3


@pytest.mark.parametrize("seed", range(4))
def test_grid_starts_agree(seed, monkeypatch):
    """The grid's variable projection compiled picks the same grid point with the same
    amplitudes for every model with a grid."""
    from sescreen.dcpol.grid import GRID_MODELS, grid_start
    from sescreen.transients import start_params

    t, y = _record(("smooth", "noisy", "staircase", "glitches")[seed], 20_000,
                   np.random.default_rng(seed))
    b = summarize(t, y / 1e-9).binned()
    for name in sorted(GRID_MODELS):
        template = start_params(name, b.t, b.y)[0]
        got = []
        for pure in ("0", "1"):
            monkeypatch.setenv("SESCREEN_PURE_PYTHON", pure)
            got.append(grid_start(name, b, template).valuesdict())
        for key, value in got[1].items():
            assert got[0][key] == pytest.approx(value, rel=1e-9, abs=1e-12), (name, key)


@pytest.mark.parametrize("case", ["plain", "inf_column", "nan_columns", "inf_data",
                                  "zero_column", "unbounded_duplicates"])
def test_projection_agrees_on_hostile_columns(case, monkeypatch):
    """Infinite or NaN basis columns, infinite data, a zero column, duplicated columns
    without bounds: the compiled projection picks what numpy's does (all-infinite
    chi-squares included: the first combination)."""
    rng = np.random.default_rng(1)
    cols, y, w = rng.standard_normal((20, 30)), rng.standard_normal(30), np.ones(30)
    combos = np.array([[0, j] for j in range(1, 20)] + [[0, 1]])
    lo, hi = np.array([0.0, 0.0]), np.array([np.inf, 5.0])
    if case == "inf_column":
        cols[3] = np.inf
    elif case == "nan_columns":
        cols[:] = np.nan
    elif case == "inf_data":
        y[:] = np.inf
    elif case == "zero_column":
        cols[5] = 0.0
    elif case == "unbounded_duplicates":
        lo, hi = np.full(2, -np.inf), np.full(2, np.inf)
        cols[2] = cols[1]
    projections_agree(cols, y, w, combos, lo, hi, monkeypatch)


def projections_agree(cols, y, w, combos, lo, hi, monkeypatch):
    """The compiled and the numpy variable projection pick the same grid point with the
    same amplitudes."""
    from sescreen.dcpol.grid import _project

    out = []
    with np.errstate(all="ignore"):
        for pure in ("0", "1"):
            monkeypatch.setenv("SESCREEN_PURE_PYTHON", pure)
            out.append(_project(cols, y, w, combos, lo, hi))
    (c_best, c_coef), (p_best, p_coef) = out
    assert c_best == p_best
    assert np.allclose(c_coef, p_coef, rtol=1e-9, equal_nan=True)


@pytest.mark.parametrize("kind", ["nan", "inf", "huge", "constant", "duplicated_times"])
def test_summarize_agrees_on_hostile_records(kind, monkeypatch):
    rng = np.random.default_rng(7)
    t = np.cumsum(rng.uniform(0.5, 1.5, 5000))
    y = 1e-9 * (1 + np.exp(-t / 500)) + 1e-12 * rng.standard_normal(t.size)
    if kind == "nan":
        y[100] = np.nan
    elif kind == "inf":
        y[100] = np.inf
    elif kind == "huge":
        y = y * 1e300
    elif kind == "constant":
        y[:] = 1e-9
    else:
        t = np.repeat(t[::2], 2)
    c, p = _both(t, y, monkeypatch)
    assert np.allclose(c.bin_y, p.bin_y, rtol=1e-10, equal_nan=True)
    assert np.allclose(c.cell_sum, p.cell_sum, rtol=1e-10, equal_nan=True)
    assert (c.noise_sd == pytest.approx(p.noise_sd, rel=1e-9)
            or (np.isnan(c.noise_sd) and np.isnan(p.noise_sd)))
