"""Review cli (an independent reviewer of the command line): regression tests.

- W1: a watched file deleted or moved away after it had been read ended ``watch`` at once
  (exit 2, "no such file"), without its final look and without writing ``--history`` or
  ``--plot``; an exporter that deletes and writes the file again lost the whole watch.
- W2: a file that states another technique than a constant-voltage hold (an impedance
  spectrum, a chronopotentiometry, an open-circuit record: 11 of the real files that
  ``check`` refuses with exit 2) was watched as "no fit yet" until --idle and ended
  INCONCLUSIVE, exit 3 (measure longer), instead of bad input, exit 2.
- U1: ``--thickness '1,000 um'`` was read as 1 um (a decimal comma), not 1000 um: sigma_e
  1000x too low, a PASS at 10 mA/cm^2 for a hold at 4e-11 S/cm.
- A1: ``fit_dcpol`` (the API) took a NaN voltage or area (sigma_e NaN, no error) and
  1e300 V, 1e300 cm^2 or 1e-300 cm (sigma_e ~1e-306 S/cm: a PASS for a hold at 6e-7).
"""

from __future__ import annotations

import math

import pytest
from click.testing import CliRunner
from conftest import follow_on_fake_clock

from sescreen.cli import main
from sescreen.errors import TechniqueError
from sescreen.sequential import HoldWatcher, follow

HEADER = "# voltage: 0.1 V\n# area: 1 cm2\ntime/s,I/A,Ewe/V\n"


def _rows(a: int, b: int) -> str:
    """A decay still under way at 3000 s (an upper bound above 1e-10 S/cm: undecided)."""
    return "".join(f"{10.0 * k:.1f},"
                   f"{1e-9 * (1 + 3 * math.exp(-k / 30) + math.exp(-k / 150)):.6e},0.1\n"
                   for k in range(a, b))


def test_a_file_deleted_and_written_again_is_watched_on(tmp_path):
    path = tmp_path / "hold.csv"
    path.write_text(HEADER + _rows(0, 300))
    stages = [path.unlink, lambda: path.write_text(HEADER + _rows(0, 330))]
    looks, reported = follow_on_fake_clock(path, stages)
    assert len(reported) == 1 and "deleted or moved" in reported[0]
    assert "hold.csv" in reported[0]
    assert [lk.n_points for lk in looks] == [300, 330, 330]
    assert any("read again" in n and "deleted" in n for n in looks[1].notes)
    assert looks[-1].stop == "idle"


def test_a_file_moved_away_for_good_stops_unreadable_with_its_last_look(tmp_path):
    path = tmp_path / "hold.csv"
    path.write_text(HEADER + _rows(0, 300))
    looks, reported = follow_on_fake_clock(path, [lambda: path.rename(tmp_path / "archived.csv")])
    assert len(reported) == 1
    assert [lk.n_points for lk in looks] == [300, 300]
    assert looks[-1].stop == "unreadable"
    assert "deleted or moved" in looks[-1].notes[-1]


# -- W2: a record of another technique is bad input, not "no fit yet" ---------------------
def test_watch_refuses_a_file_that_states_another_technique(tmp_path):
    path = tmp_path / "cp.csv"
    path.write_text("# technique: chronopotentiometry\n" + HEADER + _rows(0, 300))
    with pytest.raises(TechniqueError, match="constant-current"):
        list(follow(path, HoldWatcher(thickness_cm=0.1), every_s=1.0, idle_s=2.0,
                    sleep=lambda s: None))
    for mode in (["--replay", "--every", "1h"], ["--every", "0.1s", "--idle", "0.3s"]):
        res = CliRunner().invoke(main, ["watch", str(path), "--thickness", "1mm", *mode])
        assert res.exit_code == 2, res.output
        assert "cp.csv: this is a constant-current record" in res.output


def test_a_stated_hold_or_an_unknown_technique_is_still_watched(tmp_path):
    """Unknown or inferred techniques are judged again at the next look, as before."""
    path = tmp_path / "bare.csv"
    path.write_text(HEADER + _rows(0, 300))
    res = CliRunner().invoke(main, ["watch", str(path), "--thickness", "1mm", "--replay",
                                    "--every", "1h"])
    assert res.exit_code == 3 and "INCONCLUSIVE" in res.output, res.output


# -- U1: "1,000 um" is a decimal comma or a thousands separator ---------------------------
@pytest.mark.parametrize("text", ["1,000 um", "2,500um", "-1,000 mV", "100,000 nm"])
def test_a_comma_before_three_digits_is_refused_as_ambiguous(text):
    from sescreen.cli.options import _quantity
    from sescreen.errors import InputError

    dim = "voltage" if "V" in text else "length"
    name = "--voltage" if dim == "voltage" else "--thickness"
    with pytest.raises(InputError, match=r"ambiguous.*write '.*\..*' or '"):
        _quantity(text, dim, name)


@pytest.mark.parametrize("text, value", [("0,785 mm", 7.85e-4), ("1,5 mm", 1.5e-3),
                                         ("1,25mm", 1.25e-3), ("1,0005 mm", 1.0005e-3),
                                         ("1.000 um", 1e-6), ("1000 um", 1e-3)])
def test_unambiguous_decimal_commas_and_points_are_read(text, value):
    from sescreen.cli.options import _quantity

    assert _quantity(text, "length", "--thickness") == pytest.approx(value)


def test_check_with_a_thousands_comma_gives_no_verdict(tmp_path):
    path = tmp_path / "hold.csv"
    path.write_text(HEADER + _rows(0, 300))
    res = CliRunner().invoke(main, ["check", str(path), "--thickness", "1,000 um"])
    assert res.exit_code == 2 and "ambiguous" in res.output, res.output


# -- A1: the API applies the lab ranges the CLI applies -----------------------------------
@pytest.mark.parametrize("given", [{"voltage_v": float("nan")}, {"voltage_v": 1e300},
                                   {"area_cm2": float("nan")}, {"area_cm2": float("inf")},
                                   {"area_cm2": 1e300}, {"thickness_cm": 1e-300}])
def test_fit_dcpol_refuses_values_no_lab_reaches(tmp_path, given):
    from sescreen.dcpol import fit_dcpol
    from sescreen.errors import InputError
    from sescreen.io import read

    path = tmp_path / "hold.csv"
    path.write_text(HEADER + _rows(0, 300))
    with pytest.raises(InputError, match="outside the plausible range"):
        fit_dcpol(read(path), **{"thickness_cm": 0.1, **given})


def test_a_fracture_stress_no_material_has_is_refused(tmp_path):
    # '1e30 MPa' had been accepted (phi_c of -1.3e20 V): no lab range for stress
    r = CliRunner().invoke(main, ["mechanics", "--fracture-stress", "1e30 MPa"])
    assert r.exit_code == 2 and "plausible range 0.1 MPa .. 100 GPa" in r.stderr
    assert CliRunner().invoke(main, ["mechanics", "--fracture-stress", "100 MPa"]).exit_code == 0
    table = tmp_path / "c.csv"
    table.write_text("material,sigma_e (S/cm),fracture_stress (MPa)\nX,1e-11,1e30\n")
    r = CliRunner().invoke(main, ["screen", str(table)])
    assert r.exit_code == 2 and "line 2" in r.stderr and "fracture_stress" in r.stderr


@pytest.mark.parametrize(("option", "text", "hint"), [
    ("--ccd", "abc", "e.g. '1 mA/cm2'"), ("--ccd", "1 mA/cm2 extra", "e.g. '1 mA/cm2'")])
def test_an_unreadable_quantity_is_told_a_unit_of_its_own_kind(option, text, hint):
    # the hint had always been '1 mm', also for a current density
    r = CliRunner().invoke(main, ["criteria", option, text])
    assert r.exit_code == 2 and hint in r.stderr


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no named pipes here")
def test_batch_lists_a_named_pipe_it_does_not_read(tmp_path, examples):
    # a FIFO named like a measurement had been left out of the table without a word
    import os
    import shutil

    data = tmp_path / "d"
    data.mkdir()
    shutil.copy(examples / "dcpol" / "glass_x_30C.DTA", data)
    os.mkfifo(data / "p.mpt")
    out = tmp_path / "t.csv"
    r = CliRunner().invoke(main, ["batch", str(data), "--thickness", "0.5mm", "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert "p.mpt: not a regular file" in r.output
    assert "not a regular file" in out.read_text()


def test_batch_with_an_empty_out_is_refused(examples):
    r = CliRunner().invoke(main, ["batch", str(examples / "dcpol"), "--thickness", "1mm",
                                  "--out", ""])
    assert r.exit_code == 2 and "names no file" in r.stderr
