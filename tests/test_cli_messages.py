"""CLI messages in CLI terms (issue 14): no Python API names (current_unit=, holds(),
fit_dcpol_series()) shown to CLI users; the technique name `inspect` prints accepted in a
'# technique:' comment; `arrhenius FILES...` keeps each file's reason; the Hebb-Wagner text
output prints its warnings."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner

from sescreen.cli import cli_terms, main
from sescreen.hebb_wagner import fit_hebb_wagner, hebb_wagner_current

API_NAMES = ("current_unit=", "current_col=", "time_col=", "holds()", "fit_dcpol_series()",
             "allow_truncated=", "technique=", "(CLI:")


def _no_api_names(text: str) -> None:
    assert not any(name in text for name in API_NAMES), text


def _hold_csv(path, header="time (s),current (nA)", comments=("# voltage: 0.1 V",)):
    t = np.arange(0, 3000, 10.0)
    i = 2.0 + 5.0 * np.exp(-t / 200)
    rows = [f"{a},{b:.6g}" for a, b in zip(t, i, strict=True)]
    path.write_text("\n".join([*comments, header, *rows]) + "\n")
    return path


def test_reader_errors_name_cli_options(tmp_path):
    f = _hold_csv(tmp_path / "nounit.csv", header="time (s),current")
    r = CliRunner().invoke(main, ["dcpol", str(f), "--thickness", "1mm", "--area", "1cm2"])
    assert r.exit_code == 2 and "--current-unit" in r.stderr, r.stderr
    _no_api_names(r.stderr)
    f = tmp_path / "noheader.csv"
    f.write_text("0,5\n10,4\n20,3\n")
    r = CliRunner().invoke(main, ["dcpol", str(f), "--thickness", "1mm", "--area", "1cm2"])
    assert r.exit_code == 2, r.output
    _no_api_names(r.stderr)


def test_cli_terms_maps_the_multi_hold_advice():
    text = ("the record holds 3 separate holds (at [0.1, 0.2] V): split it with holds() and "
            "fit each, or fit_dcpol_series() for a voltage series (CLI: sescreen dcpol picks "
            "them up; --segment N chooses one)")
    with_segment = cli_terms(text, {"segment", "thickness"})
    assert with_segment.endswith("choose one with --segment N")
    without = cli_terms(text, {"thickness"})
    assert "sescreen dcpol FILE --segment N" in without
    for t in (with_segment, without):
        _no_api_names(t)
    assert cli_terms("pass current_col= and current_unit= (CLI: --current-col, "
                     "--current-unit)") == "pass --current-col and --current-unit"
    assert cli_terms("split it with segments() (CLI: inspect --segments)") == \
        "split it with sescreen inspect --segments"
    assert cli_terms("no unit; pass current_unit=") == "no unit; pass --current-unit"


def test_technique_comment_takes_the_name_inspect_prints(tmp_path):
    f = _hold_csv(tmp_path / "h.csv", comments=("# technique: constant_voltage",
                                                "# voltage: 0.1 V"))
    r = CliRunner().invoke(main, ["inspect", str(f)])
    assert r.exit_code == 0, r.output
    assert "constant_voltage" in r.output
    r = CliRunner().invoke(main, ["dcpol", str(f), "--thickness", "1mm", "--area", "1cm2",
                                  "--json"])
    assert r.exit_code == 0, r.output
    assert "does not say it is a constant-voltage hold" not in r.stdout


def test_arrhenius_files_keep_each_reason(tmp_path):
    a = _hold_csv(tmp_path / "a.csv", header="time (s),current")  # no unit
    b = tmp_path / "b.csv"
    b.write_text("nothing here\n")
    r = CliRunner().invoke(main, ["arrhenius", str(a), str(b), str(tmp_path / "gone.csv"),
                                  "--thickness", "1mm", "--area", "1cm2"])
    assert r.exit_code == 2, r.output
    assert "none of the 3 files could be analysed" in r.stderr
    for name in ("a.csv", "b.csv", "gone.csv"):
        assert name in r.stderr, r.stderr
    assert "no unit" in r.stderr and "no such file" in r.stderr


def test_hebb_wagner_text_prints_its_warnings():
    e = np.array([0.2, 0.6, 1.0, 1.4, 1.8])
    i = hebb_wagner_current(e, -2e-9, 1e-13, temperature_k=300.0, thickness_cm=0.1,
                            area_cm2=1.0)
    res = fit_hebb_wagner(e, i, temperature_k=300.0, thickness_cm=0.1, area_cm2=1.0,
                          i_err_a=np.abs(i) * 0.01 + 1e-15)
    assert res.sigma_n0 < 0 and res.warnings
    assert "\n  warning: sigma_n0 fitted negative" in str(res)


def test_a_wrong_technique_is_named_once():
    """"this is a constant-current record (chronopotentiometry) (chronopotentiometry)": the
    file's own name for the technique is added only when the description lacks it."""
    from conftest import EXAMPLES

    r = CliRunner().invoke(main, ["dcpol", str(EXAMPLES / "ccd" / "llzo_like_25C_plating.csv"),
                                  "--thickness", "1mm"])
    assert r.exit_code == 2
    assert r.stderr.count("chronopotentiometry") == 1, r.stderr
