"""Speed of the command line, as ratios in one run on one machine (interleaved fresh
processes, best of N: the floor a busy shared machine allows):

- start-up: ``sescreen --help`` / ``python -c pass``; ``sescreen inspect`` (a small file) and
  ``sescreen check`` / ``python -c "import pandas"``;
- the commands that use the fitted CCD thresholds (bare ``criteria``) and the main job
  ``sescreen report``, against ``--help`` and one ``sescreen dcpol``; the report's wall time
  split into its parts (cProfile of a second run: DC fits, figures, thresholds, ...);
- in-process: the fitted thresholds against one warm DC fit (1 BLAS thread and default);
  Arrhenius lines of 10^4 materials in one call (``fit_arrhenius_many``) against 10^4 calls
  of ``fit_arrhenius``;
- ``sescreen batch`` on generated small holds with 1 and 2 workers: files/s per worker.

    python tests/benchmarks/test_cli_speed.py        # writes tests/benchmarks/cli_speed.md
    python -m pytest tests/benchmarks/test_cli_speed.py -s
"""

from __future__ import annotations

import datetime
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).with_name("cli_speed.md")
DC_FILE = ROOT / "datasets" / "examples" / "dcpol" / "llzo_like_30C.mpt"
SMALL_FILE = ROOT / "datasets" / "examples" / "dcpol" / "li3ps4_like_30C.csv"
DC_ARGS = ["dcpol", str(DC_FILE), "--thickness", "1mm", "--area", "0.785cm2"]
PY = [sys.executable]
CLI = [*PY, "-c", "import sys; from sescreen.cli import main; sys.argv[0] = 'sescreen'; main()"]
N_BATCH = 20
#: the report's parts: label -> functions whose cumulative time it is (file suffix, name)
REPORT_PARTS = {
    "DC fits (fit_dcpol)": [("dcpol/analysis.py", "fit_dcpol")],
    "figures: savefig (layout, draw, PNG)": [("matplotlib/figure.py", "savefig")],
    "figures: plotting": [("sescreen/plot.py", "plot_dcpol"), ("sescreen/plot.py",
                                                               "plot_arrhenius"),
                          ("sescreen/plot.py", "plot_ccd_map"), ("cycling/result.py", "plot"),
                          ("ndp/profiles.py", "plot")],
    "fitted thresholds (fit_ccd)": [("sescreen/ccd.py", "_default_fit")],
    "reading files (sescreen.io.read)": [("sescreen/io/__init__.py", "read")],
}


def _run(args, env=None, cwd=ROOT) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    assert r.returncode in (0, 1, 3), r.stderr  # check: 1 fail / 3 inconclusive are verdicts
    return elapsed


def _best(commands: dict[str, list[str]], repeat: int) -> dict[str, float]:
    """Best wall time (s) of each command, the commands interleaved ``repeat`` times."""
    best = dict.fromkeys(commands, float("inf"))
    for _ in range(repeat):
        for name, args in commands.items():
            best[name] = min(best[name], _run(args))
    return best


def startup(repeat: int = 10) -> dict[str, float]:
    return _best({
        "pass": [*PY, "-c", "pass"], "pandas": [*PY, "-c", "import pandas"],
        "help": [*CLI, "--help"], "inspect": [*CLI, "inspect", str(SMALL_FILE)],
        "check": [*CLI, "check", str(DC_FILE), "--thickness", "1mm"]}, repeat)


def commands() -> dict[str, float]:
    out = _best({"dcpol": [*CLI, *DC_ARGS], "criteria": [*CLI, "criteria"],
                 "criteria_fit": [*CLI, "criteria", "--sigma-e", "1e-9", "--source", "fit"]}, 3)
    with tempfile.TemporaryDirectory() as tmp:
        out["report"] = _run([*CLI, "report", "--out", str(Path(tmp) / "r.html")])
        prof = Path(tmp) / "report.prof"
        _run([*PY, "-m", "cProfile", "-o", str(prof), "-m", "sescreen.cli", "report",
              "--out", str(Path(tmp) / "p.html")])
        out.update(_report_parts(prof))
    return out


def _report_parts(prof: Path) -> dict[str, float]:
    """Fractions of the profiled report run spent in each of :data:`REPORT_PARTS`."""
    stats = pstats.Stats(str(prof)).stats  # (file, line, name) -> (cc, nc, tt, ct, callers)
    total = max(ct for *_, ct, _ in stats.values())
    parts = {}
    for label, wanted in REPORT_PARTS.items():
        parts[f"part:{label}"] = sum(
            ct for (file, _, name), (_, _, _, ct, callers) in stats.items()
            if any(file.endswith(f) and name == n for f, n in wanted)
            # outermost calls only (a recursive or nested call counted once)
            and not any(c[0].endswith(f) and c[2] == n for c in callers for f, n in wanted)
        ) / total
    return parts


_IN_PROCESS = """
import sys, time
import numpy as np
from sescreen import ccd, read, fit_dcpol
from sescreen.arrhenius import fit_arrhenius
from sescreen.arrhenius_batch import fit_arrhenius_many
from sescreen.literature import fit_pairs
pairs = fit_pairs()
ccd.fit_ccd(pairs, seed=1)                    # imports warm
m = read(sys.argv[1]); fit_dcpol(m, thickness_cm=0.1, area_cm2=0.785)
best_fit = best_dc = 1e9
for k in range(3):
    ccd._default_fit.cache_clear()
    t0 = time.perf_counter(); ccd.fit_ccd().max_sigma_e(1.0); ccd.fit_ccd().max_sigma_e(10.0)
    best_fit = min(best_fit, time.perf_counter() - t0)
    t0 = time.perf_counter(); fit_dcpol(m, thickness_cm=0.1, area_cm2=0.785)
    best_dc = min(best_dc, time.perf_counter() - t0)
rng = np.random.default_rng(1)
mats = []
for i in range(10_000):
    # distinct temperatures, at least 3 K apart (repeats within 2 K are one point)
    t = np.sort(rng.choice(np.arange(273.0, 424.0, 3.0), rng.integers(3, 13), replace=False))
    s = 10 * np.exp(-0.4 / (8.617e-5 * t) + rng.normal(0, 0.1, t.size))
    mats.append((t, s, 0.05 * s if i % 2 else None))
fit_arrhenius_many(*zip(*mats[:10]))
best_many = 1e9
for k in range(3):
    t0 = time.perf_counter(); fit_arrhenius_many(*zip(*mats)).sigma_at(298.15)
    best_many = min(best_many, time.perf_counter() - t0)
t0 = time.perf_counter()
for t, s, e in mats[:1000]:
    fit_arrhenius(t, s, e).sigma_at(298.15)
one = (time.perf_counter() - t0) / 1000
print(best_fit, best_dc, best_many, one)
"""


def in_process(threads: str | None) -> dict[str, float]:
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(name, None)
        if threads is not None:
            env[name] = threads
    r = subprocess.run([*PY, "-c", _IN_PROCESS, str(DC_FILE)], cwd=ROOT, capture_output=True,
                       text=True, env=env, check=True)
    fit_s, dc_s, many_s, one_s = (float(v) for v in r.stdout.split())
    return {"fit": fit_s, "dc_warm": dc_s, "arrhenius_many": many_s, "arrhenius_one": one_s}


def _holds(folder: Path, n: int) -> None:
    """``n`` small generated EC-Lab holds (900 points each) in ``folder``."""
    import numpy as np

    from sescreen.io.writers import write_mpt
    from sescreen.synthetic import dcpol_record

    rng = np.random.default_rng(15)
    for k in range(n):
        i_ss = 10 ** rng.uniform(-9, -7)
        m = dcpol_record("exp1", dict(i_ss=i_ss, a1=3 * i_ss, tau1=300.0), hold_s=9000,
                         dt_s=10, noise_a=0.01 * i_ss, rng=rng)
        write_mpt(folder / f"hold_{k:02d}.mpt", m.time_s, m.current_a)


def batch() -> dict[str, float]:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "holds"
        folder.mkdir()
        _holds(folder, N_BATCH)
        for workers in (1, 2):
            table = Path(tmp) / f"out{workers}.csv"
            out[f"batch_{workers}"] = _run([*CLI, "batch", str(folder), "--thickness", "1mm",
                                            "--area", "1cm2", "--workers", str(workers),
                                            "--out", str(table), "--quiet"])
    return out


def measure() -> dict[str, float]:
    load0 = os.getloadavg()[0]
    out = startup()
    out.update(commands())
    single = in_process("1")
    out.update(single)
    out["fit_default"] = in_process(None)["fit"]
    out.update(batch())
    out["load"] = max(load0, os.getloadavg()[0])
    return out


def table(m: dict[str, float]) -> str:
    cpus = os.cpu_count()
    lines = [f"Measured with `python tests/benchmarks/test_cli_speed.py` on "
             f"{datetime.date.today()} ({cpus} cores shared, load average up to "
             f"{m['load']:.1f}; best of interleaved fresh processes).", "",
             "| start-up (fresh process) | wall s | ratio |", "|---|---|---|",
             f"| `python -c pass` | {m['pass']:.3f} | 1 |",
             f"| `sescreen --help` | {m['help']:.3f} | {m['help'] / m['pass']:.2f} x pass |",
             f"| `python -c \"import pandas\"` | {m['pandas']:.3f} | 1 |",
             f"| `sescreen inspect` (7 kB CSV) | {m['inspect']:.3f} | "
             f"{m['inspect'] / m['pandas']:.2f} x pandas |",
             f"| `sescreen check` (46 kB .mpt, fit included) | {m['check']:.3f} | "
             f"{m['check'] / m['pandas']:.2f} x pandas |", ""]
    rows = [("sescreen dcpol (one file)", m["dcpol"]), ("sescreen criteria", m["criteria"]),
            ("sescreen criteria --sigma-e 1e-9 --source fit", m["criteria_fit"]),
            ("sescreen report (main job, 12 files + NDP)", m["report"])]
    lines += ["| command (fresh process) | wall s | / --help | / dcpol |", "|---|---|---|---|"]
    lines += [f"| {n} | {t:.2f} | {t / m['help']:.1f} | {t / m['dcpol']:.2f} |" for n, t in rows]
    parts = {k[5:]: v for k, v in m.items() if k.startswith("part:")}
    lines += ["", "| report, where its time goes (cProfile) | share |", "|---|---|"]
    lines += [f"| {k} | {v:.0%} |" for k, v in parts.items()]
    lines += [f"| other (imports, screening, HTML) | {max(0.0, 1 - sum(parts.values())):.0%} |"]
    per_worker = {w: N_BATCH / m[f"batch_{w}"] / w for w in (1, 2)}
    lines += ["", "| in-process, imports warm | s | ratio |", "|---|---|---|",
              f"| fitted thresholds (1 and 10 mA/cm2), 1 BLAS thread | {m['fit']:.3f} | "
              f"{m['fit'] / m['dc_warm']:.2f} x one DC fit |",
              f"| fitted thresholds, default BLAS threads | {m['fit_default']:.3f} | "
              f"{m['fit_default'] / m['dc_warm']:.2f} x one DC fit |",
              f"| one DC fit (llzo_like_30C.mpt) | {m['dc_warm']:.3f} | 1 |",
              f"| Arrhenius, 10^4 materials in one `fit_arrhenius_many` call (+ sigma_at) | "
              f"{m['arrhenius_many']:.3f} | {m['arrhenius_one'] * 1e4 / m['arrhenius_many']:.0f}"
              " x faster than 10^4 `fit_arrhenius` |",
              f"| one `fit_arrhenius` (+ sigma_at) | {m['arrhenius_one'] * 1e6:.0f} us | |",
              "", f"| `sescreen batch`, {N_BATCH} generated holds (900 points) | wall s | "
              "files/s per worker |", "|---|---|---|"]
    lines += [f"| --workers {w} | {m[f'batch_{w}']:.2f} | {per_worker[w]:.1f} |" for w in (1, 2)]
    if m["load"] > cpus - 1:
        lines += ["", f"(With a load average of {m['load']:.1f} on {cpus} cores there was no "
                  "free core for a second worker.)"]
    return "\n".join(lines) + "\n"


def test_cli_speed():
    m = measure()
    print("\n" + table(m))
    assert m["help"] <= 2.0 * m["pass"]
    assert m["inspect"] <= 1.3 * m["pandas"]
    assert m["arrhenius_many"] < 1.0
    assert m["fit"] <= 0.5 and m["fit_default"] <= 0.5
    assert m["criteria"] <= m["dcpol"] * 1.5


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # this checkout's sescreen, not an installed one
    text = table(measure())
    OUT.write_text(text)
    sys.stdout.write(text)
