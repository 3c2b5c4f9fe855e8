"""Every real file in ../shared/realdata is read, or refused with a precise, correct reason."""

from __future__ import annotations

import numpy as np
import pytest

from sescreen.errors import FormatError, TechniqueError
from sescreen.io import Technique, read


def test_ca_mpt_metadata(realdata):
    m = read(realdata / "biologic" / "ca.mpt")
    assert m.format == "biologic-mpt"
    assert m.technique is Technique.CONSTANT_VOLTAGE
    assert m.technique_name == "Chronoamperometry / Chronocoulometry"
    assert len(m) == 721
    assert m.applied_voltage_v == pytest.approx(0.300)
    assert m.applied_voltage_ref == "Ref"
    assert m.area_cm2 == pytest.approx(1.131)
    assert m.start_time == "2019-04-29T15:43:07"
    assert m.instrument == "BioLogic VMP3 (SN 0967)"
    assert m.software_version == "EC-Lab 11.27"
    assert m.settings["dt (s)"] == "60.0000"
    assert m.time_s[0] == pytest.approx(108874.2284907824)
    assert m.time_span_s == pytest.approx(43200, abs=1)
    # latin-1 micro sign survives decoding in the kept columns' units
    units = {c.original: c.unit for c in m.columns}
    assert units["Capacitance charge/\u00b5F"] == "\u00b5F"
    assert units["I/mA"] == "mA"
    assert m.current_a[0] == pytest.approx(1.8604061e-05)  # mA -> A


def test_ca_mpr_agrees_with_mpt_point_by_point(realdata):
    mpr = read(realdata / "biologic" / "ca.mpr")
    mpt = read(realdata / "biologic" / "ca.mpt")
    assert mpr.format == "biologic-mpr"
    assert len(mpr) == len(mpt) == 721
    assert mpr.technique is mpt.technique is Technique.CONSTANT_VOLTAGE
    assert mpr.applied_voltage_v == pytest.approx(0.300)
    assert mpr.area_cm2 == pytest.approx(1.131)
    assert mpr.start_time == mpt.start_time
    assert mpr.software_version == mpt.software_version
    for col in ("time_s", "current_a", "voltage_v", "control_v"):
        np.testing.assert_allclose(mpr.data[col], mpt.data[col], rtol=1e-6, err_msg=col)


def test_ca_issue149_mpr_loops_and_eoc_setpoint(realdata):
    m = read(realdata / "biologic" / "ca.issue_149.mpr")
    assert len(m) == 80
    assert m.technique is Technique.CONSTANT_VOLTAGE
    assert m.columns[1].original == "<I>/mA"
    # Ei = 0 V, recorded control ~3.42 V: the set-point is relative to Eoc; say so.
    assert m.applied_voltage_v == 0.0
    assert any("open-circuit" in w for w in m.warnings)
    segs = m.segments()
    assert [len(s) for s in segs] == [20, 20, 20, 20]
    assert all(s.applied_voltage_v == 0.0 for s in segs)  # not the absolute 3.42 V


@pytest.mark.parametrize(("name", "technique", "n"), [
    ("cp.issue_149.mpr", Technique.CONSTANT_CURRENT, 44),
    ("peis.issue_149.mpr", Technique.IMPEDANCE, 84),
    ("peis.issue_149.mpt", Technique.IMPEDANCE, 84),
    ("zir.mpr", Technique.IMPEDANCE, 1),
    ("exampleDataBioLogic.mpt", Technique.IMPEDANCE, 43),
])
def test_biologic_other_techniques(realdata, name, technique, n):
    m = read(realdata / "biologic" / name)
    assert m.technique is technique
    assert len(m) == n
    with pytest.raises(TechniqueError, match=name.split(".")[0]) as err:
        m.require(Technique.CONSTANT_VOLTAGE, purpose="DC polarization")
    assert "DC polarization needs a constant-voltage hold" in str(err.value)


def test_peis_mpr_and_mpt_agree(realdata):
    a = read(realdata / "biologic" / "peis.issue_149.mpr")
    b = read(realdata / "biologic" / "peis.issue_149.mpt")
    np.testing.assert_allclose(a.data["freq/Hz"], b.data["freq/Hz"], rtol=1e-6)
    np.testing.assert_allclose(a.current_a, b.current_a, rtol=1e-6)


def test_placeholder_area_is_flagged(realdata):
    m = read(realdata / "biologic" / "exampleDataBioLogic.mpt")
    assert m.area_cm2 == pytest.approx(0.001)
    assert any("placeholder" in w for w in m.warnings)
    m2 = read(realdata / "biologic" / "exampleDataBioLogic.mpt", area_cm2=0.5)
    assert m2.area_cm2 == 0.5 and not any("placeholder" in w for w in m2.warnings)


@pytest.mark.parametrize("name", ["wait.mpt", "wait.mpr"])
def test_empty_wait_step_is_refused(realdata, name):
    with pytest.raises(FormatError, match=r"no data rows \(Wait\)") as err:
        read(realdata / "biologic" / name)
    assert name in str(err.value) and "\n" not in str(err.value)


def test_gamry_chronoa_aborted_run(realdata):
    m = read(realdata / "gamry" / "chronoa_data.dta")
    assert m.technique is Technique.CONSTANT_VOLTAGE and m.technique_name == "CHRONOA"
    assert len(m) == 10
    assert any("announces 5258 points but holds 10" in w for w in m.warnings)
    assert m.applied_voltage_v == pytest.approx(0.5) and m.applied_voltage_ref == "Ref"
    assert m.area_cm2 == pytest.approx(1.0)
    assert m.current_a[1] == pytest.approx(1.40441e-08)
    assert m.start_time == "2019-03-10T12:00:00"
    pre, hold = m.segments()
    assert (len(pre), pre.applied_voltage_v) == (1, 0.0)
    assert (len(hold), hold.applied_voltage_v) == (9, 0.5)


def test_gamry_eis_two_tables(realdata):
    m = read(realdata / "gamry" / "exampleDataGamry.DTA")
    assert m.technique is Technique.IMPEDANCE
    assert len(m) == 72 and "Zreal" in m.data
    assert m.applied_voltage_v == pytest.approx(-0.05) and m.applied_voltage_ref == "Eoc"
    assert len(m.tables["OCVCURVE"]) == 387
    assert m.software_version == "Gamry Framework 7.05"


def test_gamry_ocp_without_current_and_sentinel_temperature(realdata):
    m = read(realdata / "gamry" / "ocp_data.dta")
    assert m.technique is Technique.OPEN_CIRCUIT
    assert len(m) == 21 and "current_a" not in m.data
    assert "temperature_k" not in m.data and m.temperature_k is None
    assert any("-327.62" in w and "thermocouple" in w for w in m.warnings)
    with pytest.raises(TechniqueError, match="open-circuit"):
        m.require(Technique.CONSTANT_VOLTAGE, purpose="DC polarization")


def test_every_realdata_file_is_read_or_refused(realdata):
    seen = 0
    for path in sorted(realdata.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in {".mpt", ".mpr", ".dta", ".txt"}:
            continue
        seen += 1
        try:
            m = read(path)
        except FormatError as exc:  # only the empty WAIT steps hold nothing to read
            assert "wait" in path.name and "no data rows" in str(exc)
            continue
        assert len(m) > 0 and "time_s" in m.data and m.technique_reason
    assert seen >= 20


def test_absolute_time_stamps(realdata):
    m = read(realdata / "biologic" / "ocv_absolute_time.mpt")
    assert m.technique is Technique.OPEN_CIRCUIT and len(m) == 4515
    assert m.time_s[0] == 0 and m.time_s[1] == pytest.approx(0.5)
    assert m.start_time == "2025-12-11T15:07:26.919000"
    assert "voltage_v" in m.data  # '<Ewe/V>' is '<Ewe>/V'


def test_peis_with_ece_header_quirk(realdata):
    m = read(realdata / "biologic" / "peis.issue_225.with_ece.mpt")
    assert m.technique is Technique.IMPEDANCE and len(m) == 32
    assert m.area_cm2 == pytest.approx(1.131)
    assert any("'Ewe-Ece/V'" in w for w in m.warnings)


@pytest.mark.parametrize("name", ["mb.issue_95.mpt", "btlab_MB_CA1.txt"])
def test_modulo_bat_is_not_a_hold(realdata, name):
    m = read(realdata / "biologic" / name)
    assert m.technique is Technique.CONSTANT_CURRENT and not m.technique_inferred
    assert "Ns 1 CC" in m.technique_reason
    assert m.applied_voltage_v is None
    with pytest.raises(TechniqueError, match="constant-current"):
        m.require(Technique.CONSTANT_VOLTAGE, purpose="DC polarization")
    assert [s.technique for s in m.segments()][:2] == [Technique.OPEN_CIRCUIT,
                                                       Technique.CONSTANT_CURRENT]


def test_btlab_export_metadata(realdata):
    m = read(realdata / "biologic" / "btlab_MB_CA1.txt")
    assert m.format == "biologic-mpt" and m.software_version == "BT-Lab 1.75"
    assert "voltage_v" in m.data and m.area_cm2 == pytest.approx(0.001)


def test_impedance_table_without_header_is_never_a_hold(realdata, tmp_path):
    src = read(realdata / "biologic" / "peis.issue_149.mpt")
    body = src.data[["freq/Hz", "time_s", "current_a"]].copy()
    body["control/V"] = -0.2e-3
    path = tmp_path / "eis.csv"
    body.rename(columns={"time_s": "time/s", "current_a": "I/A"}).to_csv(path, index=False)
    m = read(path)
    assert m.technique is Technique.IMPEDANCE and "frequency column" in m.technique_reason
    assert m.applied_voltage_v is None
