"""Adversarial DC-polarization holds with known truth: the generator of the break-it review
of 2026-12-01 (a helper session that had not written the estimator), kept as a third
benchmark beside :mod:`realistic_holds` and :mod:`review_holds`.
make(family, seed) -> (t, i, meta); L = 0.1 cm.

meta: i_true (A, signed like the applied voltage's current), sigma_true (S/cm, >= 0),
thr (S/cm), voltage_v, area_cm2, optional 'range_a' (per-point full scale, A: written
as the Measurement's current_range_a column), 'time_offset' etc.

Families (none of them in realistic_holds / review_holds):
  telegraph      settled exp2 + random telegraph (popcorn) noise, 2-30 % of I_ss, dwell
                 1-30 % of the hold; truth = baseline + expected RTN level
  autorange      exp2 decay measured with decade auto-ranging: LSB 3e-5 x range, an
                 offset of up to 1e-3 x range per range (a step at each switch); the
                 current_range_a column is given
  autorange_nocol  the same without the range column
  floor          I_ss 0.3-30 pA on a 1 nA / 10 nA range: LSB 30-300 fA, offset up to
                 1-10 pA (the range's accuracy), range column given
  mains          settled exp2 + 50 Hz pickup (frequency wandering +-0.05 Hz) point-sampled
                 at dt ~ 0.5-20 s: aliased to slow beats; amplitude 5-100 % of I_ss
  leak_grow      exp2 decay + a growing leak (linear or exponential, +3..40 % of I_ss over
                 the hold); truth = the electronic current at the end of the hold
  sparse_log     EC-Lab style: a point only when |I - I_last| >= dI or dt >= dt_max
  gaps           1-3 gaps of 5-30 % of the hold removed (data lost), decay continues
  pause_relax    the hold interrupted (cell at OCV for a while, not logged); on resume a
                 fresh, smaller charging transient on top of the original decay
  late_start     logging starts 30-3000 s after the step; time stamps are seconds since
                 the step (first time > 0); t^-1/2 (stoich) + exp tails
  late_start_abs as late_start but time stamps are since the step (first one 100 s) and
                 the decay is a stoichiometric series that is NOT settled
  colecole       I_ss + A * phi(t), phi the Cole-Cole (Mittag-Leffler) relaxation, alpha
                 0.3-0.9: tails t^-alpha
  hn_current     I_ss + polarization current of a Havriliak-Negami relaxation (-dphi/dt
                 from the HN distribution of relaxation times), alpha 0.3-0.9, beta 0.3-1
  hn_geom        HN polarization current, log-spaced samples, noise 0.1-1 %
  bpl_geom/_uniform  Jonscher broken power law t^-n1 -> t^-n2 (settled)
  cvs_geom/_uniform  Curie-von Schweidler I_ss + A t^-n, n 0.8-1.6 (settled)
  logsample/_broad   exp2 / log-normal relaxation with log-spaced sample times
  mains_big      as mains, amplitude 1-20 x I_ss
  glitch_neg/_pos  one-sided glitches 3-50 x I_ss on 0.03-0.5 % of the samples
  dropout_rare   0.1-1 % of the samples read exactly 0
  dropout_tail   0.5-3 % zeros only in the last 30 % of the hold
  two_stage      fast decay to a plateau (2-5 x I_ss), then a delayed second decay that
                 ends before the hold does (settled)
  glitch         isolated outliers: spikes of +-10..1000 x I_ss, 0.01-0.5 % of points
  dropout        1-5 % of the samples read 0 (a range-change or ADC dropout)
  approach_below current approaches I_ss from below (step-down voltage series): I_ss -
                 A1 exp(-t/tau1) - A2 exp(-t/tau2), A up to 30 x I_ss (starts negative)
  approach_below_settled  the same, settled (remaining < 0.3 %)
  time_rounded   samples every 0.1-0.5 s, times exported rounded to 1 s (duplicate times)
  sigfig         the current exported with 2-3 significant digits (%.2g / %.3g)
  huge           2-5 x 10^6 points (and 10^7 for seed % 10 == 9), settled exp2 + white
  negative_v     negative voltage and current, with a positive-going artifact: a
                 current that overshoots zero early (charging of the opposite sign)
  *_edge         any family with the truth 1.0-1.05 x the threshold (a PASS is false)
"""
from __future__ import annotations

import zlib

import numpy as np

L_CM = 0.1
FAMILIES = ["telegraph", "autorange", "autorange_nocol", "floor", "mains", "mains_big",
            "leak_grow", "sparse_log", "gaps", "pause_relax", "late_start", "late_start_abs",
            "colecole", "hn_current", "hn_geom", "bpl_geom", "bpl_uniform", "cvs_geom",
            "cvs_uniform", "two_stage", "glitch", "dropout", "glitch_neg", "glitch_pos",
            "dropout_rare", "dropout_tail", "approach_below", "approach_below_settled",
            "logsample", "logsample_broad", "time_rounded", "sigfig", "huge", "negative_v"]


def _truth(rng, edge=False):
    thr = 1e-10 if rng.random() < 0.5 else 1e-12
    u = rng.random()
    if edge:
        f = rng.uniform(1.0, 1.05)
    elif u < 0.35:  # just above: a PASS is false
        f = rng.uniform(1.02, 1.4)
    elif u < 0.75:
        f = np.exp(rng.uniform(np.log(1.05), np.log(3))) ** rng.choice([-1, 1])
    else:
        f = 10 ** rng.uniform(-1.5, 1.5)
    v = rng.uniform(0.05, 0.5)
    a = rng.uniform(0.5, 2.0)
    sigma = thr * f
    i_ss = sigma * v * a / L_CM
    return thr, sigma, i_ss, v, a


def _exp2(rng, t, i_ss, settled=True):
    tau1 = 10 ** rng.uniform(0.5, 1.5)
    tau2 = tau1 * 10 ** rng.uniform(0.5, 1.2)
    a1 = i_ss * 10 ** rng.uniform(0.5, 2)
    a2 = i_ss * 10 ** rng.uniform(0, 1)
    return a1 * np.exp(-t / tau1) + a2 * np.exp(-t / tau2), tau2


def _exp2_hold(rng, n_lo=3000, n_hi=15000, factor=(10, 20)):
    tau1 = 10 ** rng.uniform(0.5, 1.5)
    tau2 = tau1 * 10 ** rng.uniform(0.5, 1.2)
    t_hold = tau2 * rng.uniform(*factor)
    n = int(rng.integers(n_lo, n_hi))
    t = np.arange(1, n + 1) * (t_hold / n)
    return t, tau1, tau2


def _decay(rng, t, i_ss, tau1, tau2, amp_hi=2.0):
    a1 = i_ss * 10 ** rng.uniform(0.5, amp_hi)
    a2 = i_ss * 10 ** rng.uniform(0, 1)
    return a1 * np.exp(-t / tau1) + a2 * np.exp(-t / tau2)


def _hn_drt(alpha, beta, n=600, span=12):
    """HN distribution of ln(tau/tau0): weights on a grid of ln tau (sums to 1)."""
    x = np.linspace(-span, span, n) * np.log(10) / 2  # ln(tau/tau0)
    y = np.exp(x)
    ya = y ** alpha
    theta = np.arctan2(np.sin(np.pi * alpha), ya + np.cos(np.pi * alpha))
    g = ya ** beta * np.sin(beta * theta) / (
        ya ** 2 + 2 * ya * np.cos(np.pi * alpha) + 1) ** (beta / 2)
    g = np.clip(g, 0, None)
    g /= g.sum()
    return x, g


def _phi(t, tau0, alpha, beta, deriv=False):
    x, g = _hn_drt(alpha, beta)
    taus = tau0 * np.exp(x)
    out = np.zeros_like(t)
    for gk, tk in zip(g, taus, strict=True):
        if gk < 1e-14:
            continue
        e = np.exp(-t / tk)
        out += gk * (e / tk if deriv else e)
    return out


def make(family, seed):
    edge = family.endswith("_edge")
    base = family[:-5] if edge else family
    rng = np.random.default_rng([zlib.crc32(family.encode()), seed])
    thr, sigma, i_ss, v, a = _truth(rng, edge)
    meta = dict(family=family, seed=seed, thr=thr, sigma_true=sigma, i_true=i_ss,
                voltage_v=v, area_cm2=a)
    step_sample = True
    if base == "telegraph":
        t, tau1, tau2 = _exp2_hold(rng)
        n = t.size
        amp = i_ss * rng.uniform(0.02, 0.3)
        t_hold = t[-1]
        d_on, d_off = t_hold * 10 ** rng.uniform(-2, np.log10(0.3), 2)
        state = np.zeros(n)
        s = int(rng.random() < d_on / (d_on + d_off))
        k = 0
        tt = 0.0
        while k < n:
            dur = rng.exponential(d_on if s else d_off)
            k2 = np.searchsorted(t, tt + dur)
            state[k:k2] = s
            k, tt, s = k2, tt + dur, 1 - s
        p_on = d_on / (d_on + d_off)
        baseline = i_ss - amp * p_on  # truth = long-run mean
        i = baseline + _decay(rng, t, i_ss, tau1, tau2) + amp * state
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        meta.update(rtn_amp=amp / i_ss, p_on=p_on, dwell=(d_on / t_hold, d_off / t_hold))
    elif base in ("autorange", "autorange_nocol", "floor"):
        t, tau1, tau2 = _exp2_hold(rng)
        n = t.size
        clean = i_ss + _decay(rng, t, i_ss, tau1, tau2, amp_hi=2.5)
        noise = rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        if base == "floor":
            # pA currents: scale the truth into 0.3-30 pA, a fixed 1 nA or 10 nA range
            target = 10 ** rng.uniform(np.log10(0.3e-12), np.log10(30e-12))
            k = target / i_ss
            # keep the threshold relation: change the area/voltage so sigma is the same
            meta["area_cm2"] = a * k
            if meta["area_cm2"] > 5 or meta["area_cm2"] < 0.05:
                meta["voltage_v"] = v * meta["area_cm2"] / np.clip(meta["area_cm2"], 0.05, 5)
                meta["area_cm2"] = float(np.clip(meta["area_cm2"], 0.05, 5))
            i_ss2 = target
            clean *= k
            noise = rng.normal(0, rng.uniform(0.05e-12, 1e-12), n)  # pA-level noise
            i_ss = i_ss2
            meta["i_true"] = i_ss
            full = 10 ** np.ceil(np.log10(max(clean.max() * 1.05, 1e-9)))
            rng_a = np.full(n, full)
        else:
            # decade ranges, switch down when |I| < 0.09 x range (hysteresis), up at 1.0
            rng_a = np.empty(n)
            cur = 10 ** np.ceil(np.log10(clean[0] * 1.05))
            for k in range(n):
                while clean[k] > cur:
                    cur *= 10
                if clean[k] < 0.09 * cur and cur > 1e-9:
                    cur /= 10
                rng_a[k] = cur
        offs = {r: rng.uniform(-1, 1) * 1e-3 * r for r in np.unique(rng_a)}
        off = np.array([offs[r] for r in rng_a])
        lsb = 2.0 / 2 ** 16 * rng_a
        i = np.round((clean + noise + off) / lsb) * lsb
        meta["final_offset_frac"] = float(off[-1] / i_ss)
        meta["n_ranges"] = len(offs)
        if base != "autorange_nocol":
            meta["range_a"] = rng_a
    elif base in ("mains", "mains_big"):
        tau1 = 10 ** rng.uniform(1, 2)
        tau2 = tau1 * 10 ** rng.uniform(0.5, 1.2)
        t_hold = tau2 * rng.uniform(10, 20)
        dt = rng.choice([0.5, 1.0, 2.0, 5.0, 10.0, 20.0]) * (1 + rng.uniform(-1e-4, 1e-4))
        n = int(min(t_hold / dt, 200000))
        t = np.arange(1, n + 1) * dt
        t_hold = t[-1]
        f = 50.0 + rng.uniform(-0.05, 0.05) + 0.01 * np.cumsum(rng.normal(0, 1, n)) / np.sqrt(n)
        phase = 2 * np.pi * np.cumsum(f * dt)
        amp = i_ss * (rng.uniform(0.05, 1.0) if base == "mains" else 10 ** rng.uniform(0, 1.3))
        i = i_ss + _decay(rng, t, i_ss, tau1, tau2) + amp * np.sin(phase + rng.uniform(0, 6.3))
        i += rng.normal(0, i_ss * 0.005, n)
        meta.update(mains_amp=amp / i_ss, dt=dt)
    elif base == "leak_grow":
        t, tau1, tau2 = _exp2_hold(rng, factor=(5, 20))
        n = t.size
        t_hold = t[-1]
        grow = rng.uniform(0.03, 0.4)
        if rng.random() < 0.5:
            shape = t / t_hold
        else:
            r = rng.uniform(2, 6)
            shape = np.expm1(r * t / t_hold) / np.expm1(r)
        # i_true is the electronic current at the end: base + grow * i_ss
        base0 = i_ss / (1 + grow)
        i = base0 * (1 + grow * shape) + _decay(rng, t, base0, tau1, tau2)
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        meta["grow"] = grow
    elif base == "sparse_log":
        t_dense, tau1, tau2 = _exp2_hold(rng, n_lo=50000, n_hi=200000)
        clean = i_ss + _decay(rng, t_dense, i_ss, tau1, tau2)
        y = clean + rng.normal(0, i_ss * rng.uniform(0.003, 0.03), t_dense.size)
        di = i_ss * 10 ** rng.uniform(-2, -0.5)
        dtmax = t_dense[-1] / rng.uniform(30, 1000)
        keep = [0]
        last_i, last_t = y[0], t_dense[0]
        for k in range(1, t_dense.size):
            if abs(y[k] - last_i) >= di or t_dense[k] - last_t >= dtmax:
                keep.append(k)
                last_i, last_t = y[k], t_dense[k]
        keep = np.array(keep)
        t, i = t_dense[keep], y[keep]
        meta.update(di_frac=di / i_ss, dtmax=dtmax)
    elif base in ("gaps", "pause_relax"):
        t, tau1, tau2 = _exp2_hold(rng)
        t_hold = t[-1]
        i = i_ss + _decay(rng, t, i_ss, tau1, tau2)
        keep = np.ones(t.size, bool)
        ng = int(rng.integers(1, 4))
        starts = np.sort(rng.uniform(0.05, 0.85, ng)) * t_hold
        for s0 in starts:
            w = rng.uniform(0.05, 0.3) * t_hold
            keep &= ~((t >= s0) & (t < s0 + w))
            if base == "pause_relax":
                after = t >= s0 + w
                tr = rng.uniform(0.3, 3) * tau1
                i = i + after * i_ss * 10 ** rng.uniform(0, 1.5) * np.exp(
                    -np.clip(t - (s0 + w), 0, None) / tr)
        keep[-1] = True
        i = i + rng.normal(0, i_ss * rng.uniform(0.003, 0.02), t.size)
        t, i = t[keep], i[keep]
    elif base in ("late_start", "late_start_abs"):
        # stoichiometric (sigma_i >> sigma_e) series + RC, logged from t_start
        tau_d = 10 ** rng.uniform(2.5, 4)
        t_hold = tau_d * (rng.uniform(0.5, 3) if base == "late_start" else rng.uniform(0.05, 0.3))
        t_start = rng.choice([30.0, 100.0, 300.0, 1000.0, 3000.0])
        t_start = min(t_start, 0.3 * t_hold)
        n = int(rng.integers(3000, 15000))
        t = np.linspace(t_start, t_hold, n)
        m = np.arange(1, 400)[:, None]
        ser = 1 + 2 * np.exp(-4 * m ** 2 * np.pi ** 2 * t[None, :] / tau_d).sum(0)
        i = i_ss * ser + i_ss * 10 ** rng.uniform(0, 2) * np.exp(-t / rng.uniform(1, 20))
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        meta.update(t_start=t_start, remaining=float(ser[-1] - 1), tau_d=tau_d)
        step_sample = False
    elif base in ("cvs_geom", "cvs_uniform"):
        # Curie-von Schweidler dielectric current I_ss + A t^-n (n 0.8-1.6), settled
        # (0.03-1 % of I_ss left at the end), log- or uniformly sampled
        n_exp = rng.uniform(0.8, 1.6)
        t_hold = 10 ** rng.uniform(3, 5)
        n = int(rng.integers(3000, 15000))
        if base == "cvs_geom":
            t = np.geomspace(t_hold * 10 ** rng.uniform(-5, -3), t_hold, n)
        else:
            t = np.arange(1, n + 1) * (t_hold / n)
        rem = 10 ** rng.uniform(-3.5, -2)
        amp = rem * i_ss * t_hold ** n_exp
        i = i_ss + amp * t ** -n_exp
        i += rng.normal(0, i_ss * rng.uniform(0.001, 0.01), n)
        meta.update(n_exp=n_exp, remaining=rem, geom=base == "cvs_geom")
    elif base in ("bpl_geom", "bpl_uniform"):
        # Jonscher "universal" response: a broken power law t^-n1 -> t^-(n2) at tc,
        # settled (0.03-1 % left); log- or uniformly sampled
        n1, n2 = rng.uniform(0.2, 0.7), rng.uniform(1.2, 2.0)
        t_hold = 10 ** rng.uniform(3, 5)
        tc = t_hold * 10 ** rng.uniform(-3, -1)
        n = int(rng.integers(3000, 15000))
        if base == "bpl_geom":
            t = np.geomspace(t_hold * 10 ** rng.uniform(-5, -3), t_hold, n)
        else:
            t = np.arange(1, n + 1) * (t_hold / n)
        shape = (t / tc) ** -n1 / (1 + (t / tc) ** (n2 - n1))
        rem = 10 ** rng.uniform(-3.5, -2)
        i = i_ss + rem * i_ss * shape / shape[-1]
        i += rng.normal(0, i_ss * rng.uniform(0.001, 0.01), n)
        meta.update(n1=n1, n2=n2, remaining=rem, geom=base == "bpl_geom")
    elif base == "hn_geom":
        # HN polarization current, log-spaced samples, low noise (precise early bins)
        tau0 = 10 ** rng.uniform(0.5, 2.5)
        alpha = rng.uniform(0.3, 0.9)
        beta = rng.uniform(0.3, 1.0)
        t_hold = tau0 * 10 ** rng.uniform(2, 4)
        n = int(rng.integers(3000, 15000))
        t = np.geomspace(t_hold * 10 ** rng.uniform(-5, -3), t_hold, n)
        shape = _phi(t, tau0, alpha, beta, deriv=True)
        amp = i_ss * 10 ** rng.uniform(0.3, 2) / shape[min(5, n - 1)]
        i = i_ss + amp * shape
        i += rng.normal(0, i_ss * rng.uniform(0.001, 0.01), n)
        meta.update(alpha=alpha, beta=beta, remaining=float(amp * shape[-1] / i_ss), geom=True)
    elif base in ("colecole", "hn_current"):
        tau0 = 10 ** rng.uniform(0.5, 2.5)
        alpha = rng.uniform(0.3, 0.9)
        beta = 1.0 if base == "colecole" else rng.uniform(0.3, 1.0)
        t_hold = tau0 * 10 ** rng.uniform(1.5, 4)
        n = int(rng.integers(3000, 15000))
        geom = rng.random() < 0.3
        t = np.geomspace(t_hold * 1e-4, t_hold, n) if geom else \
            np.arange(1, n + 1) * (t_hold / n)
        meta["geom"] = bool(geom)
        if base == "colecole":
            shape = _phi(t, tau0, alpha, beta)
            amp = i_ss * 10 ** rng.uniform(0.3, 2)
        else:
            shape = _phi(t, tau0, alpha, beta, deriv=True)
            amp = i_ss * 10 ** rng.uniform(0.3, 2) / shape[min(5, n - 1)]
        i = i_ss + amp * shape
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        meta.update(alpha=alpha, beta=beta, remaining=float(amp * shape[-1] / i_ss))
    elif base in ("logsample", "logsample_broad"):
        # log-spaced sample times (Gamry/EC-Lab logarithmic sampling), 10^-3..1 of the hold
        n = int(rng.integers(2000, 12000))
        if base == "logsample":
            tau1 = 10 ** rng.uniform(0.5, 1.5)
            tau2 = tau1 * 10 ** rng.uniform(0.5, 1.2)
            t_hold = tau2 * rng.uniform(10, 20)
            t = np.geomspace(t_hold * 10 ** rng.uniform(-4, -2), t_hold, n)
            i = i_ss + _decay(rng, t, i_ss, tau1, tau2)
        else:
            tau_m = 10 ** rng.uniform(1, 2.5)
            width = rng.uniform(0.3, 1.0)
            t_hold = tau_m * 10 ** rng.uniform(1.5, 2.5)
            t = np.geomspace(t_hold * 10 ** rng.uniform(-4, -2), t_hold, n)
            z = np.linspace(-4, 4, 300)
            w = np.exp(-0.5 * z ** 2)
            w /= w.sum()
            taus = tau_m * np.exp(width * np.log(10) * z)
            shape = (w[:, None] * np.exp(-t[None, :] / taus[:, None])).sum(0)
            i = i_ss + i_ss * 10 ** rng.uniform(0.5, 2) * shape
            meta["remaining"] = float(i_ss * 0 + (i[-1] - i_ss) / i_ss)
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        meta["geom"] = True
    elif base == "two_stage":
        tau1 = 10 ** rng.uniform(0.5, 1.5)
        plateau = rng.uniform(1, 4) * i_ss
        t1 = tau1 * rng.uniform(10, 50)  # second stage begins
        tau2 = t1 * rng.uniform(0.1, 0.5)
        t_hold = t1 + tau2 * rng.uniform(10, 20)
        n = int(rng.integers(3000, 15000))
        t = np.arange(1, n + 1) * (t_hold / n)
        i = i_ss + i_ss * 10 ** rng.uniform(0.5, 2) * np.exp(-t / tau1)
        sig = 1 / (1 + np.exp(-(t - t1) / (0.3 * tau2)))
        i += plateau * (1 - sig * (1 - np.exp(-np.clip(t - t1, 0, None) / tau2)))
        i -= plateau * sig * 0  # keep
        # at t >> t1 the plateau term -> plateau*(1 - 1*(1-0)) = 0
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        meta.update(remaining=float((i[-1] - i_ss) / i_ss))
    elif base in ("glitch_neg", "glitch_pos", "dropout_rare", "dropout_tail"):
        t, tau1, tau2 = _exp2_hold(rng)
        n = t.size
        i = i_ss + _decay(rng, t, i_ss, tau1, tau2)
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        if base in ("glitch_neg", "glitch_pos"):
            # one-sided glitches (ESD, a relay, range-switch transients): 3-50 x I_ss
            frac = 10 ** rng.uniform(-3.5, -2.3)
            idx = np.flatnonzero(rng.random(n) < frac)
            idx = idx[idx > 10]
            sgn = -1 if base == "glitch_neg" else 1
            i[idx] += sgn * i_ss * 10 ** rng.uniform(0.5, 1.7, idx.size)
            meta.update(n_glitch=int(idx.size), glitch_frac=float(idx.size / n))
        elif base == "dropout_rare":
            frac = 10 ** rng.uniform(-3, -2)
            idx = rng.random(n) < frac
            idx[:10] = False
            i[idx] = 0.0
            meta["dropout"] = float(idx.mean())
        else:
            # dropouts only in the last 30 % (a loose cable late in a long hold)
            frac = rng.uniform(0.005, 0.03)
            idx = (rng.random(n) < frac) & (t > 0.7 * t[-1])
            i[idx] = 0.0
            meta["dropout"] = float(idx.mean())
    elif base in ("glitch", "dropout"):
        t, tau1, tau2 = _exp2_hold(rng)
        n = t.size
        i = i_ss + _decay(rng, t, i_ss, tau1, tau2)
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        if base == "glitch":
            k = max(1, int(n * 10 ** rng.uniform(-4, np.log10(0.005))))
            idx = rng.choice(np.arange(10, n), k, replace=False)
            i[idx] += i_ss * 10 ** rng.uniform(1, 3, k) * rng.choice([-1, 1], k)
            meta["n_glitch"] = k
        else:
            frac = rng.uniform(0.01, 0.05)
            idx = rng.random(n) < frac
            idx[:10] = False
            i[idx] = 0.0
            meta["dropout"] = frac
    elif base in ("approach_below", "approach_below_settled"):
        tau1 = 10 ** rng.uniform(0.5, 1.5)
        tau2 = tau1 * 10 ** rng.uniform(0.5, 1.2)
        if base == "approach_below_settled":
            t_hold = tau2 * rng.uniform(12, 25)
        else:
            t_hold = tau2 * rng.uniform(2, 6)
        n = int(rng.integers(3000, 15000))
        t = np.arange(1, n + 1) * (t_hold / n)
        a1 = i_ss * 10 ** rng.uniform(-0.5, 1.5)
        a2 = i_ss * 10 ** rng.uniform(-1, 0.5)
        i = i_ss - a1 * np.exp(-t / tau1) - a2 * np.exp(-t / tau2)
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        meta.update(a1=a1 / i_ss, a2=a2 / i_ss,
                    remaining=float(-a2 * np.exp(-t_hold / tau2) / i_ss))
    elif base == "time_rounded":
        t_hold = 10 ** rng.uniform(2.5, 4)
        dt = rng.uniform(0.1, 0.5)
        t = np.arange(1, int(t_hold / dt)) * dt
        tau1 = t_hold / rng.uniform(50, 200)
        tau2 = tau1 * 10 ** rng.uniform(0.5, 1)
        i = i_ss + _decay(rng, t, i_ss, tau1, tau2)
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), t.size)
        t = np.floor(t)
    elif base == "sigfig":
        t, tau1, tau2 = _exp2_hold(rng)
        i = i_ss + _decay(rng, t, i_ss, tau1, tau2)
        i += rng.normal(0, i_ss * rng.uniform(0.0005, 0.01), t.size)
        digits = int(rng.choice([2, 3]))
        i = np.array([float(f"{x:.{digits}g}") for x in i])
        meta["digits"] = digits
    elif base == "huge":
        n = int(rng.integers(2_000_000, 5_000_000)) if seed % 10 != 9 else 10_000_000
        tau1 = 10 ** rng.uniform(0.5, 1.5)
        tau2 = tau1 * 10 ** rng.uniform(0.5, 1.2)
        t_hold = tau2 * rng.uniform(10, 20)
        t = np.arange(1, n + 1) * (t_hold / n)
        i = i_ss + _decay(rng, t, i_ss, tau1, tau2)
        i += rng.normal(0, i_ss * rng.uniform(0.01, 0.1), n)
    elif base == "negative_v":
        t, tau1, tau2 = _exp2_hold(rng)
        n = t.size
        # an early opposite-sign excursion (previous polarization relaxing) + the decay
        i = i_ss + _decay(rng, t, i_ss, tau1, tau2) \
            - i_ss * 10 ** rng.uniform(0.5, 2) * np.exp(-t / (tau1 * rng.uniform(2, 5)))
        i += rng.normal(0, i_ss * rng.uniform(0.003, 0.02), n)
        i = -i
        meta["voltage_v"] = -v
        meta["i_true"] = -i_ss
    else:
        raise KeyError(family)
    if step_sample:
        t = np.concatenate([[0.0], t])
        i = np.concatenate([[i[0] * 3], i])
        if "range_a" in meta:
            meta["range_a"] = np.concatenate([[meta["range_a"][0]], meta["range_a"]])
    meta["n"] = int(t.size)
    return t, i, meta


def to_measurement(t, i, meta):
    import pandas as pd

    from sescreen.io.measurement import Measurement, Technique
    v = float(meta["voltage_v"])
    cols = {"time_s": np.asarray(t, float), "current_a": np.asarray(i, float),
            "control_v": np.full(len(t), v)}
    if "range_a" in meta:
        cols["current_range_a"] = np.asarray(meta["range_a"], float)
    data = pd.DataFrame(cols)
    return Measurement(data=data, format="synthetic", technique=Technique.CONSTANT_VOLTAGE,
                       technique_name="break hold", applied_voltage_v=v,
                       area_cm2=float(meta["area_cm2"]), temperature_k=298.15,
                       source=f"break:{meta['family']}:{meta['seed']}")
