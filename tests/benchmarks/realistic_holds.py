"""Realistic synthetic DC-polarization holds with known truth, written independently of sescreen.

This generator deliberately does *not* use :mod:`sescreen.transients` or
:mod:`sescreen.synthetic`: every decay shape and noise process is written here from scratch
with numpy, so that an estimator built around "a constant plus 1-3 exponentials with white
Gaussian noise" is judged on data that does not look like its own models (METHODS.md
sections 1 and 6).

Every hold is a constant-voltage step at ``t = 0`` on a cell of thickness
:data:`THICKNESS_CM` with a random electrode area (0.5-2 cm^2) and voltage (0.05-0.5 V), so

    I_ss_true = sigma_e_true * V * A / L.

The ground truth ``settled`` is True when the remaining (noise-free) transient at the end of
the hold is at most :data:`SETTLED_FRACTION` of I_ss and there is no drift; a daily
temperature cycle is not a failure to settle.

Public API
----------
REGIMES : dict
    Ordered mapping regime name -> one-line description.
make_hold(regime, rng, *, sigma_e_true)
    One hold: ``(t_s, current_a, meta)``.
to_measurement(t, i, meta)
    The hold as a :class:`sescreen.io.measurement.Measurement`, like a reader returns it.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

__all__ = [
    "K_B_EV",
    "REGIMES",
    "SETTLED_FRACTION",
    "THICKNESS_CM",
    "make_hold",
    "stoich_series",
    "to_measurement",
]

#: Electrolyte thickness of every generated cell, cm.
THICKNESS_CM = 0.1
#: Remaining transient (fraction of I_ss) at or below which a hold counts as settled.
SETTLED_FRACTION = 0.01
#: Boltzmann constant, eV/K (CODATA).
K_B_EV = 8.617333262e-5
#: Nominal cell temperature stored with every hold (the temperature-cycle mean), K.
T_NOMINAL_K = 298.15
_DAY_S = 86400.0

REGIMES: OrderedDict[str, str] = OrderedDict([
    ("plain_exp2_settled",
     "I_ss + 2 exponentials, hold 10-15x the slowest tau, white noise 0.3-3 % of I_ss"),
    ("plain_exp2_stopped",
     "I_ss + 2 exponentials stopped at 1.5-3x the slowest tau, white noise 0.3-3 %"),
    ("broad_tau_settled",
     "30-200 exponentials, log-normal/log-uniform taus over 2-3 decades, hold 10-15x max tau"),
    ("broad_tau_stopped",
     "30-200 exponentials over 2-3 decades, stopped when 3-30 % of I_ss remains"),
    ("sqrt_tail",
     "I_ss + A (t + t0)^-1/2 (2-20 % left at the end) + a fast exponential; never settled"),
    ("drift",
     "settled exp2 plus a linear drift of +-1..5 % of I_ss over the hold (not settled)"),
    ("ar1_noise",
     "settled exp2 with AR(1) noise, rho 0.9-0.99 per sample, marginal sd 0.5-3 %"),
    ("pink_noise",
     "settled exp2 with 1/f noise (FFT synthesis) rms 0.5-3 % plus white 0.1-0.5 %"),
    ("quantized",
     "settled or stopped exp2 rounded to an ADC step, I_ss = 2-8 LSB, noise 0.1-1 LSB"),
    ("quantized_sub_lsb",
     "as quantized but the noise before rounding is 0.005-0.05 LSB (a pure staircase)"),
    ("temperature_cycle",
     "2-4 day settled hold, I_ss modulated by a daily +-0.3..1 K cycle at Ea 0.3-0.7 eV"),
    ("dt_change",
     "settled exp2 sampled at 1 s for 0.5-1 h, then every 30-60 s; white noise"),
    ("stoich_rc_settled",
     "RC spike + I_ss (1 + 2 sum exp(-4 m^2 pi^2 t / tau_D)), hold 0.5-1 tau_D"),
    ("stoich_rc_stopped",
     "RC spike + the stoichiometric series stopped at 0.02-0.1 tau_D"),
])


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------
def _logu(rng: np.random.Generator, lo: float, hi: float) -> float:
    """One log-uniform draw in [lo, hi]."""
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _grid(rng: np.random.Generator, hold_s: float, *, n_range=(1500, 8000),
          dt_range=(1.0, 60.0), n_limits=(500, 20000)) -> np.ndarray:
    """Sample times from 0 to ``hold_s`` at a constant nominal interval with clock jitter.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    hold_s : float
        Hold duration, s.
    n_range : tuple of int
        Range of the wanted number of points (uniform).
    dt_range : tuple of float
        Preferred sampling interval range, s; overridden only to keep the point count
        within ``n_limits``.
    n_limits : tuple of int
        Hard limits of the number of points.

    Returns
    -------
    numpy.ndarray
        Strictly increasing times, ``t[0] == 0``, last sample at ``hold_s`` (jittered).
    """
    n_want = int(rng.integers(n_range[0], n_range[1] + 1))
    dt = float(np.clip(hold_s / n_want, *dt_range))
    n = round(hold_s / dt) + 1
    if n < n_limits[0] or n > n_limits[1]:
        n = int(np.clip(n, *n_limits))
        dt = hold_s / (n - 1)
    t = np.arange(n) * dt
    # instrument clock jitter: at most +-0.5 % of the interval, never at the step itself
    t[1:] += rng.uniform(-0.005, 0.005, n - 1) * dt
    return t


def _exp_sum(t: np.ndarray, amps, taus) -> np.ndarray:
    """sum_k a_k exp(-t / tau_k), evaluated in chunks so many terms stay cheap."""
    amps = np.asarray(amps, dtype=float)
    taus = np.asarray(taus, dtype=float)
    out = np.zeros_like(t, dtype=float)
    step = max(1, 2_000_000 // max(t.size, 1))
    for k in range(0, amps.size, step):
        a = amps[k:k + step]
        tau = taus[k:k + step]
        out += np.exp(-t[:, None] / tau[None, :]) @ a
    return out


def _exp2_params(rng: np.random.Generator, i_ss: float) -> dict[str, float]:
    """Draw two-exponential parameters (A, s).

    tau2 600-12000 s, tau1 = tau2 / (5-30), a1 3-100x and a2 1-10x I_ss (log-uniform).
    """
    tau2 = _logu(rng, 600.0, 1.2e4)
    tau1 = tau2 / _logu(rng, 5.0, 30.0)
    return dict(a1=i_ss * _logu(rng, 3.0, 100.0), tau1=tau1,
                a2=i_ss * _logu(rng, 1.0, 10.0), tau2=tau2)


def _exp2(t: np.ndarray, p: dict[str, float]) -> np.ndarray:
    return p["a1"] * np.exp(-t / p["tau1"]) + p["a2"] * np.exp(-t / p["tau2"])


def _ar1(rng: np.random.Generator, n: int, rho: float, sd: float) -> np.ndarray:
    """Stationary AR(1) noise with lag-1 correlation ``rho`` and marginal sd ``sd``."""
    z = rng.normal(0.0, sd * np.sqrt(1.0 - rho**2), n)
    e = np.empty(n)
    e[0] = rng.normal(0.0, sd)
    for k in range(1, n):
        e[k] = rho * e[k - 1] + z[k]
    return e


def _pink(rng: np.random.Generator, n: int, rms: float) -> np.ndarray:
    """1/f (pink) noise by spectral synthesis: power ~ 1/f, zero mean, given rms."""
    f = np.fft.rfftfreq(n)
    amp = np.zeros_like(f)
    amp[1:] = 1.0 / np.sqrt(f[1:])
    spec = amp * (rng.normal(size=f.size) + 1j * rng.normal(size=f.size))
    x = np.fft.irfft(spec, n)
    x -= x.mean()
    return x * (rms / x.std())


def stoich_series(t: np.ndarray, tau_d: float, *, tol: float = 1e-16) -> np.ndarray:
    """Evaluate 1 + 2 sum_{m>=1} exp(-4 m^2 pi^2 t / tau_D), i.e. I(t) / I_ss.

    This is the potentiostatic stoichiometric polarization series for sigma_i >> sigma_e
    (METHODS.md section 1).

    Parameters
    ----------
    t : numpy.ndarray
        Times after the step, s (> 0; the series diverges as t^-1/2 at t -> 0).
    tau_d : float
        Chemical diffusion time L^2 / D_chem, s.
    tol : float
        Relative size of the first neglected term.

    Returns
    -------
    numpy.ndarray
        I(t) / I_ss.

    Notes
    -----
    With a = 4 pi^2 t / tau_D the direct series converges fast for a >= pi; for a < pi
    the Jacobi theta transformation

        1 + 2 sum_m exp(-a m^2) = sqrt(pi / a) (1 + 2 sum_k exp(-pi^2 k^2 / a))

    is used instead. The number of terms in either branch is chosen so that the first
    neglected exponent is below ``log(tol)``.
    """
    t = np.asarray(t, dtype=float)
    if np.any(t <= 0):
        raise ValueError("the stoichiometric series needs t > 0")
    a = 4.0 * np.pi**2 * t / tau_d
    out = np.empty_like(a)
    cut = -np.log(tol)
    direct = a >= np.pi
    if direct.any():
        ad = a[direct]
        m_max = int(np.ceil(np.sqrt(cut / ad.min()))) + 1
        m = np.arange(1, m_max + 1)
        out[direct] = 1.0 + 2.0 * np.exp(-ad[:, None] * m[None, :] ** 2).sum(axis=1)
    if (~direct).any():
        ai = a[~direct]
        k_max = int(np.ceil(np.sqrt(cut * ai.max()) / np.pi)) + 1
        k = np.arange(1, k_max + 1)
        dual = 1.0 + 2.0 * np.exp(-(np.pi**2) * k[None, :] ** 2 / ai[:, None]).sum(axis=1)
        out[~direct] = np.sqrt(np.pi / ai) * dual
    return out


def _noise_white(rng, n, i_ss, lo=0.003, hi=0.03) -> tuple[np.ndarray, float]:
    sd = _logu(rng, lo, hi) * i_ss
    return rng.normal(0.0, sd, n), sd


# ---------------------------------------------------------------------------------------
# Regimes: each returns (t, current, transient_at_end, regime parameters)
# ---------------------------------------------------------------------------------------
def _plain(rng, i_ss, *, stopped: bool):
    p = _exp2_params(rng, i_ss)
    factor = rng.uniform(1.5, 3.0) if stopped else rng.uniform(10.0, 15.0)
    t = _grid(rng, factor * p["tau2"])
    noise, sd = _noise_white(rng, t.size, i_ss)
    current = i_ss + _exp2(t, p) + noise
    return current, t, float(_exp2(t[-1:], p)[0]), dict(
        p, hold_over_tau=factor, noise_sd_a=sd, noise="white")


def _broad(rng, i_ss, *, stopped: bool):
    n_terms = int(rng.integers(30, 201))
    tau_lo = _logu(rng, 5.0, 50.0)
    decades = rng.uniform(2.0, 3.0)
    lg_lo, lg_hi = np.log10(tau_lo), np.log10(tau_lo) + decades
    dist = "lognormal" if rng.random() < 0.5 else "loguniform"
    if dist == "loguniform":
        lg = rng.uniform(lg_lo, lg_hi, n_terms)
    else:
        lg = np.clip(rng.normal(0.5 * (lg_lo + lg_hi), decades / 4.0, n_terms), lg_lo, lg_hi)
    taus = 10.0**lg
    weights = rng.lognormal(0.0, 1.0, n_terms)
    amp_total = i_ss * _logu(rng, 3.0, 30.0)
    amps = amp_total * weights / weights.sum()
    params: dict[str, Any] = dict(n_terms=n_terms, tau_distribution=dist,
                                  tau_min=float(taus.min()), tau_max=float(taus.max()),
                                  decades=float(decades), amp_total_a=float(amp_total))
    if stopped:
        target = _logu(rng, 0.03, 0.30)
        hold = max(_time_to_remaining(amps, taus, target * i_ss), 600.0)
        params["target_remaining"] = target
    else:
        factor = rng.uniform(10.0, 15.0)
        hold = factor * taus.max()
        params["hold_over_tau_max"] = factor
    t = _grid(rng, hold)
    noise, sd = _noise_white(rng, t.size, i_ss)
    transient = _exp_sum(t, amps, taus)
    params.update(noise_sd_a=sd, noise="white")
    return i_ss + transient + noise, t, float(transient[-1]), params


def _time_to_remaining(amps, taus, level: float) -> float:
    """Time at which sum a_k exp(-t/tau_k) falls to ``level`` (bisection in log t)."""
    def rem(x):
        return float(np.sum(amps * np.exp(-x / taus)))

    lo, hi = 1e-3, 1e3 * taus.max()
    if rem(lo) <= level:
        return lo
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        if rem(mid) > level:
            lo = mid
        else:
            hi = mid
        if hi / lo < 1 + 1e-10:
            break
    return float(hi)


def _sqrt_tail(rng, i_ss):
    hold = _logu(rng, 5e3, 2e5)
    t0 = _logu(rng, 1.0, 100.0)
    frac = _logu(rng, 0.02, 0.20)
    a_sqrt = frac * i_ss * np.sqrt(hold + t0)
    b = i_ss * _logu(rng, 3.0, 30.0)
    tau_f = _logu(rng, 5.0, 100.0)
    t = _grid(rng, hold)
    transient = a_sqrt / np.sqrt(t + t0) + b * np.exp(-t / tau_f)
    noise, sd = _noise_white(rng, t.size, i_ss)
    return i_ss + transient + noise, t, float(transient[-1]), dict(
        a_sqrt=float(a_sqrt), t0=t0, sqrt_fraction_end=frac, a_fast=b, tau_fast=tau_f,
        noise_sd_a=sd, noise="white")


def _drift(rng, i_ss):
    current, t, rem, params = _plain(rng, i_ss, stopped=False)
    frac = rng.uniform(0.01, 0.05) * (1.0 if rng.random() < 0.5 else -1.0)
    current = current + frac * i_ss * t / t[-1]
    params.update(drift_fraction=float(frac))
    return current, t, rem, params


def _settled_exp2_clean(rng, i_ss, hold=None):
    p = _exp2_params(rng, i_ss)
    factor = rng.uniform(10.0, 15.0)
    t = _grid(rng, factor * p["tau2"] if hold is None else hold)
    return t, _exp2(t, p), dict(p, hold_over_tau=float(t[-1] / p["tau2"]))


def _ar1_noise(rng, i_ss):
    t, transient, params = _settled_exp2_clean(rng, i_ss)
    rho = rng.uniform(0.9, 0.99)
    sd = rng.uniform(0.005, 0.03) * i_ss
    params.update(noise="ar1", rho=rho, noise_sd_a=sd)
    return i_ss + transient + _ar1(rng, t.size, rho, sd), t, float(transient[-1]), params


def _pink_noise(rng, i_ss):
    t, transient, params = _settled_exp2_clean(rng, i_ss)
    rms = rng.uniform(0.005, 0.03) * i_ss
    white = rng.uniform(0.001, 0.005) * i_ss
    noise = _pink(rng, t.size, rms) + rng.normal(0.0, white, t.size)
    params.update(noise="pink+white", pink_rms_a=rms, white_sd_a=white)
    return i_ss + transient + noise, t, float(transient[-1]), params


def _quantized(rng, i_ss, *, sub_lsb: bool):
    p = _exp2_params(rng, i_ss)
    stopped = bool(rng.random() < 0.5)
    factor = rng.uniform(1.5, 3.0) if stopped else rng.uniform(10.0, 15.0)
    t = _grid(rng, factor * p["tau2"])
    i_ss_lsb = rng.uniform(2.0, 8.0)
    lsb = i_ss / i_ss_lsb
    sd_lsb = _logu(rng, 0.005, 0.05) if sub_lsb else rng.uniform(0.1, 1.0)
    analog = i_ss + _exp2(t, p) + rng.normal(0.0, sd_lsb * lsb, t.size)
    current = np.round(analog / lsb) * lsb
    return current, t, float(_exp2(t[-1:], p)[0]), dict(
        p, hold_over_tau=factor, variant="stopped" if stopped else "settled", lsb_a=lsb,
        i_ss_in_lsb=i_ss_lsb, noise_sd_lsb=sd_lsb, noise="white, then rounded")


def _temperature_cycle(rng, i_ss):
    hold = rng.uniform(2.0, 4.0) * _DAY_S
    p = _exp2_params(rng, i_ss)
    t = _grid(rng, hold, dt_range=(20.0, 60.0))
    t0_k = rng.uniform(293.0, 308.0)
    dt_k = rng.uniform(0.3, 1.0)
    ea = rng.uniform(0.3, 0.7)
    phase = rng.uniform(0.0, 2 * np.pi)
    period = _DAY_S * rng.uniform(0.98, 1.02)
    temp = t0_k + dt_k * np.sin(2 * np.pi * t / period + phase)
    ss = i_ss * np.exp(-ea / K_B_EV * (1.0 / temp - 1.0 / t0_k))
    transient = _exp2(t, p)
    noise, sd = _noise_white(rng, t.size, i_ss, 0.003, 0.02)
    params = dict(p, hold_over_tau=float(hold / p["tau2"]), t0_k=t0_k, dT_k=dt_k, ea_ev=ea,
                  period_s=period, phase_rad=phase,
                  modulation_fraction=float(np.exp(ea / K_B_EV * dt_k / t0_k**2) - 1.0),
                  noise_sd_a=sd, noise="white")
    return ss + transient + noise, t, float(transient[-1]), params


def _dt_change(rng, i_ss):
    p = _exp2_params(rng, i_ss)
    t_switch = rng.uniform(1800.0, 3600.0)
    dt2 = rng.uniform(30.0, 60.0)
    factor = rng.uniform(10.0, 15.0)
    hold = max(factor * p["tau2"], t_switch + 200 * dt2)
    t1 = np.arange(0.0, t_switch, 1.0)
    t2 = np.arange(t1[-1] + dt2, hold + dt2 / 2, dt2)
    t = np.concatenate([t1, t2])
    t[1:] += rng.uniform(-0.005, 0.005, t.size - 1) * np.diff(t)
    noise, sd = _noise_white(rng, t.size, i_ss)
    return i_ss + _exp2(t, p) + noise, t, float(_exp2(t[-1:], p)[0]), dict(
        p, hold_over_tau=float(t[-1] / p["tau2"]), t_switch_s=t_switch, dt1_s=1.0,
        dt2_s=dt2, noise_sd_a=sd, noise="white")


def _stoich_rc(rng, i_ss, *, stopped: bool):
    tau_d = _logu(rng, 3e4, 2e5)
    factor = rng.uniform(0.02, 0.1) if stopped else rng.uniform(0.5, 1.0)
    t = _grid(rng, factor * tau_d, n_range=(1500, 6000))
    tau_rc = _logu(rng, 0.1, 2.0)
    t_pos = np.where(t > 0, t, 0.5 * t[1])  # the series diverges at the step itself
    diffusion = i_ss * stoich_series(t_pos, tau_d)
    spike_ratio = _logu(rng, 100.0, 1000.0)
    spike = spike_ratio * diffusion[1] * np.exp(-t / tau_rc)
    noise, sd = _noise_white(rng, t.size, i_ss)
    current = diffusion + spike + noise
    remaining = float(diffusion[-1] - i_ss + spike[-1])
    return current, t, remaining, dict(
        tau_d=tau_d, hold_over_tau_d=factor, tau_rc=tau_rc, spike_ratio=spike_ratio,
        spike_a=float(spike[0]), noise_sd_a=sd, noise="white")


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------
def make_hold(regime: str, rng: np.random.Generator, *,
              sigma_e_true: float) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """One synthetic constant-voltage hold of a regime, with its ground truth.

    Parameters
    ----------
    regime : str
        A key of :data:`REGIMES`.
    rng : numpy.random.Generator
        Source of every random choice (geometry, shape parameters, noise).
    sigma_e_true : float
        True electronic conductivity, S/cm.

    Returns
    -------
    t_s : numpy.ndarray
        Times since the voltage step, s (``t_s[0] == 0``).
    current_a : numpy.ndarray
        Cell current, A.
    meta : dict
        ``regime``, ``sigma_e_true`` (S/cm), ``i_ss_true`` (A), ``voltage_v``, ``area_cm2``,
        ``thickness_cm``, ``temperature_k``, ``hold_s``, ``n_points``, ``settled`` (remaining
        transient <= 1 % of I_ss and no drift), ``remaining_fraction_true`` (noise-free
        transient at the last sample over I_ss; drift and temperature modulation excluded)
        and the regime's own parameters.

    Raises
    ------
    KeyError
        Unknown regime.
    """
    if regime not in REGIMES:
        raise KeyError(f"unknown regime {regime!r}; choose from {', '.join(REGIMES)}")
    voltage = _logu(rng, 0.05, 0.5)
    area = _logu(rng, 0.5, 2.0)
    i_ss = sigma_e_true * voltage * area / THICKNESS_CM
    makers = {
        "plain_exp2_settled": lambda: _plain(rng, i_ss, stopped=False),
        "plain_exp2_stopped": lambda: _plain(rng, i_ss, stopped=True),
        "broad_tau_settled": lambda: _broad(rng, i_ss, stopped=False),
        "broad_tau_stopped": lambda: _broad(rng, i_ss, stopped=True),
        "sqrt_tail": lambda: _sqrt_tail(rng, i_ss),
        "drift": lambda: _drift(rng, i_ss),
        "ar1_noise": lambda: _ar1_noise(rng, i_ss),
        "pink_noise": lambda: _pink_noise(rng, i_ss),
        "quantized": lambda: _quantized(rng, i_ss, sub_lsb=False),
        "quantized_sub_lsb": lambda: _quantized(rng, i_ss, sub_lsb=True),
        "temperature_cycle": lambda: _temperature_cycle(rng, i_ss),
        "dt_change": lambda: _dt_change(rng, i_ss),
        "stoich_rc_settled": lambda: _stoich_rc(rng, i_ss, stopped=False),
        "stoich_rc_stopped": lambda: _stoich_rc(rng, i_ss, stopped=True),
    }
    current, t, remaining_a, params = makers[regime]()
    remaining = remaining_a / i_ss
    drifting = "drift_fraction" in params
    meta: dict[str, Any] = dict(
        regime=regime, sigma_e_true=float(sigma_e_true), i_ss_true=float(i_ss),
        voltage_v=voltage, area_cm2=area, thickness_cm=THICKNESS_CM,
        temperature_k=float(params.get("t0_k", T_NOMINAL_K)), hold_s=float(t[-1]),
        n_points=int(t.size), remaining_fraction_true=float(remaining),
        settled=bool(remaining <= SETTLED_FRACTION and not drifting), drift=drifting)
    meta.update({k: (float(v) if isinstance(v, (np.floating, float)) else v)
                 for k, v in params.items()})
    return t, np.asarray(current, dtype=float), meta


def to_measurement(t: np.ndarray, i: np.ndarray, meta: dict[str, Any]):
    """Wrap a generated hold in a :class:`sescreen.io.measurement.Measurement`.

    Built exactly as :func:`sescreen.synthetic.dcpol_record` builds its records: columns
    ``time_s``, ``current_a``, ``control_v``; technique constant voltage; the hold's voltage,
    area and temperature as metadata.

    Parameters
    ----------
    t, i : numpy.ndarray
        Times (s) and currents (A) from :func:`make_hold`.
    meta : dict
        The ``meta`` of :func:`make_hold`.

    Returns
    -------
    sescreen.io.measurement.Measurement
    """
    import pandas as pd

    from sescreen.io.measurement import ColumnInfo, Measurement, Technique

    v = float(meta["voltage_v"])
    data = pd.DataFrame({"time_s": np.asarray(t, dtype=float),
                         "current_a": np.asarray(i, dtype=float),
                         "control_v": np.full(len(t), v)})
    return Measurement(
        data=data, format="synthetic", technique=Technique.CONSTANT_VOLTAGE,
        technique_name="synthetic constant-voltage hold", applied_voltage_v=v,
        area_cm2=float(meta["area_cm2"]), temperature_k=meta.get("temperature_k"),
        source=f"realistic:{meta['regime']}",
        columns=[ColumnInfo("time_s", "time_s", "s"), ColumnInfo("current_a", "current_a", "A"),
                 ColumnInfo("control_v", "control_v", "V")])
