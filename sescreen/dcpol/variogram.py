"""The slow part of a hold's noise from the residual block-sum variogram: a non-negative
mixture of AR(1) processes (METHODS.md section 6).

For the residuals r_k of a first fit in the last half of the hold, the block-sum
variogram W(m) = E[(r_k + ... + r_{k+m-1})^2] for m = 1, 2, 4, ... samples is fitted by

    W(m) = m sigma_w^2 + m sigma_x^2 + sum_j v_j V_j(m),   sigma_x^2, v_j >= 0,

where sigma_w is the white noise the second differences see, sigma_x the white part they
miss (rounding, a wrong sigma_w), and V_j(m) the block-sum variance of a unit AR(1) process
with correlation length 1, 2, 4, ... samples up to the longest block (1/f noise is a
superposition of such Lorentzians with log-spaced time scales). Any non-negative mixture
is a valid covariance. Octaves beyond the longest block, up to 2N, take the mean weight of
the last two fitted ones (1/f continues; an AR(1) or white record leaves them at ~0).

The residuals come as sums over the cells of the one-pass statistics
(:mod:`sescreen.dcpol.record`; one sample per cell on records of up to 2^16 samples), and
blocks shorter than a cell from a fixed-size sample of whole cells of raw samples.

A straight line is removed from the residuals first: a drift is a trend for the trend
test to find, not noise to hide it in. The line also removes part of any slow noise, most
of it at the longest blocks, which would make 1/f noise look whiter than it is and the
trend test too confident. So every basis function is the *expected variogram after the
same line removal*, computed exactly on the record aggregated to at most
:data:`_AGGREGATE` super-samples: for a block indicator b, the projection P = I - Q Q^T
onto the complement of the line and a component covariance S,

    E[(b^T P r)^2] = b^T S b - 2 (Q^T b) . (Q^T S b) + (Q^T b)^T (Q^T S Q) (Q^T b).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["block_variogram", "component_variogram", "excess_at", "fit_slow_noise"]

_MIN_BLOCKS = 8  # the longest block used leaves at least this many in the window
_AGGREGATE = 256  # super-samples for the exact detrended basis


def component_variogram(phi: np.ndarray, m) -> np.ndarray:
    """Variance of the sum of m consecutive samples of unit-variance AR(1) processes with
    lag-one correlations ``phi`` (shape (k,)); m of any shape; phi = 1 is a constant level
    (m^2), phi = 0 white noise (m)."""
    m = np.asarray(m, dtype=float)[..., None]
    p = phi[None, :] if m.ndim > 1 else phi
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ar = m * (1 + p) / (1 - p) - 2 * p * (1 - np.power(p, m)) / (1 - p) ** 2
    return np.where(p >= 1.0, m**2, np.where(p <= 0.0, m, ar))


def excess_at(phi: np.ndarray, var: np.ndarray, m) -> np.ndarray:
    """Block-sum variance E(m) of the mixture with lag-one correlations ``phi`` and
    variances ``var``."""
    m = np.asarray(m, dtype=float)
    if phi.size == 0 or not np.any(var > 0):
        return np.zeros_like(m)
    return component_variogram(phi, m) @ var


def _cumulative(series: np.ndarray) -> np.ndarray:
    """0 and the running sums of ``series`` (for :func:`_block_sums`)."""
    return np.concatenate([[0.0], np.cumsum(series)])


def _block_sums(c: np.ndarray, m: int, step: int | None = None) -> np.ndarray:
    """Sums of ``m`` consecutive values starting every ``step`` (default m // 4), from the
    running sums ``c`` of the series (:func:`_cumulative`)."""
    starts = np.arange(0, c.size - m, max(1, m // 4) if step is None else step)
    return c[starts + m] - c[starts]


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares straight line y = slope x + intercept (what ``numpy.polyfit(x, y, 1)``
    gives, from centred sums instead of an SVD: a tenth of the time on 10^4-10^5 cells)."""
    xm, ym = float(np.mean(x)), float(np.mean(y))
    dx = x - xm
    sxx = float(dx @ dx)
    slope = float(dx @ (y - ym)) / sxx if sxx > 0 else 0.0
    return slope, ym - slope * xm


def _detrend(series: np.ndarray) -> np.ndarray:
    x = np.arange(series.size, dtype=float)
    slope, icpt = _line(x, series)
    return series - (slope * x + icpt)


def _aggregation(n: int) -> int:
    """Samples per super-sample of the exact detrended basis (a power of 2)."""
    return 1 << max(0, math.ceil(math.log2(n / _AGGREGATE)))


def block_variogram(cells: np.ndarray, group: int, *, short: np.ndarray | None = None,
                    short_index: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The residual block-sum variogram W(m), m = 1, 2, 4, ... samples, after a straight
    line is removed.

    Parameters
    ----------
    cells : array
        Residuals (data - model) of the last half of a hold, summed over consecutive
        cells of ``group`` samples (``group`` = 1: the residuals themselves), in order.
    group : int
        Samples per cell, a power of 2.
    short : array (k, group), optional
        Residuals of k whole cells of raw samples (for blocks shorter than a cell;
        needed when ``group`` > 1).
    short_index : array (k, group) of int, optional
        Sample index of every value of ``short``, counted from the first sample of
        ``cells``.

    Returns
    -------
    (blocks, w)
        Block lengths (samples) and mean squared block sums; blocks up to 1/8 of the
        window, at least 4 of them each. Blocks shorter than a cell average over the
        blocks inside the cells of ``short`` (starting every m // 4 samples, as the
        longer ones do over the whole window).
    """
    n = cells.size * group
    if n < 4 * _MIN_BLOCKS or cells.size < 2:
        return np.zeros(0), np.zeros(0)
    g = _aggregation(n)
    x = np.arange(cells.size, dtype=float)
    slope, icpt = _line(x, cells)
    raw = cells - (slope * x + icpt)
    per = g // group
    n_agg = n // g
    agg = _detrend(cells[:n_agg * per].reshape(n_agg, per).sum(axis=1))
    if group > 1:
        # the same line per sample: a cell sum of a + b k is G a + b G (G - 1) / 2 + b G^2 c
        b = slope / group**2
        a = (icpt - b * group * (group - 1) / 2) / group
        short = short - (a + b * short_index)
        c_short = np.concatenate([np.zeros((short.shape[0], 1)), np.cumsum(short, axis=1)],
                                 axis=1)
    blocks, w = [], []
    c_raw, c_agg = _cumulative(raw), _cumulative(agg)
    m = 1
    while m <= n // _MIN_BLOCKS:
        if m < group:
            starts = np.arange(0, group - m + 1, max(1, m // 4))
            s = (c_short[:, starts + m] - c_short[:, starts]).ravel()
        elif m < g:
            s = _block_sums(c_raw, m // group, max(1, (m // 4) // group))
        else:
            s = _block_sums(c_agg, m // g)
        if s.size < _MIN_BLOCKS // 2:
            break
        blocks.append(float(m))
        w.append(float(np.mean(s * s)))
        m *= 2
    return np.array(blocks), np.array(w)


def _toeplitz_q(c: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sum_j S_ij and sum_j S_ij x_j for the symmetric Toeplitz matrices S_ij = c[|i - j|]
    (one per column of ``c``, (n, k)) and x_j = j, by cumulative sums: (n, k) each."""
    i = x[:, None]
    lag = np.cumsum(c, axis=0)  # C[d] = c[0] + ... + c[d]
    moment = np.cumsum(x[:, None] * c, axis=0)  # D[d] = sum d' c[d'] up to d
    rev = lag[::-1] - c[0]  # sum of c[1..n-1-i]
    rev_moment = moment[::-1]
    ones = lag + rev  # sum_{d<=i} c[d] + sum_{1<=d<=n-1-i} c[d]
    # sum_j j c[|i-j|] = sum_{d<=i} (i - d) c[d] + sum_{1<=d<=n-1-i} (i + d) c[d]
    xs = i * lag - moment + i * rev + rev_moment
    return ones, xs


def _detrended_basis(phi: np.ndarray, g: int, n_agg: int,
                     blocks: np.ndarray) -> np.ndarray:
    """Expected block-sum variances after the line removal, on the aggregated grid.

    Columns: white noise, then one per ``phi``; rows: ``blocks`` (multiples of ``g``
    samples, in samples). The products of the line's basis Q with the super-sample
    covariance (Toeplitz in the lag) come from cumulative sums, for every column at once.
    """
    x = np.arange(n_agg, dtype=float)
    centred = x - x.mean()
    norm = math.sqrt(float(centred @ centred))
    q = np.column_stack([np.full(n_agg, 1.0 / math.sqrt(n_agg)), centred / norm])
    cum_q = np.vstack([np.zeros(2), np.cumsum(q, axis=0)])
    p_all = np.r_[0.0, phi]
    e = component_variogram(p_all, np.arange(n_agg + 1, dtype=float) * g)  # (n_agg+1, k)
    # covariance of super-sample sums from the increments of E, E(-g) = E(g)
    e_lo = np.vstack([e[1:2], e[:-2]])
    c = 0.5 * (e[1:] + e_lo - 2 * e[:-1])
    c[0] = e[1]
    ones, xs = _toeplitz_q(c, x)
    qs = np.stack([ones / math.sqrt(n_agg), (xs - x.mean() * ones) / norm], axis=1)
    qsq = np.einsum("irk,is->krs", qs, q)  # Q^T S Q, (k, 2, 2)
    cum_qs = np.concatenate([np.zeros((1, 2, p_all.size)), np.cumsum(qs, axis=0)])
    out = np.empty((blocks.size, p_all.size))
    for row, m in enumerate(blocks):
        ma = int(m // g)
        starts = np.arange(0, n_agg - ma + 1, max(1, ma // 4))
        qb = cum_q[starts + ma] - cum_q[starts]  # (n_blocks, 2)
        qsb = cum_qs[starts + ma] - cum_qs[starts]  # (n_blocks, 2, k)
        raw = component_variogram(p_all, np.array([float(m)]))[0]
        val = raw - 2 * np.einsum("br,brk->bk", qb, qsb) \
            + np.einsum("br,krs,bs->bk", qb, qsq, qb)
        out[row] = val.mean(axis=0)
    return out


def fit_slow_noise(block: np.ndarray, w: np.ndarray, n: int,
                   white2: float) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The AR(1) mixture of the residuals of the last half of a hold.

    Parameters
    ----------
    block, w : array
        The residual block-sum variogram (:func:`block_variogram`): block lengths in
        samples and mean squared block sums (scaled units squared).
    n : int
        Samples in the window.
    white2 : float
        White-noise variance of one sample from the second differences.

    Returns
    -------
    (phi, var, extra_white, inflation)
        Lag-one correlations and variances of the components (phi = 1: a constant level),
        the white variance beyond ``white2``, and W(m) / (m white2) at the longest block.
    """
    if n < 4 * _MIN_BLOCKS or block.size == 0:
        return np.zeros(0), np.zeros(0), 0.0, 1.0
    white2 = max(white2, 1e-300)
    g = _aggregation(n)
    n_agg = n // g
    inflation = float(w[-1] / (block[-1] * white2))
    top = max(1, math.ceil(math.log2(max(2 * n, 2))))
    scales = 2.0 ** np.arange(0, top + 1)
    phi = np.r_[np.exp(-1.0 / scales), 1.0]
    basis = np.column_stack([block, component_variogram(phi, block)])
    long = block >= g
    if np.any(long) and n_agg >= 8:
        basis[long] = _detrended_basis(phi, g, n_agg, block[long])
    target = w - basis[:, 0] * white2
    from scipy.optimize import nnls

    # only the components the blocks resolve are fitted: longer ones (and a constant
    # level) are mostly removed with the line, and their near-zero columns would take
    # any weight
    resolved = int(np.searchsorted(scales, block[-1], side="right"))
    fitted = 1 + resolved
    scale = np.maximum(w, 1e-300)
    coef = np.zeros(basis.shape[1])
    coef[:fitted], _ = nnls(basis[:, :fitted] / scale[:, None], target / scale)
    # 1/f noise continues beyond the longest block measured: octaves longer than the
    # blocks inherit the weight of the last two resolved ones (an AR(1) or white record
    # leaves them at ~0); the constant level stays 0
    ar = coef[1:-1]
    if 2 <= resolved < ar.size:
        ar[resolved:] = ar[resolved - 2:resolved].mean()
    coef[1:-1] = ar
    return phi, coef[1:], float(coef[0]), inflation
