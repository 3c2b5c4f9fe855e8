"""The expected detrended block-sum variances of the slow-noise basis
(sescreen.dcpol.variogram._detrended_basis) against their definition, built from explicit
covariance matrices: raw AR(1) samples aggregated into super-samples, a straight line
projected out, E[(b^T P r)^2] = b^T P S P b averaged over the block starts."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sescreen.dcpol.variogram import _detrended_basis


def _by_definition(phi: np.ndarray, g: int, n_agg: int, blocks: np.ndarray) -> np.ndarray:
    n = g * n_agg
    lag = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    agg = np.kron(np.eye(n_agg), np.ones((1, g)))  # super-sample sums of g samples
    x = np.arange(n_agg, dtype=float)
    design = np.column_stack([np.ones(n_agg), x])
    proj = np.eye(n_agg) - design @ np.linalg.pinv(design)
    out = np.empty((blocks.size, phi.size + 1))
    for col, p in enumerate(np.r_[0.0, phi]):
        raw = np.eye(n) if p == 0 else (np.ones((n, n)) if p == 1 else p ** lag)
        s = proj @ (agg @ raw @ agg.T) @ proj
        for row, m in enumerate(blocks):
            ma = int(m // g)
            vals = []
            for start in range(0, n_agg - ma + 1, max(1, ma // 4)):
                b = np.zeros(n_agg)
                b[start:start + ma] = 1.0
                vals.append(b @ s @ b)
            out[row, col] = np.mean(vals)
    return out


@settings(max_examples=25, deadline=None)
@given(g_log=st.integers(0, 3), n_agg=st.integers(8, 40),
       phi=st.lists(st.floats(0.05, 0.999), min_size=1, max_size=4))
def test_detrended_basis_is_its_definition(g_log, n_agg, phi):
    g = 2**g_log
    phi = np.r_[np.sort(phi), 1.0]
    blocks = g * 2.0 ** np.arange(0, int(np.log2(n_agg // 2)) + 1)
    got = _detrended_basis(phi, g, n_agg, blocks)
    want = _by_definition(phi, g, n_agg, blocks)
    # relative to the largest entry: a detrended constant level is 0 up to rounding
    np.testing.assert_array_less(np.abs(got - want), 1e-10 * np.abs(want).max())
