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
when the noise before rounding dithers it. With Gaussian noise of sd s, the mean error at
a true value x is the Fourier series

    e(x) = sum_k (-1)^k (q / (pi k)) exp(-2 pi^2 k^2 s^2 / q^2) sin(2 pi k x / q)

(the quantizer's characteristic function; Widrow & Kollar, Quantization Noise, 2008,
ch. 4-5): a sawtooth of +-q/2 for an undithered staircase, nothing once s > q/2. Where the
grid lies relative to the true current is unknown, so the phase is uniform: the errors of
two bin means with model levels x_i, x_j are then jointly Gaussian-like with covariance
sum_k (q^2 / (2 pi^2 k^2)) d_k^2 cos(2 pi k (x_i - x_j) / q) times sinc(k span / q) per bin
(the average over the range of x a bin covers). On a plateau every late bin shares one
level and the error is one constant of variance q^2/12 that no averaging removes; during
the decay it is a sawtooth the fit must not mistake for a trend or a misfit. Both are in
the covariance (:func:`quantization_covariance`), so the interval, the trend test and the
goodness of fit all see them. The plateau's offset also enters as one level shared by all
bins (variance q^2/12 undithered): the phase could in principle be learned from the steps
of the decay, but only from a model exact to a fraction of an LSB, which no fit here is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

from sescreen.dcpol.binning import Binned
from sescreen.dcpol.variogram import excess_at, fit_slow_noise

__all__ = ["NoiseModel", "estimate_noise", "quantization_covariance", "white_noise_model",
           "whiten_covariance"]

_Q_HARMONICS = 64  # harmonics of the rounding error kept as correlated terms


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
    quantization_sd : float
        Standard deviation of the rounding error on a plateau (the undithered part of the
        quantization; included in :attr:`cov`), 0 when none.
    """

    cov: np.ndarray
    whitener: np.ndarray
    ar_phi: np.ndarray
    ar_var: np.ndarray
    white_sd: float
    inflation: float
    resolution: float
    quantization_sd: float

    @property
    def correlated(self) -> bool:
        """True when the slow noise at least doubles the variance of long averages."""
        return self.inflation > 2.0

    def subset(self, keep: np.ndarray) -> NoiseModel:
        """The model of the bins selected by a boolean mask (for truncation tests)."""
        cov, inv = whiten_covariance(self.cov[np.ix_(keep, keep)])
        return NoiseModel(cov, inv, self.ar_phi, self.ar_var, self.white_sd, self.inflation,
                          self.resolution, self.quantization_sd)

    def mean_variance(self, n: int) -> float:
        """Variance of the mean of ``n`` consecutive samples (white + correlated)."""
        extra = float(excess_at(self.ar_phi, self.ar_var, np.array([n]))[0])
        return (n * self.white_sd**2 + extra) / n**2


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
            return excess_at(phi, var, np.abs(x))

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
    if np.all(d > 0) and np.count_nonzero(cov) == np.count_nonzero(np.diag(cov)):
        # a diagonal covariance (white noise): the same numbers without the matrix
        # factorizations (a Cholesky factor of a diagonal is its square root)
        dd = d * d
        corr = np.diag(cov) / dd
        return np.diag(corr * dd), np.diag((1.0 / np.sqrt(corr + 1e-10)) / d)
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
    inv = solve_triangular(chol, np.eye(len(d)), lower=True) / d[None, :]
    return cov, inv


def white_noise_model(b: Binned, resolution: float = 0.0) -> NoiseModel:
    """The white-noise model (diagonal covariance): the first fit's weights."""
    cov = np.diag(b.sem**2)
    return NoiseModel(cov, np.diag(1.0 / b.sem), np.zeros(0), np.zeros(0), b.noise, 1.0,
                      resolution, 0.0)


def _rounding_weights(q: float, white_sd: float, k: np.ndarray) -> np.ndarray:
    """Variance of harmonic k of the rounding error, q^2/(2 pi^2 k^2) d_k^2, where
    d_k = exp(-2 pi^2 k^2 s^2/q^2) and s^2 = white^2 - q^2/12 is the noise before rounding."""
    s2 = max(white_sd**2 - q**2 / 12.0, 0.0)
    return q**2 / (2.0 * math.pi**2 * k**2) * np.exp(-4.0 * math.pi**2 * k**2 * s2 / q**2)


def quantization_covariance(level: np.ndarray, span: np.ndarray, q: float,
                            white_sd: float) -> np.ndarray:
    """Covariance of the rounding error of the bin means (scaled units).

    Parameters
    ----------
    level : array
        Model current averaged over each bin.
    span : array
        Range of the model current inside each bin (|I(start) - I(end)|).
    q : float
        Current step (LSB); 0 gives zeros.
    white_sd : float
        White noise of one sample after rounding (second differences).

    Returns
    -------
    array (n_bins, n_bins)
        sum_k c_k Re(F_ik conj(F_jk)) with F_ik = exp(2 pi i k x_i / q) sinc(k span_i / q),
        plus the harmonics beyond :data:`_Q_HARMONICS` on the diagonal.
    """
    level = np.asarray(level, dtype=float)
    if q <= 0:
        return np.zeros((level.size, level.size))
    k = np.arange(1, _Q_HARMONICS + 1, dtype=float)
    c = _rounding_weights(q, white_sd, k)
    f = np.exp(2j * math.pi * np.outer(level, k) / q) * np.sinc(np.outer(span, k) / q)
    cov = ((f * c) @ f.conj().T).real
    tail_k = np.arange(_Q_HARMONICS + 1, 40 * _Q_HARMONICS, dtype=float)
    return cov + np.eye(level.size) * float(_rounding_weights(q, white_sd, tail_k).sum())


def estimate_noise(b: Binned, variogram: tuple[np.ndarray, np.ndarray, int], *,
                   resolution: float = 0.0, level: np.ndarray | None = None,
                   span: np.ndarray | None = None) -> NoiseModel:
    """The noise model from the residuals of a first fit.

    Parameters
    ----------
    b : Binned
        The bins the fit uses.
    variogram : (blocks, w, n)
        The block-sum variogram of the first fit's residuals in the last half of the
        hold (:func:`sescreen.dcpol.residuals.residual_variogram`): block lengths
        (samples), mean squared block sums (scaled units squared), samples in the window.
    resolution : float
        The current step (scaled units), from :func:`~sescreen.dcpol.binning.resolution_step`.
    level, span : array, optional
        The first fit's mean current in every bin and its range inside the bin (scaled
        units), for the rounding error of a quantized record; default: the bin means, no
        range.

    Returns
    -------
    NoiseModel
    """
    white = b.noise
    phi, var, extra_white, inflation = fit_slow_noise(*variogram, white**2)
    # a staircase has no second differences: the rounding itself (q^2/12) is the least a
    # sample can be said to vary when the inflation is reported
    floor2 = max(white**2, resolution**2 / 12.0, 1e-300)
    inflation *= max(white**2, 1e-300) / floor2
    cov = _covariance(b, phi, var, extra_white)
    q_sd = 0.0
    if resolution > 0:
        level = b.y if level is None else level
        span = np.zeros_like(b.y) if span is None else span
        q_sd = math.sqrt(float(_rounding_weights(
            resolution, b.noise, np.arange(1, 40 * _Q_HARMONICS, dtype=float)).sum()))
        # the sawtooth, plus the plateau's offset as one shared level: a fit must not
        # learn where the grid lies from the steps of an imperfectly modelled decay
        cov = cov + quantization_covariance(level, span, resolution, b.noise) + q_sd**2
    cov, inv = whiten_covariance(cov)
    white = math.sqrt(white**2 + extra_white)
    return NoiseModel(cov, inv, phi, var, white, inflation, resolution, q_sd)
