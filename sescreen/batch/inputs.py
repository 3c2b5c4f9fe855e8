"""The files of a batch and each one's options: every measurement file under a folder with
the same options, or the rows of a manifest (:mod:`sescreen.manifest`), each row's cells
over the common options."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sescreen.batch.jobs import UNIT_OPTIONS, check_job, make_job, task_key
from sescreen.errors import InputError

__all__ = ["find_files", "folder_jobs", "manifest_jobs"]


def find_files(folder: str | Path, *, exclude: tuple[Path, ...] = (),
               unreadable: list[Path] | None = None) -> list[Path]:
    """Measurement files under ``folder`` (recursively), sorted.

    A sub-folder that cannot be listed (permissions) is not silently left out: it is
    appended to ``unreadable`` when that list is given, else an InputError names it. So is
    a measurement name that is no regular file (a named pipe, a socket, a device: reading
    one could block), when the list is given.
    """
    from sescreen.io import SUFFIXES

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder", path=folder)
    skip = {p.resolve() for p in exclude}
    blocked: list[Path] = []

    def onerror(exc: OSError) -> None:
        blocked.append(Path(exc.filename) if exc.filename else folder)

    found: list[Path] = []
    special: list[Path] = []
    for root, dirs, names in os.walk(folder, onerror=onerror):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            p = Path(root) / name
            if (p.suffix.lower() in SUFFIXES and not name.startswith(".")
                    and not name.endswith((".jsonl", ".lock")) and p.resolve() not in skip):
                if p.is_file() or not p.exists():
                    found.append(p)
                elif unreadable is not None:
                    special.append(p)
    if blocked:
        if unreadable is None:
            raise InputError(f"cannot list the folder {blocked[0]} (permission denied): fix "
                             "its permissions (chmod u+rx)", path=folder)
        unreadable.extend(blocked)
    if unreadable is not None:
        unreadable.extend(sorted(special))
    return sorted(found)


def folder_jobs(folder: str | Path, common: dict[str, Any], *, exclude: tuple[Path, ...],
                unreadable: list[Path]) -> dict[str, dict[str, Any]]:
    """Every measurement file under ``folder`` with the options ``common`` (a job of
    :func:`sescreen.batch.jobs.make_job` without a file), checked once; by resume key.

    Raises
    ------
    InputError
        Not a folder, no measurement files in it, bad options.
    """
    check_job(common)
    if not Path(folder).is_dir():
        raise InputError("not a folder (give the folder that holds the measurement files)",
                         path=folder)
    files = find_files(folder, exclude=exclude, unreadable=unreadable)
    if not files and not unreadable:
        raise InputError("no measurement files found", path=folder)
    jobs = [{**common, "file": str(p)} for p in files]
    return {task_key(job): job for job in jobs}


def manifest_jobs(manifest: str | Path, common: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The files of a manifest, each with its row's options over ``common``, by resume key;
    every row is checked before any file is analysed (a bad row fails the run up front,
    naming it).

    A file listed twice with the same segment is refused (its two rows would give one key
    in the journal); a listed file that does not exist becomes a failed row of the table,
    like any unreadable file.
    """
    from sescreen.manifest import read_measurement_manifest

    jobs: dict[str, dict[str, Any]] = {}
    seen: dict[str, int] = {}
    for row in read_measurement_manifest(manifest):
        read = {**common["read"], **row.read}
        if any(row.read.get(k) is not None for k in UNIT_OPTIONS):
            read["stated_units"] = "refuse"  # a row's own unit is meant for its file
        job = make_job(row.file, {**common["fit"], **row.fit}, read,
                       material=row.material if row.material is not None
                       else common.get("material"),
                       segment=row.segment if row.segment is not None
                       else common.get("segment"))
        check_job(job, f"row {row.row} of the manifest {manifest}")
        key = task_key(job)
        if key in seen:
            raise InputError(f"rows {seen[key]} and {row.row} of the manifest name the same "
                             f"file{'' if job['segment'] is None else ' and segment'} "
                             f"({row.file}): keep one", path=manifest)
        seen[key] = row.row
        jobs[key] = job
    return jobs
