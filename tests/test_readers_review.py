"""Review of the readers against real files of newer EC-Lab versions (readers-F1..F5).

The real files (dgbowl/yadg tests/test_x_eclab, liuchzzyy/echemistpy docs/examples) are not
copied here: each structural feature is rebuilt synthetically.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_mpr import _mpr

from sescreen.errors import FormatError
from sescreen.io import Technique, read
from sescreen.io.segments import segment_bounds


def _records(n: int, extra: list[tuple[str, str]], *, mode=2, control=0.1, step=None):
    """mode flags, time/s f8, control/V f4, Ewe/V f4, I/mA f4, then ``extra`` fields."""
    fields = [("f", "u1"), ("t", "<f8"), ("c", "<f4"), ("e", "<f4"), ("i", "<f4")]
    if step is not None:
        fields.insert(1, ("ns", "<u2"))
    rec = np.zeros(n, np.dtype(fields + extra))
    rec["f"], rec["t"], rec["c"], rec["e"] = mode, np.arange(n), control, control
    rec["i"] = 1e-3 * np.exp(-np.arange(n) / 5) + 1e-4
    if step is not None:
        rec["ns"] = step
    for name, _ in extra:
        rec[name] = np.arange(n)
    return rec


def test_counter_electrode_energies_of_ec_lab_11_61(tmp_path):
    """F1: IDs 883/884 (Energy ce charge/discharge, f8) of EC-Lab 11.61/11.62 GCPL files:
    two unknown IDs the row size could not settle, the file was refused."""
    rec = _records(30, [("x", "<f8"), ("y", "<f8")])
    path = tmp_path / "ce.mpr"
    path.write_bytes(_mpr([1, 4, 19, 6, 8, 883, 884], rec.tobytes(), 30))
    m = read(path)
    np.testing.assert_allclose(m.current_a, 1e-3 * rec["i"], rtol=1e-6)
    np.testing.assert_array_equal(m.data["Energy ce discharge/W.h"], np.arange(30))
    assert not any("not known" in w for w in m.warnings)


def test_unknown_ids_after_the_record_are_dropped_with_a_warning(tmp_path):
    """F1b: two IDs of unknown width after time, current and voltage: those columns are
    dropped (named in a warning), the rest read exactly."""
    rec = _records(20, [("x", "<f8"), ("y", "<f8")])
    path = tmp_path / "later.mpr"
    path.write_bytes(_mpr([1, 4, 19, 6, 8, 990, 991], rec.tobytes(), 20))
    m = read(path)
    np.testing.assert_allclose(m.current_a, 1e-3 * rec["i"], rtol=1e-6)
    assert m.applied_voltage_v == pytest.approx(0.1)
    assert any("dropped" in w and "ID 990" in w and "ID 991" in w for w in m.warnings)


def test_unknown_ids_before_the_current_still_refuse(tmp_path):
    dt = np.dtype([("f", "u1"), ("t", "<f8"), ("x", "<f8"), ("y", "<f8"), ("c", "<f4"),
                   ("e", "<f4"), ("i", "<f4")])
    rec = np.zeros(10, dt)
    rec["t"] = np.arange(10)
    path = tmp_path / "before.mpr"
    path.write_bytes(_mpr([1, 4, 990, 991, 19, 6, 8], rec.tobytes(), 10))
    with pytest.raises(FormatError, match=r"does not decode.*990, 991"):
        read(path)


def test_rest_before_a_constant_voltage_hold_is_no_set_point(tmp_path):
    """F3: EC-Lab's Constant Voltage technique (ID 0x75) rests first (mode 3, control/V 0);
    the hold's voltage had been read from those rest rows: 0 V for a 2.0 V hold."""
    rest = _records(10, [], mode=3, control=0.0)
    hold = _records(30, [], mode=2, control=2.0)
    hold["t"] += 10
    path = tmp_path / "cov.mpr"
    path.write_bytes(_mpr([1, 4, 19, 6, 8], rest.tobytes() + hold.tobytes(), 40,
                          technique=0x75))
    m = read(path)
    assert m.technique is Technique.CONSTANT_VOLTAGE
    assert m.applied_voltage_v == pytest.approx(2.0)


def test_modulo_bat_mpr_steps_are_classified_from_their_rows(tmp_path):
    """F4: a Modulo Bat .mpr (no step table decoded) with a rest, a potential hold and an
    impedance step was called an impedance spectrum as a whole (a frequency column), so
    its hold could not be analysed; its .mpt twin lists the steps."""
    parts = []
    for step, mode, control, freq in ((0, 3, 0.0, 0.0), (1, 2, 0.05, 0.0), (2, 2, 0.0, 1e3)):
        rec = _records(20, [("fr", "<f4")], mode=mode, control=control, step=step)
        rec["t"] += 20 * step
        rec["fr"] = freq
        parts.append(rec.tobytes())
    path = tmp_path / "mb.mpr"
    path.write_bytes(_mpr([1, 131, 4, 19, 6, 8, 32], b"".join(parts), 60, technique=0x7F))
    m = read(path)
    assert m.technique is Technique.UNKNOWN and "several kinds" in m.technique_reason
    segs = m.segments()
    assert [s.technique for s in segs] == [Technique.OPEN_CIRCUIT, Technique.CONSTANT_VOLTAGE,
                                           Technique.IMPEDANCE]
    assert segs[1].applied_voltage_v == pytest.approx(0.05)


def _mpt(header: list[str], columns: list[str], rows: list[list[float]]) -> str:
    lines = ["EC-Lab ASCII FILE", "", "", *header, "\t".join(columns)]
    lines[1] = f"Nb header lines : {len(lines)}"
    lines += ["\t".join(f"{v:.7E}" for v in r) for r in rows]
    return "\n".join(lines) + "\n"


def test_peis_steps_of_a_modulo_bat_mpt_are_impedance(tmp_path):
    """F4: ctrl_type PEIS/GEIS had no technique: a Rest/PEIS/GEIS Modulo Bat was of
    'unknown' technique (its .mpr twin: impedance)."""
    setting = "".join(f"{v:<20}" for v in ("ctrl_type", "Rest", "PEIS", "GEIS"))
    ns = "".join(f"{v:<20}" for v in ("Ns", "0", "1", "2"))
    rows = [[s, 10.0 * s + k, 1e3 if s else 0.0, 0.001, 1.0] for s in range(3) for k in range(5)]
    path = tmp_path / "mb.mpt"
    path.write_text(_mpt(["Modulo Bat", "", ns, setting, ""],
                         ["Ns", "time/s", "freq/Hz", "<I>/mA", "Ewe/V"], rows),
                    encoding="latin-1")
    m = read(path)
    assert m.technique is Technique.IMPEDANCE


def test_ecell_beside_ewe_is_no_second_voltage(tmp_path):
    """F5: EC-Lab 11.6x exports ' Ecell/V' (Ewe - Ece) beside Ewe/V: the file was refused
    (two columns qualify as the voltage)."""
    rows = [[float(k), 1e-3, 2.0, 1.9] for k in range(10)]
    path = tmp_path / "ecell.mpt"
    path.write_text(_mpt(["Chronopotentiometry", ""],
                         ["time/s", "I/mA", "Ewe/V", " Ecell/V"], rows), encoding="latin-1")
    m = read(path)
    np.testing.assert_allclose(m.data["voltage_v"], 2.0)


def test_cycle_number_one_point_after_the_set_point_is_one_boundary():
    """F2: EC-Lab's exported cycle number moves one point after a loop's new set-point
    (vs Emeas): segments of 20, 1, 19, 1, ... points."""
    control = np.repeat([3.4237, 3.4331, 3.4384], 20)
    cycle = np.r_[np.zeros(21), np.ones(20), np.full(19, 2)]
    df = pd.DataFrame({"control_v": control, "cycle": cycle, "step": np.zeros(60)})
    assert segment_bounds(df) == [(0, 20), (20, 40), (40, 60)]
