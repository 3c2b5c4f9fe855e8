"""Property tests that drive the whole CLI with hostile inputs (issue 11): mutated stack
TOML files, NDP wide tables and frame files, candidates tables and sigma(T) tables.

Every run must end in exit 0 with the promised output, or in a one-line error on stderr
(exit 2) that is not the catch-all for an unexpected exception. The default suite runs a
sample; set ``SESCREEN_FUZZ_EXAMPLES=5000`` for the full campaign (README: the counts run).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sescreen.cli import main

ROOT = Path(__file__).resolve().parents[1]
N = int(os.environ.get("SESCREEN_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=N, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

STACK = (ROOT / "sescreen" / "ndp" / "stacks" / "han2019-llzo.toml").read_text()

HOSTILE_VALUES = ["0", "-1", "1e308", "-1e308", "1e-320", "nan", "inf", "-inf", "true",
                  '"x"', '""', "[]", "[1, 2, 3]", "{}", "{a = 1}", '"Li1e999"', '"((("',
                  '"$x$"', "1979-05-27", "0x10", "1_000", "[[1]]", '"\\u0000"', "3.5",
                  '"Cu"', "2", "16.0", "[0.0, 16.0]", "[-5.0, 1e9]", "[16.0, 0.0]"]
HOSTILE_CELLS = ["", "nan", "NaN", "inf", "-inf", "-1", "0", "1e308", "1e-320", "abc", "#",
                 "=1+1", "1,5", "  ", "\t", "1e", "--", "NA", "9" * 400, "$x$", "ü", "-0",
                 "1e-12", "25", "1e-10", "3", "Li7La3Zr2O12", "(((", "0.1"]


def _invoke(args: list[str]):
    return CliRunner().invoke(main, args)


def _assert_contract(r, *, json_out: bool = True) -> None:
    """Exit 0 with one JSON object, or exit 1/2/3 with a one-line, expected error."""
    assert r.exit_code in (0, 1, 2, 3), (r.exit_code, r.output, r.exception)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"uncaught {type(r.exception).__name__}: {r.exception}")
    if r.exit_code == 2:
        err = r.stderr
        assert err.startswith("sescreen: error: "), err
        assert err.count("\n") == 1, err
        assert "unexpected" not in err, err  # the catch-all for a bug in sescreen
        assert len(err) < 1000
    elif r.exit_code == 0 and json_out:
        json.loads(r.stdout)


def _mutate_text(data, text: str, values: list[str]) -> str:
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["value", "value", "value", "delete", "dup",
                                          "bytes", "truncate", "swap"]))
        k = data.draw(st.integers(0, len(lines) - 1))
        if kind == "value" and "=" in lines[k]:
            key = lines[k].split("=", 1)[0]
            lines[k] = f"{key}= {data.draw(st.sampled_from(values))}"
        elif kind == "delete" and len(lines) > 1:
            del lines[k]
        elif kind == "dup":
            lines.insert(k, lines[k])
        elif kind == "bytes":
            junk = data.draw(st.text(min_size=1, max_size=8))
            pos = data.draw(st.integers(0, len(lines[k])))
            lines[k] = lines[k][:pos] + junk + lines[k][pos:]
        elif kind == "truncate":
            lines = lines[:k + 1]
            lines[-1] = lines[-1][:data.draw(st.integers(0, len(lines[-1])))]
        elif kind == "swap" and len(lines) > 1:
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[k], lines[j] = lines[j], lines[k]
    return "\n".join(lines)


@FUZZ
@given(data=st.data())
def test_fuzzed_stack_toml_through_the_cli(data):
    text = _mutate_text(data, STACK, HOSTILE_VALUES)
    raw = text.encode("utf-8")
    if data.draw(st.integers(0, 9)) == 0:  # sometimes not UTF-8 at all
        raw = text.encode("latin-1", errors="replace") + bytes([0xFF, 0xFE])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stack.toml"
        path.write_bytes(raw)
        _assert_contract(_invoke(["ndp", "calibrate", str(path), "--method", "stopping",
                                  "--json"]))


def _wide_lines() -> list[str]:
    rng = np.random.default_rng(3)
    n_frames, channels = 3, np.arange(0, 1024)
    counts = rng.poisson(50, size=(channels.size, n_frames))
    lines = ["channel," + ",".join(f"{180 * k:g}" for k in range(n_frames)),
             "live_time," + ",".join("170" for _ in range(n_frames)),
             "real_time," + ",".join("180" for _ in range(n_frames)),
             "monitor," + ",".join("1e6" for _ in range(n_frames))]
    lines += [f"{c}," + ",".join(str(v) for v in row) for c, row in zip(channels, counts,
                                                                          strict=True)]
    return lines


WIDE = _wide_lines()


def _mutate_table(data, lines: list[str], sep: str = ",") -> list[str]:
    lines = list(lines)
    for _ in range(data.draw(st.integers(1, 5))):
        kind = data.draw(st.sampled_from(["cell", "cell", "cell", "delete", "dup", "extra",
                                          "short", "bytes", "truncate"]))
        k = data.draw(st.integers(0, len(lines) - 1))
        cells = lines[k].split(sep)
        if kind == "cell":
            j = data.draw(st.integers(0, len(cells) - 1))
            cells[j] = data.draw(st.sampled_from(HOSTILE_CELLS))
            lines[k] = sep.join(cells)
        elif kind == "delete" and len(lines) > 1:
            del lines[k]
        elif kind == "dup":
            lines.insert(k, lines[k])
        elif kind == "extra":
            lines[k] = lines[k] + sep + data.draw(st.sampled_from(HOSTILE_CELLS))
        elif kind == "short" and len(cells) > 1:
            lines[k] = sep.join(cells[:-1])
        elif kind == "bytes":
            junk = data.draw(st.text(min_size=1, max_size=6))
            pos = data.draw(st.integers(0, len(lines[k])))
            lines[k] = lines[k][:pos] + junk + lines[k][pos:]
        elif kind == "truncate":
            lines = lines[:k + 1]
    return lines


@FUZZ
@given(data=st.data())
def test_fuzzed_ndp_wide_tables_through_the_cli(data):
    lines = _mutate_table(data, WIDE)
    extra = data.draw(st.sampled_from([[], ["--standard-counts", "850"],
                                       ["--host", "Li7La3Zr2O12:5.1"], ["--window", "0:10"]]))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wide.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
        _assert_contract(_invoke(["ndp", str(path), "--stack", "han2019-llzo-x10", "--json",
                                  *extra]))


def _frame_text(k: int) -> list[str]:
    rng = np.random.default_rng(10 + k)
    head = ["# live_time: 170", "# real_time: 180", "# monitor: 1e6", f"# time: {180 * k}",
            "channel counts"]
    return head + [f"{c} {v}" for c, v in enumerate(rng.poisson(50, size=1024))]


FRAMES = [_frame_text(k) for k in range(3)]


@FUZZ
@given(data=st.data())
def test_fuzzed_ndp_frame_files_through_the_cli(data):
    which = data.draw(st.integers(0, len(FRAMES) - 1))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "frames"
        folder.mkdir()
        for k, lines in enumerate(FRAMES):
            if k == which:
                lines = _mutate_table(data, lines, sep=" ")
            (folder / f"frame_{k}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8",
                                                   errors="surrogatepass")
        _assert_contract(_invoke(["ndp", str(folder), "--stack", "han2019-llzo-x10",
                                  "--json"]))


CANDIDATE_HEADERS = ["material", "formula", "sigma_e (S/cm)", "sigma_e_stderr (S/cm)",
                     "temperature (C)", "temperature (K)", "temperature", "thickness (mm)",
                     "area (cm2)", "fracture_stress (MPa)", "source", "file", "ndp",
                     "ndp_stack", "host_density (g/cm3)", "sigma_e (mS/cm)", "bogus (x)"]


@FUZZ
@given(headers=st.lists(st.sampled_from(CANDIDATE_HEADERS), min_size=1, max_size=6),
       rows=st.lists(st.lists(st.sampled_from(HOSTILE_CELLS), min_size=1, max_size=7),
                     max_size=6),
       names=st.lists(st.sampled_from(["A", "#B", "=C", "-D", "$E$", "A", "ü", ""]),
                      max_size=6))
def test_fuzzed_candidates_tables_through_the_cli(headers, rows, names):
    if "material" not in headers:
        headers = ["material", *headers]
    lines = [",".join(headers)]
    for k, row in enumerate(rows):
        name = names[k] if k < len(names) else "M"
        lines.append(",".join([name, *row[:len(headers) - 1]]))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        _assert_contract(_invoke(["screen", str(path), "--json", "--out",
                                  str(Path(tmp) / "r.csv")]))


SIGMA_HEADERS = ["T (C)", "T (K)", "sigma (S/cm)", "sigma_stderr (S/cm)", "material",
                 "conductivity (mS/cm)", "temperature", "x"]


@FUZZ
@given(headers=st.lists(st.sampled_from(SIGMA_HEADERS), min_size=1, max_size=4, unique=True),
       rows=st.lists(st.lists(st.sampled_from(HOSTILE_CELLS), min_size=1, max_size=5),
                     max_size=6))
def test_fuzzed_sigma_tables_through_the_cli(headers, rows):
    lines = [",".join(headers)] + [",".join(r[:len(headers)]) for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        _assert_contract(_invoke(["arrhenius", str(path), "--json", "--at", "25C"]))
