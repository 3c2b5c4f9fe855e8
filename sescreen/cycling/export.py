"""The lab's (material, sigma_e, CCD, conditions) rows in the curated dataset's format
(``datasets/literature/electrolytes.csv``), so measured pairs can join the regression.

The dataset stores the CCD as the density at which the cell shorted (Han et al. 2019: "the
critical current density, at which the cell will be shorted"): a shorted record gives
``ccd_ma_cm2`` = failed_at, no censor, unless it shorted at its first density (nothing
held: the CCD lies anywhere below it, ``ccd_censor = "upper"``, not at it); a record that
never shorted gives the highest
density held with ``ccd_censor = "lower"``; one whose records held no density (contact
loss in the first step) gives no CCD and ``pair_same_study = "no"``. sigma_e and CCD come
from the same lab and material, so ``pair_same_study`` is otherwise "yes"; ``confidence``
is "M" (measured, not reviewed).
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["dataset_rows"]


def dataset_rows(result, *, study_id: str = "lab") -> pd.DataFrame:
    """One row per material with a CCD record in a screening result.

    Parameters
    ----------
    result : sescreen.screening.ScreeningResult
    study_id : str
        Written to ``study_id`` and used in each row's ``id``.

    Returns
    -------
    pandas.DataFrame
        The columns of the curated dataset (those it cannot know left empty).
    """
    from sescreen.literature import load_dataset

    columns = list(load_dataset().columns)
    rows = []
    table = result.table.set_index("material")
    for material, records in result.ccd.items():
        info = table.loc[material]
        shorted = [r for r in records if r.shorted]
        first = min(shorted, key=lambda r: r.failed_at_ma_cm2) if shorted else records[0]
        held = max((r.ccd_ma_cm2 or 0.0) for r in records)
        # no short and no density held (contact loss in the first step): "CCD > 0" is no
        # CCD, and 0 lies outside the dataset's range (it would not load): no pair
        ccd = first.failed_at_ma_cm2 if shorted else (held if held > 0 else None)
        # shorted with no density held: CCD <= failed_at, a bound (the Han value at the
        # first density would enter the regression as if measured there)
        censor = ("upper" if not first.ccd_ma_cm2 else "") if shorted else \
            ("" if ccd is None else "lower")
        temp = first.temperature_k
        sigma_t = info.get("sigma_e_temperature_k", result.operating_k)
        rows.append({
            "id": f"{study_id}-{material}".lower().replace(" ", "-"), "material": material,
            "formula": info.get("formula"), "ion": "Li",
            "sigma_e_s_cm": info.get("sigma_e"),
            "sigma_e_temp_c": None if sigma_t is None or not math.isfinite(sigma_t)
            else round(sigma_t - 273.15, 2),
            "sigma_e_method": "blocking",
            "ccd_ma_cm2": ccd,
            "ccd_censor": censor,
            "ccd_temp_c": None if temp is None else round(temp - 273.15, 2),
            "ccd_protocol": f"{first.cell} {first.protocol}", "study_id": study_id,
            "pair_same_study": "yes" if ccd is not None else "no", "confidence": "M",
            "notes": "; ".join(f"{r.source}: {r.statement()}" for r in records),
        })
    return pd.DataFrame(rows, columns=columns)
