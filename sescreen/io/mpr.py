"""EC-Lab binary ``.mpr`` files: sescreen's own reader (MIT), written from the format's facts.

Layout (all integers little-endian):

- a 52-byte signature, ``BIO-LOGIC MODULAR FILE`` + 0x1A, padded with spaces, 4 zero bytes;
- modules, each ``MODULE`` + a header + ``length`` bytes of data. The header is
  ``short name`` (10 bytes), ``long name`` (25), then ``length`` (u4), ``version`` (u4),
  ``date`` (8 ASCII) up to EC-Lab 11.4x; from EC-Lab 11.50 the length is preceded by
  0xFFFFFFFF and followed by the version and a second version number (u4 each).
- ``VMP Set`` (settings: technique byte at 0, electrode area f4 at 0x211 with its unit code at
  0x250, technique parameters as sequences), ``VMP data`` (the table), ``VMP LOG`` (software
  version at 0x3B7, start of acquisition as an OLE date), ``VMP loop`` (loop start indexes),
  ``VMP ExtDev`` (external sensors).

The data module holds the point count (u4 at 0), the column count and the column IDs (u2
each; from EC-Lab 11.50 the count is a u2 and the IDs start at 6), then the points as packed
records from offset 405 (module version 2), 406 (version 3) or 1007 (EC-Lab >= 11.50). The
record layout follows from the IDs (:mod:`sescreen.io.mpr_columns`); every layout is checked
against the module length, which also settles the width of an ID sescreen does not know.
"""

from __future__ import annotations

import datetime as _dt
import struct
from pathlib import Path

import numpy as np
import pandas as pd

from sescreen.errors import FormatError
from sescreen.io.mpr_columns import COLUMNS, FLAGS, TECHNIQUES, Column
from sescreen.io.mpr_settings import decode_settings

__all__ = ["MPR_MAGIC", "MprFile", "parse_mpr"]

MPR_MAGIC = b"BIO-LOGIC MODULAR FILE"
_SIGNATURE_LEN = 52
_WIDTH_TYPES = {1: "u1", 2: "u2", 4: "f4", 8: "f8"}
_KNOWN_MODULES = {"VMP Set", "VMP data", "VMP LOG", "VMP loop", "VMP ExtDev"}


class Module:
    """One module of the file: its names, version, header kind and data bytes."""

    __slots__ = ("data", "long_name", "name", "new_header", "offset", "version")

    def __init__(self, name, long_name, version, new_header, offset, data):
        self.name, self.long_name, self.version = name, long_name, version
        self.new_header, self.offset, self.data = new_header, offset, data


class MprFile:
    """The decoded content of an ``.mpr`` file.

    Attributes
    ----------
    columns : list of str
        Column headers as an ``.mpt`` export names them.
    table : pandas.DataFrame
        The data points, one column per header (flags unpacked).
    column_ids : list of int
        The data module's column IDs, in file order.
    settings : dict
        Technique, area, set-points decoded from ``VMP Set`` (see
        :func:`sescreen.io.mpr_settings.decode_settings`).
    software_version, start_time : str or None
        From ``VMP LOG``.
    loops : list of int
        Indexes of the points where each loop starts (``VMP loop``).
    warnings : list of str
    """

    def __init__(self):
        self.columns: list[str] = []
        self.table = pd.DataFrame()
        self.column_ids: list[int] = []
        self.settings: dict = {}
        self.software_version: str | None = None
        self.start_time: str | None = None
        self.loops: list[int] = []
        self.warnings: list[str] = []


def parse_mpr(raw: bytes, path: Path) -> MprFile:
    """Decode the bytes of an ``.mpr`` file.

    Raises
    ------
    FormatError
        A damaged or truncated file, or a data layout that does not add up; the message
        names the module, the byte offset and what to do.
    """
    if not raw.startswith(MPR_MAGIC):
        raise FormatError("not an EC-Lab binary file (no 'BIO-LOGIC MODULAR FILE' signature);"
                          " if it is a text export, rename it to .mpt", path=path)
    out = MprFile()
    modules = _modules(raw, path)
    names = [m.name for m in modules]
    if "VMP data" not in names:
        raise FormatError(f"no data module in the file (modules: {', '.join(names) or 'none'});"
                          " the file is incomplete: export it from EC-Lab as .mpt", path=path)
    for mod in modules:
        if mod.name not in _KNOWN_MODULES:
            out.warnings.append(f"module {mod.name!r} ({mod.long_name}) is not known to "
                                "sescreen: skipped")
    settings = next((m for m in modules if m.name == "VMP Set"), None)
    if settings is not None:
        out.settings = decode_settings(settings.data, new_layout=settings.new_header,
                                       technique_names=TECHNIQUES, warnings=out.warnings)
    log = next((m for m in modules if m.name == "VMP LOG"), None)
    if log is not None:
        out.software_version, out.start_time = _log(log.data)
    loop = next((m for m in modules if m.name == "VMP loop"), None)
    if loop is not None and len(loop.data) >= 4:
        n = min(struct.unpack_from("<I", loop.data, 0)[0], (len(loop.data) - 4) // 4)
        out.loops = np.frombuffer(loop.data, "<u4", n, 4).astype(int).tolist()
    data = [m for m in modules if m.name == "VMP data"]
    if len(data) > 1:  # review 4, D16: the first was read, the others dropped silently
        at = ", ".join(str(m.offset) for m in data)
        raise FormatError(f"{len(data)} data modules (at bytes {at}), where EC-Lab writes one: "
                          "sescreen cannot tell which holds the record; export the file from "
                          "EC-Lab as .mpt and read that", path=path)
    out.column_ids, out.columns, out.table = _data(data[0], path, out.warnings)
    return out


def _modules(raw: bytes, path: Path) -> list[Module]:
    modules = []
    pos = _SIGNATURE_LEN
    while pos < len(raw):
        if raw[pos:pos + 6] != b"MODULE":
            raise FormatError(f"no module starts at byte {pos} (found {raw[pos:pos + 6]!r}): "
                              "the file is damaged; export it from EC-Lab as .mpt", path=path)
        head = pos + 6
        if len(raw) < head + 51:
            raise FormatError(f"the file ends inside a module header at byte {pos}: it is cut "
                              "short (copied while EC-Lab was writing?)", path=path)
        name = raw[head:head + 10].decode("latin-1").strip(" \x00")
        long_name = raw[head + 10:head + 35].decode("latin-1").strip(" \x00")
        new_header = raw[head + 35:head + 39] == b"\xff\xff\xff\xff"
        if new_header:
            if len(raw) < head + 59:
                raise FormatError(f"the file ends inside the header of module {name!r}: it is "
                                  "cut short", path=path)
            length, version, version2 = struct.unpack_from("<III", raw, head + 39)
            version = max(version, version2)
            start = head + 59
        else:
            length, version = struct.unpack_from("<II", raw, head + 35)
            start = head + 51
        if start + length > len(raw):
            raise FormatError(
                f"module {name!r} announces {length} bytes but the file ends after "
                f"{len(raw) - start}: the file is cut short (copied while EC-Lab was "
                "writing?); copy it again after the run, or export it as .mpt", path=path)
        modules.append(Module(name, long_name, version, new_header, pos,
                              raw[start:start + length]))
        pos = start + length
    return modules


def _layouts(d: bytes, new_header: bool, version: int) -> list[tuple[int, int, int, int]]:
    """Candidate (count width, IDs offset, ID width, data offset) layouts, likeliest first."""
    modern = (2, 6, 2, 0x3EF)
    v2, v3 = (1, 5, 2, 0x195), (1, 5, 2, 0x196)
    legacy = (1, 5, 1, 100)
    if new_header or version >= 10:
        order = [modern, v3, v2]
    elif version == 2:
        order = [v2, v3, modern]
    elif version == 3:
        order = [v3, v2, modern]
    else:
        order = [legacy, v2, v3, modern]
    return order


def _data(mod: Module, path: Path, warnings: list[str]):
    d = mod.data
    if len(d) < 6:
        raise FormatError(f"the data module holds only {len(d)} bytes: the file is damaged",
                          path=path)
    n = struct.unpack_from("<I", d, 0)[0]
    problems = []
    for count_w, ids_at, id_w, start in _layouts(d, mod.new_header, mod.version):
        ncol = d[4] if count_w == 1 else struct.unpack_from("<H", d, 4)[0]
        if ncol == 0 or ids_at + ncol * id_w > min(start, len(d)) or start > len(d):
            continue
        ids = np.frombuffer(d, "<u2" if id_w == 2 else "u1", ncol, ids_at).astype(int).tolist()
        if any(i == 0 for i in ids):
            continue
        layout = _record(ids, n, len(d) - start)
        if isinstance(layout, str):
            problems.append(layout)
            continue
        dtype, names, flags, notes = layout
        records = np.frombuffer(d, dtype, n, start)
        if "_skipped" in (dtype.names or ()) or any(w.startswith("the row size (") for w in notes):
            t = records["time/s"].astype(float)
            if n and not (np.isfinite(t).all() and (np.diff(t) >= 0).all()):
                problems.append(f"the columns before the unknown IDs do not decode to a time "
                                f"that runs forward ({notes[-1]})")
                continue
        warnings.extend(notes)
        return ids, *_frame(records, names, flags)
    detail = problems[0] if problems else "no column list could be read"
    raise FormatError(f"the data module (version {mod.version}, {n} points, {len(d)} bytes) "
                      f"does not decode: {detail}; export the file from EC-Lab as .mpt and read "
                      "that", path=path)


def _record(ids: list[int], n: int, nbytes: int):
    """The record dtype for ``ids``, checked against ``nbytes`` of data for ``n`` points.

    Returns ``(dtype, names, flags, warnings)``, or a string saying why it does not fit.
    """
    fields: list[tuple[str, int, Column | None, int]] = []  # (name, width, column, id)
    flags: dict[str, int] = {}
    for ident in ids:
        if ident in FLAGS:
            if not flags:
                fields.append(("flags", 1, None, ident))
            name, mask = FLAGS[ident]
            flags[name] = mask
            continue
        col = COLUMNS.get(ident)
        width = int(col.dtype[1]) if col else 4
        fields.append((col.name if col else f"column ID {ident}", width, col, ident))
    notes, explained = [], set()
    if n > 0:
        if nbytes % n:
            return f"{nbytes} bytes of data do not divide into {n} points"
        size = nbytes // n
        total = sum(f[1] for f in fields)
        if total != size:
            unsure = [k for k, f in enumerate(fields)
                      if f[3] not in FLAGS and (f[2] is None or not f[2].verified)]
            rest = size - (total - sum(fields[k][1] for k in unsure))
            if len(unsure) != 1 or rest not in _WIDTH_TYPES:
                ids_text = ", ".join(str(f[3]) for f in fields)
                problem = (f"{size}-byte points but the column IDs ({ids_text}) add up to "
                           f"{total} bytes")
                return _prefix_record(fields, flags, unsure, size, problem)
            k = unsure[0]
            name, _, col, ident = fields[k]
            fields[k] = (name, rest, None, ident)
            what = "not known to sescreen" if col is None else "of an unconfirmed width"
            notes.append(f"column ID {ident} ({name}) is {what}: read as a {rest}-byte "
                         f"{'number' if rest >= 4 else 'integer'}, the width the row size "
                         "leaves for it")
            explained.add(ident)
    for name, _, col, ident in fields:
        if col is None and ident not in FLAGS and ident not in explained:
            notes.append(f"column ID {ident} is not known to sescreen: kept as {name!r}")
    names, seen = [], set()
    kinds = []
    for name, width, col, ident in fields:
        kind = col.dtype if col is not None and int(col.dtype[1]) == width else _WIDTH_TYPES[width]
        unique = name if name not in seen else f"{name} (ID {ident})"
        seen.add(unique)
        names.append(unique)
        kinds.append("<" + kind if kind[1] != "1" else kind)
    return np.dtype(list(zip(names, kinds, strict=True))), names, flags, notes


_PREFIX_NEEDS = frozenset({4})  # time/s: without it the columns before are no record
_CURRENT_IDS = frozenset({7, 8, 11, 76})  # dq/mA.h, I/mA, <I>/mA (f8), <I>/mA (f4)


def _prefix_record(fields, flags, unsure, size, problem):
    """The layout of the columns before the first one of unknown or unconfirmed width, the
    rest of each point skipped, when the row size cannot settle those widths (two or more
    unknown IDs of a newer EC-Lab, review readers-F1b).

    The offsets of the leading columns do not depend on the columns after them, so their
    values are exact; the dropped columns are named in a warning. Returns ``problem`` (the
    refusal) when no time column precedes the first unsure one, or the leading columns
    already exceed the point size.
    """
    first = unsure[0] if unsure else len(fields)
    lead = fields[:first]
    width = sum(f[1] for f in lead)
    lead_ids, all_ids = {f[3] for f in lead}, {f[3] for f in fields}
    if not _PREFIX_NEEDS <= lead_ids or width > size or (
            all_ids & _CURRENT_IDS and not lead_ids & _CURRENT_IDS):
        return problem
    dropped = fields[first:]
    names, kinds, seen = [], [], set()
    for name, w, col, ident in lead:
        kind = col.dtype if col is not None else _WIDTH_TYPES[w]
        unique = name if name not in seen else f"{name} (ID {ident})"
        seen.add(unique)
        names.append(unique)
        kinds.append("<" + kind if kind[1] != "1" else kind)
    items = list(zip(names, kinds, strict=True))
    if size > width:
        items.append(("_skipped", f"V{size - width}"))
    kept_flags = flags if any(f[3] in FLAGS for f in lead) else {}
    listing = ", ".join(f"ID {f[3]}" + (f" {f[0]}" if f[2] is not None else "")
                        for f in dropped if f[3] not in FLAGS)
    note = (f"the row size ({size} bytes) does not settle the widths of the column IDs "
            f"sescreen does not know: the columns from the first of them on are dropped "
            f"({listing}); the {len(names)} columns before them are read as stored")
    return np.dtype(items), names, kept_flags, [note]


def _frame(records: np.ndarray, names: list[str], flags: dict[str, int]):
    columns: dict[str, np.ndarray] = {}
    for name in names:
        values = records[name]
        if name == "flags" and flags:
            for flag, mask in flags.items():
                shift = (mask & -mask).bit_length() - 1
                columns[flag] = ((values & mask) >> shift).astype(np.int64)
        elif values.dtype.kind == "f":
            columns[name] = values.astype(np.float64)
        else:
            columns[name] = values.astype(np.int64)
    table = pd.DataFrame(columns)
    return list(table.columns), table


_OLE_EPOCH = _dt.datetime(1899, 12, 30)
# Offsets of the acquisition start (OLE date, days since 1899-12-30) seen in the log module.
_OLE_OFFSETS = (0x249, 0x1D1, 0x1D5, 0x1D9)


def _log(d: bytes) -> tuple[str | None, str | None]:
    version = None
    if len(d) > 0x3B7:
        n = d[0x3B7]
        text = d[0x3B8:0x3B8 + n].decode("latin-1", "replace").strip("\x00 ")
        if text and all(c.isdigit() or c == "." for c in text):
            version = f"EC-Lab {text}"
    start = None
    for off in _OLE_OFFSETS:
        if off + 8 <= len(d):
            days = struct.unpack_from("<d", d, off)[0]
            if np.isfinite(days) and 29000 < days < 80000:  # 1979 .. 2119
                stamp = _OLE_EPOCH + _dt.timedelta(milliseconds=round(days * 86400e3))
                start = stamp.isoformat()
                break
    return version, start
