"""Writers of the text formats sescreen reads, in their common dialects.

They produce the example data shipped in ``datasets/examples`` and the synthetic files of
the tests (round trips through every dialect: encodings, line endings, decimal commas,
header styles). They write what the readers need and what the instruments write around it
(a realistic EC-Lab header, Gamry's header keys and units row), not every field an
instrument writes. Binary ``.mpr`` is read only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from sescreen.atomic import atomic_write_text
from sescreen.units import column_unit

__all__ = ["write_dta", "write_mpt", "write_table"]


def _fmt(values: np.ndarray, decimal: str, spec: str = "{:.7E}") -> list[str]:
    out = [spec.format(v) for v in np.asarray(values, dtype=float)]
    return [s.replace(".", ",") for s in out] if decimal == "," else out


def _in_unit(values_si, unit: str) -> np.ndarray:
    _, scale, offset = column_unit(unit)
    return (np.asarray(values_si, dtype=float) - offset) / scale


#: EC-Lab ``I Range`` codes of the decade ranges 1 pA .. 100 mA (``mpr_columns.I_RANGE_A``).
_RANGE_CODES = ((1e-12, 60), (1e-11, 59), (1e-10, 58), (1e-9, 57), (1e-8, 45), (1e-7, 44),
                (1e-6, 43), (1e-5, 42), (1e-4, 41), (1e-3, 40), (1e-2, 39), (1e-1, 38))


def _range_codes(current_a) -> list[str]:
    """The range an auto-ranging potentiostat would be on at each point: the smallest
    decade full scale that holds |I|."""
    full = np.array([fs for fs, _ in _RANGE_CODES])
    codes = np.array([str(c) for _, c in _RANGE_CODES])
    k = np.searchsorted(full, np.abs(np.asarray(current_a, dtype=float)) * (1 - 1e-12))
    return list(codes[np.minimum(k, full.size - 1)])


def write_mpt(
    path: str | Path,
    time_s,
    current_a,
    *,
    voltage_v=None,
    applied_voltage_v: float = 0.1,
    area_cm2: float | None = 1.0,
    current_header: str = "I/mA",
    technique: str = "Chronoamperometry / Chronocoulometry",
    encoding: str = "latin-1",
    newline: str = "\n",
    decimal: str = ".",
    header_block: bool = True,
    ei_ref: str = "Ref",
) -> Path:
    """Write an EC-Lab ``.mpt`` text export of a constant-voltage hold.

    Parameters
    ----------
    path : path-like
        Output file (written atomically).
    time_s, current_a : array-like
        Time (s) and current (A).
    voltage_v : array-like, optional
        Measured potential (V); defaults to the set-point.
    applied_voltage_v : float
        Set-point ``Ei`` (V).
    area_cm2 : float or None
        ``Electrode surface area`` (cm^2); None omits the line.
    current_header : str
        Header of the current column with its unit (``I/mA``, ``<I>/mA``, ``I/µA``).
    technique : str
        Technique line of the header.
    encoding, newline, decimal : str
        Dialect: ``latin-1``/``cp1252``/``utf-8``; ``\\n`` or ``\\r\\n``; ``.`` or ``,``.
    header_block : bool
        False writes the column header as the first line, as "export without header" does.
    ei_ref : str
        What ``Ei`` is referred to (``Ref`` or ``Eoc``).
    """
    t = np.asarray(time_s, dtype=float)
    v = np.full_like(t, applied_voltage_v) if voltage_v is None else np.asarray(voltage_v)
    unit = current_header.rsplit("/", 1)[1]
    columns = ["mode", "ox/red", "error", "time/s", "control/V", "Ewe/V", current_header,
               "(Q-Qo)/C", "I Range", "cycle number", "Ns"]
    n = len(t)
    cols = [["2"] * n, ["1"] * n, ["0"] * n, _fmt(t, decimal, "{:.15E}"),
            _fmt(np.full(n, applied_voltage_v), decimal), _fmt(v, decimal),
            _fmt(_in_unit(current_a, unit), decimal),
            _fmt(np.concatenate([[0.0], np.cumsum(np.diff(t) * np.asarray(current_a)[1:])]),
                 decimal), _range_codes(current_a), _fmt(np.zeros(n), decimal, "{:.15E}"),
            ["0"] * n]
    table = ["\t".join(columns) + "\t"]
    table += ["\t".join(row) + "\t" for row in zip(*cols, strict=True)]
    settings = [
        ("Ei (V)", f"{applied_voltage_v:.3f}".replace(".", decimal)), ("vs.", ei_ref),
        ("ti (h:m:s)", "12:00:0.0000"), ("Imax", "pass"), ("unit Imax", "mA"),
        ("dt (s)", f"{(t[1] - t[0]) if n > 1 else 1.0:.4f}"), ("E range min (V)", "-10.000"),
        ("E range max (V)", "10.000"), ("I Range", "Auto"), ("Bandwidth", "4"),
    ]
    body = [
        "", technique, "", "Run on channel : 1 (SN 12345)", "User : ",
        "Electrode connection : standard", "Potential control : Ewe",
        "Acquisition started on : 04/29/2019 15:43:07.000", "Device : VMP3 (SN 0967)",
        "EC-Lab for windows v11.27 (software)", "Comments : synthetic record (sescreen)",
    ]
    if area_cm2 is not None:
        area = f"{area_cm2:.3f}".replace(".", decimal)
        body.append(f"Electrode surface area : {area} cm\u00b2")
    body.append("Cycle Definition : Charge/Discharge alternance")
    body += [f"{k:<20}{val:<20}" for k, val in settings]
    body.append("")
    if header_block:
        n_header = 2 + len(body) + 1
        lines = ["EC-Lab ASCII FILE", f"Nb header lines : {n_header}".ljust(46), *body, *table]
    else:
        lines = table
    return atomic_write_text(path, "\n".join(lines) + "\n", encoding=encoding, newline=newline)


def write_dta(
    path: str | Path,
    time_s,
    current_a,
    *,
    voltage_v=None,
    applied_voltage_v: float = 0.1,
    area_cm2: float = 1.0,
    tag: str = "CHRONOA",
    decimal: str = ".",
    newline: str = "\r\n",
    encoding: str = "cp1252",
    announced: int | None = None,
    vs_eoc: bool = False,
    temperature_c: float = 25.0,
) -> Path:
    """Write a Gamry ``.DTA`` file with one ``CURVE`` table.

    Parameters
    ----------
    path : path-like
        Output file (written atomically).
    time_s, current_a : array-like
        Time (s) and current (A).
    voltage_v : array-like, optional
        ``Vf`` (V); defaults to the set-point.
    applied_voltage_v : float
        ``VSTEP1`` (V).
    area_cm2 : float
        ``AREA`` (cm^2).
    tag : str
        Technique tag (``CHRONOA``, ``CHRONOP``, ``CORPOT``).
    decimal, newline, encoding : str
        Dialect.
    announced : int, optional
        Number of points the ``CURVE TABLE`` line announces (more than written = aborted).
    vs_eoc : bool
        Whether the step voltage is referred to the open-circuit potential.
    temperature_c : float
        The ``Temp`` column (deg C).
    """
    t = np.asarray(time_s, dtype=float)
    v = np.full_like(t, applied_voltage_v) if voltage_v is None else np.asarray(voltage_v)

    def q(x: float) -> str:
        return _fmt(np.array([x]), decimal, "{:.5E}")[0]

    flag = "T" if vs_eoc else "F"
    head = [
        "EXPLAIN", f"TAG\t{tag}", "TITLE\tLABEL\tChronoamperometry Scan\tTest &Identifier",
        "DATE\tLABEL\t3/10/2019\tDate", "TIME\tLABEL\t12:00:00\tTime",
        "NOTES\tNOTES\t1\t&Notes...", "\tsynthetic record (sescreen)",
        "PSTAT\tPSTAT\tREF600-12345\tPotentiostat",
        f"VPRESTEP\tPOTEN\t{q(0.0)}\t{flag}\tPre-step Voltage (V)",
        f"VSTEP1\tPOTEN\t{q(applied_voltage_v)}\t{flag}\tStep 1 Voltage (V)",
        f"TSTEP1\tQUANT\t{q(float(t[-1]) if len(t) else 0.0)}\tStep 1 Time (s)",
        f"AREA\tQUANT\t{q(area_cm2)}\tElectrode &Area (cm^2)",
        "FRAMEWORKVERSION\tQUANT\t7.07\tFramework Version",
        f"CURVE\tTABLE\t{announced if announced is not None else len(t)}",
        "\tPt\tT\tVf\tIm\tSig\tTemp",
        "\t#\ts\tV vs. Ref.\tA\tV\t\u00b0C",
    ]
    rows = zip(range(len(t)), _fmt(t, decimal, "{:.6g}"), _fmt(v, decimal, "{:.5E}"),
               _fmt(current_a, decimal, "{:.5E}"),
               _fmt(np.full(len(t), applied_voltage_v), decimal, "{:.5E}"),
               _fmt(np.full(len(t), temperature_c), decimal, "{:.2f}"), strict=True)
    body = ["\t" + "\t".join(map(str, r)) for r in rows]
    text = "\n".join(head + body) + "\n"
    return atomic_write_text(path, text, encoding=encoding, newline=newline)


_STYLES = {
    "slash": "{name}/{unit}",
    "paren": "{name} ({unit})",
    "bracket": "{name} [{unit}]",
    "angle": "<{name}>/{unit}",
    "bare": "{name}",
}


def write_table(
    path: str | Path,
    time_s,
    current_a,
    *,
    voltage_v=None,
    sep: str = ",",
    decimal: str = ".",
    style: str = "slash",
    time_unit: str = "s",
    current_unit: str = "mA",
    names: tuple[str, str, str] = ("time", "I", "Ewe"),
    comments: Mapping[str, str] | None = None,
    header: bool = True,
    encoding: str = "utf-8",
    newline: str = "\n",
) -> Path:
    """Write a delimited table (CSV, TSV, semicolon with decimal commas, ...).

    Parameters
    ----------
    path : path-like
        Output file (written atomically).
    time_s, current_a, voltage_v : array-like
        Columns in SI units (voltage optional).
    sep, decimal : str
        Field separator and decimal mark.
    style : {"slash", "paren", "bracket", "angle", "bare"}
        Header style: ``time/s``, ``Time (s)``, ``Current [nA]``, ``<I>/uA``, ``time``.
    time_unit, current_unit : str
        Units written in the headers and used for the numbers.
    names : tuple of str
        Names of the time, current and voltage columns.
    comments : mapping, optional
        ``# key: value`` lines written before the header.
    header : bool
        False writes no header row.
    encoding, newline : str
        Dialect.
    """
    fmt = _STYLES[style]
    cols = [(names[0], time_unit, np.asarray(time_s, dtype=float)),
            (names[1], current_unit, np.asarray(current_a, dtype=float))]
    if voltage_v is not None:
        cols.append((names[2], "V", np.asarray(voltage_v, dtype=float)))
    lines = [f"# {k}: {v}" for k, v in (comments or {}).items()]
    if header:
        lines.append(sep.join(fmt.format(name=n, unit=u) for n, u, _ in cols))
    data = [_fmt(_in_unit(vals, u), decimal, "{:.10g}") for _, u, vals in cols]
    lines += [sep.join(row) for row in zip(*data, strict=True)]
    return atomic_write_text(path, "\n".join(lines) + "\n", encoding=encoding, newline=newline)
