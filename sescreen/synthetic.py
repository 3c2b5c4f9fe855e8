"""Synthetic DC-polarization records with known truth, for tests, benchmarks and examples.

A record is the transient of a chosen model (:mod:`sescreen.transients`) sampled at a
constant interval, with Gaussian white noise of a stated size, wrapped in a
:class:`~sescreen.io.Measurement` as a reader would return it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sescreen.io.measurement import ColumnInfo, Measurement, Technique
from sescreen.transients import MODELS

__all__ = ["dcpol_record", "i_ss_for"]


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
