"""The lithium an NDP window sees against the charge passed: plating alone shows only
Q/e [1 - (n_host S_Li) / (n_Li S_SE)], since the plated layer pushes the electrolyte's own
lithium out of the window's deep end; and the charge itself, from a current log
(:func:`log_charge`). Used by :func:`sescreen.ndp.profiles.analyse`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sescreen.constants import ELEMENTARY_CHARGE
from sescreen.errors import InputError

if TYPE_CHECKING:
    from sescreen.ndp.calibration import DepthCalibration

__all__ = ["CHARGE_TOLERANCE", "LOG_GAP_FACTOR", "PLATING_SHIFT_REL_ERR", "charge_warning",
           "log_charge", "plating_shift"]


#: Relative standard uncertainty of the host-lithium loss (n_host S_Li) / (n_Li S_SE):
#: the CATIMA stopping powers of tritons and alphas at 0.3-0.9 MeV/u, a few % each and
#: partly common to both (Bragg additivity in the compound, ~5 %), and the electrolyte's
#: lithium content (a sintered or Li-deficient garnet, Li6.4 vs Li7: ~10 %)
PLATING_SHIFT_REL_ERR = 0.10
#: Below this fraction of the lithium expected within the window (of the charge passed,
#: less the host lithium plating pushes out) the charge comparison warns: losses to side
#: reactions, the 10B standard's own error
CHARGE_TOLERANCE = 0.8


def plating_shift(depth_cal: DepthCalibration, host, deep_um: float,
                   charge_atoms: float) -> dict[str, Any] | None:
    """The host lithium that plating alone pushes out of the window's deep end, when the
    electrolyte is known (the ``host`` given, else the stopping calibration's or the
    preset's stack) and CATIMA is installed: ``expected_fraction`` of Q/e seen within the
    window, its error, and the shift (:func:`~sescreen.ndp.stopping.plated_lithium_shift`).
    None otherwise."""
    from sescreen.ndp.calibration import stopping_layer
    from sescreen.ndp.profiles import host_lithium_density  # profiles imports this module
    from sescreen.ndp.stopping import plated_lithium_shift

    layer = stopping_layer(depth_cal, host)
    if layer is None:
        return None
    try:
        n_host = host_lithium_density(layer.formula, layer.density_g_cm3)
    except InputError:  # no lithium in the host: nothing to push out
        n_host = 0.0
    res = plated_lithium_shift(layer, depth_cal.particle, deep_um, charge_atoms)
    if res is None:
        return None
    loss = min(n_host * res["delta_um"] * 1e-4 / charge_atoms, 1.0)
    return {**res, "electrolyte": layer.formula, "host_atoms_cm3": n_host,
            "expected_fraction": 1.0 - loss,
            "expected_fraction_err": PLATING_SHIFT_REL_ERR * loss}


def charge_warning(total: float, total_err: float, charge: float,
                    shift: dict[str, Any] | None) -> str | None:
    """The charge comparison's warning (None: no warning).

    Plated lithium pushes the host's own lithium out of the window's deep end
    (:func:`plating_shift`): with plating alone the lithium seen is
    Q/e [1 - (n_host S_Li) / (n_Li S_SE)], 0.90 of Q/e for LLZO, 0.85 for Li3PS4, 0.80 for
    Li6PS5Cl. The warning comes when the total seen is below CHARGE_TOLERANCE times that
    expectation by more than 2 standard errors (its counting error and the expectation's).
    Without the electrolyte (or CATIMA) the expectation is Q/e, as the paper has it, and
    the warning says that the comparison is biased low.
    """
    if shift is None:
        if total >= CHARGE_TOLERANCE * charge:
            return None
        return (f"only {total / charge:.0%} of the charge passed shows up as lithium within "
                "the probed depth: lithium went where NDP cannot see (deeper dendrites, or "
                "outside the window); but plating alone also pushes the electrolyte's own "
                "lithium out of the window's deep end, by (n_host S_Li) / (n_Li S_SE) of the "
                "charge (10-20 % for LLZO, Li3PS4, argyrodites), not accounted for here: "
                "give the host (or a stopping-power calibration) and install pycatima")
    f, f_err = shift["expected_fraction"], shift["expected_fraction_err"]
    limit = CHARGE_TOLERANCE * f * charge
    if total >= limit - 2 * math.hypot(total_err, CHARGE_TOLERANCE * f_err * charge):
        return None
    return (f"only {total / charge:.0%} of the charge passed shows up as lithium within the "
            f"probed depth, where plating alone would show {f:.0%} +/- {f_err:.0%} (the "
            f"{shift['li_um']:.2g} um of plated lithium pushes {shift['delta_um']:.2g} um of "
            f"{shift['electrolyte']} out of the window's deep end), so about "
            f"{1 - total / (f * charge):.0%} of the charge is missing beyond that: lithium "
            "went where NDP cannot see (deeper dendrites, or outside the window)")


#: A current log's gap (between samples) longer than this many times its median sampling
#: interval is bridged by the trapezoid rule but flagged (:func:`log_charge`)
LOG_GAP_FACTOR = 10.0


def log_charge(current_log, t, warns: list[str]) -> np.ndarray:
    """Cumulative Q/e (atoms/cm^2) at the frame times ``t`` (s from the reference frame) from
    a current-density log (t_s, j mA/cm^2) whose time starts at the reference frame.

    Samples with a non-finite time or current are dropped and the log is put in time order
    (each with a warning; np.interp needs increasing times, and one NaN made every later
    charge NaN and skipped the charge comparison silently). Q = integral j dt by the
    trapezoid rule; gaps longer than ``LOG_GAP_FACTOR`` median intervals are bridged
    linearly, with a warning; frames after the log's end get NaN (the charge there is
    unknown: np.interp had held it constant, understating Q/e)."""
    try:
        tl, jl = (np.asarray(v, dtype=float).ravel() for v in current_log)
    except (TypeError, ValueError):
        raise InputError("current log: give (t_s, j_mA_cm2) arrays of numbers") from None
    if tl.shape != jl.shape:
        raise InputError(f"current log: {tl.size} times but {jl.size} currents")
    ok = np.isfinite(tl) & np.isfinite(jl)
    if (~ok).any():
        warns.append(f"current log: {int((~ok).sum())} of {tl.size} samples are not numbers "
                     "and were dropped (the charge is bridged across them)")
        tl, jl = tl[ok], jl[ok]
    if tl.size < 2:
        raise InputError("current log: fewer than 2 usable samples")
    if np.any(np.diff(tl) < 0):
        warns.append("current log: the times are not in order; sorted")
        order = np.argsort(tl, kind="stable")
        tl, jl = tl[order], jl[order]
    dt = np.diff(tl)
    q = np.concatenate([[0.0], np.cumsum(dt * (jl[1:] + jl[:-1]) / 2)])
    step = float(np.median(dt[dt > 0])) if np.any(dt > 0) else 0.0
    gaps = dt > LOG_GAP_FACTOR * step if step > 0 else np.zeros(dt.shape, bool)
    if gaps.any():
        bridged = float(np.sum((dt * (jl[1:] + jl[:-1]) / 2)[gaps]))
        warns.append(f"current log: {int(gaps.sum())} gap(s) longer than "
                     f"{LOG_GAP_FACTOR:g} sampling intervals (the longest {dt.max():.3g} s) "
                     f"are bridged linearly, {bridged / q[-1]:.0%} of the charge"
                     if q[-1] else "current log: gaps bridged linearly")
    rel = tl - tl[0]
    charge = np.interp(t, rel, q) * 1e-3 / ELEMENTARY_CHARGE
    beyond = t > rel[-1] + 1e-9 * max(1.0, abs(rel[-1]))
    if beyond.any():
        warns.append(f"current log: it ends {rel[-1]:.4g} s after its start, before "
                     f"{int(beyond.sum())} frame(s) (the last at {t[-1]:.4g} s): their charge is "
                     "unknown and the charge comparison is not made")
        charge[beyond] = np.nan
    return charge
