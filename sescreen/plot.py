"""matplotlib figures of sescreen results: functions that take an Axes (or make one) and
return it. matplotlib is imported here only, when a figure is asked for; the Agg backend is
used unless one was chosen already, so figures work on machines without a screen.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_arrhenius", "plot_ccd_map", "plot_dcpol", "plot_depth_calibrations",
           "plot_lab_ccd", "plot_ndp", "plot_voltage_series", "save_figure"]


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in {"agg", "pdf", "svg", "cairo"} and \
            "inline" not in matplotlib.get_backend().lower():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_dcpol(result, ax=None):
    """Current vs time since the step (log axis): data, log-time bins, fit, asymptote and
    its 95 % band, tail mean; residuals of the bins in a panel below.

    Parameters
    ----------
    result : DCPolarizationResult
    ax : matplotlib Axes, optional
        Main panel; the residual panel is appended below it. A new figure when None.

    Returns
    -------
    matplotlib Axes
        The main panel.
    """
    plt = _pyplot()
    from mpl_toolkits.axes_grid1 import make_axes_locatable

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5))
    t, i = result._raw
    fit = result._fit
    b = fit.binned
    scale = fit.scale
    unit, k = _current_unit(max(abs(result.i_ss), np.median(np.abs(i))))
    ax.plot(t, i / k, ".", ms=2, color="0.7", label="data", zorder=1)
    ax.errorbar(b.t, b.y * scale / k, yerr=b.sem * abs(scale) / k, fmt="o", ms=3,
                color="C0", label="log-time bins", zorder=2)
    tt = np.geomspace(t[0], max(t[-1], result.t_steady_estimate or t[-1]) * 1.2, 400)
    ax.plot(tt, result.predict(tt) / k, "-", color="C3", label=f"fit ({result.model})",
            zorder=3)
    lo, hi = result.i_ss_interval
    ax.axhline(result.i_ss / k, color="C3", ls="--", lw=1,
               label=f"I_ss = {result.i_ss / k:.3g} {unit}")
    ax.axhspan(lo / k, hi / k, color="C3", alpha=0.12, label="I_ss 95 %")
    ax.axhline(result.tail_mean_i / k, color="C2", ls=":", lw=1,
               label=f"tail mean = {result.tail_mean_i / k:.3g} {unit}")
    ax.axvline(result.t_hold, color="0.4", lw=0.8)
    if result.t_steady_estimate and result.t_steady_estimate > result.t_hold:
        ax.axvline(result.t_steady_estimate, color="0.4", lw=0.8, ls="--")
        ax.annotate("fitted transient 1 % of I_ss", (result.t_steady_estimate, ax.get_ylim()[0]),
                    ha="right", va="bottom", fontsize=7, rotation=90, color="0.3")
    ax.set_xscale("log")
    ax.set_ylabel(f"current ({unit})")
    state = "steady state reached" if result.steady_state_reached else "not at steady state"
    # y=1 placed explicitly: no tick labels on top, so where matplotlib would put it, without
    # measuring every tick label twice per save (a quarter of the figure's save time)
    ax.set_title(f"{result.source}: {result.voltage_v:+.3g} V, {state}", fontsize=10, y=1.0)
    ax.legend(fontsize=8, loc="upper right")
    divider = make_axes_locatable(ax)
    rax = divider.append_axes("bottom", size="28%", pad=0.08, sharex=ax)
    rax.plot(b.t, fit.bin_residuals(), "o", ms=3, color="C0")
    rax.axhline(0, color="0.3", lw=0.8)
    rax.set_ylabel("resid./s.e.", fontsize=8)
    rax.set_xlabel("time since the voltage step (s)")
    ax.tick_params(labelbottom=False)
    return ax


def plot_voltage_series(result, ax=None):
    """I_ss vs V with error bars and the weighted line whose slope gives sigma_e."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    v = np.array([s.voltage_v for s in result.steps])
    i = np.array([s.i_ss for s in result.steps])
    e = np.array([s.i_ss_stderr for s in result.steps])
    unit, k = _current_unit(np.abs(i).max())
    ax.errorbar(v, i / k, yerr=1.96 * e / k, fmt="o", label="I_ss (95 %)")
    vv = np.linspace(min(0.0, v.min()), max(0.0, v.max()), 50)
    ax.plot(vv, (result.slope * vv + result.intercept) / k, "-",
            label=f"sigma_e = {result.sigma_e:.3g} S/cm")
    ax.set_xlabel("applied voltage (V)")
    ax.set_ylabel(f"steady-state current ({unit})")
    ax.legend(fontsize=8)
    return ax


def plot_arrhenius(fits, ax=None, *, at_k: float | None = None, colors=None):
    """log10 sigma vs 1000/T for one or several Arrhenius fits: points with error bars, the
    line, its 95 % confidence band (mean line) and prediction band (new measurement), an
    extrapolation point when ``at_k`` is given, and a top axis in deg C.

    Parameters
    ----------
    fits : sequence of ArrheniusFit
    ax : matplotlib Axes, optional
    at_k : float, optional
        Temperature (K) to extrapolate to and mark.
    colors : sequence, optional
        One matplotlib colour per fit.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    all_inv = [1000.0 / np.asarray(f.temperature_k) for f in fits]
    lo = min(a.min() for a in all_inv)
    hi = max(a.max() for a in all_inv)
    if at_k is not None:
        lo, hi = min(lo, 1000.0 / at_k), max(hi, 1000.0 / at_k)
    pad = 0.05 * (hi - lo or 1.0)
    grid = np.linspace(lo - pad, hi + pad, 200)
    for k, f in enumerate(fits):
        color = colors[k] if colors and k < len(colors) and colors[k] else f"C{k}"
        t = np.asarray(f.temperature_k)
        sig = np.asarray(f.sigma)
        label = f.material or "data"
        if f.sigma_stderr is not None:
            err = np.asarray(f.sigma_stderr)
            yerr = np.vstack([np.log10(sig) - np.log10(np.maximum(sig - err, sig * 1e-3)),
                              np.log10(sig + err) - np.log10(sig)])
            ax.errorbar(1000.0 / t, np.log10(sig), yerr=yerr, fmt="o", color=color,
                        label=label)
        else:
            ax.plot(1000.0 / t, np.log10(sig), "o", color=color, label=label)
        ex = [f.sigma_at(1000.0 / g) for g in grid]
        ax.plot(grid, np.log10([e.sigma for e in ex]), "-", color=color,
                label=f"Ea = {value_pm(f.ea_ev, f.ea_stderr)} eV ({f.convention})")
        ax.fill_between(grid, np.log10([e.ci[0] for e in ex]), np.log10([e.ci[1] for e in ex]),
                        color=color, alpha=0.25, lw=0)
        ax.fill_between(grid, np.log10([e.pi[0] for e in ex]), np.log10([e.pi[1] for e in ex]),
                        color=color, alpha=0.10, lw=0)
        for i in f.outliers:
            ax.plot(1000.0 / t[i], np.log10(sig[i]), "x", color="k", ms=9)
        if at_k is not None:
            e = f.sigma_at(at_k)
            ax.errorbar([1000.0 / at_k], [np.log10(e.sigma)],
                        yerr=[[np.log10(e.sigma) - np.log10(e.ci[0])],
                              [np.log10(e.ci[1]) - np.log10(e.sigma)]],
                        fmt="s", mfc="white", color=color, capsize=3)
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel("log10 sigma (S/cm)")
    top = ax.secondary_xaxis("top", functions=(lambda x: 1000.0 / np.maximum(x, 1e-9) - 273.15,
                                               lambda c: 1000.0 / (c + 273.15)))
    top.set_xlabel("temperature (°C)")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color="0.3", alpha=0.35, lw=0, label="95 % confidence band"),
                Patch(color="0.3", alpha=0.12, lw=0, label="95 % prediction band")]
    if any(len(f.outliers) for f in fits):
        handles.append(Line2D([], [], ls="", marker="x", color="k", ms=8,
                              label="point off the line (kept)"))
    if at_k is not None:
        handles.append(Line2D([], [], ls="", marker="s", mfc="white", color="0.3",
                              label=f"extrapolated to {at_k - 273.15:.0f} °C (95 % CI)"))
    # beside the axes, never over the points
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0),
              borderaxespad=0.0)
    return ax


def value_pm(value: float, stderr: float | None, *, sig: int = 2,
             max_decimals: int = 5) -> str:
    """``value ± stderr`` with ``sig`` significant figures of the error and the value to
    the same decimal place ("0.512 ± 0.013"), at most ``max_decimals`` decimals (an error
    below that: "0.45000 (± < 0.00001)"); without a usable error (None, NaN, 0) the value to
    4 significant figures and no "±" (never "± 0.000")."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if stderr is None or not np.isfinite(stderr) or stderr <= 0:
        return f"{value:.4g}"
    decimals = max(0, sig - 1 - int(np.floor(np.log10(stderr))))
    if decimals > max_decimals:
        return f"{value:.{max_decimals}f} (± < {10.0 ** -max_decimals:.{max_decimals}f})"
    return f"{value:.{decimals}f} ± {stderr:.{decimals}f}"


def plot_ccd_map(dataset=None, lines=None, *, ranges=None, candidates=None, measured=None,
                 ax=None, thresholds=((1e-10, 1.0), (1e-12, 10.0))):
    """CCD vs sigma_e (log-log): same-study pairs coloured by family, lower bounds as
    upward arrows, excluded (inconsistent) rows hollow, literature ranges as boxes,
    sigma_e values without a CCD as a rug, the CCD lines (construction, fit with its 95 %
    band), the threshold lines, and candidates overlaid.

    Parameters
    ----------
    dataset : DataFrame, optional
        :func:`sescreen.literature.load_dataset` (default: the bundled one).
    lines : sequence of CCDLine, optional
        Default: the paper's construction and the censored fit.
    ranges : DataFrame, optional
        :func:`sescreen.literature.load_ranges` (default: the bundled ranges).
    candidates : DataFrame, optional
        Columns ``name``, ``sigma_e`` (S/cm), optional ``sigma_e_stderr``.
    measured : DataFrame, optional
        The lab's own (sigma_e, CCD) points, one per CCD record
        (:meth:`sescreen.screening.ScreeningResult.ccd_points`), drawn by
        :func:`plot_lab_ccd`.
    thresholds : sequence of (sigma_e, ccd)
        Drawn as dotted guides.
    """
    from sescreen import ccd as ccd_mod
    from sescreen import literature

    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5))
    df = literature.load_dataset() if dataset is None else dataset
    rg = literature.load_ranges() if ranges is None else ranges
    lines = [ccd_mod.paper_construction(), ccd_mod.fit_ccd()] if lines is None else lines
    families = sorted(set(df["family"]) | set(rg["family"]))
    colour = {f: f"C{k % 10}" for k, f in enumerate(families)}
    for _, r in rg.iterrows():
        if np.isfinite(r["sigma_e_lo_s_cm"]) and np.isfinite(r["ccd_lo_ma_cm2"]):
            hi = r["ccd_hi_ma_cm2"] if np.isfinite(r["ccd_hi_ma_cm2"]) else r["ccd_lo_ma_cm2"] * 3
            ax.add_patch(plt.Rectangle((r["sigma_e_lo_s_cm"], r["ccd_lo_ma_cm2"]),
                                       r["sigma_e_hi_s_cm"] - r["sigma_e_lo_s_cm"],
                                       hi - r["ccd_lo_ma_cm2"], color=colour[r["family"]],
                                       alpha=0.12, lw=0))
    used = set()  # the symbols drawn, for the legend
    if len(rg):
        used.add("range")
    paired = df[df["sigma_e_s_cm"].notna() & df["ccd_ma_cm2"].notna() & (df["ion"] == "Li")]
    for fam, part in paired.groupby("family"):
        for _, r in part.iterrows():
            usable = bool(r["usable_pair"])
            kw = dict(color=colour[fam], ms=7, mfc=colour[fam] if usable else "white")
            ax.plot(r["sigma_e_s_cm"], r["ccd_ma_cm2"], "o", **kw)
            used.add("pair" if usable else "excluded")
            if r["ccd_censor"] == "lower":
                used.add("lower")
                ax.annotate("", xy=(r["sigma_e_s_cm"], r["ccd_ma_cm2"] * 3),
                            xytext=(r["sigma_e_s_cm"], r["ccd_ma_cm2"]),
                            arrowprops=dict(arrowstyle="->", color=colour[fam]))
        ax.plot([], [], "o", color=colour[fam], label=fam)
    rug = df[df["sigma_e_s_cm"].notna() & df["ccd_ma_cm2"].isna() & (df["ion"] == "Li")]
    for _, r in rug.iterrows():
        ax.plot(r["sigma_e_s_cm"], 0.012, "|", color=colour[r["family"]], ms=12)
        used.add("rug")
    grid = np.geomspace(1e-16, 1e-5, 200)
    for k, line in enumerate(lines):
        value, band = line.predicted_ccd(grid)
        style = "--" if line.source == "construction" else "-"
        ax.plot(grid, value, style, color="k" if k == 0 else "C3", lw=1.2,
                label=f"{line.source}: slope {line.slope:.2f}")
        if band is not None:
            ax.fill_between(grid, band[0], band[1], color="C3", alpha=0.1, lw=0,
                            label=f"{line.source}: 95 % band")
    for sig, ccd in thresholds:
        ax.axvline(sig, color="0.4", ls=":", lw=1)
        ax.axhline(ccd, color="0.4", ls=":", lw=1)
        ax.annotate(f"{sig:.0e} S/cm", (sig, 0.015), rotation=90, fontsize=7, ha="right",
                    va="bottom", color="0.3")
    labels = []
    if candidates is not None:
        for _, c in candidates.iterrows():
            pred, _ = lines[-1].predicted_ccd(c["sigma_e"])
            err = c.get("sigma_e_stderr", np.nan)
            ax.errorbar([c["sigma_e"]], [pred], xerr=[[err], [err]] if np.isfinite(err) else None,
                        fmt="*", ms=12, color="k", mfc="gold")
            labels.append((str(c["name"]), float(c["sigma_e"]), float(pred)))
            used.add("candidate")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-16, 1e-5)
    ax.set_ylim(1e-2, 1e2)
    if measured is not None and len(measured):
        plot_lab_ccd(measured, ax=ax)
    ax.set_xlabel("electronic conductivity sigma_e (S/cm)")
    ax.set_ylabel("critical current density (mA/cm^2)")
    place_labels(ax, labels)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    symbols = {  # every kind of mark the map uses, in black, besides the family colours
        "pair": Line2D([], [], ls="", marker="o", color="0.3", label="same-study pair"),
        "excluded": Line2D([], [], ls="", marker="o", mfc="white", color="0.3",
                           label="excluded (inconsistent) pair"),
        "lower": Line2D([], [], ls="", marker="$\\uparrow$", ms=9, color="0.3",
                        label="CCD lower bound (arrow)"),
        "range": Patch(color="0.3", alpha=0.15, lw=0, label="literature range (box)"),
        "rug": Line2D([], [], ls="", marker="|", ms=10, color="0.3",
                      label="sigma_e without a CCD (rug)"),
        "candidate": Line2D([], [], ls="", marker="*", ms=11, color="k", mfc="gold",
                            label="candidate (on the fit)"),
    }
    handles, _ = ax.get_legend_handles_labels()
    handles += [symbols[k] for k in symbols if k in used]
    handles.append(Line2D([], [], ls=":", color="0.4", lw=1, label="thresholds (Han 2019)"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0),
              borderaxespad=0.0)
    return ax


def place_labels(ax, labels, *, fontsize: float = 8, color=None) -> list:
    """Annotate points with text that overlaps neither another label (nor text already on the
    axes, nor a marker) and stays inside the axes:
    each label tries offsets around its point (right-above first) and takes the first
    whose box is free in display space; ``labels`` is [(text, x, y)] in data units.

    Returns
    -------
    list of matplotlib Annotation
    """
    if not labels:
        return []
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    offsets = [(6, 5), (6, -12), (-6, 5), (-6, -12), (6, 16), (-6, 16), (6, -24), (-6, -24),
               (14, 28), (-14, 28), (14, -36), (-14, -36), (20, 42), (-20, -48)]
    def attempt(text, x, y, dx, dy):
        return ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                           fontsize=fontsize, annotation_clip=False, color=color,
                           ha="left" if dx >= 0 else "right",
                           va="bottom" if dy >= 0 else "top",
                           bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none",
                                     alpha=0.75),
                           arrowprops=None if abs(dy) < 13 else
                           dict(arrowstyle="-", color="0.5", lw=0.6))

    from matplotlib.transforms import Bbox

    marks = []  # every drawn marker, so labels do not cover points either
    for line in ax.lines:
        if line.get_marker() not in (None, "", "None", " ") and len(line.get_xydata()):
            r = max(3.0, 0.5 * line.get_markersize() * fig.dpi / 72)
            for px, py in ax.transData.transform(line.get_xydata()):
                if np.isfinite(px) and np.isfinite(py):
                    marks.append(Bbox([[px - r, py - r], [px + r, py + r]]))
    # text already on the axes (threshold labels, the lab's CCD labels) is kept clear too
    placed = [t.get_window_extent(renderer) for t in ax.texts if t.get_text().strip()]
    out = []
    for text, x, y in sorted(labels, key=lambda t: (t[1], -t[2])):
        chosen = None
        for dx, dy in offsets:
            ann = attempt(text, x, y, dx, dy)
            box = ann.get_window_extent(renderer)
            inside = (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
                      and box.y1 <= frame.y1)
            if inside and not any(box.overlaps(b) for b in placed + marks):
                chosen = ann
                break
            ann.remove()
        if chosen is None:  # nothing free: the first offset
            chosen = attempt(text, x, y, *offsets[0])
            box = chosen.get_window_extent(renderer)
        placed.append(box)
        out.append(chosen)
    return out


#: How a lab CCD record is drawn, by outcome: marker, filled, legend label.
_LAB_STYLE = {
    "shorted": ("D", True, "lab CCD: shorted (bar: last density held .. failing)"),
    "no_short": ("D", False, "lab CCD: never shorted (lower bound)"),
    "ambiguous": ("D", False, "lab CCD: ambiguous signs, no short claimed (lower bound)"),
    "contact_loss": ("s", False, "lab CCD: contact loss, not a short (lower bound)"),
}


def plot_lab_ccd(points, ax=None, *, color="darkmagenta"):
    """The lab's measured (sigma_e, CCD) points on a CCD-vs-sigma_e map.

    A shorted record is a filled diamond at the density that failed (the CCD as Han et al.
    2019 and the curated dataset quote it) with a vertical bar down to the last density
    held: the CCD lies in (held, failed]. A record that never shorted, or whose signs were
    ambiguous, is an open diamond at the highest density held with an upward arrow (a lower
    bound, censored); a contact loss is an open square with an upward arrow (a lower bound
    too: the cell stopped without shorting). sigma_e's 95 % interval is the horizontal bar;
    an interval reaching 0 (upper bound only) is a leftward arrow from its upper end. Each
    symbol used gets one legend entry.

    Parameters
    ----------
    points : DataFrame
        One row per record: ``name``, ``sigma_e`` (S/cm), ``sigma_e_lo``, ``sigma_e_hi``
        (S/cm, NaN when unknown), ``ccd_held_ma_cm2`` (last density held, NaN when the first
        step failed), ``ccd_failed_ma_cm2`` (NaN without a short), ``outcome``
        (:attr:`sescreen.cycling.CCDRecord.outcome`), as
        :meth:`sescreen.screening.ScreeningResult.ccd_points` returns.
    ax : Axes, optional
        A log-log CCD map (default: a new one).
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5))
        ax.set_xscale("log")
        ax.set_yscale("log")
    y_floor = ax.get_ylim()[0]
    used = set()
    lab_labels = []  # placed clear of each other and of the points (place_labels)
    for _, p in points.iterrows():
        x = float(p["sigma_e"])
        if not np.isfinite(x) or x <= 0:
            continue
        outcome = p["outcome"] if p["outcome"] in _LAB_STYLE else "ambiguous"
        marker, filled, label = _LAB_STYLE[outcome]
        held, failed = float(p["ccd_held_ma_cm2"]), float(p["ccd_failed_ma_cm2"])
        lo, hi = float(p.get("sigma_e_lo", np.nan)), float(p.get("sigma_e_hi", np.nan))
        one_sided = np.isfinite(hi) and not (np.isfinite(lo) and lo > 0)
        xerr = None
        if np.isfinite(lo) and lo > 0 and np.isfinite(hi):
            xerr = [[max(x - lo, 0.0)], [max(hi - x, 0.0)]]
            used.add("xerr")
        if outcome == "shorted":
            y = failed
            bottom = held if np.isfinite(held) and held > 0 else y_floor
            yerr = [[y - bottom], [0.0]]
        else:
            y = held if np.isfinite(held) and held > 0 else y_floor
            yerr = None
        ax.errorbar([x], [y], xerr=xerr, yerr=yerr, fmt=marker, ms=8, color=color,
                    mfc=color if filled else "white", mew=1.5, capsize=3, zorder=5)
        if outcome != "shorted":
            ax.annotate("", xy=(x, y * 3), xytext=(x, y), zorder=5,
                        arrowprops=dict(arrowstyle="-|>", color=color, lw=1.5))
        if one_sided:
            ax.annotate("", xy=(hi / 30, y), xytext=(hi, y), zorder=5,
                        arrowprops=dict(arrowstyle="-|>", color=color, lw=1, ls="--"))
            used.add("one_sided")
        lab_labels.append((f"{p['name']} (lab)", x, y))
        used.add(outcome)
    place_labels(ax, lab_labels, color=color)
    for outcome, (marker, filled, label) in _LAB_STYLE.items():
        if outcome in used:
            ax.errorbar([], [], yerr=[] if outcome == "shorted" else None, fmt=marker, ms=8,
                        color=color, mfc=color if filled else "white", mew=1.5, label=label)
    if "xerr" in used:
        ax.errorbar([], [], xerr=[], fmt="none", color=color,
                    label="lab sigma_e: 95 % interval")
    if "one_sided" in used:
        ax.plot([], [], ls="--", color=color, label="lab sigma_e: upper bound only")
    ax.legend(fontsize=7, loc="upper right")
    return ax


def plot_ndp(analysis, axes=None):
    """Three panels of an NDP analysis: lithium density vs depth for a few frames, bulk and
    total lithium increase vs time with the charge line and the onset, and the increase vs
    depth in the bulk with its uniformity fit.

    Returns
    -------
    ndarray of Axes
    """
    plt = _pyplot()
    own = axes is None
    if own:
        _, axes = plt.subplots(1, 3, figsize=(13, 4))
    ax1, ax2, ax3 = axes
    prof = analysis.profiles
    n = prof.density.shape[0]
    for k in sorted({0, n // 3, 2 * n // 3, n - 1}):
        ax1.plot(prof.depth_um, prof.density[k], "-", label=f"t = {analysis.time_s[k]:.0f} s")
    ax1.axvline(analysis.boundary_um, color="0.4", ls=":", lw=1)
    ax1.set_xlabel("depth (µm)")
    ax1.set_ylabel("Li density (atoms/cm³)")
    ax1.legend(fontsize=7)
    t = analysis.time_s
    ax2.errorbar(t, analysis.bulk, yerr=analysis.bulk_err, fmt="o", ms=3,
                 label="bulk region (dendrite content)")
    ax2.errorbar(t, analysis.total, yerr=analysis.total_err, fmt="s", ms=3, mfc="white",
                 label="total region")
    if analysis.charge_atoms is not None:
        ax2.plot(t, analysis.charge_atoms, "k--", lw=1, label="charge Q/e")
    if analysis.onset["onset_s"] is not None:
        ax2.axvline(analysis.onset["onset_s"], color="C3", lw=1,
                    label=f"onset {analysis.onset['onset_s']:.0f} s")
    ax2.set_xlabel("time (s)")
    ax2.set_ylabel("Li increase (atoms/cm²)")
    ax2.legend(fontsize=7)
    bulk = prof.depth_um > analysis.boundary_um
    inc = prof.density[-1] - prof.density[0]
    err = np.sqrt(prof.density_err[-1] ** 2 + prof.density_err[0] ** 2)
    ax3.errorbar(prof.depth_um[bulk], inc[bulk], yerr=err[bulk], fmt="o", ms=3)
    u = analysis.uniformity
    d = prof.depth_um[bulk]
    w = 1 / np.maximum(err[bulk], 1e-300) ** 2
    centre = np.average(d, weights=w)
    ax3.plot(d, u["mean_increase"] + u["slope_per_um"] * (d - centre), "C3-",
             label=f"{u['verdict']}")
    ax3.set_xlabel("depth (µm)")
    ax3.set_ylabel("Li increase, last frame (atoms/cm³)")
    ax3.legend(fontsize=7)
    _si_prefixes(ax1.yaxis, ax2.yaxis, ax3.yaxis)
    if own:
        ax1.figure.tight_layout()
    return axes


_PREFIX = {15: "P", 18: "E", 21: "Z", 24: "Y", 12: "T", 9: "G", 6: "M", 3: "k"}
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _si_prefixes(*axes) -> None:
    """Tick labels with SI prefixes (2 P, 40 Z) instead of a 1e22 offset above the axis; the
    axis label names the prefix used ("Z = 10²¹"), since these are rare outside bytes."""
    from matplotlib.ticker import EngFormatter

    for axis in axes:
        axis.set_major_formatter(EngFormatter(places=None, sep=" "))
        lo, hi = axis.get_view_interval()
        top = max(abs(lo), abs(hi))
        if top > 0 and np.isfinite(top):
            exp = int(3 * np.floor(np.log10(top) / 3))
            if exp in _PREFIX:
                power = str(exp).translate(_SUPERSCRIPT)
                axis.set_label_text(f"{axis.get_label_text()}, {_PREFIX[exp]} = 10{power}")


def plot_depth_calibrations(stacks=("han2019-lipon", "han2019-llzo", "han2019-li3ps4"),
                            axes=None):
    """Depth vs detected energy from CATIMA stopping powers through each stack (dots) and
    the paper's polynomials (every reading) shifted by their best constant offset.

    Needs pycatima (extra ``stopping``).

    Returns
    -------
    (ndarray of Axes, list of dict)
        The panels, and one comparison row per (stack, preset reading):
        ``stack``, ``reading`` and :func:`~sescreen.ndp.calibration.compare_with_preset`'s
        keys.
    """
    from sescreen.ndp.calibration import (
        DEPTH_PRESETS,
        compare_with_preset,
        depth_preset,
        load_stack,
        stopping_calibration,
    )

    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(1, len(stacks), figsize=(4.7 * len(stacks), 4.2))
    rows = []
    for ax, name in zip(np.atleast_1d(axes), stacks, strict=True):
        calc = stopping_calibration(load_stack(name))
        depths, energies = calc.details["profile"]
        ax.plot(energies, depths, "k.", ms=4, label="CATIMA (this stack)")
        grid = np.linspace(*calc.energy_range_kev, 200)
        readings = [r for r in (name, f"{name}-x10") if r in DEPTH_PRESETS]
        for k, reading in enumerate(readings):
            preset = depth_preset(reading)
            c = compare_with_preset(calc, preset)
            ax.plot(grid, preset.depth(grid) + c["offset_um"], f"C{k}--",
                    label=f"{reading}, offset {c['offset_um']:+.2f} µm")
            rows.append({"stack": name, "reading": reading, **c})
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("detected energy (keV)")
        ax.set_ylabel("depth (µm)")
        ax.legend(fontsize=7)
    return axes, rows


def _current_unit(value: float) -> tuple[str, float]:
    for unit, k in (("A", 1.0), ("mA", 1e-3), ("uA", 1e-6), ("nA", 1e-9), ("pA", 1e-12)):
        if abs(value) >= k:
            return unit, k
    return "fA", 1e-15


def save_figure(ax, path) -> None:
    """Save the figure of ``ax`` atomically (PNG, SVG or PDF by extension)."""
    import io
    from pathlib import Path

    from sescreen.atomic import atomic_write_bytes

    fig = ax.figure
    buf = io.BytesIO()
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    fig.savefig(buf, format=fmt, dpi=150, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    _pyplot().close(fig)
