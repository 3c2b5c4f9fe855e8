"""Figures a reviewer would accept (issue 14): CCD-map labels that do not overlap and a
legend naming every kind of mark; the Arrhenius legend beside the axes and no "± 0.000";
NDP axes with SI prefixes and µm."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from sescreen.plot import place_labels, plot_arrhenius, plot_ccd_map, value_pm


def _close(ax):
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


def test_value_pm_significant_figures():
    assert value_pm(0.44994, 0.00014) == "0.44994 ± 0.00014"
    assert value_pm(0.512, 0.0131) == "0.512 ± 0.013"
    assert value_pm(0.5, 0.0) == "0.5" and "±" not in value_pm(0.5, float("nan"))
    assert value_pm(0.5, None) == "0.5"
    assert value_pm(0.55, 1e-6) == "0.55000 (± < 0.00001)"  # never "± 0.000"


def test_ccd_map_labels_do_not_overlap_and_legend_is_complete():
    # candidates close together on the fit line (as Li3YCl6 and Li3PS4-like are)
    cands = pd.DataFrame({"name": ["Li3YCl6", "Li3PS4-like", "near-twin", "LLZO-like"],
                          "sigma_e": [1.51e-9, 1.75e-9, 1.9e-9, 4.1e-8]})
    ax = plot_ccd_map(candidates=cands)
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    names = set(cands["name"])
    boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text() in names]
    assert len(boxes) == len(names)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    for needed in ("same-study pair", "excluded (inconsistent) pair", "CCD lower bound (arrow)",
                   "literature range (box)", "sigma_e without a CCD (rug)",
                   "candidate (on the fit)", "thresholds (Han 2019)", "fit: 95 % band"):
        assert needed in legend, legend
    # the legend sits beside the axes, not over the data
    assert ax.get_legend().get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    _close(ax)


def test_place_labels_never_stack_on_one_point():
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    anns = place_labels(ax, [(f"label {k}", 5.0, 5.0) for k in range(4)])
    r = ax.figure.canvas.get_renderer()
    boxes = [a.get_window_extent(r) for a in anns]
    assert len(ax.texts) == 4
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    plt.close(ax.figure)


def test_arrhenius_legend_beside_points_without_zero_error():
    from sescreen.arrhenius import fit_arrhenius

    t = np.array([303.15, 318.15, 333.15, 353.15])
    sigma = 1e3 * np.exp(-0.45 / (8.617333262e-5 * t))
    fit = fit_arrhenius(t, sigma, material="exact")  # a perfect line: stderr ~ 0
    ax = plot_arrhenius([fit], at_k=298.15)
    r = ax.figure.canvas.get_renderer()
    texts = [x.get_text() for x in ax.get_legend().get_texts()]
    assert not any("± 0.000" in x or "+/- 0.000" in x for x in texts), texts
    assert "Ea = 0.45000 (± < 0.00001) eV (sigma)" in texts
    assert any(x.startswith("Ea = ") for x in texts)
    assert ax.get_legend().get_window_extent(r).x0 >= ax.get_window_extent(r).x1
    _close(ax)


def test_ndp_axes_si_prefixes_and_micrometres(examples):
    from sescreen.screening import screen

    res = screen(pd.DataFrame(screen_rows(examples)))
    analysis = next(iter(res.ndp.values()))
    axes = analysis.plot()
    fig = axes[0].figure
    fig.canvas.draw()
    for ax in axes:
        assert "um)" not in ax.get_xlabel()
        assert ax.yaxis.get_offset_text().get_text() == ""  # no 1e22 above the axis
        labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        assert not any("e+" in x or "1e" in x for x in labels), labels
    assert "µm" in axes[0].get_xlabel() and "Z = 10²¹" in axes[0].get_ylabel()
    import matplotlib.pyplot as plt

    plt.close(fig)


def screen_rows(examples):
    from sescreen.screening import read_candidates

    table = read_candidates(examples / "candidates.csv")
    return table[table["ndp"].apply(lambda v: isinstance(v, str))]


@pytest.fixture(autouse=True)
def _no_leak():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_the_summary_says_no_nan_for_an_ndp_series_without_onset_or_standard():
    """An NDP series with no onset (or no 10B standard) has NaN onset and host fraction in
    the screening table; the report's summary had printed 'onset nan s, nan % of host Li'."""
    import math

    from sescreen.report import _env, constants, provenance

    row = {"material": "X", "rank": 1, "ndp_growth": "no detectable change",
           "ndp_onset_s": math.nan, "ndp_dendrite_fraction": math.nan,
           "outcome_1ma": "inconclusive", "outcome_10ma": "inconclusive"}
    html = _env().get_template("screening.html.j2").render(
        title="t", rows=[row], operating_c=25.0, dc_figures=[], arrhenius_uri=None,
        ccd_uri=None, ccd_records=[], ndp_panels=[], warnings=[], constants=constants(),
        provenance=provenance([]))
    assert "<td>no detectable change</td>" in html
    assert not re.search(r"\bnan\b", html, re.IGNORECASE)
