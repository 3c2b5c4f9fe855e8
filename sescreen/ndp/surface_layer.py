"""A thin surface layer of the electrolyte (a Li-poor or Li-rich layer, a Li2CO3 film, a
few hundred nm) that plated lithium pushes into the bulk region (METHODS.md section 5;
used by :func:`sescreen.ndp.profiles.analyse` with :mod:`sescreen.ndp.host_shift`).

The host shift predicts each bulk bin's lithium from the reference frame's host as a
straight line n0 + n1 x. A layer at the electrolyte's front holds more (or less) lithium
than that line; as lithium plates, the front, layer and all, moves deeper by about 0.2 um
per um of lithium, and the layer's resolution-broadened tail crosses the boundary b into the
bulk region: a rise of the bulk lithium that no lithium entering the electrolyte caused
(Li-rich layers decaying over 0.5 and 0.3 um and a graded Li2CO3 film had given false
dendrite onsets in 19, 10 and 12 of 20 synthetic series, tests/ndp_layers.py; none with it,
and a 1 % internal deposit was still found in all). The depths x(b) .. b of the reference
frame are the ones that the last frame's plated lithium moves past b
(:func:`~sescreen.ndp.stopping.plated_depths`); their fine bins' deviation from the line, D
= sum (A_i - H_i), is the layer's lithium that enters the bulk region; its standard error
holds the bins' counting errors and the line's, extrapolated from the bulk region (60 um of
plated lithium push 12 um of the reference past b, and a line from 2.5 um of bulk does not
tell a layer there). It is added to the host shift's reference, N(x) = n0 x + n1 x^2 / 2 + w
C(x) with C the cumulative deviation (:class:`~sescreen.ndp.host_shift.HostShift`), with a
weight w that rises smoothly from 0 at |D| = 2 standard errors to 1 at 4 (w = 3 u^2 - 2 u^3,
u = (|D| / err - 2) / 2 clipped to 0 .. 1): without a layer the line stands, and chance
deviations of the reference's counting noise are not carried into every frame.
"""

from __future__ import annotations

import math

import numpy as np

from sescreen.ndp.stopping import plated_depths

__all__ = ["LAYER_Z", "layer_weight", "surface_layer"]

#: Deviations (standard errors) at which the reference's surface bins start to be used
#: and are fully used (:func:`surface_layer`)
LAYER_Z = (2.0, 4.0)


def layer_weight(z: float) -> float:
    """The weight of the reference's surface bins at a deviation of ``z`` standard errors:
    0 up to LAYER_Z[0], 1 from LAYER_Z[1], 3 u^2 - 2 u^3 between (u the fraction of the
    way), continuous with its slope."""
    lo, hi = LAYER_Z
    u = min(max((abs(z) - lo) / (hi - lo), 0.0), 1.0)
    return u * u * (3.0 - 2.0 * u)


def surface_layer(fine, reference_frame: int, shift, boundary_um: float):
    """The reference frame's lithium beyond the host line in the depths the last frame's
    plated lithium pushes past the boundary.

    Parameters
    ----------
    fine : DepthProfiles
        Fine bins laid from the boundary (``boundary_um`` is one of their edges), in the
        units of the host shift's line.
    reference_frame : int
        The pre-current frame.
    shift : HostShift
        The host shift without a layer (its plated thickness and line).
    boundary_um : float
        The surface/bulk boundary b, um.

    Returns
    -------
    dict
        ``weight`` (w, 0 .. 1), ``deviation`` (D, profile units: areal density),
        ``deviation_err``, ``depth_um`` ([x(b), b] at the last frame's plated thickness;
        None without plating) and ``cumulative`` ((edges um, w C at them) for
        :class:`~sescreen.ndp.host_shift.HostShift`; None when w = 0).
    """
    out = {"weight": 0.0, "deviation": 0.0, "deviation_err": 0.0, "depth_um": None,
           "cumulative": None}
    li_um = float(shift.li_um[-1])
    if not li_um > 0:
        return out
    x_b = float(plated_depths(shift.electrolyte, shift.particle, boundary_um, li_um)[1])
    edges = np.asarray(fine.depth_edges_um, dtype=float)
    lo, hi = edges[:-1], edges[1:]
    sel = (lo >= x_b - 1e-9) & (hi <= boundary_um + 1e-9)
    if math.isnan(x_b) or not sel.any():
        return out
    dev = fine.areal[reference_frame, sel] - shift.host_between(lo[sel], hi[sel])
    # its error: the bins' counting and the line's, extrapolated from the bulk region
    grad = np.array([np.sum(hi[sel] - lo[sel]), np.sum(hi[sel] ** 2 - lo[sel] ** 2) / 2])
    var = float((fine.areal_err[reference_frame, sel] ** 2).sum())
    if shift.host_cov is not None:
        var += float(grad @ shift.host_cov @ grad)
    d, err = float(dev.sum()), math.sqrt(var)
    w = layer_weight(d / err) if err > 0 else 0.0
    out.update(weight=float(w), deviation=d, deviation_err=err, depth_um=[x_b, boundary_um])
    if w > 0:
        at = np.concatenate([lo[sel][:1], hi[sel]])
        out["cumulative"] = (at, w * np.concatenate([[0.0], np.cumsum(dev)]))
    return out
