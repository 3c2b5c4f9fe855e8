"""The exceptions sescreen raises for problems a user can fix.

Every message names the file (when there is one), the position (line, column) when known,
what was expected and how to fix it, in one line. The CLI prints ``str(error)`` and exits
with code 2; a traceback means a bug in sescreen, never a user mistake.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "MAX_MESSAGE",
    "EmptyRecordError",
    "FitError",
    "FormatError",
    "InputError",
    "SescreenError",
    "TechniqueError",
    "one_line",
    "undecodable_escaped",
]

#: Longest message printed: a 10 MB header is not a 10 MB error line.
MAX_MESSAGE = 600

_CONTROL = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

#: The lone surrogates a byte that is not UTF-8 becomes in a file name (PEP 383).
_UNDECODABLE = re.compile("[\udc80-\udcff]")


def undecodable_escaped(text: str) -> str:
    """``text`` with the bytes of a file name that is not UTF-8 written as ``\\xNN``.

    Python decodes such a name's bytes to lone surrogates (PEP 383), which no UTF-8 output
    can hold: ``bad\\xff.mpt`` names the file readably (review 4, D8: a batch table with
    such a name crashed with a UnicodeEncodeError).
    """
    return _UNDECODABLE.sub(lambda mo: f"\\x{ord(mo.group()) - 0xDC00:02x}", text)


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line: control characters escaped (a newline in a file name reads
    ``\\n``), at most ``limit`` characters (the middle cut, with a note)."""
    out = []
    for ch in undecodable_escaped(str(text)):
        if ch in _CONTROL:
            out.append(_CONTROL[ch])
        elif ord(ch) < 32 or ord(ch) == 127 or 0x80 <= ord(ch) < 0xA0 or ch in "\u2028\u2029":
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    s = "".join(out)
    if len(s) > limit:
        keep = (limit - 40) // 2
        s = f"{s[:keep]} ...[{len(s) - 2 * keep} characters cut]... {s[-keep:]}"
    return s


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
            where.append(one_line(str(self.path), 300))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {one_line(repr(self.column), 120)}")
        text = one_line(" ".join(self.message.split()))  # one line, always
        return f"{', '.join(where)}: {text}" if where else text


class InputError(SescreenError):
    """An argument or option value is wrong (a unit, a range, a missing quantity)."""


class FormatError(SescreenError):
    """A file cannot be read: unknown format, broken structure, bad cells."""


class EmptyRecordError(FormatError):
    """A file is well formed but holds no data rows yet (a header only: nothing recorded,
    or an instrument that has just started writing)."""


class TechniqueError(SescreenError):
    """A measurement is of the wrong kind for the analysis asked for."""


class FitError(SescreenError):
    """A fit did not converge or the data cannot support it."""
