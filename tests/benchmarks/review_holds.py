"""Independent synthetic DC-polarization holds with known truth: the generator of the
review of 2026-12-01 (a helper session that had not written the estimator), kept as a
second benchmark beside :mod:`realistic_holds`.

Every case: ``make(family, seed) -> (t, i, meta)`` with ``meta['i_true']`` (A, >= 0),
``meta['sigma_true']`` (S/cm), ``meta['thr']`` (the threshold it is drawn around),
voltage and area; L = 0.1 cm. Families: continuous relaxation-time distributions
(log-normal, stretched with a slow part), t^-0.3/-0.5 tails cut off late, drift and slow
sinusoids, heavy-tailed / AR(1) / random-walk noise, quantization, sampling changes,
50-200-point holds, sign-flipped, a 10^4 x I_ss charging spike, a rising end, flat,
pure-noise, buried in noise and 10^6-point records; ``*_edge``: truth 1.0005-1.01 x the
threshold (where a 95 % interval falsely passes up to ~2.5 % of the time).
"""
import zlib

import numpy as np

L_CM = 0.1
FAMILIES = ["lognorm_cont", "power_cut", "drift_sine", "heavy_noise", "quant",
            "dt_change", "short", "negative", "spike", "rising", "flat", "noise_only",
            "kww_cont", "long", "buried"]


def _truth(rng, edge=False):
    thr = 1e-10 if rng.random() < 0.5 else 1e-12
    u = rng.random()
    if edge:  # just above the threshold: a PASS here is a false PASS
        f = rng.uniform(1.0005, 1.01)
    elif u < 0.8:  # within a factor 1.05..2.5 either side
        f = np.exp(rng.uniform(np.log(1.05), np.log(2.5))) ** rng.choice([-1, 1])
    else:
        f = 10 ** rng.uniform(-1, 1)
    v = rng.uniform(0.05, 0.5)
    a = rng.uniform(0.5, 2.0)
    sigma = thr * f
    i_ss = sigma * v * a / L_CM
    return thr, sigma, i_ss, v, a


def _uniform_t(rng, t_hold, n):
    dt = t_hold / n
    return np.arange(1, n + 1) * dt


def _lognormal_decay(t, tau_m, width_dec, n_q=400):
    """Continuous log-normal distribution of time constants, normalized to 1 at t=0."""
    s = width_dec * np.log(10)
    z = np.linspace(-4, 4, n_q)
    w = np.exp(-0.5 * z**2)
    w /= w.sum()
    taus = tau_m * np.exp(s * z)
    out = np.zeros_like(t)
    for wk, tk in zip(w, taus, strict=True):
        out += wk * np.exp(-t / tk)
    return out


def _white(rng, n, sd):
    return rng.normal(0, sd, n)


def make(family, seed):
    edge = family.endswith("_edge")
    rng = np.random.default_rng([zlib.crc32(family.encode()), seed])
    thr, sigma, i_ss, v, a = _truth(rng, edge)
    family = family.replace("_edge", "")
    meta = dict(family=family + ("_edge" if edge else ""), seed=seed, thr=thr, sigma_true=sigma,
                i_true=i_ss, voltage_v=v, area_cm2=a)
    if family == "lognorm_cont":
        tau_m = 10 ** rng.uniform(1, 3)
        width = rng.uniform(0.3, 1.2)
        t_hold = tau_m * 10 ** rng.uniform(0.7, 2.5)
        n = int(rng.integers(3000, 15000))
        t = _uniform_t(rng, t_hold, n)
        amp = i_ss * 10 ** rng.uniform(0, 2)
        i = i_ss + amp * _lognormal_decay(t, tau_m, width)
        i += _white(rng, n, i_ss * rng.uniform(0.003, 0.03))
        meta["remaining"] = float((i[-1] - i_ss) / i_ss)
    elif family == "kww_cont":
        # a stretched exponential's tail with an extra slow log-normal component
        tau = 10 ** rng.uniform(1, 2.5)
        beta = rng.uniform(0.25, 0.7)
        t_hold = tau * 10 ** rng.uniform(1.0, 3.0)
        n = int(rng.integers(3000, 15000))
        t = _uniform_t(rng, t_hold, n)
        amp = i_ss * 10 ** rng.uniform(0.5, 2)
        i = i_ss + amp * np.exp(-(t / tau) ** beta) \
            + 0.05 * amp * _lognormal_decay(t, tau * 20, 0.5)
        i += _white(rng, n, i_ss * rng.uniform(0.003, 0.03))
    elif family == "power_cut":
        p = rng.choice([0.5, 0.3])
        t_hold = 10 ** rng.uniform(3, 5)
        n = int(rng.integers(3000, 15000))
        t = _uniform_t(rng, t_hold, n)
        t0 = t_hold * 1e-3
        tc = t_hold * rng.uniform(0.3, 3.0)
        rem = 10 ** rng.uniform(-2, np.log10(0.3))
        shape = (t + t0) ** (-p) * np.exp(-t / tc)
        amp = rem * i_ss / shape[-1]
        i = i_ss + amp * shape + 5 * i_ss * np.exp(-t / (t_hold * 1e-3))
        i += _white(rng, n, i_ss * rng.uniform(0.003, 0.03))
        meta["remaining"] = float(rem)
    elif family == "drift_sine":
        tau = 10 ** rng.uniform(1, 2.5)
        t_hold = tau * rng.uniform(15, 40)
        n = int(rng.integers(3000, 15000))
        t = _uniform_t(rng, t_hold, n)
        taus = tau * 10 ** rng.uniform(-1, 0, 30)
        amps = rng.uniform(0, 1, 30)
        amps *= i_ss * 10 ** rng.uniform(0.5, 1.5) / amps.sum()
        i = i_ss + (amps[:, None] * np.exp(-t[None, :] / taus[:, None])).sum(0)
        per = t_hold * rng.uniform(0.2, 2.0)
        i += i_ss * rng.uniform(0.005, 0.05) * np.sin(2 * np.pi * t / per + rng.uniform(0, 6.3))
        if rng.random() < 0.5:
            i += i_ss * rng.uniform(-0.03, 0.03) * t / t_hold
        i += _white(rng, n, i_ss * rng.uniform(0.003, 0.02))
    elif family in ("heavy_noise", "quant", "dt_change", "short", "negative", "spike",
                    "rising", "long"):
        tau1 = 10 ** rng.uniform(0.5, 1.5)
        tau2 = tau1 * 10 ** rng.uniform(0.5, 1.5)
        t_hold = tau2 * rng.uniform(5, 20)
        if family == "short":
            n = int(rng.integers(50, 201))
        elif family == "long":
            n = 1_000_000
        else:
            n = int(rng.integers(3000, 15000))
        if family == "dt_change":
            # 3-5 segments with very different sampling intervals, jittered
            edges = np.sort(rng.uniform(0, t_hold, int(rng.integers(2, 5))))
            edges = np.concatenate([[0], edges, [t_hold]])
            parts = []
            for k in range(len(edges) - 1):
                dt = (t_hold / n) * 10 ** rng.uniform(-1, 1.3)
                seg = np.arange(edges[k] + dt, edges[k + 1], dt)
                seg = seg + rng.uniform(-0.2, 0.2, seg.size) * dt
                parts.append(seg)
            t = np.unique(np.sort(np.concatenate(parts)))
            t = t[t > 0]
            n = t.size
        else:
            t = _uniform_t(rng, t_hold, n)
        a1 = i_ss * 10 ** rng.uniform(0.5, 2)
        a2 = i_ss * 10 ** rng.uniform(0, 1)
        i = i_ss + a1 * np.exp(-t / tau1) + a2 * np.exp(-t / tau2)
        meta.update(a1=a1, tau1=tau1, a2=a2, tau2=tau2)
        sd = i_ss * rng.uniform(0.003, 0.03)
        if family == "heavy_noise":
            kind = rng.choice(["student", "ar1", "walk"])
            meta["noise"] = str(kind)
            if kind == "student":
                i += sd * rng.standard_t(rng.uniform(1.5, 3.0), n)
            elif kind == "ar1":
                rho = rng.uniform(0.99, 0.999)
                e = rng.normal(0, sd * np.sqrt(1 - rho**2), n)
                x = np.empty(n)
                x[0] = rng.normal(0, sd)
                for k in range(1, n):
                    x[k] = rho * x[k - 1] + e[k]
                i += x
            else:
                w = np.cumsum(rng.normal(0, 1, n))
                w *= sd / max(np.std(w), 1e-300)
                i += w + _white(rng, n, sd * 0.3)
        else:
            i += _white(rng, n, sd)
        if family == "quant":
            q = i_ss * rng.uniform(0.01, 0.3)
            meta["q_frac"] = q / i_ss
            i = np.round(i / q) * q
        if family == "negative":
            i = -i
            if rng.random() < 0.5:
                meta["voltage_v"] = -v
        if family == "spike":
            tsp = t[0] * rng.uniform(0.5, 3)
            i = i + 1e4 * i_ss * np.exp(-(t - t[0]) / tsp)
            meta.update(a_sp=1e4 * i_ss * np.exp(t[0] / tsp), tau_sp=tsp)
        if family == "rising":
            t_on = t_hold * rng.uniform(0.5, 0.85)
            i = i + i_ss * rng.uniform(0.05, 0.5) * np.clip((t - t_on) / (t_hold - t_on), 0, None)
    elif family == "buried":
        # a decay whose steady state is buried in noise 1-30x I_ss (sometimes stopped)
        tau = 10 ** rng.uniform(1, 2.5)
        t_hold = tau * 10 ** rng.uniform(0.3, 1.5)
        n = int(rng.integers(2000, 15000))
        t = _uniform_t(rng, t_hold, n)
        amp = i_ss * 10 ** rng.uniform(0.5, 2)  # (drawn before the width, as in the review)
        i = i_ss + amp * _lognormal_decay(t, tau, rng.uniform(0.1, 0.8))
        i += _white(rng, n, i_ss * 10 ** rng.uniform(0, 1.5))
    elif family == "flat":
        t_hold = 10 ** rng.uniform(2, 4.5)
        n = int(rng.integers(500, 10000))
        t = _uniform_t(rng, t_hold, n)
        i = i_ss + _white(rng, n, i_ss * rng.uniform(0.003, 0.1))
    elif family == "noise_only":
        t_hold = 10 ** rng.uniform(2, 4.5)
        n = int(rng.integers(500, 10000))
        t = _uniform_t(rng, t_hold, n)
        i = _white(rng, n, i_ss)
        meta["i_true"] = 0.0
        meta["sigma_true"] = 0.0
    else:
        raise KeyError(family)
    t = np.concatenate([[0.0], t])
    i = np.concatenate([[i[0] * 3], i])  # the step sample
    meta["n"] = int(t.size)
    return t, i, meta


def to_measurement(t, i, meta):
    import pandas as pd

    from sescreen.io.measurement import Measurement, Technique
    v = float(meta["voltage_v"])
    data = pd.DataFrame({"time_s": np.asarray(t, float), "current_a": np.asarray(i, float),
                         "control_v": np.full(len(t), v)})
    return Measurement(data=data, format="synthetic", technique=Technique.CONSTANT_VOLTAGE,
                       technique_name="review hold", applied_voltage_v=v,
                       area_cm2=float(meta["area_cm2"]), temperature_k=298.15,
                       source=f"review:{meta['family']}:{meta['seed']}")
