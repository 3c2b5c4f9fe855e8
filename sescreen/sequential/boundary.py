"""How much error each look may spend, and the interval of a look at that level.

A look that stops the hold when its interval clears a threshold is one of many chances to be
wrong. The union (Bonferroni) bound makes the chances add up to at most ``alpha`` whatever
their correlation: if look k states an interval at level ``1 - alpha_k`` and
``sum_k alpha_k <= alpha``, the probability that *any* look excludes the true sigma_e is at
most ``alpha`` (METHODS.md section 7). Two schedules of ``alpha_k``:

``series`` (default, any number of looks)
    ``alpha_k = alpha * 6 / (pi^2 k^2)``; ``sum_k 6 / (pi^2 k^2) = 1``, so the bound holds
    however long the hold runs (the Bonferroni-type confidence sequence, e.g. Howard,
    Ramdas, McAuliffe & Sekhon, Ann. Stat. 49, 1055 (2021), section 3; Robbins 1970).
``fixed`` (a pre-set maximum of K looks)
    ``alpha_k = alpha / K``, the Bonferroni split of a K-look group-sequential design
    (Lan & DeMets, Biometrika 70, 659 (1983) spend alpha over planned looks; the exact
    Lan-DeMets boundaries assume independent Gaussian increments between looks, which a
    refitted, model-averaged extrapolation does not have, so only the union bound is used).

The DC estimator states a 95 % interval. :func:`widen` turns it into a ``1 - alpha_k``
interval by stretching each half-width by ``z(1 - alpha_k / 2) / 1.96``: in log sigma_e for a
two-sided interval (a log-normal error, as :func:`sescreen.criteria.interval_from_stderr`),
about the point in linear sigma_e for an upper bound only (a current near the detection
limit). This is an approximation (a normal tail extrapolated from the 95 % point);
``tests/benchmarks/watch_holds.py`` measures what it gives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

from sescreen.constants import Z95
from sescreen.errors import InputError

__all__ = ["Z95", "LookBoundary", "widen"]

SCHEDULES = ("series", "fixed")


@dataclass(frozen=True)
class LookBoundary:
    """Error spent per look.

    Parameters
    ----------
    alpha : float
        Probability, over all looks together, that a stated interval misses sigma_e
        (0 < alpha < 1; 0.05 gives "95 % confidence" statements).
    max_looks : int, optional
        A pre-set number of looks K (``alpha / K`` each); None: any number (the series).
    """

    alpha: float = 0.05
    max_looks: int | None = None

    def __post_init__(self):
        if not 0 < self.alpha < 1:
            raise InputError(f"alpha = {self.alpha!r} must be between 0 and 1, e.g. 0.05")
        if self.max_looks is not None and self.max_looks < 1:
            raise InputError(f"max_looks = {self.max_looks!r} must be at least 1")

    @property
    def schedule(self) -> str:
        """``"series"`` or ``"fixed"``."""
        return "series" if self.max_looks is None else "fixed"

    def alpha_at(self, k: int) -> float:
        """Error spent at look k (1-based); 0 after the last planned look."""
        if k < 1:
            raise InputError(f"look number {k} must be at least 1")
        if self.max_looks is not None:
            return self.alpha / self.max_looks if k <= self.max_looks else 0.0
        return self.alpha * 6.0 / (math.pi ** 2 * k * k)

    def z_at(self, k: int) -> float:
        """Two-sided normal quantile of look k: ``z(1 - alpha_k / 2)`` (inf when nothing is
        left to spend)."""
        a = self.alpha_at(k)
        return math.inf if a <= 0 else float(norm.isf(a / 2.0))

    def describe(self) -> str:
        """One line for the output: the schedule and its guarantee."""
        if self.max_looks is None:
            rule = f"alpha_k = {self.alpha:g} * 6/(pi^2 k^2), any number of looks"
        else:
            rule = f"alpha_k = {self.alpha:g}/{self.max_looks} for at most {self.max_looks} looks"
        return (f"sequential intervals: {rule}; P(any look wrong) <= {self.alpha:g} "
                "(union bound)")


def widen(sigma_e: float, interval: tuple[float, float], z: float, *,
          upper_bound_only: bool = False) -> tuple[float, float]:
    """Stretch a 95 % interval of sigma_e to the level of quantile ``z``.

    Parameters
    ----------
    sigma_e : float
        The point value, S/cm.
    interval : (float, float)
        Its 95 % interval, S/cm (``lo = 0`` for an upper bound only, ``hi = inf`` open).
    z : float
        Two-sided normal quantile of the wanted level (``LookBoundary.z_at``); inf gives
        ``(0, inf)``.
    upper_bound_only : bool
        Only the upper end is supported: widened about the point in linear sigma_e.

    Returns
    -------
    (float, float)
        The widened interval, S/cm.
    """
    lo, hi = (float(x) for x in interval)
    if not math.isfinite(z):
        return 0.0, math.inf
    r = z / Z95
    if upper_bound_only or not lo > 0 or not sigma_e > 0:
        point = max(float(sigma_e), 0.0) if math.isfinite(sigma_e) else 0.0
        return 0.0, point + (hi - point) * r
    point = min(max(float(sigma_e), lo), hi)  # a profile interval need not centre on it
    wide_lo = point * (lo / point) ** r
    wide_hi = point * (hi / point) ** r if math.isfinite(hi) else math.inf
    return wide_lo, wide_hi
