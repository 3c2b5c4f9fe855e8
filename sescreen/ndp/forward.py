"""Forward model: synthesize NDP spectra from a lithium depth profile.

The inverse of :mod:`sescreen.ndp.profiles` through the same calibrations: a channel of
energy E collects the lithium between the depths d(E + gain/2) and d(E - gain/2); its
expected corrected count is that areal density over the eq. (4) factor, turned back into
raw counts with the frame's monitor and dead time, and drawn from a Poisson distribution.
Lithium plated between the current collector and the electrolyte can be given as a
thickness: it slows every particle from the electrolyte, so it appears at the front and
pushes the electrolyte's own lithium deeper (:func:`~sescreen.ndp.stopping.plated_depths`,
CATIMA stopping powers), as in a real cell.
Used by the tests (round trips with known truth) and the bundled examples.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sescreen.ndp.calibration import (
    HAN2019_ENERGY,
    DepthCalibration,
    EnergyCalibration,
    electrolyte_layer,
)
from sescreen.ndp.profiles import HAN2019_STANDARD, Standard
from sescreen.ndp.spectra import SpectrumSeries
from sescreen.ndp.stopping import LI_METAL_ATOMS_CM3, Layer, plated_depths

__all__ = ["synthesize_series"]


def synthesize_series(
    profile: Callable[[float, np.ndarray], np.ndarray],
    times_s,
    depth_cal: DepthCalibration,
    *,
    rng: np.random.Generator,
    energy_cal: EnergyCalibration = HAN2019_ENERGY,
    standard: Standard = HAN2019_STANDARD,
    n_channels: int = 4000,
    monitor: float = 1.0,
    live_fraction: float = 0.95,
    frame_s: float = 180.0,
    background_per_channel: float = 0.0,
    current_ma_cm2: float | None = None,
    plated_um: Callable[[float], float] | None = None,
    electrolyte: Layer | None = None,
    resolution_fwhm_kev: float = 0.0,
) -> SpectrumSeries:
    """Spectra of a series of frames.

    Parameters
    ----------
    profile : callable
        ``profile(t_s, depth_um) -> atoms/cm^3`` (vectorized over depth). Without
        ``plated_um`` the depth is the calibration's (apparent) one; with it, the true
        depth in the electrolyte (>= 0).
    times_s : sequence of float
        Frame times, s.
    depth_cal, energy_cal : calibrations
    rng : numpy Generator
        Seeded by the caller.
    standard : Standard
        Sets the count scale (atoms/cm^2 per count per monitor).
    n_channels : int
    monitor : float
        Monitor counts per frame.
    live_fraction : float
        live / real time.
    frame_s : float
        Real time of a frame, s.
    background_per_channel : float
        Mean raw background counts per channel.
    current_ma_cm2 : float, optional
        Recorded with the frames.
    plated_um : callable, optional
        ``plated_um(t_s) -> um`` of lithium metal plated between the current collector and
        the electrolyte at each frame (needs pycatima).
    electrolyte : Layer, optional
        The profiled electrolyte, for ``plated_um``; default: the calibration's
        (a stopping-power calibration's electrolyte, or a preset's stack).
    resolution_fwhm_kev : float
        Detector resolution (FWHM, keV): the expected counts are convolved with a Gaussian
        of that width before they are drawn (0: none).
    """
    channels = np.arange(n_channels, dtype=float)
    energy = energy_cal.energy(channels)
    half = energy_cal.gain_kev / 2
    lo_e, hi_e = depth_cal.energy_range_kev
    inside = (energy - half >= lo_e) & (energy + half <= hi_e)
    d_a = depth_cal.depth(energy + half)  # shallower edge (higher energy)
    d_b = depth_cal.depth(energy - half)
    factor = standard.factor()
    if plated_um is not None and electrolyte is None:
        electrolyte = electrolyte_layer(depth_cal)
        if electrolyte is None:
            raise ValueError(f"{depth_cal.name}: no electrolyte known; give "
                             "electrolyte=Layer(...)")
    kernel = _gaussian_kernel(resolution_fwhm_kev / energy_cal.gain_kev)
    counts = []
    for t in times_s:
        if plated_um is None:
            areal = _channel_areal(profile, float(t), d_a, d_b)
        else:
            areal = _plated_areal(profile, float(t), d_a, d_b, electrolyte,
                                  depth_cal.particle, float(plated_um(float(t))))
        expected = np.where(inside, areal / factor * monitor * live_fraction, 0.0)
        if kernel is not None:
            expected = np.convolve(expected, kernel, "same")
        counts.append(rng.poisson(np.maximum(expected, 0.0) + background_per_channel))
    n = len(counts)
    return SpectrumSeries(
        channels, np.vstack(counts).astype(float), np.full(n, frame_s * live_fraction),
        np.full(n, frame_s), np.full(n, float(monitor)), np.asarray(times_s, dtype=float),
        tuple(f"synthetic frame {k}" for k in range(n)),
        None if current_ma_cm2 is None else np.full(n, float(current_ma_cm2)))


def _gaussian_kernel(fwhm_channels: float) -> np.ndarray | None:
    """A normalized Gaussian over +-6 sigma of ``fwhm_channels`` (FWHM, channels); None
    for no resolution."""
    if not fwhm_channels > 0:
        return None
    sig = fwhm_channels / (2 * np.sqrt(2 * np.log(2)))
    x = np.arange(-int(6 * sig) - 1, int(6 * sig) + 2)
    kernel = np.exp(-0.5 * (x / sig) ** 2)
    return kernel / kernel.sum()


def _channel_areal(profile, t: float, d_a: np.ndarray, d_b: np.ndarray) -> np.ndarray:
    """Lithium (atoms/cm^2) between the apparent depths d_a and d_b (um) of each channel:
    the profile integrated by 5-point Gauss-Legendre."""
    x, w = np.polynomial.legendre.leggauss(5)
    mid, hw = (d_a + d_b) / 2, (d_b - d_a) / 2
    nodes = mid[:, None] + hw[:, None] * x[None, :]
    dens = np.asarray(profile(t, nodes.ravel()), dtype=float).reshape(nodes.shape)
    return (dens @ w) * hw * 1e-4  # depth um -> cm


def _plated_areal(profile, t: float, d_a: np.ndarray, d_b: np.ndarray, electrolyte: Layer,
                  particle: str, li_um: float, n_grid: int = 20001) -> np.ndarray:
    """Lithium (atoms/cm^2) of each channel with ``li_um`` of lithium plated at the front:
    the cumulative lithium from the lithium's top to the birth place of the particle seen at
    each channel edge (:func:`plated_depths`), differenced. The electrolyte's share is the
    profile integrated on a fine grid of true depth (trapezoids, ``n_grid`` points)."""
    edges = np.concatenate([d_a, d_b])
    u, x = plated_depths(electrolyte, particle, edges, li_um)
    x_max = float(np.nanmax(x)) if np.isfinite(x).any() else 0.0
    grid = np.linspace(0.0, max(x_max, 1e-3), n_grid)
    dens = np.asarray(profile(t, grid), dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(np.diff(grid) * (dens[1:] + dens[:-1]) / 2)])
    plated = LI_METAL_ATOMS_CM3 * max(li_um, 0.0)
    below = np.where(np.isnan(u), plated + np.interp(np.nan_to_num(x), grid, cum),
                     LI_METAL_ATOMS_CM3 * np.nan_to_num(u))
    below = below * 1e-4  # depth um -> cm
    return below[d_a.size:] - below[:d_a.size]

