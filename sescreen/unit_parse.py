"""Unit strings parsed without pint, for the units the field writes.

:mod:`sescreen.units` asks this module first and builds a pint registry (0.3-0.5 s: pint's
import, which pulls in dask and uncertainties when installed, and the parsing of its unit
definitions) only for what this module defers. Names are resolved as pint resolves them,
from a snapshot of the installed pint's unit and prefix names (``pint_names.txt``, checked
against pint by ``tests/test_units.py``): a name pint does not define is refused here at
once (unless it cancels: pint reads ``X/X`` as 1); a name pint defines but :data:`_OWN`
does not is deferred to pint, as is any syntax beyond products, quotients and numeric
powers of names (parentheses, numbers, ``per``...). So the answer is pint's, for any
string, only faster (a property test compares the two).
"""

from __future__ import annotations

import functools
import math
import re

from sescreen.errors import InputError

__all__ = ["parse_unit"]

_BASE = "LMTIKN"  # length, mass, time, current, temperature, substance


def _dims(**powers: float) -> tuple[float, ...]:
    """Dimension exponents over :data:`_BASE` (``_dims(L=1, T=-1)`` is a speed)."""
    return tuple(float(powers.get(key, 0)) for key in _BASE)


_VOLT = _dims(M=1, L=2, T=-3, I=-1)
_OHM = _dims(M=1, L=2, T=-3, I=-2)
_ENERGY = _dims(M=1, L=2, T=-2)
_PRESSURE = _dims(M=1, L=-1, T=-2)
#: pint unit name -> (factor to SI, dimension exponents, offset to SI); every name here
#: is checked against pint's own definition by tests/test_units.py.
_OWN: dict[str, tuple[float, tuple[float, ...], float]] = {
    **dict.fromkeys(("s", "sec", "second"), (1.0, _dims(T=1), 0.0)),
    **dict.fromkeys(("min", "minute"), (60.0, _dims(T=1), 0.0)),
    **dict.fromkeys(("h", "hr", "hour"), (3600.0, _dims(T=1), 0.0)),
    **dict.fromkeys(("d", "day"), (86400.0, _dims(T=1), 0.0)),
    **dict.fromkeys(("A", "amp", "ampere"), (1.0, _dims(I=1), 0.0)),
    **dict.fromkeys(("Ah", "ampere_hour"), (3600.0, _dims(I=1, T=1), 0.0)),
    **dict.fromkeys(("C", "coulomb"), (1.0, _dims(I=1, T=1), 0.0)),
    **dict.fromkeys(("V", "volt"), (1.0, _VOLT, 0.0)),
    **dict.fromkeys(("ohm",), (1.0, _OHM, 0.0)),
    **dict.fromkeys(("S", "siemens"), (1.0, tuple(-p for p in _OHM), 0.0)),
    **dict.fromkeys(("F", "farad"), (1.0, _dims(M=-1, L=-2, T=4, I=2), 0.0)),
    **dict.fromkeys(("W", "watt"), (1.0, _dims(M=1, L=2, T=-3), 0.0)),
    **dict.fromkeys(("Wh", "watt_hour"), (3600.0, _ENERGY, 0.0)),
    **dict.fromkeys(("J", "joule"), (1.0, _ENERGY, 0.0)),
    **dict.fromkeys(("eV", "electron_volt"), (1.602176634e-19, _ENERGY, 0.0)),
    **dict.fromkeys(("Hz", "hertz"), (1.0, _dims(T=-1), 0.0)),
    **dict.fromkeys(("m", "meter", "metre"), (1.0, _dims(L=1), 0.0)),
    **dict.fromkeys(("g", "gram"), (1e-3, _dims(M=1), 0.0)),
    **dict.fromkeys(("Pa", "pascal"), (1.0, _PRESSURE, 0.0)),
    **dict.fromkeys(("bar",), (1e5, _PRESSURE, 0.0)),
    **dict.fromkeys(("N", "newton"), (1.0, _dims(M=1, L=1, T=-2), 0.0)),
    **dict.fromkeys(("K", "kelvin"), (1.0, _dims(K=1), 0.0)),
    **dict.fromkeys(("degC", "celsius", "degree_Celsius"), (1.0, _dims(K=1), 273.15)),
    **dict.fromkeys(("mol", "mole"), (1.0, _dims(N=1), 0.0)),
    **dict.fromkeys(("M", "molar"), (1e3, _dims(N=1, L=-3), 0.0)),
    **dict.fromkeys(("deg", "degree"), (math.pi / 180, _dims(), 0.0)),
}
#: words pint's preprocessor rewrites (``m per s``, ``cm squared``): pint's business
_PINT_WORDS = {"per", "squared", "cubed", "cubic", "square", "sq", "dimensionless"}
#: names pint reads as numbers
_NUMBER_WORDS = {"nan", "inf", "infinity"}
_FACTOR = re.compile(r"([A-Za-z_]+)(?:\s*(?:\*\*|\^)\s*(-?\d+(?:\.\d+)?))?")
_SEPARATOR = re.compile(r"\s*([*/.])\s*|\s+")  # pint reads "ohm.cm" as ohm*cm


@functools.lru_cache(maxsize=1)
def _pint_names() -> tuple[list[tuple[str, float]], frozenset[str]]:
    """(prefixes in pint's order with their factors, pint's unit names) from the snapshot."""
    from importlib.resources import files

    prefixes: list[tuple[str, float]] = [("", 1.0)]
    names: set[str] = set()
    section = None
    text = files("sescreen").joinpath("pint_names.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
        elif section == "[prefixes]":
            name, value = line.split()
            prefixes.append((name, float(value)))
        else:
            names.update(line.split())
    return prefixes, frozenset(names)


def _resolve(name: str) -> tuple[float, str] | None:
    """(prefix factor, unit name) as pint's ``get_name`` picks them, or None if pint does
    not define ``name``: the name itself, else the first prefix (in pint's order) and then
    plural ``s`` whose remainder is a unit name."""
    prefixes, names = _pint_names()
    if name in names:
        return 1.0, name
    for suffix in ("", "s"):
        if not name.endswith(suffix):
            continue
        for prefix, value in prefixes:
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix):len(name) - len(suffix)]
            if suffix and len(rest) == 1:
                continue
            if rest in names:
                return value, rest
    return None


def parse_unit(text: str) -> tuple[float, tuple[float, ...], float] | None:
    """Parse a unit in pint syntax (after :func:`sescreen.units` normalized its spelling).

    Parameters
    ----------
    text : str
        Products, quotients and numeric powers of unit names, evaluated left to right as
        pint does: ``"mA/cm**2"``, ``"mA cm**-2"``, ``"S/cm"``, ``"Pa*m**0.5"``.

    Returns
    -------
    tuple of (float, tuple of float, float) or None
        ``(factor, dimension exponents, offset)`` with ``si = value * factor + offset``;
        the exponents are over (m, kg, s, A, K, mol). None where pint must decide (a unit
        name or syntax this module does not handle).

    Raises
    ------
    InputError
        A name that pint does not define either (``"furlongz"``, ``"red"``).
    """
    powers = _powers(text.strip())
    if powers is None:
        return None
    scale, dims, offset = 1.0, [0.0] * 6, 0.0
    for written, power in powers.items():
        found = _resolve(written)
        if found is None:
            raise InputError(f"unknown unit {written!r}")
        prefix, name = found
        if name not in _OWN:
            return None
        unit_scale, unit_dims, offset = _OWN[name]
        if offset and prefix != 1.0:
            raise InputError(f"unknown unit {written!r}")  # pint: no prefixed offset units
        if offset and (len(powers) > 1 or power != 1.0):
            return None  # pint takes an offset unit in a product as its delta
        scale *= (prefix * unit_scale) ** power
        dims = [d + power * u for d, u in zip(dims, unit_dims, strict=True)]
    return scale, tuple(dims), offset


def _powers(text: str) -> dict[str, float] | None:
    """Net power of each name as written (pint cancels ``X/X`` before it looks names up),
    or None for syntax left to pint."""
    pos, op, powers = 0, "*", {}
    while True:
        m = _FACTOR.match(text, pos)
        if not m or m[1] in _PINT_WORDS or m[1].lower() in _NUMBER_WORDS:
            return None
        power = float(m[2]) if m[2] else 1.0
        powers[m[1]] = powers.get(m[1], 0.0) + (-power if op == "/" else power)
        pos = m.end()
        if pos == len(text):
            return {name: p for name, p in powers.items() if p != 0}
        sep = _SEPARATOR.match(text, pos)
        if not sep or sep.end() == len(text):
            return None
        op, pos = "/" if sep[1] == "/" else "*", sep.end()
