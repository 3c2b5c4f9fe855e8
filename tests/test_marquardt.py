"""Levenberg-Marquardt with box bounds (sescreen.dcpol.marquardt) against known answers:
linear least squares (exact), a curved valley (Rosenbrock), optima outside the box (on the
bound, the gradient pointing out), non-finite trial points."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sescreen.dcpol.marquardt import marquardt


def _jac_of(fun, h=1e-7):
    def jac(x, f0):
        cols = []
        for k in range(x.size):
            xk = x.copy()
            step = h * max(1.0, abs(x[k]))
            xk[k] += step
            cols.append((fun(xk) - f0) / step)
        return np.column_stack(cols)
    return jac


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6))
def test_linear_least_squares_is_solved(seed, n):
    """A linear problem (random design, conditioning up to 1e4): the lstsq solution, to
    the cost's tolerance and to a small fraction of each parameter's standard error (the
    relative error of a parameter is not what the stopping rule bounds: seed 263 stopped
    1.2e-5 away, 1e-7 of its standard error)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(40, n)) * np.logspace(0, 4, n)
    y = rng.normal(size=40)
    exact = np.linalg.lstsq(a, y, rcond=None)[0]

    def fun(x):
        return a @ x - y

    res = marquardt(fun, lambda x, f: a, np.zeros(n), np.full(n, -np.inf), np.full(n, np.inf))
    assert res.success
    best = float(fun(exact) @ fun(exact))
    assert float(res.f @ res.f) <= best * (1 + 1e-7)
    se = np.sqrt(np.diag(np.linalg.inv(a.T @ a)) * best / max(40 - n, 1))
    assert np.all(np.abs(res.x - exact) <= 1e-4 * se)
    np.testing.assert_allclose(res.f, fun(res.x))


def test_rosenbrock_valley():
    def fun(x):
        return np.array([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]])

    res = marquardt(fun, _jac_of(fun), [-1.2, 1.0], [-np.inf] * 2, [np.inf] * 2)
    assert res.success
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)


@pytest.mark.parametrize("target", [-2.0, 5.0])
def test_optimum_outside_the_box_ends_on_the_bound(target):
    """min (x - target)^2 + (y - 1)^2 with 0 <= x <= 3: x on the nearer bound, y free."""
    def fun(x):
        return np.array([x[0] - target, x[1] - 1.0])

    res = marquardt(fun, lambda x, f: np.eye(2), [1.0, 0.0], [0.0, -np.inf], [3.0, np.inf])
    assert res.success
    assert res.x[0] == (0.0 if target < 0 else 3.0)
    assert res.x[1] == pytest.approx(1.0, abs=1e-9)


def test_non_finite_trial_points_are_rejected_not_fatal():
    """The residual is NaN beyond x = 2 (a model outside its domain); the optimum at 1.9
    lies close to it and the first steps (from a Jacobian three times too small, as a
    finite difference across a kink can give) overshoot into the NaN region."""
    def fun(x):
        if x[0] > 2.0:
            return np.array([np.nan])
        return np.array([x[0] - 1.9]) * 10.0

    res = marquardt(fun, lambda x, f: np.array([[3.0]]), [0.0], [-np.inf], [np.inf])
    assert res.success and res.x[0] == pytest.approx(1.9, abs=1e-8)


def test_non_finite_start_is_an_error():
    with pytest.raises(ValueError, match="not finite"):
        marquardt(lambda x: np.array([np.inf]), lambda x, f: np.ones((1, 1)), [0.0],
                  [-np.inf], [np.inf])


def test_crossed_bounds_are_refused():
    with pytest.raises(ValueError, match="lower bound exceeds"):
        marquardt(lambda x: x, lambda x, f: np.eye(1), [0.0], [1.0], [0.0])
