"""Internal deposition or directional growth: the shape of the lithium increase with depth
in the bulk region (METHODS.md section 5, regions; used by
:func:`sescreen.ndp.profiles.analyse`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sescreen.ndp.profiles import DepthProfiles

__all__ = ["BOUNDARY_SENSITIVE", "NOT_RESOLVED", "UNIFORM_EXCLUSION_SIGMA", "combine_verdicts",
           "shape_test", "uniformity_test"]


#: A uniform increase is claimed only when a decline across the bulk region as large as the
#: mean increase is excluded at this many standard errors (:func:`uniformity_test`).
UNIFORM_EXCLUSION_SIGMA = 2.0

BOUNDARY_SENSITIVE = "directional or internal (boundary-sensitive)"
NOT_RESOLVED = "internal or directional (slope not resolved)"


def uniformity_test(depth_um, increase, err) -> dict[str, Any]:
    """Weighted straight line of the lithium increase vs depth in the bulk region.

    Verdicts: ``directional growth`` (the increase falls with distance from the interface:
    slope negative by more than 3 standard errors, with the mean or the fitted increase at
    the region's shallow end above 3 standard errors), ``no detectable change`` (else, when
    the mean increase is below 3 standard errors), ``rising with depth`` (slope positive by
    more than 3 standard errors: not growth from this interface), ``internal deposition``
    (uniform with depth: what Han et al. saw in LLZO and Li3PS4), else ``internal or
    directional (slope not resolved)``.

    A slope within 3 standard errors of zero does not by itself make the increase uniform:
    a weak gradient from the interface gives one too. ``internal deposition`` is claimed
    only when the data exclude, at ``UNIFORM_EXCLUSION_SIGMA`` (2) standard errors, a
    decline across the bulk region as large as the mean increase, i.e. the relative change
    r = slope * span / mean satisfies r - 2 s_r > -1 (s_r propagated from the slope's and
    the mean's errors, which are uncorrelated about the weighted centre). An exponential
    exp(-d / L) from the interface has r < -1 for L up to about the region's span, so it is
    not called uniform. With equal errors s_r ~ sqrt(12) / (mean / s_mean), so the claim needs
    the mean increase at about 7 standard errors.
    """
    d = np.asarray(depth_um, dtype=float)
    y = np.asarray(increase, dtype=float)
    w = 1.0 / np.maximum(np.asarray(err, dtype=float), 1e-300) ** 2
    design = np.column_stack([np.ones_like(d), d - np.average(d, weights=w)])
    cov = np.linalg.inv(design.T @ (design * w[:, None]))
    coef = cov @ (design.T @ (w * y))
    resid = y - design @ coef
    dof = max(len(d) - 2, 1)
    chi2_red = float(np.sum(w * resid**2) / dof)
    inflate = max(1.0, chi2_red)
    mean, slope = float(coef[0]), float(coef[1])
    mean_err = math.sqrt(cov[0, 0] * inflate)
    slope_err = math.sqrt(cov[1, 1] * inflate)
    span = float(d.max() - d.min())
    rel = slope * span / mean if mean else math.nan
    rel_err = (math.hypot(slope_err * span / mean, rel * mean_err / mean) if mean
               else math.nan)
    # the fitted line at the shallow end of the region: a gradient concentrated near the
    # interface can have a mean over a long region below 3 standard errors and yet fall
    # significantly from a significant increase at the interface
    lever = float(d.min() - np.average(d, weights=w))
    near = mean + slope * lever
    near_err = math.sqrt((cov[0, 0] + lever**2 * cov[1, 1]) * inflate)
    if slope < -3 * slope_err and near > 3 * near_err:
        verdict = "directional growth"
    elif mean < 3 * mean_err:
        verdict = "no detectable change"
    elif slope < -3 * slope_err:
        verdict = "directional growth"
    elif slope > 3 * slope_err:
        verdict = "rising with depth"
    elif rel - UNIFORM_EXCLUSION_SIGMA * rel_err > -1.0:
        verdict = "internal deposition"
    else:
        verdict = NOT_RESOLVED
    return {"verdict": verdict, "mean_increase": mean, "mean_increase_err": mean_err,
            "slope_per_um": slope, "slope_err": slope_err, "chi2_red": chi2_red,
            "relative_change_over_region": rel, "relative_change_err": rel_err,
            "increase_at_near_end": near, "increase_at_near_end_err": near_err}


def combine_verdicts(v0: str, others) -> str:
    """The growth verdict from the boundary (``v0``) and from other places the bulk region
    could start (``others``, a verdict or a list): when one says directional growth and
    another does not, the distinction rests on the bulk region's first part (the surface
    peak's tail or the gradient's steepest part) and is not made."""
    others = [others] if isinstance(others, str) else list(others)
    every = [v0, *others]
    if "directional growth" in every and any(v != "directional growth" for v in every) \
            and "rising with depth" not in every:
        return BOUNDARY_SENSITIVE
    return v0


def shape_test(prof: DepthProfiles, pre, mask) -> dict[str, Any]:
    """:func:`uniformity_test` of the last frame's increase over the mean of the frames
    ``pre`` (weighted by their counting errors) in the bins ``mask``."""
    w_pre = 1.0 / np.maximum(prof.density_err[pre], 1e-300) ** 2
    ref_mean = (w_pre * prof.density[pre]).sum(axis=0) / w_pre.sum(axis=0)
    inc = prof.density[-1] - ref_mean
    inc_err = np.sqrt(prof.density_err[-1] ** 2 + 1.0 / w_pre.sum(axis=0))
    return uniformity_test(prof.depth_um[mask], inc[mask], inc_err[mask])
