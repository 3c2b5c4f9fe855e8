"""Fit parameters as plain data: the part of lmfit's ``Parameters`` the transient fits use.

lmfit's ``Parameters`` keep an asteval interpreter and re-evaluate constraint expressions
on every access; building and copying them costs more than a whole residual evaluation of a
transient fit. :class:`Params` holds the same information (value, bounds, ``vary``, a
constraint ``expr`` and the fitted ``stderr``) in a dict of small dataclasses, in the same
order; :func:`sescreen.dcpol.lsq.least_squares` fits them with lmfit's meaning of each field, and
:meth:`Params.to_lmfit` converts them for lmfit's own tools.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

__all__ = ["Param", "Params"]


@dataclass
class Param:
    """One parameter (units those of the model's argument)."""

    name: str
    value: float = -math.inf
    min: float = -math.inf
    max: float = math.inf
    vary: bool = True
    expr: str | None = None  #: a product of other parameters, e.g. ``"tau1 * r2"``
    stderr: float | None = None

    def set(self, *, value: float | None = None, min: float | None = None,
            max: float | None = None, vary: bool | None = None,
            expr: str | None = None) -> None:
        """Change ``vary``, bounds, the value (clipped to the bounds) or the constraint,
        in that order and with lmfit's rules: a value or ``vary=True`` clears the
        constraint, a constraint fixes ``vary`` False."""
        self.min = self.min if min is None else min
        self.max = self.max if max is None else max
        if vary is not None:
            self.vary = vary
            self.expr = None if vary else self.expr
        if value is not None:
            self.value = clip(float(value), self.min, self.max)
            self.expr = None
        if expr is not None:
            self.expr, self.vary = expr, False


def clip(value: float, lo: float, hi: float) -> float:
    """``value`` within [lo, hi] (lmfit's rule: above ``hi`` -> ``hi``, below ``lo`` -> ``lo``)."""
    return hi if value > hi else lo if value < lo else value


class Params(dict):
    """Parameters by name, in the order of the model's arguments."""

    @classmethod
    def named(cls, names) -> Params:
        """Unset parameters with the given names."""
        return cls({n: Param(n) for n in names})

    def add(self, name: str, *, value: float, min: float = -math.inf,
            max: float = math.inf) -> None:
        """Append a varying parameter."""
        self[name] = Param(name, clip(float(value), min, max), min, max)

    def copy(self) -> Params:
        return Params({n: dataclasses.replace(p) for n, p in self.items()})

    def valuesdict(self) -> dict[str, float]:
        return {n: p.value for n, p in self.items()}

    def to_lmfit(self):
        """The same parameters as lmfit ``Parameters``."""
        import lmfit

        out = lmfit.Parameters()
        for p in self.values():
            out.add(p.name, value=p.value, min=p.min, max=p.max, vary=p.vary)
        for p in self.values():  # constraints once every name exists
            if p.expr is not None:
                out[p.name].set(expr=p.expr)
        return out
