"""Property tests of the multi-curve Gamry, VFP600 and current-range parsing: truncated or
mutated files give a Measurement or a one-line SescreenError naming the file, never another
exception or a hang; whatever reads keeps every row of the curves it joins."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_gamry_curves import DATA, gamry_cv

from sescreen.errors import SescreenError
from sescreen.io import Measurement, read
from sescreen.io.ranges import ec_lab_range_a

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_SOURCES = {
    "cv": gamry_cv(3, 12).encode("cp1252"),
    "cv_restart": gamry_cv(2, 8, restart_time=True, announce=False).encode("cp1252"),
    "real_cv": (DATA / "cv_data.dta").read_bytes(),
    "real_ref600": (DATA / "ocvcurve_data.dta").read_bytes(),
    "vfp600": (DATA / "vfp600_data.dta").read_bytes(),
}


def _read_or_refuse(content: bytes) -> Measurement | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample.DTA"
        path.write_bytes(content)
        try:
            m = read(path)
        except SescreenError as exc:
            msg = str(exc)
            assert "\n" not in msg and str(path) in msg, msg
            return None
    assert np.isfinite(m.time_s).all() and (np.diff(m.time_s) >= 0).all()
    if "current_range_a" in m.data:
        r = m.data["current_range_a"].to_numpy()
        assert ((r > 0) | np.isnan(r)).all()
    return m


_mutation = st.tuples(
    st.sampled_from(["truncate", "delete", "replace", "insert", "drop_line", "dup_line"]),
    st.floats(0, 1), st.integers(0, 200),
    st.sampled_from([b"\t", b"\n", b"CURVE2\tTABLE\n", b"CURVE9\tTABLE\t-3\n", b"VFPCURVE\t",
                     b"FREQ\tQUANT\t0\n", b"FREQ\tQUANT\tnan\n", b"nan", b"1e999", b"-",
                     b"IERange", b"\tPt\tT\n", b",", b"\r", b"EXPLAIN\n", b"VFP600\n",
                     b"PSTAT\tPSTAT\tREF600-1\n", b"99999", b"\xff"]),
)


def _mutate(data: bytes, mutations) -> bytes:
    for kind, where, length, payload in mutations:
        i = int(where * len(data))
        lines = data.split(b"\n")
        k = int(where * (len(lines) - 1))
        if kind == "truncate":
            data = data[:i]
        elif kind == "delete":
            data = data[:i] + data[i + length:]
        elif kind == "replace":
            data = data[:i] + payload + data[i + len(payload):]
        elif kind == "insert":
            data = data[:i] + payload + data[i:]
        elif kind == "drop_line":
            data = b"\n".join(lines[:k] + lines[k + 1:])
        else:
            data = b"\n".join([*lines[:k], lines[k], *lines[k:]])
    return data


@FUZZ
@given(source=st.sampled_from(sorted(_SOURCES)), mutations=st.lists(_mutation, max_size=4))
def test_mutated_gamry_files_read_or_refuse(source, mutations):
    _read_or_refuse(_mutate(_SOURCES[source], mutations))


@FUZZ
@given(source=st.sampled_from(sorted(_SOURCES)), cut=st.floats(0, 1))
def test_truncated_gamry_files_read_or_refuse(source, cut):
    data = _SOURCES[source]
    _read_or_refuse(data[:int(cut * len(data))])


@settings(max_examples=40, deadline=None)
@given(n_curves=st.integers(1, 6), points=st.integers(2, 30), restart=st.booleans(),
       restart_pt=st.booleans(), announce=st.booleans())
def test_generated_cvs_keep_every_row_of_every_curve(n_curves, points, restart, restart_pt,
                                                     announce):
    text = gamry_cv(n_curves, points, restart_time=restart, restart_pt=restart_pt,
                    announce=announce)
    m = _read_or_refuse(text.encode("cp1252"))
    assert m is not None
    assert len(m) == n_curves * points
    assert np.bincount(m.data["cycle"])[1:].tolist() == [points] * n_curves
    assert len(m.segment_bounds(by="cycle")) == n_curves


@settings(max_examples=80, deadline=None)
@given(values=st.lists(st.one_of(st.integers(-5, 200), st.floats(allow_nan=True),
                                 st.text(max_size=12), st.none()), max_size=30))
def test_ec_lab_range_of_anything_is_positive_or_nan(values):
    out = ec_lab_range_a(values)
    assert out.shape == (len(values),)
    assert ((out > 0) | np.isnan(out)).all()
