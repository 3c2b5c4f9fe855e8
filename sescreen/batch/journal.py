"""The journal that makes a batch resumable, and the lock that keeps two runs apart.

The journal (``<out>.jsonl``) holds one JSON record per finished file, appended and flushed
at once; a damaged line is skipped with a warning and its file recomputed. The lock
(``<out>.lock``) is an exclusive ``flock`` held for the run, released by the OS when the
process dies (SIGKILL included).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sescreen.batch.jobs import path_key
from sescreen.errors import InputError

__all__ = ["Lock", "journal_entries", "jsonable"]


def journal_entries(journal: Path, warnings: list[str]) -> dict[str, dict]:
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
            _check_record(rec)
        except (UnicodeDecodeError, ValueError, RecursionError):
            if n == len(lines):  # a last line cut by an interruption: expected, no warning
                continue
            damaged.append(n)
            continue
        key = rec.get("key") if isinstance(rec.get("key"), str) else path_key(rec["file"])
        entries[key] = rec
    if damaged:
        shown = ", ".join(map(str, damaged[:5])) + (" ..." if len(damaged) > 5 else "")
        warnings.append(f"{journal}: {len(damaged)} damaged journal line(s) skipped (line "
                        f"{shown}); their files are recomputed")
    return entries


#: The fields an analysed row fills (sescreen.batch.jobs.analyse_file), by the type they
#: hold; a failed row has none of them.
_NUMBERS = ("sigma_e_s_cm", "sigma_e_stderr_s_cm", "sigma_e_lo_s_cm", "sigma_e_hi_s_cm",
            "i_ss_a", "i_ss_stderr_a", "voltage_v", "t_hold_s", "t_steady_estimate_s",
            "temperature_k", "thickness_cm", "area_cm2")
_FLAGS = ("upper_bound_only", "steady_state_reached")
_TEXTS = ("format", "technique", "model", "outcome_1ma", "outcome_10ma")
_OUTCOMES = (None, "pass", "fail", "inconclusive")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_record(rec) -> None:
    """Raise ValueError unless ``rec`` is a journal record whose fields agree with each
    other as :func:`~sescreen.batch.jobs.analyse_file` writes them.

    Checking the field types alone let an edited line through (review 4, D9: ``"status":
    "ok"`` made ``"error"`` was reused as a failed file without an error text, and the
    batch crashed on it after writing the table).
    """
    if not isinstance(rec, dict) or not isinstance(rec.get("file"), str) \
            or rec.get("status") not in ("ok", "error") \
            or not isinstance(rec.get("options"), str):
        raise ValueError("not a journal record")
    if any(rec.get(k) is not None and not isinstance(rec.get(k), int)
           for k in ("size_bytes", "mtime_ns")):
        raise ValueError("bad size or mtime")
    seg = rec.get("segment")
    if not isinstance(rec.get("warnings"), str) \
            or not isinstance(rec.get("material"), (str, type(None))) \
            or not (seg is None or (isinstance(seg, int) and not isinstance(seg, bool)
                    and seg >= 0)) \
            or not isinstance(rec.get("key"), (str, type(None))):
        raise ValueError("bad warnings, material, segment or key")
    if rec["status"] == "error":
        if not (isinstance(rec.get("error"), str) and rec["error"].strip()):
            raise ValueError("a failed file without its error")
        if any(rec.get(k) is not None for k in (*_NUMBERS, *_FLAGS, *_TEXTS)):
            raise ValueError("a failed file with results")
        return
    if rec.get("error") is not None or not isinstance(rec.get("format"), str) \
            or not isinstance(rec.get("technique"), str):
        raise ValueError("an analysed file with an error, or without its format")
    if not all(rec.get(k) is None or _is_number(rec[k]) for k in _NUMBERS) \
            or not all(rec.get(k) is None or isinstance(rec[k], bool) for k in _FLAGS) \
            or not isinstance(rec.get("model"), (str, type(None))) \
            or not all(rec.get(k) in _OUTCOMES for k in ("outcome_1ma", "outcome_10ma")):
        raise ValueError("a result of the wrong type")


class Lock:
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



def jsonable(obj):
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)
