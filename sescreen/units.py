"""Units: quantity strings at the edges ("1 mm", "30 C"), SI inside.

This module normalizes the spellings found in instrument headers and on command lines (micro
signs, ``cm2``, ``V vs. Ref.``, a bare ``C`` after a temperature); :mod:`sescreen.unit_parse`
converts the units the field uses, and pint does the unit algebra of anything else: it is
imported, and its registry built, only when a unit needs it (never for the field's own units,
never at import time).
"""

from __future__ import annotations

import functools
import math
import re

from sescreen.errors import InputError
from sescreen.unit_parse import parse_unit

__all__ = [
    "DIMENSIONS",
    "column_unit",
    "factor",
    "parse_quantity",
    "parse_temperature",
]


#: SI unit of each dimension sescreen converts to (the project's internal units).
DIMENSIONS: dict[str, str] = {
    "time": "s",
    "current": "A",
    "voltage": "V",
    "temperature": "K",
    "length": "m",
    "area": "m**2",
    "current_density": "A/m**2",
    "pressure": "Pa",
    "charge": "C",
    "fracture_toughness": "Pa*m**0.5",
    "area_resistance": "ohm*m**2",
}

_MAX_UNIT_LEN = 64
#: Units users write on a command line, for hints (the field's units, not SI).
_FIELD_UNITS = {"length": "mm", "area": "cm2", "current_density": "mA/cm2", "voltage": "V",
                "time": "s", "pressure": "MPa", "current": "nA", "temperature": "C",
                "fracture_toughness": "MPa*m^0.5", "area_resistance": "ohm*cm^2"}
_MICRO = re.compile("[\u00b5\u03bc]")  # micro sign and Greek mu


def _example_unit(dimension: str) -> str:
    return _FIELD_UNITS.get(dimension, DIMENSIONS.get(dimension, "?"))
_SECONDS = {"sec", "secs", "second", "seconds"}
_POWER = re.compile(r"([a-zA-Z])(-?[1-3])\b")  # cm2 -> cm**2, Ohm-1 -> Ohm**-1
_SUPERSCRIPT = {"\u00b2": "**2", "\u00b3": "**3", "\u207b\u00b9": "**-1", "\u207b\u00b2": "**-2"}


@functools.lru_cache(maxsize=1)
def _registry():
    import pint

    return pint.UnitRegistry(cache_folder=None)


@functools.lru_cache(maxsize=1)
def _dimension_of() -> dict[tuple[float, ...], str]:
    """Dimension exponents (as :func:`parse_unit` gives them) -> name in DIMENSIONS."""
    return {parse_unit(si)[1]: dim for dim, si in DIMENSIONS.items()}


def _normalize(unit: str) -> str:
    """Rewrite instrument and command-line spellings of a unit into pint syntax."""
    text = unit.strip()
    text = re.sub(r"\s*vs\.?\s*.*$", "", text)  # Gamry "V vs. Ref." -> "V"
    if text.lower() in _SECONDS:  # "Sec", "secs", "Seconds" (Maccor, CH Instruments)
        return "s"
    text = _MICRO.sub("u", text)
    for sup, rep in _SUPERSCRIPT.items():
        text = text.replace(sup, rep)
    # a degree sign mangled on the way: UTF-8 read as cp1252/latin-1 ("Â°", twice "Ã‚Â°"),
    # the ordinal sign typed for it ("ºC")
    text = text.replace("\u00c3\u201a\u00c2\u00b0", "\u00b0").replace("\u00c2\u00b0", "\u00b0")
    text = re.sub("\u00ba(?=C$)", "\u00b0", text)
    text = text.replace("\u00b0C", "degC").replace("deg C", "degC").replace("\u00b0", "deg")
    text = re.sub(r"\bOhm\b", "ohm", text)
    text = re.sub(r"\bmA\.h\b", "mA*h", text).replace("W.h", "W*h")
    text = _POWER.sub(r"\1**\2", text)
    return text


@functools.lru_cache(maxsize=512)
def _unit_info(unit: str) -> tuple[str, float, float]:
    """(dimension, scale, offset) converting ``unit`` to the dimension's SI unit."""
    if len(unit) > _MAX_UNIT_LEN:  # not a unit; pint and _normalize are slow on long text
        raise InputError(f"unknown unit {unit[:20]!r}...")
    if "\ufffd" in unit or "?" in unit:
        # a character an encoding lost (often the prefix: "I/\ufffdA" was "I/µA"); pint skips
        # it and reads ampere, a scale 1e6 off (review readers2)
        raise InputError(f"unknown unit {unit!r} (a character lost to an encoding)")
    norm = _normalize(unit)
    if norm in {"", "#", "bits", "%"}:
        return ("dimensionless", 1.0, 0.0)
    try:
        own = parse_unit(norm)
    except InputError:
        raise InputError(f"unknown unit {unit!r}") from None
    if own is not None:
        scale, dims, offset = own
        dim = _dimension_of().get(dims)
        if dim is not None:
            return (dim, scale, offset)
        return ("other", 1.0, 0.0) if any(dims) else ("dimensionless", scale, 0.0)
    return _pint_info(unit, norm)


def _pint_info(unit: str, norm: str) -> tuple[str, float, float]:
    """:func:`_unit_info` by pint, for the units :func:`parse_unit` leaves to it."""
    ureg = _registry()
    try:
        parsed = ureg.Unit(norm)
    except Exception as exc:  # pint raises several unrelated types for bad units
        raise InputError(f"unknown unit {unit!r}") from exc
    for dim, si in DIMENSIONS.items():
        target = ureg.Unit(si)
        if parsed.dimensionality == target.dimensionality:
            if dim == "temperature":
                q0 = ureg.Quantity(0.0, parsed).to(target).magnitude
                q1 = ureg.Quantity(1.0, parsed).to(target).magnitude
                return (dim, q1 - q0, q0)
            return (dim, float(ureg.Quantity(1.0, parsed).to(target).magnitude), 0.0)
    if parsed.dimensionless:
        return ("dimensionless", float(ureg.Quantity(1.0, parsed).to("").magnitude), 0.0)
    return ("other", 1.0, 0.0)


def column_unit(unit: str | None) -> tuple[str, float, float]:
    """Classify a column's unit and give its conversion to SI.

    Parameters
    ----------
    unit : str or None
        The unit as written in a file header (``mA``, ``µA``, ``V vs. Ref.``, ``deg C``).

    Returns
    -------
    tuple of (str, float, float)
        ``(dimension, scale, offset)`` so that ``si = value * scale + offset``. A valid unit
        of a dimension sescreen does not convert (ohm, W, Hz) gives ``"other"``; a missing
        or unknown unit gives ``"unknown"``; both with ``(1.0, 0.0)``: the column is kept
        as it is.
    """
    if unit is None or not unit.strip():
        return ("unknown", 1.0, 0.0)
    try:
        return _unit_info(unit.strip())
    except InputError:
        return ("unknown", 1.0, 0.0)


@functools.lru_cache(maxsize=256)
def factor(unit: str, target: str) -> float:
    """Multiplicative factor from ``unit`` to ``target`` (``factor("mS/cm", "S/cm")`` =
    1e-3), for units without an offset. Instrument spellings are accepted.

    Raises
    ------
    InputError
        Unknown unit, or a unit of another dimension than ``target``.
    """
    error = f"cannot convert {unit!r} to {target!r}"
    try:
        own = parse_unit(_normalize(unit)), parse_unit(_normalize(target))
    except InputError:
        raise InputError(error) from None
    if None not in own and not (own[0][2] or own[1][2]):  # pint's own business: offsets
        (scale, dims, _), (target_scale, target_dims, _) = own
        if dims != target_dims:
            raise InputError(error)
        return scale / target_scale
    ureg = _registry()
    try:
        q = ureg.Quantity(1.0, _normalize(unit)).to(_normalize(target))
    except Exception as exc:  # pint: UndefinedUnitError, DimensionalityError, ...
        raise InputError(error) from exc
    return float(q.magnitude)


_TEMPERATURE = re.compile(
    r"^\s*(?P<num>[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*"
    r"(?P<unit>K|C|\u00b0C|degC|deg C|celsius|kelvin)?\s*$",
    re.IGNORECASE,
)


def parse_temperature(text: str | float, *, default_unit: str | None = None) -> float:
    """Parse a temperature such as ``"30C"``, ``"30 °C"`` or ``"303.15 K"`` into kelvin.

    A bare ``C`` means degrees Celsius here (never coulomb).

    Parameters
    ----------
    text : str or float
        The temperature; a bare number needs ``default_unit``.
    default_unit : {"K", "C"}, optional
        Unit of a bare number.

    Returns
    -------
    float
        Temperature in K.
    """
    if isinstance(text, (int, float)):
        text = str(text)
    # Single spaces: the regex's optional spaces around the unit backtrack quadratically
    # on long runs of blanks.
    m = _TEMPERATURE.match(" ".join(text.split()))
    if not m:
        raise InputError(f"cannot read temperature {text!r}: write e.g. '30C' or '303.15K'")
    value = float(m["num"])
    unit = (m["unit"] or default_unit or "").lower()
    if not unit:
        raise InputError(f"temperature {text!r} has no unit: write e.g. '{text}C' or '{text}K'")
    kelvin = value if unit in {"k", "kelvin"} else value + 273.15
    if not math.isfinite(kelvin):
        raise InputError(f"temperature {text!r} is not a finite number")
    if kelvin <= 0:
        raise InputError(f"temperature {text!r} is at or below absolute zero")
    return kelvin


def parse_quantity(
    text: str | float,
    dimension: str,
    *,
    default_unit: str | None = None,
    name: str = "value",
) -> float:
    """Parse a quantity string into the SI unit of ``dimension``.

    Parameters
    ----------
    text : str or float
        E.g. ``"1 mm"``, ``"0.785cm2"``, ``"100 mV"``, ``"1mA/cm2"``, ``"30 MPa"``.
    dimension : str
        One of :data:`DIMENSIONS` (``"length"``, ``"area"``, ``"voltage"``...).
    default_unit : str, optional
        Unit assumed for a bare number; without it a bare number is refused.
    name : str
        What the quantity is, for the error message (e.g. ``"--thickness"``).

    Returns
    -------
    float
        The value in the dimension's SI unit (m, m**2, V, A/m**2, Pa, ...).
    """
    if dimension == "temperature":
        return parse_temperature(text, default_unit=default_unit)
    if isinstance(text, (int, float)):
        if default_unit is None:
            raise InputError(f"{name} {text!r} needs a unit")
        text = f"{text} {default_unit}"
    raw = str(text).strip()
    raw = re.sub(r"^([-+]?\d+),(\d+)", r"\1.\2", raw)  # decimal comma: "0,1 V"
    m = re.match(r"^([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*(.*)$", raw)
    if not m:
        raise InputError(f"cannot read {name} {raw!r}: write a number and a unit, e.g. "
                         f"'1 {_example_unit(dimension)}'")
    number, unit = float(m.group(1)), m.group(4).strip()
    if not unit:
        if default_unit is None:
            raise InputError(f"{name} {raw!r} has no unit: write e.g. "
                             f"'{raw} {_example_unit(dimension)}'")
        unit = default_unit
    try:
        dim, scale, _ = _unit_info(unit)
    except InputError:
        raise InputError(f"{name} {raw!r}: unknown unit {unit!r} (write e.g. "
                         f"'{m.group(1)} {_example_unit(dimension)}')") from None
    if dim != dimension:
        raise InputError(
            f"{name} {raw!r}: {unit!r} is not a unit of {dimension.replace('_', ' ')}"
            f" (expected something like {_example_unit(dimension)})"
        )
    value = number * scale
    if not math.isfinite(value):
        raise InputError(f"{name} {raw!r} is not a finite number")
    return value
