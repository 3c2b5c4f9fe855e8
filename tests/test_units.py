"""Quantity strings at the edges, SI inside."""

from __future__ import annotations

import pytest

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
