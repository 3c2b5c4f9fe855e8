"""Third review of the readers against real files (readers2, round 2).

A Gamry Interface 1000/1010 ``Temp`` column with no thermocouple (~1470-1490 deg C), and
EC-Lab's "cycle number" counting the current's sign changes inside one chronoamperometry.
The real files (nomad-hzb/nomad-chemical-energy tests/data, Apache-2.0;
miloszewiczek/gamry_post_processing_ input/; cheminfo/biologic-converter
src/__tests__/data/all/test/test.mpt, MIT) are not copied here: each feature is rebuilt
from synthetic text of its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from sescreen.cli import main
from sescreen.io import read
from sescreen.io.segments import segment_bounds


# -- 1. a Gamry Interface 1010 Temp column without a thermocouple -----------------------
def _chronoa_dta(temps, model="IFC1010-21185") -> str:
    n = len(temps)
    head = ["EXPLAIN", "TAG\tCHRONOA", "TITLE\tLABEL\tChronoamperometry Scan\tTest Identifier",
            "PSTAT\tPSTAT\tLouie\tPotentiostat",
            "VPRESTEP\tPOTEN\t0.00000E+000\tF\tPre-step Voltage (V)",
            "TPRESTEP\tQUANT\t0.00000E+000\tPre-step Delay Time (s)",
            "VSTEP1\tPOTEN\t1.00000E-001\tF\tStep 1 Voltage (V)",
            "AREA\tQUANT\t1.00000E+000\tSample Area (cm^2)",
            f"PSTATSECTION\tLABEL\t{model}\tPstat Section",
            f"CURVE\tTABLE\t{n}", "\tPt\tT\tVf\tIm\tVu\tSig\tAch\tIERange\tOver\tTemp",
            "\t#\ts\tV vs. Ref.\tA\tV\tV\tV\t#\tbits\tdeg C"]
    rows = [f"\t{k}\t{10.0 * (k + 1):g}\t1.00000E-001\t{2e-9 + 5e-8 * np.exp(-k / 8):.5E}"
            f"\t0.00000E+000\t1.00000E-001\t0.00000E+000\t5\t...........\t{tc}"
            for k, tc in enumerate(temps)]
    return "\r\n".join(head + rows) + "\r\n"


def test_interface1010_temperature_without_thermocouple_is_no_reading(tmp_path):
    """Interface 1010 (Framework 7.10) with no thermocouple writes 1488.15 .. 1489.79 deg C,
    drifting in the last digits: every such file had been refused ("the file's temperature =
    1762 K is outside the plausible range") though the record is a good one."""
    temps = [f"{1488.15 + 0.09 * (k % 7):.2f}" for k in range(60)]
    path = tmp_path / "CHRONOA.DTA"
    path.write_text(_chronoa_dta(temps))
    m = read(path)
    assert m.temperature_k is None and "temperature_k" not in m.data
    assert any("1488.15 .. 1488.69 deg C" in w and "--temperature" in w for w in m.warnings)
    result = CliRunner().invoke(main, ["check", str(path), "--thickness", "1mm"])
    assert result.exit_code in (0, 1, 3), result.output
    assert "outside the plausible range" not in result.output


def test_a_temperature_partly_above_1000_c_is_still_refused(tmp_path):
    """Only a column above 1000 deg C at every point is no reading: one that reads a lab
    temperature in places is a temperature, and a median beyond the range is refused."""
    temps = ["25.00"] * 20 + ["1488.42"] * 40
    path = tmp_path / "mixed.DTA"
    path.write_text(_chronoa_dta(temps))
    assert read(path).temperature_k == pytest.approx(1488.42 + 273.15)
    result = CliRunner().invoke(main, ["check", str(path), "--thickness", "1mm"])
    assert result.exit_code == 2 and "outside the plausible range" in result.output


# -- 2. EC-Lab's cycle number counting the current's sign inside one hold ----------------
def _ca_mpt(ox_red, cycle, control) -> str:
    n = len(ox_red)
    t = 1.0 + np.arange(n)
    i_ma = np.where(np.asarray(ox_red) == 1, 2e-6, -2e-6) + 4e-3 * np.exp(-t / 3)
    header = ["Chronoamperometry / Chronocoulometry", "",
              "Cycle Definition : Charge/Discharge alternance",
              "Ei (V)              0.100               ",
              "vs.                 Ref                 ", ""]
    cols = ["mode", "ox/red", "Ns", "time/s", "control/V", "Ewe/V", "I/mA", "cycle number"]
    lines = ["EC-Lab ASCII FILE", "", *header, "\t".join(cols)]
    lines[1] = f"Nb header lines : {len(lines)}"
    lines += [f"2\t{o}\t0\t{tk:.6E}\t{c:.7E}\t{c:.7E}\t{ik:.7E}\t{cy:.6E}"
              for o, tk, c, ik, cy in zip(ox_red, t, control, i_ma, cycle, strict=True)]
    return "\n".join(lines) + "\n"


def test_cycle_number_of_a_current_crossing_zero_is_no_step(tmp_path):
    """cheminfo test.mpt (EC-Lab 11.32, one CA at -0.4 V for 75 min): the current crosses
    zero, ox/red flips 0 -> 1 and EC-Lab's cycle number moves with it, 328 times; the .mpt
    had been split into 329 holds ("the record holds 37 separate holds (at [-0.4001, -0.4,
    -0.3999] V): choose one with --segment N"), its .mpr into one."""
    ox_red = np.r_[np.zeros(6), np.tile([1, 0], 27)].astype(int)
    cycle = np.cumsum(np.r_[0, (ox_red[1:] == 1) & (ox_red[:-1] == 0)])
    control = np.full(len(ox_red), 0.1) + 1e-4 * np.sin(np.arange(len(ox_red)))
    path = tmp_path / "ca.mpt"
    path.write_text(_ca_mpt(ox_red, cycle, control), encoding="latin-1")
    m = read(path)
    assert m.data["cycle"].nunique() == 28
    assert m.segment_bounds() == [(0, len(ox_red))]
    assert len(m.segment_bounds("cycle")) == 28  # asked for: the cycles as they are


def test_a_loop_of_one_hold_still_splits_by_cycle():
    """A loop repeating one hold at one set-point (vs Ref): the cycle number moves with the
    current's sign unchanged, and is the only mark of the new pass."""
    df = pd.DataFrame({"control_v": np.full(60, 0.1), "step": np.zeros(60),
                       "cycle": np.repeat([0, 1, 2], 20), "ox/red": np.ones(60, dtype=int)})
    assert segment_bounds(df) == [(0, 20), (20, 40), (40, 60)]


# -- 3. a 0 V pre-step whose signal column reads a DAC offset ----------------------------
def test_a_pre_step_within_a_millivolt_of_zero_is_no_hold(tmp_path):
    """Interface 1010 CHRONOA (pre-step 0 V, steps 0.1 V and 0.2 V): ``Sig`` reads 7.97e-5 V
    in the pre-step. It had been hold 0 of 3, and --segment 0 fitted the pre-step."""
    from sescreen.dcpol import holds

    head = ["EXPLAIN", "TAG\tCHRONOA", "PSTAT\tPSTAT\tLouie\tPotentiostat",
            "VPRESTEP\tPOTEN\t0.00000E+000\tF\tPre-step Voltage (V)",
            "VSTEP1\tPOTEN\t1.00000E-001\tF\tStep 1 Voltage (V)",
            "VSTEP2\tPOTEN\t2.00000E-001\tF\tStep 2 Voltage (V)",
            "CURVE\tTABLE\t90", "\tPt\tT\tVf\tIm\tSig", "\t#\ts\tV vs. Ref.\tA\tV"]
    sig = np.r_[np.full(30, 7.97361e-5), np.full(30, 0.1000815), np.full(30, 0.2000815)]
    t = np.arange(90) * 0.5 - 14.5
    i = 1e-8 * (1 + sig / 0.1) + 1e-7 * np.exp(-(t - np.floor(t / 15) * 15) / 2)
    rows = [f"\t{k}\t{tk:g}\t{s:.5E}\t{ik:.5E}\t{s:.5E}"
            for k, (tk, s, ik) in enumerate(zip(t, sig, i, strict=True))]
    path = tmp_path / "CHRONOA.DTA"
    path.write_text("\r\n".join(head + rows) + "\r\n")
    found = holds(read(path))
    assert [round(h.applied_voltage_v, 4) for h in found] == [0.1001, 0.2001]


def test_a_later_hold_near_zero_volts_stays_a_hold():
    """A voltage series recorded versus Ref passes 0.4 mV on its way (yadg mp.issue_183.mpr,
    Modular Potentio): that hold is one of the series, not a pre-step."""
    from sescreen.dcpol import holds
    from sescreen.io import Measurement, Technique

    volts = [-0.0145, -0.0094, -0.0045, 0.0004, 0.011]
    control = np.repeat(volts, 20)
    df = pd.DataFrame({"time_s": np.arange(100.0), "current_a": 1e-9 + 1e-10 * control,
                       "control_v": control, "voltage_v": control})
    m = Measurement(data=df, format="table", technique=Technique.CONSTANT_VOLTAGE)
    assert [round(h.applied_voltage_v, 4) for h in holds(m)] == volts
