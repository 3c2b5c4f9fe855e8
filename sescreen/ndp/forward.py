"""Forward model: synthesize NDP spectra from a lithium depth profile.

The inverse of :mod:`sescreen.ndp.profiles` through the same calibrations: a channel of
energy E collects the lithium between the depths d(E + gain/2) and d(E - gain/2); its
expected corrected count is that areal density over the eq. (4) factor, turned back into
raw counts with the frame's monitor and dead time, and drawn from a Poisson distribution.
Used by the tests (round trips with known truth) and the bundled examples.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sescreen.ndp.calibration import HAN2019_ENERGY, DepthCalibration, EnergyCalibration
from sescreen.ndp.profiles import HAN2019_STANDARD, Standard
from sescreen.ndp.spectra import SpectrumSeries

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
) -> SpectrumSeries:
    """Spectra of a series of frames.

    Parameters
    ----------
    profile : callable
        ``profile(t_s, depth_um) -> atoms/cm^3`` (vectorized over depth).
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
    """
    channels = np.arange(n_channels, dtype=float)
    energy = energy_cal.energy(channels)
    half = energy_cal.gain_kev / 2
    lo_e, hi_e = depth_cal.energy_range_kev
    inside = (energy - half >= lo_e) & (energy + half <= hi_e)
    d_a = depth_cal.depth(energy + half)  # shallower edge (higher energy)
    d_b = depth_cal.depth(energy - half)
    factor = standard.factor()
    counts = []
    for t in times_s:
        # integrate the profile over each channel's depth interval (5-point Gauss-Legendre)
        x, w = np.polynomial.legendre.leggauss(5)
        mid, hw = (d_a + d_b) / 2, (d_b - d_a) / 2
        nodes = mid[:, None] + hw[:, None] * x[None, :]
        dens = np.asarray(profile(float(t), nodes.ravel()), dtype=float).reshape(nodes.shape)
        areal = (dens @ w) * hw * 1e-4  # atoms/cm^2 (depth um -> cm)
        expected = np.where(inside, areal / factor * monitor * live_fraction, 0.0)
        counts.append(rng.poisson(np.maximum(expected, 0.0) + background_per_channel))
    n = len(counts)
    return SpectrumSeries(
        channels, np.vstack(counts).astype(float), np.full(n, frame_s * live_fraction),
        np.full(n, frame_s), np.full(n, float(monitor)), np.asarray(times_s, dtype=float),
        tuple(f"synthetic frame {k}" for k in range(n)),
        None if current_ma_cm2 is None else np.full(n, float(current_ma_cm2)))
