"""Speed of the commands that use the fitted CCD thresholds, as ratios in the same run:
bare ``sescreen criteria`` and the main job ``sescreen report`` against ``sescreen --help``
(the start-up floor) and against the DC fit of one file (``sescreen dcpol``), each a fresh
process; and in-process, the fitted-threshold path (the censored Bayesian draw over the
curated pairs, imports warm, cache cold) against one warm DC fit, with one BLAS thread (what
the CLI sets) and with the default thread pool.

    python -m pytest tests/benchmarks/test_cli_speed.py -s
    python tests/benchmarks/test_cli_speed.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DC_FILE = ROOT / "datasets" / "examples" / "dcpol" / "llzo_like_30C.mpt"
DC_ARGS = ["dcpol", str(DC_FILE), "--thickness", "1mm", "--area", "0.785cm2"]
CLI = [sys.executable, "-c", "import sys; from sescreen.cli import main; "
       "sys.argv[0] = 'sescreen'; main()"]


def _wall(args, repeat=3, env=None) -> float:
    """Best of ``repeat`` wall times (s) of a fresh ``sescreen ARGS`` (the checkout's code)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, env=env)
        best = min(best, time.perf_counter() - t0)
        assert r.returncode == 0, r.stderr
    return best


_IN_PROCESS = """
import sys, time
from sescreen import ccd, read, fit_dcpol
from sescreen.literature import fit_pairs
pairs = fit_pairs()
ccd.fit_ccd(pairs, seed=1)                    # imports warm
m = read(sys.argv[1]); fit_dcpol(m, thickness_cm=0.1, area_cm2=0.785)
best_fit = best_dc = 1e9
for k in range(5):
    ccd._default_fit.cache_clear()
    t0 = time.perf_counter(); ccd.fit_ccd().max_sigma_e(1.0); ccd.fit_ccd().max_sigma_e(10.0)
    best_fit = min(best_fit, time.perf_counter() - t0)
    t0 = time.perf_counter(); fit_dcpol(m, thickness_cm=0.1, area_cm2=0.785)
    best_dc = min(best_dc, time.perf_counter() - t0)
print(best_fit, best_dc)
"""


def _in_process(threads: str | None) -> tuple[float, float]:
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(name, None)
        if threads is not None:
            env[name] = threads
    r = subprocess.run([sys.executable, "-c", _IN_PROCESS, str(DC_FILE)], cwd=ROOT,
                       capture_output=True, text=True, env=env, check=True)
    fit_s, dc_s = (float(v) for v in r.stdout.split())
    return fit_s, dc_s


def measure() -> dict[str, float]:
    out = {"help": _wall(["--help"]), "dcpol": _wall(DC_ARGS), "criteria": _wall(["criteria"]),
           "criteria_fit": _wall(["criteria", "--sigma-e", "1e-9", "--source", "fit"])}
    with tempfile.TemporaryDirectory() as tmp:
        out["report"] = _wall(["report", "--out", str(Path(tmp) / "r.html")], repeat=1)
    out["fit_1thread"], out["dc_warm"] = _in_process("1")
    out["fit_default"], _ = _in_process(None)
    return out


def table(m: dict[str, float]) -> str:
    rows = [("sescreen --help", m["help"]), ("sescreen dcpol (one file)", m["dcpol"]),
            ("sescreen criteria", m["criteria"]),
            ("sescreen criteria --sigma-e 1e-9 --source fit", m["criteria_fit"]),
            ("sescreen report (main job, 12 files + NDP)", m["report"])]
    lines = ["| command (fresh process) | wall s | / --help | / dcpol |", "|---|---|---|---|"]
    lines += [f"| {n} | {t:.2f} | {t / m['help']:.1f} | {t / m['dcpol']:.2f} |" for n, t in rows]
    lines += ["", "| in-process, imports warm | s | / one warm DC fit |", "|---|---|---|",
              f"| fitted thresholds (1 and 10 mA/cm2), 1 BLAS thread | {m['fit_1thread']:.3f} "
              f"| {m['fit_1thread'] / m['dc_warm']:.2f} |",
              f"| fitted thresholds, default BLAS threads | {m['fit_default']:.3f} "
              f"| {m['fit_default'] / m['dc_warm']:.2f} |",
              f"| one DC fit (llzo_like_30C.mpt) | {m['dc_warm']:.3f} | 1 |"]
    return "\n".join(lines)


def test_fitted_thresholds_are_fast():
    m = measure()
    print("\n" + table(m))
    assert m["fit_1thread"] <= 0.5 and m["fit_default"] <= 0.5
    # the fitted thresholds add no more than a DC fit's worth of time to a bare command
    assert m["criteria"] <= m["dcpol"] * 1.5


if __name__ == "__main__":
    print(table(measure()))
