"""Mechanics, the curated dataset, the CCD lines and the verdict API."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import load_benchmark

from sescreen import ccd, criteria, literature, mechanics
from sescreen.cli import main
from sescreen.errors import FormatError, InputError


# -- mechanics ----------------------------------------------------------------------------
@pytest.mark.parametrize(("stress", "model", "mv"), [
    (30e6, "pressure", -4.04), (100e6, "pressure", -13.47),
    (30e6, "han2019", -17.0), (100e6, "han2019", -27.0),
])
def test_critical_overpotential_values(stress, model, mv):
    r = mechanics.critical_overpotential(stress, model=model)
    assert r.critical_overpotential_v * 1e3 == pytest.approx(mv, abs=0.005)
    assert r.model == model
    assert ("REPORTED" in r.label) == (model == "han2019")


def test_reported_mode_is_labelled_and_warns_outside_range():
    r = mechanics.critical_overpotential(200e6, model="han2019")
    assert r.warnings and "extrapolated" in r.warnings[0]
    # the reported line is eq. (3) plus ~13 mV: slope close to Omega/F
    slope = (27 - 17) / 70e6
    assert slope == pytest.approx(mechanics.LI_MOLAR_VOLUME_M3 / 96485.33212 * 1e3, rel=0.07)


def test_griffith_and_inverses():
    surface = mechanics.critical_overpotential(
        model="griffith", fracture_toughness_pa_sqrt_m=1.25e6, flaw_size_m=10e-6,
        crack="surface")
    p = 1.25e6 / (1.12 * np.sqrt(np.pi * 10e-6))
    assert surface.inputs["critical_pressure_pa"] == pytest.approx(p)
    assert surface.critical_overpotential_v == pytest.approx(-mechanics.LI_MOLAR_VOLUME_M3 * p
                                                             / 96485.33212)
    # the default: an internal penny-shaped crack of radius a, K_I = 2 p sqrt(a / pi)
    internal = mechanics.critical_overpotential(
        model="griffith", fracture_toughness_pa_sqrt_m=1.25e6, flaw_size_m=10e-6)
    assert internal.crack == "internal" and surface.crack == "surface"
    assert internal.inputs["critical_pressure_pa"] == pytest.approx(
        1.25e6 / (2 * np.sqrt(10e-6 / np.pi)))
    assert internal.critical_overpotential_v / surface.critical_overpotential_v == \
        pytest.approx(1.12 * np.pi / 2)
    assert "penny" in internal.label and "1.12" in surface.label
    user = mechanics.critical_overpotential(
        model="griffith", fracture_toughness_pa_sqrt_m=1.25e6, flaw_size_m=10e-6,
        geometry_factor=1.0)
    assert user.crack == "user" and user.inputs["geometry_factor"] == 1.0
    with pytest.raises(InputError, match="crack geometry"):
        mechanics.critical_overpotential(model="griffith", fracture_toughness_pa_sqrt_m=1e6,
                                         flaw_size_m=1e-6, crack="edge")
    for model in ("pressure", "han2019"):
        phi = mechanics.critical_overpotential(55e6, model=model).critical_overpotential_v
        assert mechanics.fracture_stress_for(phi, model=model) == pytest.approx(55e6)
    with pytest.raises(InputError, match="flaw"):
        mechanics.critical_overpotential(model="griffith", fracture_toughness_pa_sqrt_m=1e6)
    with pytest.raises(InputError):
        mechanics.critical_overpotential(-5.0)


def test_critical_current_from_asr():
    r = mechanics.critical_overpotential(100e6)
    assert r.critical_current_density(10.0) == pytest.approx(13.4716 / 10.0, rel=1e-4)


def test_temperature_enters_through_inputs():
    hot = mechanics.critical_overpotential(30e6, molar_volume_m3=1.33e-5)
    cold = mechanics.critical_overpotential(30e6)
    assert hot.critical_overpotential_v < cold.critical_overpotential_v


# -- dataset ------------------------------------------------------------------------------
def test_dataset_rows_have_doi_and_confidence():
    df = literature.load_dataset()
    assert len(df) >= 30
    assert df["doi"].str.match(r"^10\.\d{4,9}/\S+$").all()
    assert df["confidence"].isin(literature.CONFIDENCE_TAGS).all()
    assert (df.loc[df["confidence"] == "V*", "exclude"] != "").all()
    assert not df.loc[df["ion"] != "Li", "usable_pair"].any()
    pairs = literature.fit_pairs(df)
    assert set(pairs["id"]) == {"han2019-llzo", "han2019-li3ps4", "han2019-lipon"}


def _corrupt(tmp_path, column, value, row=0):
    df = pd.read_csv(literature.DATASET, dtype=str, keep_default_na=False)
    df.loc[row, column] = value
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("column", "value", "match"), [
    ("formula", "Li7La3Zr2Q12", "pymatgen"),
    ("formula", "", "formula_note"),
    ("doi", "", "not a DOI"),
    ("doi", "doi.org/10.1/x", "not a DOI"),
    ("confidence", "X", "confidence"),
    ("sigma_e_s_cm", "abc", "not a number"),
    ("sigma_e_s_cm", "5.5e-3 S/cm", "not a number"),
    ("sigma_e_s_cm", "55", "outside"),
    ("ccd_ma_cm2", "-1", "outside"),
    ("ccd_censor", ">", "ccd_censor"),
    ("family", "rock", "family"),
    ("exclude", "", None),  # fine for a B row
])
def test_loader_refuses_malformed_rows(tmp_path, column, value, match):
    if column == "formula" and value == "":
        path = _corrupt(tmp_path, "formula_note", "", row=1)
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        df.loc[1, "formula"] = ""
        df.to_csv(path, index=False)
        row = 1
    else:
        path = _corrupt(tmp_path, column, value)
        row = 0
    if match is None:
        literature.load_dataset(path)
        return
    with pytest.raises(FormatError, match=match) as err:
        literature.load_dataset(path)
    assert f"line {row + 2}" in str(err.value) and "\n" not in str(err.value)


def test_loader_refuses_v_star_without_reason_and_missing_columns(tmp_path):
    df = pd.read_csv(literature.DATASET, dtype=str, keep_default_na=False)
    k = int(np.flatnonzero(df["confidence"] == "V*")[0])
    df.loc[k, "exclude"] = ""
    path = tmp_path / "v.csv"
    df.to_csv(path, index=False)
    with pytest.raises(FormatError, match="V\\*"):
        literature.load_dataset(path)
    df.drop(columns="doi").to_csv(path, index=False)
    with pytest.raises(FormatError, match="missing column"):
        literature.load_dataset(path)
    shutil.copy(literature.DATASET, path)
    assert len(literature.load_dataset(path)) == len(df)


def test_han_rows_match_the_papers_stated_numbers():
    """The han2019-* rows against datasets/literature/han2019_stated.csv, the one place the
    paper's numbers (each with its sentence) are kept."""
    stated = literature.han2019_stated()
    df = literature.load_dataset().set_index("id")
    llzo, lps, lipon = (df.loc[f"han2019-{m}"] for m in ("llzo", "li3ps4", "lipon"))
    assert llzo["formula"] == stated["llzo_formula"]["value"] == "Li6.4La3Zr1.4Ta0.6O12"
    assert stated["llzo_formula"]["value"] in stated["llzo_formula"]["quote"]
    for row, key in ((llzo, "llzo"), (lps, "li3ps4")):
        assert row["sigma_e_s_cm"] == stated[f"{key}_sigma_e"]["value"]
        assert row["sigma_e_temp_c"] == stated[f"{key}_sigma_e"]["temp_c"]
        assert row["ccd_ma_cm2"] == stated[f"{key}_ccd"]["value"]
        assert row["ccd_temp_c"] == stated[f"{key}_ccd"]["temp_c"]
        assert row["sigma_e_method"] == stated["sigma_e_method"]["value"]
        assert row["ccd_censor"] == ""
    assert lipon["sigma_e_lo_s_cm"] == stated["lipon_sigma_e_lo"]["value"]
    assert lipon["sigma_e_hi_s_cm"] == stated["lipon_sigma_e_hi"]["value"]
    assert lipon["ccd_ma_cm2"] == stated["lipon_ccd_lower"]["value"]
    assert lipon["ccd_censor"] == "lower"
    assert (criteria.SIGMA_E_MAX_1MA.sigma_e_max, criteria.SIGMA_E_MAX_10MA.sigma_e_max) == (
        stated["threshold_1ma"]["value"], stated["threshold_10ma"]["value"])
    assert ccd.CONSTRUCTION_POINTS == (
        (stated["llzo_sigma_e"]["value"], stated["llzo_ccd"]["value"]),
        (stated["lipon_sigma_e_hi"]["value"], stated["lipon_ccd_lower"]["value"]))


def test_corrected_rows_of_issue_13():
    df = literature.load_dataset().set_index("id")
    for k in ("singh2022-small", "singh2022-large"):
        assert np.isnan(df.loc[k, "sigma_ion_s_cm"]) and "1.56 and 1.95" in df.loc[k, "notes"]
    for k in ("song2025-lbpsi017", "song2025-lbpsi029"):
        assert df.loc[k, "sigma_e_method"] == "blocking" and "Ti|SE|Ti" in df.loc[k, "notes"]
    assert "not verified" in df.loc["wang2021-lyc", "notes"]


# -- CCD lines ----------------------------------------------------------------------------
def test_paper_construction_reproduces_thresholds():
    line = ccd.paper_construction()
    assert line.slope == pytest.approx(-0.485, abs=0.001)
    assert line.max_sigma_e(1.0)[0] == pytest.approx(1.15e-10, rel=0.01)
    assert line.max_sigma_e(10.0)[0] == pytest.approx(1.0e-12, rel=0.01)


def test_censored_fit_over_dataset():
    line = ccd.fit_ccd()
    assert line.n_points == 3 and line.n_censored == 1
    v1, (lo1, hi1) = line.max_sigma_e(1.0)
    assert lo1 < v1 < hi1 and lo1 < 1.15e-10 < hi1
    v10, (lo10, hi10) = line.max_sigma_e(10.0)
    assert lo10 < v10 < hi10 and lo10 < 1e-12 < hi10
    _, (plo, phi) = line.predicted_ccd(5.5e-8)
    assert plo < 0.05 < phi
    assert line.warnings


def test_censoring_is_not_reading_the_bound_as_a_value():
    """Treating '> 10' as 10 and as censored must differ: the bound pulls the fit up."""
    x = np.array([1e-8, 1e-9, 1e-10, 1e-12])
    pairs = pd.DataFrame({"id": list("abcd"), "sigma_e_s_cm": x,
                          "ccd_ma_cm2": [0.1, 0.3, 1.0, 10.0], "ccd_censor": ["", "", "",
                                                                              "lower"]})
    censored = ccd.fit_ccd(pairs, n_draws=4000)
    plain = ccd.fit_ccd(pairs.assign(ccd_censor=""), n_draws=4000)
    assert censored.predicted_ccd(1e-12)[0] >= plain.predicted_ccd(1e-12)[0]


def test_censored_fit_recovers_a_known_line():
    rng = np.random.default_rng(1)
    x = 10 ** rng.uniform(-13, -7, 40)
    y = 10 ** (-5.0 - 0.5 * np.log10(x) + rng.normal(0, 0.2, 40))
    cens = np.where(y > 5.0, "lower", "")
    y = np.where(y > 5.0, 5.0, y)
    pairs = pd.DataFrame({"id": [str(k) for k in range(40)], "sigma_e_s_cm": x,
                          "ccd_ma_cm2": y, "ccd_censor": cens})
    line = ccd.fit_ccd(pairs, n_draws=20000)
    assert line.slope == pytest.approx(-0.5, abs=0.08)
    assert line.scatter == pytest.approx(0.2, abs=0.07)
    assert line.max_sigma_e(1.0)[1][0] < 1e-10 < line.max_sigma_e(1.0)[1][1]


def test_ccd_threshold_coverage_sample():
    """A sample of tests/benchmarks/ccd_coverage.py (independent generator, the curated
    design: a LiPON-like sigma_e range, CCDs >= 10 reported as bounds): the 95 % intervals of
    sigma_e,max cover the truth (issue 13: the bootstrap covered 45-65 %)."""
    bench = load_benchmark("ccd_coverage.py")
    for n in (3, 6):
        c1, c10, width, refused = bench.coverage(n, 0.3, trials=150, seed=7, n_draws=4000)
        assert 0.86 <= c1 <= 1.0 and 0.86 <= c10 <= 1.0, (n, c1, c10)
        assert refused == 0 and width > 0.5


def test_sigma_e_range_is_interval_censored():
    """LiPON's 1e-15..1e-12 is used as a range: moving the value column inside the range
    changes nothing, while reading it as a point at 1e-14 would change the fit."""
    pairs = literature.fit_pairs()
    base = ccd.fit_ccd(pairs, n_draws=8000)
    moved = pairs.copy()
    moved.loc[moved["id"] == "han2019-lipon", "sigma_e_s_cm"] = 1e-14
    assert ccd.fit_ccd(moved, n_draws=8000).max_sigma_e(1.0) == base.max_sigma_e(1.0)
    point = moved.assign(sigma_e_lo_s_cm=np.nan, sigma_e_hi_s_cm=np.nan)
    assert ccd.fit_ccd(point, n_draws=8000).slope != pytest.approx(base.slope, abs=0.02)
    with pytest.raises(InputError, match="range"):
        ccd.fit_ccd(pairs.assign(sigma_e_lo_s_cm=1e-9, sigma_e_hi_s_cm=1e-10))


def test_a_sigma_e_upper_bound_given_directly_is_left_out_with_a_warning():
    """fit_pairs leaves sigma_e_bound = upper out of the bundled fit; pairs handed to
    fit_ccd directly get the same rule (a bound read as a value would place a pair)."""
    pairs = literature.fit_pairs()
    base = ccd.fit_ccd(pairs, n_draws=8000)
    extra = pairs.iloc[[0]].assign(id="bound-row", sigma_e_s_cm=1e-6, ccd_ma_cm2=20.0,
                                   ccd_censor="", sigma_e_lo_s_cm=np.nan,
                                   sigma_e_hi_s_cm=np.nan, sigma_e_bound="upper")
    both = pd.concat([pairs.assign(sigma_e_bound=""), extra], ignore_index=True)
    line = ccd.fit_ccd(both, n_draws=8000)
    assert line.max_sigma_e(1.0) == base.max_sigma_e(1.0)
    assert any("upper bound" in w and "left out" in w for w in line.warnings)
    as_value = ccd.fit_ccd(both.assign(sigma_e_bound=""), n_draws=8000)
    assert as_value.max_sigma_e(1.0)[0] != pytest.approx(base.max_sigma_e(1.0)[0], rel=0.05)
    with pytest.raises(InputError, match="sigma_e_bound"):
        ccd.fit_ccd(both.assign(sigma_e_bound="lower"))


# -- verdict API --------------------------------------------------------------------------
def test_named_constants_and_max_sigma_e():
    assert criteria.SIGMA_E_MAX_1MA.sigma_e_max == 1e-10
    assert criteria.SIGMA_E_MAX_10MA.sigma_e_max == 1e-12
    assert "Han" in criteria.SIGMA_E_MAX_1MA.label
    assert criteria.max_sigma_e(1.0) is criteria.SIGMA_E_MAX_1MA
    mid = criteria.max_sigma_e(3.0)
    assert mid.sigma_e_max == pytest.approx(1e-10 / 9) and "interpolated" in mid.label
    fit = criteria.max_sigma_e(1.0, source="fit")
    assert fit.interval is not None
    with pytest.raises(InputError):
        criteria.max_sigma_e(0.0)
    with pytest.raises(InputError, match="source"):
        criteria.max_sigma_e(1.0, source="magic")


def test_verdict_margins_and_probability():
    v = criteria.verdict(1e-11, sd_log10=0.5)
    assert v.passes_1ma and not v.passes_10ma
    assert v.margin_1ma_decades == pytest.approx(1.0)
    assert v.margin_10ma_decades == pytest.approx(-1.0)
    assert v.p_pass_1ma == pytest.approx(0.97725, abs=1e-4)  # Phi(2)
    assert v.p_pass_10ma == pytest.approx(0.02275, abs=1e-4)
    assert criteria.verdict(1e-11).p_pass_1ma is None
    hot = criteria.verdict(1e-11, temperature_k=333.15)
    assert hot.warnings and "above the 25 C" in hot.warnings[0]
    with pytest.raises(InputError):
        criteria.verdict(-1.0)


def test_judge_is_vectorized_and_matches_verdict():
    s = pd.Series([1e-13, 5e-11, 2e-10, 1e-8], index=list("abcd"))
    out = criteria.judge(s, stderr=0.3 * s)
    assert list(out.index) == list("abcd")
    assert out["passes_1ma"].tolist() == [True, True, False, False]
    assert out["passes_10ma"].tolist() == [True, False, False, False]
    one = criteria.verdict(5e-11, stderr=1.5e-11)
    assert out.loc["b", "p_pass_1ma"] == pytest.approx(one.p_pass_1ma)
    big = pd.Series(10 ** np.random.default_rng(0).uniform(-14, -6, 200_000))
    assert len(criteria.judge(big, sd_log10=0.2)) == 200_000


# -- CLI ----------------------------------------------------------------------------------
def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_cli_mechanics_contract():
    r = _run("mechanics", "--fracture-stress", "100MPa", "--json")
    data = json.loads(r.output)
    assert data["critical_overpotential_v"] == pytest.approx(-0.01347, abs=1e-5)
    assert data["model"] == "pressure" and data["inputs"]["fracture_stress_pa"] == 1e8
    r = _run("mechanics", "--fracture-stress", "30 MPa", "--model", "han2019", "--json")
    assert json.loads(r.output)["critical_overpotential_v"] == pytest.approx(-0.017)
    r = _run("mechanics", "--model", "griffith", "--k-ic", "0.23 MPa*m^0.5", "--flaw", "5um",
             "--asr", "50 ohm*cm^2", "--json")
    data = json.loads(r.output)
    assert data["critical_current_density_ma_cm2"] > 0 and "model" in data[
        "critical_current_label"]
    r = _run("mechanics", "--fracture-stress", "100 mV")
    assert r.exit_code == 2 and "pressure" in r.stderr


def test_cli_criteria_contract():
    data = json.loads(_run("criteria", "--ccd", "1mA/cm2", "--json").output)
    assert data["max_sigma_e"] == 1e-10
    data = json.loads(_run("criteria", "--ccd", "10 mA/cm^2", "--source", "fit",
                           "--json").output)
    assert data["max_sigma_e_interval"][0] < data["max_sigma_e"] < data[
        "max_sigma_e_interval"][1]
    data = json.loads(_run("criteria", "--sigma-e", "1e-9", "--source", "fit",
                           "--json").output)
    assert 0 < data["predicted_ccd"] < 1 and len(data["predicted_ccd_interval"]) == 2
    out = _run("criteria").output
    assert "1.15e-10" in out and "construction" in out


def _hold(tmp_path, sigma_e, name, *, tau2=1000.0, hold_s=20000, noise=0.01, seed=3):
    """A two-exponential hold (0.5 V, 0.5 mm, 1 cm2) of known sigma_e, written as .mpt."""
    from sescreen.io.writers import write_mpt
    from sescreen.synthetic import dcpol_record, i_ss_for

    i_ss = i_ss_for(sigma_e, 0.5, 0.05, 1.0)
    m = dcpol_record("exp2", dict(i_ss=i_ss, a1=5 * i_ss, tau1=100.0, a2=2 * i_ss,
                                  tau2=tau2), hold_s=hold_s, dt_s=10, noise_a=noise * i_ss,
                     rng=np.random.default_rng(seed), voltage_v=0.5)
    return write_mpt(tmp_path / name, m.time_s, m.current_a, applied_voltage_v=0.5)


def test_cli_check_exit_codes(tmp_path, examples):
    # the 30 C hold stopped at 2.5 tau: an upper bound only, far above the threshold
    early = _run("check", str(examples / "dcpol" / "llzo_like_30C.mpt"), "--thickness", "1mm")
    assert early.exit_code == 3 and early.output.startswith("INCONCLUSIVE")
    assert "upper bound only" in early.output and "would settle it" in early.output
    bad = _run("check", str(examples / "dcpol" / "llzo_like_45C.mpt"), "--thickness", "1mm",
               "--json")
    assert bad.exit_code == 1
    data = json.loads(bad.output)
    assert data["passes"] is False and data["outcome"] == "fail"
    lo, hi = data["sigma_e_interval"]
    assert 1e-10 < lo <= data["sigma_e"] <= hi and "above" in data["reason"]
    good = _hold(tmp_path, 2e-11, "good.mpt")
    r = _run("check", str(good), "--thickness", "0.5mm", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["sigma_e"] == pytest.approx(2e-11, rel=0.02) and data["passes"]
    assert data["outcome"] == "pass" and data["sigma_e_interval"][1] < 1e-10
    r = _run("check", str(good), "--thickness", "0.5mm", "--target", "10mA/cm2")
    assert r.exit_code == 1 and r.output.startswith("FAIL") and "reason: " in r.output
    r = _run("check", str(good), "--thickness", "0.5mm", "--target", "10 V")
    assert r.exit_code == 2


def test_cli_check_inconclusive_at_the_threshold(tmp_path):
    """sigma_e at the 1e-10 threshold, hold stopped while the slow term is still 27 % of
    I_ss: the interval straddles the threshold, so neither PASS nor FAIL, exit 3."""
    path = _hold(tmp_path, 1e-10, "edge.mpt", tau2=4000.0, hold_s=8000, noise=0.05)
    r = _run("check", str(path), "--thickness", "0.5mm", "--json")
    assert r.exit_code == 3, r.output
    data = json.loads(r.output)
    assert data["outcome"] == "inconclusive" and data["passes"] is False
    lo, hi = data["sigma_e_interval"]
    assert lo <= 1e-10 <= hi
    assert data["reason"] and ("straddles" in data["reason"] or "bound" in data["reason"])
    human = _run("check", str(path), "--thickness", "0.5mm")
    assert human.exit_code == 3 and human.output.startswith("INCONCLUSIVE")
    assert "reason: " in human.output


def test_judge_at_any_target_matches_the_verdict():
    at1 = criteria.judge_at(1e-11, 1.0, sd_log10=0.5)
    v = criteria.verdict(1e-11, sd_log10=0.5)
    assert at1["passes"] == v.passes_1ma and at1["p_pass"] == pytest.approx(v.p_pass_1ma)
    at3 = criteria.judge_at(1e-11, 3.0)
    assert at3["threshold"] == pytest.approx(1e-10 / 9) and at3["p_pass"] is None
    assert at3["margin_decades"] == pytest.approx(np.log10(1e-10 / 9 / 1e-11))


def test_fit_source_probability_includes_threshold_uncertainty():
    """sigma_e 8e-11 +/- 10 %: certain to pass the stated 1e-10, not the fitted threshold,
    whose own 95 % interval spans more than a decade."""
    stated = criteria.verdict(8e-11, stderr=8e-12)
    fitted = criteria.verdict(8e-11, stderr=8e-12, source="fit")
    assert stated.p_pass_1ma > 0.98  # Phi(2.2)
    assert 0.5 < fitted.p_pass_1ma < 0.95
    at = criteria.judge_at(8e-11, 1.0, stderr=8e-12, source="fit")
    assert at["p_pass"] == pytest.approx(fitted.p_pass_1ma)


# -- the three-outcome rule ----------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_LOG = st.floats(-16.0, -4.0, allow_nan=False)


@st.composite
def _intervals(draw):
    """(lo, hi) with lo possibly 0 (upper bound only) and hi possibly inf (lower only)."""
    a, b = sorted((draw(_LOG), draw(_LOG)))
    lo = 0.0 if draw(st.booleans()) and draw(st.booleans()) else 10.0 ** a
    hi = math.inf if draw(st.booleans()) and draw(st.booleans()) else 10.0 ** b
    return lo, hi


@settings(max_examples=400, deadline=None)
@given(_intervals(), _LOG, st.sampled_from([None, (0.3, 2.0), (0.9, 1.1)]),
       st.floats(0.0, 1.0))
def test_rule_never_passes_when_hi_reaches_the_threshold(iv, log_thr, thr_iv, where):
    """PASS needs hi < threshold, FAIL needs lo > threshold, with or without the
    threshold's own uncertainty (which can only widen the decision)."""
    lo, hi = iv
    thr = 10.0 ** log_thr
    # the point value somewhere inside the interval (or none)
    if math.isfinite(hi) and lo > 0:
        v = 10 ** (math.log10(lo) + where * (math.log10(hi) - math.log10(lo)))
    else:
        v = hi if math.isfinite(hi) else lo
    t_iv = None if thr_iv is None else (thr * thr_iv[0], thr * thr_iv[1])
    code = int(criteria.decide(lo, hi, thr, sigma_e=v, threshold_interval=t_iv))
    outcome = criteria.OUTCOMES[code]
    if hi >= thr:
        assert outcome != "pass"
    if lo <= thr:
        assert outcome != "fail"
    if t_iv is None:  # exact threshold: the rule itself, nothing more conservative
        assert (outcome == "pass") == (hi < thr) and (outcome == "fail") == (lo > thr)
    else:  # the threshold's uncertainty can turn a decision inconclusive, never flip it
        plain = criteria.OUTCOMES[int(criteria.decide(lo, hi, thr))]
        assert outcome in (plain, "inconclusive")


def test_judge_and_the_scalar_api_agree_with_decide():
    rng = np.random.default_rng(5)
    lo = 10 ** rng.uniform(-14, -8, 2000)
    hi = lo * 10 ** rng.uniform(0, 3, lo.size)
    lo[::7] = 0.0
    hi[::11] = np.inf
    sig = np.where(np.isfinite(hi), np.sqrt(np.maximum(lo, 1e-30) * np.where(
        np.isfinite(hi), hi, 1.0)), lo)
    sig = np.where(sig > 0, sig, hi)
    out = criteria.judge(sig, lo=lo, hi=hi)
    codes = criteria.decide(lo, hi, 1e-10)
    assert out["outcome_1ma"].tolist() == [criteria.OUTCOMES[c] for c in codes]
    assert (out["passes_1ma"] == (out["outcome_1ma"] == "pass")).all()
    for k in range(0, 2000, 97):
        v = criteria.verdict(sig[k], interval=(lo[k], hi[k]))
        assert v.outcome_1ma == out["outcome_1ma"].iloc[k]
        assert v.outcome_10ma == out["outcome_10ma"].iloc[k]


def test_stderr_gives_a_log_normal_interval():
    lo, hi = criteria.interval_from_stderr(5e-11, stderr=1e-11)
    assert lo == pytest.approx(5e-11 * math.exp(-1.96 * 0.2), rel=1e-3)
    assert hi == pytest.approx(5e-11 * math.exp(1.96 * 0.2), rel=1e-3)
    v = criteria.verdict(5e-11, stderr=1e-11)
    assert v.sigma_e_interval == pytest.approx((lo, hi))
    assert v.outcome_1ma == "pass"  # hi = 7.4e-11
    wide = criteria.verdict(5e-11, stderr=4e-11)  # hi = 1.2e-10
    assert wide.outcome_1ma == "inconclusive" and not wide.passes_1ma
    assert "straddles" in wide.reason_1ma and "1e-10 S/cm threshold" in wide.reason_1ma
    # a point value with no uncertainty is judged as before
    assert criteria.verdict(5e-11).outcome_1ma == "pass"
    assert criteria.verdict(2e-10).outcome_1ma == "fail"
    # P(pass) from the interval reported: 0.975 when hi sits on the threshold
    at = criteria.judge_at(5e-11, 1.0, interval=(2e-11, 1e-10))
    assert at["outcome"] == "inconclusive" and at["p_pass"] == pytest.approx(0.975, abs=1e-3)


def test_one_sided_results():
    """An upper bound can pass, never fail; a lower bound can fail, never pass."""
    up = criteria.verdict(1e-15, interval=(0.0, 5e-11))
    assert up.outcome_1ma == "pass" and up.upper_bound_only
    assert up.outcome_10ma == "inconclusive"
    assert "only an upper bound" in up.reason_10ma and "never fail" in up.reason_10ma
    assert up.p_pass_1ma is None and up.p_pass_10ma is None
    # the margin is the bound's, not the collapsed point's (+5 decades)
    assert up.margin_1ma_decades == pytest.approx(math.log10(1e-10 / 5e-11))
    huge = criteria.judge_at(1e-9, 1.0, interval=(1e-12, 1e-6), upper_bound_only=True)
    assert huge["outcome"] == "inconclusive" and huge["sigma_e_interval"][0] == 0.0
    assert criteria.judge_at(0.0, 1.0, interval=(0.0, 1e-6))["outcome"] == "inconclusive"
    low = criteria.verdict(3e-11, interval=(2e-11, math.inf))
    assert low.outcome_1ma == "inconclusive" and "never pass" in low.reason_1ma
    assert low.outcome_10ma == "fail" and "lower bound" in low.reason_10ma
    assert criteria.verdict(1e-9, interval=(5e-10, math.inf)).outcome_1ma == "fail"
    data = json.loads(json.dumps(low.summary()))
    assert data["sigma_e_interval"] == [2e-11, None]
    # vectorized: hi alone is an upper bound, lo alone a lower bound
    out = criteria.judge(np.array([1e-11, 1e-11]), hi=np.array([5e-11, 5e-10]))
    assert out["outcome_1ma"].tolist() == ["pass", "inconclusive"]
    assert out["outcome_10ma"].tolist() == ["inconclusive", "inconclusive"]
    assert out["p_pass_1ma"].isna().all()
    out = criteria.judge(np.array([1e-9, 1e-9]), lo=np.array([5e-10, 5e-11]))
    assert out["outcome_1ma"].tolist() == ["fail", "inconclusive"]
    out = criteria.judge(pd.Series([3e-11, 3e-11, np.nan]), stderr=np.array([1e-12] * 3),
                         upper_bound_only=[False, True, False])
    assert out["outcome_1ma"].tolist()[:2] == ["pass", "pass"]
    assert pd.isna(out["outcome_1ma"].iloc[2]) and out["sigma_e_lo"].iloc[1] == 0.0
    with pytest.raises(InputError):
        criteria.judge(np.array([1e-11]), lo=np.array([2e-11]), hi=np.array([1e-11]))


def test_inconclusive_reason_says_how_long_to_hold():
    v = criteria.verdict(9e-11, interval=(6e-11, 1.4e-10), steady_state_reached=False,
                         t_steady_estimate=50_000.0, t_hold=20_000.0)
    assert v.outcome_1ma == "inconclusive"
    # the fitted decay's time: a lower bound, said as one (a slower decay needs longer)
    assert "a hold of at least about 14 h (this one: 5.6 h)" in v.reason_1ma
    assert "(the fitted decay's time; a slower one needs longer)" in v.reason_1ma
    assert ">= ~14 h" in v.short_reason_1ma
    assert "a hold of" not in v.reason_10ma  # decided: FAIL needs no longer hold
    settled = criteria.verdict(9e-11, interval=(6e-11, 1.4e-10), steady_state_reached=True,
                               t_steady_estimate=50_000.0, t_hold=20_000.0)
    assert "a hold of" not in settled.reason_1ma


def test_fit_source_judges_against_the_threshold_distribution():
    """source="fit": PASS iff P(pass) > 0.975 from the threshold's own (skewed) draws."""
    from scipy.special import ndtr

    thr = criteria.max_sigma_e(1.0, source="fit")
    t_lo, t_hi = thr.interval
    draws = thr.log10_draws
    assert draws is not None and np.all(np.diff(draws) >= 0)
    assert np.percentile(draws, 2.5) == pytest.approx(math.log10(t_lo), abs=1e-6)
    # skewed: the two 95 % half-widths differ (a symmetric summary would misstate P(pass))
    lt = math.log10(thr.sigma_e_max)
    assert abs((math.log10(t_hi) - lt) - (lt - math.log10(t_lo))) > 0.3
    # a point value below the median threshold but above its lower 95 % end: inconclusive
    point = criteria.verdict(0.8 * thr.sigma_e_max, source="fit")
    assert point.outcome_1ma == "inconclusive" and "posterior distribution" in point.reason_1ma
    assert point.p_pass_1ma == pytest.approx(np.mean(draws > math.log10(0.8 * thr.sigma_e_max)),
                                             abs=1e-3)
    assert criteria.verdict(0.8 * t_lo, source="fit").outcome_1ma == "pass"
    assert criteria.verdict(1.25 * t_hi, source="fit").outcome_1ma == "fail"
    # a two-sided interval: P(pass) is E over the draws of the two-piece normal CDF
    v, d_lo, d_hi = 1e-12, 0.3, 0.6
    at = criteria.judge_at(v, 1.0, interval=(v / 10 ** d_lo, v * 10 ** d_hi), source="fit")
    lv = math.log10(v)
    cdf = np.where(draws > lv, ndtr((draws - lv) / (d_hi / 1.959964)),
                   ndtr((draws - lv) / (d_lo / 1.959964)))
    assert at["p_pass"] == pytest.approx(cdf.mean(), abs=2e-3)
    assert (at["outcome"] == "pass") == (at["p_pass"] > 0.975)
    # one-sided: an upper bound is judged at its end, it can pass, never fail
    ub = criteria.judge_at(None, 1.0, interval=(0, 0.8 * t_lo), source="fit")
    assert ub["outcome"] == "pass" and ub["p_pass"] is None
    assert criteria.judge_at(None, 1.0, interval=(0, 1e-6), source="fit")["outcome"] == \
        "inconclusive"


def test_decide_takes_a_threshold_with_its_distribution():
    thr = criteria.max_sigma_e(1.0, source="fit")
    t_lo, t_hi = thr.interval
    v = np.array([0.5 * t_lo, thr.sigma_e_max, 2 * t_hi])
    codes = criteria.decide(v, v, thr, sigma_e=v)
    assert [criteria.OUTCOMES[c] for c in codes] == ["pass", "inconclusive", "fail"]
    assert list(codes) == list(criteria.judge(v, source="fit")["outcome_1ma"].cat.codes)


def test_decide_with_a_threshold_interval_adds_in_quadrature():
    """decide() given only a threshold interval: quadrature, side by side."""
    thr, t_lo, t_hi = 1e-10, 3e-11, 1e-9
    h = math.log10(thr) - math.log10(t_lo)
    v, d_hi = 1e-11, 0.5
    code = criteria.decide(v / 10 ** d_hi, v * 10 ** d_hi, thr, sigma_e=v,
                           threshold_interval=(t_lo, t_hi))
    top = math.log10(v) + math.hypot(d_hi, h)
    assert (int(code) == 0) == (top < math.log10(thr))
    assert int(criteria.decide(2e-11, 2e-11, thr, sigma_e=2e-11,
                               threshold_interval=(t_lo, t_hi))) == 0
    assert int(criteria.decide(5e-11, 5e-11, thr, sigma_e=5e-11,
                               threshold_interval=(t_lo, t_hi))) == 2


def test_cli_criteria_shows_outcomes():
    data = json.loads(_run("criteria", "--sigma-e", "8e-11", "--stderr", "2e-11",
                           "--json").output)
    assert data["outcome_1ma"] == "inconclusive" and data["outcome_10ma"] == "fail"
    assert data["sigma_e_interval"][0] < 1e-10 < data["sigma_e_interval"][1]
    assert "straddles" in data["reason_1ma"]
    assert data["verdict"]["outcome_1ma"] == "inconclusive"
    out = _run("criteria", "--sigma-e", "8e-11", "--stderr", "2e-11").output
    assert "INCONCLUSIVE" in out and "FAIL" in out
    data = json.loads(_run("criteria", "--sigma-e", "3e-11", "--ccd", "1mA/cm2",
                           "--json").output)
    assert data["outcome"] == "pass" and data["outcome_1ma"] == "pass"


def test_a_sigma_e_measured_away_from_room_temperature_is_a_one_sided_bound_there():
    """sigma_e rises with temperature: one measured below 25 C bounds it only from below at
    25 C (it can fail, never pass), one measured above only from above (it can pass, never
    fail). Before, a 10 C hold of a material 1.3x over the threshold passed (a review)."""
    cold = criteria.verdict(4.6e-11, interval=(4.5e-11, 4.7e-11), temperature_k=283.15)
    assert cold.outcome_1ma == "inconclusive" and cold.sigma_e_interval == (4.5e-11, math.inf)
    assert "below the 25 C" in cold.warnings[0]
    assert criteria.verdict(3e-10, interval=(2e-10, 4e-10),
                            temperature_k=283.15).outcome_1ma == "fail"
    hot = criteria.verdict(3e-10, interval=(2e-10, 4e-10), temperature_k=333.15)
    assert hot.outcome_1ma == "inconclusive" and hot.sigma_e_interval == (0.0, 4e-10)
    assert hot.upper_bound_only
    assert criteria.verdict(5e-11, interval=(4e-11, 6e-11),
                            temperature_k=333.15).outcome_1ma == "pass"
    at = criteria.judge_at(4.6e-11, 1.0, interval=(4.5e-11, 4.7e-11), temperature_k=283.15)
    assert at["outcome"] == "inconclusive"
    # within a kelvin it is taken as at room temperature
    assert criteria.verdict(4.6e-11, interval=(4.5e-11, 4.7e-11),
                            temperature_k=298.9).outcome_1ma == "pass"
    assert criteria.carried_to(1.0, 2.0, 300.0, 350.0) == (1.0, math.inf)
    assert criteria.carried_to(1.0, 2.0, 350.0, 300.0) == (0.0, 2.0)
