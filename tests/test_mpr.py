"""sescreen's own EC-Lab .mpr reader: parity with the .mpt twins and with galvani, the
layouts of several EC-Lab versions, and refusals that name the cause."""

from __future__ import annotations

import re
import struct

import numpy as np
import pytest

from sescreen.errors import FormatError
from sescreen.io import Technique, read
from sescreen.io.mpr import parse_mpr

TWINS = ["ca", "cv.issue_149", "gcpl.issue_149", "peis.issue_149", "peis.issue_225.no_ece"]


@pytest.mark.parametrize("stem", TWINS)
def test_mpr_agrees_with_its_mpt_twin(realdata, stem):
    mpr = read(realdata / "biologic" / f"{stem}.mpr")
    mpt = read(realdata / "biologic" / f"{stem}.mpt")
    assert len(mpr) == len(mpt)
    for attr in ("technique", "technique_name", "area_cm2", "applied_voltage_v",
                 "applied_voltage_ref", "start_time", "software_version"):
        a, b = getattr(mpr, attr), getattr(mpt, attr)
        if isinstance(a, float) and isinstance(b, float):
            assert a == pytest.approx(b, rel=1e-6), attr
        else:
            assert a == b, attr
    # EC-Lab's export blanks (-1 or 0) the EIS quality indicators and harmonics at the
    # frequencies where it judges them invalid
    common = [c for c in mpr.data.columns if c in mpt.data.columns
              and not c.startswith(("THD", "NSD", "NSR")) and not re.search(r" h\d\|", c)]
    assert {"time_s"} <= set(common) and len(common) >= 8
    for col in common:
        a = mpr.data[col].to_numpy(dtype=float)
        b = mpt.data[col].to_numpy(dtype=float)
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-12, err_msg=f"{stem}: {col}")


def test_gcpl_mpr_has_its_current(realdata):
    m = read(realdata / "biologic" / "gcpl.issue_149.mpr")
    assert m.technique is Technique.CONSTANT_CURRENT
    assert m.current_a.min() == pytest.approx(-30e-6, rel=1e-3)
    assert m.current_a.max() == pytest.approx(30e-6, rel=1e-3)
    assert any("derived from dq/mA.h" in w for w in m.warnings)


def test_area_unit_is_read_not_assumed(realdata):
    m = read(realdata / "biologic" / "peis.issue_225.no_ece.mpr")
    assert m.area_cm2 == pytest.approx(1.131)
    assert m.settings["area_as_stored"] == "113.1 mm2"


def test_ca_set_point_reference(realdata):
    assert read(realdata / "biologic" / "ca.mpr").applied_voltage_ref == "Ref"
    m = read(realdata / "biologic" / "ca.issue_149.mpr")
    assert (m.applied_voltage_v, m.applied_voltage_ref) == (0.0, "Emeas")


def test_new_column_ids_of_ec_lab_11_50(realdata):
    m = read(realdata / "biologic" / "cv.issue_149.mpr")
    assert "step time/s" in m.data and "Rcmp/Ohm" in m.data  # IDs 438 and 168
    assert m.technique is Technique.SWEEP and not m.warnings


GALVANI_READS = ["ca.mpr", "ca.issue_149.mpr", "cp.issue_149.mpr", "peis.issue_149.mpr",
                 "zir.mpr", "peis.issue_225.no_ece.mpr"]


@pytest.mark.parametrize("name", GALVANI_READS)
def test_agrees_with_galvani(realdata, galvani, name):
    from galvani import BioLogic

    path = realdata / "biologic" / name
    ref = BioLogic.MPRfile(str(path)).data
    ours = parse_mpr(path.read_bytes(), path).table
    assert len(ours) == len(ref)
    for field in ref.dtype.names:
        if field == "flags":
            continue
        np.testing.assert_array_equal(ours[field].to_numpy(), ref[field].astype(float),
                                      err_msg=field)


# -- synthetic files: every data-module layout, unknown IDs, damage ------------------------
def _module(name: str, data: bytes, *, new_header: bool, version: int) -> bytes:
    head = b"MODULE" + name.encode().ljust(10) + name.encode().ljust(25)
    if new_header:
        head += struct.pack("<IIII", 0xFFFFFFFF, len(data), 0, version)
    else:
        head += struct.pack("<II", len(data), version)
    return head + b"01/02/24" + data


def _mpr(ids: list[int], records: bytes, n: int, *, layout: str = "modern",
         technique: int = 0x18) -> bytes:
    """An .mpr with a CA settings module and a data module in the given layout."""
    if layout == "modern":
        head = struct.pack("<IH", n, len(ids)) + struct.pack(f"<{len(ids)}H", *ids)
        data = head.ljust(0x3EF, b"\x00") + records
        new_header, version = True, 11
    else:
        head = struct.pack("<IB", n, len(ids)) + struct.pack(f"<{len(ids)}H", *ids)
        start = {"v2": 0x195, "v3": 0x196}[layout]
        data = head.ljust(start, b"\x00") + records
        new_header, version = False, int(layout[1])
    settings = bytearray(0x1900)
    settings[0] = technique
    struct.pack_into("<f", settings, 0x211, 50.0)
    settings[0x250] = 3  # mm2
    struct.pack_into("<HHfB", settings, 0x1845, 1, 25, 0.1, 4)
    sig = b"BIO-LOGIC MODULAR FILE\x1a".ljust(48) + b"\x00" * 4
    return (sig + _module("VMP Set", bytes(settings), new_header=new_header, version=0)
            + _module("VMP data", data, new_header=new_header, version=version))


def _ca_records(n: int) -> tuple[list[int], bytes]:
    ids = [1, 4, 19, 6, 8]  # mode flags, time/s f8, control/V f4, Ewe/V f4, I/mA f4
    dt = np.dtype([("f", "u1"), ("t", "<f8"), ("c", "<f4"), ("e", "<f4"), ("i", "<f4")])
    rec = np.zeros(n, dt)
    rec["f"], rec["t"], rec["c"], rec["e"] = 2, np.arange(n), 0.1, 0.1
    rec["i"] = 1e-3 * np.exp(-np.arange(n) / 5)
    return ids, rec.tobytes()


@pytest.mark.parametrize("layout", ["v2", "v3", "modern"])
def test_every_data_module_layout(tmp_path, layout):
    ids, records = _ca_records(20)
    path = tmp_path / f"{layout}.mpr"
    path.write_bytes(_mpr(ids, records, 20, layout=layout))
    m = read(path)
    assert len(m) == 20 and m.technique is Technique.CONSTANT_VOLTAGE
    assert m.area_cm2 == pytest.approx(0.5)  # 50 mm2
    assert m.applied_voltage_v == pytest.approx(0.1) and m.applied_voltage_ref == "Ref"
    np.testing.assert_allclose(m.current_a, 1e-6 * np.exp(-np.arange(20) / 5), rtol=1e-6)


def test_unknown_column_id_is_kept_with_a_warning(tmp_path):
    ids, records = _ca_records(10)
    rec = np.frombuffer(records, np.dtype([("a", "V21")]))
    extra = np.arange(10, dtype="<f4")
    joined = b"".join(r.tobytes() + extra[k].tobytes() for k, r in enumerate(rec))
    path = tmp_path / "unknown.mpr"
    path.write_bytes(_mpr([*ids, 999], joined, 10))
    m = read(path)
    np.testing.assert_array_equal(m.data["column ID 999"], np.arange(10))
    assert any("column ID 999" in w and "not known" in w for w in m.warnings)


def test_unknown_technique_id_warns(tmp_path):
    ids, records = _ca_records(10)
    path = tmp_path / "tech.mpr"
    path.write_bytes(_mpr(ids, records, 10, technique=0xEE))
    m = read(path)
    assert any("0xEE" in w for w in m.warnings)


def test_truncated_mpr_names_the_module(tmp_path):
    ids, records = _ca_records(50)
    raw = _mpr(ids, records, 50)
    path = tmp_path / "cut.mpr"
    path.write_bytes(raw[:-100])
    with pytest.raises(FormatError, match=r"module 'VMP data' announces \d+ bytes.*cut short"):
        read(path)


def test_a_second_data_module_is_refused(tmp_path):
    """Review 4, D16: of two data modules the first was read, the second dropped silently."""
    ids, records = _ca_records(10)
    raw = _mpr(ids, records, 10)
    data = raw[raw.index(b"MODULEVMP data"):]
    path = tmp_path / "two.mpr"
    path.write_bytes(raw + data)
    with pytest.raises(FormatError, match=r"two\.mpr: 2 data modules \(at bytes \d+, \d+\)"
                                          r".*export .* as \.mpt") as err:
        read(path)
    assert "\n" not in str(err.value)


def test_row_size_that_does_not_add_up_is_refused(tmp_path):
    ids, records = _ca_records(10)
    path = tmp_path / "bad.mpr"
    path.write_bytes(_mpr([*ids, 4], records + b"\x00" * 30, 10))  # a second time column
    with pytest.raises(FormatError, match=r"does not decode.*\.mpt") as err:
        read(path)
    assert "\n" not in str(err.value)


# -- property tests: arbitrary bytes behind the signature ---------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sescreen.errors import SescreenError  # noqa: E402


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=3000), cut=st.integers(0, 4000))
def test_arbitrary_bytes_give_a_measurement_or_a_one_line_error(tmp_path_factory, body, cut):
    ids, records = _ca_records(8)
    raw = _mpr(ids, records, 8)
    data = (raw[:cut] + body) if cut < len(raw) else (b"BIO-LOGIC MODULAR FILE" + body)
    path = tmp_path_factory.mktemp("fuzz") / "x.mpr"
    path.write_bytes(data)
    try:
        m = read(path)
    except SescreenError as exc:
        assert "\n" not in str(exc) and path.name in str(exc)
    else:
        assert len(m) > 0
