"""The noise model of a hold: white, correlated and quantization noise, as the covariance
of the log-time bin means (METHODS.md section 6).

Real potentiostat noise is not white: thermal and electronic drifts give AR(1)-like and
1/f noise, a daily temperature cycle modulates the current by a few %, and at pA-nA the
ADC step makes a staircase whose second differences vanish. White-noise standard errors
are then too small by a large factor (sqrt((1 + rho) / (1 - rho)) for AR(1)).

The model here is estimated from the residuals r_k of a first fit (data minus model):

* the block-sum variogram W(m) = E[(r_k + ... + r_{k+m-1})^2] for m = 1, 2, 4, ... samples
  (overlapping blocks of the last half of the record, where the asymptote is decided, after
  a straight line is removed: a drift is a trend to detect, not noise);
* its excess over the white part, E(m) = W(m) - m sigma_w^2 (sigma_w from second
  differences), fitted by a non-negative mixture of AR(1) processes with correlation
  lengths 1 .. 2N samples and a constant level (1/f noise is such a superposition of
  Lorentzians); any such mixture is a valid covariance, so the result is positive
  semi-definite;
* for the sums S_A, S_B of two disjoint sample ranges A = [a, b), B = [c, d) of a process
  with stationary increments, Cov(S_A, S_B) = (E(d-a) + E(c-b) - E(c-a) - E(d-b)) / 2; so
  the covariance of every pair of bin means follows from E alone, and the fit becomes a
  generalized least-squares one (whitened by the Cholesky factor).

Quantization: a reading rounded to a step q carries an error that averaging removes only
when the noise before rounding dithers it. With Gaussian noise of sd s the mean error as a
function of the true value oscillates with amplitude (q / pi) exp(-2 pi^2 s^2 / q^2) (the
first harmonic of the quantizer's characteristic function; Widrow & Kollar, Quantization
Noise, 2008, ch. 4-5). The 95 % interval of I_ss is widened by the half-width
``(q / 2) exp(-2 pi^2 s^2 / q^2)``: q/2 for an undithered staircase, nothing once s > q/2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sescreen.dcpol.binning import Binned

__all__ = ["NoiseModel", "estimate_noise", "white_noise_model", "whiten_covariance"]

_MIN_BLOCKS = 8  # the longest block used leaves at least this many in the window


@dataclass(frozen=True)
class NoiseModel:
    """Covariance of the bin means of one record (scaled units).

    Attributes
    ----------
    cov : array (n_bins, n_bins)
        Covariance of the bin means.
    whitener : array (n_bins, n_bins)
        Inverse Cholesky factor: ``whitener @ (model - data)`` has unit covariance.
    ar_phi, ar_var : array
        Lag-one correlations and variances of the AR(1) components of the slow noise
        (phi = 1: a constant level); their block-sum variance is the excess E(m).
    white_sd : float
        White noise of one sample.
    inflation : float
        W(m) / (m sigma_w^2) at the longest block: 1 for white noise, >> 1 for correlated.
    resolution : float
        Current step (LSB) seen in the record, 0 when none.
    quantization_halfwidth : float
        Half-width added to the I_ss interval for the undithered part of the quantization.
    """

    cov: np.ndarray
    whitener: np.ndarray
    ar_phi: np.ndarray
    ar_var: np.ndarray
    white_sd: float
    inflation: float
    resolution: float
    quantization_halfwidth: float

    @property
    def correlated(self) -> bool:
        """True when the slow noise at least doubles the variance of long averages."""
        return self.inflation > 2.0

    def subset(self, keep: np.ndarray) -> NoiseModel:
        """The model of the bins selected by a boolean mask (for truncation tests)."""
        cov, inv = whiten_covariance(self.cov[np.ix_(keep, keep)])
        return NoiseModel(cov, inv, self.ar_phi, self.ar_var, self.white_sd, self.inflation,
                          self.resolution, self.quantization_halfwidth)

    def mean_variance(self, n: int) -> float:
        """Variance of the mean of ``n`` consecutive samples (white + correlated)."""
        extra = float(_excess_at(self.ar_phi, self.ar_var, np.array([n]))[0])
        return (n * self.white_sd**2 + extra) / n**2


def _component_variogram(phi: np.ndarray, m) -> np.ndarray:
    """Variance of the sum of m consecutive samples of unit-variance AR(1) processes with
    lag-one correlations ``phi`` (shape (k,)); m of any shape; phi = 1 is a constant level
    (m^2), phi = 0 white noise (m)."""
    m = np.asarray(m, dtype=float)[..., None]
    p = phi[None, :] if m.ndim > 1 else phi
    with np.errstate(divide="ignore", invalid="ignore"):
        ar = m * (1 + p) / (1 - p) - 2 * p * (1 - np.power(p, m)) / (1 - p) ** 2
    return np.where(p >= 1.0, m**2, np.where(p <= 0.0, m, ar))


def _excess_at(phi: np.ndarray, var: np.ndarray, m) -> np.ndarray:
    """E(m) of the fitted mixture: AR(1) components with lag-one correlations ``phi`` and
    variances ``var``."""
    m = np.asarray(m, dtype=float)
    if phi.size == 0 or not np.any(var > 0):
        return np.zeros_like(m)
    return _component_variogram(phi, m) @ var


def _fit_mixture(block: np.ndarray, w: np.ndarray, white2: float,
                 n: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative mixture of AR(1) processes (correlation lengths 1 .. n samples, plus a
    constant level) fitted to the excess variogram W(m) - m sigma_w^2.

    1/f noise is well represented as a superposition of such Lorentzian processes with
    log-spaced time scales; any non-negative mixture is a valid covariance, so the bin
    covariance built from it is positive semi-definite. Fitted by NNLS in relative terms.
    """
    from scipy.optimize import nnls

    top = max(1, math.ceil(math.log2(max(2 * n, 2))))
    scales = 2.0 ** np.arange(0, top + 1)
    phi = np.r_[np.exp(-1.0 / scales), 1.0]
    basis = _component_variogram(phi, block)  # (n_blocks, n_comp)
    target = w - block * white2
    # the white part beyond the second differences (rounding, a wrong sigma_w) is a
    # component too: W = m, no covariance between disjoint blocks
    basis = np.column_stack([block, basis])
    scale = np.maximum(w, 1e-300)
    coef, _ = nnls(basis / scale[:, None], target / scale)
    # 1/f noise continues beyond the longest block measured (and the detrending of the
    # window hides it there): octaves longer than the blocks inherit the weight of the
    # last two resolved ones; an AR(1) or white record leaves them at ~0
    resolved = int(np.searchsorted(scales, block[-1], side="right"))
    ar = coef[1:-1]
    if 2 <= resolved < ar.size:
        ar[resolved:] = np.maximum(ar[resolved:], ar[resolved - 2:resolved].mean())
    coef[1:-1] = ar
    return phi, coef[1:], float(coef[0])


def _variogram(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Block lengths m = 1, 2, 4, ... and the mean squared sums of overlapping blocks."""
    n = r.size
    c = np.concatenate([[0.0], np.cumsum(r)])
    lengths, w = [], []
    m = 1
    while m <= n // _MIN_BLOCKS:
        starts = np.arange(0, n - m + 1, max(1, m // 4))
        s = c[starts + m] - c[starts]
        lengths.append(m)
        w.append(float(np.mean(s * s)))
        m *= 2
    return np.array(lengths, dtype=float), np.array(w)


def _covariance(b: Binned, phi: np.ndarray, var: np.ndarray,
                extra_white: float = 0.0) -> np.ndarray:
    """Covariance of the bin means from the per-bin white variances (plus the white excess
    the variogram finds) and the slow components."""
    a = b.first.astype(float)
    e_ = a + b.n  # one past the last sample
    n = b.n
    cov = np.diag((b.white_var + extra_white) / n)
    if phi.size and np.any(var > 0):
        def ex(x):
            return _excess_at(phi, var, np.abs(x))

        # Cov(S_i, S_j) for i < j: (E(e_j - a_i) + E(a_j - e_i) - E(a_j - a_i) - E(e_j - e_i))/2
        ai, aj = a[:, None], a[None, :]
        ei, ej = e_[:, None], e_[None, :]
        s = 0.5 * (ex(ej - ai) + ex(aj - ei) - ex(aj - ai) - ex(ej - ei))
        s = np.triu(s, 1)
        s = s + s.T + np.diag(ex(n))
        cov = cov + s / (n[:, None] * n[None, :])
    return cov


def whiten_covariance(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A positive-definite version of ``cov`` (eigenvalues clipped) and its inverse
    Cholesky factor."""
    d = np.sqrt(np.diag(cov))
    corr = cov / np.outer(d, d)
    try:
        chol = np.linalg.cholesky(corr + 1e-10 * np.eye(len(d)))
    except np.linalg.LinAlgError:
        vals, vecs = np.linalg.eigh(corr)
        vals = np.maximum(vals, 1e-6 * vals.max())
        corr = (vecs * vals) @ vecs.T
        dd = np.sqrt(np.diag(corr))
        corr = corr / np.outer(dd, dd)
        chol = np.linalg.cholesky(corr + 1e-10 * np.eye(len(d)))
    cov = corr * np.outer(d, d)
    inv = np.linalg.solve(chol, np.eye(len(d))) / d[None, :]
    return cov, inv


def white_noise_model(b: Binned, resolution: float = 0.0) -> NoiseModel:
    """The white-noise model (diagonal covariance): the first fit's weights."""
    cov = np.diag(b.sem**2)
    return NoiseModel(cov, np.diag(1.0 / b.sem), np.zeros(0), np.zeros(0), b.noise, 1.0,
                      resolution, _quantization_halfwidth(resolution, b.noise))


def _quantization_halfwidth(q: float, white_sd: float) -> float:
    if q <= 0:
        return 0.0
    s2 = max(white_sd**2 - q**2 / 12.0, 0.0)  # noise before rounding
    return 0.5 * q * math.exp(-2.0 * math.pi**2 * s2 / q**2)


def estimate_noise(b: Binned, residuals: np.ndarray, *, resolution: float = 0.0) -> NoiseModel:
    """The noise model from the raw residuals of a first fit.

    Parameters
    ----------
    b : Binned
        The bins the fit uses.
    residuals : array
        Data minus model at every fitted sample (scaled units), in time order.
    resolution : float
        The current step (scaled units), from :func:`~sescreen.dcpol.binning.resolution_step`.

    Returns
    -------
    NoiseModel
    """
    r = np.asarray(residuals, dtype=float)
    late = r[r.size // 2:]
    if late.size > 2:
        # a straight line through the late residuals is a trend, not noise: it is what the
        # trend test must see (judgement.tail_trend), so it stays out of the covariance
        x = np.arange(late.size, dtype=float)
        late = late - np.polyval(np.polyfit(x, late, 1), x)
    white = b.noise
    phi, var, inflation, extra_white = np.zeros(0), np.zeros(0), 1.0, 0.0
    if late.size >= 4 * _MIN_BLOCKS:
        block, w = _variogram(late)
        block, w = block[block <= max(late.size // 16, 1)], w[block <= max(late.size // 16, 1)]
        white2 = max(white**2, 1e-300)
        if block.size:
            inflation = float(w[-1] / (block[-1] * white2))
            phi, var, extra_white = _fit_mixture(block, w, white2, late.size)
    cov = _covariance(b, phi, var, extra_white)
    cov, inv = whiten_covariance(cov)
    white = math.sqrt(white**2 + extra_white)
    return NoiseModel(cov, inv, phi, var, white, inflation, resolution,
                      _quantization_halfwidth(resolution, b.noise))
