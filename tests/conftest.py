"""Shared fixtures: the third-party instrument files in ../shared/realdata (skipped when absent)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_approx = pytest.approx


def _approx_relative(expected, rel=None, abs=None, nan_ok=False):
    """pytest.approx without its default absolute tolerance of 1e-12: currents (A) and
    conductivities (S/cm) here are 1e-14-1e-6, and 1e-12 made ``approx(2e-12, rel=0.05)``
    accept anything from 1e-12 to 3e-12. A test that means an absolute tolerance (a value
    near 0) says ``abs=``."""
    if abs is None:  # (an abs given alone would drop pytest's default rel of 1e-6)
        return _approx(expected, rel=1e-6 if rel is None else rel, abs=0.0, nan_ok=nan_ok)
    return _approx(expected, rel=rel, abs=abs, nan_ok=nan_ok)


pytest.approx = _approx_relative

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"
EXAMPLES = ROOT / "datasets" / "examples"
BENCHMARKS = Path(__file__).resolve().parent / "benchmarks"


def load_benchmark(filename: str, folder: Path = BENCHMARKS):
    """Import a script of tests/benchmarks (or of ``folder``, e.g. reports/) by file path
    (the folders are not packages), so a fast sample of a benchmark can run in the
    default suite."""
    name = "_script_" + Path(filename).stem
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, folder / filename)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def realdata() -> Path:
    """Folder of real potentiostat files nobody on this project wrote."""
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not available")
    return REALDATA


@pytest.fixture
def galvani():
    """galvani (optional extra 'biologic') for .mpr files."""
    return pytest.importorskip("galvani")


@pytest.fixture(scope="session")
def examples() -> Path:
    """The bundled example data (datasets/examples)."""
    return EXAMPLES


def sigint_default() -> None:
    """``preexec_fn`` for a child that a test interrupts with SIGINT: a shell's background
    job (``pytest ... &``) ignores SIGINT, its children inherit that, and Python then installs
    no KeyboardInterrupt handler, so the signal would do nothing."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def write_wide_table(series, path: Path) -> Path:
    """An NDP series as one wide CSV (a channel column, one column per frame, and the
    live_time, real_time and monitor rows), written by hand, not by sescreen."""
    lines = ["channel," + ",".join(f"{t:g}" for t in series.time_s),
             "live_time," + ",".join(f"{v:g}" for v in series.live_time_s),
             "real_time," + ",".join(f"{v:g}" for v in series.real_time_s),
             "monitor," + ",".join(f"{v:g}" for v in series.monitor)]
    lines += [f"{int(c)}," + ",".join(f"{int(v)}" for v in series.counts[:, k])
              for k, c in enumerate(series.channels)]
    path.write_text("\n".join(lines) + "\n")
    return path


def hold_measurement(t, i, *, voltage_v: float = 0.1, area_cm2: float = 1.0):
    """A constant-voltage hold from arrays: time (s) and current (A)."""
    import numpy as np
    import pandas as pd

    from sescreen.io.measurement import ColumnInfo, Measurement, Technique

    t = np.asarray(t, dtype=float)
    return Measurement(
        data=pd.DataFrame({"time_s": t, "current_a": np.asarray(i, dtype=float),
                           "control_v": np.full(t.size, voltage_v)}),
        format="synthetic", technique=Technique.CONSTANT_VOLTAGE, technique_name="test",
        applied_voltage_v=voltage_v, area_cm2=area_cm2, source="test",
        columns=[ColumnInfo("time_s", "time_s", "s"), ColumnInfo("current_a", "current_a", "A"),
                 ColumnInfo("control_v", "control_v", "V")])


def cycling_measurement(data: dict, *, name: str = "test", source: str = "test"):
    """A constant-current cycling record at 25 C on 1 cm^2 from a dict of columns
    (``time_s``, ``current_a``, ``voltage_v``, optionally ``control_a``)."""
    import pandas as pd

    from sescreen.io.measurement import ColumnInfo, Measurement, Technique

    return Measurement(data=pd.DataFrame(data), format="synthetic",
                       technique=Technique.CONSTANT_CURRENT, technique_name=name,
                       area_cm2=1.0, temperature_k=298.15, source=source,
                       columns=[ColumnInfo(c, c, None) for c in data])


def follow_on_fake_clock(path: Path, stages: list, idle_s: float = 2.5):
    """Follow ``path`` (:func:`sescreen.sequential.follow`, 1 s polls, a 0.1 cm hold) on a
    fake clock; ``stages`` (callables changing the file) run one per poll interval.
    Returns the looks and the problems reported."""
    from sescreen.sequential import HoldWatcher, follow

    now = [0.0]

    def sleep(s):
        now[0] += s
        if stages:
            stages.pop(0)()

    reported: list[str] = []
    looks = list(follow(path, HoldWatcher(thickness_cm=0.1), every_s=1.0, idle_s=idle_s,
                        report=reported.append, sleep=sleep, clock=lambda: now[0]))
    return looks, reported
