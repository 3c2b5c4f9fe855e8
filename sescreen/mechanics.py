"""Electro-chemo-mechanical critical overpotential for lithium deposited inside a solid
electrolyte (METHODS.md section 3).

Lithium plated in a confined site (a pore, a grain boundary, a crack) is pressurized; the
electrical work F |eta| per mole balances the mechanical work p Omega_Li. Deposition cracks
the electrolyte open, and a dendrite can grow, when the local potential falls below
phi_c (negative, V vs Li/Li+).

Models (each labelled, with its inputs, in every result):

``pressure`` (default, physical): p = F |eta| / Omega_Li reaches the fracture stress,

    phi_c = -Omega_Li sigma_f / F                                                   (3)

    -4.04 mV at 30 MPa, -13.47 mV at 100 MPa.

``griffith``: a flaw filled with lithium at pressure p opens when its stress intensity
K_I = Y p sqrt(pi a) reaches K_IC (the Griffith/Irwin criterion applied to lithium
deposits by Porz et al., Adv. Energy Mater. 7, 1701003 (2017)),

    phi_c = -Omega_Li K_IC / (F Y sqrt(pi a)).

Two crack geometries, named (``crack=``; METHODS section 9; stress-intensity factors from
Tada, Paris & Irwin, *The Stress Analysis of Cracks Handbook*, 3rd ed. (ASME, 2000)):

- ``"internal"`` (default): a penny-shaped crack of radius a inside the electrolyte under
  internal pressure p, K_I = 2 p sqrt(a / pi), i.e. Y = 2 / pi = 0.637. This is the
  geometry of lithium deposited *inside* the electrolyte (Han et al. 2019's mechanism);
- ``"surface"``: a shallow edge (surface) crack of depth a, Y = 1.12: lithium entering
  from the anode surface (the Porz et al. setting).

The internal crack needs 1.12 / 0.637 = 1.76x the pressure (and |phi_c|) of a surface
flaw of the same size.

``han2019`` (as REPORTED, not derived): Han et al. 2019, citing Raj & Wolfenstine,
J. Power Sources 343, 119 (2017), state -17 mV at 30 MPa and -27 mV at 100 MPa. Equation (3)
does not give these numbers and the exact Raj-Wolfenstine expression was not found
(METHODS [?]). This mode interpolates linearly through the two reported pairs (and
extrapolates beyond them with a warning). Its slope, 0.143 mV/MPa, is close to Omega_Li / F
= 0.135 mV/MPa, and its intercept is 12.7 mV: the reported values look like eq. (3) plus an
offset of about 13 mV, whose physical origin is not stated.

A critical current estimate (placeholder reconstruction [D], not Raj-Wolfenstine's
published form): the potential drop j * ASR across a resistive interface or grain boundary
reaching |phi_c| gives j_crit = |phi_c| / ASR (ASR = rho_GB d for a grain boundary).

Temperature enters through the inputs (sigma_f, K_IC and the molar volume at that
temperature).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sescreen.constants import FARADAY
from sescreen.errors import InputError

__all__ = [
    "CRACK_GEOMETRIES",
    "HAN2019_REPORTED",
    "LI_MOLAR_VOLUME_M3",
    "MODELS",
    "CriticalOverpotential",
    "critical_current_density",
    "critical_overpotential",
    "fracture_stress_for",
]

#: Molar volume of lithium metal, m^3/mol: 6.941 g/mol / 0.534 g/cm^3 (METHODS).
LI_MOLAR_VOLUME_M3 = 6.941 / 0.534 * 1e-6
#: The (fracture stress Pa, phi_c V) pairs Han et al. 2019 report.
HAN2019_REPORTED = ((30e6, -0.017), (100e6, -0.027))
MODELS = ("pressure", "griffith", "han2019")
#: Griffith geometry factors Y (K_I = Y p sqrt(pi a)): internal penny-shaped crack of radius
#: a under internal pressure (2 / pi) and shallow surface crack of depth a (1.12); Tada,
#: Paris & Irwin, The Stress Analysis of Cracks Handbook.
CRACK_GEOMETRIES = {"internal": 2.0 / math.pi, "surface": 1.12}


@dataclass(frozen=True)
class CriticalOverpotential:
    """A critical overpotential with the model and inputs it came from.

    Attributes
    ----------
    critical_overpotential_v : float
        phi_c, V vs Li/Li+ (negative).
    model : str
        ``pressure``, ``griffith`` or ``han2019``.
    label : str
        What the number is (derived from eq. (3), Griffith, or as reported).
    inputs : dict
        The inputs in SI units.
    """

    critical_overpotential_v: float
    model: str
    label: str
    inputs: dict[str, float]
    warnings: tuple[str, ...] = field(default=())
    crack: str | None = None  #: Griffith geometry: "internal", "surface" or "user"

    def critical_current_density(self, asr_ohm_cm2: float) -> float:
        """j_crit = |phi_c| / ASR, mA/cm^2 (a model: see the module docstring)."""
        return critical_current_density(self.critical_overpotential_v, asr_ohm_cm2)

    def summary(self) -> dict[str, Any]:
        return {"critical_overpotential_v": self.critical_overpotential_v, "model": self.model,
                "inputs": dict(self.inputs), "label": self.label,
                "critical_overpotential_mv": self.critical_overpotential_v * 1e3,
                "crack": self.crack, "warnings": list(self.warnings)}

    def __str__(self) -> str:
        ins = ", ".join(f"{k} = {v:.4g}" for k, v in self.inputs.items())
        lines = [f"phi_c = {self.critical_overpotential_v * 1e3:.2f} mV vs Li/Li+ "
                 f"({self.model}: {self.label})", f"  inputs: {ins}"]
        return "\n".join(lines + [f"  warning: {w}" for w in self.warnings])


def _positive(name: str, value: float | None) -> float:
    if value is None:
        raise InputError(f"{name} is required for this model")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{name} must be a positive number, not {value!r}")
    return value


def critical_overpotential(
    fracture_stress_pa: float | None = None,
    *,
    model: str = "pressure",
    fracture_toughness_pa_sqrt_m: float | None = None,
    flaw_size_m: float | None = None,
    crack: str = "internal",
    geometry_factor: float | None = None,
    molar_volume_m3: float = LI_MOLAR_VOLUME_M3,
) -> CriticalOverpotential:
    """Critical overpotential for fracture by lithium deposited inside the electrolyte.

    Parameters
    ----------
    fracture_stress_pa : float
        Fracture stress sigma_f, Pa (``pressure`` and ``han2019``).
    model : {"pressure", "griffith", "han2019"}
        See the module docstring.
    fracture_toughness_pa_sqrt_m : float
        K_IC, Pa m^0.5 (``griffith``; LLZO ~1.25e6, Li2S-P2S5 glass ~0.23e6).
    flaw_size_m : float
        Flaw size a, m (``griffith``): the radius of an internal penny-shaped crack, the
        depth of a surface crack.
    crack : {"internal", "surface"}
        Griffith geometry (module docstring): ``internal`` (Y = 2/pi, lithium deposited
        inside the electrolyte; default) or ``surface`` (Y = 1.12).
    geometry_factor : float, optional
        An explicit Y, overriding ``crack`` (labelled as user-given).
    molar_volume_m3 : float
        Omega_Li, m^3/mol (default 1.2998e-5).

    Returns
    -------
    CriticalOverpotential
    """
    omega = _positive("molar volume", molar_volume_m3)
    if model == "pressure":
        sf = _positive("fracture stress", fracture_stress_pa)
        return CriticalOverpotential(
            -omega * sf / FARADAY, model,
            "pressure balance F|eta| = Omega_Li sigma_f (METHODS eq. 3)",
            {"fracture_stress_pa": sf, "molar_volume_m3": omega})
    if model == "griffith":
        kic = _positive("fracture toughness K_IC", fracture_toughness_pa_sqrt_m)
        a = _positive("flaw size", flaw_size_m)
        if crack not in CRACK_GEOMETRIES:
            raise InputError(f"unknown crack geometry {crack!r}; choose "
                             f"{' or '.join(CRACK_GEOMETRIES)}")
        if geometry_factor is None:
            y = CRACK_GEOMETRIES[crack]
            what = ("internal penny-shaped crack, K_I = 2 p sqrt(a / pi), Y = 2/pi"
                    if crack == "internal" else "surface crack, Y = 1.12")
        else:
            y = _positive("geometry factor", geometry_factor)
            crack, what = "user", f"user-given Y = {y:g}"
        p_crit = kic / (y * math.sqrt(math.pi * a))
        return CriticalOverpotential(
            -omega * p_crit / FARADAY, model,
            f"Griffith: K_I = Y p sqrt(pi a) = K_IC, {what} (Tada, Paris & Irwin; "
            "Porz et al. 2017)",
            {"fracture_toughness_pa_sqrt_m": kic, "flaw_size_m": a, "geometry_factor": y,
             "molar_volume_m3": omega, "critical_pressure_pa": p_crit},
            crack=crack)
    if model == "han2019":
        sf = _positive("fracture stress", fracture_stress_pa)
        (s1, p1), (s2, p2) = HAN2019_REPORTED
        phi = p1 + (p2 - p1) * (sf - s1) / (s2 - s1)
        warns = ()
        if not s1 <= sf <= s2:
            warns = (f"{sf / 1e6:.4g} MPa is outside the reported 30-100 MPa: the reported "
                     "line is extrapolated",)
        return CriticalOverpotential(
            phi, model,
            "as REPORTED by Han et al. 2019 (-17 mV at 30 MPa, -27 mV at 100 MPa, citing Raj "
            "& Wolfenstine 2017), linear between them; not derived from eq. (3)",
            {"fracture_stress_pa": sf}, warns)
    raise InputError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")


def fracture_stress_for(critical_overpotential_v: float, *, model: str = "pressure",
                        molar_volume_m3: float = LI_MOLAR_VOLUME_M3) -> float:
    """Inverse: the stress (Pa) at which ``model`` gives this phi_c (V, < 0).

    For ``pressure`` the fracture stress; for ``griffith`` the critical pressure
    K_IC / (Y sqrt(pi a)) (both F |phi_c| / Omega_Li); for ``han2019`` the reported line
    inverted.
    """
    if not critical_overpotential_v < 0:
        raise InputError("a critical overpotential is negative (V vs Li/Li+)")
    if model in ("pressure", "griffith"):
        return FARADAY * abs(critical_overpotential_v) / _positive("molar volume",
                                                                   molar_volume_m3)
    if model == "han2019":
        (s1, p1), (s2, p2) = HAN2019_REPORTED
        at_zero = p1 - (p2 - p1) * s1 / (s2 - s1)  # -12.7 mV: the reported line's offset
        if critical_overpotential_v > at_zero:
            raise InputError(f"the reported line starts at {at_zero * 1e3:.1f} mV (zero stress): "
                             "no stress gives a smaller |phi_c| in the han2019 mode")
        return s1 + (critical_overpotential_v - p1) * (s2 - s1) / (p2 - p1)
    raise InputError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")


def critical_current_density(critical_overpotential_v: float, asr_ohm_cm2: float) -> float:
    """j_crit = |phi_c| / ASR, mA/cm^2.

    A model estimate (METHODS section 3, placeholder reconstruction): the current at which
    the potential drop across one resistive interface or grain boundary of area-specific
    resistance ASR (ohm cm^2; rho_GB * d for a grain boundary) reaches |phi_c|.
    """
    asr = _positive("area-specific resistance", asr_ohm_cm2)
    return abs(critical_overpotential_v) / asr * 1e3
