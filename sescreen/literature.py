"""The curated literature dataset: electronic and ionic conductivities and critical current
densities of solid electrolytes, with provenance (``datasets/literature/``).

Every row carries the DOI of the source the values were read in (``doi``), the primary
article's DOI when verified (``primary_doi``), and a confidence tag (LITERATURE.md):

    B  stated in Han et al. 2019          V  read in the primary full text
    V* read, but inconsistent or garbled  R  read in a review table (Wu et al. 2021)
    M  recalled, unverified

Rules (see ``datasets/literature/README.md``): sigma_e and CCD are paired only when one
study measured both (``pair_same_study = yes``), because the CCD depends on pressure,
temperature and protocol. A CCD written as "> 10" is a lower bound (``ccd_censor =
lower``), never read as 10. V* rows stay in the file, flagged with an ``exclude`` reason,
and out of every fit; so do non-lithium conductors.

:func:`load_dataset` validates every row and refuses a malformed file naming the line.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from sescreen.errors import FormatError
from sescreen.resources import data_path

__all__ = [
    "COLUMNS",
    "CONFIDENCE_TAGS",
    "DATASET",
    "FAMILIES",
    "HAN2019_STATED",
    "RANGES",
    "RANGE_COLUMNS",
    "fit_pairs",
    "han2019_stated",
    "load_dataset",
    "load_ranges",
]

_ROOT = data_path("literature")  # datasets/literature in a checkout, sescreen/data in a wheel
DATASET = _ROOT / "electrolytes.csv"
RANGES = _ROOT / "ranges.csv"
#: The numbers Han et al. 2019 state, each with the sentence it is read from (one place).
HAN2019_STATED = _ROOT / "han2019_stated.csv"

COLUMNS = (
    "id", "material", "formula", "formula_note", "family", "ion", "sigma_e_s_cm",
    "sigma_e_bound", "sigma_e_lo_s_cm", "sigma_e_hi_s_cm", "sigma_e_temp_c", "sigma_e_method",
    "sigma_ion_s_cm", "sigma_ion_temp_c", "ccd_ma_cm2", "ccd_censor", "ccd_temp_c",
    "ccd_protocol", "study_id", "pair_same_study", "doi", "primary_doi", "reference",
    "confidence", "exclude", "notes",
)
CONFIDENCE_TAGS = ("B", "V", "V*", "R", "M")
FAMILIES = ("garnet", "sulfide glass", "sulfide glass-ceramic", "thio-LISICON", "LGPS-type",
            "argyrodite", "LiPON", "halide", "thioborophosphate glass", "hydroborate", "oxide",
            "polymer", "other")
METHODS = ("blocking", "blocking (slope)", "hebb-wagner", "4-point", "unknown")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_NUMERIC = {  # column -> (low, high) exclusive sanity range, in the column's unit
    "sigma_e_s_cm": (1e-20, 1.0), "sigma_e_lo_s_cm": (1e-20, 1.0),
    "sigma_e_hi_s_cm": (1e-20, 1.0), "sigma_ion_s_cm": (1e-12, 10.0),
    "ccd_ma_cm2": (1e-4, 1e3), "sigma_e_temp_c": (-100.0, 600.0),
    "sigma_ion_temp_c": (-100.0, 600.0), "ccd_temp_c": (-100.0, 600.0),
}


def _row_error(path, line: int, message: str) -> FormatError:
    return FormatError(f"{message}; fix this row (see datasets/literature/README.md)",
                       path=path, line=line)


def _number(path, line: int, col: str, text: str, lo: float, hi: float) -> float:
    """A numeric cell of a literature table (NaN when empty), inside ``lo < value < hi``."""
    if not text:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise _row_error(path, line, f"{col} = {text!r} is not a number (write the number "
                         "alone, in the unit of the column name)") from None
    if not (math.isfinite(value) and lo < value < hi):
        raise _row_error(path, line, f"{col} = {text} is outside {lo:g}..{hi:g} (a unit "
                         "mistake? sigma in S/cm, CCD in mA/cm2, T in C)")
    return value


def _read(path: Path, columns, what: str) -> pd.DataFrame:
    """A literature CSV as stripped text cells, with every column of ``columns``."""
    if not path.is_file():
        raise FormatError(f"the {what} is missing", path=path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise FormatError(f"the {what} is empty: it needs the header {','.join(columns)} "
                          "and one row per entry", path=path) from None
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"cannot parse the {what} ({exc})", path=path) from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise FormatError(f"missing column(s) {missing}; the {what} needs {list(columns)}",
                          path=path, line=1)
    return df[list(columns)].apply(lambda col: col.str.strip())


def _both_ends(path, line: int, lo: str, hi: str, name: str) -> None:
    """A range gives both ends or neither (a half range was read as no range at all)."""
    if bool(lo) != bool(hi):
        given = f"{name}_lo" if lo else f"{name}_hi"
        raise _row_error(path, line, f"a half range: only {given} is given; give both ends "
                         f"of the {name} range, or write a one-sided value as a bound")


@functools.lru_cache(maxsize=8)
def _formula_ok(formula: str) -> str | None:
    """None when pymatgen parses the formula into a non-empty composition, else why not."""
    from pymatgen.core import Composition, Element

    try:
        comp = Composition(formula)
    except (ValueError, KeyError, TypeError) as exc:
        return str(exc) or "unparseable"
    unknown = [str(el) for el in comp.elements if not isinstance(el, Element)]
    if unknown:  # pymatgen accepts dummy species such as "Q" or "X"
        return f"not chemical elements: {', '.join(unknown)}"
    return None if comp.num_atoms > 0 else "empty composition"


def load_dataset(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate the literature dataset.

    Parameters
    ----------
    path : path-like, optional
        The CSV (default: the bundled ``datasets/literature/electrolytes.csv``).

    Returns
    -------
    DataFrame
        The columns of :data:`COLUMNS` with numbers as floats (NaN when empty), text as
        str (``""`` when empty), plus ``usable_pair``: a same-study sigma_e/CCD pair of a
        lithium conductor, not excluded, with sigma_e a value (not a bound).

    Raises
    ------
    FormatError
        A missing column or a malformed row, naming the file and the line.
    """
    path = Path(path) if path is not None else DATASET
    df = _read(path, COLUMNS, "literature dataset")
    seen: set[str] = set()
    measured: dict[tuple, tuple[int, str]] = {}  # a measurement -> its first line and id
    numbers = {c: np.full(len(df), np.nan) for c in _NUMERIC}
    for k, row in enumerate(df.itertuples(index=False)):
        line = k + 2
        r = row._asdict()
        if not r["id"] or r["id"] in seen:
            raise _row_error(path, line, f"id {r['id']!r} is empty or repeated")
        seen.add(r["id"])
        for col, (lo, hi) in _NUMERIC.items():
            numbers[col][k] = _number(path, line, col, r[col], lo, hi)
        # the same measurement under a second id counted twice in every fit
        key = ((r["formula"] or r["material"]).lower(), r["doi"].lower(),
               *(None if math.isnan(numbers[c][k]) else numbers[c][k] for c in _NUMERIC))
        if key in measured:
            first, first_id = measured[key]
            raise _row_error(path, line, f"id {r['id']!r} repeats the measurement of id "
                             f"{first_id!r} (line {first}: same material, values, "
                             "temperatures and doi), which would count twice in a fit; "
                             "keep one of the two rows")
        measured[key] = (line, r["id"])
        _both_ends(path, line, r["sigma_e_lo_s_cm"], r["sigma_e_hi_s_cm"], "sigma_e")
        if r["sigma_e_bound"] and r["sigma_e_lo_s_cm"]:
            raise _row_error(path, line, "a sigma_e range (sigma_e_lo/hi) and a bound "
                             "(sigma_e_bound) in one row: keep the range, or empty "
                             "sigma_e_lo/hi for a bound")
        if r["formula"]:
            why = _formula_ok(r["formula"])
            if why is not None:
                raise _row_error(path, line, f"formula {r['formula']!r} is not a composition "
                                 f"pymatgen can read ({why})")
        elif not r["formula_note"]:
            raise _row_error(path, line, "no formula: give one, or say why in formula_note")
        checks = [
            (r["family"] in FAMILIES, f"family {r['family']!r} is not one of {FAMILIES}"),
            (r["ion"] in ("Li", "Na", "K", "Mg"), f"ion {r['ion']!r} is not Li, Na, K or Mg"),
            (r["sigma_e_bound"] in ("", "upper"), "sigma_e_bound must be empty or 'upper'"),
            (r["ccd_censor"] in ("", "lower", "upper"), "ccd_censor must be '', lower, upper"),
            (r["sigma_e_method"] in ("", *METHODS), f"sigma_e_method not one of {METHODS}"),
            (r["pair_same_study"] in ("yes", "no"), "pair_same_study must be yes or no"),
            (bool(_DOI.match(r["doi"])), f"doi {r['doi']!r} is missing or not a DOI (10.xxxx/...)"),
            (not r["primary_doi"] or bool(_DOI.match(r["primary_doi"])),
             f"primary_doi {r['primary_doi']!r} is not a DOI"),
            (r["confidence"] in CONFIDENCE_TAGS, f"confidence {r['confidence']!r} is not one of "
                                                 f"{CONFIDENCE_TAGS}"),
            (r["confidence"] != "V*" or bool(r["exclude"]),
             "a V* row (inconsistent) needs an exclude reason"),
            (r["pair_same_study"] != "yes" or (r["sigma_e_s_cm"] and r["ccd_ma_cm2"]),
             "pair_same_study = yes needs both sigma_e and ccd"),
            (not r["ccd_censor"] or bool(r["ccd_ma_cm2"]), "ccd_censor without a CCD value"),
            (not r["sigma_e_bound"] or bool(r["sigma_e_s_cm"]), "sigma_e_bound without sigma_e"),
        ]
        for ok, message in checks:
            if not ok:
                raise _row_error(path, line, message)
        lo, val, hi = (numbers["sigma_e_lo_s_cm"][k], numbers["sigma_e_s_cm"][k],
                       numbers["sigma_e_hi_s_cm"][k])
        if (np.isfinite(lo) and np.isfinite(hi) and lo > hi) or (
                np.isfinite(val) and ((np.isfinite(lo) and val < lo) or
                                      (np.isfinite(hi) and val > hi))):
            raise _row_error(path, line, "sigma_e must lie within [sigma_e_lo, sigma_e_hi]")
    for col, values in numbers.items():
        df[col] = values
    df["usable_pair"] = ((df["pair_same_study"] == "yes") & (df["exclude"] == "")
                         & (df["ion"] == "Li") & df["sigma_e_s_cm"].notna()
                         & df["ccd_ma_cm2"].notna() & (df["sigma_e_bound"] == ""))
    return df


def fit_pairs(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows a CCD-vs-sigma_e fit may use (see :func:`load_dataset`, ``usable_pair``)."""
    df = load_dataset() if df is None else df
    return df[df["usable_pair"]].reset_index(drop=True)


RANGE_COLUMNS = ("id", "material_class", "family", "sigma_e_lo_s_cm", "sigma_e_hi_s_cm",
                 "ccd_lo_ma_cm2", "ccd_hi_ma_cm2", "ccd_censor", "temp_c", "doi", "reference",
                 "confidence", "notes")
_RANGE_NUMERIC = {"sigma_e_lo_s_cm": _NUMERIC["sigma_e_s_cm"],
                  "sigma_e_hi_s_cm": _NUMERIC["sigma_e_s_cm"],
                  "ccd_lo_ma_cm2": _NUMERIC["ccd_ma_cm2"], "ccd_hi_ma_cm2": _NUMERIC["ccd_ma_cm2"],
                  "temp_c": _NUMERIC["ccd_temp_c"]}


def load_ranges(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate the literature ranges (material classes, for plot bands).

    Parameters
    ----------
    path : path-like, optional
        The CSV (default: the bundled ``datasets/literature/ranges.csv``).

    Returns
    -------
    DataFrame
        The columns of :data:`RANGE_COLUMNS`; ``sigma_e_lo/hi_s_cm`` (S/cm),
        ``ccd_lo/hi_ma_cm2`` (mA/cm^2) and ``temp_c`` (deg C, NaN: not stated by the
        source) as floats. A sigma_e range has both ends or neither; a CCD range has both
        ends (``ccd_censor`` empty), only ``ccd_lo`` (``lower``: CCD > lo) or only
        ``ccd_hi`` (``upper``), or neither.

    Raises
    ------
    FormatError
        An empty file, a missing column or a malformed row, naming the file and the line.
    """
    path = Path(path) if path is not None else RANGES
    df = _read(path, RANGE_COLUMNS, "literature ranges table")
    if len(df) == 0:
        raise FormatError("the literature ranges table has a header but no rows", path=path)
    numbers = {c: np.full(len(df), np.nan) for c in _RANGE_NUMERIC}
    for k, r in enumerate(df.to_dict("records")):
        line = k + 2
        if not r["id"] or not _DOI.match(r["doi"]) or r["confidence"] not in CONFIDENCE_TAGS:
            raise _row_error(path, line, "each range needs an id, a DOI (10.xxxx/...) and a "
                             f"confidence tag {CONFIDENCE_TAGS}")
        for col, (lo, hi) in _RANGE_NUMERIC.items():
            numbers[col][k] = _number(path, line, col, r[col], lo, hi)
        _both_ends(path, line, r["sigma_e_lo_s_cm"], r["sigma_e_hi_s_cm"], "sigma_e")
        censor, lo, hi = r["ccd_censor"], r["ccd_lo_ma_cm2"], r["ccd_hi_ma_cm2"]
        if censor not in ("", "lower", "upper"):
            raise _row_error(path, line, f"ccd_censor {censor!r} must be empty, lower or upper")
        if censor == "":
            _both_ends(path, line, lo, hi, "ccd")
        elif lo and hi:
            raise _row_error(path, line, f"a CCD range (ccd_lo and ccd_hi) and a bound "
                             f"(ccd_censor = {censor}) in one row: keep the range (empty "
                             "ccd_censor), or the one end of the bound")
        elif not (lo if censor == "lower" else hi):
            side = "ccd_lo (CCD > ccd_lo)" if censor == "lower" else "ccd_hi (CCD < ccd_hi)"
            raise _row_error(path, line, f"ccd_censor = {censor} needs {side} and the other "
                             "end empty")
        a, b = (numbers[f"sigma_e_{e}_s_cm"][k] for e in ("lo", "hi"))
        c, d = (numbers[f"ccd_{e}_ma_cm2"][k] for e in ("lo", "hi"))
        if a > b or c > d:
            raise _row_error(path, line, "a range's low end is above its high end")
    for col, values in numbers.items():
        df[col] = values
    return df


@functools.lru_cache(maxsize=1)
def han2019_stated() -> dict[str, dict[str, str | float]]:
    """The numbers Han et al. 2019 state (``datasets/literature/han2019_stated.csv``):
    ``{key: {"value", "unit", "temp_c", "where", "quote"}}``, numbers as floats (a formula
    or a method stays text), temperatures in deg C (NaN when not stated)."""
    df = pd.read_csv(HAN2019_STATED, dtype=str, keep_default_na=False)
    out: dict[str, dict[str, str | float]] = {}
    for row in df.to_dict("records"):
        try:
            value: str | float = float(row["value"])
        except ValueError:
            value = row["value"]
        out[row["key"]] = dict(row, value=value,
                               temp_c=float(row["temp_c"]) if row["temp_c"] else math.nan)
    return out
