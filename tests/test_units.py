"""Quantity strings at the edges, SI inside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sescreen.errors import InputError
from sescreen.units import column_unit, parse_quantity, parse_temperature


@pytest.mark.parametrize(("text", "dim", "si"), [
    ("1 mm", "length", 1e-3), ("1mm", "length", 1e-3), ("0.5 cm", "length", 5e-3),
    ("0.785cm2", "area", 0.785e-4), ("0.785 cm^2", "area", 0.785e-4),
    ("0.785 cm\u00b2", "area", 0.785e-4), ("100 mV", "voltage", 0.1), ("0.1V", "voltage", 0.1),
    ("1mA/cm2", "current_density", 10.0), ("10 mA/cm^2", "current_density", 100.0),
    ("30 MPa", "pressure", 30e6), ("5 \u00b5A", "current", 5e-6), ("5 uA", "current", 5e-6),
    ("2 h", "time", 7200.0), ("-0.2 V", "voltage", -0.2), ("1e-3 A", "current", 1e-3),
])
def test_parse_quantity(text, dim, si):
    assert parse_quantity(text, dim) == pytest.approx(si)


@pytest.mark.parametrize(("text", "kelvin"), [
    ("30C", 303.15), ("30 C", 303.15), ("30 \u00b0C", 303.15), ("303.15K", 303.15),
    ("25 degC", 298.15), ("-20C", 253.15),
])
def test_parse_temperature(text, kelvin):
    assert parse_temperature(text) == pytest.approx(kelvin)
    assert parse_quantity(text, "temperature") == pytest.approx(kelvin)


@pytest.mark.parametrize(("text", "dim", "match"), [
    ("1", "length", "has no unit"), ("1 V", "length", "not a unit of length"),
    ("abc", "length", "cannot read"), ("1 furlongz", "length", "unknown unit"),
    ("-300C", "temperature", "absolute zero"), ("30", "temperature", "has no unit"),
])
def test_parse_errors(text, dim, match):
    with pytest.raises(InputError, match=match):
        parse_quantity(text, dim, name="--x")


def test_bare_number_with_default_unit():
    assert parse_quantity("2", "length", default_unit="mm") == pytest.approx(2e-3)
    assert parse_quantity(2.0, "area", default_unit="cm**2") == pytest.approx(2e-4)


@pytest.mark.parametrize(("unit", "dim", "scale"), [
    ("mA", "current", 1e-3), ("\u00b5A", "current", 1e-6), ("\u03bcA", "current", 1e-6),
    ("nA", "current", 1e-9), ("V vs. Ref.", "voltage", 1.0), ("mV", "voltage", 1e-3),
    ("s", "time", 1.0), ("h", "time", 3600.0), ("mA.h", "charge", 3.6),
    ("Ohm", "other", 1.0), ("Ohm-1", "other", 1.0), ("#", "dimensionless", 1.0),
    ("furlongz", "unknown", 1.0), (None, "unknown", 1.0),
])
def test_column_units(unit, dim, scale):
    d, s, _ = column_unit(unit)
    assert d == dim
    assert s == pytest.approx(scale)


def test_celsius_column_offset():
    dim, scale, offset = column_unit("deg C")
    assert dim == "temperature" and scale == pytest.approx(1) and offset == pytest.approx(273.15)


# --- the own parser (sescreen.unit_parse) gives pint's answers, without pint -----------------

_PINT_DIMS = ("[length]", "[mass]", "[time]", "[current]", "[temperature]", "[substance]")


def _pint_names_text() -> str:
    """pint_names.txt as the installed pint would write it."""
    import pint

    ureg = pint.UnitRegistry(cache_folder=None)
    lines = [f"# The unit and prefix names of pint {pint.__version__} (a fresh UnitRegistry), "
             "for sescreen.unit_parse.",
             "# Regenerate with: python tests/test_units.py --write-pint-names", "[prefixes]"]
    lines += [f"{k} {p.converter.scale!r}" for k, p in ureg._prefixes.items() if k]
    lines.append("[units]")
    row: list[str] = []
    for name in sorted(ureg._units):
        if sum(len(x) + 1 for x in row) + len(name) > 99:
            lines.append(" ".join(row))
            row = []
        row.append(name)
    return "\n".join([*lines, " ".join(row)]) + "\n"


_SNAPSHOT = Path(__file__).resolve().parents[1] / "sescreen" / "pint_names.txt"


def test_pint_names_snapshot_matches_installed_pint():
    assert _SNAPSHOT.read_text(encoding="utf-8") == _pint_names_text(), (
        "pint's unit names changed: python tests/test_units.py --write-pint-names")


def test_own_units_are_pints():
    from sescreen.unit_parse import _OWN
    from sescreen.units import _registry

    ureg = _registry()
    for name, (scale, dims, offset) in _OWN.items():
        unit = ureg.Unit(name)
        assert tuple(float(unit.dimensionality.get(d, 0)) for d in _PINT_DIMS) == dims, name
        si = ureg.Quantity(1.0, unit).to_base_units()
        if offset:
            zero = ureg.Quantity(0.0, unit).to_base_units().magnitude
            assert (offset, scale) == pytest.approx((zero, si.magnitude - zero)), name
        else:
            assert si.magnitude == pytest.approx(scale, rel=1e-14), name


_WORDS = ["s", "sec", "min", "h", "hr", "day", "A", "amp", "V", "ohm", "Ohm", "S", "m", "g",
          "Pa", "bar", "K", "C", "degC", "J", "eV", "W", "Wh", "Ah", "Hz", "F", "N", "mol",
          "seconds", "volts", "meters", "furlong", "inch", "torr", "degF", "Ω", "red", "ox",
          "Ns", "inc", "I", "M", "deg", "degree", "NaN", "inf", "per", "squared", "cm4", "1",
          "%", "(s)", "mho", "nan", "deg C"]
_PREFIXES = ["", "", "", "m", "u", "µ", "n", "p", "k", "M", "c", "d", "h", "mc", "Ki", "milli"]


@st.composite
def _unit_strings(draw):
    parts = []
    for i in range(draw(st.integers(1, 3))):
        if i:
            parts.append(draw(st.sampled_from(["*", "/", " ", " / ", ".", " . ", "**", ""])))
        parts.append(draw(st.sampled_from(_PREFIXES)) + draw(st.sampled_from(_WORDS)))
        parts.append(draw(st.sampled_from(["", "", "2", "-1", "**2", "^-2", "**0.5", "**-3"])))
    return "".join(parts)


def _outcome(fn, *args):
    try:
        return fn(*args)
    except InputError as exc:
        return str(exc)
    except Exception:  # pint's own errors (UndefinedUnitError, DimensionalityError, ...)
        return "pint refused"


def _same(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a[0] == b[0] and a[1:] == pytest.approx(b[1:], rel=1e-12, abs=1e-12)


@settings(max_examples=int(os.environ.get("SESCREEN_UNIT_EXAMPLES", "300")), deadline=None)
@given(_unit_strings(), st.sampled_from(["S/cm", "A/m**2", "cm", "s", "mA/cm**2", "K"]))
def test_own_parser_agrees_with_pint(text, target):
    from sescreen import units

    norm = units._normalize(text)
    by_pint = (("dimensionless", 1.0, 0.0) if norm in {"", "#", "bits", "%"}
               else _outcome(units._pint_info, text, norm))
    assert _same(_outcome(units._unit_info.__wrapped__, text), by_pint)
    pint_factor = _outcome(lambda: float(
        units._registry().Quantity(1.0, norm).to(units._normalize(target)).magnitude))
    own_factor = _outcome(units.factor.__wrapped__, text, target)
    if isinstance(pint_factor, str):
        assert own_factor == f"cannot convert {text!r} to {target!r}"
    else:
        assert own_factor == pytest.approx(pint_factor, rel=1e-12)


@pytest.mark.parametrize("text", ["s", "min", "h", "A", "mA", "uA", "µA", "nA", "pA", "V", "mV",
                                  "cm", "mm", "um", "µm", "nm", "cm2", "mm2", "cm^2", "S/cm",
                                  "mS/cm", "K", "degC", "°C", "deg C", "MPa", "eV", "mA/cm2",
                                  "mA cm-2", "J", "mA.h", "W.h", "Ohm", "ohm*cm^2", "V vs. Ref.",
                                  "MPa*m^0.5", "mA/cm²", "Sec", "kPa", "GPa", "ms", "red"])
def test_field_units_need_no_pint(text):
    from sescreen import unit_parse, units

    try:
        assert unit_parse.parse_unit(units._normalize(text)) is not None
    except InputError:
        assert text == "red"  # refused at once: pint does not define it either


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--write-pint-names"]:
        _SNAPSHOT.write_text(_pint_names_text(), encoding="utf-8")
