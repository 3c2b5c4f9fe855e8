"""CCD records a second review found misjudged (sescreen.cycling): an overshoot of the
first samples after each current switch, upward (void) spikes, a record that ends in a
collapse of |V|, a record stopped part-way into its last step. The records are built here
unlike tests/ccd_records.py and tests/test_ccd_review_cycling.py: an ohmic Li|SE|Li cell
(V = I R), several +j/-j cycles per step, noise proportional to the polarization."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import cycling_measurement

from sescreen.cycling import measure_ccd

DENSITIES = (0.05, 0.1, 0.2, 0.4, 0.8)


def _record(rng, *, densities=DENSITIES, half_s=300.0, cycles=2, dt_s=2.0, asr=250.0,
            rel_noise=0.005, short=None, switch_overshoot=1.0, end_frac=1.0):
    """Symmetric staircase, ``cycles`` +j/-j cycles of ``half_s`` per step, p = j ASR times
    (1 + rel_noise N(0, 1)). ``short`` = (step, fraction): R_s = ASR / 100 from then on;
    ``switch_overshoot``: factor on the first sample of every half-cycle; ``end_frac``:
    the record stops that far into its last step."""
    t, i_set, k_of = [], [], []
    t0 = 0.0
    for k, j in enumerate(densities):
        for h in range(2 * cycles):
            n = int(half_s / dt_s)
            t.append(t0 + dt_s * np.arange(n))
            i_set.append(np.full(n, (1.0 if h % 2 == 0 else -1.0) * j * 1e-3))
            k_of.append(np.full(n, k))
            t0 += n * dt_s
    t, i_set, k_of = map(np.concatenate, (t, i_set, k_of))
    p = np.abs(i_set) * asr * (1 + rel_noise * rng.standard_normal(t.size))
    first = np.flatnonzero(np.diff(np.sign(i_set), prepend=0.0) != 0)
    p[first] *= switch_overshoot
    if short is not None:
        step, frac = short
        in_step = np.flatnonzero(k_of == step)
        t_s = t[in_step[0]] + frac * (t[in_step[-1]] - t[in_step[0]])
        p = np.where(t >= t_s, p / 101.0, p)
    keep = np.ones(t.size, dtype=bool)
    if end_frac < 1.0:
        in_last = np.flatnonzero(k_of == len(densities) - 1)
        keep[in_last[int(end_frac * in_last.size):]] = False
    data = {"time_s": t[keep], "current_a": i_set[keep], "voltage_v": (np.sign(i_set) * p)[keep],
            "control_a": i_set[keep]}
    return cycling_measurement(data, name="review staircase", source="review2")


@pytest.mark.parametrize("seed", [0, 1])
def test_an_overshoot_at_each_current_switch_is_not_a_short(seed):
    """The first sample of every half-cycle at 4x the polarization (a current-range change,
    the control loop): the running median, padded at the segment's edge with that sample,
    took it for the level reached and the whole half-cycle for a collapse (a reviewer's
    records with 1-2 such samples: 29 of 30 healthy cells called shorted)."""
    r = measure_ccd(_record(np.random.default_rng(seed), switch_overshoot=4.0))
    assert r.outcome == "no_short", r.statement()
    assert r.ccd_ma_cm2 == pytest.approx(0.8)


def test_an_overshoot_at_a_current_switch_is_no_contact_loss():
    """From 0.8 mA/cm2 (p = 0.2 V) on, a 4x first sample runs > 0.5 V above the level: a
    one-sample overshoot, not a sustained runaway; taken for a contact loss it ended the
    analysis before the short at 1.6 mA/cm2 (13 of 30 of a reviewer's shorted records with
    such overshoots read "contact loss")."""
    r = measure_ccd(_record(np.random.default_rng(3), densities=(0.1, 0.2, 0.4, 0.8, 1.6),
                            switch_overshoot=4.0, short=(4, 0.5)))
    assert r.contact_loss is None
    assert r.shorted and r.interval_ma_cm2[0] < 1.6 <= r.interval_ma_cm2[1], r.statement()


def test_upward_spikes_do_not_make_a_dense_soft_short():
    """Void spikes (|V| away from 0 V, never a short) in a healthy half-cycle, two of them
    adjacent: the running maximum of a 3-point median took the pair for the level, and the
    rest of the half-cycle read "jumps and partly collapses" (soft short, confidence 1)."""
    m = _record(np.random.default_rng(4), rel_noise=0.002)
    v = m.data["voltage_v"].to_numpy().copy()
    for k in (40, 41, 70, 95, 120, 145):  # in the first +j half of the first step
        v[k] *= 1.6
    m.data["voltage_v"] = v
    r = measure_ccd(m)
    assert r.outcome == "no_short", r.statement()


@pytest.mark.parametrize("n_low", [1, 2])
def test_a_record_ending_in_a_collapse_does_not_hold_that_step(n_low):
    """Stopped at a hard short, the record's last one or two samples collapsed: too few to
    claim a short, but "no short, CCD > 0.8" claimed the 0.8 mA/cm2 step held."""
    m = _record(np.random.default_rng(5))
    v = m.data["voltage_v"].to_numpy().copy()
    v[-n_low:] /= 101.0
    m.data["voltage_v"] = v
    r = measure_ccd(m)
    assert not r.shorted
    assert r.ccd_ma_cm2 == pytest.approx(0.4), r.statement()
    assert r.steps[-1].state == "in_doubt"
    assert any("ends in a collapse" in w for w in r.warnings)
    assert "0.8" in r.statement() and "CCD > 0.4" in r.statement()


def test_a_record_stopped_inside_its_last_step_does_not_hold_it():
    """Stopped 20 % into the 0.8 mA/cm2 step: that step was not held to the protocol's
    time, the lower bound is the 0.4 mA/cm2 step; a complete record keeps its last step."""
    r = measure_ccd(_record(np.random.default_rng(6), end_frac=0.2))
    assert r.outcome == "no_short"
    assert r.ccd_ma_cm2 == pytest.approx(0.4), r.statement()
    assert any("not held to the protocol's end" in w for w in r.warnings)
    full = measure_ccd(_record(np.random.default_rng(6)))
    assert full.ccd_ma_cm2 == pytest.approx(0.8) and not full.warnings


def test_a_current_written_with_the_other_sign_convention_is_said_and_judged():
    """The same hard short with the current's sign flipped in the file (V I < 0 at every
    point): read as it was, V sign(I) < 0 everywhere is no polarization and the record said
    "no short, CCD > 0.8"; a passive Li|SE|Li cell polarizes along its current."""
    m = _record(np.random.default_rng(7), short=(3, 0.5))
    for col in ("current_a", "control_a"):
        m.data[col] = -m.data[col]
    r = measure_ccd(m)
    assert r.shorted and r.interval_ma_cm2[0] < 0.4 <= r.interval_ma_cm2[1], r.statement()
    assert any("sign convention" in w for w in r.warnings)
    assert not measure_ccd(_record(np.random.default_rng(7), short=(3, 0.5))).warnings


def _open_circuit(m, at_s, *, n=20, compliance_v=5.0, control=False):
    """The record cut at ``at_s``, then ``n`` samples at open circuit: the current ~0, V at
    the compliance on the side of the current asked for; without the set-point column
    (``control``) the cycler writes only what it measured."""
    d = m.data
    keep = d["time_s"].to_numpy() < at_s
    t, i, v = (d[c].to_numpy()[keep] for c in ("time_s", "current_a", "voltage_v"))
    dt = t[1] - t[0]
    asked = np.full(n, i[-1])
    data = {"time_s": np.r_[t, t[-1] + dt * np.arange(1, n + 1)],
            "current_a": np.r_[i, asked * 1e-4],
            "voltage_v": np.r_[v, np.sign(asked) * compliance_v]}
    if control:
        data["control_a"] = np.r_[i, asked]
    return cycling_measurement(data, name="open circuit", source="review2")


@pytest.mark.parametrize("control", [False, True])
def test_an_open_circuit_mid_step_is_a_contact_loss(control):
    """A lead that opens in the 0.4 mA/cm2 step: the measured current falls to ~0 and the
    cycler sits at its compliance voltage. Without a set-point column the points after it
    are a rest, which no contact-loss test saw: the step read as held (the review: 24/30
    bounds too high before the cut-short rule, 6/30 after it)."""
    m = _record(np.random.default_rng(6))
    step_start = 2 * 2 * 300.0 * 3  # 3 steps of 2 cycles of 2 x 300 s before it
    r = measure_ccd(_open_circuit(m, step_start + 700.0, control=control))
    assert r.outcome == "contact_loss", r.statement()
    assert r.contact_loss.step == 3 and r.ccd_ma_cm2 == pytest.approx(0.2)


def test_a_rest_relaxing_to_zero_volts_is_no_contact_loss():
    """Rests between the steps (I = 0, V relaxing towards 0 V, as a Li|SE|Li cell does) are
    not an open circuit."""
    m = _record(np.random.default_rng(7), densities=(0.05, 0.1, 0.2))
    d = m.data
    t, i, v = (d[c].to_numpy() for c in ("time_s", "current_a", "voltage_v"))
    step = 2 * 2 * 300.0
    rest = (t % step) < 60.0  # the first minute of every step: a rest
    v = np.where(rest, v * np.exp(-(t % step) / 10.0), v)
    data = {"time_s": t, "current_a": np.where(rest, 0.0, i), "voltage_v": v}
    r = measure_ccd(cycling_measurement(data, name="rests", source="review2"))
    assert r.contact_loss is None and r.outcome == "no_short", r.statement()
    assert r.ccd_ma_cm2 == pytest.approx(0.2)
