"""matplotlib figures of sescreen results: functions that take an Axes (or make one) and
return it. matplotlib is imported here only, when a figure is asked for; the Agg backend is
used unless one was chosen already, so figures work on machines without a screen.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_dcpol", "plot_voltage_series", "save_figure"]


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
        ax.annotate("transient 1 % of I_ss", (result.t_steady_estimate, ax.get_ylim()[0]),
                    ha="right", va="bottom", fontsize=7, rotation=90, color="0.3")
    ax.set_xscale("log")
    ax.set_ylabel(f"current ({unit})")
    state = "steady state reached" if result.steady_state_reached else "not at steady state"
    ax.set_title(f"{result.source}: {result.voltage_v:+.3g} V, {state}", fontsize=10)
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
