"""Screening: a table of candidate electrolytes -> one verdict row per material.

The candidates table (CSV, :mod:`sescreen.candidates_table`) has one row per measurement or
value of a material.

Per material: every file runs through :func:`sescreen.dcpol.fit_dcpol`; with three or more
temperatures, sigma_e is extrapolated to the operating temperature with an Arrhenius fit
(:mod:`sescreen.arrhenius`, 95 % interval -> log-normal uncertainty; a curved line spans a
quadratic's interval too); with fewer, the values nearest below and above the operating
temperature bound it there, as sigma_e rises with temperature (:mod:`sescreen.nearest`). Then
the verdicts at 1 and 10 mA/cm^2 (:mod:`sescreen.criteria`), the predicted CCD with its
interval (censored fit), the critical overpotential (pressure balance, and the value as
reported by Han 2019), and the NDP evidence. A material that cannot be analysed keeps a row
with its error.

Verdicts have three outcomes (``outcome_1ma``, ``outcome_10ma``: pass, fail, inconclusive),
from the material's 95 % interval of sigma_e: the Arrhenius confidence interval at the
operating temperature when extrapolated, the DC fit's own interval (``sigma_e_interval``)
when measured, a log-normal interval from ``sigma_e_stderr`` for a tabulated value, or the
point value alone. A DC fit that supports only an upper bound (``upper_bound_only``, or an
interval reaching 0: a hold that had not settled) is a bound, not a measurement: the
Arrhenius line is fitted to the other holds when they span three temperatures, and the
bound must not lie below the line's 95 % band at its temperature. Otherwise (too few
two-sided holds, a contradicting bound, or the one hold used) the material gets a one-sided
interval (lo = 0: it can pass, never fail) and a warning. ``passes_*`` is
``outcome_* == "pass"``.

Ranking: by the outcome at 1 mA/cm^2 (pass, then inconclusive, then fail), then the outcome
at 10 mA/cm^2 in the same order, then the margin at 1 mA/cm^2 (largest first), so an
inconclusive material never ranks above one that passes.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sescreen.candidates_table import read_candidates
from sescreen.constants import SCREEN_TEMPERATURE_UNCERTAINTY_K
from sescreen.errors import InputError, SescreenError
from sescreen.resources import data_path
from sescreen.serialize import json_safe

__all__ = ["EXAMPLE_CANDIDATES", "FILE_COLUMNS", "ScreeningResult", "read_candidates", "screen"]


#: The bundled example candidates (datasets/examples, generated from stated truth; in a
#: wheel: sescreen/data/examples).
EXAMPLE_CANDIDATES = data_path("examples", "candidates.csv")

_CURVED_P = 0.05  # curvature test p-value below which the line's interval is not trusted
FILE_COLUMNS = {"sigma_e": "sigma_e_s_cm", "sigma_e_interval_lo": "sigma_e_lo_s_cm",
                "sigma_e_interval_hi": "sigma_e_hi_s_cm", "ea_stderr": "ea_stderr_ev",
                "predicted_ccd": "predicted_ccd_ma_cm2",
                "predicted_ccd_lo": "predicted_ccd_lo_ma_cm2",
                "predicted_ccd_hi": "predicted_ccd_hi_ma_cm2"}


@dataclass
class ScreeningResult:
    """The screening table and the analyses behind it (for reports)."""

    table: pd.DataFrame
    operating_k: float
    fits: dict[str, list] = field(default_factory=dict)  #: material -> DC results
    arrhenius: dict[str, Any] = field(default_factory=dict)  #: material -> ArrheniusFit
    ndp: dict[str, Any] = field(default_factory=dict)  #: material -> NDPAnalysis
    ccd: dict[str, list] = field(default_factory=dict)  #: material -> CCDRecord list
    failures: list[str] = field(default_factory=list)  #: "file: message"
    inputs: list[str] = field(default_factory=list)  #: files read
    #: the candidates table, when :func:`screen` was given its path
    candidates_path: str | None = None
    #: assumptions the whole table was judged under (e.g. no temperature stated)
    notes: list[str] = field(default_factory=list)

    def ccd_points(self) -> pd.DataFrame:
        """The lab's (sigma_e, CCD) points, one per CCD record, for
        :func:`sescreen.plot.plot_lab_ccd`: ``name``, ``sigma_e``, ``sigma_e_lo``,
        ``sigma_e_hi`` (S/cm, the material's at the operating temperature, NaN when it has
        none), ``ccd_held_ma_cm2``, ``ccd_failed_ma_cm2`` (mA/cm^2, NaN when none),
        ``outcome``, ``temperature_k`` (of the CCD record), ``source``."""
        cols = ["name", "sigma_e", "sigma_e_lo", "sigma_e_hi", "ccd_held_ma_cm2",
                "ccd_failed_ma_cm2", "outcome", "temperature_k", "source"]
        table = self.table.set_index("material") if len(self.table) else pd.DataFrame()
        rows = []
        for material, records in self.ccd.items():
            info = table.loc[material] if material in table.index else {}

            def num(key, info=info):
                v = info.get(key, math.nan) if hasattr(info, "get") else math.nan
                return float(v) if v is not None and np.isfinite(v) else math.nan

            for r in records:
                rows.append({
                    "name": material, "sigma_e": num("sigma_e"),
                    "sigma_e_lo": num("sigma_e_interval_lo"),
                    "sigma_e_hi": num("sigma_e_interval_hi"),
                    "ccd_held_ma_cm2": math.nan if r.ccd_ma_cm2 is None else r.ccd_ma_cm2,
                    "ccd_failed_ma_cm2": (math.nan if r.failed_at_ma_cm2 is None
                                          else r.failed_at_ma_cm2),
                    "outcome": r.outcome, "source": r.source,
                    "temperature_k": math.nan if r.temperature_k is None else r.temperature_k})
        return pd.DataFrame(rows, columns=cols)

    def file_table(self) -> pd.DataFrame:
        """The table as ``screen --out x.csv`` writes it: units in every numeric column's
        name (:data:`FILE_COLUMNS`; the names of the curated dataset and the batch table)."""
        return self.table.rename(columns=FILE_COLUMNS)

    def summary(self) -> dict[str, Any]:
        """Counts of the verdicts per target (``"1ma"``, ``"10ma"``: PASS / FAIL /
        INCONCLUSIVE over the materials), the operating temperature (K), the materials
        that PASS both, the failures and the notes; JSON-safe."""
        t = self.table
        counts = {tag: {o: int((t[f"outcome_{tag}"] == o).sum()) if len(t) else 0
                        for o in ("pass", "fail", "inconclusive")} for tag in ("1ma", "10ma")}
        both = (t["material"][(t["outcome_1ma"] == "pass") & (t["outcome_10ma"] == "pass")]
                if len(t) else [])
        return json_safe({"operating_temperature_k": self.operating_k, "n_materials": len(t),
                          "outcomes": counts, "pass_both": list(both),
                          "failures": list(self.failures), "notes": list(self.notes)})

    def plot(self, ax=None):
        """sigma_e and its interval per material against the two thresholds (log scale);
        see :func:`sescreen.screening_plot.plot_screening`."""
        from sescreen.screening_plot import plot_screening

        return plot_screening(self.table, ax=ax, operating_k=self.operating_k)

    def to_json(self) -> dict[str, Any]:
        rows = json_rows(self.table)
        return {"operating_temperature_k": self.operating_k, "materials": rows,
                "failures": list(self.failures), "notes": list(self.notes)}


def json_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The table's rows as JSON-safe dicts (NaN -> None, numpy -> Python)."""
    return json_safe(table.to_dict(orient="records"))


def screen(candidates: pd.DataFrame | str | Path, *, operating_k: float = 298.15,
           model: str = "auto", progress=None,
           temperature_uncertainty_k: float = SCREEN_TEMPERATURE_UNCERTAINTY_K
           ) -> ScreeningResult:
    """Screen candidates (a table from :func:`read_candidates`, or its path).

    ``temperature_uncertainty_k``: standard uncertainty (K) of an offset common to each
    material's temperatures (its thermocouple), spanned by the Arrhenius intervals
    (:func:`sescreen.arrhenius.fit_arrhenius`); default
    :data:`SCREEN_TEMPERATURE_UNCERTAINTY_K` (1 K; 0 for exact temperatures).

    ``progress``, optional: called as ``progress(n, note)`` when ``n`` more rows of the
    table are done (``note``: the material), e.g. :meth:`sescreen.progress.Progress.advance`
    wrapped as ``lambda n, note: p.advance(n, note=note)``.

    Returns
    -------
    ScreeningResult
        ``table``: one row per material with ``sigma_e`` (S/cm, at ``operating_k``),
        ``sigma_e_interval_lo/hi``, ``sigma_e_method``, ``n_temperatures``,
        ``ea_ev``, ``outcome_1ma``, ``outcome_10ma`` (pass | fail | inconclusive),
        ``reason_1ma``, ``reason_10ma`` (and ``short_reason_*``, a few words for
        badges), ``upper_bound_only``, ``passes_1ma``,
        ``passes_10ma`` (outcome == pass), ``margin_1ma_decades``,
        ``margin_10ma_decades``, ``p_pass_1ma``, ``p_pass_10ma``, ``predicted_ccd``,
        ``predicted_ccd_lo/hi`` (mA/cm^2), ``phi_c_mv`` (eq. 3), ``phi_c_reported_mv``
        (Han 2019 as reported), ``ndp_dendrite_fraction``, ``ndp_onset_s`` (its 95 %
        interval ``ndp_onset_lo_s``, ``ndp_onset_hi_s``), ``ndp_growth``, ``rank``,
        ``warnings``, ``error``.
    """
    from sescreen import criteria as cr
    from sescreen.arrhenius import kelvin_as_celsius_warning
    from sescreen.arrhenius_batch import fit_arrhenius_many
    from sescreen.ccd import fit_ccd

    path = None
    if not isinstance(candidates, pd.DataFrame):
        path = str(candidates)
        candidates = read_candidates(candidates)
    result = ScreeningResult(pd.DataFrame(), operating_k, candidates_path=path,
                             notes=_temperature_notes(candidates, operating_k))
    line = fit_ccd()
    gathered = [_gather(name, part, result, operating_k, model, progress)
                for name, part in candidates.groupby("material", sort=False)]
    # one vectorized Arrhenius fit for every material with three or more temperatures: of
    # its two-sided values when they span three (an upper bound is not a measurement),
    # else of all of them (the result then an upper bound)
    lines = []
    for g in gathered:
        if g["error"] is not None:
            continue
        two_sided = ~np.asarray(g["bounded"], dtype=bool)
        for use in (two_sided, np.ones_like(two_sided)):
            if _n_temperatures(g["temps"][use]) >= 3:
                g["fitted"] = use
                lines.append(g)
                break
    batch = fit_arrhenius_many(
        [g["temps"][g["fitted"]] for g in lines], [g["sigmas"][g["fitted"]] for g in lines],
        [None if np.isnan(g["errs"][g["fitted"]]).any() else g["errs"][g["fitted"]]
         for g in lines],
        materials=[g["row"]["material"] for g in lines],
        temperature_uncertainty_k=temperature_uncertainty_k)
    for i, g in enumerate(lines):
        g["arrhenius"] = (batch, i)
        warn = kelvin_as_celsius_warning(g["temps"][g["fitted"]])
        if warn:
            g["warns"].append(warn)
    rows = []
    for g in gathered:
        row, warns = g["row"], g["warns"]
        result.inputs += g["inputs"]
        result.failures += g["failures"]
        if g["error"] is None:
            try:
                _finish(g, result, operating_k, line, cr)
                row["error"] = None
            except SescreenError as exc:
                row["error"] = str(exc)
        else:
            row["error"] = g["error"]
        row["warnings"] = "; ".join(dict.fromkeys(warns))
        rows.append(row)
        if progress is not None:
            progress(len(g["part"]) - max(g["n_done"] - 1, 0), row["material"])
    table = pd.DataFrame(rows)
    for col in ("sigma_e", "margin_1ma_decades", "ndp_growth", "phi_c_mv", "outcome_1ma",
                "outcome_10ma"):
        if col not in table:
            table[col] = math.nan if col not in ("ndp_growth", "outcome_1ma",
                                                 "outcome_10ma") else None
    table["rank"] = _rank(table)
    table = table.sort_values("rank", na_position="last", kind="stable").reset_index(drop=True)
    result.table = table
    return result



def _temperature_notes(candidates: pd.DataFrame, operating_k: float) -> list[str]:
    """The note that tabulated sigma_e values without a temperature are taken at the
    operating temperature (a table without a temperature column is judged as measured at
    25 C by default: stated, never silent)."""
    valued = candidates[np.isfinite(candidates["sigma_e"].to_numpy(dtype=float))
                        & candidates["file"].isna()]
    n = int(np.isnan(valued["temperature_k"].to_numpy(dtype=float)).sum())
    if not n:
        return []
    which = ("the table states no temperature (no temperature column)"
             if candidates["temperature_k"].isna().all()
             else f"{n} of its {len(valued)} sigma_e values state no temperature")
    return [f"{which}: {'these' if n > 1 else 'this'} sigma_e {'are' if n > 1 else 'is'} "
            f"taken as measured at the operating temperature, "
            f"{operating_k - 273.15:.4g} C; add a 'temperature (C)' column if not"]


def _n_temperatures(temps: np.ndarray) -> int:
    """Distinct temperatures, repeats logged within 2 K counted once (as the Arrhenius
    fit takes them, :func:`sescreen.arrhenius.temperature_groups`)."""
    from sescreen.arrhenius import temperature_groups

    return int(temperature_groups(np.asarray(temps, dtype=float)).max()) + 1 if len(temps) else 0


def _cell(value) -> float | None:
    """A number of the candidates table as a key (an empty cell: None, equal to itself)."""
    return float(value) if np.isfinite(value) else None


def _gather(name, part: pd.DataFrame, result: ScreeningResult, operating_k: float, model: str,
            progress) -> dict[str, Any]:
    """A material's points: every file through the DC fit, every stated sigma_e; its row
    (started), warnings, files read, failures, and ``error`` (None, or why it has no usable
    point). Its DC results go into ``result.fits``."""
    from sescreen import criteria as cr
    from sescreen.dcpol import fit_dcpol
    from sescreen.io import read

    row: dict[str, Any] = {"material": name, "formula": next(
        (f for f in part["formula"] if isinstance(f, str)), None)}
    warns: list[str] = []
    temps, sigmas, errs = [], [], []
    intervals: list[tuple[float, float] | None] = []  # the DC fits' own, S/cm
    bounded: list[bool] = []  # that fit supports only an upper bound
    holds: list[dict[str, Any] | None] = []  # the fit's hold state, for the reason
    result.fits[name] = []
    inputs: list[str] = []  # files read and failures, kept in the table's order
    failures: list[str] = []
    n_done, error = 0, None
    seen: set = set()  # rows already counted: a file with its conditions, or a value
    twice = 0
    try:
        for _, rec in part.iterrows():
            if progress is not None and n_done:
                progress(1, name)
            n_done += 1
            # a row listed twice is one measurement, not two: counted twice it narrowed
            # an Arrhenius interval ~5x into a false PASS (an independent review)
            if isinstance(rec["file"], str):
                key = ("file", str(Path(rec["file"]).resolve()), *(
                    _cell(rec[c]) for c in ("temperature_k", "thickness_cm", "area_cm2")))
            else:
                key = ("value", *(_cell(rec[c]) for c in
                                  ("temperature_k", "sigma_e", "sigma_e_stderr")),
                       bool(rec.get("sigma_e_bound", False))) \
                    if np.isfinite(rec["sigma_e"]) else None
            if key is not None and key in seen:
                twice += 1
                continue
            seen.add(key)
            if isinstance(rec["file"], str):
                inputs.append(rec["file"])
                try:
                    m = read(rec["file"])
                    fit = fit_dcpol(
                        m, thickness_cm=float(rec["thickness_cm"]),
                        area_cm2=None if not np.isfinite(rec["area_cm2"])
                        else float(rec["area_cm2"]),
                        temperature_k=None if not np.isfinite(rec["temperature_k"])
                        else float(rec["temperature_k"]), model=model)
                except SescreenError as exc:
                    failures.append(str(exc))  # the message names the file
                    warns.append(f"{Path(rec['file']).name} skipped: {exc.message}")
                    continue
                result.fits[name].append(fit)
                if fit.temperature_k is None:
                    warns.append(f"{Path(rec['file']).name}: temperature unknown, skipped")
                    continue
                temps.append(fit.temperature_k)
                sigmas.append(fit.sigma_e)
                errs.append(fit.sigma_e_stderr)
                evidence = cr.fit_inputs(fit)
                iv = evidence.pop("interval", None)
                intervals.append(iv)
                bounded.append(bool(evidence.pop("upper_bound_only"))
                               or (iv is not None and iv[0] <= 0))
                evidence.pop("stderr", None)
                holds.append(evidence)
                if not fit.steady_state_reached:
                    warns.append(f"{Path(rec['file']).name}: hold not at steady state "
                                 "(sigma_e extrapolated)")
            elif np.isfinite(rec["sigma_e"]):
                t = rec["temperature_k"] if np.isfinite(rec["temperature_k"]) else operating_k
                if not np.isfinite(rec["temperature_k"]):
                    warns.append("a sigma_e without temperature is taken at the operating "
                                 "temperature")
                temps.append(float(t))
                sigmas.append(float(rec["sigma_e"]))
                errs.append(float(rec["sigma_e_stderr"]) if np.isfinite(
                    rec["sigma_e_stderr"]) else np.nan)
                upper = bool(rec.get("sigma_e_bound", False))
                intervals.append((0.0, float(rec["sigma_e"])) if upper else None)
                bounded.append(upper)
                holds.append(None)
        if twice:
            warns.append(f"{twice} row{'s' if twice > 1 else ''} repeating an earlier one "
                         "(the same file, or the same temperature, sigma_e and stderr) "
                         f"{'are' if twice > 1 else 'is'} counted once")
        if not sigmas:
            raise InputError("no usable measurement or value")
    except SescreenError as exc:
        error = str(exc)
    return {"row": row, "warns": warns, "part": part, "n_done": n_done, "error": error,
            "inputs": inputs, "failures": failures,
            "temps": np.array(temps), "sigmas": np.array(sigmas), "errs": np.array(errs),
            "intervals": intervals, "bounded": bounded, "holds": holds}


def _finish(g: dict[str, Any], result: ScreeningResult, operating_k: float, line, cr) -> None:
    """sigma_e at the operating temperature (Arrhenius or the nearest measurement), the
    verdicts, the predicted CCD, the critical overpotential, the lab's CCD and the NDP
    evidence of a gathered material, into its row."""
    from sescreen.mechanics import critical_overpotential

    temps_a, sig_a, err_a = g["temps"], g["sigmas"], g["errs"]
    intervals, bounded, holds, part = g["intervals"], g["bounded"], g["holds"], g["part"]
    row, warns, name = g["row"], g["warns"], g["row"]["material"]
    hold: dict[str, Any] = {}
    if "arrhenius" in g:
        batch, i = g["arrhenius"]
        fit = batch.fit(i)  # its InputError if the points cannot be fitted
        result.arrhenius[name] = fit
        ex = fit.sigma_at(operating_k)
        sigma, (lo, hi) = ex.sigma, ex.ci
        if fit.curvature_p is not None and fit.curvature_p < _CURVED_P:
            from sescreen.arrhenius import curved_interval

            curved = curved_interval(fit, operating_k)
            if curved is not None:  # the line is rejected: a quadratic's interval too
                lo, hi = min(lo, curved[0]), max(hi, curved[1])
                warns.append("the line is curved (p < 0.05): the interval at the operating "
                             "temperature spans a quadratic in 1/T too")
        fitted = g["fitted"]
        row.update(sigma_e_method=f"Arrhenius ({fit.n_points} points)", ea_ev=fit.ea_ev,
                   ea_stderr=fit.ea_stderr)
        warns += list(fit.warnings) + list(ex.warnings)
        apart = [k for k, b in enumerate(bounded) if b and not fitted[k]]
        # a bound is checked where it was measured: one below the line's 95 % band there
        # contradicts the line; one without a finite upper end cannot be checked
        bound_hi = {k: float(intervals[k][1]) for k in apart if intervals[k] is not None
                    and math.isfinite(intervals[k][1])}
        against = [k for k, b in bound_hi.items()
                   if b < fit.sigma_at(float(temps_a[k])).ci[0]]
        one_sided = (bool(against) or len(bound_hi) < len(apart)
                     or any(b for k, b in enumerate(bounded) if fitted[k]))
        # a bound at the operating temperature itself caps the line there, unless it
        # contradicts the line (then neither is trusted to pass: a review's bound far below
        # a 3-point line had passed)
        here = [b for k, b in bound_hi.items()
                if abs(temps_a[k] - operating_k) <= cr.SAME_TEMPERATURE_K
                and k not in against]
        hi = min([hi, *here])
        if any(b for k, b in enumerate(bounded) if fitted[k]):
            # a line through the point values of bounds is no bound (its slope is not
            # sigma_e's: a review's four valid bounds gave a line below the truth, PASS);
            # sigma_e rises with temperature, so the upper end of any hold measured at or
            # above the operating temperature bounds it there, and nothing else does
            caps = [cr.carried_to(*intervals[k], temps_a[k], operating_k)[1]
                    for k in range(len(temps_a)) if intervals[k] is not None]
            hi = min(caps, default=math.inf)
            sigma = min(sigma, hi)
        files = len(holds)  # holds and tabulated values
        noun = "holds" if all(h is not None for h in holds) else "values"
        if apart and not one_sided:
            warns.append(f"{len(apart)} of the {files} {noun} support only an upper bound of "
                         f"sigma_e: the Arrhenius line is fitted to the other "
                         f"{int(fitted.sum())} values, and the bounds agree with it where "
                         "they were measured (the line is trusted down to the operating "
                         "temperature)")
        elif one_sided:
            why = (f", and {len(against)} of them lie below the Arrhenius line of the others"
                   if against else ", and not every bound can be checked against the line"
                   if apart else "")
            how = ("the lowest upper end of the holds at or above the operating "
                   "temperature bounds it there" if any(
                       b for k, b in enumerate(bounded) if fitted[k])
                   else "the extrapolated sigma_e is an upper bound too")
            warns.append(f"{sum(bounded)} of the {files} {noun} support only an upper bound "
                         f"of sigma_e{why}: {how} (it can pass, never fail)")
    else:
        from sescreen.nearest import bracket

        def own(j):  # each measurement's 95 % interval (None: no uncertainty)
            if intervals[j] is not None:
                return (0.0, intervals[j][1]) if bounded[j] else intervals[j]
            e = err_a[j]
            if np.isfinite(e) and e > 0:
                return cr.interval_from_stderr(float(sig_a[j]),
                                               sd_log10=e / (sig_a[j] * math.log(10)))
            return None

        br = bracket(temps_a, sig_a, [own(j) for j in range(len(sig_a))], operating_k)
        k = br.nearest
        sigma, lo, hi = br.sigma, br.lo, br.hi
        if not br.stated and lo == hi:
            lo = hi = math.nan  # a plain value: judged as a plain comparison
        hold = (holds[k] or {}) if intervals[k] is not None else {}
        one_sided = lo <= 0 and math.isfinite(hi)
        warns += list(br.warnings)
        at_op = abs(temps_a[k] - operating_k) <= cr.SAME_TEMPERATURE_K
        if one_sided and at_op:
            what = "the hold supports" if hold else "the value is"
            warns.append(f"{what} only an upper bound sigma_e < {hi:.3g} S/cm: it can pass, "
                         "never fail")
        row.update(sigma_e_method="measured" if at_op
                   else f"measured at {temps_a[k] - 273.15:.0f} C (not extrapolated)",
                   ea_ev=math.nan, ea_stderr=math.nan)
        if not at_op:
            side = ("bounded by the values nearest below and above it"
                    if br.below_k is not None and br.above_k is not None else
                    "only a lower bound (measured below it: it can fail, never pass)"
                    if br.above_k is None else
                    "only an upper bound (measured above it: it can pass, never fail)")
            warns.append(f"sigma_e is from {temps_a[k] - 273.15:.0f} C, not the operating "
                         f"{operating_k - 273.15:.0f} C: fewer than 3 temperatures to "
                         f"extrapolate, so sigma_e there is {side}, as it rises with "
                         "temperature")
    if one_sided:
        lo = 0.0
    known = not (math.isnan(lo) and math.isnan(hi))
    row.update(sigma_e=sigma, sigma_e_interval_lo=lo, sigma_e_interval_hi=hi,
               upper_bound_only=bool(one_sided),
               n_temperatures=_n_temperatures(temps_a))
    v = cr.verdict(sigma, interval=(lo, hi) if known else None, **hold)
    row.update(outcome_1ma=v.outcome_1ma, outcome_10ma=v.outcome_10ma,
               passes_1ma=v.passes_1ma, passes_10ma=v.passes_10ma,
               margin_1ma_decades=v.margin_1ma_decades,
               margin_10ma_decades=v.margin_10ma_decades,
               p_pass_1ma=v.p_pass_1ma if v.p_pass_1ma is not None else math.nan,
               p_pass_10ma=v.p_pass_10ma if v.p_pass_10ma is not None else math.nan,
               reason_1ma=v.reason_1ma, reason_10ma=v.reason_10ma,
               short_reason_1ma=v.short_reason_1ma,
               short_reason_10ma=v.short_reason_10ma)
    pred, (plo, phi) = line.predicted_ccd(sigma)
    row.update(predicted_ccd=float(pred), predicted_ccd_lo=plo, predicted_ccd_hi=phi)
    stress = part["fracture_stress_pa"].dropna()
    if len(stress):
        s = float(stress.iloc[0])
        row["fracture_stress_mpa"] = s / 1e6
        row["phi_c_mv"] = critical_overpotential(s).critical_overpotential_v * 1e3
        rep = critical_overpotential(s, model="han2019")
        row["phi_c_reported_mv"] = rep.critical_overpotential_v * 1e3
    _measured_ccd(part, row, result, warns)
    ndp_rows = part[[isinstance(v, str) for v in part["ndp"]]]
    if len(ndp_rows):
        result.inputs.append(ndp_rows.iloc[0]["ndp"])
        analysis = _ndp(ndp_rows.iloc[0], row.get("formula"), warns)
        if analysis is not None:
            result.ndp[name] = analysis
            s = analysis.summary()
            row.update(ndp_dendrite_atoms_cm2=s["dendrite_content_atoms_cm2"],
                       ndp_dendrite_fraction=s.get("dendrite_fraction_of_host_li",
                                                   math.nan),
                       ndp_onset_s=s["onset_s"] if s["onset_s"] is not None
                       else math.nan,
                       ndp_onset_lo_s=math.nan if s["onset_interval_s"] is None
                       else s["onset_interval_s"][0],
                       ndp_onset_hi_s=math.nan if s["onset_interval_s"] is None
                       else s["onset_interval_s"][1], ndp_growth=s["growth"])

def _measured_ccd(part: pd.DataFrame, row: dict[str, Any], result: ScreeningResult,
                  warns: list[str]) -> None:
    """The lab's own CCD records of a material: ``measured_ccd_ma_cm2`` (the highest density
    held), ``measured_ccd_failed_at_ma_cm2`` (the lowest that shorted, NaN if none),
    ``measured_ccd_censored`` (no record shorted: a lower bound)."""
    from sescreen.cycling import measure_ccd

    records = []
    for _, rec in part[[isinstance(v, str) for v in part["ccd_file"]]].iterrows():
        result.inputs.append(rec["ccd_file"])
        try:
            records.append(measure_ccd(
                rec["ccd_file"], area_cm2=None if not np.isfinite(rec["area_cm2"])
                else float(rec["area_cm2"]), temperature_k=None
                if not np.isfinite(rec["temperature_k"]) else float(rec["temperature_k"])))
        except SescreenError as exc:
            result.failures.append(str(exc))
            warns.append(f"{Path(rec['ccd_file']).name} skipped: {exc.message}")
    if not records:
        return
    result.ccd[row["material"]] = records
    failed = [r.failed_at_ma_cm2 for r in records if r.shorted]
    held = [r.ccd_ma_cm2 for r in records if r.ccd_ma_cm2 is not None]
    row.update(measured_ccd_ma_cm2=max(held) if held else math.nan,
               measured_ccd_failed_at_ma_cm2=min(failed) if failed else math.nan,
               measured_ccd_censored=not failed,
               measured_ccd_outcome=", ".join(r.outcome for r in records))


def _rank(table: pd.DataFrame) -> pd.Series:
    """1 = best: outcome at 1 mA/cm^2 (pass < inconclusive < fail), then at 10 mA/cm^2,
    then the margin at 1 mA/cm^2 (largest first); equal keys share a rank; rows without a
    verdict get none."""
    order = {"pass": 0, "inconclusive": 1, "fail": 2}
    keys = {}
    for k, r in table.iterrows():
        o1, o10 = r.get("outcome_1ma"), r.get("outcome_10ma")
        margin = r.get("margin_1ma_decades")
        if o1 not in order or o10 not in order or not np.isfinite(margin):
            continue
        keys[k] = (order[o1], order[o10], -float(margin))
    ranks = pd.Series(pd.NA, index=table.index, dtype="Int64")
    ordered = sorted(keys.values())
    for k, key in keys.items():
        ranks[k] = 1 + bisect.bisect_left(ordered, key)  # 1 + the number of better keys
    return ranks


def _ndp(rec, formula, warns):
    from sescreen.ndp import (
        HAN2019_STANDARD,
        Standard,
        analyse,
        depth_preset,
        load_stack,
        read_spectra,
    )
    from sescreen.ndp.calibration import DEPTH_PRESETS, stopping_calibration

    try:
        stack = rec["ndp_stack"] if isinstance(rec["ndp_stack"], str) else None
        if stack is None:
            raise InputError("an NDP series needs ndp_stack (a preset or a stack TOML)")
        cal = depth_preset(stack) if stack in DEPTH_PRESETS else stopping_calibration(
            load_stack(stack))
        series = read_spectra(rec["ndp"])
        # no C_10B: the package's own placeholder standard, which analyse() recognizes and
        # warns about (relative units; no charge comparison), not a look-alike Standard(1.0)
        standard = Standard(counts_per_monitor=float(rec["ndp_standard_counts"])) if \
            np.isfinite(rec["ndp_standard_counts"]) else HAN2019_STANDARD
        host = (formula, float(rec["host_density_g_cm3"])) if formula and np.isfinite(
            rec["host_density_g_cm3"]) else None
        return analyse(series, cal, standard=standard,
                       current_ma_cm2=float(rec["ndp_current_ma_cm2"]) if np.isfinite(
                           rec["ndp_current_ma_cm2"]) else None, host=host)
    except SescreenError as exc:
        warns.append(f"NDP not analysed: {exc}")
        return None
