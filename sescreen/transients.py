"""Current transients of a potentiostatic step on an ion-blocking cell (DC polarization).

Plain functions of time ``t`` (s, measured from the voltage step) and named parameters,
with starting points and bounds guessed from the data (:func:`start_params`; lmfit's
``Parameters`` by :meth:`~sescreen.parameters.Params.to_lmfit`). Currents in any unit; the
fit works on a scaled copy.

Models (METHODS.md section 1):

``exp1``, ``exp2``, ``exp3``
    I(t) = I_ss + sum_k a_k exp(-t / tau_k), tau_1 < tau_2 < tau_3: what papers fit [L].
``stretched``
    I(t) = I_ss + a exp(-(t / tau)^beta), 0 < beta <= 1 (Kohlrausch).
``stoich``
    Stoichiometric polarization after a potentiostatic step, general sigma_e / sigma_i [D]:
    I(t) = I_inf + (I_0 - I_inf) sum_m w_m exp(-4 z_m^2 t / tau_D), tau_D = L^2 / D_chem,
    tan z_m = -(sigma_e / sigma_i) z_m with z_m in ((m - 1/2) pi, m pi),
    w_m = 2 sin z_m (sin z_m - z_m cos z_m) / (z_m^2 (1 - sin(2 z_m) / (2 z_m))),
    and I_0 = I_inf (1 + sigma_i / sigma_e), the initial ohmic current of both carriers.
``stoich_limit``
    Its limit for sigma_i >> sigma_e (every useful solid electrolyte):
    I(t) = I_inf [1 + 2 sum_{m>=1} exp(-4 m^2 pi^2 t / tau_D)], ~ t^(-1/2) at early times.
``power``, ``exp1_power``
    A slow non-exponential tail with a free amplitude and exponent (METHODS.md section 6:
    a t^(-1/2) leak, or a broad distribution of relaxation times): I(t) = I_ss +
    a (t / t_ref)^(-p), optionally plus one fast exponential; t_ref is fixed inside the
    record (the fit's conditioning), 0.05 <= p <= 3.

Not implemented on purpose: the series I_inf + (I_0 - I_inf) sum_{n odd} 8 / (n^2 pi^2)
exp(-n^2 pi^2 D t / L^2). It is the galvanostatic (or sigma_e >> sigma_i) solution and is
wrong for a potentiostatic step on an ionic conductor (METHODS.md, "PITFALL").
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from sescreen.parameters import Params

__all__ = [
    "BROADCAST",
    "FIXED",
    "MODELS",
    "arg_names",
    "exp1",
    "exp1_power",
    "exp2",
    "exp3",
    "power",
    "start_params",
    "stoich",
    "stoich_eigenvalues",
    "stoich_limit",
    "stoich_rc",
    "stoich_weights",
    "stretched",
    "transient_part",
]


def exp1(t, i_ss, a1, tau1):
    """Constant plus one exponential: I = i_ss + a1 exp(-t/tau1)."""
    return i_ss + a1 * np.exp(-t / tau1)


def exp2(t, i_ss, a1, tau1, a2, tau2):
    """Constant plus two exponentials."""
    return i_ss + a1 * np.exp(-t / tau1) + a2 * np.exp(-t / tau2)


def exp3(t, i_ss, a1, tau1, a2, tau2, a3, tau3):
    """Constant plus three exponentials."""
    return i_ss + a1 * np.exp(-t / tau1) + a2 * np.exp(-t / tau2) + a3 * np.exp(-t / tau3)


def stretched(t, i_ss, a, tau, beta):
    """Constant plus a stretched exponential: I = i_ss + a exp(-(t/tau)^beta)."""
    return i_ss + a * np.exp(-np.power(np.maximum(t, 0.0) / tau, beta))


def power(t, i_ss, a, p, t_ref):
    """Constant plus a power-law tail: I = i_ss + a (t / t_ref)^(-p)."""
    return i_ss + a * np.power(np.maximum(t, 1e-12) / t_ref, -p)


def exp1_power(t, i_ss, a1, tau1, a, p, t_ref):
    """Constant, one exponential and a power-law tail."""
    return i_ss + a1 * np.exp(-t / tau1) + a * np.power(np.maximum(t, 1e-12) / t_ref, -p)


def stoich_eigenvalues(ratio: float, n_terms: int) -> np.ndarray:
    """Roots z_m of tan z = -ratio z in ((m - 1/2) pi, m pi), m = 1..n_terms.

    Parameters
    ----------
    ratio : float
        sigma_e / sigma_i (dimensionless, > 0).
    n_terms : int
        Number of roots.

    Notes
    -----
    Solved as sin z + ratio z cos z = 0 (no poles) by vectorized bisection; the function
    changes sign across every bracket.
    """
    m = np.arange(1, n_terms + 1, dtype=float)
    lo, hi = (m - 0.5) * np.pi, m * np.pi
    flo = np.sin(lo) + ratio * lo * np.cos(lo)
    for _ in range(52):  # bracket width pi/2 -> below 1e-15 relative
        mid = 0.5 * (lo + hi)
        fmid = np.sin(mid) + ratio * mid * np.cos(mid)
        same = np.signbit(fmid) == np.signbit(flo)
        lo = np.where(same, mid, lo)
        flo = np.where(same, fmid, flo)
        hi = np.where(same, hi, mid)
    return 0.5 * (lo + hi)


def stoich_weights(z: np.ndarray) -> np.ndarray:
    """Weights w_m of the potentiostatic series (they sum to 1 over all m)."""
    s, c = np.sin(z), np.cos(z)
    return 2.0 * s * (s - z * c) / (z**2 * (1.0 - np.sin(2.0 * z) / (2.0 * z)))


def _n_terms(t_min: float, tau_d: float) -> int:
    """Terms needed so the first omitted one is below exp(-30) at the earliest time."""
    t_min = max(float(t_min), 1e-12 * tau_d)
    m = np.sqrt(30.0 * tau_d / (4.0 * np.pi**2 * t_min))
    return int(np.clip(np.ceil(m) + 2, 8, 4000))


def stoich(t, i_inf, ratio, tau_d):
    """Potentiostatic stoichiometric-polarization transient, general sigma_e/sigma_i.

    Parameters
    ----------
    t : array
        Time since the step, s (> 0).
    i_inf : float
        Steady-state (electronic) current.
    ratio : float
        sigma_e / sigma_i.
    tau_d : float
        L^2 / D_chem, s.
    """
    t = np.asarray(t, dtype=float)
    z = stoich_eigenvalues(ratio, _n_terms(np.min(t[t > 0], initial=tau_d), tau_d))
    w = stoich_weights(z)
    decay = np.exp(-4.0 * np.outer(t, z**2) / tau_d) @ w
    return i_inf + (i_inf / ratio) * decay


_THETA_TERMS = 3  # m = 1..3: since v >= 1, the first omitted, 2 q^16 <= 2 exp(-16 pi)
# = 3e-22, is below the rounding of the leading 1


def stoich_limit(t, i_inf, tau_d):
    """sigma_i >> sigma_e limit: I = i_inf [1 + 2 sum_m exp(-4 m^2 pi^2 t / tau_d)].

    The bracket is the theta sum S(u) = sum_{m in Z} exp(-pi m^2 u) with u = 4 pi t / tau_d,
    evaluated with Jacobi's identity S(u) = u^-1/2 S(1/u) where u < 1 (the t^-1/2 regime,
    where the direct series would need thousands of terms): three terms are exact to double
    precision at every time.
    """
    t = np.asarray(t, dtype=float)
    u = np.maximum(4.0 * np.pi * t / tau_d, 1e-300)
    small = u < 1.0
    v = np.where(small, 1.0 / u, u)
    # q^(m^2), m = 1..3, with q = exp(-pi v): q^(m^2) = q^((m-1)^2) q^(2m-1)
    q = np.exp(-np.pi * v)
    q2 = q * q
    odd, power, total = q, q, q.copy()
    for _ in range(_THETA_TERMS - 1):
        odd = odd * q2
        power = power * odd
        total += power
    theta = 1.0 + 2.0 * total
    return i_inf * np.where(small, theta / np.sqrt(u), theta)


def stoich_rc(t, i_inf, tau_d, a1, tau1):
    """The sigma_i >> sigma_e series behind the charging of the blocking electrodes: the
    double layer charges through the cell resistance, one exponential (tau1 = R C) on top of
    :func:`stoich_limit` (METHODS.md section 1; the RC spike of a real potentiostatic
    step)."""
    t = np.asarray(t, dtype=float)
    return stoich_limit(t, i_inf, tau_d) + a1 * np.exp(-t / tau1)


#: name -> (function, steady-state parameter name)
MODELS = {
    "exp1": (exp1, "i_ss"),
    "exp2": (exp2, "i_ss"),
    "exp3": (exp3, "i_ss"),
    "stretched": (stretched, "i_ss"),
    "stoich": (stoich, "i_inf"),
    "stoich_limit": (stoich_limit, "i_inf"),
    "stoich_rc": (stoich_rc, "i_inf"),
    "power": (power, "i_ss"),
    "exp1_power": (exp1_power, "i_ss"),
}

#: Models whose functions broadcast over parameters given as arrays of shape (k, 1)
#: (k parameter sets at once; the general stoichiometric series picks its terms from one
#: sigma_e/sigma_i ratio).
BROADCAST = frozenset(MODELS) - {"stoich"}

#: Parameters held fixed in every fit (a reference time, not a property of the cell).
FIXED = frozenset({"t_ref"})


@functools.cache
def arg_names(name: str) -> tuple[str, ...]:
    """The parameters of a model function (after t)."""
    return tuple(inspect.signature(MODELS[name][0]).parameters)[1:]


def transient_part(name: str, t, values: dict) -> np.ndarray:
    """The decaying part I(t) - I_ss of a model with the given parameter values."""
    func, ss = MODELS[name]
    return func(np.asarray(t, dtype=float), **values) - values[ss]


def start_params(name: str, t: np.ndarray, y: np.ndarray) -> list[Params]:
    """Starting values and bounds of a model guessed from the data: one or more starting
    points (a fit keeps the best), as :class:`~sescreen.parameters.Params`.

    Parameters
    ----------
    name : str
        One of :data:`MODELS`.
    t : array
        Time since the step, s, increasing, > 0.
    y : array
        Current, scaled to order 1 and positive-going (the decay is downwards).
    """
    names = arg_names(name)
    t_lo, t_hi = float(t[0]), float(t[-1])
    n_tail = max(3, len(y) // 10)
    tail = float(np.median(y[-n_tail:]))
    head = float(np.max(y[: max(3, len(y) // 20)]))
    drop = max(head - tail, 1e-6 * max(abs(tail), 1e-30))
    ymax = max(abs(y).max(), 1e-30)
    tau_min, tau_max = t_lo / 5.0 if t_lo > 0 else (t_hi - t_lo) / 1e4, 100.0 * t_hi
    starts = []
    if name in ("exp1", "exp2", "exp3"):
        k = int(name[-1])
        for spread in (1.0, 0.3):
            p = Params.named(names)
            p["i_ss"].set(value=max(tail - 0.1 * drop * spread, 0.0), min=0.0, max=10 * ymax)
            taus = np.geomspace(max(t_hi / 10 ** (k + 1 - spread), tau_min * 2),
                                t_hi / 2 * spread + t_hi / 10, k)
            for j in range(1, k + 1):
                p[f"a{j}"].set(value=drop / k, min=0.0, max=100 * ymax)
                if j == 1:
                    p["tau1"].set(value=float(taus[0]), min=tau_min, max=tau_max)
                else:
                    # tau_j = tau_{j-1} * r_j with r_j > 1.5: ordered, no label switching
                    p.add(f"r{j}", value=float(taus[j - 1] / taus[j - 2]), min=1.5, max=1e6)
                    p[f"tau{j}"].set(expr=f"tau{j - 1} * r{j}")
            starts.append(p)
    elif name == "stretched":
        for beta in (0.6, 0.35):
            p = Params.named(names)
            p["i_ss"].set(value=max(tail - 0.2 * drop, 0.0), min=0.0, max=10 * ymax)
            p["a"].set(value=drop * 2, min=0.0, max=1e3 * ymax)
            p["tau"].set(value=t_hi / 5, min=tau_min, max=tau_max)
            p["beta"].set(value=beta, min=0.1, max=1.0)
            starts.append(p)
    elif name == "stoich":
        for tau_mult in (2.0, 10.0):
            p = Params.named(names)
            p["i_inf"].set(value=max(tail * 0.9, 1e-6 * ymax), min=1e-9 * ymax, max=10 * ymax)
            p["ratio"].set(value=0.3, min=1e-4, max=1e3)
            p["tau_d"].set(value=t_hi * tau_mult, min=tau_min, max=1e3 * t_hi)
            starts.append(p)
    elif name in ("stoich_limit", "stoich_rc"):
        for tau_mult in (2.0, 20.0):
            p = Params.named(names)
            p["i_inf"].set(value=max(tail * 0.9, 1e-6 * ymax), min=1e-9 * ymax, max=10 * ymax)
            p["tau_d"].set(value=t_hi * tau_mult, min=tau_min, max=1e4 * t_hi)
            if name == "stoich_rc":
                p["a1"].set(value=drop, min=0.0, max=1e3 * ymax)
                p["tau1"].set(value=max(t_lo * 3, tau_min * 2), min=tau_min, max=t_hi)
            starts.append(p)
    elif name in ("power", "exp1_power"):
        t_ref = float(np.sqrt(max(t_lo, t_hi * 1e-6) * t_hi))
        for p_start in (0.5, 0.2):
            p = Params.named(names)
            p["t_ref"].set(value=t_ref, vary=False)
            p["i_ss"].set(value=max(tail - 0.3 * drop, 0.0), min=0.0, max=10 * ymax)
            p["a"].set(value=max(drop * 0.3, 1e-6 * ymax), min=0.0, max=1e3 * ymax)
            p["p"].set(value=p_start, min=0.05, max=3.0)
            if name == "exp1_power":
                p["a1"].set(value=drop, min=0.0, max=100 * ymax)
                p["tau1"].set(value=max(t_hi / 100, tau_min * 2), min=tau_min, max=tau_max)
            starts.append(p)
    else:  # pragma: no cover - guarded by MODELS
        raise KeyError(name)
    return starts
