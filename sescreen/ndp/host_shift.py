"""Plated lithium pushes the electrolyte's own lithium deeper: the host shift of the bulk
region, predicted from the plated thickness and removed before the dendrite content, the
onset and the growth shape are formed (METHODS.md section 5; Han et al. 2019 plate through
a thin current collector at the front).

A particle born at the true depth x in the electrolyte crosses the plated lithium too, so
after t um of lithium it is seen at a deeper apparent depth; the apparent depth a now shows
the electrolyte from x(a) (:func:`~sescreen.ndp.stopping.plated_depths`, CATIMA
stopping powers). A bin [a_k, a_k+1] of the bulk region then holds the host lithium the
reference frame had between x(a_k) and x(a_k+1):

    H_k(t) = N(x(a_k+1)) - N(x(a_k)),      N: the reference frame's cumulative host lithium
                                           (a straight line n0 + n1 x through its bulk),

and the shift x -> a grows with depth (S_Li/S_SE rises as the particles slow: 0.198 um per
um of lithium at the front of LLZO, 0.205 at 16 um), so a fixed bulk window holds less host
as lithium plates: 0.05 % of it at 1 um of lithium, 0.2 % at 4 um, 0.6 % at 12 um. Over a
long run that is a slow decline of a few counting errors, which hides the start of a growth
and biases the dendrite content low; it is subtracted here.

The plated thickness of each frame is read from the surface region itself, not from the
charge (a dendrite consumes charge but is not plated): the surface region gains n_Li t and
loses the host pushed past its deep edge b, N(b) - N(x(b)), which is solved for t. Its
units come from the reference frame's bulk: the host density n_host of the electrolyte's
composition and density is its mean lithium per apparent um, so no 10B standard is needed
and a porous electrolyte (whose apparent depths are areal densities) is handled alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from sescreen.ndp.stopping import LI_METAL_ATOMS_CM3, Layer, plated_depths

__all__ = ["HostShift", "plated_host_shift"]

#: Points of the plated-thickness grid on which the predictions are interpolated: the host
#: change is smooth (near linear) in t: with 33 points over 0-12 um of lithium the bulk
#: region's change is within 5e-5 of 513 points' (a single bin's within 5e-4)
GRID_POINTS = 33


@dataclass(frozen=True)
class HostShift:
    """The plated thickness of each frame and the electrolyte that is pushed deeper.

    Attributes
    ----------
    li_um : numpy.ndarray
        Plated lithium per frame, um (0 up to the reference frame).
    electrolyte : Layer
    particle : str
        The particle the depth calibration follows (``'triton'``, ``'alpha'``).
    host_per_um : (float, float)
        The reference frame's host lithium n(x) = n0 + n1 x per um of depth, in the
        profile's units (a weighted straight line through the bulk region's bins: a smooth
        host, so the prediction carries no counting noise of its own).
    host_cov : numpy.ndarray, optional
        The covariance of (n0, n1), 2 x 2 (from the bins' counting errors).
    layer : (numpy.ndarray, numpy.ndarray), optional
        A surface layer's lithium beyond the line: depths (um) and its weighted cumulative
        deviation at them, profile units, held constant outside them
        (:func:`~sescreen.ndp.surface_layer.surface_layer`); None: the line alone.
    """

    li_um: np.ndarray
    electrolyte: Layer
    particle: str
    host_per_um: tuple[float, float]
    host_cov: np.ndarray | None = None
    layer: tuple[np.ndarray, np.ndarray] | None = None

    def host_between(self, x0, x1) -> np.ndarray:
        """Host lithium between the depths x0 and x1 (um) of the reference, profile units."""
        n0, n1 = self.host_per_um
        line = n0 * (x1 - x0) + n1 * (x1**2 - x0**2) / 2
        if self.layer is None:
            return line
        at, cum = self.layer
        return line + np.interp(x1, at, cum) - np.interp(x0, at, cum)

    def change(self, edges_um) -> np.ndarray:
        """Expected change of the lithium of the bins between ``edges_um`` by the host shift
        alone, (n_frames, n_bins), in the profile's units: the host of the depths x(a_k) ..
        x(a_k+1) less that of a_k .. a_k+1; NaN in a bin that holds plated lithium at a
        frame (the surface region's)."""
        edges = np.asarray(edges_um, dtype=float)
        t_max = float(self.li_um.max())
        if not t_max > 0:
            return np.zeros((self.li_um.size, edges.size - 1))
        grid = np.linspace(0.0, t_max, GRID_POINTS)
        before = self.host_between(edges[:-1], edges[1:])
        table = np.empty((grid.size, edges.size - 1))
        for i, t in enumerate(grid):
            x = plated_depths(self.electrolyte, self.particle, edges, t)[1]
            table[i] = self.host_between(x[:-1], x[1:]) - before
        return np.stack([np.interp(self.li_um, grid, col) for col in table.T], axis=1)

    def corrected(self, prof, mask: np.ndarray):
        """The profiles with the host shift removed from the bins of ``mask`` (the bulk
        region): areal and volumetric density; the errors are unchanged (the prediction
        comes from the whole bulk region's reference, two parameters)."""
        mask = np.asarray(mask, dtype=bool)
        d = np.zeros(prof.areal.shape)
        d[:, mask] = self.change(prof.depth_edges_um)[:, mask]
        thick_cm = np.diff(prof.depth_edges_um) * 1e-4
        return replace(prof, areal=prof.areal - d, density=prof.density - d / thick_cm)

    def summary(self, prof, corrected, reference_frame: int,
                mask: np.ndarray) -> dict[str, float]:
        """The last frame's plated thickness and the bulk region's host change (profile
        units and a fraction of the reference's bulk lithium), from the profiles before and
        after :meth:`corrected`."""
        mask = np.asarray(mask, dtype=bool)
        d = float((prof.areal[-1] - corrected.areal[-1])[mask].sum())
        ref = float(prof.areal[reference_frame][mask].sum())
        return {"li_um": float(self.li_um[-1]), "bulk_change": d,
                "bulk_change_fraction": d / ref if ref else math.nan}


def plated_host_shift(prof, reference_frame: int, boundary_um: float, bulk_mask,
                      electrolyte: Layer, particle: str, host_atoms_cm3: float,
                      layer=None) -> HostShift | None:
    """The plated thickness of each frame from the surface region's lithium increase.

    Parameters
    ----------
    prof : DepthProfiles
        Bins laid from the boundary (``boundary_um`` is a bin edge).
    reference_frame : int
        The pre-current frame.
    boundary_um : float
        The surface/bulk boundary b, um.
    bulk_mask : numpy.ndarray
        The bins beyond b.
    electrolyte : Layer
    particle : str
    host_atoms_cm3 : float
        n_host, atoms/cm^3.
    layer : (numpy.ndarray, numpy.ndarray), optional
        The reference's surface layer (:attr:`HostShift.layer`).

    Returns
    -------
    HostShift or None
        None when it cannot be told: the window starts inside the electrolyte (the plated
        lithium is outside it), the reference frame's bulk holds no lithium, or the surface
        region's increase does not grow with the plated thickness (a host nearly as rich in
        lithium as the metal, seen through the stopping ratio).
    """
    edges = np.asarray(prof.depth_edges_um, dtype=float)
    bulk_mask = np.asarray(bulk_mask, dtype=bool)
    if edges[0] > 0 or not host_atoms_cm3 > 0 or bulk_mask.sum() < 2:
        return None
    width = np.diff(edges)[bulk_mask]
    dens = prof.areal[reference_frame, bulk_mask] / width  # profile units per um
    w = (width / prof.areal_err[reference_frame, bulk_mask]) ** 2
    (n1, n0), cov = np.polyfit(prof.depth_um[bulk_mask], dens, 1, w=np.sqrt(w),
                               cov="unscaled")
    per_um = float(np.average(dens, weights=w))
    if not per_um > 0:
        return None
    n_li = per_um * LI_METAL_ATOMS_CM3 / host_atoms_cm3
    shift = HostShift(np.zeros(prof.areal.shape[0]), electrolyte, particle,
                      (float(n0), float(n1)), cov[::-1, ::-1], layer)
    surface = ~bulk_mask
    gain = (prof.areal[:, surface] - prof.areal[reference_frame, surface]).sum(axis=1)
    gain[: reference_frame + 1] = 0.0

    def surface_gain(t):
        x_b = float(plated_depths(electrolyte, particle, boundary_um, t)[1])
        if math.isnan(x_b):  # the plated lithium reaches the boundary
            return math.nan
        return n_li * t - float(shift.host_between(x_b, boundary_um))

    slope = surface_gain(1.0)
    if not slope > 0.1 * n_li:
        return None
    grid = np.linspace(0.0, 1.5 * max(float(gain.max()), 0.0) / slope + 1e-6, GRID_POINTS)
    model = np.array([surface_gain(t) for t in grid])
    ok = np.isfinite(model)
    grid, model = grid[ok], model[ok]
    if grid.size < 2 or np.any(np.diff(model) <= 0):
        return None
    return replace(shift, li_um=np.interp(np.clip(gain, 0.0, None), model, grid))
