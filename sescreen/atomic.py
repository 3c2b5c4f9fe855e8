"""Atomic output: write to a temporary file beside the target, then rename over it.

A crash or an interrupt never leaves a half-written result, and inputs are never opened
for writing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "check_writable", "csv_text",
           "escape_formula", "refuse_overwriting_inputs"]


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (same-directory temp file + ``os.replace``)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # name the file the user asked for, not the temporary one
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str, *, encoding: str = "utf-8",
                      newline: str = "\n") -> Path:
    """Write ``text`` atomically with the given encoding and line ending.

    A file name that is not UTF-8 in ``text`` (its bytes are lone surrogates in Python)
    is written as ``\\xNN`` (:func:`sescreen.errors.undecodable_escaped`), anything else the
    encoding cannot hold as a backslash escape: an output is never lost to one odd name
    (review 4, D8: a batch table crashed with a UnicodeEncodeError and was not written).
    """
    from sescreen.errors import undecodable_escaped

    if newline != "\n":
        text = text.replace("\n", newline)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = undecodable_escaped(text).encode(encoding, "backslashreplace")
    return atomic_write_bytes(path, data)


def check_writable(path: str | Path) -> None:
    """Refuse, before any work, an output that could not be written at the end.

    The folder of ``path`` need not exist (:func:`atomic_write_bytes` creates it); the
    nearest one that does must be a folder this process may write into. Nothing is
    written. Checked up front because a long run (``watch`` follows a hold for hours)
    must not find out only when it writes (review 4, D12).

    Parameters
    ----------
    path : str or Path
        The output file.

    Raises
    ------
    OSError
        Naming ``path``: ``ENOTDIR`` when a part of the path is a file, ``EROFS`` on a
        read-only file system, ``EACCES`` without write permission.
    """
    import errno

    folder = Path(os.path.abspath(path)).parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    code = None
    if not folder.is_dir():
        code = errno.ENOTDIR
    elif not os.access(folder, os.W_OK | os.X_OK):
        read_only = hasattr(os, "statvfs") and os.statvfs(folder).f_flag & os.ST_RDONLY
        code = errno.EROFS if read_only else errno.EACCES
    if code is not None:
        raise OSError(code, os.strerror(code), str(path))


# -- outputs never overwrite inputs ------------------------------------------------------
def _resolved(path: str | Path) -> Path:
    try:
        return Path(path).expanduser().resolve()
    except (OSError, RuntimeError):  # a symlink loop: compare the absolute path
        return Path(os.path.abspath(path))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # hard links and symlinks too
    except OSError:
        return False


def refuse_overwriting_inputs(outputs: dict[str, str | Path | None],
                              inputs: list[str | Path | None]) -> None:
    """Refuse (before any work) an output that is an input or lies inside an input folder,
    and two outputs on one file.

    Parameters
    ----------
    outputs : dict
        Option name (for the message, e.g. ``"--out"``) -> the path it writes; ``None``
        entries are ignored.
    inputs : list of path-like
        The files and folders the command reads (``None`` entries ignored).

    Raises
    ------
    InputError
        One line naming the option, the output, the input and the fix.
    """
    from sescreen.errors import InputError

    ins = [(Path(p), _resolved(p)) for p in inputs if p is not None]
    given_outs = [(o, p, _resolved(p)) for o, p in outputs.items() if p is not None]
    for k, (option, out, target) in enumerate(given_outs):
        for other, path, there in given_outs[:k]:
            if target == there:  # one would overwrite the other (a review: exit 0)
                raise InputError(f"{option} {str(out)!r} and {other} {str(path)!r} are the "
                                 "same file: give each output its own name")
    for option, out in outputs.items():
        if out is None:
            continue
        target = _resolved(out)
        for given, src in ins:
            if target == src or _same_file(target, src):
                raise InputError(f"{option} {str(out)!r} is the input {str(given)!r}: "
                                 "sescreen never writes over an input; give another file "
                                 "name")
            if src.is_dir() and src in target.parents:
                raise InputError(f"{option} {str(out)!r} lies inside the input folder "
                                 f"{str(given)!r}: sescreen never writes into what it reads; "
                                 "write it outside that folder (e.g. --out results.csv in "
                                 "another folder)")


# -- CSV outputs safe to open in a spreadsheet -------------------------------------------
_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value):
    """A text cell that a spreadsheet would run as a formula, made inert (OWASP rule).

    Cells starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a
    leading single quote; numbers (also negative ones written as text) and non-text cells
    are returned unchanged.
    """
    if not isinstance(value, str) or not value.startswith(_FORMULA_LEAD):
        return value
    try:
        float(value)
        return value  # "-4.04" is a number, not a formula
    except ValueError:
        return "'" + value


def csv_text(table) -> str:
    """A DataFrame as CSV text with formula-leading text cells escaped (:func:`escape_formula`)."""
    import pandas as pd

    safe = table.copy()
    for col in safe.columns:
        dtype = safe[col].dtype
        if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            safe[col] = safe[col].map(escape_formula, na_action="ignore")
    safe.columns = [escape_formula(str(c)) for c in safe.columns]
    return safe.to_csv(index=False)
