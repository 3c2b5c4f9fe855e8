"""NDP calibrations: channel -> energy -> depth (METHODS.md section 5).

Reaction: 6Li + n -> 4He (2055 keV) + 3H (2727 keV). A particle born at depth d inside the
electrolyte (measured from the current-collector / electrolyte interface, positive into the
electrolyte) loses energy on its way out through the electrolyte and the layers above it; the
detector sees E(d) < E0. The depth calibration is d(E), a polynomial in E (keV) giving d (um).

Energy: E (keV) = 0.696 * channel + 38.267 (Han et al. 2019 [P]); or fitted to reference
peaks (:meth:`EnergyCalibration.fit`).

Depth presets (Han et al. 2019 [P], METHODS):

================  =========  ================================================================
preset            particle   d (um) = c2 E^2 + c1 E + c0
================  =========  ================================================================
han2019-lipon     alpha      -3.654e-7 E^2 - 0.00207 E + 4.302
han2019-llzo      triton     -2.080e-7 E^2 - 0.00487 E + 22.013   (as printed)
han2019-llzo-x10  triton     -2.080e-6 E^2 - 0.00487 E + 22.013   (E^2 coefficient x10)
han2019-li3ps4    triton     -3.651e-7 E^2 - 0.00714 E + 39.598   (as printed)
han2019-li3ps4-x10 triton    -3.651e-6 E^2 - 0.00714 E + 39.598   (E^2 coefficient x10)
================  =========  ================================================================

[D] Stopping-power calculations reproduce the LiPON polynomial after a constant offset,
but the two triton polynomials only in the x10 reading: the printed -e-7 is probably an
extraction error. Both readings ship, flagged. The printed LLZO reading puts the interface
(d = 0) at 3870 keV, above the 2727 keV a triton is born with, which no stack can do.

Stopping-power calibration (:func:`stopping_calibration`, extra ``sescreen[stopping]``):
CATIMA (pycatima) mass stopping powers of every layer, Bragg additivity, the particle's
energy integrated outwards from each depth, and a polynomial d(E) fitted over a depth
window. TRAP handled: CATIMA reads a stoichiometric number below 1 as a weight fraction, so
formulas are scaled until every count is >= 1 (Li6.4La3Zr1.4Ta0.6O12 -> x 1/0.6).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sescreen.errors import FormatError, InputError
from sescreen.ndp.stopping import (
    PARTICLES,
    Layer,
    catima_material,
    energy_out,
    has_range_table,
)

__all__ = [
    "DEPTH_PRESETS",
    "HAN2019_ENERGY",
    "PARTICLES",
    "DepthCalibration",
    "EnergyCalibration",
    "Layer",
    "Stack",
    "depth_preset",
    "electrolyte_layer",
    "load_stack",
    "stopping_calibration",
    "stopping_layer",
]

#: Depth (um) above the electrolyte kept in every calibration: the current collector and
#: the plated lithium sit there, at negative depth, and belong to the surface region.
SURFACE_MARGIN_UM = 2.0
#: particle -> (mass number A, charge Z, birth energy keV)
_STACKS = Path(__file__).resolve().parent / "stacks"


@dataclass(frozen=True)
class EnergyCalibration:
    """Linear channel -> energy calibration: E (keV) = gain * channel + offset."""

    gain_kev: float
    offset_kev: float
    label: str = ""

    def energy(self, channel) -> np.ndarray:
        """Energy of channel centres, keV."""
        return self.gain_kev * np.asarray(channel, dtype=float) + self.offset_kev

    def channel(self, energy_kev) -> np.ndarray:
        """Fractional channel of an energy."""
        return (np.asarray(energy_kev, dtype=float) - self.offset_kev) / self.gain_kev

    @classmethod
    def fit(cls, channels, energies_kev, *, label: str = "fitted to reference peaks"):
        """Least-squares line through (channel, energy) reference peaks (>= 2)."""
        ch = np.asarray(channels, dtype=float)
        en = np.asarray(energies_kev, dtype=float)
        if ch.size < 2 or ch.size != en.size or np.unique(ch).size < 2:
            raise InputError("an energy calibration needs at least two distinct peaks")
        gain, offset = np.polyfit(ch, en, 1)
        if gain <= 0:
            raise InputError("the reference peaks give a non-increasing energy scale")
        return cls(float(gain), float(offset), label)


#: The paper's energy calibration (Han et al. 2019 [P]).
HAN2019_ENERGY = EnergyCalibration(0.696, 38.267, "Han et al. 2019: E = 0.696 ch + 38.267")


@dataclass(frozen=True)
class DepthCalibration:
    """d (um) = polynomial(E keV), highest power first, valid over ``energy_range_kev``.

    Depth grows as energy falls (particles from deeper lose more energy).
    """

    name: str
    particle: str
    coefficients: tuple[float, ...]
    energy_range_kev: tuple[float, float]
    label: str
    method: str = "preset"
    rms_um: float | None = None
    flags: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def depth(self, energy_kev) -> np.ndarray:
        """Depth (um) at energies (keV)."""
        return np.polyval(self.coefficients, np.asarray(energy_kev, dtype=float))

    def energy_at(self, depth_um) -> np.ndarray:
        """Inverse: the energy (keV) at which a particle from ``depth_um`` arrives."""
        grid = np.linspace(*self.energy_range_kev, 4001)
        d = self.depth(grid)
        order = np.argsort(d)
        return np.interp(np.asarray(depth_um, dtype=float), d[order], grid[order])

    @property
    def depth_range_um(self) -> tuple[float, float]:
        d = self.depth(np.array(self.energy_range_kev))
        return float(d.min()), float(d.max())

    def check_window(self, depth_lo_um: float, depth_hi_um: float) -> None:
        """Refuse a depth window outside the calibration's range."""
        lo, hi = self.depth_range_um
        tol = 0.01  # um: a window given to the calibration's own rounded ends is fine
        if depth_lo_um < lo - tol or depth_hi_um > hi + tol or depth_lo_um >= depth_hi_um:
            raise InputError(f"depth window {depth_lo_um:g}..{depth_hi_um:g} um is outside the "
                             f"calibration {self.name} ({lo:.3g}..{hi:.3g} um)")

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "particle": self.particle,
                "coefficients": list(self.coefficients),
                "energy_range_kev": list(self.energy_range_kev),
                "depth_range_um": list(self.depth_range_um), "rms_um": self.rms_um,
                "method": self.method, "label": self.label, "flags": list(self.flags),
                **{k: v for k, v in self.details.items() if k != "profile"}}

    def __str__(self) -> str:
        terms = " ".join(f"{c:+.4g} E^{len(self.coefficients) - 1 - k}"
                         for k, c in enumerate(self.coefficients))
        lo, hi = self.energy_range_kev
        lines = [f"{self.name} ({self.particle}, {self.method}): d(um) = {terms}",
                 f"  valid for E = {lo:.0f}..{hi:.0f} keV, depth {self.depth_range_um[0]:.3g}.."
                 f"{self.depth_range_um[1]:.3g} um" + (f", rms {self.rms_um:.3g} um"
                                                       if self.rms_um is not None else "")]
        return "\n".join(lines + [f"  flag: {f}" for f in self.flags])


def _preset_range(coefs, particle: str, max_depth_um: float) -> tuple[float, float]:
    """Energy range mapping to depth -SURFACE_MARGIN_UM..max_depth (clipped to the birth
    energy)."""
    e0 = PARTICLES[particle][2]
    grid = np.linspace(1.0, 4000.0, 40001)
    d = np.polyval(coefs, grid)
    inside = (d >= -SURFACE_MARGIN_UM) & (d <= max_depth_um) & (grid <= e0)
    if not inside.any():
        raise InputError("the polynomial maps no energy below the birth energy into the film")
    return float(grid[inside].min()), float(grid[inside].max())


# name -> (particle, coefficients, measurable depth um, label, flags)
_PRESETS: dict[str, tuple] = {
    "han2019-lipon": ("alpha", (-3.654e-7, -0.00207, 4.302), 3.2,
                      "Han et al. 2019, LiPON stack (0.7 um LiPON + 200 nm Cu + 3.2 um LiPON)",
                      ()),
    "han2019-llzo": ("triton", (-2.080e-7, -0.00487, 22.013), 16.0,
                     "Han et al. 2019, LLZO stack (7.5 um Kapton + 200 nm Cu + LLZO), as printed",
                     ("E^2 coefficient as printed (-2.080e-7); stopping powers support the x10 "
                      "reading (han2019-llzo-x10); the printed one puts d = 0 above the triton "
                      "birth energy",)),
    "han2019-llzo-x10": ("triton", (-2.080e-6, -0.00487, 22.013), 16.0,
                         "Han et al. 2019, LLZO stack, E^2 coefficient read x10 (METHODS [D])",
                         ("x10 reading of the printed E^2 coefficient (-2.080e-6 instead of "
                          "-2.080e-7): not printed in the paper",)),
    "han2019-li3ps4": ("triton", (-3.651e-7, -0.00714, 39.598), 24.0,
                       "Han et al. 2019, Li3PS4 stack (7.5 um Kapton + 300 nm Pt + Li3PS4), as "
                       "printed",
                       ("E^2 coefficient as printed (-3.651e-7); stopping powers support the x10 "
                        "reading (han2019-li3ps4-x10)",)),
    "han2019-li3ps4-x10": ("triton", (-3.651e-6, -0.00714, 39.598), 24.0,
                           "Han et al. 2019, Li3PS4 stack, E^2 coefficient read x10 "
                           "(METHODS [D])",
                           ("x10 reading of the printed E^2 coefficient (-3.651e-6 instead of "
                            "-3.651e-7): not printed in the paper",)),
}
DEPTH_PRESETS = tuple(_PRESETS)


def depth_preset(name: str) -> DepthCalibration:
    """One of the paper's depth calibrations (see the module table)."""
    if name not in _PRESETS:
        raise InputError(f"unknown depth preset {name!r}; choose one of "
                         f"{', '.join(DEPTH_PRESETS)}")
    particle, coefs, max_depth, label, flags = _PRESETS[name]
    e_lo, e_hi = _preset_range(coefs, particle, max_depth)
    details = {"interface_energy_kev": _interface_energy(coefs)}
    if details["interface_energy_kev"] is not None and \
            details["interface_energy_kev"] > PARTICLES[particle][2]:
        flags = (*flags, f"d = 0 falls at {details['interface_energy_kev']:.0f} keV, above the "
                 f"{PARTICLES[particle][2]:.0f} keV birth energy: physically impossible")
    return DepthCalibration(name, particle, tuple(coefs), (e_lo, e_hi), label, "preset", None,
                            tuple(flags), details)


def _interface_energy(coefs) -> float | None:
    roots = np.roots(coefs)
    real = [r.real for r in roots if abs(r.imag) < 1e-9 and r.real > 0]
    return float(min(real)) if real else None


# ---------------------------------------------------------------------------------------
# Stacks (TOML) and the stopping-power calibration
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stack:
    """Layers from the detector side inwards; the last is the profiled electrolyte."""

    name: str
    particle: str
    layers: tuple[Layer, ...]
    depth_window_um: tuple[float, float]
    degree: int = 2
    preset: str | None = None  #: the paper's polynomial for this stack, when there is one

    @property
    def electrolyte(self) -> Layer:
        return self.layers[-1]


def load_stack(spec: str | Path) -> Stack:
    """Read a stack from a TOML file, or a preset name (``han2019-lipon``, ...).

    TOML keys: ``name``, ``particle`` (alpha|triton), ``[[layers]]`` with ``name``,
    ``formula``, ``density_g_cm3``, ``thickness_um`` (detector side first, the electrolyte
    last), and ``[fit]`` with ``depth_window_um = [lo, hi]`` and ``degree``.
    """
    path = Path(spec)
    if not path.suffix and not path.exists():
        base = str(spec).removesuffix("-x10")
        path = _STACKS / f"{base}.toml"
        if not path.exists() or (base != str(spec) and str(spec) not in _PRESETS):
            raise InputError(f"unknown stack {spec!r}: give a TOML file, a stack "
                             f"({', '.join(sorted(p.stem for p in _STACKS.glob('*.toml')))}) or "
                             f"a depth preset ({', '.join(DEPTH_PRESETS)})")
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the stack ({exc.strerror})", path=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"not UTF-8 text (byte {exc.start}): save the stack TOML as UTF-8",
                          path=path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(f"not valid TOML ({exc})", path=path) from None
    except RecursionError:
        raise FormatError("not valid TOML (nested too deeply)", path=path) from None
    return _stack_from_data(data, path)


#: plausible ranges of a layer: density g/cm^3, thickness um
_DENSITY_RANGE = (1e-4, 25.0)
_THICKNESS_UM_RANGE = (1e-4, 1e5)


def _number(value, what: str, path: Path, lo: float | None = None,
            hi: float | None = None) -> float:
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FormatError(f"{what} must be a number, not {type(value).__name__} "
                          f"{str(value)[:40]!r}", path=path)
    v = float(value)
    if not math.isfinite(v) or (lo is not None and v < lo) or (hi is not None and v > hi):
        rng = f" ({lo:g} .. {hi:g})" if lo is not None and hi is not None else ""
        raise FormatError(f"{what} = {v!r} must be a finite number{rng}", path=path)
    return v


def _text(value, what: str, path: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FormatError(f"{what} must be a non-empty string (in quotes), not "
                          f"{str(value)[:40]!r}", path=path)
    return value


def formula_problem(formula) -> str | None:
    """None when ``formula`` is a chemical composition with finite, sensible amounts
    (pymatgen), else why not (never raises)."""
    import math

    from sescreen.literature import _formula_ok

    if not isinstance(formula, str) or not formula.strip():
        return "empty"
    if len(formula) > 200:
        return "longer than 200 characters"
    try:
        why = _formula_ok(formula)
        if why is not None:
            return why
        from pymatgen.core import Composition

        amounts = Composition(formula).get_el_amt_dict().values()
        if not all(math.isfinite(a) and 0 < a <= 1e4 for a in amounts):
            return "amounts must be finite numbers up to 1e4"
    except Exception as exc:  # pymatgen's parser on hostile text: any failure is a refusal
        return f"unparseable ({type(exc).__name__})"
    return None


def _stack_from_data(data: dict, path: Path) -> Stack:
    """Validate the parsed TOML of a stack: types, ranges, formulas (one line each)."""
    if "particle" not in data:
        raise FormatError("missing key 'particle' (see the stack format in "
                          "sescreen.ndp.calibration.load_stack)", path=path)
    particle = data["particle"]
    if not isinstance(particle, str) or particle not in PARTICLES:
        raise FormatError(f"particle must be one of {list(PARTICLES)}, not "
                          f"{str(particle)[:40]!r}", path=path)
    if "layers" not in data:
        raise FormatError("missing key 'layers' (see the stack format in "
                          "sescreen.ndp.calibration.load_stack)", path=path)
    raw_layers = data["layers"]
    if not isinstance(raw_layers, list) or not all(isinstance(ly, dict) for ly in raw_layers):
        raise FormatError("layers must be an array of tables ([[layers]] with formula, "
                          "density_g_cm3, thickness_um)", path=path)
    if not raw_layers:
        raise FormatError("a stack needs at least one layer (the electrolyte)", path=path)
    layers = []
    for k, ly in enumerate(raw_layers, 1):
        for key in ("formula", "density_g_cm3", "thickness_um"):
            if key not in ly:
                raise FormatError(f"layer {k}: missing key {key!r}", path=path)
        formula = _text(ly["formula"], f"layer {k}: formula", path)
        name = _text(ly.get("name", formula), f"layer {k}: name", path)
        density = _number(ly["density_g_cm3"], f"layer {name!r}: density_g_cm3", path,
                          *_DENSITY_RANGE)
        thick = _number(ly["thickness_um"], f"layer {name!r}: thickness_um", path,
                        *_THICKNESS_UM_RANGE)
        why = formula_problem(formula)
        if why is not None:
            raise FormatError(f"layer {name!r}: formula {formula[:60]!r} is not a chemical "
                              f"composition ({why})", path=path)
        layers.append(Layer(name, formula, density, thick))
    fit = data.get("fit", {})
    if not isinstance(fit, dict):
        raise FormatError("fit must be a table ([fit] with depth_window_um and degree)",
                          path=path)
    window = fit.get("depth_window_um", [0.0, layers[-1].thickness_um])
    if not isinstance(window, list) or len(window) != 2:
        raise FormatError("fit.depth_window_um must be [lo, hi] (um)", path=path)
    window = tuple(_number(x, "fit.depth_window_um", path) for x in window)
    if not 0 <= window[0] < window[1] <= layers[-1].thickness_um:
        raise FormatError("fit.depth_window_um must be [lo, hi] inside the electrolyte layer",
                          path=path)
    degree = fit.get("degree", 2)
    if isinstance(degree, bool) or not isinstance(degree, int) or not 1 <= degree <= 6:
        raise FormatError(f"fit.degree = {str(degree)[:20]!r} must be a whole number 1 .. 6 "
                          "(the depth polynomial's degree)", path=path)
    name = data.get("name", path.stem)
    preset = data.get("preset")
    if preset is not None and not isinstance(preset, str):
        raise FormatError("preset must be a string (a depth preset's name)", path=path)
    return Stack(_text(str(name), "name", path), particle, tuple(layers), window, degree,
                 preset)


def stopping_calibration(stack: Stack, *, n_depths: int = 41) -> DepthCalibration:
    """Depth calibration of a stack from CATIMA stopping powers (extra ``stopping``).

    Particles are born at ``n_depths`` depths across the fit window of the electrolyte
    (last layer), carried out through the rest of the electrolyte above them and every
    layer above it, and d(E) is fitted with a polynomial of ``stack.degree``.
    """
    try:
        import pycatima  # noqa: F401
    except ImportError:
        raise InputError("stopping-power calibrations need pycatima: pip install "
                         "'sescreen[stopping]', or use a preset (--method preset)") from None
    mass_u, charge, e0 = PARTICLES[stack.particle]
    depths = np.linspace(*stack.depth_window_um, n_depths)
    se = catima_material(stack.electrolyte)
    # through the electrolyte from each depth to the interface (one integration per depth)
    energies = np.array([energy_out(np.array([e0]), se, d, mass_u, charge,
                                     steps=max(4, int(d / 0.05)))[0] if d > 0 else e0
                         for d in depths])
    for layer in reversed(stack.layers[:-1]):
        energies = energy_out(energies, catima_material(layer), layer.thickness_um, mass_u,
                               charge, steps=max(4, int(layer.thickness_um / 0.05)))
    if np.any(energies <= 50.0) or np.any(np.diff(energies) >= 0):
        reach = depths[np.argmax(energies <= 50.0)] if np.any(energies <= 50.0) else depths[-1]
        raise InputError(f"stack {stack.name}: {stack.particle}s from beyond about "
                         f"{reach:.3g} um stop before the detector; shorten the depth window "
                         "(fit.depth_window_um) to the depth they can escape from")
    coefs = np.polyfit(energies, depths, stack.degree)
    resid = depths - np.polyval(coefs, energies)
    # extend upwards to the surface margin (current collector and plated Li), by the
    # polynomial, never past the birth energy
    grid = np.linspace(energies.max(), e0, 2001)
    above = grid[np.polyval(coefs, grid) >= -SURFACE_MARGIN_UM]
    e_hi = float(above.max()) if above.size else float(energies.max())
    return DepthCalibration(
        stack.name, stack.particle, tuple(float(c) for c in coefs),
        (float(energies.min()), e_hi),
        f"CATIMA stopping powers through {' + '.join(ly.name for ly in stack.layers)}",
        "stopping", float(np.sqrt(np.mean(resid**2))), (),
        {"profile": (depths.tolist(), energies.tolist()),
         "electrolyte": {"formula": stack.electrolyte.formula,
                         "density_g_cm3": stack.electrolyte.density_g_cm3}})


def electrolyte_layer(depth_cal: DepthCalibration) -> Layer | None:
    """The profiled electrolyte of a depth calibration: a stopping-power calibration's, or
    its preset's stack; None when it is not known."""
    if "electrolyte" in depth_cal.details:
        el = depth_cal.details["electrolyte"]
        return Layer("electrolyte", el["formula"], float(el["density_g_cm3"]), 1.0)
    if depth_cal.method == "preset" and depth_cal.name in DEPTH_PRESETS:
        return _preset_electrolyte(depth_cal.name)
    return None


@functools.cache
def _preset_electrolyte(name: str) -> Layer | None:
    """A preset stack's electrolyte (its file read once per process; Layer is frozen)."""
    try:
        return load_stack(name).electrolyte
    except InputError:
        return None


def stopping_layer(depth_cal: DepthCalibration, host=None) -> Layer | None:
    """The electrolyte whose stopping the plated lithium's effects are computed with: the
    ``host`` (formula, density g/cm^3) when given, else :func:`electrolyte_layer`; None
    when neither is known or its stopping is not (no shipped range table, and CATIMA, the
    optional ``stopping`` extra, not installed)."""
    layer = (Layer("host", str(host[0]), float(host[1]), 1.0) if host is not None
             else electrolyte_layer(depth_cal))
    if layer is None or not has_range_table(layer, depth_cal.particle):
        return None
    return layer


def compare_with_preset(calc: DepthCalibration, preset: DepthCalibration) -> dict[str, float]:
    """Depth difference (um) of a computed calibration and a preset over their common
    energy range: raw, and after removing the best constant offset."""
    lo = max(calc.energy_range_kev[0], preset.energy_range_kev[0])
    hi = min(calc.energy_range_kev[1], preset.energy_range_kev[1])
    if lo >= hi:
        return {"overlap_kev": 0.0, "offset_um": math.nan, "max_abs_um": math.nan,
                "max_abs_after_offset_um": math.nan}
    grid = np.linspace(lo, hi, 200)
    diff = calc.depth(grid) - preset.depth(grid)
    offset = float(np.mean(diff))
    return {"overlap_kev": float(hi - lo), "offset_um": offset,
            "max_abs_um": float(np.max(np.abs(diff))),
            "max_abs_after_offset_um": float(np.max(np.abs(diff - offset)))}
