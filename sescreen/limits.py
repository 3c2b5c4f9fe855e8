"""Physical plausibility of the quantities that enter at the edges (options, files, tables).

A thickness of "1 parsec" or a temperature of -300 C is a typing or file error, not a
measurement: it is refused with a message naming the value, the range and the fix, before
any work. The ranges are generous (what a laboratory cell and instrument can reach):

=================================  ============================  ============================
quantity                           range                         why
=================================  ============================  ============================
electrolyte thickness              10 nm .. 10 cm                thin films .. thick pellets
electrode area                     1e-7 cm^2 .. 1000 cm^2        micro-electrodes .. pouches
applied voltage (magnitude)        1 uV .. 50 V                  a potentiostat's range
temperature                        4 K .. 1273.15 K (1000 C)     cryostats .. furnaces
current density                    1e-3 .. 1e3 mA/cm^2           what a cell can carry
conductivity                       1e-30 .. 1e3 S/cm             far below any electrometer's
                                                                 reach .. above metals'
relative uncertainty (tolerance)   0 .. 1                        a fraction, finite
=================================  ============================  ============================
"""

from __future__ import annotations

import math
from pathlib import Path

from sescreen.errors import InputError

__all__ = ["RANGES", "check_file_metadata", "check_range", "finite_positive"]

#: kind -> (low, high, unit shown, what the range covers)
RANGES: dict[str, tuple[float, float, str, str]] = {
    "thickness_cm": (1e-6, 10.0, "cm", "10 nm .. 10 cm"),
    "area_cm2": (1e-7, 1e3, "cm^2", "1e-7 .. 1000 cm^2"),
    "voltage_v": (1e-6, 50.0, "V", "1 uV .. 50 V in magnitude"),
    "temperature_k": (4.0, 1273.15, "K", "4 K .. 1273 K (-269 .. 1000 C)"),
    "current_density_ma_cm2": (1e-3, 1e3, "mA/cm^2", "1e-3 .. 1e3 mA/cm^2"),
    "conductivity_s_cm": (1e-30, 1e3, "S/cm", "1e-30 .. 1e3 S/cm"),
    # the fracture stress of a ceramic or glass: ~10-500 MPa; softer polymers, whiskers
    "fracture_stress_mpa": (0.1, 1e5, "MPa", "0.1 MPa .. 100 GPa"),
    "rel_tol": (0.0, 1.0, "", "0 .. 1 (a fraction)"),
}


def check_range(value: float | None, kind: str, name: str, *,
                path: str | Path | None = None, line: int | None = None) -> float | None:
    """``value`` if it is finite and inside the range of ``kind``, else an InputError.

    ``None`` passes through (unknown). Voltages are judged by magnitude and may be negative.
    ``name`` is the option or column the value came from (``"--thickness"``).
    """
    if value is None:
        return None
    lo, hi, unit, text = RANGES[kind]
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} {value!r} is not a number", path=path, line=line) from None
    mag = abs(v) if kind == "voltage_v" else v
    if not math.isfinite(v) or not (lo <= mag <= hi):
        shown = f"{v:.4g} {unit}".strip()
        raise InputError(f"{name} = {shown} is outside the plausible range {text}: check the "
                         "value and its unit", path=path, line=line)
    return v


def check_file_metadata(m, *, temperature_given: bool = False, area_given: bool = False,
                        voltage_given: bool = False) -> None:
    """The temperature, electrode area and applied voltage a file states (a
    :class:`~sescreen.io.Measurement`) must be plausible too, unless the user gave them.

    Raises
    ------
    InputError
        Naming the file and the value (a 0 V voltage is "not stated", not refused).
    """
    if not temperature_given and m.temperature_k is not None:
        check_range(m.temperature_k, "temperature_k", "the file's temperature", path=m.source)
    if not area_given and m.area_cm2 is not None:
        check_range(m.area_cm2, "area_cm2", "the file's electrode area", path=m.source)
    if not voltage_given and m.applied_voltage_v not in (None, 0, 0.0):
        check_range(m.applied_voltage_v, "voltage_v", "the file's applied voltage",
                    path=m.source)


def finite_positive(value: float | None, name: str, *, path: str | Path | None = None,
                    line: int | None = None, allow_zero: bool = False,
                    upper: float | None = None) -> float | None:
    """``value`` if finite and > 0 (>= 0 with ``allow_zero``; <= ``upper`` if given)."""
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} {value!r} is not a number", path=path, line=line) from None
    ok = math.isfinite(v) and (v >= 0 if allow_zero else v > 0)
    if ok and upper is not None and v > upper:
        raise InputError(f"{name} = {v:.4g} is implausibly large (at most {upper:g})",
                         path=path, line=line)
    if not ok:
        need = "a finite number >= 0" if allow_zero else "a finite positive number"
        raise InputError(f"{name} = {v!r} must be {need}", path=path, line=line)
    return v


#: The longest line a text measurement file may have (a real row is well under 1 kB).
MAX_LINE_BYTES = 1 << 20

_BINARY_SUFFIXES = {".mpr"}


def refuse_pathological_lines(path: str | Path, max_line_bytes: int = MAX_LINE_BYTES) -> None:
    """Refuse, before parsing, a text file with a line longer than ``max_line_bytes``
    (a 10 MB header, one line of millions of fields): a one-line error naming the line,
    in a streaming pass of constant memory, instead of minutes and gigabytes in a parser.
    Binary formats (.mpr) and unreadable paths are left to the readers."""
    import numpy as np

    p = Path(path)
    if p.suffix.lower() in _BINARY_SUFFIXES:
        return
    try:
        fh = open(p, "rb")
    except OSError:
        return  # the reader names the problem
    with fh:
        head = fh.read(4)
        if head[:4] == b"BIO-" or b"\x00" in head:
            return  # binary content: the reader decides
        fh.seek(0)
        run = 0  # length of the line in progress
        line = 1
        chunk_size = 1 << 22
        while True:
            chunk = fh.read(chunk_size)
            if not chunk:
                return
            ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            if ends.size == 0:
                run += len(chunk)
                if run > max_line_bytes:
                    break
                continue
            first = run + int(ends[0])
            inner = int(np.max(np.diff(ends))) - 1 if ends.size > 1 else 0
            if first > max_line_bytes:
                break
            if inner > max_line_bytes:
                line += int(np.argmax(np.diff(ends))) + 1
                break
            line += int(ends.size)
            run = len(chunk) - int(ends[-1]) - 1
            if run > max_line_bytes:
                break
    raise InputError(f"line {line} is longer than {max_line_bytes // (1 << 20)} MB: not a "
                     "measurement table (a damaged or wrong file); check it", path=p)
