"""Batch analysis: every measurement file under a folder through the DC-polarization
analysis, in parallel, into one results table.

- Files are found recursively by extension (:data:`sescreen.io.SUFFIXES`).
- Work runs in worker processes (:class:`concurrent.futures.ProcessPoolExecutor`), or on a
  Dask cluster (``scheduler="tcp://host:8786"``; extra ``sescreen[dask]``).
- A file that fails is recorded with its error; the others go on.
- Resumable: every finished file is appended at once to a journal (``<out>.jsonl``, one
  JSON object per line, flushed). A new run skips files whose path, size, modification
  time and analysis options (thickness, area, voltage, model) match a journal entry, so an
  interrupted run resumes where it stopped without redoing finished files, and a run with
  other options recomputes. The table (CSV) is written atomically at the end.
- Every row carries the verdict at 1 and 10 mA/cm^2 (Han 2019 thresholds) by the rule of
  :mod:`sescreen.criteria`: ``outcome_1ma``, ``outcome_10ma`` (pass | fail | inconclusive)
  from the fit's 95 % interval ``sigma_e_lo`` .. ``sigma_e_hi`` (S/cm; ``sigma_e_lo = 0``
  with ``upper_bound_only``: the hold supports only an upper bound, which can pass, never
  fail).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sescreen.errors import InputError, SescreenError

__all__ = ["BatchResult", "analyse_file", "find_files", "run_batch"]

_COLUMNS = ("file", "status", "error", "sigma_e", "sigma_e_stderr", "sigma_e_lo", "sigma_e_hi",
            "upper_bound_only", "outcome_1ma", "outcome_10ma", "i_ss", "i_ss_stderr",
            "voltage", "model", "steady_state_reached", "t_hold", "t_steady_estimate",
            "temperature_k", "thickness_cm", "area_cm2", "format", "technique", "warnings",
            "options", "size", "mtime_ns")


#: Bumped when the rows change shape, so that journals of older versions are recomputed
#: (2: the verdict columns).
_ROW_VERSION = 2


def _options_key(fit_kwargs: dict[str, Any]) -> str:
    """The analysis options as a stable string: a journal entry is reused only when the
    options it was computed with (and the row version) are the same."""
    full = {"area_cm2": None, "voltage_v": None, "model": "auto", **fit_kwargs,
            "_rows": _ROW_VERSION}
    return json.dumps(full, sort_keys=True, default=str)


def find_files(folder: str | Path, *, exclude: tuple[Path, ...] = ()) -> list[Path]:
    """Measurement files under ``folder`` (recursively), sorted."""
    from sescreen.io import SUFFIXES

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder", path=folder)
    skip = {p.resolve() for p in exclude}
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
                  and p.resolve() not in skip and not p.name.endswith(".jsonl"))


def analyse_file(path: str, fit_kwargs: dict[str, Any]) -> dict[str, Any]:
    """One file through read + fit_dcpol; never raises for a bad file (the error is the row).

    A top-level function, so worker processes and Dask can pickle it.
    """
    from sescreen import criteria
    from sescreen.dcpol import fit_dcpol
    from sescreen.io import read

    p = Path(path)
    stat = p.stat()
    row: dict[str, Any] = {"file": str(p), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                           "options": _options_key(fit_kwargs)}
    try:
        m = read(p)
        row.update(format=m.format, technique=m.technique.value)
        res = fit_dcpol(m, **fit_kwargs)
        s = res.summary()
        row.update({k: s.get(k) for k in ("sigma_e", "sigma_e_stderr", "i_ss", "i_ss_stderr",
                                          "voltage", "model", "steady_state_reached",
                                          "t_hold", "t_steady_estimate", "temperature_k",
                                          "thickness_cm", "area_cm2")})
        warns = list(s["warnings"])
        evidence = criteria.fit_inputs(res)
        lo, hi = evidence.get("interval", (None, None))
        ub = evidence["upper_bound_only"] or (lo is not None and lo <= 0)
        row.update(sigma_e_lo=0.0 if ub else lo, sigma_e_hi=hi, upper_bound_only=bool(ub))
        try:
            v = criteria.verdict(res.sigma_e, **evidence,
                                 temperature_k=getattr(res, "temperature_k", None))
            row.update(outcome_1ma=v.outcome_1ma, outcome_10ma=v.outcome_10ma)
            warns += list(v.warnings)
        except SescreenError as exc:  # e.g. no usable sigma_e: the fit's row stays
            row.update(outcome_1ma=None, outcome_10ma=None)
            warns.append(f"no verdict: {exc.message}")
        row.update(status="ok", error=None, warnings="; ".join(warns))
    except SescreenError as exc:
        row.update(status="error", error=str(exc), warnings="")
    return row


@dataclass
class BatchResult:
    """The results table and what the run did."""

    table: pd.DataFrame
    computed: int  #: files analysed in this run
    reused: int  #: files taken from the journal of an earlier run
    errors: list[str] = field(default_factory=list)  #: one-line errors of the failed files

    def summary(self) -> dict[str, Any]:
        ok = int((self.table["status"] == "ok").sum()) if len(self.table) else 0
        out = {"n_files": len(self.table), "ok": ok, "failed": len(self.errors),
               "computed": self.computed, "reused": self.reused, "errors": self.errors}
        for tag in ("1ma", "10ma"):
            col = self.table.get(f"outcome_{tag}")
            out[f"outcomes_{tag}"] = {o: int((col == o).sum()) if col is not None else 0
                                      for o in ("pass", "fail", "inconclusive")}
        return out


def _journal_entries(journal: Path) -> dict[str, dict]:
    entries: dict[str, dict] = {}
    if not journal.exists():
        return entries
    with open(journal, encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by the interruption
            entries[rec["file"]] = rec
    return entries


def run_batch(
    folder: str | Path,
    *,
    fit_kwargs: dict[str, Any],
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Analyse every measurement file under ``folder``.

    Parameters
    ----------
    folder : path-like
    fit_kwargs : dict
        Keyword arguments of :func:`sescreen.dcpol.fit_dcpol` (``thickness_cm`` at least).
    out : path-like
        Results CSV; the journal is ``<out>.jsonl`` beside it.
    workers : int, optional
        Worker processes (default: the number of CPUs); 1 runs in this process.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://...``), or a ``distributed.Client``.
    resume : bool
        Reuse the journal of an earlier (interrupted) run.
    progress : callable, optional
        ``progress(done, total)`` after every file.
    """
    out = Path(out)
    journal = out.with_name(out.name + ".jsonl")
    files = find_files(folder, exclude=(out, journal))
    if not files:
        raise InputError("no measurement files found", path=folder)
    done = _journal_entries(journal) if resume else {}
    if not resume and journal.exists():
        journal.unlink()
    todo, reused = [], {}
    options = _options_key(fit_kwargs)
    for p in files:
        rec = done.get(str(p))
        st = p.stat()
        if rec and rec.get("size") == st.st_size and rec.get("mtime_ns") == st.st_mtime_ns \
                and rec.get("options") == options:
            reused[str(p)] = rec
        else:
            todo.append(str(p))
    total = len(files)
    finished = len(reused)
    if progress:
        progress(finished, total)
    rows = dict(reused)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(journal, "a+", encoding="utf-8") as log:
        log.seek(0, os.SEEK_END)
        if log.tell():  # an interrupted run may have left half a line: start a new one
            log.seek(log.tell() - 1)
            if log.read(1) != "\n":
                log.write("\n")
        for row in _execute(todo, fit_kwargs, workers, scheduler):
            rows[row["file"]] = row
            log.write(json.dumps(row, default=_jsonable) + "\n")
            log.flush()
            os.fsync(log.fileno())
            finished += 1
            if progress:
                progress(finished, total)
    table = pd.DataFrame([rows[str(p)] for p in files], columns=list(_COLUMNS))
    from sescreen.atomic import atomic_write_text

    atomic_write_text(out, table.to_csv(index=False))
    # the error text already names the file
    errors = [r["error"] for r in rows.values() if r.get("status") == "error"]
    return BatchResult(table, len(todo), len(reused), errors)


def _jsonable(obj):
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)


def _execute(paths: list[str], fit_kwargs: dict, workers: int | None, scheduler):
    """Yield result rows as files finish."""
    if not paths:
        return
    if scheduler is not None:
        yield from _execute_dask(paths, fit_kwargs, scheduler)
        return
    workers = workers or os.cpu_count() or 1
    if workers <= 1:
        for p in paths:
            yield analyse_file(p, fit_kwargs)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(analyse_file, p, fit_kwargs) for p in paths]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise


def _execute_dask(paths, fit_kwargs, scheduler):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("--scheduler needs dask.distributed: pip install 'sescreen[dask]'") \
            from None
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = client.map(analyse_file, paths, fit_kwargs=fit_kwargs, pure=False)
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        if client is not scheduler:
            client.close()
