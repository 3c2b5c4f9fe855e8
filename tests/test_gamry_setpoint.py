"""A Gamry set-point referred to the open-circuit potential (``VSTEP1 ... T``): sigma_e
keeps the polarization from rest, as EC-Lab's reader does, and says where the cell sat when
the open-circuit potential is not 0 (review 4, D3: ``0.5 V vs Eoc`` with ``EOC -0.3 V`` and
``Vf`` 0.2 V was judged with no word of it)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sescreen.dcpol import fit_dcpol
from sescreen.io import read
from sescreen.io.writers import write_dta

T = np.arange(0.0, 20000.0, 20.0)
CURRENT = 3e-8 * (1 + 5 * np.exp(-T / 3000)) + np.random.default_rng(0).normal(0, 2e-11, T.size)


def _dta(path: Path, *, setpoint: float = 0.5, vs_eoc: bool = True, eoc: float | None,
         vf) -> Path:
    """A CHRONOA file with the set-point ``setpoint`` (vs Eoc or not), the header's ``EOC``
    (None: no such line) and the measured ``Vf`` column ``vf``."""
    write_dta(path, T, CURRENT, voltage_v=np.broadcast_to(vf, T.shape), applied_voltage_v=setpoint,
              vs_eoc=vs_eoc)
    if eoc is not None:
        text = path.read_text(encoding="cp1252").replace(
            "FRAMEWORKVERSION", f"EOC\tQUANT\t{eoc:.5E}\tOpen Circuit (V)\r\nFRAMEWORKVERSION")
        path.write_bytes(text.encode("cp1252"))
    return path


def test_a_setpoint_versus_eoc_is_the_polarization_and_the_cell_voltage_is_named(tmp_path):
    m = read(_dta(tmp_path / "x.DTA", eoc=-0.3, vf=0.2))
    assert m.applied_voltage_v == pytest.approx(0.5) and m.applied_voltage_ref == "Eoc"
    said = [w for w in m.warnings if "vs Eoc" in w]
    assert said and "sat at 0.2 V" in said[0] and "Vf is 0.2 V" in said[0]
    assert "--voltage" in said[0]
    res = fit_dcpol(m, thickness_cm=1e-3)
    assert res.voltage_v == pytest.approx(0.5)
    assert any("vs Eoc" in w for w in res.warnings)
    assert fit_dcpol(m, thickness_cm=1e-3, voltage_v=0.2).voltage_v == 0.2


def test_a_measured_vf_off_the_setpoint_is_named_without_eoc(tmp_path):
    m = read(_dta(tmp_path / "a.DTA", eoc=None, vf=0.2))
    assert m.applied_voltage_v == pytest.approx(0.5)
    assert any("Vf is 0.2 V" in w for w in m.warnings)


@pytest.mark.parametrize(("vs_eoc", "eoc", "vf"), [(True, 0.0, 0.5), (True, None, 0.5),
                                                    (False, -0.3, 0.2)])
def test_a_setpoint_that_is_the_cell_voltage_says_nothing(tmp_path, vs_eoc, eoc, vf):
    """Eoc = 0 (Vf reads the set-point), or a set-point versus the reference: no word."""
    m = read(_dta(tmp_path / "x.DTA", vs_eoc=vs_eoc, eoc=eoc, vf=vf))
    assert m.applied_voltage_v == pytest.approx(0.5)
    assert m.applied_voltage_ref == ("Eoc" if vs_eoc else "Ref")
    assert not any("open-circuit" in w for w in m.warnings)


@settings(max_examples=40, deadline=None)
@given(setpoint=st.floats(-2, 2).filter(lambda v: abs(v) > 0.02),
       eoc=st.floats(-3, 3), vf_known=st.booleans())
def test_a_vs_eoc_setpoint_off_the_cell_voltage_is_always_said(setpoint, eoc, vf_known):
    cell = setpoint + eoc
    with tempfile.TemporaryDirectory() as tmp:
        m = read(_dta(Path(tmp) / "x.DTA", setpoint=setpoint, eoc=eoc,
                      vf=cell if vf_known else np.linspace(-5, 5, T.size)))
    assert m.applied_voltage_v == pytest.approx(setpoint, abs=1e-4)
    if abs(abs(eoc) - 5e-3) > 1e-9:  # (the 5 mV edge is left to rounding)
        assert any("vs Eoc" in w for w in m.warnings) == (abs(eoc) > 5e-3)
