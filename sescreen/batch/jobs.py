"""What one file of a batch is and what its analysis gives: the job (the file and its
options), the row of the results table, the resume key.

A job is a plain, JSON-able dict so that it travels to worker processes and Dask and into
the journal unchanged::

    {"file": str, "fit": {...fit_dcpol keywords...}, "read": {...io.read keywords...},
     "material": str | None, "segment": int | None}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sescreen.errors import InputError, SescreenError, one_line
from sescreen.limits import check_file_metadata, check_range

__all__ = ["COLUMNS", "UNIT_OPTIONS", "analyse_file", "check_job", "job_key", "make_job",
           "path_key", "task_key"]

#: The reader options that give a column's unit (see :func:`sescreen.io.read`'s
#: ``stated_units``).
UNIT_OPTIONS = ("time_unit", "current_unit", "voltage_unit")

#: The columns of the results table, units in the names (S/cm, A, V, s, K, cm, cm2, bytes).
COLUMNS = ("file", "material", "segment", "status", "error", "sigma_e_s_cm",
           "sigma_e_stderr_s_cm", "sigma_e_lo_s_cm", "sigma_e_hi_s_cm", "upper_bound_only",
           "outcome_1ma", "outcome_10ma", "i_ss_a", "i_ss_stderr_a", "voltage_v", "model",
           "steady_state_reached", "t_hold_s", "t_steady_estimate_s", "temperature_k",
           "thickness_cm", "area_cm2", "format", "technique", "warnings", "options",
           "size_bytes", "mtime_ns")

#: summary key of a DC fit -> column of the table
_FROM_FIT = {"sigma_e": "sigma_e_s_cm", "sigma_e_stderr": "sigma_e_stderr_s_cm",
             "i_ss": "i_ss_a", "i_ss_stderr": "i_ss_stderr_a", "voltage": "voltage_v",
             "model": "model", "steady_state_reached": "steady_state_reached",
             "t_hold": "t_hold_s", "t_steady_estimate": "t_steady_estimate_s",
             "temperature_k": "temperature_k", "thickness_cm": "thickness_cm",
             "area_cm2": "area_cm2"}

#: Bumped when the rows change shape, so that journals of older versions are recomputed
#: (2: the verdict columns; 3: units in the column names, material, segment, reader options).
_ROW_VERSION = 3


def make_job(file: str | Path | None, fit: dict[str, Any], read: dict[str, Any] | None = None,
             material: str | None = None, segment: int | None = None) -> dict[str, Any]:
    """One file and its options; ``None`` values of ``fit`` and ``read`` are dropped
    (``file`` None: options common to files still to be found)."""
    return {"file": None if file is None else str(file),
            "fit": {k: v for k, v in fit.items() if v is not None},
            "read": {k: v for k, v in (read or {}).items() if v is not None},
            "material": material, "segment": segment}


def job_key(job: dict[str, Any]) -> str:
    """The options as a stable string: a journal entry is reused only when the options it
    was computed with (and the row version) are the same."""
    fit = {"area_cm2": None, "voltage_v": None, "model": "auto", **job["fit"]}
    options = {k: v for k, v in job.items() if k != "file"}
    return json.dumps({**options, "fit": fit, "_rows": _ROW_VERSION}, sort_keys=True,
                      default=str)


def path_key(path: str | Path) -> str:
    """The resume key: the resolved path (the same folder typed relative or absolute, or
    through a symlink, is the same file)."""
    try:
        return os.path.normcase(str(Path(path).resolve()))
    except (OSError, RuntimeError):
        return os.path.normcase(os.path.abspath(path))


def task_key(job: dict[str, Any]) -> str:
    """The resume key of a job: its file's resolved path, and the segment when one is
    chosen (one file's holds can be separate rows)."""
    seg = job.get("segment")
    return path_key(job["file"]) + ("" if seg is None else f"#segment={seg}")


def check_job(job: dict[str, Any], where: str = "") -> None:
    """Refuse bad options once, before any file (not once per file).

    ``where`` names the source of the options in messages (e.g. "row 3 of the manifest").
    """
    import inspect

    from sescreen.dcpol import MODEL_CHOICES, fit_dcpol
    from sescreen.io import read

    at = f" ({where})" if where else ""
    for func, given, what in ((fit_dcpol, job["fit"], "analysis"),
                              (read, job["read"], "reader")):
        params = inspect.signature(func).parameters
        allowed = set(params) - {"m", "path"}
        open_ended = any(v.kind is inspect.Parameter.VAR_KEYWORD for v in params.values())
        unknown = [] if open_ended else sorted(set(given) - allowed)
        if unknown:
            raise InputError(f"unknown {what} option(s) {unknown}{at}; known: "
                             f"{sorted(allowed)}")
    fit = job["fit"]
    if fit.get("thickness_cm") is None:
        raise InputError(f"no electrolyte thickness{at}: give --thickness, or a thickness "
                         "column in the manifest")
    check_range(fit["thickness_cm"], "thickness_cm", f"the thickness{at}")
    for key, kind, name in (("area_cm2", "area_cm2", "the area"),
                            ("voltage_v", "voltage_v", "the voltage"),
                            ("temperature_k", "temperature_k", "the temperature"),
                            ("thickness_rel_tol", "rel_tol", "thickness_rel_tol"),
                            ("area_rel_tol", "rel_tol", "area_rel_tol")):
        check_range(fit.get(key), kind, f"{name}{at}")
    if fit.get("skip_s") is not None and not fit["skip_s"] >= 0:
        raise InputError(f"the time skipped{at} must not be negative")
    model = fit.get("model", "auto")
    if model not in MODEL_CHOICES:
        raise InputError(f"unknown model {model!r}{at}; choose one of "
                         f"{', '.join(MODEL_CHOICES)}")
    seg = job.get("segment")
    if seg is not None and (isinstance(seg, bool) or not isinstance(seg, int) or seg < 0):
        raise InputError(f"segment {seg!r}{at} must be a whole number >= 0")
    try:
        json.dumps(job, default=str)
    except (TypeError, ValueError) as exc:
        raise InputError(f"options cannot be recorded in the journal{at}: {exc}") from None


def _error_text(exc: BaseException, path: Path) -> str:
    """One line naming the file for any exception of one file's analysis."""
    if isinstance(exc, SescreenError):
        text = str(exc)  # names the file escaped (one_line): compare with that spelling
        return text if one_line(str(path), 300) in text else f"{path}: {text}"
    if isinstance(exc, MemoryError):
        return f"{path}: not enough memory to analyse this file (split it, or run it alone)"
    if isinstance(exc, OSError):
        return f"{path}: cannot read the file ({exc.strerror or exc}): check it and its " \
               "permissions"
    text = " ".join(str(exc).split())[:300]
    return (f"{path}: unexpected {type(exc).__name__} ({text}): the file could not be "
            "analysed; please report it")


def analyse_file(job: dict[str, Any]) -> dict[str, Any]:
    """One job's file through read + fit_dcpol; never raises for a bad file (the error is
    the row).

    A top-level function, so worker processes and Dask can pickle it.
    """
    p = Path(job["file"])
    row: dict[str, Any] = {"file": str(p), "key": task_key(job), "size_bytes": None,
                           "mtime_ns": None, "options": job_key(job),
                           "material": job.get("material"), "segment": job.get("segment")}
    try:
        stat = p.stat()
        row.update(size_bytes=stat.st_size, mtime_ns=stat.st_mtime_ns)
        _analyse(p, job, row)
    except Exception as exc:  # any failure of one file is that file's row
        for k in COLUMNS:
            if k not in ("file", "material", "segment", "size_bytes", "mtime_ns", "options"):
                row.pop(k, None)
        row.update(status="error", error=one_line(_error_text(exc, p)), warnings="")
    return row


def _analyse(p: Path, job: dict[str, Any], row: dict[str, Any]) -> None:
    import warnings

    from sescreen import criteria
    from sescreen.dcpol import fit_dcpol, select_hold
    from sescreen.io import read

    fit = job["fit"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's, on odd records
        m = read(p, **job["read"])
        check_file_metadata(m, temperature_given=fit.get("temperature_k") is not None,
                            area_given=fit.get("area_cm2") is not None,
                            voltage_given=fit.get("voltage_v") is not None)
        row.update(format=m.format, technique=m.technique.value)
        res = fit_dcpol(select_hold(m, job.get("segment")), **fit)
        s = res.summary()
        row.update({col: s.get(k) for k, col in _FROM_FIT.items()})
        warns = list(s["warnings"])
        evidence = criteria.fit_inputs(res)
        lo, hi = evidence.get("interval", (None, None))
        ub = evidence["upper_bound_only"] or (lo is not None and lo <= 0)
        row.update(sigma_e_lo_s_cm=0.0 if ub else lo, sigma_e_hi_s_cm=hi,
                   upper_bound_only=bool(ub))
        try:
            v = criteria.verdict(res.sigma_e, **evidence,
                                 temperature_k=getattr(res, "temperature_k", None))
            row.update(outcome_1ma=v.outcome_1ma, outcome_10ma=v.outcome_10ma)
            warns += list(v.warnings)
        except SescreenError as exc:  # e.g. no usable sigma_e: the fit's row stays
            row.update(outcome_1ma=None, outcome_10ma=None)
            warns.append(f"no verdict: {exc.message}")
    row.update(status="ok", error=None, warnings="; ".join(warns))
