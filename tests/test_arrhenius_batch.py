"""fit_arrhenius_many: the numbers, warnings and refusals of fit_arrhenius, for many
materials in one call."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sescreen.arrhenius import fit_arrhenius
from sescreen.arrhenius_batch import fit_arrhenius_many
from sescreen.constants import BOLTZMANN_EV
from sescreen.errors import InputError

_NUMBERS = ("ea_ev", "ea_stderr", "ln_prefactor", "ln_prefactor_stderr", "chi2_red",
            "residual_var", "excess_scatter_ln")


def _material(rng, n, stated, *, scatter=0.1, outlier=False, grid=False):
    """Points of one material (K, S/cm, S/cm or None): a line, scatter, maybe an outlier;
    ``grid``: temperatures 3 K apart or more (no repeats to merge)."""
    t = np.sort(rng.choice(np.arange(250.0, 451.0, 3.0), n, replace=False) if grid
                else rng.uniform(250.0, 450.0, n))
    sigma = 50.0 * np.exp(-rng.uniform(0.2, 0.9) / (BOLTZMANN_EV * t)
                          + rng.normal(0, scatter, n))
    if outlier:
        sigma[rng.integers(n)] *= 30.0
    return t, sigma, (rng.uniform(0.01, 0.2, n) * sigma if stated else None)


def _numbers_in(texts):
    return [float(v) for v in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", " ".join(texts))]


def _assert_same(one, batch_fit):
    for name in _NUMBERS:
        a, b = getattr(one, name), getattr(batch_fit, name)
        assert (math.isnan(a) and math.isnan(b)) or b == pytest.approx(a, rel=1e-7, abs=1e-9), \
            name
    assert batch_fit.ea_interval == pytest.approx(one.ea_interval, rel=1e-7)
    assert np.allclose(batch_fit.covariance, one.covariance, rtol=1e-7, atol=1e-12)
    assert batch_fit.dof_t == one.dof_t and batch_fit.outliers == one.outliers
    if one.curvature_p is None:
        assert batch_fit.curvature_p is None
    else:
        assert batch_fit.curvature_p == pytest.approx(one.curvature_p, rel=1e-6, abs=1e-9)
    # the same warnings; a studentized residual far beyond 3 in them may differ by up to a
    # percent (328.1 vs 326.9 at n = 4): with one point dominating, chi2 - r^2 and
    # 1 - leverage cancel, and the scalar fit's uncentred normal equations round more
    assert [re.sub(r"[\d.]+", "#", w) for w in batch_fit.warnings] == \
        [re.sub(r"[\d.]+", "#", w) for w in one.warnings]
    assert _numbers_in(batch_fit.warnings) == pytest.approx(_numbers_in(one.warnings),
                                                            rel=2e-2, abs=0.11)
    ex1, ex2 = one.sigma_at(298.15), batch_fit.sigma_at(298.15)
    assert (ex2.sigma, *ex2.ci, *ex2.pi) == pytest.approx((ex1.sigma, *ex1.ci, *ex1.pi),
                                                          rel=1e-7)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1),
       st.lists(st.tuples(st.integers(2, 12), st.booleans(), st.sampled_from([0.01, 0.1, 0.5]),
                          st.booleans()), min_size=1, max_size=8),
       st.sampled_from(["sigma", "sigmaT"]))
def test_batch_equals_fit_arrhenius_per_material(seed, shapes, convention):
    """Random n = 2..12 temperatures, with and without stated errors, scatter below and
    above them, outliers, repeated temperatures (n = 2 and one temperature are refused)."""
    rng = np.random.default_rng(seed)
    mats = [_material(rng, n, stated, scatter=sd, outlier=out)
            for n, stated, sd, out in shapes]
    for i in rng.integers(0, len(mats), 2):  # some repeated temperatures, even all
        t = mats[i][0]
        t[: rng.integers(1, t.size + 1)] = t[0]
    names = [f"M{i}" for i in range(len(mats))]
    batch = fit_arrhenius_many([m[0] for m in mats], [m[1] for m in mats],
                               [m[2] for m in mats], convention=convention, materials=names)
    at = batch.sigma_at(298.15)
    for i, (t, s, e) in enumerate(mats):
        try:
            one = fit_arrhenius(t, s, e, convention=convention, material=names[i])
        except InputError as exc:
            assert batch.errors[i] == str(exc)
            assert math.isnan(batch.ea_ev[i])
            with pytest.raises(InputError, match="at least 3 different"):
                batch.fit(i)
            continue
        assert batch.errors[i] is None
        _assert_same(one, batch.fit(i))
        ex = one.sigma_at(298.15)
        assert (at["sigma"][i], at["ci_lo"][i], at["ci_hi"][i], at["pi_lo"][i],
                at["pi_hi"][i]) == pytest.approx((ex.sigma, *ex.ci, *ex.pi), rel=1e-7)


@pytest.mark.parametrize(("t", "s", "e"), [
    ([300.0, 350.0], [1e-3, 2e-3], None),                          # n = 2
    ([300.0, 300.0, 300.0], [1e-3, 2e-3, 3e-3], None),             # one temperature
    ([300.0, 350.0, 400.0], [1e-3, -2e-3, 3e-3], None),            # sigma <= 0
    ([300.0, 350.0, np.nan], [1e-3, 2e-3, 3e-3], None),            # a blank temperature
    ([30.0, 50.0, 70.0], [1e-3, 2e-3, 3e-3], None),                # degrees Celsius
    ([300.0, 350.0, 400.0], [1e-3, 2e-3, 3e-3], [1e-4, 0.0, 1e-4]),  # a zero error
    ([300.0, 350.0, 400.0], [1e-3, 2e-3], None),                   # lengths differ
])
def test_refusals_are_fit_arrhenius_messages(t, s, e):
    with pytest.raises(InputError) as one:
        fit_arrhenius(t, s, e, material="X")
    good = _material(np.random.default_rng(3), 5, True)
    batch = fit_arrhenius_many([good[0], t], [good[1], s], [good[2], e], materials=["G", "X"])
    assert batch.errors == (None, str(one.value))
    _assert_same(fit_arrhenius(*good, material="G"), batch.fit(0))


def test_ten_thousand_materials_in_one_call():
    # (its speed is measured by tests/benchmarks/test_cli_speed.py, not timed here: a
    # timed test fails on a busy machine)
    rng = np.random.default_rng(7)
    # temperatures 3 K apart: uniform ones put two within 2 K (one set-point, merged one
    # material at a time) in 40 % of the materials
    mats = [_material(rng, int(rng.integers(3, 13)), bool(i % 2), grid=True)
            for i in range(10_000)]
    batch = fit_arrhenius_many(*zip(*mats, strict=True))
    at = batch.sigma_at(298.15)
    assert all(e is None for e in batch.errors)
    assert all(np.isfinite(v).all() for v in at.values())
    for i in (0, 4321, 9999):  # each material as if fitted alone
        _assert_same(fit_arrhenius(*mats[i]), batch.fit(i))


def test_no_materials():
    batch = fit_arrhenius_many([], [], [])
    assert len(batch) == 0 and batch.sigma_at(298.15)["sigma"].shape == (0,)
