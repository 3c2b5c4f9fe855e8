"""Residuals of a fitted transient from the one-pass statistics of the record, never from
its raw samples: the residual variogram of the noise model and the level the step test
scans (:mod:`sescreen.dcpol.record`, :mod:`sescreen.dcpol.variogram`,
:mod:`sescreen.dcpol.steps`).

The residual of a cell of samples is its current sum minus the model summed over its
samples, taken as the cell's size times the model at the cell's mean time. That is exact
for a model linear across the cell and otherwise off by half the curvature times the
spread of the cell's times; a cell spans at most 1/32768 of the last half of the hold,
where every transient is smooth, so this is far below the noise of the cell sum.
"""

from __future__ import annotations

import numpy as np

from sescreen.dcpol.candidates import ModelFit
from sescreen.dcpol.noise import NoiseModel
from sescreen.dcpol.record import RecordStats
from sescreen.dcpol.steps import Step, find_step
from sescreen.dcpol.variogram import block_variogram

__all__ = ["model_at", "residual_cells", "residual_variogram", "step_in"]

_GRID = 4000  # log-time nodes the model is interpolated from on long records


def model_at(fit: ModelFit, t: np.ndarray, span: tuple[float, float]) -> np.ndarray:
    """The fitted model at times ``t`` (s), scaled units: exact for up to :data:`_GRID`
    times, else interpolated in log time from :data:`_GRID` nodes over ``span`` (s)."""
    if t.size <= _GRID:
        return fit.predict(t)
    grid = np.geomspace(max(span[0], 1e-9), span[1], _GRID)
    return np.interp(np.log(np.maximum(t, 1e-9)), np.log(grid), fit.predict(grid))


def residual_cells(stats: RecordStats, fit: ModelFit) -> np.ndarray:
    """Data minus model summed over every cell of the record, scaled units."""
    span = (float(stats.t[0]), float(stats.t[-1]))
    return stats.cell_sum / stats.scale - stats.cell_n * model_at(fit, stats.cell_time, span)


def residual_variogram(stats: RecordStats,
                       fit: ModelFit) -> tuple[np.ndarray, np.ndarray, int]:
    """The residual block-sum variogram of the last half of the record.

    Returns
    -------
    (blocks, w, n)
        Block lengths (samples), mean squared block sums (scaled units squared) and the
        samples in the window (:func:`~sescreen.dcpol.variogram.block_variogram`).
    """
    first, count = stats.late_cells()
    cells = residual_cells(stats, fit)[first:first + count]
    t_s, y_s, idx = stats.short_sample()
    short = None
    if stats.group > 1:
        span = (float(stats.t[0]), float(stats.t[-1]))
        short = y_s - model_at(fit, t_s.ravel(), span).reshape(t_s.shape)
    blocks, w = block_variogram(cells, stats.group, short=short,
                                short_index=idx - first * stats.group)
    return blocks, w, count * stats.group


def step_in(stats: RecordStats, fit: ModelFit, noise: NoiseModel, *,
            t_hold: float) -> Step | None:
    """The largest abrupt change of the record's level around the fitted transient
    (:func:`~sescreen.dcpol.steps.find_step`)."""
    level = residual_cells(stats, fit) + fit.i_ss * stats.cell_n
    return find_step(stats.t, level, stats.cell_n, stats.group, noise, t_hold=t_hold)
