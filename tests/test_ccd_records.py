"""CCD from cycling records (sescreen.cycling, ``sescreen ccd``) on generated records with
known truth (tests/ccd_records.py) and on the real GCPL files of ../shared/realdata."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from ccd_records import random_case, screen_export, step_record
from click.testing import CliRunner

from sescreen.cli import main
from sescreen.cycling import SHORT_SIGNATURES, measure_ccd
from sescreen.errors import InputError, TechniqueError
from sescreen.literature import load_dataset


def _covers(result, truth) -> bool:
    lo, hi = result.interval_ma_cm2
    f = truth["failed_at_ma_cm2"]
    return result.shorted and lo < f * (1 - 1e-3) and f <= hi * (1 + 1e-3)


def test_interval_contains_the_true_failing_step_in_95_percent():
    rng = np.random.default_rng(20190)
    hits = [_covers(*(lambda m, t: (measure_ccd(m), t))(*random_case(rng, kind)))
            for kind in ("hard", "soft", "soft_then_hard") for _ in range(60)]
    assert np.mean(hits) >= 0.95


def test_no_false_short_on_200_records_that_never_short():
    rng = np.random.default_rng(7)
    outcomes = [measure_ccd(random_case(rng, "healthy")[0]).outcome for _ in range(200)]
    assert outcomes.count("shorted") == 0
    assert outcomes.count("no_short") >= 196  # "ambiguous" is allowed, rarely


def test_contact_loss_is_named_and_never_called_a_short():
    rng = np.random.default_rng(11)
    results = [measure_ccd(random_case(rng, "contact")[0]) for _ in range(100)]
    assert not any(r.shorted for r in results)
    assert sum(r.outcome == "contact_loss" for r in results) >= 95
    r = next(r for r in results if r.contact_loss is not None)
    assert r.censored and r.failed_at_ma_cm2 is None and "contact loss" in r.statement()


@pytest.mark.parametrize("kind", ["hard", "soft"])
def test_each_signature_explains_itself(kind):
    m, truth = step_record(np.random.default_rng(1), protocol="symmetric",
                           short_step=3, short_kind=kind, short_frac=0.4)
    r = measure_ccd(m)
    assert _covers(r, truth) and r.confidence >= 0.5
    assert {s.name for s in r.signatures} <= set(SHORT_SIGNATURES)
    for s in r.signatures:
        assert 0 < s.confidence <= 1 and s.detail and s.t_s > 0


@pytest.mark.parametrize("step_ua, short_ua", [(10, 50), (20, 120)])
def test_fig2_plating_protocol_gives_the_paper_ccd(step_ua, short_ua):
    """Han 2019 Fig. 2: Li|LLZO|Cu shorted at 50 uA/cm2, Li|Li3PS4|Pt at 120 uA/cm2 (25 C);
    the paper quotes the density at which the cell shorted: failed_at_ma_cm2."""
    densities = [step_ua * 1e-3 * (k + 1) for k in range(10)]
    m, _ = step_record(np.random.default_rng(2), protocol="plating", densities=densities,
                       step_s=1800.0, dt_s=10.0, asr_ohm_cm2=400.0, noise_v=2e-4,
                       short_step=densities.index(short_ua * 1e-3), short_frac=0.3)
    r = measure_ccd(m, cell="Li|LLZO|Cu", temperature_k=298.15)
    assert r.protocol == "plating" and r.shorted
    assert r.failed_at_ma_cm2 == pytest.approx(short_ua * 1e-3, rel=1e-3)
    assert r.ccd_ma_cm2 == pytest.approx((short_ua - step_ua) * 1e-3, rel=1e-3)
    assert "plating_return_to_zero" in {s.name for s in r.signatures}
    summary = r.summary()
    assert summary["temperature_k"] == 298.15 and summary["cell"] == "Li|LLZO|Cu"


def test_steps_and_asr_of_a_healthy_staircase():
    m, _ = step_record(np.random.default_rng(3), protocol="symmetric", rise=0.0,
                       densities=(0.1, 0.2, 0.4), asr_ohm_cm2=300.0, j0_ma_cm2=10.0)
    r = measure_ccd(m)
    assert r.outcome == "no_short" and r.censored and r.ccd_ma_cm2 == pytest.approx(0.4, 1e-3)
    assert [s.density_ma_cm2 for s in r.steps] == pytest.approx([0.1, 0.2, 0.4], rel=1e-3)
    # ohmic 300 ohm cm2 + charge transfer (2RT/F) asinh(j / 2 j0) / j ~ 2.6 ohm cm2
    assert [s.asr_ohm_cm2 for s in r.steps] == pytest.approx([302.6] * 3, rel=0.01)
    assert r.steps[0].capacity_mah_cm2 == pytest.approx(0.1 * 600 / 3600, rel=0.02)


def test_real_gcpl_files_give_no_short_with_their_steps(realdata):
    for name in ("gcpl.issue_149.mpr", "gcpl.issue_149.mpt"):
        r = measure_ccd(realdata / "biologic" / name, area_cm2=1.0)
        assert r.outcome == "no_short" and not r.signatures and r.contact_loss is None
        assert [s.density_ma_cm2 for s in r.steps] == pytest.approx([0.03], rel=1e-3)
        assert "no short detected" in r.statement()


def test_cli_json_text_and_plot(tmp_path, realdata):
    gcpl = str(realdata / "biologic" / "gcpl.issue_149.mpr")
    runner = CliRunner()
    res = runner.invoke(main, ["ccd", gcpl, "--area", "1cm2", "--json"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.output)
    assert obj["shorted"] is False and obj["failed_at_ma_cm2"] is None
    assert obj["ccd_ma_cm2"] == pytest.approx(0.03, rel=1e-3) and obj["signatures"] == []
    assert set(obj["steps"][0]) >= {"density_ma_cm2", "t_start_s", "t_end_s", "mean_v"}
    res = runner.invoke(main, ["ccd", gcpl, gcpl, "--area", "1cm2", "--json"])
    assert len(json.loads(res.output)["records"]) == 2
    out = tmp_path / "ccd.png"
    res = runner.invoke(main, ["ccd", gcpl, "--area", "1cm2", "--plot", str(out)])
    assert res.exit_code == 0 and "no short detected" in res.output and out.exists()


def test_bad_inputs_are_one_line_errors(realdata):
    runner = CliRunner()
    res = runner.invoke(main, ["ccd", str(realdata / "biologic" / "gcpl.issue_149.mpr")])
    assert res.exit_code == 2 and "--area" in res.output and "Traceback" not in res.output
    with pytest.raises(TechniqueError, match="galvanostatic"):
        measure_ccd(realdata / "biologic" / "ca.mpr")
    m, _ = step_record(np.random.default_rng(0))
    with pytest.raises(InputError, match="protocol"):
        measure_ccd(m, protocol="stripping")
    m.data.loc[5, "voltage_v"] = np.nan
    with pytest.raises(InputError, match="row 6"):
        measure_ccd(m)


def test_screen_shows_the_measured_ccd_and_exports_dataset_rows(tmp_path):
    densities = [0.01 * (k + 1) for k in range(8)]
    m, _ = step_record(np.random.default_rng(2), protocol="plating", densities=densities,
                       step_s=1800.0, dt_s=10.0, asr_ohm_cm2=400.0, short_step=4,
                       short_frac=0.3)
    res, export = screen_export(tmp_path, m, "LLZO-lab")
    assert res.exit_code == 0, res.output
    row = json.loads(res.stdout)["materials"][0]
    rows = pd.read_csv(export)
    assert list(rows.columns) == list(load_dataset().columns)
    assert rows.loc[0, "ccd_ma_cm2"] == pytest.approx(0.05, rel=1e-3)
    assert rows.loc[0, "sigma_e_s_cm"] == pytest.approx(5.5e-8)
    assert pd.isna(rows.loc[0, "ccd_censor"]) and rows.loc[0, "ccd_temp_c"] == 25
    assert row["measured_ccd_failed_at_ma_cm2"] == pytest.approx(0.05, rel=1e-3)
    assert row["measured_ccd_ma_cm2"] == pytest.approx(0.04, rel=1e-3)
    assert row["measured_ccd_censored"] is False and row["predicted_ccd"] > 0


def test_a_short_at_the_first_density_is_exported_as_an_upper_bound(tmp_path):
    """Nothing held: the CCD lies below the first density, so the dataset row says
    CCD <= it (ccd_censor upper), not CCD = it."""
    densities = [0.05 * (k + 1) for k in range(4)]
    m, _ = step_record(np.random.default_rng(4), protocol="plating", densities=densities,
                       step_s=1800.0, dt_s=10.0, asr_ohm_cm2=400.0, short_step=0,
                       short_frac=0.3)
    res, export = screen_export(tmp_path, m, "LLZO-lab")
    assert res.exit_code == 0, res.output
    rows = pd.read_csv(export, keep_default_na=False)
    assert float(rows.loc[0, "ccd_ma_cm2"]) == pytest.approx(0.05, rel=1e-3)
    assert rows.loc[0, "ccd_censor"] == "upper"


def test_lab_points_on_the_ccd_map_one_legend_entry_per_symbol():
    """Shorted: a point with its (held, failed] bar; never shorted and contact loss: lower
    bounds (open markers with arrows); sigma_e's interval horizontal; each symbol once in
    the legend."""
    from sescreen.plot import _LAB_STYLE, plot_ccd_map

    pts = pd.DataFrame([
        dict(name="A", sigma_e=4e-8, sigma_e_lo=2e-8, sigma_e_hi=8e-8, ccd_held_ma_cm2=0.04,
             ccd_failed_ma_cm2=0.05, outcome="shorted"),
        dict(name="A", sigma_e=4e-8, sigma_e_lo=2e-8, sigma_e_hi=8e-8, ccd_held_ma_cm2=0.06,
             ccd_failed_ma_cm2=0.08, outcome="shorted"),
        dict(name="B", sigma_e=1e-10, sigma_e_lo=5e-11, sigma_e_hi=3e-10, ccd_held_ma_cm2=0.8,
             ccd_failed_ma_cm2=np.nan, outcome="no_short"),
        dict(name="C", sigma_e=1e-12, sigma_e_lo=0.0, sigma_e_hi=3e-12, ccd_held_ma_cm2=2.0,
             ccd_failed_ma_cm2=np.nan, outcome="contact_loss")])
    ax = plot_ccd_map(measured=pts)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    for outcome in ("shorted", "no_short", "contact_loss"):
        assert labels.count(_LAB_STYLE[outcome][2]) == 1
    assert _LAB_STYLE["ambiguous"][2] not in labels
    assert "lab sigma_e: 95 % interval" in labels and "lab sigma_e: upper bound only" in labels
    arrows = [a for a in ax.texts if getattr(a, "arrow_patch", None) is not None
              and a.xy[0] == a.xyann[0] and a.xy[1] > a.xyann[1]]
    assert {(a.xyann[0], a.xyann[1]) for a in arrows} >= {(1e-10, 0.8), (1e-12, 2.0)}
    bars = [c for c in ax.containers if getattr(c, "has_yerr", False) and c.lines[0]
            .get_xdata().size]
    ys = sorted(float(c.lines[0].get_ydata()[0]) for c in bars)
    assert ys == pytest.approx([0.05, 0.08])


def test_a_soft_short_late_in_a_step_is_dated_at_that_step():
    """Soft short in the last 7 % of a step (a few dips at most there, its noise tripled):
    the rise of the scatter dates the onset of the short the next step confirms."""
    hits = 0
    for seed in range(20):
        m, truth = step_record(np.random.default_rng(seed), protocol="plating",
                               densities=[0.06, 0.09, 0.14, 0.21, 0.32], step_s=300.0,
                               dt_s=1.0, asr_ohm_cm2=400.0, j0_ma_cm2=0.63, rise=0.14,
                               noise_v=1e-4, rest_s=60.0, short_step=1, short_kind="soft",
                               short_frac=0.93, steps_after=2)
        hits += _covers(measure_ccd(m), truth)
    assert hits >= 19


def test_a_noisier_stretch_alone_never_claims_a_short():
    """The noise-rise mark only dates a short a later step confirms: a healthy record whose
    noise triples late in the last step (the mark fires in 4 of these 10) reports no short."""
    for seed in range(10):
        rng = np.random.default_rng(seed)
        m, _ = step_record(rng, protocol="plating", densities=[0.05, 0.1, 0.15, 0.2],
                           step_s=600.0, dt_s=2.0, asr_ohm_cm2=300.0, noise_v=1e-4)
        v = m.data["voltage_v"].to_numpy().copy()
        late = m.data["time_s"].to_numpy() > 0.8 * m.data["time_s"].iloc[-1]
        v[late] += rng.normal(0, 3e-4, late.sum())
        m.data["voltage_v"] = v
        r = measure_ccd(m)
        assert r.outcome == "no_short", str(r)
