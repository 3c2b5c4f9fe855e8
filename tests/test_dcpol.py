"""DC polarization: models, resampling, fits with known truth, diagnostics, real data, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import hold_measurement
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sescreen.cli import main
from sescreen.cli.options import _MODEL_CHOICES
from sescreen.dcpol import (
    MODEL_CHOICES,
    fit_dcpol,
    fit_voltage_series,
    log_bin,
    noise_sigma,
    sigma_from_current,
)
from sescreen.errors import FitError, InputError, TechniqueError
from sescreen.hebb_wagner import fit_hebb_wagner, hebb_wagner_current
from sescreen.io import read
from sescreen.io.writers import write_table
from sescreen.synthetic import dcpol_record
from sescreen.transients import stoich, stoich_eigenvalues, stoich_limit, stoich_weights

I_SS = 2.0e-9


def exp2_params(rng, i_ss=I_SS):
    t1 = rng.uniform(30, 200)
    return dict(i_ss=i_ss, a1=i_ss * rng.uniform(3, 10), tau1=t1,
                a2=i_ss * rng.uniform(1, 4), tau2=t1 * rng.uniform(8, 30))


# -- physics ------------------------------------------------------------------------------
def test_sigma_check_value_from_methods():
    assert sigma_from_current(5.5e-9, 0.1, 0.1, 1.0) == pytest.approx(5.5e-9)
    assert sigma_from_current(-5.5e-9, -0.1, 0.1, 1.0) == pytest.approx(5.5e-9)
    with pytest.raises(InputError):
        sigma_from_current(1e-9, 0.0, 0.1, 1.0)


@pytest.mark.parametrize("ratio", [1e-3, 1 / 9, 1.0, 10.0])
def test_stoich_weights_sum_to_one(ratio):
    from scipy.optimize import brentq

    n_terms = 200_000
    z = stoich_eigenvalues(ratio, n_terms)
    for m in (1, 2, 3, 10, 1000, n_terms):
        root = brentq(lambda x: np.sin(x) + ratio * x * np.cos(x), (m - 0.5) * np.pi,
                      m * np.pi, xtol=1e-14, rtol=1e-15)
        assert z[m - 1] == pytest.approx(root, rel=1e-13, abs=1e-12)
    # for large m, z_m -> (m - 1/2) pi and w_m -> 2 (1 + 1/ratio) / z_m^2: the omitted
    # tail is about 2 (1 + 1/ratio) / (pi^2 n_terms)
    tail = 2.0 * (1.0 + 1.0 / ratio) / (np.pi**2 * n_terms)
    assert stoich_weights(z).sum() == pytest.approx(1.0, abs=1.5 * tail + 1e-9)


def test_stoich_tends_to_limit_for_ionic_conductors():
    t = np.geomspace(10, 1e5, 30)
    general = stoich(t, 1e-9, 1e-5, 4e4)
    limit = stoich_limit(t, 1e-9, 4e4)
    np.testing.assert_allclose(general, limit, rtol=2e-4)
    # t^-1/2 at intermediate times: slope -1/2 in log-log of the transient part
    tt = np.array([20.0, 80.0])
    part = stoich_limit(tt, 1.0, 1e6) - 1.0
    assert np.log(part[1] / part[0]) / np.log(4) == pytest.approx(-0.5, abs=0.02)


def test_potentiostatic_series_is_not_the_galvanostatic_one():
    """METHODS pitfall: the textbook series is off by ~4x at sigma_i/sigma_e = 9,
    t D / L^2 = 0.05 (tau_D = L^2 / D)."""
    tau_d, t = 1.0, np.array([0.05])
    ours = stoich(t, 1.0, 1 / 9, tau_d)[0]  # I / I_inf, I_0 / I_inf = 1 + 9 = 10
    n = np.arange(1, 20001, 2)
    fraction = np.sum(8 / (n**2 * np.pi**2) * np.exp(-(n**2) * np.pi**2 * 0.05))
    galvanostatic = 1.0 + 9.0 * fraction  # the same I_0 and I_inf, textbook series
    assert galvanostatic / ours == pytest.approx(4.0, rel=0.05)
    # and for sigma_e >> sigma_i our series becomes the textbook one, term by term
    z = stoich_eigenvalues(1e6, 5)
    np.testing.assert_allclose(z, (np.arange(1, 6) - 0.5) * np.pi, rtol=1e-5)
    np.testing.assert_allclose(stoich_weights(z), 8 / ((2 * np.arange(1, 6) - 1) * np.pi) ** 2,
                               rtol=1e-5)


def test_model_choices_in_step_with_cli():
    assert tuple(_MODEL_CHOICES) == MODEL_CHOICES


# -- resampling ---------------------------------------------------------------------------
def test_log_bin_standard_errors_match_white_noise():
    rng = np.random.default_rng(4)
    t = np.arange(1.0, 1e6 + 1)
    sigma = 1e-11
    y = 1e-9 * (1 + np.exp(-t / 3e4)) + rng.normal(0, sigma, t.size)
    b = log_bin(t, y)
    assert 60 <= len(b.t) <= 160
    assert noise_sigma(y) == pytest.approx(sigma, rel=0.05)
    np.testing.assert_allclose(b.sem, sigma / np.sqrt(b.n), rtol=0.35)
    truth = b.average(lambda tt: 1e-9 * (1 + np.exp(-tt / 3e4)))
    z = (b.y - truth) / b.sem
    assert abs(z.mean()) < 0.3 and 0.7 < z.std() < 1.3


# -- fits with known truth ----------------------------------------------------------------
def test_steady_hold_recovers_sigma_within_one_percent():
    rng = np.random.default_rng(11)
    errors = []
    for _ in range(8):
        p = exp2_params(rng)
        m = dcpol_record("exp2", p, hold_s=10 * p["tau2"], dt_s=p["tau2"] / 100,
                         noise_a=0.01 * I_SS, rng=rng, voltage_v=0.1, area_cm2=0.785)
        r = fit_dcpol(m, thickness_cm=0.1)
        truth = sigma_from_current(I_SS, 0.1, 0.1, 0.785)
        errors.append(abs(r.sigma_e / truth - 1))
        assert r.steady_state_reached
        assert r.t_steady_estimate < r.t_hold
        assert not any("not reached" in w for w in r.warnings)
    assert np.median(errors) <= 0.01


def test_stopped_hold_is_flagged_and_extrapolated():
    rng = np.random.default_rng(12)
    for mult in (1.5, 2.0, 3.0):
        p = exp2_params(rng)
        p["a2"] = 3 * I_SS
        hold = mult * p["tau2"]
        m = dcpol_record("exp2", p, hold_s=hold, dt_s=hold / 1500, noise_a=0.005 * I_SS,
                         rng=rng)
        r = fit_dcpol(m, thickness_cm=0.1)
        tail_error = abs(r.tail_mean_i / I_SS - 1)
        assert 0.15 <= tail_error <= 1.0
        assert abs(r.i_ss / I_SS - 1) <= 0.05
        assert not r.steady_state_reached
        assert r.remaining_fraction > 0.01
        assert any(w.startswith("not settled") for w in r.warnings)
        # 15-67 % of I_ss still decaying: the data bound I_ss from above only (a remainder
        # as slow as t^-1/2 would carry the whole late current), by the tail level at least
        assert r.upper_bound_only and r.i_ss_interval[1] >= r.tail_mean_i
        assert any(w.startswith("the decay has not settled") for w in r.warnings)
        # t_steady_estimate: when the true transient falls to 1 % of I_ss
        ts = np.geomspace(1, 1e7, 200_001)
        true_part = p["a1"] * np.exp(-ts / p["tau1"]) + p["a2"] * np.exp(-ts / p["tau2"])
        t_true = ts[np.argmax(true_part < 0.01 * I_SS)]
        assert r.t_steady_estimate == pytest.approx(t_true, rel=0.15)


def test_interval_coverage_is_about_95_percent():
    """95 % intervals of I_ss cover the truth in about 95 % of seeded trials."""
    rng = np.random.default_rng(2019)
    hits, n = 0, 120
    for k in range(n):
        p = exp2_params(rng)
        hold = p["tau2"] * (rng.uniform(1.5, 3.0) if k % 2 else 10.0)
        m = dcpol_record("exp2", p, hold_s=hold, dt_s=hold / 1000,
                         noise_a=0.01 * I_SS, rng=rng)
        # the statistical interval: no instrument accuracy added to it
        r = fit_dcpol(m, thickness_cm=0.1, model="exp2", accuracy_a=0.0)
        lo, hi = r.i_ss_interval
        hits += lo <= I_SS <= hi
    assert 0.89 <= hits / n <= 0.995


@pytest.mark.parametrize(("model", "params", "hold"), [
    ("exp1", dict(i_ss=I_SS, a1=3 * I_SS, tau1=500.0), 8000.0),
    ("stretched", dict(i_ss=I_SS, a=4 * I_SS, tau=400.0, beta=0.7), 20000.0),
    ("stoich_limit", dict(i_inf=I_SS, tau_d=3e4), 20000.0),
    ("stoich", dict(i_inf=I_SS, ratio=0.5, tau_d=3e4), 20000.0),
])
def test_other_models_recover_i_ss(model, params, hold):
    rng = np.random.default_rng(5)
    m = dcpol_record(model, params, hold_s=hold, dt_s=hold / 2000, noise_a=0.005 * I_SS,
                     rng=rng)
    r = fit_dcpol(m, thickness_cm=0.1, model=model)
    assert r.i_ss == pytest.approx(I_SS, rel=0.02)
    assert r.i_ss_interval[0] <= I_SS <= r.i_ss_interval[1]
    auto = fit_dcpol(m, thickness_cm=0.1)
    assert auto.i_ss == pytest.approx(I_SS, rel=0.03)
    assert {c.model for c in auto.candidates} >= {"exp1", "exp2", "stretched"}


def test_negative_polarization():
    rng = np.random.default_rng(6)
    p = {k: (-v if k.startswith(("i_", "a")) else v) for k, v in exp2_params(rng).items()}
    m = dcpol_record("exp2", p, hold_s=10 * p["tau2"], dt_s=p["tau2"] / 50,
                     noise_a=0.01 * I_SS, rng=rng, voltage_v=-0.2)
    r = fit_dcpol(m, thickness_cm=0.2, area_cm2=0.5)
    assert r.i_ss == pytest.approx(-I_SS, rel=0.01)
    assert r.sigma_e == pytest.approx(I_SS * 0.2 / (0.2 * 0.5), rel=0.01)
    assert r.voltage_v == -0.2 and r.steady_state_reached


def test_charging_spike_is_cut_not_fitted():
    rng = np.random.default_rng(7)
    p = exp2_params(rng)
    m = dcpol_record("exp2", p, hold_s=10 * p["tau2"], dt_s=p["tau2"] / 50,
                     noise_a=0.01 * I_SS, rng=rng, spike_a=5e-4)
    r = fit_dcpol(m, thickness_cm=0.1)
    assert r.t_skip > 0 and r.i_ss == pytest.approx(I_SS, rel=0.01)
    r2 = fit_dcpol(m, thickness_cm=0.1, skip_s=3 * p["tau1"])
    assert r2.t_skip >= 3 * p["tau1"] and r2.i_ss == pytest.approx(I_SS, rel=0.02)


def test_geometry_tolerances_propagate():
    rng = np.random.default_rng(8)
    p = exp2_params(rng)
    m = dcpol_record("exp2", p, hold_s=10 * p["tau2"], dt_s=p["tau2"] / 50,
                     noise_a=0.001 * I_SS, rng=rng)
    r = fit_dcpol(m, thickness_cm=0.1, thickness_rel_tol=0.03, area_rel_tol=0.04)
    assert r.sigma_e_stderr / r.sigma_e == pytest.approx(0.05, rel=0.05)


# -- refusals and flags -------------------------------------------------------------------
def test_too_few_points():
    rng = np.random.default_rng(9)
    m = dcpol_record("exp1", dict(i_ss=I_SS, a1=I_SS, tau1=10.0), hold_s=9, dt_s=1,
                     noise_a=1e-12, rng=rng)
    with pytest.raises(FitError, match="at least 12"):
        fit_dcpol(m, thickness_cm=0.1)


def test_hold_shorter_than_fastest_term():
    rng = np.random.default_rng(10)
    m = dcpol_record("exp1", dict(i_ss=I_SS, a1=3 * I_SS, tau1=1e5), hold_s=200, dt_s=1,
                     noise_a=1e-3 * I_SS, rng=rng)
    with pytest.raises(FitError, match="shorter than the fastest"):
        fit_dcpol(m, thickness_cm=0.1, model="exp1")


def test_flat_noisy_record_is_flagged():
    rng = np.random.default_rng(13)
    m = dcpol_record("exp1", dict(i_ss=I_SS, a1=0.0, tau1=100.0), hold_s=5000, dt_s=5,
                     noise_a=0.05 * I_SS, rng=rng)
    r = fit_dcpol(m, thickness_cm=0.1)
    assert any("no decay above the noise" in w for w in r.warnings)
    assert r.i_ss == pytest.approx(I_SS, rel=0.05)


def test_rising_current_is_never_steady():
    rng = np.random.default_rng(14)
    m = dcpol_record("exp1", dict(i_ss=I_SS, a1=-0.5 * I_SS, tau1=500.0), hold_s=5000,
                     dt_s=5, noise_a=0.001 * I_SS, rng=rng)
    r = fit_dcpol(m, thickness_cm=0.1)
    assert not r.steady_state_reached
    assert any("rises during the hold" in w for w in r.warnings)


def test_wrong_technique_and_missing_inputs(realdata):
    with pytest.raises(TechniqueError, match="impedance"):
        fit_dcpol(read(realdata / "biologic" / "peis.issue_149.mpt"), thickness_cm=0.1)
    m = read(realdata / "biologic" / "ca.mpt")
    with pytest.raises(InputError, match="thickness"):
        fit_dcpol(m, thickness_cm=0.0)
    m.area_cm2 = None
    with pytest.raises(InputError, match="area is unknown"):
        fit_dcpol(m, thickness_cm=0.1)


# -- several voltages, Hebb-Wagner ----------------------------------------------------------
def _series(rng, voltages, sigma=1e-9, bend=0.0):
    out = []
    for v in voltages:
        i_ss = sigma * v * 1.0 / 0.1 * (1 + bend * v**2)
        p = dict(i_ss=i_ss, a1=4 * i_ss, tau1=60.0, a2=i_ss, tau2=600.0)
        m = dcpol_record("exp2", p, hold_s=8000, dt_s=4, noise_a=0.003 * i_ss, rng=rng,
                         voltage_v=v)
        out.append(fit_dcpol(m, thickness_cm=0.1))
    return out


def test_voltage_series_slope_gives_sigma():
    rng = np.random.default_rng(15)
    res = fit_voltage_series(_series(rng, [0.05, 0.1, 0.2, 0.3]))
    assert res.sigma_e == pytest.approx(1e-9, rel=0.01)
    assert res.linear and abs(res.intercept) < 3 * res.intercept_stderr
    bent = fit_voltage_series(_series(rng, [0.05, 0.1, 0.2, 0.4], bend=3.0))
    assert not bent.linear and any("not linear" in w for w in bent.warnings)


def test_hebb_wagner_recovers_partial_conductivities():
    rng = np.random.default_rng(16)
    e = np.linspace(0.3, 4.2, 14)
    kw = dict(temperature_k=298.15, thickness_cm=0.05, area_cm2=0.5)
    clean = hebb_wagner_current(e, 2e-12, 3e-21, **kw)
    err = 0.02 * clean
    r = fit_hebb_wagner(e, clean + rng.normal(0, err), i_err_a=err, **kw)
    assert r.sigma_n0 == pytest.approx(2e-12, rel=0.05)
    assert r.sigma_p0 == pytest.approx(3e-21, rel=0.05)
    assert r.cell == "hebb-wagner"
    assert r.sigma_e_at(0.0) == pytest.approx(r.sigma_n0 + r.sigma_p0)
    with pytest.raises(InputError):
        fit_hebb_wagner([0.1, 0.2], [1e-12, 2e-12], **kw)


# -- real data ----------------------------------------------------------------------------
def test_real_ca_mpr_not_at_steady_state(realdata):
    """The real 12 h hold: one statement, not settled, with the hold it needs. Three
    exponentials describe it best (QAICc weight ~1 under the correlated-noise model), but
    their asymptote is an extrapolation (97 % of I_ss still decaying) that the data do not
    bound from below: only an upper bound, so `check` cannot FAIL it, and that bound is the
    measured tail level (an unsettled decay: below it only the model's shape says where the
    current ends). The conventional two-exponential fit, whose
    asymptote keeps falling with hold length, is reported on request and flagged as not
    converged."""
    m = read(realdata / "biologic" / "ca.mpr")
    r = fit_dcpol(m, thickness_cm=0.1)
    lo, hi = r.i_ss_interval
    assert r.model == "exp3" and r.upper_bound_only
    assert any(w.startswith("the decay has not settled") and "only an upper bound" in w
               for w in r.warnings)
    assert lo == 0 < r.i_ss < r.tail_mean_i < hi  # the upper bound: the tail mean (3.5 nA)
    assert hi == pytest.approx(r.tail_mean_i, rel=0.05)  # and its error
    assert r.i_ss == pytest.approx(1.7e-9, rel=0.1)
    assert not r.steady_state_reached
    assert r.t_steady_estimate > 4 * r.t_hold
    assert r.tail_mean_i == pytest.approx(3.5e-9, rel=0.03)
    assert "not at steady state: a hold of at least about " in r.statement
    assert r.statement.endswith(" h would settle it (the fitted decay's time; a slower one "
                                "needs longer)")
    assert r.summary()["statement"] == r.statement
    two = fit_dcpol(m, thickness_cm=0.1, model="exp2")
    assert two.i_ss == pytest.approx(2.9e-9, rel=0.05)
    taus = sorted([two.params["tau1"][0], two.params["tau2"][0]])
    assert taus[0] == pytest.approx(156, rel=0.25) and taus[1] == pytest.approx(1.9e4, rel=0.3)
    assert not two.steady_state_reached and two.t_steady_estimate > 43200
    # its asymptote falls 1.16 -> 0.95 -> 0.82 (x scale) over 70/85/100 % of the hold: if it
    # converged as slowly as t^-1/2 it would pass 0, so only an upper bound is left
    assert any("not converged" in w for w in two.warnings)
    assert two.upper_bound_only and "an upper bound only" in two.statement


# -- property test ------------------------------------------------------------------------
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(i_ss=st.floats(1e-12, 1e-3), ratio=st.floats(0.0, 20.0), tau=st.floats(1.0, 1e5),
       noise=st.floats(0.0, 0.2), n=st.integers(12, 3000), hold_mult=st.floats(0.05, 30))
def test_fit_returns_result_or_fit_error(i_ss, ratio, tau, noise, n, hold_mult):
    rng = np.random.default_rng(0)
    hold = tau * hold_mult
    m = dcpol_record("exp1", dict(i_ss=i_ss, a1=ratio * i_ss, tau1=tau), hold_s=hold,
                     dt_s=hold / (n - 1), noise_a=noise * i_ss, rng=rng)
    try:
        r = fit_dcpol(m, thickness_cm=0.1)
    except FitError:
        return
    assert np.isfinite(r.i_ss) and r.i_ss_stderr >= 0
    assert r.sigma_e >= 0 and json.dumps(r.summary())


# -- CLI ----------------------------------------------------------------------------------
CONTRACT = {"sigma_e", "sigma_e_stderr", "i_ss", "i_ss_stderr", "voltage", "model",
            "steady_state_reached", "t_hold", "t_steady_estimate", "tail_mean_i", "warnings"}


def test_cli_dcpol_json_and_plot(tmp_path, examples):
    out = tmp_path / "fit.png"
    r = CliRunner().invoke(main, ["dcpol", str(examples / "dcpol" / "llzo_like_60C.mpt"),
                                  "--thickness", "1 mm", "--json", "--plot", str(out)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert CONTRACT <= data.keys()
    truth = next(t for t in json.loads((examples / "truth.json").read_text())["dcpol"]
                 if t["file"].endswith("llzo_like_60C.mpt"))
    assert data["sigma_e"] == pytest.approx(truth["sigma_e_s_cm"], rel=0.01)
    assert data["steady_state_reached"] is True
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_cli_dcpol_units_and_series(tmp_path):
    rng = np.random.default_rng(17)
    files = []
    for v in (0.05, 0.1, 0.2):
        i_ss = 1e-9 * v / 0.1
        m = dcpol_record("exp2", dict(i_ss=i_ss, a1=3 * i_ss, tau1=50.0, a2=i_ss, tau2=500.0),
                         hold_s=6000, dt_s=3, noise_a=0.003 * i_ss, rng=rng)
        files.append(write_table(tmp_path / f"hold_{v}.csv", m.time_s, m.current_a,
                                 current_unit="nA", style="bracket",
                                 comments={"voltage": f"{v} V", "area": "1 cm2",
                                           "technique": "chronoamperometry"}))
    r = CliRunner().invoke(main, ["dcpol", *map(str, files), "--thickness", "1mm", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["model"] == "slope" and len(data["steps"]) == 3
    assert data["sigma_e"] == pytest.approx(1e-9, rel=0.02)


def test_cli_dcpol_refuses_impedance(realdata):
    r = CliRunner().invoke(main, ["dcpol", str(realdata / "biologic" / "peis.issue_149.mpt"),
                                  "--thickness", "1mm"])
    assert r.exit_code == 2 and "impedance" in r.stderr and r.stderr.count("\n") == 1


def _hebb_wagner_files(tmp_path, sign=1.0, potentials=(0.5, 1.0, 1.5, 2.0, 2.5)):
    """Holds of a Hebb-Wagner cell at 60 C (sigma_n0 1e-10 S/cm), one file each; sign -1
    records them as Li versus the blocking electrode (voltage and current negated)."""
    rng = np.random.default_rng(18)
    kw = dict(temperature_k=333.15, thickness_cm=0.1, area_cm2=1.0)
    files = []
    for e in potentials:
        i_ss = float(hebb_wagner_current(e, 1e-10, 1e-40, **kw))
        m = dcpol_record("exp1", dict(i_ss=i_ss, a1=2 * i_ss, tau1=100.0), hold_s=3000,
                         dt_s=2, noise_a=0.002 * i_ss, rng=rng)
        files.append(write_table(tmp_path / f"hw_{e}.csv", m.time_s, sign * m.current_a,
                                 current_unit="A", comments={"voltage": f"{sign * e} V",
                                                             "area": "1 cm2",
                                                             "technique": "chronoamperometry"}))
    return [str(f) for f in files]


def test_cli_hebb_wagner_series(tmp_path):
    files = _hebb_wagner_files(tmp_path)
    r = CliRunner().invoke(main, ["dcpol", *files, "--thickness", "1mm",
                                  "--cell", "hebb-wagner", "--temperature", "60C", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["cell"] == "hebb-wagner"
    assert data["sigma_n0"] == pytest.approx(1e-10, rel=0.02)
    assert data["temperature_uncertainty_k"] == 0.0
    r = CliRunner().invoke(main, ["dcpol", *files, "--thickness", "1mm",
                                  "--cell", "hebb-wagner"])
    assert r.exit_code == 2 and "temperature" in r.stderr


def test_cli_hebb_wagner_temperature_uncertainty(tmp_path):
    files = _hebb_wagner_files(tmp_path)
    args = ["dcpol", *files, "--thickness", "1mm", "--cell", "hebb-wagner",
            "--temperature", "60C", "--json"]
    exact = json.loads(CliRunner().invoke(main, args).output)
    r = CliRunner().invoke(main, [*args, "--temperature-uncertainty", "1.5K"])
    assert r.exit_code == 0, r.output
    wide = json.loads(r.output)
    assert wide["temperature_uncertainty_k"] == 1.5
    assert wide["sigma_n0"] == exact["sigma_n0"]
    # what the errors gained is what reading the same holds 1.5 K off changes (to first
    # order): about 4 % of sigma_n0 here, through the hole term's exp(F E / R T)
    warmer, cooler = (json.loads(CliRunner().invoke(main, [*args[:-2], t, "--json"]).output)
                      for t in ("61.5C", "58.5C"))
    for key in ("sigma_n0", "sigma_p0"):
        added = math.sqrt(wide[f"{key}_stderr"] ** 2 - exact[f"{key}_stderr"] ** 2)
        assert added == pytest.approx(abs(warmer[key] - cooler[key]) / 2, rel=0.05)
    assert added > exact["sigma_p0_stderr"]
    text = CliRunner().invoke(main, [*args[:-1], "--temperature-uncertainty", "1.5K"]).output
    assert "333.1 +/- 1.5 K" in text
    for bad, needle in ((["--temperature-uncertainty", "warm"], "temperature difference"),
                        (["--temperature-uncertainty", "2K", "--segment", "0"],
                         "several holds")):
        r = CliRunner().invoke(main, [*args, *bad])
        assert r.exit_code == 2 and needle in r.stderr, r.output


def test_cli_hebb_wagner_refuses_the_wrong_polarity(tmp_path):
    # recorded as Li versus the blocking electrode: eq. (2) is odd under E -> -E with
    # sigma_n0 and sigma_p0 exchanged, so the fit had returned them swapped, exit 0
    files = _hebb_wagner_files(tmp_path, sign=-1.0)
    r = CliRunner().invoke(main, ["dcpol", *files, "--thickness", "1mm", "--cell",
                                  "hebb-wagner", "--temperature", "60C", "--json"])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1
    assert "hw_0.5.csv (hold 0, -0.5 V)" in r.stderr
    assert "blocking electrode positive" in r.stderr and "sign convention" in r.stderr


@pytest.mark.parametrize("e", [[-0.2, -0.4, -0.6, -0.8], [0.0, 0.2, 0.4, 0.6],
                               [0.2, 0.4, -0.6, 0.8]])
def test_hebb_wagner_refuses_a_potential_not_positive(e):
    kw = dict(temperature_k=298.15, thickness_cm=0.1, area_cm2=1.0)
    e = np.array(e)
    i = hebb_wagner_current(e, 1e-9, 1e-14, **kw)
    bad = int(np.flatnonzero(e <= 0)[0])
    with pytest.raises(InputError, match=f"potential {bad + 1} of 4: E = .* not positive"):
        fit_hebb_wagner(e, i, i_err_a=0.01 * np.abs(i) + 1e-18, **kw)
    labels = ["cell A", "cell B", "cell C", "cell D"]
    with pytest.raises(InputError, match=f"^{labels[bad]}: E"):
        fit_hebb_wagner(e, i, labels=labels, **kw)
    # the same holds with E as a positive magnitude: the truth, not the swap
    ok = fit_hebb_wagner(np.abs(e) + (e == 0) * 0.1, hebb_wagner_current(
        np.abs(e) + (e == 0) * 0.1, 1e-9, 1e-14, **kw), **kw)
    assert ok.sigma_n0 == pytest.approx(1e-9, rel=1e-6)


def test_hebb_wagner_temperature_uncertainty_covers_an_offset():
    """Thermocouple type K class 1: the cell within +-1.5 K of the recorded 298.15 K
    (uniform: standard uncertainty 0.87 K). sigma_p0 comes from exp(F E / R T) and moves
    by ~(F E / R T - 1) / T per K (up to 15 % at 1.2 V): with the temperature taken as
    exact its 95 % interval covered 15 % of the cells; with 0.87 K given, 99 %."""
    rng = np.random.default_rng(5)
    geo = dict(thickness_cm=0.1, area_cm2=1.0)
    e = np.linspace(0.2, 1.2, 8)
    hits = {0.0: 0, 0.87: 0}
    n = 200
    for _ in range(n):
        clean = hebb_wagner_current(e, 1e-9, 1e-25, temperature_k=298.15
                                    + rng.uniform(-1.5, 1.5), **geo)
        i = clean + rng.normal(0, 0.02 * clean)
        for u in hits:
            r = fit_hebb_wagner(e, i, i_err_a=0.02 * clean, temperature_k=298.15,
                                temperature_uncertainty_k=u, **geo)
            hits[u] += abs(r.sigma_p0 - 1e-25) < 1.96 * r.sigma_p0_stderr
    assert hits[0.0] / n < 0.4
    assert hits[0.87] / n >= 0.93
    with pytest.raises(InputError, match="temperature uncertainty"):
        fit_hebb_wagner(e, i, temperature_k=298.15, temperature_uncertainty_k=math.nan, **geo)


def test_hold_ending_in_the_diffusion_regime_is_honest():
    """A hold that ends in the t^(-1/2) regime only bounds I_ss (reviewer's case: the
    stoichiometric limit with tau_D = 1e6 s stopped after 4 h). The model must still be
    found (the stoichiometric limit, alone or behind an RC spike, which nests it: which of
    the two wins depends on the last digits of the fit), the interval must cover the truth,
    and steady state must not be claimed."""
    for seed in range(4):
        rng = np.random.default_rng(seed)
        m = dcpol_record("stoich_limit", dict(i_inf=I_SS, tau_d=1e6), hold_s=14400,
                         dt_s=14400 / 1500, noise_a=0.01 * I_SS, rng=rng)
        r = fit_dcpol(m, thickness_cm=0.1)
        lo, hi = r.i_ss_interval
        assert r.model in ("stoich_limit", "stoich_rc")
        assert lo <= I_SS <= hi and hi < 3 * I_SS
        assert not r.steady_state_reached


def test_hebb_wagner_negative_conductivity_is_flagged():
    kw = dict(temperature_k=298.15, thickness_cm=0.05, area_cm2=0.5)
    e = np.linspace(0.2, 1.0, 8)
    i = hebb_wagner_current(e, 1e-12, 0.0, **kw) * (1 + 0.3 * np.sin(7 * e))
    r = fit_hebb_wagner(e, i, **kw)
    negative = [w for w in r.warnings if "negative" in w]
    assert (r.sigma_p0 < 0) == bool(negative)


# -- real-world holds (issue 10): drift, correlated noise, quantization -------------------
def _exp2_hold(rng, *, n=4000, hold=12000.0, i_ss=I_SS):
    t = np.linspace(0.0, hold, n)
    t_eval = np.where(t > 0, t, 1e-3)
    return t, i_ss + 6 * i_ss * np.exp(-t_eval / 60.0) + 2 * i_ss * np.exp(-t_eval / 900.0)


@pytest.mark.parametrize("sign", [-1.0, 1.0])
def test_drift_is_flagged_never_steady_and_bounded_honestly(sign):
    """A settled hold plus a 4 % linear drift: not steady, the cause named, and the upper
    bound above the truth (a failing material cannot pass). A falling drift leaves only an
    upper bound: a current still falling after the fitted transient ended is a decay whose
    end no model shape can be trusted to say. A rising one leaves none: a leak, or a
    current still climbing to a level the record does not tell (judgement.climbing)."""
    rng = np.random.default_rng(3)
    t, i = _exp2_hold(rng)
    i = i + sign * 0.04 * I_SS * t / t[-1] + rng.normal(0, 0.003 * I_SS, t.size)
    r = fit_dcpol(hold_measurement(t, i), thickness_cm=0.1)
    assert not r.steady_state_reached
    assert r.i_ss_interval[1] >= I_SS * 0.99
    if sign < 0:
        assert any(w.startswith("drift") for w in r.warnings)
    else:
        assert any(w.startswith("the current still climbs") for w in r.warnings)
        assert r.sigma_e_interval[1] == math.inf
    assert r.upper_bound_only and r.sigma_e_interval[0] == 0.0


def test_ar1_noise_settled_hold_is_steady_and_covered():
    """AR(1) noise (rho 0.97) on a settled hold: white-noise errors would be ~8x too small;
    the correlated-noise model keeps the interval honest and the hold settled."""
    covered, steady = 0, 0
    for seed in range(6):
        rng = np.random.default_rng(seed)
        t, i = _exp2_hold(rng)
        e = np.empty(t.size)
        e[0] = 0.0
        w = rng.normal(0, 0.01 * I_SS * np.sqrt(1 - 0.97**2), t.size)
        for k in range(1, t.size):
            e[k] = 0.97 * e[k - 1] + w[k]
        r = fit_dcpol(hold_measurement(t, i + e), thickness_cm=0.1)
        lo, hi = r.i_ss_interval
        covered += lo <= I_SS <= hi
        steady += r.steady_state_reached
        assert r.noise_inflation > 5
    assert covered >= 5 and steady >= 5


def test_undithered_staircase_widens_the_interval():
    """Currents rounded to an ADC step with almost no noise: the steady reading is off by up
    to half a step, which averaging cannot remove; the interval must include it."""
    rng = np.random.default_rng(5)
    lsb = I_SS / 3.3
    t, i = _exp2_hold(rng)
    i = np.round((i + rng.normal(0, 0.02 * lsb, t.size)) / lsb) * lsb
    r = fit_dcpol(hold_measurement(t, i), thickness_cm=0.1)
    lo, hi = r.i_ss_interval
    assert r.resolution_a == pytest.approx(lsb, rel=1e-6)
    assert lo <= I_SS <= hi
    assert any("quantized" in w for w in r.warnings)
    assert r.steady_state_reached  # the staircase is rounding, not a failure to settle


@pytest.mark.parametrize("jump", [-0.3, 0.5])
def test_step_change_mid_hold_is_named_and_spans_both_levels(jump):
    """A crack (up) or a lost contact (down) at 60 % of a settled hold, under AR(1) noise:
    named, never steady, and the interval spans the levels before and after, so a
    threshold between them gives INCONCLUSIVE."""
    from sescreen.criteria import OUTCOMES, decide

    rng = np.random.default_rng(11)
    t, i = _exp2_hold(rng, n=6000, hold=20000.0)
    e = np.zeros(t.size)
    for k in range(1, t.size):
        e[k] = 0.9 * e[k - 1] + rng.normal(0, 0.004 * I_SS)
    i = i + e + np.where(t > 0.6 * t[-1], jump * I_SS, 0.0)
    r = fit_dcpol(hold_measurement(t, i), thickness_cm=0.1)
    lo, hi = r.i_ss_interval
    assert not r.steady_state_reached
    assert any("jumps" in w for w in r.warnings)
    assert lo <= min(I_SS, I_SS * (1 + jump)) * 1.01 and hi >= max(I_SS, I_SS * (1 + jump)) * 0.99
    between = I_SS * (1 + jump / 2) * 0.1 / (0.1 * 1.0)  # sigma_e halfway, S/cm (L/(V A) = 1)
    slo, shi = r.sigma_e_interval
    assert slo < between < shi and OUTCOMES[int(decide(slo, shi, between))] == "inconclusive"


def test_settled_hold_has_no_step():
    rng = np.random.default_rng(12)
    t, i = _exp2_hold(rng)
    r = fit_dcpol(hold_measurement(t, i + rng.normal(0, 0.01 * I_SS, t.size)), thickness_cm=0.1)
    assert not any("jumps" in w for w in r.warnings) and r.steady_state_reached


@pytest.mark.parametrize("case", ["constant", "backwards", "nan"])
def test_records_no_fit_can_use_are_refused_in_one_line(case):
    rng = np.random.default_rng(13)
    t, i = _exp2_hold(rng)
    if case == "constant":  # a saturated range: one value for the whole hold
        i = np.full(t.size, 0.95e-10)
    elif case == "backwards":
        t = t.copy()
        t[2000] = t[1990]
    else:
        i = i.copy()
        i[-1] = np.nan
    with pytest.raises((FitError, InputError)) as err:
        fit_dcpol(hold_measurement(t, i), thickness_cm=0.1)
    msg = str(err.value)
    assert "\n" not in msg
    assert {"constant": "every sample", "backwards": "backwards",
            "nan": "not a finite number"}[case] in msg


def test_rival_shapes_span_the_interval_of_an_unsettled_tail():
    """A Havriliak-Negami-like tail (a stretched decay plus a t^-1/2 leak), stopped with a
    few % left: models that fit comparably disagree, and the interval covers the truth
    even when one of them takes all the Akaike weight."""
    covered = 0
    for seed in range(4):
        rng = np.random.default_rng(100 + seed)
        t = np.linspace(0.0, 40000.0, 5000)
        te = np.where(t > 0, t, 0.5)
        tail = 0.05 * I_SS * np.sqrt(40000.0 / (te + 30.0))
        i = (I_SS + 4 * I_SS * np.exp(-(te / 800.0) ** 0.6) + tail
             + rng.normal(0, 0.004 * I_SS, t.size))
        r = fit_dcpol(hold_measurement(t, i), thickness_cm=0.1)
        lo, hi = r.i_ss_interval
        covered += lo <= I_SS <= hi
        assert not r.steady_state_reached
    assert covered >= 3


def test_stated_current_range_adds_the_instrument_accuracy():
    """A file that states its current range (10x I_ss full scale) gets the nominal accuracy
    (1e-3 of the range = 1 % of I_ss here) in its interval: a zero offset of that size,
    invisible in the record, stays covered. accuracy_a overrides it (0: none)."""
    rng = np.random.default_rng(21)
    t, i = _exp2_hold(rng)
    offset = 0.009 * I_SS  # within the nominal accuracy
    m = hold_measurement(t, i + offset + rng.normal(0, 0.002 * I_SS, t.size))
    m.data["current_range_a"] = 10 * I_SS
    r = fit_dcpol(m, thickness_cm=0.1)
    lo, hi = r.i_ss_interval
    assert r.accuracy_a == pytest.approx(1e-3 * 10 * I_SS)
    assert lo <= I_SS <= hi and r.summary()["accuracy_a"] == r.accuracy_a
    bare = fit_dcpol(m, thickness_cm=0.1, accuracy_a=0.0)
    assert bare.accuracy_a == 0
    assert np.ptp(bare.i_ss_interval) < np.ptp(r.i_ss_interval) - 0.01 * I_SS
    with pytest.raises(InputError):
        fit_dcpol(m, thickness_cm=0.1, accuracy_a=-1.0)


@pytest.mark.parametrize("scale", [1.0, 1e-3])
def test_a_record_without_ranges_gets_the_accuracy_of_the_range_that_would_hold_it(scale):
    """No current range in the file: the accuracy is 1e-3 of the smallest decade range
    holding the tail's current, at least 1 nA (a potentiostat's lowest standard range),
    with a warning that names it; an auto-ranging instrument's zero offset of that size
    (invisible in the record) is then covered, also at pA currents where it decides the
    verdict (found by a break-it review: 8 false PASS of 40 holds at 1e-12 S/cm)."""
    rng = np.random.default_rng(22)
    t, i = _exp2_hold(rng)
    i_ss = I_SS * scale
    full = max(10.0 ** np.ceil(np.log10(np.max(np.abs(i[-i.size // 10:] * scale)))), 1e-9)
    offset = -0.0009 * full  # within the accuracy of that range, pulling I_ss down
    m = hold_measurement(t, i * scale + offset + rng.normal(0, 0.002 * i_ss, t.size))
    r = fit_dcpol(m, thickness_cm=0.1)
    assert r.accuracy_a == pytest.approx(1e-3 * full)
    assert any("states no current range" in w for w in r.warnings)
    lo, hi = r.i_ss_interval
    assert lo <= i_ss <= hi
    stated = fit_dcpol(m, thickness_cm=0.1, accuracy_a=0.0)
    assert stated.accuracy_a == 0 and not any("current range" in w for w in stated.warnings)
