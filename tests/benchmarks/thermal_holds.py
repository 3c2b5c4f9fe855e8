"""Third break-it review (an independent helper session that had not written the
estimator, 2026-12-01): DC-polarization holds with known truth from a cell's thermal history
and the instrument's recording modes, kept as a benchmark beside :mod:`review_holds` and
:mod:`break_holds` (``test_dcpol_review.py --generator thermal``). make(family, seed) ->
(t, i, meta); L = 0.1 cm.

meta: i_true (A), sigma_true (S/cm, the electronic conductivity at the stated/nominal
temperature), thr (S/cm), voltage_v, area_cm2, accuracy_a (the zero-offset accuracy
modelled, A; 0 where the simulated instrument has no offset), plus family-specific keys.

The truth is drawn near the threshold: 50 % of holds at 1.02-1.3 x thr (a PASS is false),
50 % at thr / (1.02-1.3) (a FAIL is false); ``<family>_edge``: every hold at 1.02-1.06 x
thr (a PASS is false).

Families (none of them in realistic_holds / review_holds / break_holds):
  warmup        the cell is still warming to the set temperature when the hold starts
                (T = T0 - dT exp(-t/tau_T), dT 0.5-3 K, tau_T 5-35 % of the hold,
                Arrhenius Ea 0.3-0.6 eV acting on the whole current): a polarization decay
                on top of a slow rise towards the truth I_ss(T0)
  warmup_late   as warmup, tau_T 25-50 % of the hold (up to ~2 % low at the end)
  warmup_strong as warmup, dT 2-5 K, tau_T 50-100 % of the hold (a heavy cell holder on a
                stage just set to temperature; 2-11 % low at the end, visibly rising)
  cooldown      the lab cools late in the hold: T falls by 0.3-1 K (logistic from 50-85 %
                of the hold) through Arrhenius (Ea 0.3-0.6 eV): the tail ends 1-7 % low
  hvac          a settled exp2 decay with the air-conditioner's temperature sawtooth
                (+-0.1-0.5 K, period 10-40 min, its thermal lag a 1st-order filter)
                through Arrhenius (Ea 0.3-0.6 eV); truth at the mean temperature
  daily_arrh    day/night cycle: +-0.5 K sinusoid (24 h, random phase) through Arrhenius,
                hold 12-72 h, decay taus of 0.3-3 h; truth at the mean temperature
  cottrell      exp decay + a faradaic side reaction of an impurity, B t^-1/2 (no cutoff),
                0.5-20 % of I_ss at the end of the hold; truth I_ss
  filter        the instrument's analog filter (1st order, 1-20 s) smears the charging
                step; no step sample, the first points rise, then exp2 decay (settled)
  avg_interval  EC-Lab <I>: each point is the exact average of the current over its
                recording interval (10-120 s), charging spike in the first interval
  dI_record     EC-Lab "record every dI or dt" at pA level: dI 1.5-4 x the noise sd,
                noise 2-8 % of I_ss, dt_max 2-10 % of the hold; selection-biased points
  concat        two EC-Lab sequences concatenated: the 2nd re-applies the voltage (a
                small fresh charging spike), repeats the junction time stamp, and runs on
                a current range whose offset differs by up to the accuracy (1 % of the
                decade holding I_ss, passed as accuracy_a)
  fast_small    one exponential, I_ss 1-5 % of the initial current, hold stops at 3-8 tau
  logspace_unit log-spaced sampling (dense early, 30-300 late points) and the current
                exported in nA with 3 decimals (1 pA step), I_ss 3-30 pA, noise 0.1-0.5 pA
  floor_export  current exported by truncation (floor, not rounding) to a step of
                5-30 % of I_ss, dithered by noise 0.3-1 step (a -q/2 bias)
  floor_export_fine  the same with a step of 1-5 % of I_ss
"""
from __future__ import annotations

import zlib

import numpy as np

L_CM = 0.1
KB = 8.617333262e-5  # eV/K
FAMILIES = ["warmup", "warmup_late", "warmup_strong", "cooldown", "hvac", "daily_arrh",
            "cottrell", "filter", "avg_interval", "dI_record", "concat", "fast_small",
            "logspace_unit", "floor_export", "floor_export_fine"]


def _truth(rng, edge=False):
    thr = 1e-10 if rng.random() < 0.5 else 1e-12
    f = rng.uniform(1.02, 1.3)
    f = f if rng.random() < 0.5 else 1.0 / f
    if edge:  # just above the threshold: a PASS is false
        f = rng.uniform(1.02, 1.06)
    v = rng.uniform(0.05, 0.5)
    a = rng.uniform(0.5, 2.0)
    sigma = thr * f
    i_ss = sigma * v * a / L_CM
    return thr, sigma, i_ss, v, a


def _arrh(T, T0, ea):
    """I(T) / I(T0) for an Arrhenius conductor."""
    return np.exp(-ea / KB * (1.0 / T - 1.0 / T0))


def _exp2(rng, t, i_ss, tau1, tau2, amp_hi=2.0):
    a1 = i_ss * 10 ** rng.uniform(0.5, amp_hi)
    a2 = i_ss * 10 ** rng.uniform(0, 1)
    return a1 * np.exp(-t / tau1) + a2 * np.exp(-t / tau2)


def _lowpass(x, dt, tau, start=None):
    """1st-order filter of samples x at spacing dt (array or scalar), exact for a
    piecewise-constant input; the filter state starts at ``start`` (default x[0])."""
    out = np.empty_like(x)
    a = np.exp(-np.broadcast_to(dt, x.shape) / tau)
    acc = x[0] if start is None else start
    for k in range(x.size):
        acc = a[k] * acc + (1 - a[k]) * x[k]
        out[k] = acc
    return out


def make(family, seed):
    edge = family.endswith("_edge")
    rng = np.random.default_rng([zlib.crc32(family.encode()), seed, 3])
    thr, sigma, i_ss, v, a = _truth(rng, edge)
    family = family[:-5] if edge else family
    meta = dict(family=family + ("_edge" if edge else ""), seed=seed, thr=thr, sigma_true=sigma,
                i_true=i_ss, voltage_v=v, area_cm2=a, accuracy_a=0.0)
    step_sample = True
    if family in ("warmup", "warmup_late", "warmup_strong"):
        tau1 = 10 ** rng.uniform(0.5, 1.5)
        tau2 = tau1 * 10 ** rng.uniform(0.5, 1.2)
        t_hold = tau2 * rng.uniform(10, 25)
        n = int(rng.integers(3000, 12000))
        t = np.arange(1, n + 1) * (t_hold / n)
        T0 = 298.15
        dT = rng.uniform(0.5, 3.0) if family != "warmup_strong" else rng.uniform(2.0, 5.0)
        frac = {"warmup": (0.05, 0.35), "warmup_late": (0.25, 0.5),
                "warmup_strong": (0.5, 1.0)}[family]
        frac = rng.uniform(*frac)
        tau_T = t_hold * frac
        ea = rng.uniform(0.3, 0.6)
        T = T0 - dT * np.exp(-t / tau_T)
        g = _arrh(T, T0, ea)
        i = (i_ss + _exp2(rng, t, i_ss, tau1, tau2)) * g
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        meta.update(dT=dT, tau_T=tau_T, ea=ea, end_deficit=float(1 - g[-1]))
    elif family == "cooldown":
        # the lab cools in the evening: T drops by 0.3-1 K (logistic, starting at 50-85 %
        # of the hold, width 3-10 % of it); truth sigma(T0), the stated temperature
        tau1 = 10 ** rng.uniform(0.5, 1.5)
        tau2 = tau1 * 10 ** rng.uniform(0.5, 1.2)
        t_hold = tau2 * rng.uniform(10, 25)
        n = int(rng.integers(3000, 12000))
        t = np.arange(1, n + 1) * (t_hold / n)
        dT = rng.uniform(0.3, 1.0)
        t_c = t_hold * rng.uniform(0.5, 0.85)
        w = t_hold * rng.uniform(0.03, 0.1)
        ea = rng.uniform(0.3, 0.6)
        T = 298.15 - dT / (1 + np.exp(-(t - t_c) / w))
        g = _arrh(T, 298.15, ea)
        i = (i_ss + _exp2(rng, t, i_ss, tau1, tau2)) * g
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        meta.update(dT=dT, ea=ea, end_deficit=float(1 - g[-1]))
    elif family == "hvac":
        tau1 = 10 ** rng.uniform(1, 2)
        tau2 = tau1 * 10 ** rng.uniform(0.5, 1.2)
        t_hold = max(tau2 * rng.uniform(10, 20), 4 * 3600 * rng.uniform(0.5, 1.5))
        dt = rng.choice([1.0, 2.0, 5.0, 10.0])
        n = int(min(t_hold / dt, 60000))
        t = np.arange(1, n + 1) * (t_hold / n)
        per = rng.uniform(600, 2400)
        amp = rng.uniform(0.1, 0.5)
        ph = rng.uniform(0, 1)
        saw = 2 * np.abs(2 * (((t / per) + ph) % 1.0) - 1) - 1  # triangle -1..1
        lag = rng.uniform(30, 300)
        T_air = 298.15 + amp * saw
        T = _lowpass(T_air, t_hold / n, lag)
        ea = rng.uniform(0.3, 0.6)
        g = _arrh(T, 298.15, ea)
        i = (i_ss + _exp2(rng, t, i_ss, tau1, tau2)) * g
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        meta.update(period=per, amp_K=amp, ea=ea, mod=float(np.ptp(g) / 2))
    elif family == "daily_arrh":
        t_hold = 3600 * rng.uniform(12, 72)
        n = int(rng.integers(3000, 15000))
        t = np.arange(1, n + 1) * (t_hold / n)
        tau1 = 3600 * 10 ** rng.uniform(-0.5, 0)
        tau2 = tau1 * 10 ** rng.uniform(0.3, 0.5)
        ea = rng.uniform(0.3, 0.6)
        T = 298.15 + 0.5 * np.sin(2 * np.pi * t / 86400 + rng.uniform(0, 2 * np.pi))
        g = _arrh(T, 298.15, ea)
        i = (i_ss + _exp2(rng, t, i_ss, tau1, tau2)) * g
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        meta.update(ea=ea, end_factor=float(g[-1]), t_hold_h=t_hold / 3600)
    elif family == "cottrell":
        tau1 = 10 ** rng.uniform(0.5, 2)
        t_hold = tau1 * rng.uniform(15, 60)
        n = int(rng.integers(3000, 12000))
        t = np.arange(1, n + 1) * (t_hold / n)
        rem = 10 ** rng.uniform(np.log10(0.005), np.log10(0.2))
        b = rem * i_ss * np.sqrt(t_hold)
        i = i_ss + i_ss * 10 ** rng.uniform(0.5, 2) * np.exp(-t / tau1) + b / np.sqrt(t)
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        meta.update(remaining=rem)
    elif family == "filter":
        tau1 = 10 ** rng.uniform(1, 2)
        tau2 = tau1 * 10 ** rng.uniform(0.5, 1.2)
        t_hold = tau2 * rng.uniform(10, 20)
        dt = rng.choice([0.2, 0.5, 1.0, 2.0, 5.0])
        tau_f = rng.uniform(1, 20)
        sub = 20
        tf = np.arange(1, int(t_hold / dt) * sub + 1) * (dt / sub)
        rc = i_ss * 10 ** rng.uniform(2, 4) * np.exp(-tf / rng.uniform(0.05, 1.0))
        clean = i_ss + _exp2(rng, tf, i_ss, tau1, tau2) + rc
        filt = _lowpass(clean, dt / sub, tau_f, start=0.0)
        t, i = tf[sub - 1::sub], filt[sub - 1::sub]
        i = i + rng.normal(0, i_ss * rng.uniform(0.003, 0.02), t.size)
        meta.update(tau_f=tau_f, dt=dt, peak_index=int(np.argmax(i)))
        step_sample = False
    elif family == "avg_interval":
        tau1 = 10 ** rng.uniform(1.5, 2.5)
        tau2 = tau1 * 10 ** rng.uniform(0.5, 1.2)
        t_hold = tau2 * rng.uniform(10, 20)
        dt = float(rng.choice([10.0, 30.0, 60.0, 120.0]))
        n = int(t_hold / dt)
        edges = np.arange(n + 1) * dt
        a1 = i_ss * 10 ** rng.uniform(0.5, 2)
        a2 = i_ss * 10 ** rng.uniform(0, 1)
        a_rc, tau_rc = i_ss * 10 ** rng.uniform(3, 5), rng.uniform(0.01, 1.0)

        def integ(x):  # integral of the current from 0 to x
            return (i_ss * x + a1 * tau1 * (1 - np.exp(-x / tau1))
                    + a2 * tau2 * (1 - np.exp(-x / tau2))
                    + a_rc * tau_rc * (1 - np.exp(-x / tau_rc)))
        i = np.diff(integ(edges)) / dt
        t = edges[1:]  # EC-Lab stamps the end of the interval
        i = i + rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n) / np.sqrt(dt)
        meta.update(dt=dt)
        step_sample = False
    elif family == "dI_record":
        tau1 = 10 ** rng.uniform(0.5, 1.5)
        tau2 = tau1 * 10 ** rng.uniform(0.5, 1.2)
        t_hold = tau2 * rng.uniform(10, 25)
        nd = int(rng.integers(50000, 150000))
        td = np.arange(1, nd + 1) * (t_hold / nd)
        sd = i_ss * rng.uniform(0.02, 0.08)
        y = i_ss + _exp2(rng, td, i_ss, tau1, tau2) + rng.normal(0, sd, nd)
        di = sd * rng.uniform(1.5, 4.0)
        dtmax = t_hold * rng.uniform(0.02, 0.1)
        keep = [0]
        last_i, last_t = y[0], td[0]
        for k in range(1, nd):
            if abs(y[k] - last_i) >= di or td[k] - last_t >= dtmax:
                keep.append(k)
                last_i, last_t = y[k], td[k]
        if keep[-1] != nd - 1:
            keep.append(nd - 1)
        keep = np.array(keep)
        t, i = td[keep], y[keep]
        meta.update(di_frac=di / i_ss, noise_frac=sd / i_ss, n_kept=int(keep.size))
    elif family == "concat":
        tau1 = 10 ** rng.uniform(0.5, 1.5)
        tau2 = tau1 * 10 ** rng.uniform(0.5, 1.2)
        t_hold = tau2 * rng.uniform(10, 25)
        n = int(rng.integers(3000, 12000))
        t = np.arange(1, n + 1) * (t_hold / n)
        i = i_ss + _exp2(rng, t, i_ss, tau1, tau2)
        tj = t_hold * rng.uniform(0.3, 0.7)
        after = t > tj
        i = i + after * i_ss * 10 ** rng.uniform(-0.3, 0.7) * np.exp(
            -np.clip(t - tj, 0, None) / rng.uniform(1, 3) / tau1)
        # the instrument's range: the decade holding the tail current; offsets within
        # 1e-3 of the range, different for the two sequences
        full = 10 ** np.ceil(np.log10(i_ss * 1.5))
        acc = 1e-2 * full  # a low-current instrument: 1 % of the decade
        off = np.where(after, rng.uniform(-1, 1) * acc, rng.uniform(-1, 1) * acc)
        i = i + off + rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        # repeated time stamp at the junction: the 2nd sequence's first point
        k = int(np.searchsorted(t, tj))
        t = np.insert(t, k, t[k - 1])
        i = np.insert(i, k, i[k] + i_ss * 0.5)
        meta.update(accuracy_a=acc, t_junction=tj, offset_end=float(off[-1] / i_ss))
    elif family == "fast_small":
        tau = 10 ** rng.uniform(1, 3)
        t_hold = tau * rng.uniform(3, 8)
        n = int(rng.integers(1000, 10000))
        t = np.arange(1, n + 1) * (t_hold / n)
        amp = i_ss * rng.uniform(20, 100)
        i = i_ss + amp * np.exp(-t / tau)
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        meta.update(remaining=float(amp * np.exp(-t_hold / tau) / i_ss))
    elif family == "logspace_unit":
        # rescale the truth into 3-30 pA by choosing the area (sigma unchanged)
        target = 10 ** rng.uniform(np.log10(3e-12), np.log10(30e-12))
        k = target / i_ss
        meta["area_cm2"] = a * k
        if not 0.05 <= meta["area_cm2"] <= 5:
            ac = float(np.clip(meta["area_cm2"], 0.05, 5))
            meta["voltage_v"] = v * meta["area_cm2"] / ac
            meta["area_cm2"] = ac
        i_ss = target
        meta["i_true"] = i_ss
        tau1 = 10 ** rng.uniform(0.5, 1.5)
        tau2 = tau1 * 10 ** rng.uniform(0.5, 1.2)
        t_hold = tau2 * rng.uniform(10, 25)
        n = int(rng.integers(300, 3000))
        t = np.geomspace(t_hold * 10 ** rng.uniform(-4, -2.5), t_hold, n)
        i = i_ss + _exp2(rng, t, i_ss, tau1, tau2, amp_hi=2.5)
        i += rng.normal(0, rng.uniform(0.1e-12, 0.5e-12), n)
        i = np.round(i / 1e-12) * 1e-12  # nA with 3 decimals
        meta.update(n_late=int(np.sum(t > t_hold / 2)))
    elif family in ("floor_export", "floor_export_fine"):
        tau1 = 10 ** rng.uniform(0.5, 1.5)
        tau2 = tau1 * 10 ** rng.uniform(0.5, 1.2)
        t_hold = tau2 * rng.uniform(10, 25)
        n = int(rng.integers(3000, 12000))
        t = np.arange(1, n + 1) * (t_hold / n)
        q = i_ss * (rng.uniform(0.05, 0.3) if family == "floor_export" else
                    rng.uniform(0.01, 0.05))
        i = i_ss + _exp2(rng, t, i_ss, tau1, tau2)
        i += rng.normal(0, q * rng.uniform(0.3, 1.0), n)
        i = np.floor(i / q) * q
        meta.update(q_frac=q / i_ss)
    else:
        raise KeyError(family)
    if step_sample:
        t = np.concatenate([[0.0], t])
        i = np.concatenate([[i[0] * 3], i])
    meta["n"] = int(t.size)
    return np.asarray(t, float), np.asarray(i, float), meta


def to_measurement(t, i, meta):
    import pandas as pd

    from sescreen.io.measurement import Measurement, Technique
    v = float(meta["voltage_v"])
    data = pd.DataFrame({"time_s": np.asarray(t, float), "current_a": np.asarray(i, float),
                         "control_v": np.full(len(t), v)})
    return Measurement(data=data, format="synthetic", technique=Technique.CONSTANT_VOLTAGE,
                       technique_name="review3 hold", applied_voltage_v=v,
                       area_cm2=float(meta["area_cm2"]), temperature_k=298.15,
                       source=f"review3:{meta['family']}:{meta['seed']}")
