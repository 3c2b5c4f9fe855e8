"""The signatures of a short circuit (and of contact loss) in a galvanostatic record.

Everything is judged on the polarization along the current, p(t) = V(t) sign(I_set), in
volts: with a lithium counter electrode (Li | SE | Li, or Li | SE | Cu once Li is plated)
the equilibrium voltage is 0 V, a healthy cell has p > 0 (ohmic + charge-transfer +
concentration overpotential, all opposing the current) and a short, an electronic path of
resistance R_s in parallel with the cell, pulls the voltage towards 0 V:
p -> p R_s / (R_s + R_cell) (METHODS.md section 8; Han et al. 2019, Fig. 2: "decreased to
negative values ... and then increased to around 0 V due to shorting"). Before Li covers a
Cu or Pt electrode p < 0 (the electrode sits above the Li potential), which is therefore
never taken for polarization.

Signatures (each with the time it fired and a confidence in [0, 1]):

``polarization_collapse`` / ``plating_return_to_zero`` (hard short)
    The running median of p falls below ``COLLAPSE_FRACTION`` of the highest level it had
    reached in the segment (or the previous same-sign half-cycle of the step) and stays
    there to the end of the segment while the current holds its set-point. The name is the
    plating form of the paper's Fig. 2 for a one-direction (plating) record.
``ohmic_scaling_lost``
    The early polarization of a step is below ``OHMIC_FRACTION`` of the previous step's
    although |j| rose. An I-V characteristic built of ohmic (V = I R), charge-transfer
    (Butler-Volmer) and diffusion elements is monotonic, so only a new electronic path in
    parallel makes |eta| fall while |j| rises (a contact that improves does the same, in
    the first steps and far less: hence the margin).
``noise_burst`` (soft short)
    Three or more (two only date the onset of a short confirmed later) excursions of p
    towards 0 V beyond max(5 sigma, 10 % of the level)
    from its running median (9 points, 5 in half-cycles under 30 points) in one step, at
    least four times as many as excursions away from 0 V; or, when the dips are so dense
    that they are most of the points, six or more jumps of p beyond that size with 30 %
    or more of the points below 80 % of the level reached before. Instrument noise is
    symmetric; a transient electronic path only ever lowers |V|. With more than 4x as many
    dips as rises, or a one-sided sign test below ``SIGN_TEST_P`` (many dips amid a
    noisier signal); three or more deep dips (a quarter of the level and 10 sigma) count as
    more than noise tails. A soft short that starts late in a step, too late to leave dips
    enough, is dated by the rise of the scatter of p from some point of the step's second
    half to its end: an ``onset_only`` mark that never adds to a claim, only moves a short
    a later step confirms back to its onset. These tests are in
    :mod:`sescreen.cycling.soft_shorts`.

Not a short: ``contact_loss``, the voltage running away to large |V| (p above 4x its
early level and by more than 0.5 V, or the current failing to hold its set-point with p
high; or, after the current fell to 0, V that far out on the side of the current asked
for: an open circuit at the cycler's compliance) for ``CONTACT_MIN_POINTS`` samples in a
row or to the record's end (a one- or two-sample overshoot at a current switch is none),
as the paper saw at 100 C (Fig. 2d,g);
and the ordinary rise of polarization within a step. Contact loss ends the analysis of the
record at the time it starts.
"""

from __future__ import annotations

import numpy as np

from sescreen.cycling.result import Signature
from sescreen.cycling.soft_shorts import ONSET_CONFIDENCE, dips, noise_rise
from sescreen.cycling.steps import Segment, Step, held, median_filter
from sescreen.dcpol.binning import resolution_step

__all__ = ["CONTACT_LOSS", "SHORT_SIGNATURES", "Signature", "analyse_steps",
           "nucleation_relaxation"]

COLLAPSE_FRACTION = 0.35
OHMIC_FRACTION = 0.7
RUNAWAY_FACTOR = 4.0
RUNAWAY_MIN_V = 0.5
#: Samples in a row a runaway must last to be a contact loss (fewer: a switching overshoot).
CONTACT_MIN_POINTS = 3
SIGNIFICANT_SIGMAS = 10.0
SIGMA_FLOOR_V = 1e-5
#: Largest ratio of a Li nucleation peak on bare Cu to its growth plateau taken as
#: nucleation (the overshoot is typically 1-5x: tens of mV over a plateau of j * ASR); a
#: relaxation falling further is a short (the collapse test judges it from there).
NUCLEATION_MAX_OVERSHOOT = 10.0
SHORT_SIGNATURES = ("polarization_collapse", "plating_return_to_zero", "ohmic_scaling_lost",
                    "noise_burst")
CONTACT_LOSS = "contact_loss"


def noise_sigma(steps: list[Step], i: np.ndarray, p: np.ndarray,
                quantum_v: float = 0.0) -> float:
    """Robust point-to-point noise of p, V: the lower quartile over segments of
    1.4826 MAD(p - running median of 9), floored at SIGMA_FLOOR_V and at half
    ``quantum_v``, the ADC step of a quantized record
    (:func:`sescreen.dcpol.binning.resolution_step`; given for the soft-short tests: a
    residual of one step is a code boundary crossed, not the cell; with the MAD of a signal
    quieter than the step at 0, their 5-sigma dips had been single-code flickers,
    asymmetric about the median)."""
    values = []
    for step in steps:
        for seg in step.segments:
            idx = held(seg, i)
            if idx.size >= 9:
                r = p[idx] - median_filter(p[idx], 9)
                values.append(1.4826 * np.median(np.abs(r - np.median(r))))
    return max(float(np.percentile(values, 25)) if values else 0.0, SIGMA_FLOOR_V,
               0.5 * quantum_v)


def _early_level(seg: Segment, i: np.ndarray, p: np.ndarray) -> float:
    """Polarization early in a segment, V: median of its second quarter of held points
    (after the onset, before most of the hold)."""
    idx = held(seg, i)
    if idx.size < 4:
        return float(np.median(p[idx])) if idx.size else float("nan")
    n = idx.size
    return float(np.median(p[idx[n // 4: max(n // 2, n // 4 + 1)]]))


def _contact_loss(step: Step, base: float, t, i, v, p, until: int) -> Signature | None:
    """Contact loss in a step: a sustained runaway of p within a segment, or the cell at
    open circuit after one. A measured current that falls to 0 mid-step (no set-point
    column) ends the segment there, and the points after it, up to the next segment or
    ``until`` (the next step's first point), read as a rest; a rest relaxes towards the
    cell's open-circuit voltage (about 0 V for Li|SE|Li, and for Li|SE|Cu once lithium is
    plated), while an open lead leaves the cycler at its compliance voltage, on the side
    of the current it was asked for: there the runaway test runs with that current's sign
    (an independent review: 24/30 such records had read the step as held)."""
    stops = [seg.start for seg in step.segments[1:]] + [until]
    for seg, stop in zip(step.segments, stops, strict=True):
        idx = np.arange(seg.start, seg.stop)
        pp = p[idx]
        runaway = (pp > RUNAWAY_FACTOR * base) & (pp - base > RUNAWAY_MIN_V)
        lost = (np.abs(i[idx]) < 0.5 * abs(seg.current_a)) & (pp > 2 * base) & (pp > 0.1)
        hit = np.flatnonzero(_sustained(runaway | lost, seg.stop == t.size))
        state = "not held" if lost.any() else "held"
        if not hit.size and stop > seg.stop:  # the rest after the segment, at open circuit
            idx = np.arange(seg.stop, stop)
            pp = v[idx] * np.sign(seg.current_a)
            hit = np.flatnonzero(_sustained((pp > RUNAWAY_FACTOR * base)
                                            & (pp - base > RUNAWAY_MIN_V), stop == t.size))
            state = "none: open circuit"
        if hit.size:
            k = idx[hit[0]]
            return Signature(CONTACT_LOSS, step.index, float(t[k]), 1.0,
                             f"|V| ran away from {base * 1e3:.3g} mV to "
                             f"{np.max(np.abs(pp)):.3g} V at {step.density_ma_cm2:.3g} mA/cm2 "
                             f"(current {state}): contact loss")
    return None


def _sustained(hit: np.ndarray, at_end: bool) -> np.ndarray:
    """Samples of ``hit`` that start ``CONTACT_MIN_POINTS`` hits in a row, or a run of
    hits to the end of the record (``at_end``: the segment is the record's last). A
    runaway is sustained: a one- or two-sample overshoot at a current switch (a range
    change, the control loop) is no contact loss (it had ended the analysis, and the
    shorts after it went unseen)."""
    n = hit.size
    pos = np.where(hit, n, np.arange(n))
    miss = np.minimum.accumulate(pos[::-1])[::-1]  # first sample at or after k not hit
    return hit & ((miss - np.arange(n) >= CONTACT_MIN_POINTS) | (at_end & (miss == n)))


def _nucleation_settled(m: np.ndarray, sigma: float, window: int = 3) -> int:
    """Index where the nucleation transient of Li on bare Cu has relaxed, in a plating
    segment that starts with the Cu above the Li potential (p < 0).

    Li first nucleates on Cu at an extra overpotential (the nucleation overshoot, tens of
    mV at 0.01-1 mA/cm^2, often several times the growth plateau j * ASR of a conductive
    electrolyte) and relaxes to the growth plateau once nuclei cover the Cu. That relaxation
    is no return to 0 V: the plateau, not the overshoot, is the level a short would collapse
    from. Returned: the first point after p turned significantly positive (10 sigma) where
    the running median, having stopped rising (the peak), has also stopped falling (within
    2 sigma over ``window`` points), or where it has fallen to 1 / ``NUCLEATION_MAX_OVERSHOOT``
    of the peak: a nucleation overshoot is a few times the growth plateau (the fall beyond
    is a short, which the collapse test then sees from that level: a short within the
    relaxation had been taken for its end, and the record read 'no short'); ``m.size`` when
    p never turned so.
    """
    pos = np.flatnonzero(m > SIGNIFICANT_SIGMAS * sigma)
    if not pos.size:
        return m.size
    tol = 2 * sigma
    k = int(pos[0])
    n = m.size
    while k + window < n and np.any(m[k + 1:k + 1 + window] > m[k] + tol):  # rising
        k += 1
    floor = m[k] / NUCLEATION_MAX_OVERSHOOT
    while k + window < n and np.any(m[k + 1:k + 1 + window] < m[k] - tol) \
            and m[k + 1] >= floor:  # relaxing, not below what nucleation explains
        k += 1
    return k


def nucleation_relaxation(steps: list[Step], i: np.ndarray, v: np.ndarray,
                          sigma: float) -> tuple[float, float] | None:
    """(peak, settled) polarization of a plating record's first segment, V, when its
    relaxation from the nucleation peak falls below ``COLLAPSE_FRACTION`` of the peak
    (a fall the collapse test would call a return to 0 V) but not below
    1 / ``NUCLEATION_MAX_OVERSHOOT`` of it (there the collapse test judges it); None
    otherwise.

    Such a fall is either a large nucleation overshoot (up to
    ``NUCLEATION_MAX_OVERSHOOT`` x the growth plateau is taken as one) or a short during
    it: the voltage alone cannot tell them apart (both then scale with j), only the ASR
    and the overshoot's size can, so :func:`sescreen.cycling.measure_ccd` says so.
    """
    if not steps or not steps[0].segments:
        return None
    seg = steps[0].segments[0]
    idx = held(seg, i)
    if idx.size < 3:
        return None
    m = median_filter(v[idx] * np.sign(seg.current_a), 5)
    k = _nucleation_settled(m, sigma)
    if k >= m.size:
        return None
    peak = float(np.max(m[: k + 1]))
    settled = float(np.median(m[k:]))
    return (peak, settled) if peak / NUCLEATION_MAX_OVERSHOOT <= settled < \
        COLLAPSE_FRACTION * peak else None


def _collapse(step: Step, seg: Segment, prev_level: float, sigma: float, plating: bool,
              t, i, v, p) -> tuple[Signature | None, float]:
    """Hard-short test on one segment; returns the signature (or None) and the level the
    segment held (for the next half-cycle of the same sign)."""
    idx = held(seg, i)
    if idx.size < 3:
        return None, prev_level
    m = median_filter(p[idx], 5)
    # the running median's edge is padded with the first sample: an overshoot of the
    # first one or two samples after a current switch (range change, control loop) would
    # survive it and be taken for the level reached, the rest of the segment for a collapse
    m[:2] = m[2]
    # Li nucleates on the bare Cu: in a segment that starts with the Cu above the Li
    # potential, and in a plating record's first segment (its Cu OCV may be in a rest
    # before it, or not recorded)
    on_cu = plating and (m[0] < 0 or (step.index == 0 and seg.start == step.segments[0].start))
    start = _nucleation_settled(m, sigma) if on_cu else 0
    from_start = np.where(np.arange(m.size) >= start, m, -np.inf)
    ref = np.maximum(np.maximum.accumulate(from_start), prev_level)
    if on_cu and start < m.size:
        # below 1 / NUCLEATION_MAX_OVERSHOOT of the nucleation peak is no growth plateau:
        # a fall there is a return to 0 V (COLLAPSE_FRACTION of ref = that floor)
        floor = float(np.max(m[:start + 1])) / NUCLEATION_MAX_OVERSHOOT
        ref = np.where(np.arange(m.size) >= start,
                       np.maximum(ref, floor / COLLAPSE_FRACTION), ref)
    below = (m < COLLAPSE_FRACTION * ref) & (ref > SIGNIFICANT_SIGMAS * sigma)
    # fraction of points below from each index to the end of the segment
    tail = np.cumsum(below[::-1])[::-1] / np.arange(below.size, 0, -1)
    ok = below & (tail >= 0.9) & (np.arange(below.size) <= below.size - 3)
    level = float(np.median(m))
    if not ok.any():
        return _late_collapse(step, seg, idx, ref, sigma, plating, t, p), max(level, 0.0)
    k0 = int(np.flatnonzero(ok)[0])
    after = float(np.median(m[k0:]))
    r = after / ref[k0]
    conf = float(np.clip((COLLAPSE_FRACTION - r) / (COLLAPSE_FRACTION - 0.05), 0.0, 1.0))
    conf *= float(min(1.0, (ref[k0] - after) / (2 * SIGNIFICANT_SIGMAS * sigma)))
    sign = np.sign(seg.current_a)
    name = "plating_return_to_zero" if plating else "polarization_collapse"
    what = (f"V had fallen to {sign * ref[k0] * 1e3:+.3g} mV (Li plating) and returned to "
            f"{sign * after * 1e3:+.3g} mV" if plating else
            f"|V| collapsed from {ref[k0] * 1e3:.3g} mV to {after * 1e3:.3g} mV")
    return Signature(name, step.index, float(t[idx[k0]]), conf,
                     f"{what} while {step.density_ma_cm2:.3g} mA/cm2 held"), 0.0


def _late_collapse(step: Step, seg: Segment, idx: np.ndarray, ref: np.ndarray, sigma: float,
                   plating: bool, t, p) -> Signature | None:
    """An onset-only mark when the last held samples of a segment (fewer than the collapse
    test needs, which its running median of 5 hides) already sit below
    ``COLLAPSE_FRACTION`` of the level held, by more than ``2 SIGNIFICANT_SIGMAS`` sigma:
    a short in the last 1-5 % of a step that the next step confirms is dated to this one
    (an independent review: 37 of 192 swept shorts, most in a step's last 5 %, were given
    to the next step, a CCD one step too high). Alone it claims nothing (``ONSET_CONFIDENCE``,
    below ``MIN_CONFIDENCE`` of :mod:`sescreen.cycling`)."""
    top = float(ref[-1])
    if not top > SIGNIFICANT_SIGMAS * sigma:
        return None
    raw = p[idx]
    low = (raw < COLLAPSE_FRACTION * top) & (top - raw > 2 * SIGNIFICANT_SIGMAS * sigma)
    run = int(np.argmin(low[::-1])) if not low.all() else low.size
    if run == 0:
        return None
    kind = "plating_return_to_zero" if plating else "polarization_collapse"
    return Signature(kind, step.index, float(t[idx[-run]]), ONSET_CONFIDENCE,
                     f"the last {run} held point(s) at {step.density_ma_cm2:.3g} mA/cm2 fell "
                     f"below {COLLAPSE_FRACTION:.0%} of the {top * 1e3:.3g} mV held: the "
                     "onset of a short at the end of the step, if the next step confirms it",
                     onset_only=True)


def _first_levels(step: Step, i, p) -> dict[float, tuple[float, float]]:
    """Early level of the first half-cycle of each current sign in a step, with its |j|."""
    out: dict[float, tuple[float, float]] = {}
    for seg in step.segments:
        out.setdefault(float(np.sign(seg.current_a)),
                       (_early_level(seg, i, p), step.density_ma_cm2))
    return out


def _ohmic_lost(step: Step, prev: dict[float, tuple[float, float]], sigma: float,
                lost: Signature | None, t, i, p) -> Signature | None:
    """``ohmic_scaling_lost`` on the first segment of each current sign in the step.

    Each sign's early polarization is compared with the same sign's in the step before: a
    symmetric cell that shorts in its -j half (or at the reversal) keeps a healthy +j half,
    and a test of the step's first segment alone does not see it; the collapse test
    neither, as the -j half has no same-sign level before it in the step. Of several
    broken signs the strongest is kept (one signature per step).
    """
    best = None
    seen: set[float] = set()
    for seg in step.segments:
        sgn = float(np.sign(seg.current_a))
        if sgn in seen:
            continue
        seen.add(sgn)
        if lost is not None and lost.t_s <= t[seg.stop - 1]:
            break
        prev_early, prev_j = prev.get(sgn, (None, None))
        early = _early_level(seg, i, p)
        if not (prev_early is not None and prev_early > SIGNIFICANT_SIGMAS * sigma
                and step.density_ma_cm2 > prev_j and early < OHMIC_FRACTION * prev_early):
            continue
        ratio = early / prev_early
        conf = float(np.clip((OHMIC_FRACTION - ratio) / 0.5, 0.0, 1.0))
        if best is None or conf > best.confidence:
            best = Signature(
                "ohmic_scaling_lost", step.index, float(t[seg.start]), conf,
                f"early polarization {early * 1e3:.3g} mV at {step.density_ma_cm2:.3g} "
                f"mA/cm2 ({'+' if sgn > 0 else '-'}j) is {ratio:.2f}x that of the step "
                f"before ({prev_early * 1e3:.3g} mV at {prev_j:.3g} mA/cm2) although |j| "
                "rose: V ~ I*R broken")
    return best


def analyse_steps(steps: list[Step], t: np.ndarray, i: np.ndarray, v: np.ndarray,
                  plating: bool) -> tuple[list[Signature], Signature | None, float]:
    """Run every test over the staircase.

    Parameters
    ----------
    steps : list of Step
    t, i, v : ndarray
        Time (s), current (A), voltage (V) of the record.
    plating : bool
        One-direction plating record (names the hard-short signature after Fig. 2).

    Returns
    -------
    signatures : list of Signature
        Short signatures in time order, up to the contact loss if there is one.
    contact_loss : Signature or None
    sigma_v : float
        Noise of p used for the significance tests, V.
    """
    p = np.zeros_like(v)
    for step in steps:
        for seg in step.segments:
            p[seg.start:seg.stop] = v[seg.start:seg.stop] * np.sign(seg.current_a)
    held_idx = np.concatenate([np.arange(seg.start, seg.stop) for step in steps
                           for seg in step.segments] or [np.empty(0, dtype=int)])
    sigma = noise_sigma(steps, i, p)
    # the soft-short tests count excursions about a running median: there a residual of one
    # ADC step is a code boundary crossed (and asymmetric about the median), not the cell
    sigma_dips = noise_sigma(steps, i, p, resolution_step(v[held_idx], max_samples=held_idx.size))
    found: list[Signature] = []
    lost = None
    prev: dict[float, tuple[float, float]] = {}  # sign -> (early level, |j|) of last step
    for k, step in enumerate(steps):
        first = step.segments[0]
        early = _early_level(first, i, p)
        prev_early, prev_j = prev.get(float(np.sign(first.current_a)), (None, None))
        base = early
        if prev_early is not None and prev_early > 0:
            # the ohmic expectation from the step before bounds the base both ways: a
            # runaway already under way early, a short already there early
            expect = prev_early * step.density_ma_cm2 / prev_j
            base = float(np.clip(early, expect, 3 * expect))
        until = steps[k + 1].segments[0].start if k + 1 < len(steps) else t.size
        lost = _contact_loss(step, max(base, 1e-3), t, i, v, p, until)
        ohmic = _ohmic_lost(step, prev, sigma, lost, t, i, p)
        if ohmic is not None:
            found.append(ohmic)
        levels = {1.0: 0.0, -1.0: 0.0}
        for seg in step.segments:
            if lost is not None and t[seg.start] >= lost.t_s:
                break
            sgn = float(np.sign(seg.current_a))
            end = seg.stop if lost is None else min(seg.stop, int(np.searchsorted(t, lost.t_s)))
            part = Segment(seg.start, end, seg.current_a)
            hit, levels[sgn] = _collapse(step, part, levels[sgn], sigma, plating, t, i, v, p)
            if hit is not None:
                found.append(hit)
                if not hit.onset_only:
                    break
        soft = dips(step, sigma_dips, t, i, p) if lost is None else None
        if soft is None and lost is None:
            soft = noise_rise(step, sigma_dips, t, i, p)
        if soft is not None:
            found.append(soft)
        if lost is not None:
            break
        prev.update(_first_levels(step, i, p))
    return sorted(found, key=lambda s: s.t_s), lost, sigma
