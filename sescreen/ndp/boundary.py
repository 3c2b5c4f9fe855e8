"""Where the surface region (collector, plated lithium) ends and the electrolyte's bulk
region begins: the plated layer's deep edge, a step broadened by the resolution measured on
the electrolyte's own front (METHODS.md section 5, regions; used by
:func:`sescreen.ndp.profiles.analyse`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sescreen.errors import InputError

if TYPE_CHECKING:
    from sescreen.ndp.profiles import DepthProfiles

__all__ = ["EDGE_SPILL_FRACTION", "edge_at_or_after", "fallback_boundary", "surface_boundary"]


def fallback_boundary(depth, increase, err) -> float:
    """The former rule, kept as the fallback when no edge can be fitted: the first depth past
    the peak where the increase falls to the bulk level (median of the deeper half) within 2
    standard errors. It follows any gradient from the interface down into the noise, so a
    directional profile loses its falling part to the surface region; :func:`surface_boundary`
    replaces it."""
    n = len(depth)
    bulk_level = float(np.median(increase[n // 2:]))
    peak = int(np.argmax(increase[: max(n // 2, 1)]))
    for k in range(peak, n):
        if increase[k] - bulk_level <= 2 * err[k]:
            return float(depth[k] - (depth[1] - depth[0]) / 2) if k else float(depth[0])
    return float(depth[n // 2])


def _smooth3(y: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Three-bin running mean and its error (ends: the bins present)."""
    ones = np.ones(3)
    n = np.convolve(np.ones_like(y), ones, "same")
    return np.convolve(y, ones, "same") / n, np.sqrt(np.convolve(e**2, ones, "same")) / n


def _fit_edge(x, y, e, *, rising: bool, x0: float, s0: float, s_min: float,
              sigma: float | None = None):
    """Weighted fit of a resolution-broadened step, y = B + (H/2) erfc(-+(x - x0) / (sqrt(2)
    sigma)) (falling for ``rising=False``), sigma free or fixed at ``sigma``. Returns (x0,
    sigma, H, B, err_x0, err_sigma) (err_sigma 0 when fixed) or None when the fit fails; the
    errors are scaled by sqrt(chi2_red) when it exceeds 1."""
    from scipy.optimize import least_squares
    from scipy.special import erfc

    sign = -1.0 if rising else 1.0
    scale = float(np.max(np.abs(y))) or 1.0  # fit in units of the data's range
    y, e = y / scale, e / scale
    w = 1.0 / np.maximum(e, 1e-300)
    free = sigma is None

    def model(p):
        sig = p[1] if free else sigma
        return p[-1] + p[-2] / 2 * erfc(sign * (x - p[0]) / (math.sqrt(2) * sig))

    lo_b, hi_b = float(y.min()), float(y.max())
    span = float(x.max() - x.min())
    p0 = [x0] + ([max(s0, s_min)] if free else []) + [max(hi_b - lo_b, 1e-300), lo_b]
    lower = [x.min()] + ([s_min] if free else []) + [0.0, -np.inf]
    upper = [x.max()] + ([max(span, 2 * s_min)] if free else []) + [np.inf, np.inf]
    p0[1] = min(p0[1], upper[1]) if free else p0[1]
    try:
        r = least_squares(lambda p: (model(p) - y) * w, p0, bounds=(lower, upper),
                          x_scale=[s0] + ([s0] if free else []) + [1.0, 1.0])
    except (ValueError, np.linalg.LinAlgError):
        return None
    if not r.success:
        return None
    dof = max(len(x) - len(p0), 1)
    chi2_red = float(np.sum(r.fun**2) / dof)
    try:
        cov = np.linalg.inv(r.jac.T @ r.jac) * max(1.0, chi2_red)
    except np.linalg.LinAlgError:
        return None
    ex = math.sqrt(max(cov[0, 0], 0.0))
    es = math.sqrt(max(cov[1, 1], 0.0)) if free else 0.0
    if not (math.isfinite(ex) and math.isfinite(es)):
        return None
    sig = float(r.x[1]) if free else float(sigma)
    return float(r.x[0]), sig, float(r.x[-2]) * scale, float(r.x[-1]) * scale, ex, es


def _edge(depth, y, e, *, rising: bool, start: int, level: float, s_min: float,
          sigma: float | None = None):
    """Locate the half-level crossing of a step in y past index ``start`` (rising: from below
    ``level / 2``; falling: from the peak down) and fit it (:func:`_fit_edge`)."""
    sm, _ = _smooth3(y, e)
    width = float(np.median(np.diff(depth)))
    base = 0.0 if rising else level
    if rising:
        above = np.flatnonzero(sm[start:] > level / 2)
    else:
        above = np.flatnonzero(sm[start:] < (sm[start] + level) / 2)
    if above.size == 0:
        return None
    q = start + int(above[0])
    top = level if rising else sm[start]
    # a first width from the 16 % and 84 % points either side of the crossing
    f = (sm - base) / (top - base) if top != base else sm * 0
    if rising:
        i16 = q - int(np.argmax(f[q::-1] < 0.16)) if np.any(f[:q + 1] < 0.16) else start
        i84 = q + int(np.argmax(f[q:] > 0.84)) if np.any(f[q:] > 0.84) else q
    else:
        i84 = q - int(np.argmax(f[q::-1] > 0.84)) if np.any(f[start:q + 1] > 0.84) else start
        i16 = q + int(np.argmax(f[q:] < 0.16)) if np.any(f[q:] < 0.16) else q
    s0 = max(abs(depth[i84] - depth[i16]) / 2, width) if sigma is None else max(sigma, width)
    half = 5 * s0 + 2 * width
    lo = depth[q] - half if rising else max(depth[q] - half, depth[start])
    sel = (depth >= lo) & (depth <= depth[q] + half)
    if sel.sum() < 6:
        return None
    return _fit_edge(depth[sel], y[sel], e[sel], rising=rising, x0=float(depth[q]), s0=s0,
                     s_min=s_min, sigma=sigma)


def edge_at_or_after(edges: np.ndarray, x: float) -> float:
    """The first bin edge at or beyond x (the last edge when x is beyond them all)."""
    return float(edges[min(int(np.searchsorted(edges, x - 1e-9)), len(edges) - 1)])


def _width_determined(edge) -> bool:
    """An edge fit whose width is determined to better than its own value."""
    return edge[5] < edge[1]


#: The edge's Gaussian spill at the bulk region's start, as a fraction of the step:
#: Phi(-3) = 0.13 % (:func:`surface_boundary`).
EDGE_SPILL_FRACTION = 0.00135


def surface_boundary(fine: DepthProfiles, reference_frame: int, coarse_edges, coarse_err, *,
                     frame: int = -1) -> dict[str, Any]:
    """Surface/bulk boundary from the shape of the surface peak (METHODS section 5, regions).

    The plated lithium is a slab at the interface; its trailing (deep) edge as measured is a
    step convolved with the detector resolution and the straggling, a Gaussian of width
    sigma: y = B + (H / 2) erfc((x - x_e) / (sqrt(2) sigma)), x_e the step's half-maximum.
    sigma is measured on a step of known sharpness, the SE's own front in the pre-current
    frame (its host lithium seen through the same window foils; straggling in the plated
    lithium adds little, Bohr: ~4 keV for 5 um of Li against ~12 keV for the detector and
    the Kapton), by the same fit rising (sigma_e, the edge's own fitted width, when there is
    no front). x_e is then fitted at that sigma on finely binned channels (``fine``) of the
    last frame's increase, around the crossing of half the peak's height above the deep
    level. A slab thinner than the resolution is a Gaussian peak; its trailing half-maximum
    lies 1.18 sigma past its centre, so the rule stays conservative for it.

    The bulk region starts at b = x_e + k sigma: the step's spill H Phi(-k) has fallen to
    ``EDGE_SPILL_FRACTION`` of the step there (k = 3), or, for a step so high that this is
    still more than a third of a bulk bin's counting error (``coarse_err`` at x_e), to that.
    The gradient of any increase beyond the edge plays no part: the edge's position and
    width come from the step, so a profile falling from the interface stays in the bulk
    region and is tested. (The former rule, :func:`fallback_boundary`, ended the surface
    region where the increase reached the deep level, i.e. past the gradient.)

    Without a significant surface peak (5 standard errors above the deep level) the SE's
    front is used, b = x_f + 3 sigma_f; when the window starts inside the SE (host lithium
    from its first bins, no peak), b is the window's start; when none of these applies,
    ``b_um`` is None and the caller falls back to the former rule with a warning. When the
    edge's own fitted width sigma_e exceeds sigma_f clearly (by 2 standard errors and by
    half), the plated layer is rough or lithium enters the SE there: b = x_e + k sigma_e
    (the broad edge counts as surface), with a warning, and x_e + k sigma_f is one of the
    ``checks_um``. The other is b + 2 sigma (the spill falls from Phi(-3) to Phi(-5) = 3e-7
    of the step) or b plus twice its standard error if deeper: :func:`analyse` repeats the
    growth verdict from each.

    Parameters
    ----------
    fine : DepthProfiles
        Finely binned profiles (a few keV per bin).
    reference_frame : int
        The pre-current frame.
    coarse_edges, coarse_err : array-like
        Edges (um) and last-frame increase errors (atoms/cm^3) of the analysis bins.
    frame : int
        The frame whose surface peak is used (the last: the plated layer is thickest).

    Returns
    -------
    dict
        ``b_um`` (None: not found), ``checks_um``, ``edge_um``, ``edge_sigma_um`` (the
        width used), ``edge_fit_sigma_um`` and ``edge_fit_sigma_err_um`` (the edge's own
        fitted width), ``edge_err_um`` (of b), ``k``, ``front_um``, ``front_sigma_um``,
        ``method`` and ``warnings``.
    """
    from scipy.stats import norm

    depth = fine.depth_um
    width = float(np.median(np.diff(depth)))
    s_min = width / math.sqrt(12)
    warns: list[str] = []
    out: dict[str, Any] = {"edge_um": None, "edge_sigma_um": None, "edge_err_um": None,
                           "front_um": None, "front_sigma_um": None, "k": None}
    n = len(depth)
    deep = slice(n // 2, n)
    # the SE's front in the pre-current frame: a rising step to the host level
    ref = fine.density[reference_frame]
    ref_err = fine.density_err[reference_frame]
    level = float(np.median(ref[deep]))
    front = None
    has_host = level > 5 * float(np.median(ref_err[deep]))
    if has_host:
        front = _edge(depth, ref, ref_err, rising=True, start=0, level=level, s_min=s_min)
    # the window starts inside the SE: host lithium from its first bins on
    inside_se = has_host and float(np.mean(ref[:3])) > level / 2
    if front is not None:
        out["front_um"], out["front_sigma_um"] = front[0], front[1]
    inc = fine.density[frame] - fine.density[reference_frame]
    inc_err = np.sqrt(fine.density_err[frame] ** 2 + fine.density_err[reference_frame] ** 2)
    sm, sm_err = _smooth3(inc, inc_err)
    shallow = max(n // 2, 1)
    deep_level = float(np.median(inc[deep]))
    if has_host and deep_level > level and n >= 16:
        # more lithium added across the window's deep half than the electrolyte holds
        # there: no internal deposit does that (Han et al.: a few % of the host), the
        # plated layer (Li metal, ~4 x the host's apparent density) reaches past the
        # middle; its edge is sought in the whole window, the deep level from the last
        # eighth (beyond that no bulk region is left: analyse refuses)
        shallow = n - max(n // 8, 2)
        deep_level = float(np.median(inc[shallow:]))
        if deep_level > level:
            raise InputError(
                "the plated layer fills the depth window: more lithium was added beyond "
                f"{depth[shallow]:.3g} um (the window's deepest eighth) than the electrolyte "
                "holds there, so no bulk region is left to test; use a "
                "deeper window (a higher-energy calibration) or give --boundary")
    p = int(np.argmax(sm[:shallow]))
    edge = free = None
    peak = sm[p] - deep_level > 5 * sm_err[p]
    if peak:
        free = _edge(depth, inc, inc_err, rising=False, start=p, level=deep_level, s_min=s_min)
        edge = free
        if out["front_sigma_um"] is not None:  # the edge's position at the known resolution
            edge = _edge(depth, inc, inc_err, rising=False, start=p, level=deep_level,
                         s_min=s_min, sigma=out["front_sigma_um"]) or free
    coarse_edges = np.asarray(coarse_edges, dtype=float)
    narrow = None
    if edge is not None and out["front_sigma_um"] is None and not _width_determined(edge):
        edge = None  # no resolution to fall back on and an ill-determined width
    if edge is not None:
        x_e, _, h, _, ex, _ = edge
        sig_e, es = (free[1], free[5]) if free is not None else (edge[1], edge[5])
        sig_f = out["front_sigma_um"]
        # the slab's edge is as sharp as the SE's front seen through the same foils
        # (straggling in the lithium adds little)
        sig = sig_f if sig_f is not None else sig_e
        j = min(int(np.searchsorted(coarse_edges, x_e)), len(coarse_err) - 1)
        frac = min(EDGE_SPILL_FRACTION, float(coarse_err[j]) / (3 * h)) if h > 0 \
            else EDGE_SPILL_FRACTION
        k = float(-norm.ppf(frac))
        if sig_f is not None and sig_e - 2 * es > sig_f and sig_e > 1.5 * sig_f:
            # an edge clearly broader than the resolution: a rough plated layer (surface)
            # or lithium entering the SE; the bulk region starts past the broad edge, and
            # the verdict is also tested from the resolution's edge
            narrow = x_e + k * sig_f
            sig = sig_e
            warns.append(f"the surface peak's edge ({sig_e:.2f} +/- {es:.2f} um wide) is "
                         f"broader than the resolution ({sig_f:.2f} um, the SE's front): a "
                         "rough plated layer or lithium entering the SE; the bulk region "
                         f"starts past the broad edge, at {x_e + k * sig_e:.2f} um, and the "
                         f"growth verdict is also tested from {narrow:.2f} um")
        b = x_e + k * sig
        if out["front_um"] is not None:
            b = max(b, out["front_um"] + 3 * out["front_sigma_um"])
        out.update(edge_um=x_e, edge_sigma_um=sig, edge_fit_sigma_um=sig_e,
                   edge_fit_sigma_err_um=es,
                   edge_err_um=math.hypot(ex, k * (es if sig is sig_e else 0.0)), k=k,
                   method="surface peak's edge + k sigma")
    elif front is not None:
        b = front[0] + 3 * front[1]
        out.update(k=3.0, edge_sigma_um=front[1],
                   edge_err_um=math.hypot(front[4], 3 * front[5]),
                   method="no surface peak: the SE's front in the reference frame + 3 sigma")
    elif inside_se and not peak:
        b = float(fine.depth_edges_um[0])
        out.update(k=None, edge_sigma_um=None, edge_err_um=0.0,
                   method="no surface peak and the window starts inside the SE: all bulk")
        warns.append("no surface peak and no SE front in the depth window (it starts inside "
                     "the SE): the whole window is taken as the bulk region")
    else:
        b = None
        out["method"] = "former rule (increase down to the bulk level)"
        warns.append("the surface peak's edge could not be fitted: the boundary is where the "
                     "increase falls to the bulk level, which swallows a gradient from the "
                     "interface; give --boundary")
    out["b_um"] = None if b is None else float(b)  # None: analyse falls back to fallback_boundary
    # where else the bulk region could start: 2 widths deeper (a Gaussian edge's spill falls
    # from Phi(-3) = 1.3e-3 to Phi(-5) = 3e-7 of the step) or b's 2-standard-error bound if
    # deeper, and the resolution's edge when the edge is broader
    checks = []
    if b is not None and out["edge_sigma_um"] is not None:
        checks.append(float(b + max(2 * out["edge_sigma_um"], 2 * out["edge_err_um"])))
    if narrow is not None:
        checks.append(float(narrow))
    out["checks_um"] = checks
    out["warnings"] = warns
    return out
