"""The exceptions sescreen raises for problems a user can fix.

Every message names the file (when there is one), the position (line, column) when known,
what was expected and how to fix it, in one line. The CLI prints ``str(error)`` and exits
with code 2; a traceback means a bug in sescreen, never a user mistake.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "FitError",
    "FormatError",
    "InputError",
    "SescreenError",
    "TechniqueError",
]


class SescreenError(Exception):
    """Root of every error sescreen raises on purpose.

    Parameters
    ----------
    message : str
        What is wrong and how to fix it, one line.
    path : str or Path, optional
        The file the problem is in; prefixed to the message.
    line : int, optional
        1-based line number in that file.
    column : str, optional
        Column name (or number) in that file.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.path = None if path is None else Path(path)
        self.line = line
        self.column = column
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = " ".join(self.message.split())  # one line, always
        return f"{', '.join(where)}: {text}" if where else text


class InputError(SescreenError):
    """An argument or option value is wrong (a unit, a range, a missing quantity)."""


class FormatError(SescreenError):
    """A file cannot be read: unknown format, broken structure, bad cells."""


class TechniqueError(SescreenError):
    """A measurement is of the wrong kind for the analysis asked for."""


class FitError(SescreenError):
    """A fit did not converge or the data cannot support it."""
