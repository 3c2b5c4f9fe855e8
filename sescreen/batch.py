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
from sescreen.limits import check_range, refuse_pathological_lines

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


def find_files(folder: str | Path, *, exclude: tuple[Path, ...] = (),
               unreadable: list[Path] | None = None) -> list[Path]:
    """Measurement files under ``folder`` (recursively), sorted.

    A sub-folder that cannot be listed (permissions) is not silently left out: it is
    appended to ``unreadable`` when that list is given, else an InputError names it.
    """
    from sescreen.io import SUFFIXES

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder", path=folder)
    skip = {p.resolve() for p in exclude}
    blocked: list[Path] = []

    def onerror(exc: OSError) -> None:
        blocked.append(Path(exc.filename) if exc.filename else folder)

    found = []
    for root, dirs, names in os.walk(folder, onerror=onerror):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            p = Path(root) / name
            if (p.suffix.lower() in SUFFIXES and not name.startswith(".")
                    and not name.endswith((".jsonl", ".lock")) and p.resolve() not in skip
                    and (p.is_file() or not p.exists())):
                found.append(p)
    if blocked:
        if unreadable is None:
            raise InputError(f"cannot list the folder {blocked[0]} (permission denied): fix "
                             "its permissions (chmod u+rx)", path=folder)
        unreadable.extend(blocked)
    return sorted(found)


def _key(path: str | Path) -> str:
    """The resume key: the resolved path (the same folder typed relative or absolute, or
    through a symlink, is the same file)."""
    try:
        return os.path.normcase(str(Path(path).resolve()))
    except (OSError, RuntimeError):
        return os.path.normcase(os.path.abspath(path))


def _error_text(exc: BaseException, path: Path) -> str:
    """One line naming the file for any exception of one file's analysis."""
    if isinstance(exc, SescreenError):
        text = str(exc)
        return text if str(path) in text else f"{path}: {text}"
    if isinstance(exc, MemoryError):
        return f"{path}: not enough memory to analyse this file (split it, or run it alone)"
    if isinstance(exc, OSError):
        return f"{path}: cannot read the file ({exc.strerror or exc}): check it and its " \
               "permissions"
    text = " ".join(str(exc).split())[:300]
    return (f"{path}: unexpected {type(exc).__name__} ({text}): the file could not be "
            "analysed; please report it")


def analyse_file(path: str, fit_kwargs: dict[str, Any]) -> dict[str, Any]:
    """One file through read + fit_dcpol; never raises for a bad file (the error is the row).

    A top-level function, so worker processes and Dask can pickle it.
    """
    p = Path(path)
    row: dict[str, Any] = {"file": str(p), "key": _key(p), "size": None, "mtime_ns": None,
                           "options": _options_key(fit_kwargs)}
    try:
        stat = p.stat()
        row.update(size=stat.st_size, mtime_ns=stat.st_mtime_ns)
        _analyse(p, fit_kwargs, row)
    except Exception as exc:  # any failure of one file is that file's row
        for k in _COLUMNS:
            if k not in ("file", "size", "mtime_ns", "options"):
                row.pop(k, None)
        row.update(status="error", error=_error_text(exc, p), warnings="")
    return row


def _analyse(p: Path, fit_kwargs: dict[str, Any], row: dict[str, Any]) -> None:
    import warnings

    from sescreen import criteria
    from sescreen.dcpol import fit_dcpol
    from sescreen.io import read

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's, on odd records
        refuse_pathological_lines(p)
        m = read(p)
        if m.temperature_k is not None:
            check_range(m.temperature_k, "temperature_k", "the file's temperature", path=p)
        if m.area_cm2 is not None and fit_kwargs.get("area_cm2") is None:
            check_range(m.area_cm2, "area_cm2", "the file's electrode area", path=p)
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


def check_options(fit_kwargs: dict[str, Any]) -> None:
    """Refuse bad analysis options once, before any file (not once per file)."""
    import inspect

    from sescreen.dcpol import MODEL_CHOICES, fit_dcpol

    params = inspect.signature(fit_dcpol).parameters
    allowed = set(params) - {"m"}
    open_ended = any(v.kind is inspect.Parameter.VAR_KEYWORD for v in params.values())
    unknown = [] if open_ended else sorted(set(fit_kwargs) - allowed)
    if unknown:
        raise InputError(f"unknown analysis option(s) {unknown}; known: {sorted(allowed)}")
    if fit_kwargs.get("thickness_cm") is None:
        raise InputError("a batch needs the electrolyte thickness (--thickness)")
    check_range(fit_kwargs["thickness_cm"], "thickness_cm", "--thickness")
    check_range(fit_kwargs.get("area_cm2"), "area_cm2", "--area")
    check_range(fit_kwargs.get("voltage_v"), "voltage_v", "--voltage")
    check_range(fit_kwargs.get("temperature_k"), "temperature_k", "--temperature")
    for tol in ("thickness_rel_tol", "area_rel_tol"):
        check_range(fit_kwargs.get(tol), "rel_tol", tol)
    model = fit_kwargs.get("model", "auto")
    if model not in MODEL_CHOICES:
        raise InputError(f"unknown model {model!r}; choose one of {', '.join(MODEL_CHOICES)}")
    try:
        json.dumps(fit_kwargs, default=str)
    except (TypeError, ValueError) as exc:
        raise InputError(f"analysis options cannot be recorded in the journal: {exc}") \
            from None


@dataclass
class BatchResult:
    """The results table and what the run did."""

    table: pd.DataFrame
    computed: int  #: files analysed in this run
    reused: int  #: files taken from the journal of an earlier run
    errors: list[str] = field(default_factory=list)  #: one-line errors of the failed files
    warnings: list[str] = field(default_factory=list)  #: e.g. damaged journal lines skipped

    def summary(self) -> dict[str, Any]:
        ok = int((self.table["status"] == "ok").sum()) if len(self.table) else 0
        out = {"n_files": len(self.table), "ok": ok, "failed": len(self.errors),
               "computed": self.computed, "reused": self.reused, "errors": self.errors,
               "warnings": self.warnings}
        for tag in ("1ma", "10ma"):
            col = self.table.get(f"outcome_{tag}")
            out[f"outcomes_{tag}"] = {o: int((col == o).sum()) if col is not None else 0
                                      for o in ("pass", "fail", "inconclusive")}
        return out


def _journal_entries(journal: Path, warnings: list[str]) -> dict[str, dict]:
    """The usable records of a journal, by resume key; a damaged line (cut by an
    interruption, edited, not UTF-8, not a record) is skipped with a warning, and its file
    is recomputed."""
    entries: dict[str, dict] = {}
    try:
        data = journal.read_bytes()
    except FileNotFoundError:
        return entries
    damaged = []
    lines = data.split(b"\n")
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw.decode("utf-8"))
            if not isinstance(rec, dict) or not isinstance(rec.get("file"), str) \
                    or rec.get("status") not in ("ok", "error") \
                    or not isinstance(rec.get("options"), str):
                raise ValueError("not a journal record")
            if any(rec.get(k) is not None and not isinstance(rec.get(k), int)
                   for k in ("size", "mtime_ns")):
                raise ValueError("bad size or mtime")
        except (UnicodeDecodeError, ValueError, RecursionError):
            if n == len(lines):  # a last line cut by an interruption: expected, no warning
                continue
            damaged.append(n)
            continue
        key = rec.get("key") if isinstance(rec.get("key"), str) else _key(rec["file"])
        entries[key] = rec
    if damaged:
        shown = ", ".join(map(str, damaged[:5])) + (" ..." if len(damaged) > 5 else "")
        warnings.append(f"{journal}: {len(damaged)} damaged journal line(s) skipped (line "
                        f"{shown}); their files are recomputed")
    return entries


class _Lock:
    """An exclusive lock on ``<out>.lock`` for the run (released by the OS if the process
    dies, even by SIGKILL), so two runs on one output do not both compute everything."""

    def __init__(self, path: Path):
        self.path = path
        self.fh = None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock (documented)
            return self
        self.fh = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.fh.seek(0)
            other = self.fh.read(40).strip()
            self.fh.close()
            self.fh = None
            who = f" (process {other})" if other.isdigit() else ""
            raise InputError(f"another sescreen batch{who} is writing this output now: wait "
                             "for it to finish (then run again to reuse its results), or give "
                             "another --out", path=self.path.with_suffix("")) from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(str(os.getpid()))
        self.fh.flush()
        return self

    def __exit__(self, *exc):
        if self.fh is not None:
            self.fh.close()  # closing releases the flock
            self.fh = None
        return False


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
        Keyword arguments of :func:`sescreen.dcpol.fit_dcpol` (``thickness_cm`` at least);
        checked once, before any file (:func:`check_options`).
    out : path-like
        Results CSV; the journal is ``<out>.jsonl`` and the lock ``<out>.lock`` beside it.
        Neither may lie inside ``folder``.
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
        Bad options, no files, an output inside the folder, another run on the same output.
    """
    from sescreen.atomic import atomic_write_text, csv_text, refuse_overwriting_inputs

    out = Path(out)
    journal = out.with_name(out.name + ".jsonl")
    lock = out.with_name(out.name + ".lock")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 0):
        raise InputError(f"--workers {workers!r} must be a whole number >= 1 (0: all CPUs)")
    most = max(64, 4 * (os.cpu_count() or 1))
    if workers is not None and workers > most:
        raise InputError(f"--workers {workers} is more than {most} (4 per CPU): each worker "
                         "takes ~150 MB; give fewer")
    if scheduler is not None and isinstance(scheduler, str):
        _check_scheduler(scheduler)
    check_options(fit_kwargs)
    if not Path(folder).is_dir():
        raise InputError("not a folder (give the folder that holds the measurement files)",
                         path=folder)
    refuse_overwriting_inputs({"--out": out, "the journal": journal, "the lock file": lock},
                              [folder])
    unreadable: list[Path] = []
    files = find_files(folder, exclude=(out, journal), unreadable=unreadable)
    if not files and not unreadable:
        raise InputError("no measurement files found", path=folder)
    out.parent.mkdir(parents=True, exist_ok=True)
    warns: list[str] = []
    with _Lock(lock):
        done = _journal_entries(journal, warns) if resume else {}
        todo, rows = [], {}
        options = _options_key(fit_kwargs)
        keys = {str(p): _key(p) for p in files}
        for p in files:
            rec = done.get(keys[str(p)])
            try:
                st = p.stat()
            except OSError:
                st = None
            if rec and st and rec.get("size") == st.st_size \
                    and rec.get("mtime_ns") == st.st_mtime_ns and rec.get("options") == options:
                rows[keys[str(p)]] = {**rec, "file": str(p)}
            else:
                todo.append(str(p))
        reused = len(rows)
        total = len(files)
        finished = reused
        if progress:
            progress(finished, total)
        # the journal is rewritten with the usable records (damaged lines dropped), then
        # every finished file is appended and flushed at once
        kept = [rows[k] for k in rows]
        atomic_write_text(journal, "".join(json.dumps(r, default=_jsonable) + "\n"
                                           for r in kept))
        with open(journal, "a", encoding="utf-8") as log:
            for row in _execute(todo, fit_kwargs, workers, scheduler):
                rows[row.get("key") or _key(row["file"])] = row
                log.write(json.dumps(row, default=_jsonable) + "\n")
                log.flush()
                os.fsync(log.fileno())
                finished += 1
                if progress:
                    progress(finished, total)
        records = [rows[keys[str(p)]] for p in files]
        for d in unreadable:
            records.append({"file": str(d), "status": "error",
                            "error": f"{d}: cannot list this folder (permission denied): its "
                                     "files are not in the table; fix its permissions "
                                     "(chmod u+rx) and run again", "warnings": ""})
        table = pd.DataFrame(records, columns=list(_COLUMNS))
        atomic_write_text(out, csv_text(table))
    errors = [r["error"] for r in records if r.get("status") == "error"]
    return BatchResult(table, len(todo), reused, errors, warns)


_SCHEMES = ("tcp", "tls", "inproc", "ucx", "ws", "wss")


def _check_scheduler(address: str) -> None:
    import re

    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.+)$", address)
    if m is None and re.match(r"^[A-Za-z0-9_.-]+:\d+$", address) is None:
        raise InputError(f"--scheduler {address!r}: write a Dask scheduler address, e.g. "
                         "tcp://host:8786")
    if m is not None and m.group(1).lower() not in _SCHEMES:
        raise InputError(f"--scheduler {address!r}: unknown scheme {m.group(1)!r}; use one "
                         f"of {', '.join(s + '://' for s in _SCHEMES)}")


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
    yield from _execute_pool(paths, fit_kwargs, min(workers, len(paths)))


# -- worker processes ----------------------------------------------------------------------
def _die_with_parent(parent_pid: int) -> None:
    """In a worker: exit when the main process is gone (SIGKILL included)."""
    import signal
    import threading
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    try:  # Linux: the kernel kills us when the parent dies
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch():  # everywhere else (and as a backstop): poll
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _worker_main(conn, parent_pid: int) -> None:
    """A worker: analyse the paths sent over ``conn`` until told to stop (``None``)."""
    _die_with_parent(parent_pid)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        path, fit_kwargs = task
        conn.send(analyse_file(path, fit_kwargs))


def _lost_row(path: str, fit_kwargs: dict, code: int | None) -> dict[str, Any]:
    p = Path(path)
    how = (f"killed by signal {-code}" if code is not None and code < 0
           else f"exit code {code}")
    row = {"file": str(p), "key": _key(p), "options": _options_key(fit_kwargs),
           "status": "error", "warnings": "",
           "error": f"{p}: the worker process analysing this file died twice ({how}; killed, "
                    "or out of memory): run it alone (sescreen dcpol FILE) to see why"}
    try:
        st = p.stat()
        row.update(size=st.st_size, mtime_ns=st.st_mtime_ns)
    except OSError:
        pass
    return row


def _execute_pool(paths: list[str], fit_kwargs: dict, n_workers: int):
    """Own worker processes, one file at a time each, so that a worker that dies is known
    with the file it held: the worker is replaced and the file retried once, then listed."""
    import multiprocessing as mp
    from collections import deque
    from multiprocessing.connection import wait

    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else "spawn")
    queue = deque((p, 1) for p in paths)
    busy: dict[Any, tuple[Any, str, int]] = {}  # conn -> (process, path, attempt)
    idle: list[tuple[Any, Any]] = []
    parent = os.getpid()

    def start():
        here, there = ctx.Pipe()
        proc = ctx.Process(target=_worker_main, args=(there, parent), daemon=True)
        proc.start()
        there.close()
        return here, proc

    def give(conn, proc):
        path, attempt = queue.popleft()
        try:
            conn.send((path, fit_kwargs))
        except (BrokenPipeError, OSError):
            queue.appendleft((path, attempt))
            proc.kill()
            proc.join()
            conn.close()
            return False
        busy[conn] = (proc, path, attempt)
        return True

    def stop(conn, proc):
        try:
            conn.send(None)
        except OSError:
            pass
        conn.close()
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join()

    try:
        for _ in range(n_workers):
            idle.append(start())
        while queue or busy:
            while queue and idle:
                conn, proc = idle.pop()
                if not give(conn, proc):
                    idle.append(start())
            if not busy:
                continue
            sentinels = {proc.sentinel: conn for conn, (proc, _, _) in busy.items()}
            ready = wait(list(busy) + list(sentinels))
            handled = set()
            for obj in ready:
                conn = sentinels.get(obj, obj)
                if conn in handled or conn not in busy:
                    continue
                handled.add(conn)
                proc, path, attempt = busy.pop(conn)
                row = None
                try:
                    if conn.poll():
                        row = conn.recv()
                except (EOFError, OSError):
                    row = None
                if row is not None:
                    idle.append((conn, proc))
                    yield row
                    continue
                # the worker died holding this file
                proc.join(timeout=5)
                conn.close()
                if attempt == 1:
                    queue.appendleft((path, 2))
                else:
                    yield _lost_row(path, fit_kwargs, proc.exitcode)
                if queue:
                    idle.append(start())
    finally:
        for conn, (proc, _, _) in list(busy.items()):
            proc.kill()
            proc.join()
            conn.close()
        for conn, proc in idle:
            stop(conn, proc)


def _execute_dask(paths, fit_kwargs, scheduler):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("--scheduler needs dask.distributed: pip install 'sescreen[dask]'") \
            from None
    try:
        client = scheduler if isinstance(scheduler, Client) else Client(scheduler, timeout=30)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"--scheduler {scheduler!r}: cannot reach the Dask scheduler "
                         f"({' '.join(str(exc).split())[:200]}): check the address and that "
                         "it runs") from None
    try:
        futures = client.map(analyse_file, paths, fit_kwargs=fit_kwargs, pure=False)
        index = {f.key: p for f, p in zip(futures, paths, strict=True)}
        for fut in as_completed(futures):
            try:
                yield fut.result()
            except Exception as exc:  # a lost worker, a cancelled task
                yield _dask_lost(index[fut.key], fit_kwargs, exc)
    finally:
        if client is not scheduler:
            client.close()


def _dask_lost(path, fit_kwargs, exc):
    row = _lost_row(path, fit_kwargs, None)
    row["error"] = (f"{path}: the Dask task failed ({type(exc).__name__}: "
                    f"{' '.join(str(exc).split())[:200]})")
    return row
