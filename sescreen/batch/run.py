"""One batch run: the jobs, the journal, the workers and the table, end to end."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sescreen.batch.inputs import folder_jobs, manifest_jobs
from sescreen.batch.jobs import COLUMNS, UNIT_OPTIONS, job_key, make_job
from sescreen.batch.journal import Lock, journal_entries, jsonable
from sescreen.batch.workers import check_scheduler, execute
from sescreen.errors import InputError

__all__ = ["BatchResult", "default_output", "run_batch"]


@dataclass
class BatchResult:
    """The results table and what the run did."""

    table: pd.DataFrame
    computed: int  #: files analysed in this run
    reused: int  #: files taken from the journal of an earlier run
    errors: list[str] = field(default_factory=list)  #: one-line errors of the failed files
    warnings: list[str] = field(default_factory=list)  #: e.g. damaged journal lines skipped
    out: Path | None = None  #: the table written

    def summary(self) -> dict[str, Any]:
        ok = int((self.table["status"] == "ok").sum()) if len(self.table) else 0
        out = {"n_files": len(self.table), "ok": ok, "failed": len(self.errors),
               "computed": self.computed, "reused": self.reused, "errors": self.errors,
               "warnings": self.warnings, "out": None if self.out is None else str(self.out)}
        for tag in ("1ma", "10ma"):
            col = self.table.get(f"outcome_{tag}")
            out[f"outcomes_{tag}"] = {o: int((col == o).sum()) if col is not None else 0
                                      for o in ("pass", "fail", "inconclusive")}
        return out


def default_output(folder: str | Path | None, manifest: str | Path | None) -> Path:
    """Where the table goes when no output is given: beside the folder
    (``runs/`` -> ``runs-batch.csv`` next to it; ``.`` -> ``../<name>-batch.csv``), never
    inside what is read; for a manifest, ``<manifest stem>-batch.csv`` beside it."""
    if manifest is not None:
        m = Path(manifest)
        return m.with_name(f"{m.stem}-batch.csv")
    if folder is None:
        raise InputError("give a folder of measurement files or a manifest (--manifest)")
    f = Path(folder).resolve()
    return f.parent / f"{f.name or 'batch'}-batch.csv"


def _check_workers(workers: int | None) -> None:
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 0):
        raise InputError(f"--workers {workers!r} must be a whole number >= 1 (0: all CPUs)")
    most = max(64, 4 * (os.cpu_count() or 1))
    if workers is not None and workers > most:
        raise InputError(f"--workers {workers} is more than {most} (4 per CPU): each worker "
                         "takes ~150 MB; give fewer")


def run_batch(
    folder: str | Path | None = None,
    *,
    fit_kwargs: dict[str, Any],
    out: str | Path | None = None,
    read_kwargs: dict[str, Any] | None = None,
    manifest: str | Path | None = None,
    segment: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Analyse every measurement file under ``folder``, or every file of a ``manifest``.

    Parameters
    ----------
    folder : path-like, optional
        Every measurement file under it (recursively) gets the same options.
    fit_kwargs : dict
        Keyword arguments of :func:`sescreen.dcpol.fit_dcpol` (``thickness_cm`` at least,
        unless every manifest row gives it); checked once, before any file.
    out : path-like, optional
        Results CSV (default: :func:`default_output`); the journal is ``<out>.jsonl`` and
        the lock ``<out>.lock`` beside it. None of them may be, or lie inside, an input.
    read_kwargs : dict, optional
        Keyword arguments of :func:`sescreen.io.read` (``format``, ``time_col``,
        ``current_unit``, ...) for every file. A unit given here applies only to the
        columns whose unit a file does not state (``stated_units="keep"``: a file that
        states another unit keeps it, with a warning in its row), unless
        ``stated_units`` is given; a manifest row's own unit is strict for its file.
    manifest : path-like, optional
        A manifest (:mod:`sescreen.manifest`) instead of a folder: its rows' cells (material,
        thickness, area, temperature, voltage, skip, segment, model, reader options)
        override ``fit_kwargs`` / ``read_kwargs`` / ``segment`` for their file.
    segment : int, optional
        The hold of multi-hold records to analyse (0-based, as :func:`sescreen.dcpol.holds`).
    workers : int, optional
        Worker processes (default: the number of CPUs); 1 runs in this process. A worker
        that dies (killed, out of memory) is replaced and its file retried once in a fresh
        worker, then listed as failed.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://...``), or a ``distributed.Client``.
    resume : bool
        Reuse the journal of an earlier (interrupted) run.
    progress : callable, optional
        ``progress(done, total)`` after every file.

    Raises
    ------
    InputError
        Bad options, no files, both or neither of folder and manifest, an output that is or
        lies inside an input, another run on the same output.
    """
    from sescreen.atomic import atomic_write_text, csv_text, refuse_overwriting_inputs

    if (folder is None) == (manifest is None):
        raise InputError("give either a folder of measurement files or a manifest "
                         "(--manifest), not " + ("both" if folder is not None else "neither"))
    out = Path(out) if out is not None else default_output(folder, manifest)
    journal = out.with_name(out.name + ".jsonl")
    lock = out.with_name(out.name + ".lock")
    _check_workers(workers)
    if scheduler is not None and isinstance(scheduler, str):
        check_scheduler(scheduler)
    if read_kwargs and any(read_kwargs.get(k) is not None for k in UNIT_OPTIONS):
        # units for every file: not for a file that states its own (review 4, D4)
        read_kwargs = {"stated_units": "keep", **read_kwargs}
    common = make_job(None, fit_kwargs, read_kwargs, segment=segment)
    outputs = {"--out": out, "the journal": journal, "the lock file": lock}
    unreadable: list[Path] = []
    if manifest is not None:
        jobs = manifest_jobs(manifest, common)
        refuse_overwriting_inputs(outputs, [manifest, *(j["file"] for j in jobs.values())])
    else:
        refuse_overwriting_inputs(outputs, [folder])
        jobs = folder_jobs(folder, common, exclude=(), unreadable=unreadable)
        # a symlink or hard link in the folder to an output is an input too (it was left
        # out, then its target overwritten)
        refuse_overwriting_inputs(outputs, [j["file"] for j in jobs.values()])
    out.parent.mkdir(parents=True, exist_ok=True)
    warns: list[str] = []
    with Lock(lock):
        done = journal_entries(journal, warns) if resume else {}
        todo, rows = {}, {}
        for key, job in jobs.items():
            rec = done.get(key)
            try:
                st = Path(job["file"]).stat()
            except OSError:
                st = None
            if rec and st and rec.get("size_bytes") == st.st_size \
                    and rec.get("mtime_ns") == st.st_mtime_ns \
                    and rec.get("options") == job_key(job):
                rows[key] = {**rec, "file": job["file"]}
            else:
                todo[key] = job
        reused, total = len(rows), len(jobs)
        finished = reused
        if progress:
            progress(finished, total)
        # the journal is rewritten with the usable records (damaged lines dropped), then
        # every finished file is appended and flushed at once
        atomic_write_text(journal, "".join(json.dumps(r, default=jsonable) + "\n"
                                           for r in rows.values()))
        with open(journal, "a", encoding="utf-8") as log:
            for row in execute(todo, workers, scheduler):
                rows[row["key"]] = row
                log.write(json.dumps(row, default=jsonable) + "\n")
                log.flush()
                os.fsync(log.fileno())
                finished += 1
                if progress:
                    progress(finished, total)
        records = [rows[key] for key in jobs]
        for d in unreadable:
            why = (f"{d}: cannot list this folder (permission denied): its files are not in "
                   "the table; fix its permissions (chmod u+rx) and run again"
                   if d.is_dir() or not d.exists() else
                   f"{d}: not a regular file (a named pipe, socket or device): not read; "
                   "copy the data into a file")
            records.append({"file": str(d), "status": "error", "error": why, "warnings": ""})
        table = pd.DataFrame(records, columns=list(COLUMNS))
        atomic_write_text(out, csv_text(table))
    errors = [r["error"] for r in records if r.get("status") == "error"]
    return BatchResult(table, len(todo), reused, errors, warns, out)
