"""Refit a growing hold at each look and decide with an error rate kept over all looks."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from sescreen.errors import InputError, SescreenError
from sescreen.sequential.boundary import LookBoundary, widen
from sescreen.sequential.look import Look, WatchHistory

__all__ = ["HoldWatcher"]

_COMPLETE = ("end", "idle")  #: stops at which the record is complete


class HoldWatcher:
    """Follow one constant-voltage hold while it runs and say when it can stop.

    Feed it points (:meth:`feed`) or whole records read so far (:meth:`look` with a
    Measurement), call :meth:`look` at each look: the hold is refitted by
    :func:`sescreen.dcpol.fit_dcpol`, the 95 % interval of sigma_e is widened to the look's
    level ``1 - alpha_k`` (:mod:`sescreen.sequential.boundary`) and judged by the rule of
    :func:`sescreen.criteria.judge_at` (PASS only when the whole interval is below the
    threshold, FAIL only when it is above). Over all looks together, P(any decision wrong)
    <= ``alpha`` (union bound), as far as the 95 % intervals are right.

    Parameters
    ----------
    thickness_cm : float
        Electrolyte thickness, cm.
    target_ma_cm2 : float
        Current density the electrolyte must support, mA/cm^2 (threshold of Han et al. 2019).
    area_cm2, voltage_v, temperature_k : float, optional
        Electrode area (cm^2), applied voltage (V), temperature (K): needed with
        :meth:`feed` (a bare stream of points); with a Measurement they default to its own.
    model : str
        Transient model of :func:`sescreen.dcpol.fit_dcpol` ("auto").
    accuracy_a : float, optional
        The instrument's current accuracy, A (``accuracy_a`` of
        :func:`~sescreen.dcpol.fit_dcpol`; default: from the record's current range).
    alpha : float
        Error over all looks (0.05: statements at 95 % confidence).
    max_looks : int, optional
        Pre-set maximum of looks (alpha / K each); None: any number (alpha 6/(pi^2 k^2)).
    precision : float, optional
        Second stop rule: stop when both ends of the sequential interval are within this
        fraction of sigma_e (0.05 for 5 %); not while a PASS or FAIL waits for its
        confirmation (the next look confirms it or not).
    confirm : int
        Looks in a row that must give the same PASS or FAIL before it decides (2). A look
        sees only the record so far, and a process slower than it (a current that dips and
        rises back, a second, slower decay) is invisible in it; a decision repeated at the
        next look, on a record longer by one look, is wrong less often (a review's holds
        that dip and rise back with tau 1-30x the first look: see
        ``tests/benchmarks/watch_holds.py``). 1: the first look that clears decides.
    source : str, optional
        Name of the record in messages.

    Examples
    --------
    >>> w = HoldWatcher(thickness_cm=0.1, area_cm2=1.0, voltage_v=0.1)   # doctest: +SKIP
    >>> w.feed(t_new, i_new); look = w.look(); look.decided               # doctest: +SKIP
    """

    def __init__(self, *, thickness_cm: float, target_ma_cm2: float = 1.0,
                 area_cm2: float | None = None, voltage_v: float | None = None,
                 temperature_k: float | None = None, model: str = "auto",
                 accuracy_a: float | None = None, alpha: float = 0.05, max_looks: int | None = None,
                 precision: float | None = None, confirm: int = 2,
                 source: str | None = None):
        from sescreen.criteria import max_sigma_e

        if not (thickness_cm and thickness_cm > 0):
            raise InputError(f"thickness {thickness_cm!r} cm must be positive, e.g. 0.1")
        if precision is not None and not 0 < precision < 1:
            raise InputError(f"precision {precision!r} must be a fraction between 0 and 1, "
                             "e.g. 0.05 for 5 %")
        self.thickness_cm, self.target_ma_cm2 = float(thickness_cm), float(target_ma_cm2)
        self.area_cm2, self.voltage_v, self.temperature_k = area_cm2, voltage_v, temperature_k
        if not (isinstance(confirm, int) and confirm >= 1):
            raise InputError(f"confirm {confirm!r} must be a whole number of looks >= 1, e.g. 2")
        self.model, self.precision, self.source = model, precision, source
        self.confirm = confirm
        self.accuracy_a = accuracy_a
        self.boundary = LookBoundary(alpha, max_looks)
        self.threshold = max_sigma_e(self.target_ma_cm2, source="han2019").sigma_e_max
        self.history = WatchHistory(threshold=self.threshold, source=source)
        self._t: list[np.ndarray] = []
        self._i: list[np.ndarray] = []
        self.last_fit = None  #: the DCPolarizationResult of the latest successful look

    # -- input ---------------------------------------------------------------------------
    def feed(self, t_s, current_a) -> None:
        """Append samples: times since the voltage step (s) and currents (A), scalars or
        arrays of equal length, in the order the instrument wrote them."""
        t = np.atleast_1d(np.asarray(t_s, dtype=float))
        i = np.atleast_1d(np.asarray(current_a, dtype=float))
        if t.shape != i.shape:
            raise InputError(f"{t.size} times but {i.size} currents: feed pairs of equal length")
        self._t.append(t)
        self._i.append(i)

    @property
    def n_fed(self) -> int:
        """Samples fed so far."""
        return int(sum(a.size for a in self._t))

    def _fed_measurement(self):
        from sescreen.io.measurement import ColumnInfo, Measurement, Technique

        if self.voltage_v is None or self.area_cm2 is None:
            raise InputError("a stream of points needs voltage_v and area_cm2: give them "
                             "to HoldWatcher(...)")
        t, i = np.concatenate(self._t), np.concatenate(self._i)
        import pandas as pd

        data = pd.DataFrame({"time_s": t, "current_a": i,
                             "control_v": np.full(t.size, float(self.voltage_v))})
        return Measurement(
            data=data, format="stream", technique=Technique.CONSTANT_VOLTAGE,
            technique_name="constant-voltage hold (fed points)",
            applied_voltage_v=float(self.voltage_v), area_cm2=float(self.area_cm2),
            temperature_k=self.temperature_k, source=self.source,
            columns=[ColumnInfo("time_s", "time_s", "s"),
                     ColumnInfo("current_a", "current_a", "A"),
                     ColumnInfo("control_v", "control_v", "V")])

    # -- the look ------------------------------------------------------------------------
    @property
    def stopped(self) -> bool:
        """A look has said stop."""
        last = self.history.last
        return last is not None and last.stop is not None

    def look(self, measurement=None, *, notes: tuple[str, ...] = ()) -> Look:
        """Refit the record so far and judge it at the next look's level.

        Parameters
        ----------
        measurement : Measurement, optional
            The record as read so far; default: the points fed.
        notes : tuple of str
            Remarks to keep with the look (e.g. "file rewritten in place").

        Returns
        -------
        Look
            Also appended to :attr:`history`. A record that cannot be fitted yet gives an
            inconclusive look with the reason (it still spends its alpha_k: the look
            schedule, not the data, numbers the looks).

        Raises
        ------
        TechniqueError
            The file states a technique other than a constant-voltage hold (an impedance
            spectrum, a constant-current record, an open-circuit record): no later look
            could judge it, so it is bad input, as for ``sescreen check``. A record whose
            technique is unknown, inferred from the data so far or given per step (a
            Modulo Bat rest before its hold) is judged again at the next look.
        """
        from sescreen.criteria import fit_inputs, judge_at
        from sescreen.dcpol import fit_dcpol
        from sescreen.io.measurement import Technique

        m = self._fed_measurement() if measurement is None else measurement
        if m.technique not in (Technique.CONSTANT_VOLTAGE, Technique.UNKNOWN) \
                and not m.technique_inferred and not m.step_techniques:
            # review cli-W2: a PEIS, CP or ZIR file had been watched for --idle as
            # "no fit yet" and ended INCONCLUSIVE (exit 3), not refused (exit 2)
            m.require(Technique.CONSTANT_VOLTAGE, purpose="DC-polarization analysis")
        m, notes = _running_hold(m, notes)
        k = len(self.history) + 1
        alpha_k = self.boundary.alpha_at(k)
        t = m.time_s
        base = dict(k=k, elapsed_s=float(t[-1] - t[0]) if t.size else 0.0, n_points=len(m),
                    alpha_k=alpha_k, threshold=self.threshold, notes=tuple(notes),
                    confirm=self.confirm)
        try:
            fit = fit_dcpol(m, thickness_cm=self.thickness_cm, area_cm2=self.area_cm2,
                            voltage_v=self.voltage_v, temperature_k=self.temperature_k,
                            model=self.model, accuracy_a=self.accuracy_a)
        except SescreenError as exc:
            lk = Look(outcome="inconclusive", decided=False, reason=exc.message, **base)
            return self._record(lk)
        self.last_fit = fit
        z = self.boundary.z_at(k)
        evidence = fit_inputs(fit)
        lo, hi = widen(fit.sigma_e, evidence["interval"], z,
                       upper_bound_only=evidence["upper_bound_only"])
        evidence.update(interval=(lo, hi), upper_bound_only=lo <= 0)
        at = judge_at(fit.sigma_e, self.target_ma_cm2, **evidence,
                      temperature_k=fit.temperature_k, source="han2019")
        rel = None
        if fit.sigma_e > 0 and lo > 0 and math.isfinite(hi):
            rel = max(hi / fit.sigma_e - 1.0, 1.0 - lo / fit.sigma_e)
        reason = at["reason"].replace("95 % interval", f"{100 * (1 - alpha_k):.4g} % interval")
        outcome = at["outcome"]
        in_a_row = 0
        if outcome in ("pass", "fail"):
            in_a_row = 1
            for before in reversed(self.history.looks):
                if before.outcome != outcome:
                    break
                in_a_row += 1
        lk = Look(outcome=outcome, decided=in_a_row >= self.confirm, in_a_row=in_a_row,
                  sigma_e=fit.sigma_e, sigma_e_interval=(lo, hi),
                  sigma_e_interval_95=tuple(fit.sigma_e_interval),
                  upper_bound_only=lo <= 0, relative_half_width=rel,
                  precision_reached=bool(self.precision and rel is not None
                                         and rel <= self.precision),
                  remaining_fraction=fit.remaining_fraction,
                  t_steady_estimate=fit.t_steady_estimate,
                  steady_state_reached=fit.steady_state_reached, reason=reason, **base)
        return self._record(lk)

    def _record(self, lk: Look) -> Look:
        if lk.decided:
            lk = dataclasses.replace(lk, stop="decided")
        elif lk.precision_reached and lk.outcome not in ("pass", "fail"):
            # a PASS or FAIL waiting for its confirmation is not given up for precision:
            # the next look confirms it (or not)
            lk = dataclasses.replace(lk, stop="precision")
        elif self.boundary.max_looks is not None and lk.k >= self.boundary.max_looks:
            lk = dataclasses.replace(lk, stop="max_looks")
        self.history.looks.append(lk)
        return lk

    def finish(self, why: str, note: str | None = None) -> Look | None:
        """Mark the last look as where watching stopped (``why``: "end", "idle",
        "interrupted", "unreadable"), with ``note`` (e.g. why the file could not be read)
        added to its notes; returns it (None when there was no look). At "end" or "idle"
        the record is complete: a PASS or FAIL of its last look decides even when it has
        not been repeated ``confirm`` times."""
        last = self.history.last
        if last is None:
            return None
        if last.stop is None:
            notes = last.notes + (() if note is None else (note,))
            decided = last.decided
            if why in _COMPLETE and last.outcome in ("pass", "fail") and not decided:
                # the record is complete: its last look judged all of it, as ``check``
                # does, and no later look can repeat it
                decided = True
                notes += (f"decided on the whole record at its last look ({last.in_a_row} of "
                          f"{last.confirm} looks in a row: the record ended)",)
            self.history.looks[-1] = dataclasses.replace(last, stop=why, notes=notes,
                                                         decided=decided)
        return self.history.last


def _running_hold(m, notes: tuple[str, ...]):
    """The hold a look judges, and its notes: a record of several holds (a voltage series
    or a re-applied step written to one file, split as :func:`sescreen.dcpol.holds` does)
    is judged on its last one, the hold still running, with a note; fit_dcpol refuses a
    record of several holds, and ``watch`` has no ``--segment``, so every look after the
    second step had been inconclusive, naming an option it does not have."""
    from sescreen.dcpol import holds

    found = holds(m)
    if len(found) < 2:
        return m, notes
    last = found[-1]
    volts = "" if last.applied_voltage_v is None else f" at {last.applied_voltage_v:.4g} V"
    start = float(last.time_s[0] - m.time_s[0]) if len(last) else 0.0
    return last, (*notes, f"the record holds {len(found)} holds: the running one (hold "
                          f"{len(found) - 1}{volts}, from {start:.6g} s) is judged")
