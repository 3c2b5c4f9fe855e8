"""The command line through click's runner: output, JSON contract, exit codes, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from sescreen import __version__
from sescreen.cli import main
from sescreen.io.writers import write_mpt, write_table

INSPECT_KEYS = {"format", "technique", "n_points", "time_span_s", "current_min_a",
                "current_max_a", "applied_voltage_v", "area_cm2", "columns"}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_version():
    r = run("--version")
    assert r.exit_code == 0 and __version__ in r.output


def test_inspect_bundled_example_human_and_json(examples):
    path = str(examples / "dcpol" / "llzo_like_60C.mpt")
    r = run("inspect", path)
    assert r.exit_code == 0
    assert "constant-voltage hold" in r.output and "0.785 cm^2" in r.output
    r = run("inspect", path, "--json")
    assert r.exit_code == 0
    out = json.loads(r.output)
    assert INSPECT_KEYS <= out.keys()
    assert out["format"] == "biologic-mpt" and out["technique"] == "constant_voltage"
    assert out["n_points"] == 401 and out["time_span_s"] == pytest.approx(8000)
    assert out["applied_voltage_v"] == pytest.approx(0.1) and out["area_cm2"] == 0.785
    assert out["columns"][:2] == ["time_s", "current_a"]
    assert 0 < out["current_min_a"] < out["current_max_a"]


def test_inspect_realdata_json(realdata):
    out = json.loads(run("inspect", str(realdata / "biologic" / "ca.mpr"), "--json").output)
    assert (out["n_points"], out["applied_voltage_v"], out["area_cm2"]) == (721, 0.3, 1.131)
    out = json.loads(run("inspect", str(realdata / "gamry" / "ocp_data.dta"), "--json").output)
    assert out["technique"] == "open_circuit"
    assert out["current_min_a"] is None and out["applied_voltage_v"] is None


def test_inspect_overrides_and_segments(tmp_path):
    t = np.arange(0, 100.0)
    path = write_table(tmp_path / "bare.csv", t, 1e-9 * (1 + np.exp(-t / 10)), style="bare",
                       current_unit="nA")
    r = run("inspect", str(path), "--current-unit", "nA", "--area", "0.5cm2",
            "--voltage", "50mV", "--temperature", "60C", "--json", "--segments")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["area_cm2"] == pytest.approx(0.5)
    assert out["applied_voltage_v"] == pytest.approx(0.05)
    assert out["temperature_k"] == pytest.approx(333.15)
    assert out["current_max_a"] == pytest.approx(2e-9)
    assert out["segments"][0]["n_points"] == 100


@pytest.mark.parametrize(("args", "needle"), [
    (["inspect", "missing.csv"], "no such file"),
    (["inspect", "{bad}", "--area", "2 V"], "not a unit of area"),
    (["inspect", "{bad}", "--temperature", "30"], "has no unit"),
    (["inspect", "{bare}"], "has no unit"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, args, needle):
    t = np.arange(0, 10.0)
    bad = write_mpt(tmp_path / "good.mpt", t, 1e-9 * np.ones_like(t) + 1e-10 * np.exp(-t))
    bare = write_table(tmp_path / "bare.csv", t, np.ones_like(t) * 1e-9, style="bare")
    args = [a.format(bad=bad, bare=bare) for a in args]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2
    assert needle in r.stderr
    assert r.stderr.startswith("sescreen: error: ") and r.stderr.count("\n") == 1
    assert "Traceback" not in r.output


def _python(code: str) -> str:
    """Run code in a fresh interpreter (so sys.modules starts empty); its last line."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return out.strip().splitlines()[-1]


def test_help_does_not_import_heavy_libraries():
    assert _python("import sys\nfrom sescreen.cli import main\n"
                   "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
                   "heavy = {'matplotlib', 'lmfit', 'pymatgen', 'galvani', 'pandas', 'scipy'}\n"
                   "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))") == "[]"


def test_console_script_runs():
    r = subprocess.run([sys.executable, "-m", "sescreen.cli", "--version"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and __version__ in r.stdout


def test_top_level_api_is_lazy():
    assert _python("import sys, sescreen\nassert 'pandas' not in sys.modules\n"
                   "assert sescreen.verdict(3e-11).passes_1ma\nassert 'sescreen.criteria' in "
                   "sys.modules\nprint(sorted(n for n in sescreen.__all__ if not "
                   "hasattr(sescreen, n)))") == "[]"


def _err(*args):
    r = CliRunner().invoke(main, list(args))
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith("sescreen: error: ") and r.stderr.count("\n") == 1
    return r.stderr


def test_outputs_are_checked_before_work(tmp_path, examples):
    hold = str(examples / "dcpol" / "llzo_like_60C.mpt")
    assert "must end in .png" in _err("dcpol", hold, "--thickness", "1mm", "--plot",
                                      str(tmp_path / "fit.xyz"))
    assert "is a folder" in _err("report", "--out", str(tmp_path))
    assert "names a file" in _err("report", "--all", "--out", str(tmp_path / "x.html"))
    assert "must end in .csv" in _err("batch", str(examples / "dcpol"), "--thickness", "1mm",
                                      "--out", str(tmp_path / "r.xlsx"))
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert "file" in _err("dcpol", hold, "--thickness", "1mm", "--plot",
                          str(blocked / "sub" / "fit.png"))


def test_quantity_hints_and_conductivity_units():
    assert "'1 mm'" in _err("dcpol", "x.mpt", "--thickness", "1")
    out = json.loads(CliRunner().invoke(main, ["criteria", "--sigma-e", "1e-7 S/m",
                                               "--json"]).output)
    assert out["sigma_e"] == pytest.approx(1e-9)
    assert "not a conductivity" in _err("criteria", "--sigma-e", "1e-9 V")


def test_mechanics_refuses_inputs_of_another_model():
    assert "--k-ic and --flaw" in _err("mechanics", "--model", "griffith", "--fracture-stress",
                                       "100MPa")
    assert "zero stress" in _err("mechanics", "--overpotential", "-5mV", "--model", "han2019")


def test_decimal_comma_quantities(tmp_path):
    t = np.arange(0, 50.0)
    path = write_table(tmp_path / "c.csv", t, 1e-9 * (1 + np.exp(-t / 5)), sep=";",
                       decimal=",", comments={"voltage": "0,1 V", "area": "0,785 cm2",
                                              "technique": "CA"})
    out = json.loads(CliRunner().invoke(main, ["inspect", str(path), "--json"]).output)
    assert out["applied_voltage_v"] == pytest.approx(0.1)
    assert out["area_cm2"] == pytest.approx(0.785)


def test_bundled_gamry_examples_carry_their_temperature(examples):
    out = json.loads(CliRunner().invoke(
        main, ["inspect", str(examples / "dcpol" / "glass_x_60C.DTA"), "--json"]).output)
    assert out["temperature_k"] == pytest.approx(333.15)


# -- check: the three outcomes, whatever the estimator says ------------------------------
def _fake_fit(sigma_e, interval, *, upper_bound_only=False, steady=True, t_steady=None,
              t_hold=20_000.0):
    """A stand-in with the interface check relies on from sescreen.dcpol.fit_dcpol."""
    from types import SimpleNamespace

    return SimpleNamespace(sigma_e=sigma_e, sigma_e_stderr=0.0, sigma_e_interval=interval,
                           upper_bound_only=upper_bound_only, steady_state_reached=steady,
                           t_steady_estimate=t_steady, t_hold=t_hold, temperature_k=298.15,
                           warnings=())


@pytest.mark.parametrize(("fit", "code", "outcome", "needle"), [
    (_fake_fit(1e-20, (0.0, 5e-11), upper_bound_only=True), 0, "pass", "upper bound"),
    (_fake_fit(1e-20, (0.0, 3e-10), upper_bound_only=True, steady=False, t_steady=9e4),
     3, "inconclusive", "a hold of at least about 25 h"),
    (_fake_fit(1e-11, (1e-12, 2e-10), upper_bound_only=True), 3, "inconclusive",
     "never fail"),
    (_fake_fit(4e-10, (3e-10, float("inf"))), 1, "fail", "lower bound"),
    (_fake_fit(8e-11, (5e-11, float("inf"))), 3, "inconclusive", "never pass"),
    (_fake_fit(9e-11, (6e-11, 1.3e-10)), 3, "inconclusive", "straddles"),
    (_fake_fit(2e-10, (1.1e-10, 3e-10)), 1, "fail", "above"),
])
def test_check_outcomes_and_exit_codes(monkeypatch, examples, fit, code, outcome, needle):
    import sescreen.dcpol

    monkeypatch.setattr(sescreen.dcpol, "fit_dcpol", lambda m, **kw: fit)
    path = str(examples / "dcpol" / "llzo_like_30C.mpt")
    r = CliRunner().invoke(main, ["check", path, "--thickness", "1mm", "--json"])
    assert r.exit_code == code, r.output
    data = json.loads(r.output)
    assert data["outcome"] == outcome and data["passes"] == (outcome == "pass")
    assert needle in data["reason"]
    lo, hi = fit.sigma_e_interval
    assert data["sigma_e_interval"] == [0.0 if fit.upper_bound_only else lo,
                                        None if hi == float("inf") else hi]
    if fit.upper_bound_only or hi == float("inf"):
        assert data["p_pass"] is None
    human = CliRunner().invoke(main, ["check", path, "--thickness", "1mm"])
    assert human.exit_code == code and human.output.startswith(outcome.upper())
    assert f"reason: {data['reason']}" in human.output


@pytest.mark.parametrize("command", ["check", "dcpol"])
def test_accuracy_option_reaches_the_fit(monkeypatch, examples, command):
    """--accuracy is the instrument's current accuracy given to fit_dcpol (A); a negative
    one is refused with exit 2 and the option's name."""
    import sescreen.dcpol

    seen = {}
    real = sescreen.dcpol.fit_dcpol

    def spy(m, **kw):
        seen.update(kw)
        return real(m, **kw)

    monkeypatch.setattr(sescreen.dcpol, "fit_dcpol", spy)
    path = str(examples / "dcpol" / "llzo_like_30C.mpt")
    r = CliRunner().invoke(main, [command, path, "--thickness", "1mm", "--accuracy", "2pA"])
    assert r.exit_code in (0, 1, 3), r.output
    assert seen["accuracy_a"] == pytest.approx(2e-12)
    bad = CliRunner().invoke(main, [command, path, "--thickness", "1mm", "--accuracy", "-1pA"])
    assert bad.exit_code == 2 and "--accuracy" in bad.output
