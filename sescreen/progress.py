"""Progress of long work on stderr: a bar with ETA on a terminal, periodic plain lines with
counts and ETA otherwise (a scheduler's log, a cron job's mail, a pipe), nothing when quiet.

    with Progress(12, "screening", unit="file") as p:
        for f in files:
            ...
            p.advance(note=f.name)
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO

__all__ = ["Progress"]


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"
    return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:02.0f} min"


class Progress:
    """Counts ``done`` of ``total`` items.

    Parameters
    ----------
    total : int
        Items expected (0: unknown; no ETA).
    label : str
        What is being done, e.g. ``"screening"``.
    unit : str
        The item's name for plain lines (``"file"`` -> "3/12 files").
    quiet : bool
        Print nothing.
    stream : file, optional
        Default ``sys.stderr``.
    every_s : float
        Plain mode: a line once ``first_after_s`` have passed, then at most one per
        ``every_s`` seconds, and the last; work done sooner prints nothing.
    first_after_s : float
        See ``every_s``.
    tty : bool, optional
        Force bar (True) or plain lines (False); default: ``stream.isatty()``.
    """

    def __init__(self, total: int, label: str, *, unit: str = "item", quiet: bool = False,
                 stream: IO[str] | None = None, every_s: float = 10.0,
                 first_after_s: float = 2.0, tty: bool | None = None) -> None:
        self.total, self.label, self.unit, self.quiet = int(total), label, unit, quiet
        self.stream = stream if stream is not None else sys.stderr
        try:
            is_tty = self.stream.isatty() if tty is None else tty
        except (AttributeError, ValueError):
            is_tty = False
        self.tty, self.every_s = bool(is_tty), every_s
        self.done, self.t0 = 0, time.monotonic()
        self._last = self.t0 - every_s + first_after_s  # time of the last plain line
        self._printed = False
        self._width = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._beat = None
        if not self.tty and not quiet and every_s > 0:
            # plain mode: a line every every_s even while one long item runs (a log that
            # stays silent for minutes looks like a hung job)
            self._beat = threading.Thread(target=self._heartbeat, daemon=True)
            self._beat.start()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _text(self, note: str) -> str:
        elapsed = time.monotonic() - self.t0
        n = f"{self.done}/{self.total} {self.unit}s" if self.total else f"{self.done} {self.unit}s"
        parts = [f"{self.label}: {n}"]
        if self.total:
            parts.append(f"{100 * self.done / self.total:.0f} %")
        parts.append(f"{_duration(elapsed)} elapsed")
        if self.total and 0 < self.done < self.total:
            parts.append(f"ETA {_duration(elapsed / self.done * (self.total - self.done))}")
        return ", ".join(parts) + (f" ({note})" if note else "")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed stderr must not stop the work
            self.quiet = True

    def advance(self, n: int = 1, *, note: str = "") -> None:
        """``n`` more items done (``note``: what was just finished, e.g. a file name)."""
        with self._lock:
            self.done += n
            if self.quiet:
                return
            now = time.monotonic()
            if self.tty:
                filled = int(24 * self.done / self.total) if self.total else 0
                line = f"[{'#' * filled}{'.' * (24 - filled)}] {self._text(note)}"[:160]
                self._write("\r" + line.ljust(self._width))
                self._width = len(line)
            elif (now - self._last >= self.every_s
                  or (self._printed and self.total and self.done >= self.total)):
                self._write(self._text(note) + "\n")
                self._last, self._printed = now, True

    def _heartbeat(self) -> None:
        """Plain mode: the status line once ``every_s`` has passed without one."""
        while not self._stop.wait(min(1.0, self.every_s)):
            with self._lock:
                now = time.monotonic()
                if (not self.quiet and now - self._last >= self.every_s
                        and not (self.total and self.done >= self.total)):
                    self._write(self._text("working") + "\n")
                    self._last, self._printed = now, True

    def close(self) -> None:
        """End the bar's line (a terminal); plain mode has printed its last line."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        if not self.quiet and self.tty and self._width:
            self._write("\n")
        self._width = 0
