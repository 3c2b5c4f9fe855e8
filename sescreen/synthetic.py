"""Synthetic records with known truth, for tests, benchmarks and examples.

- :func:`dcpol_record`: a DC-polarization hold, the transient of a chosen model
  (:mod:`sescreen.transients`) sampled at a constant interval, with Gaussian white noise of
  a stated size.
- :func:`step_record`: a step-current cycling record (CCD staircase) with a short, a contact
  loss or neither at a stated step (model below).

Each is wrapped in a :class:`~sescreen.io.Measurement` as a reader would return it.

Step-current records
--------------------
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

from sescreen.constants import FARADAY, GAS_CONSTANT
from sescreen.io.measurement import ColumnInfo, Measurement, Technique
from sescreen.transients import MODELS

__all__ = ["dcpol_record", "i_ss_for", "step_record"]


def i_ss_for(sigma_e_s_cm: float, voltage_v: float, thickness_cm: float,
             area_cm2: float) -> float:
    """Steady-state current (A) that a conductivity gives, METHODS eq. (1) inverted."""
    return sigma_e_s_cm * voltage_v * area_cm2 / thickness_cm


def dcpol_record(
    model: str,
    params: dict[str, float],
    *,
    hold_s: float,
    dt_s: float,
    noise_a: float,
    rng: np.random.Generator,
    voltage_v: float = 0.1,
    area_cm2: float = 1.0,
    temperature_k: float | None = None,
    spike_a: float | None = None,
    name: str = "synthetic",
) -> Measurement:
    """A constant-voltage hold sampled every ``dt_s`` from 0 to ``hold_s``.

    Parameters
    ----------
    model : str
        Name in :data:`sescreen.transients.MODELS`.
    params : dict
        The model's parameters (currents in A, times in s).
    hold_s, dt_s : float
        Hold duration and sampling interval, s.
    noise_a : float
        Standard deviation of the Gaussian noise, A.
    rng : numpy Generator
        Source of the noise (seeded by the caller).
    voltage_v, area_cm2, temperature_k : float
        Metadata of the record.
    spike_a : float, optional
        Current of the first sample (the charging spike at the step); default: the
        model's value there.
    name : str
        Shown as the source.
    """
    func, _ = MODELS[model]
    t = np.arange(0.0, hold_s + dt_s / 2, dt_s)
    t_eval = np.where(t > 0, t, dt_s * 1e-3)
    current = func(t_eval, **params) + rng.normal(0.0, noise_a, t.size)
    if spike_a is not None:
        current[0] = spike_a
    data = pd.DataFrame({"time_s": t, "current_a": current,
                         "control_v": np.full(t.size, voltage_v)})
    return Measurement(
        data=data, format="synthetic", technique=Technique.CONSTANT_VOLTAGE,
        technique_name="synthetic constant-voltage hold", applied_voltage_v=voltage_v,
        area_cm2=area_cm2, temperature_k=temperature_k, source=name,
        columns=[ColumnInfo("time_s", "time_s", "s"), ColumnInfo("current_a", "current_a", "A"),
                 ColumnInfo("control_v", "control_v", "V")])


def step_record(rng, *, protocol="symmetric", densities=(0.05, 0.1, 0.2, 0.4, 0.8),
                step_s=600.0, half_s=150.0, rest_s=0.0, dt_s=2.0, area_cm2=1.0,
                asr_ohm_cm2=200.0, j0_ma_cm2=0.5, tau_dl_s=3.0, rise=0.1, drift=0.0,
                noise_v=2e-4, glitch_rate=0.0, quant_v=0.0, ocv_v=2.5, nucleation=0.3,
                short_step=None, short_frac=0.5, short_kind="hard", r_short=0.03,
                contact_step=None, contact_frac=0.5, compliance_v=5.0,
                steps_after=1, setpoint=True, temperature_k=298.15, name="synthetic"):
    """A step-current cycling record (the model of the module docstring) and its truth.

    Parameters
    ----------
    rng : numpy Generator
        Source of the noise, dips and glitches (seeded by the caller).
    protocol : {"symmetric", "plating"}
        Li|SE|Li half-cycles +j, -j (``half_s`` each) or Li|SE|Cu plating, one direction.
    densities : sequence of float
        |j| of each step, mA/cm^2.
    step_s, half_s, rest_s, dt_s : float
        Step, half-cycle and rest (before each step) durations, sampling interval, s.
    area_cm2 : float
        Electrode area, cm^2.
    asr_ohm_cm2, j0_ma_cm2, tau_dl_s, rise, drift : float
        Ohmic ASR (ohm cm^2), exchange current density (mA/cm^2), double-layer time (s),
        relative rise within a half-cycle, relative ASR change per step.
    noise_v, glitch_rate, quant_v : float
        Gaussian noise (V), fraction of points with a glitch, voltage quantum (V).
    ocv_v, nucleation : float
        Open-circuit voltage of the Cu (V) and the relative nucleation overshoot (plating).
    short_step, short_frac, short_kind, r_short
        Step index, fraction of it at which the short starts, ``hard`` | ``soft`` |
        ``soft_then_hard``, short resistance relative to the cell's.
    contact_step, contact_frac, compliance_v
        Step index and fraction of a contact loss; compliance voltage, V.
    steps_after : int
        Steps recorded after the event.
    setpoint : bool
        Write the set-point current as ``control_a``.
    temperature_k : float
        Temperature of the Butler-Volmer term and the metadata, K.

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
            ct = 2 * GAS_CONSTANT * temperature_k / FARADAY * np.arcsinh(j / (2 * j0_ma_cm2))
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
