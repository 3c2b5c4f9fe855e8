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
    if not path.is_file():
        raise FormatError("the literature dataset is missing", path=path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"cannot parse the dataset ({exc})", path=path) from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise FormatError(f"missing column(s) {missing}; the dataset needs {list(COLUMNS)}",
                          path=path, line=1)
    df = df[list(COLUMNS)].apply(lambda col: col.str.strip())
    seen: set[str] = set()
    numbers = {c: np.full(len(df), np.nan) for c in _NUMERIC}
    for k, row in enumerate(df.itertuples(index=False)):
        line = k + 2
        r = row._asdict()
        if not r["id"] or r["id"] in seen:
            raise _row_error(path, line, f"id {r['id']!r} is empty or repeated")
        seen.add(r["id"])
        for col, (lo, hi) in _NUMERIC.items():
            text = r[col]
            if not text:
                continue
            try:
                value = float(text)
            except ValueError:
                raise _row_error(path, line, f"{col} = {text!r} is not a number") from None
            if not (math.isfinite(value) and lo < value < hi):
                raise _row_error(path, line, f"{col} = {text} is outside {lo:g}..{hi:g} (a unit "
                                 "mistake? sigma in S/cm, CCD in mA/cm2, T in C)")
            numbers[col][k] = value
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


def load_ranges(path: str | Path | None = None) -> pd.DataFrame:
    """Literature ranges (material classes, for plot bands), validated for DOI and tag."""
    path = Path(path) if path is not None else RANGES
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for k, row in df.iterrows():
        if not _DOI.match(row["doi"]) or row["confidence"] not in CONFIDENCE_TAGS:
            raise _row_error(path, k + 2, "each range needs a DOI and a confidence tag")
    for col in ("sigma_e_lo_s_cm", "sigma_e_hi_s_cm", "ccd_lo_ma_cm2", "ccd_hi_ma_cm2",
                "temp_c"):
        df[col] = pd.to_numeric(df[col].replace("", np.nan))
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
