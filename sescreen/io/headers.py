"""Column headers: a header's name and unit, the canonical quantity it names, and the
user's explicit column choices (:class:`ColumnSpec`) for bare or absent headers.

``time/s``, ``<I>/uA``, ``Time (s)``, ``Current [nA]`` and ``WE(1).Current`` all split into
a name, matched against :data:`ALIASES`, and a unit (:func:`sescreen.units.column_unit`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from sescreen.units import column_unit

__all__ = ["ALIASES", "FREE_TEXT", "ColumnSpec", "did_you_mean", "header_key", "known_unit",
           "mangled_unit", "split_header"]

#: Free-text column names the small input tables (candidates, sigma(T)) read and ignore.
FREE_TEXT = ("notes", "note", "comment", "comments", "reference", "doi", "id")

# Lower-case header names (without unit, "<>" and surrounding spaces) for each canonical
# quantity, with the dimension the unit must have.
ALIASES: dict[str, tuple[str, set[str]]] = {
    "time_s": ("time", {"time", "t", "elapsed time", "time elapsed", "elapsed", "test time",
                        "time_s", "total time", "relative time", "run time"}),
    "current_a": ("current", {"i", "current", "im", "idc", "cell current", "i_cell",
                              "current_a", "iwe", "i we"}),
    "voltage_v": ("voltage", {"ewe", "e", "v", "vf", "voltage", "potential", "ecell", "u",
                              "cell potential", "cell voltage", "e_we", "voltage_v", "ewe-ece",
                              "working electrode potential"}),
    "control_v": ("voltage", {"control", "sig", "setpoint", "set point", "control_v"}),
    "control_a": ("current", {"control", "sig", "setpoint", "set point", "control_a"}),
    "temperature_k": ("temperature", {"temperature", "temp", "t", "temperature_k",
                                      "cell temperature"}),
    "cycle": ("dimensionless", {"cycle number", "cycle", "cycle index", "cycle_number"}),
    "step": ("dimensionless", {"ns", "step", "step index", "step number", "sequence"}),
}
_MAX_UNIT_LEN = 32  # longest unit tried after a slash ("mS/cm", "mA.h", "V/mA")
# No "\s*" between the name and the bracket (the name is stripped instead): with it, a
# header of many spaces ending in ")" backtracks quadratically.
_BRACKET = re.compile(r"^(?P<name>.*?)[\(\[](?P<unit>[^\(\)\[\]]*)[\)\]]$")


def split_header(header: str) -> tuple[str, str | None]:
    """Split a column header into its name and unit.

    Handles ``time/s``, ``<I>/mA``, ``Q charge/discharge/mA.h`` (the unit follows the last
    slash), ``Time (s)``, ``Current [nA]`` and ``t [s]``. A header without a unit gives
    ``(header, None)``.
    """
    h = header.strip()
    if h.startswith("<") and h.endswith(">") and "/" in h:  # "<Ewe/V>" is "<Ewe>/V"
        name, _, unit = h[1:-1].rpartition("/")
        if name and known_unit(unit):
            return f"<{name.strip()}>", unit.strip()
    m = _BRACKET.match(h)
    if m and m["name"].strip() and (known_unit(m["unit"]) or re.search(r"\s[\(\[]", h)):
        return m["name"].strip(), m["unit"].strip()
    # name/unit: the leftmost slash whose right side is a unit ("|Conductivity|/mS/cm"),
    # else the last slash ("Q charge/discharge/mA.h", "ox/red" has no unit). Units are
    # short: only the slashes near the end are tried (a header of many slashes is garbage).
    found = None
    start = len(h)
    while (slash := h.rfind("/", 0, start)) > 0 and len(h) - slash <= _MAX_UNIT_LEN:
        name, unit = h[:slash].strip(), h[slash + 1:].strip()
        if name and known_unit(unit):
            found = (name, unit)
        start = slash
    return found or (h, None)


def known_unit(unit: str) -> bool:
    """Whether ``unit`` is a unit sescreen converts (of any dimension), or one whose
    character an encoding lost (U+FFFD or ``?``: ``µA``, ``°C``) that would be: the header
    still splits into its name and that unit, which the column's own rules then judge
    (:func:`mangled_unit`)."""
    return column_unit(unit)[0] != "unknown" or mangled_unit(unit)


def mangled_unit(unit: str) -> bool:
    """Whether ``unit`` holds a character lost to an encoding (U+FFFD, ``?``) in place of
    one that made it a unit (``\ufffdA`` from ``µA``, ``\ufffdC`` from ``°C`` or ``µC``)."""
    if "\ufffd" not in unit and "?" not in unit:
        return False
    return any(column_unit(re.sub("\ufffd+|\\?", sub, unit))[0] != "unknown"
               for sub in ("u", "\u00b0"))


# Channel prefixes of multi-channel instruments: Autolab NOVA "WE(1).Current",
# "WE2.Potential", "Ch1 Current", "Channel 2 Voltage".
_CHANNEL_PREFIX = re.compile(r"^(?:we\(\d+\)|we\d*|ch(?:annel)?\s*\d+)[._ ]+")


def header_key(name: str) -> str:
    """The lower-case name :data:`ALIASES` is matched against: no ``<>``, ``_`` as a space,
    single spaces, no channel prefix (``WE(1).``, ``Ch2 ``)."""
    key = " ".join(name.strip().strip("<>").lower().replace("_", " ").split())
    return _CHANNEL_PREFIX.sub("", key).strip("<> ")


@dataclass(frozen=True)
class ColumnSpec:
    """Explicit column choices that override header recognition (for bare headers).

    Attributes
    ----------
    time, current, voltage : str or int, optional
        Header name (as in the file) or 0-based position of that column.
    time_unit, current_unit, voltage_unit : str, optional
        Unit of that column when the file does not state one (or states one that is no
        unit of the quantity, e.g. ``Current (V)``).
    stated_units : {"refuse", "keep"}
        A unit option that disagrees with a unit the file states for that column:
        ``"refuse"`` raises an InputError naming the column; ``"keep"`` keeps the file's
        unit with a warning (an option given for many files at once, ``sescreen batch``).
    """

    time: str | int | None = None
    current: str | int | None = None
    voltage: str | int | None = None
    time_unit: str | None = None
    current_unit: str | None = None
    voltage_unit: str | None = None
    stated_units: str = "refuse"


def did_you_mean(key: str, names: dict[str, str]) -> str:
    """``"did you mean 'x'? "`` for the accepted name nearest to ``key`` (difflib ratio at
    least 0.6), or ``""``; ``names`` maps the normalized names to the headers to suggest."""
    near = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
    return f"did you mean {names[near[0]]!r}? " if near else ""
