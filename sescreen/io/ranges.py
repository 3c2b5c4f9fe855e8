"""The instrument's current range at each point, and the resolution it implies.

Potentiostats measure the current on one of several ranges (full scales) and state their
resolution and accuracy as fractions of the range. Files that record the range per point
get a canonical column ``current_range_a`` (full-scale current, A; NaN where the file names
no fixed range, e.g. EC-Lab's ``Auto``), derived from:

- EC-Lab / BT-Lab: the ``I Range`` column, as codes (``.mpr``, most ``.mpt`` exports; table
  :data:`sescreen.io.mpr_columns.I_RANGE_A`) or as text (``10 mA``, ``100 nA``); else the
  header's ``I Range`` setting when one fixed range holds for the whole record.
- Gamry: the ``IERange`` column (an index), else the header's ``IERANGE`` when autoranging
  was off (``IERANGEMODE F``), converted by the potentiostat model's range table
  (:data:`GAMRY_RANGES`). The index means a different full scale on each model: a model
  sescreen does not know keeps the raw ``IERange`` column, with a warning, and no
  ``current_range_a``.

:func:`current_resolution_a` and :func:`current_accuracy_a` turn the range into a nominal
per-point resolution and accuracy (:data:`RESOLUTION_FRACTION`, :data:`ACCURACY_FRACTION`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sescreen.io.measurement import ColumnInfo, Measurement
from sescreen.io.mpr_columns import I_RANGE_A

__all__ = [
    "ACCURACY_FRACTION",
    "GAMRY_RANGES",
    "LOWEST_RANGE_A",
    "RESOLUTION_FRACTION",
    "add_current_range",
    "current_accuracy_a",
    "current_resolution_a",
    "ec_lab_range_a",
    "gamry_model",
]

#: Nominal current resolution as a fraction of the range's full scale: one step of a 16-bit
#: converter spanning +-full scale, 2 / 2**16 = 3.05e-5 ("a few 1e-5 of the range on common
#: research potentiostats", sescreen METHODS.md section 6). Nominal: check the sheet of
#: the instrument used.
RESOLUTION_FRACTION = 2.0 / 2**16

#: Nominal current accuracy as a fraction of the range's full scale ("about 1e-3 of the
#: range", METHODS.md section 6). Nominal: check the sheet of the instrument used.
ACCURACY_FRACTION = 1e-3

#: The lowest current range assumed for a record that states none, A: the accuracy of
#: common research potentiostats' lowest standard range, 1e-3 of 1 nA = 1 pA, bounds
#: what a record of unknown ranges can say at pA currents (METHODS.md section 6: the
#: detection limit); low-current options and electrometers go lower, and their files
#: state the range (or the accuracy is given).
LOWEST_RANGE_A = 1e-9

#: Gamry ``IERange`` index k -> full scale ``mantissa * 10**(k - 12)`` A, valid for
#: ``first <= k <= last``, per potentiostat model. Source: the range tables of the
#: open-source Gamry driver of helao-async (High-Throughput-Experimentation, ``helao/
#: drivers/pstat/gamry/range.py``): Reference 600 60 pA (k = 1) .. 600 mA (k = 11), PCI4/G300
#: 3 nA (3) .. 300 mA (11), PCI4/G750 7.5 nA (3) .. 750 mA (11), each model's top range
#: matching its rated maximum current.
GAMRY_RANGES: dict[str, tuple[float, int, int]] = {
    "REF600": (6.0, 1, 11),
    "PCI4G300": (3.0, 3, 11),
    "PCI4G750": (7.5, 3, 11),
}
# Model prefixes of the ``PSTAT`` / ``PSTATSECTION`` label (``REF600-13091``).
_GAMRY_LABELS = (("REF600", "REF600"), ("PCI4G300", "PCI4G300"), ("PC4G300", "PCI4G300"),
                 ("PCI4G750", "PCI4G750"), ("PC4G750", "PCI4G750"))
# ``PSTATMODEL`` codes seen beside a model label in real files (REF600-00000 with 4).
_GAMRY_MODEL_CODES = {"4": "REF600"}

# A range table that leaves more than _OVER_SHARE of the points above _OVER_RANGE x their
# full scale does not describe the file (autoranging allows ~110 % for a sample or two).
_OVER_RANGE, _OVER_SHARE = 2.0, 0.05
_PREFIX = {"": 0, "m": -3, "u": -6, "\u00b5": -6, "\u03bc": -6, "n": -9, "p": -12, "f": -15,
           "k": 3}  # decimal exponents
_RANGE_TEXT = re.compile(r"^\s*([-+]?\d+(?:[.,]\d*)?)\s*([munpfk\u00b5\u03bc]?)A\s*$")


def _text_range_a(text: str) -> float:
    """Full scale (A) of a range written as text (``"10 mA"``); NaN for ``Auto`` etc."""
    m = _RANGE_TEXT.match(text)
    if not m:
        return np.nan
    return float(f"{m.group(1).replace(',', '.')}e{_PREFIX[m.group(2)]}")


def ec_lab_range_a(values) -> np.ndarray:
    """Full-scale current (A) of EC-Lab ``I Range`` values.

    Parameters
    ----------
    values : array-like
        Range codes (integers, as ``.mpr`` files and most ``.mpt`` exports store them) or
        text (``"10 mA"``, ``"100 nA"``, ``"Auto"``).

    Returns
    -------
    numpy.ndarray
        Full scale per value, A; NaN for codes that name no fixed range (15 Auto, 28 PAC,
        122 Auto Limited, 123 Unset), unknown codes and text that is not a current.
    """
    col = pd.Series(values)
    codes = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    lookup = pd.Series(I_RANGE_A, dtype=float)
    keys = np.where(np.isfinite(codes), np.clip(codes, -1, 1e6), -1).astype(np.int64)
    out = lookup.reindex(keys).to_numpy(dtype=float, copy=True)
    out[np.isfinite(codes) & (codes != np.round(codes))] = np.nan
    text = ~np.isfinite(codes) & col.notna().to_numpy()
    if text.any():
        uniques = pd.unique(col[text].astype(str))
        mapping = {u: _text_range_a(u) for u in uniques}
        out[text] = col[text].astype(str).map(mapping).to_numpy(dtype=float)
    return out


def gamry_model(header: dict[str, list[str]]) -> tuple[str | None, str]:
    """The Gamry model whose range table applies, and the label that named it.

    Returns
    -------
    (str or None, str)
        A key of :data:`GAMRY_RANGES` (None when unknown) and the label read (``PSTAT``,
        ``PSTATSECTION``, or ``PSTATMODEL <code>``).
    """
    labels = [(header.get(k) or ["", ""])[1:2] for k in ("PSTAT", "PSTATSECTION")]
    labels = [x[0].strip() for x in labels if x]
    for label in labels:
        norm = label.upper().replace(" ", "").replace("/", "")
        for prefix, model in _GAMRY_LABELS:
            if norm.startswith(prefix):
                return model, label
    code = ((header.get("PSTATMODEL") or ["", ""])[1:2] or [""])[0].strip()
    if code in _GAMRY_MODEL_CODES:
        return _GAMRY_MODEL_CODES[code], f"PSTATMODEL {code}"
    return None, next((x for x in labels if x), "no PSTAT label")


def _gamry_range_a(codes, model: str) -> np.ndarray:
    mantissa, first, last = GAMRY_RANGES[model]
    k = pd.to_numeric(pd.Series(codes), errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(k) & (k == np.round(k)) & (k >= first) & (k <= last)
    # divided by an exact power of ten: the nearest double to the decimal value
    return np.where(ok, mantissa / 10.0 ** (12 - np.where(ok, k, 0)), np.nan)


def _setting_range(value) -> float:
    """One fixed EC-Lab range from a header setting (a list when there are sequences)."""
    values = value if isinstance(value, list) else [value]
    ranges = {_text_range_a(str(v)) for v in values}
    return ranges.pop() if len(ranges) == 1 else np.nan


def add_current_range(m: Measurement, header: dict | None = None) -> None:
    """Add ``current_range_a`` to ``m.data`` (in place) where the file states the range.

    Parameters
    ----------
    m : Measurement
        Read by an EC-Lab/BT-Lab or Gamry reader (``m.format``).
    header : dict, optional
        Gamry header fields (key -> fields after the key), for the model and ``IERANGE``.
    """
    df = m.data
    if "current_a" not in df or not len(df) or "current_range_a" in df:
        return
    original, full_scale = None, None
    if m.format.startswith("biologic"):
        if "I Range" in df:
            original, full_scale = "I Range", ec_lab_range_a(df["I Range"])
        elif "I Range" in m.settings:
            fixed = _setting_range(m.settings["I Range"])
            if np.isfinite(fixed):
                original, full_scale = "I Range (setting)", np.full(len(df), fixed)
    elif m.format == "gamry-dta" and header is not None:
        model, label = gamry_model(header)
        fixed = (header.get("IERANGEMODE") or ["", ""])[1:2] == ["F"]
        source = "IERange" if "IERange" in df else "IERANGE (setting)" if fixed and \
            "IERANGE" in header else None
        if source is not None and model is None:
            m.warnings.append(f"the current range ({source}) is recorded, but sescreen "
                              f"does not know the range table of this potentiostat ({label})"
                              ": no current_range_a; the raw index is kept")
        elif source is not None:
            codes = df["IERange"] if source == "IERange" else \
                np.full(len(df), (header["IERANGE"] + [""])[1])
            original, full_scale = source, _gamry_range_a(codes, model)
    if full_scale is None or not np.isfinite(full_scale).any():
        return
    known = np.isfinite(full_scale)
    over = known & (np.abs(df["current_a"].to_numpy(dtype=float)) > _OVER_RANGE * full_scale)
    if over.sum() > max(1, _OVER_SHARE * known.sum()):
        m.warnings.append(f"{int(over.sum())} of {int(known.sum())} points exceed {_OVER_RANGE:g}x "
                          f"the full scale their range ({original}) implies: sescreen's range "
                          "table does not fit this file; no current_range_a")
        return
    df["current_range_a"] = full_scale
    m.columns.append(ColumnInfo(original, "current_range_a", None))


def current_resolution_a(m: Measurement, fraction: float = RESOLUTION_FRACTION
                         ) -> np.ndarray | None:
    """Nominal current resolution at each point: full scale x ``fraction``, A.

    A nominal value from the range alone (:data:`RESOLUTION_FRACTION`, one 16-bit step of
    +-full scale); check it against the sheet of the instrument used, and pass its own
    fraction when it differs.

    Parameters
    ----------
    m : Measurement
        With a ``current_range_a`` column (see the module docstring).
    fraction : float
        Resolution as a fraction of the full scale (dimensionless).

    Returns
    -------
    numpy.ndarray or None
        One value per point, A (NaN where the range is unknown, e.g. autorange without a
        recorded range); None when the file records no range.
    """
    if "current_range_a" not in m.data:
        return None
    return m.data["current_range_a"].to_numpy(dtype=float) * float(fraction)


def current_accuracy_a(m: Measurement, fraction: float = ACCURACY_FRACTION
                       ) -> np.ndarray | None:
    """Nominal current accuracy at each point: full scale x ``fraction``, A.

    A nominal value (:data:`ACCURACY_FRACTION`); check it against the sheet of the
    instrument used. Same parameters and return as :func:`current_resolution_a`.
    """
    return current_resolution_a(m, fraction)
