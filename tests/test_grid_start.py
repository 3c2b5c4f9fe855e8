"""Grid starts of the transient fits (:mod:`sescreen.dcpol.grid`): near the truth where the
old guesses were far, always feasible, and never a worse first fit than the guesses."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sescreen.dcpol.candidates import fit_model, minimize
from sescreen.dcpol.grid import GRID_MODELS, grid_start
from sescreen.dcpol.noise import white_noise_model
from sescreen.dcpol.record import summarize
from sescreen.transients import start_params


def _bins(t, y):
    stats = summarize(t, y)
    return stats.binned()


def _spike_and_slow(rng, n=20000):
    """A charging spike (tau 0.8 s, 10^4 x I_ss) on a slow diffusion-like tail (a sum of
    t^-1/2-weighted exponentials: not one of the fitted models), white noise 0.5 %."""
    t = np.linspace(1.0, 2.0e4, n)
    taus = np.geomspace(200.0, 6000.0, 12)
    slow = (taus ** -0.5 / np.sum(taus ** -0.5) * 3.0) @ np.exp(-t[None, :] / taus[:, None])
    y = 1.0 + 1.0e4 * np.exp(-t / 0.8) + slow
    return t, y + rng.normal(0.0, 0.005, n)


def test_grid_finds_a_spike_and_a_slow_mode_far_apart():
    """exp2 on a spike plus a broad slow tail: the grid puts one time constant on each
    (within half a decade of where the fit ends)."""
    t, y = _spike_and_slow(np.random.default_rng(3))
    b = _bins(t, y)
    white = white_noise_model(b)
    start = grid_start("exp2", b, start_params("exp2", b.t, b.y)[0])
    fit = fit_model("exp2", b, white)
    tau1, tau2 = fit.values["tau1"], fit.values["tau2"]
    assert tau1 < 5.0 < 100.0 < tau2
    assert abs(math.log10(start["tau1"].value / tau1)) < 0.5
    assert abs(math.log10(start["tau1"].value * start["r2"].value / tau2)) < 0.5


@pytest.mark.parametrize("name", sorted(GRID_MODELS))
def test_first_fit_is_never_worse_than_the_guesses(name):
    """The first pass keeps the better of the grid start and the first guess."""
    t, y = _spike_and_slow(np.random.default_rng(11))
    b = _bins(t, y)
    white = white_noise_model(b)
    guess = minimize(name, b, white, start_params(name, b.t, b.y)[0], max_nfev=300)
    fit = fit_model(name, b, white, max_nfev=300)
    assert fit is not None
    assert guess is None or fit.chisqr <= guess.chisqr * (1 + 1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), shape=st.sampled_from(["flat", "rising", "noise",
                                                              "negative", "step"]),
       name=st.sampled_from(sorted(GRID_MODELS)))
def test_grid_start_is_feasible_on_any_record(seed, shape, name):
    """Flat, rising, pure-noise, sign-flipped or stepped records: the start is finite and
    inside every bound (a fit can begin from it), or there is none; a fit from it runs."""
    rng = np.random.default_rng(seed)
    t = np.geomspace(0.5, 10 ** rng.uniform(2, 6), 3000)
    base = {"flat": np.ones_like(t), "rising": 1.0 + t / t[-1],
            "noise": rng.normal(0.0, 1.0, t.size), "negative": -1.0 - np.exp(-t / t[-1]),
            "step": np.where(t > t[-1] / 2, 2.0, 1.0)}[shape]
    y = base + rng.normal(0.0, 0.01, t.size)
    b = _bins(t, y)
    template = start_params(name, b.t, b.y)[0]
    start = grid_start(name, b, template)
    if start is None:
        return
    assert list(start) == list(template)
    for n, p in start.items():
        assert (p.vary, p.expr) == (template[n].vary, template[n].expr), n
        if p.expr is not None:  # a product of others, computed by the fit
            continue
        assert math.isfinite(p.value), n
        assert p.min <= p.value <= p.max, n
    assert minimize(name, b, white_noise_model(b), start, max_nfev=50) is not None
