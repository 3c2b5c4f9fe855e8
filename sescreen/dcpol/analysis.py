"""One constant-voltage hold in, sigma_e out: input checks, the charging cut, the estimate
of I_ss (:mod:`sescreen.dcpol.estimate`) and eq. (1).

    sigma_e = I_ss * L / (V * A)        S/cm, I in A, L in cm, A in cm^2, V in V     (1)
"""

from __future__ import annotations

import math

import numpy as np

from sescreen.constants import Z95
from sescreen.dcpol.candidates import is_current
from sescreen.dcpol.estimate import estimate_transient
from sescreen.dcpol.judgement import SteadyStateCriterion
from sescreen.dcpol.outliers import isolated_samples, replaced
from sescreen.dcpol.record import SAMPLE, summarize
from sescreen.dcpol.result import DCPolarizationResult
from sescreen.errors import FitError, InputError
from sescreen.io.measurement import Measurement, Technique, with_given
from sescreen.io.ranges import ACCURACY_FRACTION, LOWEST_RANGE_A, RESOLUTION_FRACTION
from sescreen.limits import check_range
from sescreen.threads import single_threaded_blas

__all__ = ["fit_dcpol", "fit_dcpol_series", "holds", "sigma_from_current"]

_MAX_CURRENT_A = 1e6  # beyond any potentiostat's range: not a measured current
#: a measured hold voltage differs from the set-point when it is off by more than both: 1 %
#: (a 1 % error of V is a 1 % error of sigma_e, eq. 1) and 1 mV (a potentiostat's
#: potential accuracy, so that an offset within it is not taken for a failure to hold)
_VOLTAGE_REL_TOL, _VOLTAGE_ABS_TOL_V = 0.01, 1e-3
#: a difference up to this, the same from the start of the hold to its end, is an offset
#: between applying and measuring (each accurate to about +-1 mV: Bio-Logic, Gamry sheets; a
#: real VMP3 hold, ca.mpt, reads 1.4 mV below its set-point at 20 nA and at 3.5 nA alike),
#: not a failure to hold, which grows or shrinks with the current or the time
_OFFSET_MAX_V = 2e-3
#: references of a set-point the measured potential is comparable with (not Eoc, Emeas...)
_ABSOLUTE_REFERENCES = (None, "Ref")



def sigma_from_current(i_ss_a: float, voltage_v: float, thickness_cm: float,
                       area_cm2: float) -> float:
    """Electronic conductivity from a steady-state current, METHODS eq. (1).

    Parameters
    ----------
    i_ss_a : float
        Steady-state current, A.
    voltage_v : float
        Applied voltage, V (sign ignored: sigma is |I| L / (|V| A)).
    thickness_cm : float
        Electrolyte thickness L, cm.
    area_cm2 : float
        Electrode area A, cm^2.

    Returns
    -------
    float
        sigma_e, S/cm.

    Examples
    --------
    >>> sigma_from_current(5.5e-9, 0.1, 0.1, 1.0)   # METHODS.md check value
    5.5e-09
    """
    if voltage_v == 0:
        raise InputError("the applied voltage is 0 V: sigma_e = I L / (V A) needs V != 0")
    if thickness_cm <= 0 or area_cm2 <= 0:
        raise InputError("thickness and area must be positive")
    return abs(i_ss_a) * thickness_cm / (abs(voltage_v) * area_cm2)


def holds(m: Measurement, *, min_points: int = 12) -> list[Measurement]:
    """The constant-voltage holds of a record, one Measurement each.

    0 V segments (rests, a Gamry pre-step) are dropped when other segments are polarized,
    and then segments with fewer than ``min_points`` points when longer ones remain. A
    first segment within 1 mV of 0 V (a potentiostat's potential accuracy) is a 0 V
    pre-step too: review readers2, a Gamry Interface 1010's signal column reads 7.97e-5 V
    during its 0 V pre-step, which had been offered as hold 0 ("3 separate holds (at
    [0.0001, 0.1001, 0.2001] V)"; --segment 0 fitted the pre-step: sigma_e ~ 0.19 S/cm).
    Later segments keep their voltage as read: a hold of an EC-Lab voltage series recorded
    at 0.4 mV versus Ref (yadg mp.issue_183.mpr) may be polarized from a rest elsewhere.
    """
    segs = m.segments()
    if len(segs) == 1:
        return segs
    pre_step = segs[0].applied_voltage_v is not None and \
        abs(segs[0].applied_voltage_v) <= _VOLTAGE_ABS_TOL_V
    polarized = [s for s in segs[pre_step:] if s.applied_voltage_v not in (None, 0.0)] \
        or segs
    return [s for s in polarized if len(s) >= min_points] or polarized


def select_hold(m: Measurement, segment: int | None) -> Measurement:
    """Hold ``segment`` (0-based, as listed by :func:`holds`) of a record; the record itself
    when ``segment`` is None.

    Raises
    ------
    InputError
        ``segment`` beyond the record's holds, naming how many there are.
    """
    if segment is None:
        return m
    found = holds(m)
    if not 0 <= segment < len(found):
        raise InputError(f"segment {segment}: the record has {len(found)} hold(s) "
                         f"(0..{len(found) - 1})", path=m.source)
    return found[segment]


def fit_dcpol_series(measurements: list[Measurement], **kwargs) -> list[DCPolarizationResult]:
    """Fit every hold of one or several records (keyword arguments as :func:`fit_dcpol`)."""
    return [fit_dcpol(h, **kwargs) for m in measurements for h in holds(m)]


def _charging_cut(t: np.ndarray, y: np.ndarray) -> int:
    """Index of the first sample kept: after the step sample and any RC discontinuity."""
    k = 1 if len(t) > 1 else 0
    while k < min(len(y) - 8, 6) and abs(y[k]) > 10 * abs(y[k + 1]):
        k += 1
    return k


def _stated_full_scale(m: Measurement, k0: int) -> float:
    """Full scale (A) of the current range the record ends on, from the file's
    ``current_range_a``; NaN when it states none."""
    if "current_range_a" not in m.data:
        return math.nan
    ranges = m.data["current_range_a"].to_numpy(dtype=float)[k0:]
    tail = ranges[-max(1, len(ranges) // 10):]
    # the range column holds a few set values: the median of a regular sample of the tail
    # is the tail's, unless two ranges share it about evenly (either then is one the
    # record ends on)
    tail = tail[::max(1, -(-tail.size // SAMPLE))]
    return float(np.nanmedian(tail)) if np.isfinite(tail).any() else math.nan


def _instrument_accuracy(full_scale: float, accuracy_a: float | None, level: float,
                         source) -> tuple[float, str | None]:
    """Nominal accuracy (A) of the range ``full_scale`` (A), and a warning when it is
    assumed; a given ``accuracy_a`` wins. A record that states no range (NaN) gets the
    accuracy of the smallest decade range holding ``level``, the largest |cell mean| of
    its last tenth (A; an instrument that auto-ranges well ends there), at least
    :data:`~sescreen.io.ranges.LOWEST_RANGE_A`."""
    if accuracy_a is not None:
        if not accuracy_a >= 0:
            raise InputError(f"the current accuracy must be >= 0 A, not {accuracy_a!r}",
                             path=source)
        return float(accuracy_a), None
    if math.isfinite(full_scale):
        return ACCURACY_FRACTION * full_scale, None
    if not level > 0:
        return 0.0, None
    decade = max(10.0 ** math.ceil(math.log10(level)), LOWEST_RANGE_A)
    accuracy = ACCURACY_FRACTION * decade
    return accuracy, (
        f"the file states no current range: the accuracy is taken as "
        f"{ACCURACY_FRACTION:g} of the {decade:.0e} A range ({accuracy:.2g} A, added to the "
        f"interval), the smallest decade range holding the current and no lower than "
        f"common potentiostats' lowest; give the instrument's (--accuracy, accuracy_a) "
        f"when it differs")


def _hold_voltage(m: Measurement, k0: int, n_tail: int, voltage: float, given: bool
                  ) -> tuple[float, str | None]:
    """The voltage of eq. (1), V, and a warning when the measured one disagrees.

    Eq. (1) needs the voltage across the cell while the current it divides was measured:
    the tail of the hold, where I_ss is read. A potentiostat that does not hold its
    set-point (compliance, a drifting or sagging output, a drop in the leads) records the
    potential it did apply in its measured-voltage column (``voltage_v``: EC-Lab ``Ewe``,
    Gamry ``Vf``). When the median of that column over the last ``n_tail`` samples of the
    hold differs from ``voltage`` by more than both :data:`_VOLTAGE_REL_TOL` and
    :data:`_VOLTAGE_ABS_TOL_V`, and by more than 3 standard errors of that median (a noisy
    column's median scatters: 20 mV rms over 180 samples had moved a 0.1 V hold's V by
    3 % at random), the measured value is used (dividing by the set-point
    misstates sigma_e by the ratio: a sag of 4 % had passed holds 1-4 % above the
    threshold), unless the voltage was ``given`` by the user or the measured one is not
    comparable (a set-point versus Eoc, a measured value of the other sign or more than
    a factor 2 away: not a cell voltage the set-point failed to reach); those keep
    ``voltage`` with a warning. So does a difference of at most :data:`_OFFSET_MAX_V` that
    is the same over the first ``n_tail`` samples after the cut as over the tail: an
    offset between the instrument's applying and measuring, not a failure to hold
    (compliance and a drop in the leads are largest where the current is, at the start; a
    sag or drift changes with time).

    Parameters
    ----------
    m : Measurement
        The hold.
    k0 : int
        First sample kept after the charging cut.
    n_tail : int
        Samples of the tail (the steady-state criterion's ``tail_fraction`` of the kept
        samples).
    voltage : float
        The set-point or the given voltage, V.
    given : bool
        ``voltage`` was given by the user (``voltage_v=``, CLI ``--voltage``).

    Returns
    -------
    (float, str or None)
        The voltage to use (V) and the warning, if any.
    """
    if "voltage_v" not in m.data or m.applied_voltage_ref not in _ABSOLUTE_REFERENCES:
        return voltage, None
    measured = m.data["voltage_v"].to_numpy(dtype=float)[k0:][-n_tail:]
    measured = measured[np.isfinite(measured)]
    if not measured.size:
        return voltage, None
    # every reading within the tolerance of eq. (1)'s voltage: so is their median (the
    # common case, decided without sorting 10 % of the record)
    if max(abs(float(measured.max()) - voltage), abs(float(measured.min()) - voltage)) <= \
            max(_VOLTAGE_REL_TOL * abs(voltage), _VOLTAGE_ABS_TOL_V):
        return voltage, None
    v_tail = float(np.median(measured))
    off = v_tail - voltage
    # the median's own standard error (1.2533 sigma / sqrt(n), sigma from the MAD): a noisy
    # measured column (a reference electrode's pickup) scatters its median by that much
    se = 1.2533 * 1.4826 * float(np.median(np.abs(measured - v_tail))) / math.sqrt(
        measured.size)
    if abs(off) <= max(_VOLTAGE_REL_TOL * abs(voltage), _VOLTAGE_ABS_TOL_V, 3 * se):
        return voltage, None
    what = "the given voltage" if given else "the set-point"
    said = (f"the measured voltage over the last {n_tail} samples of the hold "
            f"({v_tail:.4g} V, median) differs from {what} ({voltage:.4g} V) by "
            f"{off / abs(voltage):+.1%}")
    head = m.data["voltage_v"].to_numpy(dtype=float)[k0:][:n_tail]
    head = head[np.isfinite(head)]
    if abs(off) <= _OFFSET_MAX_V and head.size and abs(
            float(np.median(head)) - v_tail) <= 0.1 * abs(off):
        return voltage, (f"{said}, as at the start of the hold: an offset of "
                         f"{off * 1e3:+.2g} mV between applying and measuring (each accurate "
                         "to about +-1 mV), not a failure to hold, so sigma_e uses "
                         f"{what}")
    comparable = 0.5 < v_tail / voltage < 2.0  # also: the same sign
    if given:
        return voltage, (f"{said}: sigma_e uses the given voltage; at the measured one it "
                         f"would be {voltage / v_tail:.3g}x that")
    if not comparable:
        return voltage, (f"{said}: too far to be the set-point not held, so sigma_e uses "
                         "the set-point; check which voltage the cell had (--voltage)")
    return v_tail, (f"{said}: the cell was not held at its set-point (compliance, a "
                    "drifting output, a drop in the leads), so sigma_e uses the measured "
                    "voltage (eq. 1 needs the voltage the steady state was measured at; "
                    "--voltage overrides)")


#: fraction of the last half of a hold pinned at its largest |current| from which the
#: readings are taken as clipped by an overloaded range: below it the clipped tail of
#: Gaussian noise biases the mean by about 0.003 noise sd (E[(X - C)+] at P(X > C) = 1 %)
_CLIPPED_FRACTION = 0.01
#: readings of the last half below that value, at least this many and 90 % of them
#: distinct, make the record continuous (not a staircase, whose every level repeats)
_CONTINUOUS_MIN = 10


def _check_clipped(t: np.ndarray, i: np.ndarray, source) -> None:
    """Refuse a hold whose late readings are pinned at one largest value: a current range
    whose full scale the current (with its noise) exceeds reads full scale instead, which
    cuts the upper tail of the noise off and puts every mean, fit and tail level below the
    current the cell carries, by an amount the record does not hold (an independent review:
    settled holds clipped at I_ss + 0-1 noise sd passed at 1.01-1.10x the threshold, the
    interval covering the truth in 30 % of them). Exact repeats of the largest reading are
    a clip where the other readings are continuous (90 % of them distinct); a staircase (a
    coarse ADC, a rounding export) repeats every level and keeps its own treatment.

    Parameters
    ----------
    t, i : array
        The hold after the charging cut, s and A.
    source
        The record's source, for the message.

    Raises
    ------
    FitError
        At least 3 and :data:`_CLIPPED_FRACTION` of the last half read the largest |I|.
    """
    late = i[len(i) // 2:]
    sign = 1.0 if late.mean() >= 0 else -1.0  # the current's direction (a median: 45x slower)
    # the largest sign * I and where it is read, without a product array (the same values)
    top = float(late.max()) if sign > 0 else -float(late.min())
    at_top = late == sign * top
    if np.count_nonzero(at_top) < max(3, _CLIPPED_FRACTION * late.size):
        return
    pinned = np.flatnonzero(at_top)
    rest = late[~at_top]
    if rest.size < _CONTINUOUS_MIN or np.unique(rest).size < 0.9 * rest.size:
        return  # a staircase: its levels repeat, the top one too
    k = len(i) // 2 + int(pinned[0])
    raise FitError(f"{pinned.size} of the last {late.size} samples ({pinned.size / late.size:.1%})"
                   f" read exactly {sign * top:.6g} A, the largest current of the hold's last "
                   f"half, the first at t = {t[k]:.6g} s: the current range overloaded and "
                   "clipped the readings (a bias towards low currents the record does not "
                   "hold); measure on a larger current range or with auto-ranging",
                   path=source)


def _check_record(t: np.ndarray, i: np.ndarray, source) -> None:
    """One-line refusals for records no fit can use: non-finite values, currents no cell
    carries (an instrument's overflow marker such as 9.9e37), time running backwards, no
    time span."""
    extreme = 0.0
    backwards = bool((t[1:] < t[:-1]).any())  # no full-size difference array
    for name, v in (("time", t), ("current", i)):
        # min and max are NaN or infinite when a value is (two passes, no temporary); a
        # time that never runs backwards has them at its ends when its sum says no value
        # is NaN or infinite (one pass)
        if name == "time" and v.size and not backwards and math.isfinite(float(v.sum())):
            lo, hi = float(v[0]), float(v[-1])
        else:
            lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 0.0)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            bad = np.flatnonzero(~np.isfinite(v))
            raise InputError(f"{name} is not a finite number at sample {bad[0]} "
                             f"({bad.size} samples in all): drop or repair those rows",
                             path=source)
        extreme = max(hi, -lo)
    if extreme > _MAX_CURRENT_A:
        bad = np.flatnonzero(np.abs(i) > _MAX_CURRENT_A)
        raise InputError(f"the current is {i[bad[0]]:.3g} A at sample {bad[0]} ({bad.size} "
                         f"samples in all beyond {_MAX_CURRENT_A:.0e} A): an overflow marker "
                         "or a wrong unit, not a measured current; drop those rows or check "
                         "the current unit", path=source)
    if backwards:
        back = np.flatnonzero(t[1:] < t[:-1])
        raise InputError(f"time runs backwards at sample {back[0] + 1} "
                         f"({t[back[0]]:.6g} -> {t[back[0] + 1]:.6g} s): sort the rows or "
                         "split the record into its holds", path=source)
    if t.size and t[-1] <= 0:
        raise InputError("every sample has the same time stamp: the time column is not a "
                         "time (check the column mapping)", path=source)


def fit_dcpol(
    m: Measurement,
    *,
    thickness_cm: float,
    area_cm2: float | None = None,
    voltage_v: float | None = None,
    temperature_k: float | None = None,
    model: str = "auto",
    skip_s: float | None = None,
    cell: str = "blocking",
    thickness_rel_tol: float = 0.0,
    area_rel_tol: float = 0.0,
    criterion: SteadyStateCriterion | None = None,
    accuracy_a: float | None = None,
) -> DCPolarizationResult:
    """Fit the current decay of a constant-voltage hold and derive sigma_e.

    Parameters
    ----------
    m : Measurement
        A constant-voltage hold (one segment; see :meth:`Measurement.segments`).
    thickness_cm : float
        Electrolyte thickness L, cm.
    area_cm2 : float, optional
        Electrode area, cm^2; defaults to the file's.
    voltage_v : float, optional
        Applied voltage, V; defaults to the file's set-point.
    temperature_k : float, optional
        Stored with the result; defaults to the file's.
    model : {"auto", "exp1", "exp2", "exp3", "stretched", "stoich", "stoich_limit", \
"stoich_rc", "power", "exp1_power"}
        Transient model; ``auto`` picks the lowest AICc among :data:`AUTO_MODELS`.
    skip_s : float, optional
        Ignore the first ``skip_s`` seconds after the step (charging). Default: the
        automatic cut described in the module docstring.
    cell : {"blocking", "hebb-wagner"}
        Cell type, stored with sigma_e.
    thickness_rel_tol, area_rel_tol : float
        Relative standard uncertainties of L and A, propagated into sigma_e.
    criterion : SteadyStateCriterion, optional
        Steady-state thresholds.
    accuracy_a : float, optional
        The instrument's current accuracy at the end of the hold, A (from its sheet).
        Default: the nominal :data:`sescreen.io.ranges.ACCURACY_FRACTION` of the range
        the record ends on when the file states it (``current_range_a``), else of the
        smallest decade range holding the current and at least
        :data:`sescreen.io.ranges.LOWEST_RANGE_A` (with a warning: a record cannot reveal
        a zero offset, and at pA currents it decides a verdict; 0 assumes none).

    Returns
    -------
    DCPolarizationResult

    Raises
    ------
    TechniqueError
        The record is not a constant-voltage hold.
    InputError
        Missing voltage, area or thickness.
    FitError
        Too few points, a flat or pure-noise record, or a hold shorter than its fastest term.
    """
    crit = criterion or SteadyStateCriterion()
    warns: list[str] = list(m.warnings)
    if m.technique is Technique.UNKNOWN and (voltage_v is not None
                                             or m.applied_voltage_v is not None):
        warns.append("the file does not say it is a constant-voltage hold: analysed as one "
                     "because it has an applied voltage")
    else:
        m.require(Technique.CONSTANT_VOLTAGE, purpose="DC-polarization analysis")
    found = holds(m)
    if len(found) > 1:
        volts = sorted({round(h.applied_voltage_v or 0.0, 4) for h in found})
        raise InputError(f"the record holds {len(found)} separate holds (at {volts} V): "
                         "split it with holds() and fit each, or fit_dcpol_series() for a "
                         "voltage series (CLI: sescreen dcpol picks them up; --segment N "
                         "chooses one)", path=m.source)
    m = found[0]
    voltage = voltage_v if voltage_v is not None else m.applied_voltage_v
    if voltage is None:
        raise InputError("the applied voltage is unknown: give it (voltage_v=, CLI --voltage)",
                         path=m.source)
    if voltage == 0:
        ref = m.applied_voltage_ref if voltage_v is None else None
        why = {None: "a set-point versus Eoc?", "Ref": "versus Ref",
               "Eoc": "versus Eoc: a hold at the rest potential"}.get(
            ref, f"set versus {ref}: a hold at the potential the technique before it left "
                 "the cell at")
        raise InputError(f"the applied voltage is 0 V ({why}): give the cell voltage "
                         "(voltage_v=, CLI --voltage)", path=m.source)
    area = area_cm2 if area_cm2 is not None else m.area_cm2
    if area is None:
        raise InputError("the electrode area is unknown: give it (area_cm2=, CLI --area)",
                         path=m.source)
    if thickness_cm is None or not thickness_cm > 0:
        raise InputError("the electrolyte thickness must be a positive length (CLI --thickness)")
    # the lab ranges the CLI applies (sescreen.limits), for callers of the API too: a NaN
    # voltage had given sigma_e NaN, and 1e300 V or cm^2, or 1e-300 cm, a PASS (review cli-A1)
    for kind, given in (("thickness_cm", thickness_cm), ("voltage_v", voltage_v),
                        ("area_cm2", area_cm2)):
        check_range(given, kind, kind, path=m.source)
    temperature = temperature_k if temperature_k is not None else m.temperature_k
    for name, given in (("applied_voltage_v", voltage_v), ("area_cm2", area_cm2),
                        ("temperature_k", temperature_k)):
        if given is not None:  # as read() does with the same values
            warns = with_given(warns, name, float(given), getattr(m, name))

    t_all = m.time_s
    if t_all.size and t_all[0] != 0:  # (a record from t = 0 needs no shifted copy)
        t_all = t_all - t_all[0]
    i_all = m.current_a
    _check_record(t_all, i_all, m.source)
    if len(t_all) < 12:
        raise FitError(f"only {len(t_all)} points: a transient fit needs at least 12",
                       path=m.source)
    if skip_s is None:
        k0 = _charging_cut(t_all, i_all)
    else:
        k0 = int(np.searchsorted(t_all, skip_s, side="left"))
        k0 = max(k0, 1)
    t, i = t_all[k0:], i_all[k0:]
    if len(t) < 12:
        raise FitError(f"only {len(t)} points after the first {t_all[k0 - 1]:.3g} s: too few "
                       "to fit", path=m.source)
    if np.ptp(i[:1024]) == 0 and np.ptp(i) == 0:  # (a varying head settles it at once)
        raise FitError(f"the current is {i[0]:.6g} A in every sample after the first "
                       f"{t[0]:.3g} s: a saturated current range, an open channel or a held "
                       "reading, not a decay; check the range and the cell connection",
                       path=m.source)
    _check_clipped(t, i, m.source)
    # the one pass over the samples: everything below reads its statistics
    full_scale = _stated_full_scale(m, k0)
    # the range's nominal step (none stated: a staircase in the data shows its own)
    resolution = RESOLUTION_FRACTION * full_scale if math.isfinite(full_scale) else 0.0
    stats = summarize(t, i)
    odd, neighbours = isolated_samples(stats, resolution)
    if odd.size:
        stats = replaced(stats, odd, neighbours)
        k = int(odd[0])
        many = odd.size > 1
        warns.append(f"{odd.size} sample{'s' if many else ''} ({odd.size / len(t):.2%}) "
                     f"lie{'' if many else 's'} far from {'their' if many else 'its'} "
                     f"neighbours (a reading dropped to 0 A, a glitch) and "
                     f"{'are' if many else 'is'} taken at the neighbours' median (the "
                     f"interval reaches what {'they' if many else 'it'} carried); the first "
                     f"at t = {t[k]:.6g} s reads {i[k]:.4g} A")
    means = stats.cell_means()
    accuracy, assumed = _instrument_accuracy(
        full_scale, accuracy_a, float(np.max(np.abs(means[-max(1, means.size // 10):]))),
        m.source)
    if assumed:
        warns.append(assumed)
    typical = float(np.median(means))
    if np.sign(typical) != np.sign(voltage) and typical != 0:
        warns.append("the current and the applied voltage have opposite signs: check the "
                     "polarity (sigma_e uses |I| / |V|)")
    sigma = stats.noise_sd
    n10 = max(3, len(i) // 10)
    head_mean, tail_mean10 = stats.range_mean(0, n10), stats.range_mean(len(i) - n10, len(i))
    rising = abs(tail_mean10) - abs(head_mean) > 3 * sigma / math.sqrt(n10)
    if rising:
        warns.append(f"the current rises during the hold ({head_mean:.3g} -> "
                     f"{tail_mean10:.3g} A): not a polarization decay (a reaction, a leak or "
                     "a short?); the fitted value is not an electronic steady state")
    elif abs(head_mean - tail_mean10) < 3 * sigma / math.sqrt(n10):
        warns.append("the record shows no decay above the noise: I_ss is about the mean "
                     "current")
    with single_threaded_blas():
        est = estimate_transient(t, i, model, criterion=crit, t_hold=float(t_all[-1]),
                                 resolution_a=resolution, accuracy_a=accuracy,
                                 stats=stats)
    fit = est.fit
    fastest = fit.fastest_time()
    t_hold = float(t_all[-1])
    if fastest is not None and fastest > t_hold:
        raise FitError(f"the hold ({t_hold:.3g} s) is shorter than the fastest fitted term "
                       f"({fastest:.3g} s): the record cannot constrain the transient",
                       path=m.source)
    warns += list(est.warnings)
    steady = est.steady and not rising
    i_ss = est.i_ss
    lo, hi = est.interval
    n_tail = max(2, math.ceil(crit.tail_fraction * len(t)))
    voltage, said = _hold_voltage(m, k0, n_tail, voltage, given=voltage_v is not None)
    if said:
        warns.append(said)
    tail_mean = stats.range_mean(len(t) - n_tail, len(t))
    tail_err = math.sqrt(est.noise.mean_variance(n_tail) * est.c_hat) * abs(est.scale)
    diff = abs(tail_mean - i_ss)
    half = (hi - lo) / 2 if math.isfinite(hi - lo) else math.inf
    if (diff > 3 * math.hypot(tail_err, half / Z95) and diff > crit.tail_tolerance * abs(i_ss)
            and not est.upper_bound_only):
        warns.append(f"the tail mean of the last {crit.tail_fraction:.0%} ({tail_mean:.4g} A) "
                     f"differs from the fitted asymptote ({i_ss:.4g} A) by "
                     f"{diff / abs(i_ss):.0%}" + (": the tail has not settled" if not steady
                                                 else ": check for drift"))
    i_ss_err = half / Z95 if math.isfinite(half) else math.inf
    sig = sigma_from_current(i_ss, voltage, thickness_cm, area)
    geometry_rel = math.hypot(thickness_rel_tol, area_rel_tol)
    rel = math.hypot(i_ss_err / i_ss, geometry_rel) if i_ss != 0 else math.inf
    scale = est.scale
    params = {k: (p.value * (scale if is_current(k) else 1.0),
                  None if p.stderr is None else abs(p.stderr) * (
                      abs(scale) if is_current(k) else 1.0))
              for k, p in fit.result.params.items()}
    se_fit = fit.i_ss_stderr
    return DCPolarizationResult(
        source=m.name, model=fit.model, cell=cell, voltage_v=float(voltage),
        thickness_cm=float(thickness_cm), area_cm2=float(area), temperature_k=temperature,
        i_ss=i_ss, i_ss_stderr=i_ss_err,
        i_ss_stderr_fit=None if se_fit is None else abs(se_fit * scale),
        i_ss_ci=(float(lo), float(hi)), upper_bound_only=est.upper_bound_only,
        sigma_e=sig, sigma_e_stderr=sig * rel, geometry_rel_tol=geometry_rel,
        params=params, candidates=est.candidates, t_hold=t_hold, t_skip=float(t[0]),
        remaining_fraction=est.remaining, steady_state_reached=steady,
        t_steady_estimate=est.t_steady, tail_mean_i=tail_mean, tail_mean_stderr=tail_err,
        redchi=float(est.c_hat), n_points=len(t), noise_inflation=est.noise.inflation,
        resolution_a=est.noise.resolution * abs(scale), accuracy_a=accuracy,
        warnings=tuple(dict.fromkeys(warns)), criterion=crit, _fit=est, _raw=(t, i))


