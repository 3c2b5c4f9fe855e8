"""The screening table as a figure: each material's sigma_e interval against the dendrite
thresholds of Han et al. 2019 (1e-10 S/cm at 1 mA/cm^2, 1e-12 S/cm at 10 mA/cm^2)."""

from __future__ import annotations

import numpy as np

from sescreen.plot import _pyplot

__all__ = ["plot_screening"]

_COLOURS = {"pass": "tab:green", "fail": "tab:red", "inconclusive": "tab:gray"}


def plot_screening(table, ax=None, *, operating_k: float | None = None):
    """sigma_e (S/cm, log axis) per material with its 95 % interval, coloured by the
    1 mA/cm^2 verdict; an interval reaching 0 (upper bound only) is a leftward arrow from
    its upper end; the two thresholds as vertical lines.

    Parameters
    ----------
    table : DataFrame
        :attr:`sescreen.screening.ScreeningResult.table` (``material``, ``sigma_e``,
        ``sigma_e_interval_lo``, ``sigma_e_interval_hi``, ``outcome_1ma``).
    ax : Axes, optional
        Default: a new figure, one row per material.
    operating_k : float, optional
        Operating temperature, K, for the title.
    """
    from sescreen.criteria import max_sigma_e

    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 1.2 + 0.35 * max(len(table), 1)))
    ax.set_xscale("log")
    for y, (_, r) in enumerate(table.iterrows()):
        x, lo, hi = (float(r.get(k, np.nan)) for k in
                     ("sigma_e", "sigma_e_interval_lo", "sigma_e_interval_hi"))
        colour = _COLOURS.get(r.get("outcome_1ma"), "tab:gray")
        if np.isfinite(hi) and not (np.isfinite(lo) and lo > 0):
            ax.plot([hi / 30, hi], [y, y], color=colour)  # an upper bound: an arrow left
            ax.plot([hi / 30], [y], "<", color=colour)
            ax.plot([hi], [y], "|", color=colour, ms=10)
        elif np.isfinite(x) and x > 0:
            err = [[x - lo if np.isfinite(lo) else 0.0], [hi - x if np.isfinite(hi) else 0.0]]
            ax.errorbar([x], [y], xerr=err, fmt="o", color=colour, capsize=3)
    for density, style in ((1.0, "--"), (10.0, ":")):
        thr = max_sigma_e(density, source="han2019").sigma_e_max
        ax.axvline(thr, color="k", ls=style, lw=1, label=f"{thr:.0e} S/cm ({density:g} mA/cm$^2$)")
    ax.set_yticks(range(len(table)), [str(m) for m in table.get("material", [])])
    ax.invert_yaxis()
    ax.set_xlabel("electronic conductivity $\\sigma_e$ (S/cm), 95 % interval")
    at = "" if operating_k is None else f" at {operating_k - 273.15:.4g} C"
    ax.set_title(f"screening{at}: green PASS, red FAIL, grey INCONCLUSIVE at 1 mA/cm$^2$")
    ax.legend(loc="best", fontsize=8)
    return ax
