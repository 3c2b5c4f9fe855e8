"""Two columns that both qualify as the time, the current or the voltage are ambiguous:
refused in one line naming both and the option that picks one (review 4, D6: an ``.mpt``
whose ``Ewe/V`` header read ``I/mA`` gave sigma_e from the volts "at steady state", and a
CSV with ``I/A`` and ``Current/nA`` took the first, silently)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sescreen.errors import InputError
from sescreen.io import read

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
needs_realdata = pytest.mark.skipif(not REALDATA.is_dir(),
                                    reason=f"real instrument files not found in {REALDATA}")

CURRENTS = ["I/A", "I/nA", "Current/nA", "Current (mA)", "<I>/uA", "Im [A]", "I/A"]
VOLTAGES = ["Ewe/V", "Ecell/V", "Voltage (mV)", "E/V"]
TIMES = ["time/s", "Time (min)", "elapsed time/h", "t/s"]


def _csv(path: Path, headers: list[str]) -> Path:
    rows = [",".join(headers)] + [",".join(f"{k + j:g}" for j in range(len(headers)))
                                  for k in range(5)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("headers", "what", "option", "pair"), [
    (["time/s", "I/A", "Current/nA"], "current", "current_col", (1, 2)),
    (["time/s", "I/nA", "I/A"], "current", "current_col", (1, 2)),
    (["time/s", "I/A", "I/A"], "current", "current_col", (1, 2)),
    (["time/s", "I/A", "Ewe/V", "Voltage/mV"], "voltage", "voltage_col", (2, 3)),
    (["time/s", "Time (min)", "I/A"], "time", "time_col", (0, 1)),
    (["time", "elapsed time", "I/A"], "time", "time_col", (0, 1)),
])
def test_competing_columns_are_refused_naming_both(tmp_path, headers, what, option, pair):
    path = _csv(tmp_path / "x.csv", headers)
    with pytest.raises(InputError) as err:
        read(path, current_unit="A" if what == "time" and "time" in headers else None)
    msg = str(err.value)
    assert "\n" not in msg and "x.csv" in msg and f"qualify as the {what}" in msg
    for k in pair:
        assert f"{headers[k]!r} (column {k})" in msg, msg
    assert f"{option}=" in msg


def test_the_option_picks_one_and_the_other_is_kept(tmp_path):
    path = _csv(tmp_path / "x.csv", ["time/s", "I/A", "Current/nA"])
    m = read(path, current_col="Current/nA")
    np.testing.assert_allclose(m.current_a, np.arange(2, 7) * 1e-9)
    assert "I/A" in m.data  # kept under its own name
    m = read(_csv(tmp_path / "y.csv", ["time/s", "I/A", "I/A"]), current_col=2)
    np.testing.assert_allclose(m.current_a, np.arange(2, 7))


@pytest.mark.parametrize(("headers", "current", "voltage"), [
    (["time/s", "I/mA", "<I>/mA"], "I/mA", None),  # EC-Lab's averaged twin: the first
    (["time/s", "<I>/mA", "I/mA"], "<I>/mA", None),
    (["time/s", "I/mA", "<Ewe>/V", "<Ewe-Ece>/V"], "I/mA", "<Ewe>/V"),  # Ewe-Ece yields
    (["time/s", "I/mA", "Im(M)"], "I/mA", None),  # "M" is no current: no rival
    (["time/s", "I/mA", "control/V", "control/mA", "control/V/mA"], "I/mA", None),
])
def test_documented_pairs_resolve_as_before(tmp_path, headers, current, voltage):
    m = read(_csv(tmp_path / "x.csv", headers))
    names = {c.name: c.original for c in m.columns}
    assert names["current_a"] == current and names.get("voltage_v") == voltage


@needs_realdata
def test_an_mpt_with_its_voltage_header_renamed_to_a_current_is_refused(tmp_path):
    raw = (REALDATA / "biologic" / "ca.mpt").read_bytes()
    lines = raw.split(b"\n")
    at = next(k for k, ln in enumerate(lines) if ln.startswith(b"mode\t"))
    lines[at] = lines[at].replace(b"Ewe/V", b"I/mA")
    path = tmp_path / "ca_dupI.mpt"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(InputError, match=r"ca_dupI\.mpt: two columns qualify as the current: "
                                         r"'I/mA' \(column 9\) and 'I/mA' \(column 10\)"):
        read(path)
    m = read(path, current_col=10)
    assert m.current_a[0] == pytest.approx(1.8604061e-05)


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(["current", "voltage", "time"]), data=st.data())
def test_two_qualifying_columns_never_pass_silently(kind, data):
    pool = {"current": CURRENTS, "voltage": VOLTAGES, "time": TIMES}[kind]
    a, b = data.draw(st.sampled_from(pool)), data.draw(st.sampled_from(pool))
    name_a, name_b = a.split("/")[0], b.split("/")[0]
    if name_a != name_b and name_a.strip("<>") == name_b.strip("<>"):
        return  # an averaged twin (<I>/uA beside I/A) is not ambiguous: the first is taken
    headers = {"current": ["time/s", a, b], "voltage": ["time/s", "I/A", a, b],
               "time": [a, b, "I/A"]}[kind]
    with tempfile.TemporaryDirectory() as tmp:
        with pytest.raises(InputError, match=f"qualify as the {kind}"):
            read(_csv(Path(tmp) / "x.csv", headers))
