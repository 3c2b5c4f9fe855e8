"""The compiled core of the transient fits against the Python reference path.

The two differ by rounding only (the C library's exp and pow against numpy's, LU against
LAPACK's): a forward-difference Jacobian turns a last-digit difference of the residual into
~1e-8 of the slope, so two trajectories that must choose between local minima of a hostile
start can part after many steps, as the Python path itself does between CPUs. One more difference is
not rounding: where the model does not feel a parameter at all (a time constant on its
bound, far below the first sample), the core's Jacobian column is exactly zero, while the
Python path's is ~1e-8 of noise (its base residual and its shifted ones come through
different BLAS calls), which can walk a fit off the bound. What must hold, for every model
the core knows:

- the first Levenberg-Marquardt step from any start (the usual ones, random ones, some on
  a bound) under a white whitener, on decays of other shapes than the models' (a leak,
  drift, a random walk, a current staircase), agrees to 1e-4 (a wrong model, bound or
  step is off by far more);
- fits from the usual starts to a decay of the model's own shape with drift, under a white
  and a correlated whitener, agree to 1e-6 in chi-square and I_ss, and whole analyses
  (``fit_dcpol``) agree in I_ss, its interval, the model and the verdict on the example
  and real files;
- a start fails on one path exactly when it fails on the other.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import REALDATA

from sescreen.dcpol import core, fit_dcpol
from sescreen.dcpol.candidates import minimize_many
from sescreen.dcpol.noise import NoiseModel, white_noise_model
from sescreen.dcpol.record import summarize
from sescreen.io import read
from sescreen.transients import MODELS, start_params

pytestmark = pytest.mark.skipif(not core.available(), reason="the compiled core is not built")


def _record(rng, n=4000):
    """A decay unlike any one model: two exponentials and a t^-1/2 leak, drift, 1/f-ish
    noise from a random walk, and a current staircase."""
    t = np.sort(rng.uniform(0.5, 2e4, n))
    i_ss = 1.0
    y = (i_ss + rng.uniform(2, 8) * np.exp(-t / rng.uniform(20, 300))
         + rng.uniform(0.5, 2) * np.exp(-t / rng.uniform(1e3, 8e3))
         + rng.uniform(0, 0.5) * np.sqrt(50.0 / t) + rng.uniform(-1e-5, 1e-5) * t)
    y = y + 0.01 * rng.standard_normal(n) + 0.002 * np.cumsum(rng.standard_normal(n)) / 30
    q = rng.choice([0.0, 0.003])
    return t, (np.round(y / q) * q if q else y)


def _correlated(b, rng):
    """A lower-triangular whitener of an AR(1)-like covariance of the bin means."""
    k = np.arange(b.t.size)
    rho = rng.uniform(0.3, 0.9)
    cov = np.outer(b.sem, b.sem) * rho ** np.abs(k[:, None] - k[None, :])
    chol = np.linalg.cholesky(cov)
    w = np.linalg.solve(chol, np.eye(k.size))
    return NoiseModel(cov, np.tril(w), np.zeros(0), np.zeros(0), b.noise, 1.0, 0.0, 0.0)


def _fits(name, b, noise, starts, monkeypatch, pure, max_nfev=1500):
    monkeypatch.setenv("SESCREEN_PURE_PYTHON", "1" if pure else "0")
    return minimize_many(name, b, noise, starts, max_nfev=max_nfev)


def _random_starts(name, b, rng, k=4):
    """The usual starts, and random ones: log-uniform within the bounds, some on a bound."""
    out = []
    base = start_params(name, b.t, b.y)
    for _ in range(k):
        s = base[0].copy()
        for p in s.values():
            if not p.vary or p.expr is not None:
                continue
            lo = p.min if np.isfinite(p.min) else -10.0
            hi = p.max if np.isfinite(p.max) else 10.0
            if rng.random() < 0.15:
                v = rng.choice([lo, hi])
            elif lo >= 0:
                v = np.exp(rng.uniform(np.log(max(lo, 1e-3)), np.log(max(hi, 1e-2))))
            else:
                v = rng.uniform(lo, hi)
            p.set(value=float(v))
        out.append(s)
    return base + out


def _problems(seed):
    rng = np.random.default_rng(seed)
    t, y = _record(rng)
    b = summarize(t, y).binned()
    return rng, b, (white_noise_model(b), _correlated(b, rng))


def _n_var(params) -> int:
    return sum(1 for p in params.values() if p.vary and p.expr is None)


@pytest.mark.parametrize("name", sorted(core.CORE_MODELS))
def test_first_step_matches(name, monkeypatch):
    agree, total = 0, 0
    for seed in range(4):
        rng, b, noises = _problems(100 * seed + len(name))
        starts = _random_starts(name, b, rng)
        usual = len(start_params(name, b.t, b.y))
        # the start, its Jacobian and one trial point: the budget ends at the trial
        budget = _n_var(starts[0]) + 2
        c_fits = _fits(name, b, noises[0], starts, monkeypatch, False, budget)
        p_fits = _fits(name, b, noises[0], starts, monkeypatch, True, budget)
        for k, (c, p) in enumerate(zip(c_fits, p_fits, strict=True)):
            where = f"{name} seed {seed} start {k}"
            assert (c is None) == (p is None), where
            if c is None:
                continue
            assert c.nfev == p.nfev, where
            same = c.chisqr == pytest.approx(p.chisqr, rel=1e-4)
            assert same or k >= usual, where  # the usual starts always
            agree, total = agree + same, total + 1
    # a random start far from the data (chi-square 1e6-1e12) can sit in a direction the
    # model barely feels, where the rounding of the two paths picks different steps
    assert agree >= 0.7 * total, f"{name}: {agree} of {total} first steps agree"


@pytest.mark.parametrize("name", sorted(core.CORE_MODELS))
@pytest.mark.parametrize("seed", range(3))
def test_usual_fits_match(name, seed, monkeypatch):
    """Best of the usual starts, as :func:`~sescreen.dcpol.candidates.fit_model` takes it."""
    rng = np.random.default_rng(7 + 100 * seed + len(name))
    t = np.geomspace(0.5, 2e4, 3000)
    truth = {"exp1": (1.0, 3.0, 800.0), "exp2": (1.0, 5.0, 60.0, 2.0, 2e3),
             "exp3": (1.0, 6.0, 20.0, 3.0, 300.0, 1.0, 4e3),
             "stretched": (1.0, 4.0, 900.0, 0.6), "stoich_limit": (1.0, 2e4),
             "stoich_rc": (1.0, 2e4, 5.0, 30.0), "power": (1.0, 2.0, 0.5, 100.0),
             "exp1_power": (1.0, 5.0, 40.0, 1.5, 0.5, 100.0)}[name]
    y = MODELS[name][0](t, *truth) * (1 + 1e-6 * rng.uniform(-1, 1) * t / t[-1])
    y = y + 0.01 * rng.standard_normal(t.size)
    b = summarize(t, y).binned()
    for noise in (white_noise_model(b), _correlated(b, rng)):
        starts = start_params(name, b.t, b.y)
        best = []
        for pure in (False, True):
            found = [f for f in _fits(name, b, noise, starts, monkeypatch, pure) if f]
            best.append(min(found, key=lambda f: f.chisqr))
        c, p = best
        where = f"{name} seed {seed}"
        assert c.chisqr == pytest.approx(p.chisqr, rel=1e-6), where
        ss = "i_inf" if name.startswith("stoich") else "i_ss"
        assert c.params[ss].value == pytest.approx(p.params[ss].value, rel=1e-5), where


def test_failures_match(monkeypatch):
    """Starts whose residual is not finite (an infinite amplitude) fail on both paths;
    crossed bounds fail every start."""
    _, b, noises = _problems(3)
    s = start_params("exp1", b.t, b.y)[0]
    s["a1"].set(value=np.inf, max=np.inf)
    for pure in (False, True):
        assert _fits("exp1", b, noises[0], [s], monkeypatch, pure) == [None]
    crossed = start_params("exp1", b.t, b.y)[0]
    crossed["a1"].set(min=5.0, max=1.0)
    for pure in (False, True):
        assert _fits("exp1", b, noises[0], [crossed], monkeypatch, pure) == [None]


_FILES = [*sorted((Path(__file__).resolve().parents[1] / "datasets" / "examples" / "dcpol")
                  .glob("*C.*")), REALDATA / "biologic" / "ca.mpt",
          REALDATA / "biologic" / "ca.mpr"]


@pytest.mark.parametrize("path", _FILES, ids=lambda p: p.name)
def test_whole_analysis_matches(path, monkeypatch):
    if not path.exists():
        pytest.skip(f"{path} is not here")
    m = read(path)
    out = []
    for pure in ("0", "1"):
        monkeypatch.setenv("SESCREEN_PURE_PYTHON", pure)
        r = fit_dcpol(m, thickness_cm=0.1)
        out.append((r.i_ss, *r.i_ss_interval, r.model, r.steady_state_reached))
    (c_i, c_lo, c_hi, c_model, c_st), (p_i, p_lo, p_hi, p_model, p_st) = out
    assert (c_model, c_st) == (p_model, p_st)
    assert c_i == pytest.approx(p_i, rel=1e-6)
    assert c_lo == pytest.approx(p_lo, rel=1e-5)
    assert c_hi == pytest.approx(p_hi, rel=1e-5)


def test_pure_python_switch(monkeypatch):
    monkeypatch.setenv("SESCREEN_PURE_PYTHON", "1")
    assert not core.available()
    monkeypatch.setenv("SESCREEN_PURE_PYTHON", "0")
    assert core.available()


def test_core_refuses_malformed_problems(monkeypatch):
    """Wrong sizes or a parameter program pointing outside itself: a ValueError, never a
    read past a buffer."""
    _, b, noises = _problems(5)
    s = start_params("exp1", b.t, b.y)[0]
    var = [n for n, p in s.items() if p.vary and p.expr is None]
    lo = np.array([s[n].min for n in var])
    hi = np.array([s[n].max for n in var])
    x0 = [np.array([s[n].value for n in var])]
    good = core.CompiledProblem("exp1", ("i_ss", "a1", "tau1"), b.nodes, b.weights, b.y,
                                np.diagonal(noises[0].whitener))
    found, count, _ = core.run(good, s, var, {}, lo, hi, x0, 1500)
    assert isinstance(found[0], core.Outcome) and 0 < count[0] <= 1500
    short = core.CompiledProblem("exp1", good.args, b.nodes[:-1], b.weights, b.y,
                                 good.whiten)
    with pytest.raises(ValueError, match="nodes"):
        core.run(short, s, var, {}, lo, hi, x0, 100)
    wrong_model = core.CompiledProblem("exp2", good.args, b.nodes, b.weights, b.y,
                                       good.whiten)
    with pytest.raises(ValueError, match="out of range"):
        core.run(wrong_model, s, var, {}, lo, hi, x0, 100)
    program = core._program

    def outside(*args):
        out = list(program(*args))
        out[4 + 3] = np.array([0, 99], dtype=np.int64)  # factor indices past the parameters
        out[0][2], out[5][2], out[6][2] = 2, 0, 2  # tau1 = a product of them
        return tuple(out)

    monkeypatch.setattr(core, "_program", outside)
    with pytest.raises(ValueError, match="program"):
        core.run(good, s, var, {}, lo, hi, x0, 100)


def test_factor_range_that_overflows_is_refused():
    """fac_start + fac_len overflowing int64 passed the bounds check and the core read
    fac_idx[2**62] (SIGBUS/SIGSEGV). Run in a child so a crash fails the test instead of
    killing pytest."""
    from sescreen.dcpol import _lmcore

    src = textwrap.dedent(f"""
        import importlib.util, numpy as np
        spec = importlib.util.spec_from_file_location("_lmcore", {_lmcore.__file__!r})
        m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
        nb, nv = 8, 3
        t = np.geomspace(1, 100, nb * 4).reshape(nb, 4)
        i64 = lambda *v: np.array(v, dtype=np.int64)
        outs = [np.empty(nv), np.empty(nb * nv), np.empty(1, np.int64),
                np.empty(1, np.int64), np.empty(nv), np.empty(1, np.int64), np.empty(1),
                np.empty(1)]
        try:
            m.fit_many(0, 0, nb, 3, nv, 3, 1, 100, 1e-8, 1e-8, 1e-8, 100,
                       t, np.full((nb, 4), 0.25), np.ones(nb), np.ones(nb),
                       i64(2, 0, 0), i64(0, 1, 2), np.ones(3), np.full(3, -np.inf),
                       np.full(3, np.inf), i64(2**62, 0, 0), i64(2**62, 0, 0), i64(0),
                       i64(0, 1, 2), np.zeros(nv), np.full(nv, 10.0), np.ones(nv), *outs)
            print("accepted")
        except ValueError as e:
            print("refused", e)
    """)
    r = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, f"the core crashed (signal {-r.returncode}): {r.stderr}"
    assert r.stdout.startswith("refused") and "program" in r.stdout, r.stdout
