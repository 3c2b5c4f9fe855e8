"""Stopping of the NDP particles in a layer, and what plated lithium does to the depths
(METHODS.md section 5).

CATIMA (pycatima, the optional extra ``sescreen[stopping]``) gives the electronic plus
nuclear stopping power of a particle in a compound by Bragg additivity. From it: the energy
left after a layer (:func:`energy_out`), the residual-range table of a particle in a layer
(:func:`range_table`), and the birth depth of a particle seen at an apparent depth once
lithium is plated at the front (:func:`plated_depths`, :func:`plated_lithium_shift`).

The range tables of the preset stacks' electrolytes and of lithium metal ship with the
package (``stacks/range_tables.csv``, written from CATIMA by
:func:`write_range_tables`), so the plated-lithium corrections of a preset need no
pycatima and give the same numbers with it and without it; any other layer is computed.
TRAP handled: CATIMA reads a stoichiometric number below 1 as a weight fraction, so formulas
are scaled until every count is >= 1 (Li6.4La3Zr1.4Ta0.6O12 -> x 1/0.6).
"""

from __future__ import annotations

import csv
import functools
import importlib.metadata
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["LI_METAL", "LI_METAL_ATOMS_CM3", "PARTICLES", "Layer", "catima_material",
           "energy_out", "has_range_table", "plated_depths", "plated_lithium_shift",
           "range_table", "write_range_tables"]

#: mass (u), charge and birth energy (keV) of the particles of 6Li(n, alpha)3H
PARTICLES = {"alpha": (4.001506, 2, 2055.0), "triton": (3.01550, 1, 2727.0)}
#: the shipped range tables
RANGE_TABLES = Path(__file__).resolve().parent / "stacks" / "range_tables.csv"
#: energies of a range table: this many, evenly from 10 keV to the birth energy
_TABLE_POINTS = 600
_TABLE_LOW_KEV = 10.0


@dataclass(frozen=True)
class Layer:
    """One layer: formula, mass density (g/cm^3), thickness (um)."""

    name: str
    formula: str
    density_g_cm3: float
    thickness_um: float


#: Lithium metal: the plated layer (atoms/cm^3 from 0.534 g/cm^3 and 6.94 g/mol)
LI_METAL = Layer("Li metal", "Li", 0.534, 1.0)
LI_METAL_ATOMS_CM3 = 0.534 / 6.94 * 6.02214076e23


def _dedx_kev_um(material, mass_u: float, charge: int, energies_kev) -> np.ndarray:
    """CATIMA stopping powers (keV/um) of a particle (mass u, charge) in a pycatima
    Material at the given energies (keV); 0 at 1 keV and below (stopped)."""
    import pycatima

    density = material.density()
    out = np.zeros(len(energies_kev))
    for k, ek in enumerate(energies_kev):
        if ek > 1.0:
            proj = pycatima.Projectile(mass_u, charge, charge, ek / 1e3 / mass_u)
            out[k] = pycatima.dedx(proj, material) * density * 0.1  # MeV cm2/g -> keV/um
    return out


def _catima_stopping(layer: Layer, particle: str, energies_kev: np.ndarray) -> np.ndarray:
    """CATIMA stopping powers (keV/um) of a particle in a layer at the given energies."""
    mass_u, charge, _ = PARTICLES[particle]
    return _dedx_kev_um(catima_material(layer), mass_u, charge, energies_kev)


def _table_energies(particle: str) -> np.ndarray:
    """The energies (keV) of a range table of ``particle``."""
    return np.linspace(_TABLE_LOW_KEV, PARTICLES[particle][2], _TABLE_POINTS)


@functools.cache
def _shipped() -> dict[tuple[str, float, str], np.ndarray]:
    """The shipped stopping powers, keyed by (formula, density g/cm^3, particle)."""
    out: dict[tuple[str, float, str], list[float]] = {}
    if not RANGE_TABLES.is_file():
        return {}
    with RANGE_TABLES.open(newline="", encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        for row in rows:
            key = (row["formula"], float(row["density_g_cm3"]), row["particle"])
            out.setdefault(key, []).append((float(row["energy_kev"]),
                                            float(row["stopping_kev_um"])))
    tables = {}
    for key, pairs in out.items():
        e, s = np.array(pairs).T
        if e.size == _TABLE_POINTS and np.allclose(e, _table_energies(key[2]), rtol=1e-9):
            tables[key] = s
    return tables


def has_range_table(layer: Layer, particle: str) -> bool:
    """Whether :func:`range_table` can answer for this layer: it ships, or pycatima is
    installed."""
    if (layer.formula, float(layer.density_g_cm3), particle) in _shipped():
        return True
    try:
        import pycatima  # noqa: F401
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=32)
def range_table(layer: Layer, particle: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Energies (keV), stopping powers (keV/um) and residual ranges (um) of a particle in a
    layer, from 10 keV to the birth energy: the shipped table of the layer's formula and
    density when there is one, else computed with CATIMA (read-only arrays, cached: a
    forward model asks for them at every frame). The residual range is the trapezoidal
    integral of 1/S over the energy.

    Raises
    ------
    ImportError
        Neither shipped nor pycatima installed (:func:`has_range_table` says which).
    """
    e = _table_energies(particle)
    s = _shipped().get((layer.formula, float(layer.density_g_cm3), particle))
    if s is None:
        s = _catima_stopping(layer, particle, e)
    else:
        s = s.copy()
    r = np.concatenate([[0.0], np.cumsum(np.diff(e) * 0.5 * (1 / s[1:] + 1 / s[:-1]))])
    for a in (e, s, r):
        a.setflags(write=False)
    return e, s, r


def write_range_tables(layers=None, path: Path = RANGE_TABLES) -> Path:
    """Write CATIMA's stopping powers of ``layers`` (default: every preset stack's
    electrolyte) and of lithium metal, for both particles, to ``path`` (atomically): what
    ships. Regenerate with ``python -c "from sescreen.ndp.stopping import
    write_range_tables; write_range_tables()"``."""
    from sescreen.atomic import atomic_write_text

    if layers is None:
        from sescreen.ndp.calibration import DEPTH_PRESETS, _preset_electrolyte

        found = {_preset_electrolyte(name) for name in DEPTH_PRESETS} - {None}
        layers = sorted(found, key=lambda ly: ly.formula)
    seen, lines = set(), []
    for layer in [LI_METAL, *layers]:
        for particle in PARTICLES:
            key = (layer.formula, float(layer.density_g_cm3), particle)
            if key in seen:
                continue
            seen.add(key)
            e = _table_energies(particle)
            s = _catima_stopping(layer, particle, e)
            lines += [f"{layer.formula},{float(layer.density_g_cm3)!r},{particle},"
                      f"{float(ek):.10g},{float(sk)!r}" for ek, sk in zip(e, s, strict=True)]
    version = importlib.metadata.version("pycatima")
    header = [f"# CATIMA (pycatima {version}) stopping powers of the NDP particles, keV/um, "
              f"at {_TABLE_POINTS} energies from {_TABLE_LOW_KEV:g} keV to the birth energy;",
              "# regenerate: python -c 'from sescreen.ndp.stopping import "
              "write_range_tables; write_range_tables()'",
              "formula,density_g_cm3,particle,energy_kev,stopping_kev_um"]
    atomic_write_text(path, "\n".join(header + lines) + "\n")
    return path


def catima_material(layer: Layer):
    """A pycatima Material, formula counts scaled so that none is below 1 (the trap)."""
    import pycatima
    from pymatgen.core import Composition, Element

    comp = Composition(layer.formula)
    amounts = {el: amt for el, amt in comp.get_el_amt_dict().items()}
    low = min(amounts.values())
    scale = 1.0 / low if low < 1 else 1.0
    elements = [[Element(el).atomic_mass.real, Element(el).Z, amt * scale]
                for el, amt in amounts.items()]
    return pycatima.Material(elements, density=layer.density_g_cm3)


def energy_out(e_kev: np.ndarray, layer_material, thickness_um: float, mass_u: float,
                charge: int, steps: int = 200) -> np.ndarray:
    """Energies (keV) after crossing a layer, RK4 in path length with CATIMA dE/dx."""
    h = thickness_um / steps

    def dedx_kev_um(e):
        return _dedx_kev_um(layer_material, mass_u, charge, e)

    e = np.array(e_kev, dtype=float)
    for _ in range(steps):
        k1 = dedx_kev_um(e)
        k2 = dedx_kev_um(np.maximum(e - h / 2 * k1, 0.0))
        k3 = dedx_kev_um(np.maximum(e - h / 2 * k2, 0.0))
        k4 = dedx_kev_um(np.maximum(e - h * k3, 0.0))
        e = np.maximum(e - h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), 0.0)
    return e



def plated_depths(electrolyte: Layer, particle: str, apparent_um,
                  li_um: float) -> tuple[np.ndarray, np.ndarray]:
    """Where a particle seen at an apparent depth was born, once ``li_um`` of lithium is
    plated between the current collector and the electrolyte (CATIMA stopping powers).

    The apparent depth ``a`` is the electrolyte depth a calibration without lithium gives
    to the detected energy, i.e. the energy E_SE(a) on leaving the electrolyte's front,
    R_SE(E_SE(a)) = R_SE(E_0) - a (R: residual range, E_0: birth energy). A particle born
    u below the lithium's top arrives there with R_Li(E) = R_Li(E_0) - u; one born at the
    depth x in the electrolyte crosses all of the lithium, R_Li(E) = R_Li(E_SE(x)) - t.
    Apparent depths up to the one of u = t are the plated layer, deeper ones the
    electrolyte pushed deeper.

    Parameters
    ----------
    electrolyte : Layer
    particle : str
    apparent_um : array_like
        Apparent depths, um (negative ones: the lithium's top).
    li_um : float
        Plated lithium thickness t, um (>= 0).

    Returns
    -------
    u_um, x_um : numpy.ndarray
        Depth below the lithium's top (NaN where the electrolyte is seen) and depth in the
        electrolyte (NaN where the lithium is seen), um.
    """
    e, _, r_se = range_table(electrolyte, particle)
    _, _, r_li = range_table(LI_METAL, particle)
    a = np.clip(np.asarray(apparent_um, dtype=float), 0.0, r_se[-1])
    r_li_e = np.interp(np.interp(r_se[-1] - a, r_se, e), e, r_li)
    u = r_li[-1] - r_li_e
    t = max(float(li_um), 0.0)
    in_li = u <= t
    e_front = np.interp(np.minimum(r_li_e + t, r_li[-1]), r_li, e)
    x = r_se[-1] - np.interp(e_front, e, r_se)
    return np.where(in_li, u, np.nan), np.where(in_li, np.nan, x)


def plated_lithium_shift(electrolyte: Layer, particle: str, deep_um: float,
                         li_atoms_cm2: float) -> dict[str, float] | None:
    """Depth of electrolyte pushed out of the deep end of a depth window by lithium plated
    between the current collector and the electrolyte (CATIMA stopping powers).

    A particle born at depth x in the electrolyte crosses, after plating, a lithium layer
    of thickness t = li_atoms_cm2 / n_Li before the layers above. The window's deep end is
    a fixed detected energy, the one of a particle from ``deep_um`` (D) without lithium:
    with the same layers above, that is a fixed energy E_D = E_SE(D) on leaving the
    electrolyte + lithium. After plating it is reached from the depth x with
    R_Li(E_SE(x)) = R_Li(E_D) + t (R: residual range), so electrolyte from D - delta to D
    leaves the window, with delta = R_SE(E_SE(x)) - R_SE(E_D) ~ t S_Li(E_D) / S_SE(E_D)
    (to first order in t). The host lithium lost is n_host delta; the plated lithium is
    n_Li t = Q/e, so the lithium seen is Q/e [1 - (n_host S_Li) / (n_Li S_SE)].
    Stopping depends on the areal density crossed: delta n_host and the ratio do not depend
    on the density (porosity) of either layer, only on their composition.

    Returns
    -------
    dict or None
        ``delta_um`` (exact in the range tables), ``stopping_ratio`` (S_Li / S_SE at E_D),
        ``li_um`` (t), ``energy_kev`` (E_D); None when the particle from D stops in the
        electrolyte.
    """
    e, s_se, r_se = range_table(electrolyte, particle)
    _, s_li, _ = range_table(LI_METAL, particle)
    deep = max(float(deep_um), 0.0)
    if deep >= r_se[-1]:
        return None
    e_d = float(np.interp(r_se[-1] - deep, r_se, e))
    t_um = float(li_atoms_cm2) / LI_METAL_ATOMS_CM3 * 1e4
    # the electrolyte depth now seen at the deep end (none: all of the window is lithium)
    x = float(plated_depths(electrolyte, particle, deep, t_um)[1])
    delta = deep - (0.0 if math.isnan(x) else x)
    return {"delta_um": float(delta), "li_um": t_um, "energy_kev": e_d,
            "stopping_ratio": float(np.interp(e_d, e, s_li) / np.interp(e_d, e, s_se))}

