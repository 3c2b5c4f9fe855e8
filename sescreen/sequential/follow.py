"""Records that grow: a file the instrument is still writing, or a finished one replayed.

:class:`RecordFile` re-reads the whole file at each poll (a fit costs far more than a read)
with :func:`sescreen.io.read`, which keeps the readers' format handling in one place. Only
what the instrument has finished writing is read: for text formats (EC-Lab ``.mpt``, Gamry
``.DTA``, CSV) everything after the last line break is held back, so a half-written row,
even one whose first digits already parse, never enters a fit; a binary ``.mpr`` that cannot
be read mid-write is unreadable until a later poll reads it (below). A file rewritten in
place (the new content does not extend the old) is read afresh and noted in the look.

A file that cannot be read at a later poll (a row no reader accepts, a file emptied, deleted
or moved away) is not judged on its last readable state (not "idle" while it grows): the
problem is reported once (one line naming the file and the line), polling goes on, and the
next look that reads the file judges it again, with a note. If it stays unreadable for
``idle_s``, watching stops with ``stop = "unreadable"`` (``sescreen watch`` exits 2). An
independent review (review 4, D7) found a watch that had kept the old state silently and
stopped "idle" while the file grew after one unparseable row; a file deleted or moved away
had ended the watch at once, without its final look, ``--history`` or ``--plot``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sescreen.errors import EmptyRecordError, InputError, SescreenError
from sescreen.sequential.look import Look
from sescreen.sequential.watcher import HoldWatcher

__all__ = ["RecordFile", "follow", "replay"]

_BINARY = (b"BIO-LOGIC MODULAR FILE",)


class RecordFile:
    """A record file that may still be growing.

    Parameters
    ----------
    path : str or Path
        The file (only read).
    **read_kwargs
        Options of :func:`sescreen.io.read` (``format``, column mapping, ``area_cm2``,
        ``applied_voltage_v``, ``technique`` ...); ``allow_truncated`` is always on.
    """

    def __init__(self, path: str | Path, **read_kwargs: Any):
        self.path = Path(path)
        self.read_kwargs = dict(read_kwargs, allow_truncated=True)
        self._seen: bytes | None = None
        self._polled: bytes | None = None
        self.notes: tuple[str, ...] = ()  #: remarks on the latest poll
        self.changed = False  #: the complete lines changed since the previous poll
        #: why the file cannot be read now (one line naming it), None when it can
        self.unreadable: str | None = None
        self._tmp = Path(tempfile.mkdtemp(prefix="sescreen-watch-"))

    def close(self) -> None:
        """Remove the private copy folder."""
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> RecordFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _snapshot(self) -> bytes:
        """The file's bytes, read again if it changed during the read."""
        for _ in range(5):
            try:
                before = os.stat(self.path)
                raw = self.path.read_bytes()
                after = os.stat(self.path)
            except FileNotFoundError:  # replaced by rename between stat and read
                time.sleep(0.05)
                continue
            if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns):
                return raw
        if not self.path.exists():
            raise InputError("the file disappeared while it was watched: check the "
                             "instrument's export path", path=self.path)
        return raw

    def poll(self, *, whole: bool = False):
        """The record as written so far, or None when nothing new is complete.

        Parameters
        ----------
        whole : bool
            Read a last line without its line end too: the file is finished (it has not
            grown for ``--idle``), and EC-Lab ends its exports without one, so its last row
            would otherwise never be read.

        Returns
        -------
        Measurement or None
            None also when a file read before cannot be read now (a row no reader accepts,
            emptied, deleted or moved away): then :attr:`unreadable` says why, and
            :attr:`changed` whether it is still being written.

        Raises
        ------
        SescreenError
            On the first poll, a file that does not exist or that no reader accepts.
        """
        first = self._seen is None
        try:
            if not self.path.is_file():
                raise InputError("no such file: give the path the instrument writes to",
                                 path=self.path)
            raw = self._snapshot()
        except InputError:
            if first:
                raise
            # deleted or moved after it was read (a sync tool, an exporter that deletes and
            # writes again): as an emptied file, not the end of watching (review cli-W1)
            self.changed = False
            self.unreadable = str(InputError(
                "the file was deleted or moved after it had been read: waiting for the "
                "instrument to write it again at this path", path=self.path))
            return None
        if not raw.startswith(_BINARY) and not whole:
            raw = raw[:raw.rfind(b"\n") + 1]  # only complete lines
        self.changed, self._polled = raw != self._polled, raw
        if not raw.strip():
            if not first:
                self.unreadable = str(InputError(
                    "the file was emptied after it had been read (truncated to 0 bytes?): "
                    "waiting for the instrument to write it again", path=self.path))
            return None
        if raw == self._seen:  # unchanged, or back to what was read last
            self.unreadable = None
            return None
        notes = []
        if not first and not raw.startswith(self._seen):
            notes.append("the file was rewritten in place: read afresh")
        copy = self._tmp / ("record" + self.path.suffix)
        copy.write_bytes(raw)
        try:
            m = _read(copy, self.path, self.read_kwargs)
        except EmptyRecordError as exc:
            # a header and no row yet (an instrument that has just started writing, an
            # export that writes its header first): nothing complete to judge, not bad input
            if not first:
                self.unreadable = str(exc)
            return None
        except SescreenError as exc:
            if first:
                raise
            self.unreadable = str(exc)
            return None
        if self.unreadable is not None:
            notes.append(f"read again after it could not be read ({self.unreadable})")
        self._seen, self.notes, self.unreadable = raw, tuple(notes), None
        return m


def _read(copy: Path, path: Path, kwargs: dict[str, Any]):
    """Read the private copy, naming the real file in messages and in the result."""
    from sescreen.io import read

    try:
        m = read(copy, **kwargs)
    except SescreenError as exc:
        exc.path = path
        exc.message = exc.message.replace(str(copy), str(path))
        exc.args = (exc._format(),)
        raise
    m.source = str(path)
    m.warnings = [w for w in m.warnings if "truncated" not in w]
    return m


def replay(m, watcher: HoldWatcher, *, every_s: float) -> Iterator[Look]:
    """Replay a finished record as the instrument wrote it: a look after every
    ``every_s`` of record time and one at the end, until a look says stop.

    Parameters
    ----------
    m : Measurement
        The whole record (one constant-voltage hold).
    watcher : HoldWatcher
        Receives the looks.
    every_s : float
        Record time between looks, s.

    Yields
    ------
    Look
    """
    if not every_s > 0:
        raise InputError(f"--every {every_s!r} s must be positive, e.g. '30min'")
    t = m.time_s - m.time_s[0]
    if t.size == 0:
        raise InputError("the record has no samples to replay", path=m.source)
    times = [*np.arange(every_s, t[-1], every_s), t[-1]]
    for tk in times:
        n = int(np.searchsorted(t, tk, side="right"))
        part = dataclasses.replace(m, data=m.data.iloc[:n].reset_index(drop=True),
                                   warnings=list(m.warnings))
        look = watcher.look(part)
        if watcher.stopped:
            yield look
            return
        if tk == times[-1]:
            yield watcher.finish("end")
            return
        yield look


def follow(path: str | Path, watcher: HoldWatcher, *, every_s: float, idle_s: float,
           read_kwargs: dict[str, Any] | None = None,
           report: Callable[[str], None] | None = None,
           sleep: Callable[[float], None] = time.sleep,
           clock: Callable[[], float] = time.monotonic) -> Iterator[Look]:
    """Follow a file the instrument is writing: a look every ``every_s`` (wall clock) when
    it has grown, until a look says stop, it stops growing for ``idle_s`` (stop "idle")
    or it cannot be read for ``idle_s`` (stop "unreadable").

    Parameters
    ----------
    path : str or Path
        The file being written.
    watcher : HoldWatcher
        Receives the looks.
    every_s, idle_s : float
        Seconds between polls, and without growth (or without a readable file) before
        watching stops.
    read_kwargs : dict, optional
        Options of :func:`sescreen.io.read`.
    report : callable, optional
        ``report(message)`` once for each new reason the file cannot be read (one line
        naming the file and the line), as soon as it is met.
    sleep, clock : callable
        Injected for tests.

    Yields
    ------
    Look
        One per look; the last has ``stop`` set (with "unreadable", the reason is its
        last note).
    """
    if not every_s > 0 or not idle_s > 0:
        raise InputError(f"--every ({every_s!r} s) and --idle ({idle_s!r} s) must be positive")
    with RecordFile(path, **(read_kwargs or {})) as src:
        grew = clock()
        bad_since, reported = None, None
        while True:
            m = src.poll()
            now = clock()
            if src.changed:  # growing, readable or not: not idle
                grew = now
            if m is not None:
                bad_since, reported = None, None
                look = watcher.look(m, notes=src.notes)
                yield look
                if watcher.stopped:
                    return
            elif src.unreadable is not None:
                bad_since = now if bad_since is None else bad_since
                if src.unreadable != reported and report is not None:
                    report(src.unreadable)
                reported = src.unreadable
                if now - bad_since >= idle_s:
                    last = watcher.finish("unreadable", note=src.unreadable)
                    if last is not None:
                        yield last
                    return
            elif now - grew >= idle_s:
                m = src.poll(whole=True)  # a last row without its line end, now final
                if m is not None:
                    yield watcher.look(m, notes=src.notes)
                    if watcher.stopped:
                        return
                last = watcher.finish("idle")
                if last is not None:
                    yield last
                return
            sleep(every_s)
