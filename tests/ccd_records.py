"""Step-current cycling records with known truth, for the CCD tests and benchmark.

Written independently of the detector (numpy only; it shares no code with
:mod:`sescreen.cycling`). The cell is Li | SE | Li (``symmetric``: half-cycles +j, -j) or
Li | SE | Cu (``plating``: one direction, the Cu starting at an open-circuit voltage and
reaching the Li potential once Li nucleates). The polarization at current density j
(mA/cm^2) in step k is

    p = j 1e-3 ASR_k  +  (2RT/F) asinh(j / 2 j0) (1 - 2 exp(-tau / tau_dl))  +  rise

(ohmic + Butler-Volmer charge transfer, its double layer recharging after each reversal
(1 - exp for plating) + an ordinary rise within the half-cycle, ``rise`` of p at its end, as
voids form), ASR_k = ASR_0 (1 + drift)^k (drift < 0: a contact that improves), V = sign(I) p.
Failures, at a stated step and fraction of it:

``hard``           an electronic path R_s in parallel: p -> p R_s / (R_s + R_cell), kept
``soft``           dips of p towards 0 (depth 30-90 %, 1-3 points) and 3x the noise, kept
``soft_then_hard`` soft at the step, hard early in the next
contact loss       p grows as exp((t - t_c) / tau_c) and reaches the compliance voltage
                   before the step ends; there the current can no longer be held, and the
                   record ends 20 points later

Noise: Gaussian, rare symmetric glitches, optional quantization of V.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sescreen.io.measurement import ColumnInfo, Measurement, Technique

F_OVER_RT = 96485.33212 / (8.314462618 * 298.15)


def step_record(rng, *, protocol="symmetric", densities=(0.05, 0.1, 0.2, 0.4, 0.8),
                step_s=600.0, half_s=150.0, rest_s=0.0, dt_s=2.0, area_cm2=1.0,
                asr_ohm_cm2=200.0, j0_ma_cm2=0.5, tau_dl_s=3.0, rise=0.1, drift=0.0,
                noise_v=2e-4, glitch_rate=0.0, quant_v=0.0, ocv_v=2.5, nucleation=0.3,
                short_step=None, short_frac=0.5, short_kind="hard", r_short=0.03,
                contact_step=None, contact_frac=0.5, compliance_v=5.0,
                steps_after=1, setpoint=True, temperature_k=298.15, name="synthetic"):
    """One record and its truth.

    Returns
    -------
    (Measurement, dict)
        truth keys: ``failed_step`` and ``failed_at_ma_cm2`` (None without a short),
        ``contact_step``, ``densities``.
    """
    densities = list(densities)
    last = len(densities) - 1
    for event in (short_step, contact_step):
        if event is not None:
            last = min(last, event + steps_after + (short_kind == "soft_then_hard"))
    t_list, i_list, p_list, k_list, tau_list = [], [], [], [], []
    t0 = 0.0
    for k, j in enumerate(densities[:last + 1]):
        if rest_s > 0:
            n = int(rest_s / dt_s)
            t_list.append(t0 + dt_s * np.arange(n))
            i_list.append(np.zeros(n))
            p_list.append(np.full(n, np.nan))
            k_list.append(np.full(n, k))
            tau_list.append(np.zeros(n))
            t0 += n * dt_s
        length = half_s if protocol == "symmetric" else step_s
        for h in range(round(step_s / length)):
            n = int(length / dt_s)
            tau = dt_s * (np.arange(n) + 1)
            sign = (1.0 if h % 2 == 0 else -1.0) if protocol == "symmetric" else -1.0
            asr = asr_ohm_cm2 * (1 + drift) ** k
            ct = 2 / F_OVER_RT * np.arcsinh(j / (2 * j0_ma_cm2))
            recharge = 1 - (2 if protocol == "symmetric" else 1) * np.exp(-tau / tau_dl_s)
            p = j * 1e-3 * asr + ct * recharge
            p = p + rise * p[-1] * tau / tau[-1]
            t_list.append(t0 + tau - dt_s)
            i_list.append(np.full(n, sign * j * 1e-3 * area_cm2))
            p_list.append(p)
            k_list.append(np.full(n, k))
            tau_list.append(tau + (k * step_s if protocol == "plating" else 0.0))
            t0 += n * dt_s
    t = np.concatenate(t_list)
    i_set = np.concatenate(i_list)
    p = np.concatenate(p_list)
    step_of = np.concatenate(k_list)
    tau_all = np.concatenate(tau_list)
    noise = np.full(t.size, noise_v)

    def at(step, frac):
        idx = np.flatnonzero((step_of == step) & (i_set != 0))
        return t[idx[0]] + frac * (t[idx[-1]] - t[idx[0]])

    if short_step is not None:
        t_s = at(short_step, short_frac)
        hard_t = t_s if short_kind == "hard" else None
        if short_kind != "hard":
            on = t >= t_s
            noise[on] *= 3
            dips = on & (rng.random(t.size) < rng.uniform(0.08, 0.2))
            for w in range(int(rng.integers(1, 4))):
                idx = np.flatnonzero(dips) + w
                idx = idx[idx < t.size]
                p[idx] *= 1 - rng.uniform(0.3, 0.9, idx.size)
        if short_kind == "soft_then_hard" and short_step + 1 < len(densities):
            hard_t = at(short_step + 1, rng.uniform(0.1, 0.4))
        if hard_t is not None:
            p[t >= hard_t] *= r_short / (1 + r_short)
    current = i_set.copy()
    end = t.size
    if contact_step is not None:
        t_c = at(contact_step, contact_frac)
        in_step = np.flatnonzero((step_of == contact_step) & (i_set != 0))
        p_c = max(abs(p[np.searchsorted(t, t_c)]), 1e-4)
        tau_c = (t[in_step[-1]] - t_c) / (1.3 * np.log(compliance_v / p_c))  # at compliance
        grow = np.exp(np.clip((t - t_c) / tau_c, 0, 50))
        p = np.where(t >= t_c, p * grow, p)
        over = (np.abs(p) > compliance_v) & (i_set != 0)
        current = np.where(over, i_set * compliance_v / np.where(over, p, 1.0), i_set)
        p = np.where(over, compliance_v, p)
        if over.any():
            end = min(t.size, np.flatnonzero(over)[0] + 20)
    v = np.sign(i_set) * p
    rest = i_set == 0
    v[rest] = 0.0 if protocol == "symmetric" else np.where(step_of[rest] == 0, ocv_v, 0.0)
    if protocol == "plating":  # open circuit of Cu, then Li nucleation (overshoot) and growth
        first = (step_of == 0) & ~rest
        tau = tau_all[first]
        nuc = 1 - np.exp(-tau / 20.0)
        v[first] = ocv_v * (1 - nuc) + v[first] * nuc * (1 + nucleation * np.exp(-tau / 60.0))
    v = v + rng.normal(0.0, 1.0, t.size) * noise
    if glitch_rate > 0:
        g = rng.random(t.size) < glitch_rate
        v[g] += rng.choice([-1.0, 1.0], g.sum()) * rng.uniform(5, 20, g.sum()) * noise_v
    if quant_v > 0:
        v = np.round(v / quant_v) * quant_v
    current = current * (1 + rng.normal(0, 1e-4, t.size))
    data = {"time_s": t[:end], "current_a": current[:end], "voltage_v": v[:end]}
    if setpoint:
        data["control_a"] = i_set[:end]
    m = Measurement(data=pd.DataFrame(data), format="synthetic",
                    technique=Technique.CONSTANT_CURRENT, technique_name="synthetic CCD staircase",
                    area_cm2=area_cm2, temperature_k=temperature_k, source=name,
                    columns=[ColumnInfo(c, c, None) for c in data])
    failed = short_step
    truth = {"failed_step": failed,
             "failed_at_ma_cm2": None if failed is None else densities[failed],
             "contact_step": contact_step, "densities": densities}
    return m, truth


def random_case(rng, kind: str, *, protocol: str | None = None):
    """A record drawn from wide ranges of cell and protocol, of one ``kind``:
    ``healthy``, ``hard``, ``soft``, ``soft_then_hard`` or ``contact``."""
    protocol = protocol or rng.choice(["symmetric", "plating"])
    n_steps = int(rng.integers(4, 9))
    j_first = 10 ** rng.uniform(-2, -0.7)
    factor = rng.choice([1.25, 1.5, 2.0])
    arithmetic = rng.random() < 0.4
    densities = (j_first * (1 + np.arange(n_steps)) if arithmetic
                 else j_first * factor ** np.arange(n_steps))
    asr = min(10 ** rng.uniform(1, 3), 1e3 / densities[-1])  # 10-1000 ohm cm2, p < ~1 V
    p_first = densities[0] * 1e-3 * asr
    kw = dict(protocol=str(protocol), densities=np.round(densities, 5).tolist(),
              step_s=float(rng.choice([300.0, 600.0, 1200.0])),
              dt_s=float(rng.choice([1.0, 2.0, 5.0])),
              asr_ohm_cm2=asr, j0_ma_cm2=10 ** rng.uniform(-1.3, 0.5),
              rise=rng.uniform(0, 0.5), drift=rng.uniform(-0.15, 0.2),
              noise_v=max(p_first, 1e-3) * 10 ** rng.uniform(-3, -1.5),
              glitch_rate=rng.choice([0.0, 0.002]), rest_s=float(rng.choice([0.0, 60.0])),
              nucleation=rng.uniform(0, 0.5), setpoint=bool(rng.random() < 0.7))
    kw["half_s"] = kw["step_s"] / float(rng.choice([2, 4]))
    if kind != "healthy":
        k = int(rng.integers(1, n_steps - (kind == "soft_then_hard")))
        kw.update(steps_after=int(rng.integers(0, 3)))
        if kind == "contact":
            kw.update(contact_step=k, contact_frac=rng.uniform(0.2, 0.8))
        else:
            kw.update(short_step=k, short_kind=kind, short_frac=rng.uniform(0.05, 0.9),
                      r_short=10 ** rng.uniform(-2.5, -1))
    return step_record(rng, **kw)
