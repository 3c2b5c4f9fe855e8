"""NDP spectra: reading a time series of frames into one :class:`SpectrumSeries`.

Accepted inputs:

- one two-column text file per frame (``channel counts``, whitespace, comma or semicolon
  separated), with optional ``# key: value`` header lines: ``live_time`` (s), ``real_time``
  (s), ``monitor`` (neutron monitor counts of the frame), ``time`` (s since the start of
  the series, the frame's start or mid time), ``current_ma_cm2``;
- a folder of such files (sorted by their ``time`` header, else by name with numbers in
  names compared as numbers: ``frame_2`` before ``frame_10``);
- a wide table: a ``channel`` column and one column per frame, with the frame metadata
  given as rows whose first cell is ``live_time``, ``real_time``, ``monitor`` or ``time``.

Every frame must have the same channels and a monitor count; frames without counts are
refused (a detector that was off is not zero lithium).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sescreen.errors import FormatError, InputError
from sescreen.io.rows import decode_text

__all__ = ["SpectrumSeries", "read_spectra", "write_spectra"]

_log = logging.getLogger(__name__)

_META = ("live_time", "real_time", "monitor", "time", "current_ma_cm2")
_META_LINE = re.compile(
    r"^[#%;]+\s*([A-Za-z_][A-Za-z0-9_]*(?: +[A-Za-z0-9_]+)*)\s*[:=]\s*([-+\d.eE,]+)"
    r"((?: \d{3}(?![\d.,]))*)")
# a whole number in groups of three: "12,345", "1,234,567", "1.234.567"
_GROUPED = {",": re.compile(r"^[-+]?[1-9]\d{0,2}(?:,\d{3})+$"),
            ".": re.compile(r"^[-+]?[1-9]\d{0,2}(?:\.\d{3})+$")}


def _meta_number(key: str, text: str, spaced: str, path: Path, lineno: int) -> float:
    """The number of a ``# key: value`` frame header, read as its writer meant it.

    A decimal comma (``600,5``) is a decimal mark, as before; a thousands separator is not
    (review readers2: ``# monitor: 12,345`` had been read as 12.345 counts, which scales the
    frame's concentration by 1000). The rules:

    - ``,`` and ``.`` together (``1,234.5``, ``1.234,5``): the last one is the decimal mark,
      the other groups thousands;
    - groups of three digits after a separator that occurs more than once (``1,234,567``,
      ``1.234.567``) or after single spaces (``12 345``): a whole number;
    - one ``,`` before exactly three digits (``12,345``): a whole number for ``monitor``
      (a count of neutrons is whole: a decimal comma would make it 12.345 counts); for a
      time or a current it could be either (12.345 s or 12345 s), so it is refused;
    - a ``monitor`` read with one ``.`` before three digits (``12.345``) is kept as
      written, with a warning that it is not a whole count.

    Raises
    ------
    FormatError
        Not a number, not finite, or ambiguous (naming the file and line).
    """
    raw = text + spaced
    if spaced:
        if not re.fullmatch(r"[-+]?\d{1,3}", text):
            raise FormatError(f"{key}: {raw[:40]!r} is not a number (digits grouped by "
                              "spaces after a decimal mark?)", path=path, line=lineno)
        text = text + spaced.replace(" ", "")
    elif "," in text and "." in text:
        dec = "," if text.rfind(",") > text.rfind(".") else "."
        group = "." if dec == "," else ","
        whole, _, frac = text.rpartition(dec)
        if not _GROUPED[group].match(whole) or not frac.isdigit():
            raise FormatError(f"{key}: {raw[:40]!r} is not a number", path=path, line=lineno)
        text = whole.replace(group, "") + "." + frac
    else:
        for sep in (",", "."):
            if text.count(sep) > 1 and _GROUPED[sep].match(text):
                text = text.replace(sep, "")
        if _GROUPED[","].match(text):  # one comma before three digits
            if key != "monitor":
                raise FormatError(
                    f"{key}: {raw[:40]!r} is ambiguous (a decimal comma, "
                    f"{text.replace(',', '.')}, or a thousands separator, "
                    f"{text.replace(',', '')}); write it without the comma or with a "
                    "decimal point", path=path, line=lineno)
            text = text.replace(",", "")
        elif key == "monitor" and _GROUPED["."].match(text):
            _log.warning("%s, line %d: monitor %s is not a whole count; if the '.' groups "
                         "thousands, write %s", path, lineno, text, text.replace(".", ""))
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        raise FormatError(f"{key}: {raw[:40]!r} is not a number", path=path,
                          line=lineno) from None
    if not np.isfinite(value):
        raise FormatError(f"{key} is not a finite number", path=path, line=lineno)
    return value


@dataclass(frozen=True)
class SpectrumSeries:
    """A time series of NDP spectra.

    Attributes
    ----------
    channels : ndarray, shape (n_channels,)
    counts : ndarray, shape (n_frames, n_channels)
        Raw counts.
    live_time_s, real_time_s, monitor : ndarray, shape (n_frames,)
    time_s : ndarray, shape (n_frames,)
        Time of each frame since the start of the series, s.
    sources : tuple of str
    """

    channels: np.ndarray
    counts: np.ndarray
    live_time_s: np.ndarray
    real_time_s: np.ndarray
    monitor: np.ndarray
    time_s: np.ndarray
    sources: tuple[str, ...] = ()
    current_ma_cm2: np.ndarray | None = field(default=None)

    def __post_init__(self):
        n, m = self.counts.shape
        if self.channels.shape != (m,):
            raise InputError("channels and counts disagree in length")
        for name in ("live_time_s", "real_time_s", "monitor", "time_s"):
            arr = getattr(self, name)
            if arr.shape != (n,):
                raise InputError(f"{name} needs one value per frame ({n})")
            if not np.all(np.isfinite(arr)):
                raise InputError(f"{name} is missing for some frames")
        if np.any(self.monitor <= 0):
            k = int(np.flatnonzero(self.monitor <= 0)[0])
            raise InputError(f"frame {k} ({self._src(k)}): the neutron monitor count is "
                             "missing or zero; flux normalization needs it")
        if np.any(self.live_time_s <= 0) or np.any(self.real_time_s < self.live_time_s):
            raise InputError("live time must be positive and not exceed real time")
        if np.any(self.counts < 0) or not np.all(np.isfinite(self.counts)):
            raise InputError("counts must be finite and non-negative")
        empty = np.flatnonzero(self.counts.sum(axis=1) == 0)
        if empty.size:
            raise InputError(f"frame {int(empty[0])} ({self._src(int(empty[0]))}) has zero "
                             "counts in every channel: the detector was off or the file is "
                             "empty; remove the frame")

    def _src(self, k: int) -> str:
        return self.sources[k] if k < len(self.sources) else f"#{k}"

    @property
    def n_frames(self) -> int:
        return self.counts.shape[0]


def _natural_key(path: Path) -> tuple:
    """Sort key of a file name with its numbers compared as numbers ("frame_2" before
    "frame_10", "t_0.5h" before "t_0.75h" and "t_1.25h" before "t_1.5h"): acquisition
    software numbers frames without zero padding, and a plain string sort would put frame
    10 between frames 1 and 2, timing every frame wrong; a decimal number is one number
    (as two digit runs, 0.5 came after 0.25)."""
    return tuple((0, float(tok), "") if tok[0].isdigit() else (1, 0.0, tok)
                 for tok in re.split(r"(\d+(?:\.\d+)?)", path.name) if tok)


def _parse_frame(path: Path) -> tuple[dict, np.ndarray, np.ndarray]:
    text = decode_text(path.read_bytes(), path)
    meta: dict[str, float] = {}
    chans, counts = [], []
    header = None  # the first non-comment line (a column header, when not numeric)
    for lineno, line in enumerate(text.split("\n"), start=1):
        s = line.strip()
        if not s:
            continue
        if s.startswith(("#", "%", ";")):
            # words separated by single runs of spaces: no two quantifiers compete for the
            # same characters (a lazy "[A-Za-z_ ]+?\s*" backtracks badly on long lines)
            m = _META_LINE.match(s)
            if m:
                key = m.group(1).strip().lower().replace(" ", "_")
                if key in _META:
                    if re.match(r"\s+[-+\d.,]", s[m.end():]):  # "12 3456": not one number
                        raise FormatError(f"{key}: {s[m.start(2):][:40]!r} is not one "
                                          "number", path=path, line=lineno)
                    meta[key] = _meta_number(key, m.group(2), m.group(3), path, lineno)
            continue
        parts = re.split(r"[\s,;]+", s)
        if not chans and header is None:
            header = s
        if len(parts) < 2:
            raise FormatError("expected 'channel counts' on each line", path=path, line=lineno)
        try:
            chans.append(float(parts[0]))
            counts.append(float(parts[1]))
        except ValueError:
            if not chans:  # a header row ("channel counts")
                continue
            raise FormatError(f"non-numeric value in {s[:40]!r}", path=path,
                              line=lineno) from None
    if not chans:
        raise FormatError("no (channel, counts) rows", path=path)
    return meta, *_channel_axis(np.array(chans), np.array(counts), path, header)


def _channel_axis(chans: np.ndarray, counts: np.ndarray, path: Path,
                  header: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Check that the first column is a channel number (an MCA's integer bins), once each.

    The energy calibration E = gain * channel + offset (Han et al. eq. 2) is applied to it,
    so an energy axis (keV) read as channels would be calibrated twice; a repeated channel
    (two files concatenated) would count its events twice. Rows in descending channel
    order are put in ascending order.
    """
    if header is not None and re.search(r"kev|mev|energy", header, re.IGNORECASE):
        raise FormatError(f"the first column is headed {header[:40]!r}: give MCA channel "
                          "numbers (the energy calibration is applied to channels), not "
                          "energies", path=path)
    if not np.allclose(chans, np.round(chans), rtol=0, atol=1e-6):
        k = int(np.flatnonzero(~np.isclose(chans, np.round(chans), rtol=0, atol=1e-6))[0])
        raise FormatError(f"channel {chans[k]:g} is not a whole number: the first column "
                          "must be MCA channel numbers (an energy axis in keV?)", path=path)
    order = np.argsort(chans, kind="stable")
    chans, counts = chans[order], counts[order]
    dup = np.flatnonzero(np.diff(chans) == 0)
    if dup.size:
        raise FormatError(f"channel {chans[dup[0]]:g} appears more than once (files "
                          "concatenated?): every channel needs one row", path=path)
    neg = np.flatnonzero(counts < 0)
    if neg.size:
        raise FormatError(f"channel {chans[neg[0]]:g} has negative counts ({counts[neg[0]]:g}; "
                          f"{neg.size} channels in all): give the raw counts and the "
                          "background spectrum separately (--background), so that their "
                          "Poisson errors are propagated", path=path)
    return chans, counts


def read_spectra(paths, *, live_time_s=None, real_time_s=None, monitor=None,
                 frame_time_s=None) -> SpectrumSeries:
    """Read NDP frames from files, a folder or a wide table.

    Parameters
    ----------
    paths : path-like or sequence of path-like
        Frame files, one folder of frames, or one wide table.
    live_time_s, real_time_s, monitor : float or sequence, optional
        Values for frames whose headers lack them (one value for all, or one per frame).
    frame_time_s : float, optional
        Frame length, s, to time frames that carry no ``time`` (frame k at k * length).

    Raises
    ------
    FormatError, InputError
        Unreadable frames, channels that differ between frames, a missing monitor.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("no spectra given: name frame files, a folder of frames or a wide "
                         "table")
    if len(paths) == 1 and paths[0].is_dir():
        folder = paths[0]
        try:
            paths = sorted((p for p in folder.iterdir()
                            if p.is_file() and not p.name.startswith(".")), key=_natural_key)
        except OSError as exc:
            raise InputError(f"cannot list the folder ({exc.strerror})", path=folder) from None
        if not paths:
            raise InputError("the folder holds no spectra (one text file per frame)",
                             path=folder)
    for p in paths:
        if p.is_dir():
            raise InputError("is a folder: give one folder alone, or frame files",
                             path=p)
        if not p.is_file():
            raise InputError("no such file", path=p)
    try:
        if len(paths) == 1 and _is_wide(paths[0]):
            return _read_wide(paths[0], frame_time_s)
        return _read_frames(paths, live_time_s, real_time_s, monitor, frame_time_s)
    except InputError as exc:
        if exc.path is None:  # the series' own checks: name the input
            where = paths[0] if len(paths) == 1 else paths[0].parent
            raise type(exc)(exc.message, path=where) from None
        raise


def _read_frames(paths, live_time_s, real_time_s, monitor, frame_time_s) -> SpectrumSeries:
    frames = [(p, *_parse_frame(p)) for p in paths]
    ref = frames[0][2]
    for p, _, ch, _ in frames[1:]:
        if ch.shape != ref.shape or not np.array_equal(ch, ref):
            raise FormatError(f"{ch.size} channels where the first frame ({frames[0][0].name}) "
                              f"has {ref.size}: every frame needs the same channels", path=p)
    if all("time" in f[1] for f in frames):
        frames.sort(key=lambda f: f[1]["time"])

    def column(key, override):
        if override is not None:
            try:
                vals = np.broadcast_to(np.asarray(override, dtype=float), (len(frames),))
            except ValueError:
                raise InputError(f"{key}: give one value, or one per frame "
                                 f"({len(frames)})") from None
            return np.array(vals, dtype=float)
        return np.array([f[1].get(key, np.nan) for f in frames], dtype=float)

    live = column("live_time", live_time_s)
    real = column("real_time", real_time_s)
    if np.isnan(live).any():
        k = int(np.flatnonzero(np.isnan(live))[0])
        raise InputError("no live time (header '# live_time: s', or live_time_s=)",
                         path=frames[k][0])
    if np.isnan(real).any():
        # without a real time there is no dead-time correction: say so
        _log.warning("%s: no real time: counts are not corrected for dead time",
                     frames[int(np.flatnonzero(np.isnan(real))[0])][0])
    real = np.where(np.isnan(real), live, real)
    mon = column("monitor", monitor)
    if np.isnan(mon).any():
        k = int(np.flatnonzero(np.isnan(mon))[0])
        raise InputError("no neutron monitor count (header '# monitor: N', or monitor=)",
                         path=frames[k][0])
    times = column("time", None)
    if np.isnan(times).any() and len(frames) > 1:
        names = [f[0] for f in frames]
        if names != sorted(names, key=_natural_key):
            _log.warning("%s: frames without a '# time' header are timed in the order given, "
                         "which is not the order of their names (a shell glob sorts frame_10 "
                         "before frame_2): give a folder or a '# time' header", names[0])
    if np.isnan(times).any():
        if frame_time_s is None:
            step = np.nan_to_num(real, nan=0.0)
            times = np.concatenate([[0.0], np.cumsum(step)[:-1]])
        else:
            times = np.arange(len(frames)) * float(frame_time_s)
    current = column("current_ma_cm2", None)
    return SpectrumSeries(ref, np.vstack([f[3] for f in frames]), live, real, mon, times,
                          tuple(str(f[0]) for f in frames),
                          None if np.isnan(current).all() else current)


def _is_wide(path: Path) -> bool:
    with open(path, encoding="utf-8", errors="replace") as fh:
        head = [next(fh, "") for _ in range(3)]
    first = re.split(r"[\t,;]", head[0].strip())
    return len(first) > 2 and first[0].strip().lower() in {"channel", "ch", "chan"}


def _read_wide(path: Path, frame_time_s) -> SpectrumSeries:
    import io

    import pandas as pd

    text = decode_text(path.read_bytes(), path)
    sep = "\t" if "\t" in text.split("\n")[0] else ";" if ";" in text.split("\n")[0] else ","
    width = len(text.split("\n")[0].split(sep))
    for lineno, line in enumerate(text.split("\n"), 1):
        if line.strip() and len(line.split(sep)) != width:
            raise FormatError(f"{len(line.split(sep))} cells where the header has {width}: "
                              "every row of a wide table needs a cell per frame (a ragged "
                              "table)", path=path, line=lineno)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise FormatError(f"cannot parse the wide table ({' '.join(str(exc).split())[:120]})",
                          path=path) from None
    if df.empty:
        raise FormatError("the wide table has a header but no rows", path=path)
    key = df.columns[0]
    df[key] = df[key].astype(str)
    meta_rows = df[df[key].str.strip().str.lower().isin(_META)]
    data = df.drop(meta_rows.index)
    if data.empty:
        raise FormatError("the wide table has no channel rows", path=path)

    def floats(frame, what):
        try:
            arr = frame.apply(lambda c: c.astype(str).str.strip().str.replace(
                ",", ".", regex=False)).astype(float).to_numpy()
        except (ValueError, TypeError) as exc:
            raise FormatError(f"non-numeric cell in the {what} "
                              f"({' '.join(str(exc).split())[:80]})", path=path) from None
        if not np.all(np.isfinite(arr)):
            raise FormatError(f"empty or non-finite cell in the {what}", path=path)
        return arr

    channels = floats(data[[key]], "channel column")[:, 0]
    if not np.allclose(channels, np.round(channels), rtol=0, atol=1e-6) or np.any(
            np.diff(channels) <= 0):
        raise FormatError("the channel column must hold whole, increasing MCA channel "
                          "numbers, each once (an energy axis, or rows out of order?)",
                          path=path)
    counts = floats(data[df.columns[1:]], "counts").T
    meta = {r[key].strip().lower(): floats(meta_rows.loc[[i], df.columns[1:]],
                                           f"{r[key].strip()} row")[0]
            for i, r in meta_rows.iterrows()}
    n = counts.shape[0]
    if "monitor" not in meta:
        raise InputError("the table has no 'monitor' row (neutron monitor counts per frame)",
                         path=path)
    live = meta.get("live_time", meta.get("real_time"))
    if live is None:
        raise InputError("the table has no 'live_time' row", path=path)
    real = meta.get("real_time", live)
    times = meta.get("time")
    if times is None:
        try:
            times = np.array([float(c) for c in df.columns[1:]])
        except ValueError:
            if frame_time_s is not None:
                times = np.arange(n) * float(frame_time_s)
            else:  # as for frame files: each frame starts where the previous one ended
                _log.warning("%s: no 'time' row and the column headers are not times: "
                             "frames are timed by their cumulated real time", path)
                times = np.concatenate([[0.0], np.cumsum(np.asarray(real, dtype=float))[:-1]])
    return SpectrumSeries(channels, counts, live, real, meta["monitor"], times,
                          tuple(f"{path.name}:{c}" for c in df.columns[1:]),
                          meta.get("current_ma_cm2"))


def write_spectra(series: SpectrumSeries, folder: str | Path, *,
                  prefix: str = "frame") -> list[Path]:
    """Write a series as one two-column text file per frame, with the metadata headers
    :func:`read_spectra` reads (atomically, one file at a time)."""
    from sescreen.atomic import atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    width = len(str(series.n_frames))
    paths = []
    for k in range(series.n_frames):
        head = [f"# live_time: {series.live_time_s[k]:.6g}",
                f"# real_time: {series.real_time_s[k]:.6g}",
                f"# monitor: {series.monitor[k]:.10g}", f"# time: {series.time_s[k]:.6g}"]
        if series.current_ma_cm2 is not None:
            head.append(f"# current_ma_cm2: {series.current_ma_cm2[k]:.6g}")
        rows = [f"{int(c)} {int(n)}" for c, n in zip(series.channels, series.counts[k],
                                                     strict=True)]
        path = folder / f"{prefix}_{k:0{width}d}.txt"
        atomic_write_text(path, "\n".join([*head, "channel counts", *rows]) + "\n")
        paths.append(path)
    return paths
