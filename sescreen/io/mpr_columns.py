"""What the numbers in an EC-Lab ``.mpr`` file mean: data-column IDs, technique IDs and
current-range codes.

The data module of an ``.mpr`` file names its columns by 16-bit IDs only; their names and
binary types are not stored. The table below is the list BioLogic documents for its OLE/COM
interface (names as an ``.mpt`` export writes them), with the binary type each ID has in
real files of EC-Lab 10.x to 11.6x. Types marked ``?`` are the likely type of an ID not yet
seen in a real file: the reader checks every row size against the module's length and
resolves a wrong guess (or an unknown ID) from that, instead of reading garbage.

An ID's low byte names the quantity in several series: 438 (0x1B6) is ``step time`` as 182
(0xB6) is in other readers' tables, and EC-Lab 11.5x/11.6x writes the energies of the counter
electrode as 0x36E-0x374 (878 ``Energy ce``, 880 ``Energy we``, 883/884 ``Energy ce
charge/discharge``, all f8: the row sizes of real 11.61 GCPL and Modulo Bat files add up only
so, and their ``.mpt`` twins agree).

IDs 1, 2, 3, 21, 31 and 65 are bit flags packed into one byte at the position of the first
of them (``mode`` in the two low bits: 1 galvanostatic, 2 potentiostatic, 3 rest).
"""

from __future__ import annotations

__all__ = ["COLUMNS", "FLAGS", "I_RANGE_A", "TECHNIQUES", "Column"]

from typing import NamedTuple


class Column(NamedTuple):
    """One data-column ID: its ``.mpt`` header, numpy type code and whether that type is
    confirmed by real files."""

    name: str
    dtype: str
    verified: bool


# Flag IDs -> (name, bit mask) in the shared flag byte.
FLAGS: dict[int, tuple[str, int]] = {
    1: ("mode", 0x03), 2: ("ox/red", 0x04), 3: ("error", 0x08),
    21: ("control changes", 0x10), 31: ("Ns changes", 0x20), 65: ("counter inc.", 0x80),
}

# "ID type name" per line; type f4/f8 (float), u1/u2/u4 (unsigned); "?" = not yet confirmed.
_TABLE = """
4 f8 time/s
5 f4 control/V/mA
6 f4 Ewe/V
7 f8 dq/mA.h
8 f4 I/mA
9 f4 Ece/V
10 f4? Aux/V
11 f8 <I>/mA
12 f4? log(|<I>/A|)
13 f8 (Q-Qo)/mA.h
14 f4? x
16 f4 Analog IN 1/V
17 f4 Analog IN 2/V
18 f4? Analog IN 3/V
19 f4 control/V
20 f4 control/mA
22 f4? log(|I/A|)
23 f8 dQ/mA.h
24 f8 cycle number
25 f8? DQ/mA.h
26 f4 Rapp/Ohm
27 f4 Ewe-Ece/V
28 f4? control/°C
29 f4? T/°C
30 f4? rotation rate/rpm
32 f4 freq/Hz
33 f4 |Ewe|/V
34 f4 |I|/A
35 f4 Phase(Z)/deg
36 f4 |Z|/Ohm
37 f4 Re(Z)/Ohm
38 f4 -Im(Z)/Ohm
39 u2 I Range
40 f8? Q charge/mA.h
41 f8? Q discharge/mA.h
44 f8? Q anodic/C
45 f8? Q cathodic/C
48 u4? Tech Num
50 f4? E0/V
57 f4? Ece min/V
58 f4? Ece max/V
66 f4? I forward/mA
67 f4? I reverse/mA
68 f4? I delta/µA
69 f4 R/Ohm
70 f4 P/W
71 f4? control/°C
72 f4? T/°C
73 f4? rotation rate/rpm
74 f8 |Energy|/W.h
75 f4 Analog OUT/V
76 f4 <I>/mA
77 f4 <Ewe>/V
78 f4 Cs-2/µF-2
79 f4? E step/V
80 f4? Rp/Ohm
81 f4? Ecorr/V
82 f4? Icorr/mA
96 f4 |Ece|/V
97 f4? |Ice|/A
98 f4 Phase(Zce)/deg
99 f4 |Zce|/Ohm
100 f4 Re(Zce)/Ohm
101 f4 -Im(Zce)/Ohm
102 f4? Cce-2/µF-2
103 f4? Estack/V
104 f4? Istack/A
119 f4? Re(Y)/Ohm-1
120 f4? Im(Y)/Ohm-1
121 f4? |Y|/Ohm-1
122 f4? Phase(Y)/deg
123 f8 Energy charge/W.h
124 f8 Energy discharge/W.h
125 f8 Capacitance charge/µF
126 f8 Capacitance discharge/µF
131 u2 Ns
132 f4? dI/dt/mA/s
163 f4 |Estack|/V
167 f4? Phase(I)/rad
168 f4 Rcmp/Ohm
169 f4 Cs/µF
170 f4? sin ampl/V
171 f4? Conductivity/S.cm-1
172 f4 Cp/µF
173 f4 Cp-2/µF-2
174 f4 <Ewe>/V
175 f8? Efficiency/%
422 f4 Phase(Zstack)/deg
423 f4 |Zstack|/Ohm
424 f4 Re(Zstack)/Ohm
425 f4 -Im(Zstack)/Ohm
426 f4 <Estack>/V
427 f4? <Istack>/mA
430 f4 Phase(Zwe-ce)/deg
431 f4 |Zwe-ce|/Ohm
432 f4 Re(Zwe-ce)/Ohm
433 f4 -Im(Zwe-ce)/Ohm
434 f4 (Q-Qo)/C
435 f4 dQ/C
436 f4? Ece dc/V
437 f8? cycle time/s
438 f8 step time/s
439 f8? charge time/s
440 f8? discharge time/s
441 f4 <Ece>/V
443 f8? Capacity/mA.h
451 u4? cycle number
460 f8? <time>/s
462 f4 Temperature/°C
467 f8 Q charge/discharge/mA.h
468 u4 half cycle
469 u4 z cycle
470 f4? It/mA
471 f4 <Ece>/V
473 f4 THD Ewe/%
474 f4 THD I/%
475 f4 THD Ece/%
476 f4 NSD Ewe/%
477 f4 NSD I/%
478 f4 NSD Ece/%
479 f4 NSR Ewe/%
480 f4 NSR I/%
481 f4 NSR Ece/%
504 f4? Rac/Ohm
505 f4 Rdc/Ohm
509 u1 Acir/Dcir Control
878 f8? Energy ce/W.h
880 f8 Energy we/W.h
883 f8 Energy ce charge/W.h
884 f8 Energy ce discharge/W.h
"""


def _build() -> dict[int, Column]:
    table: dict[int, Column] = {}
    for line in _TABLE.strip().splitlines():
        ident, kind, name = line.split(" ", 2)
        table[int(ident)] = Column(name, kind.rstrip("?"), not kind.endswith("?"))
    # Regular series of the multi-electrode and harmonic columns.
    for k in range(1, 31):
        for base, fmt in ((211, "E{}/V"), (241, "|E{}|/V"), (271, "Phase(Z{})/deg"),
                          (301, "|Z{}|/Ohm"), (331, "Re(Z{})/Ohm"), (361, "-Im(Z{})/Ohm"),
                          (391, "<E{}>/V")):
            table.setdefault(base + k - 1, Column(fmt.format(k), "f4", k <= 2))
    for h in range(2, 8):
        for base, fmt in ((486, "|Ewe h{}|/V"), (492, "|I h{}|/A"), (498, "|Ece h{}|/V")):
            table[base + h - 2] = Column(fmt.format(h), "f4", base != 498)
    return table


COLUMNS: dict[int, Column] = _build()

# Technique byte of the settings module -> EC-Lab's name for it.
TECHNIQUES: dict[int, str] = {
    0x04: "Galvanostatic Cycling with Potential Limitation",
    0x06: "Cyclic Voltammetry",
    0x0B: "Open Circuit Voltage",
    0x16: "Modular Potentio",
    0x18: "Chronoamperometry / Chronocoulometry",
    0x19: "Chronopotentiometry",
    0x1C: "Wait",
    0x1D: "Potentio Electrochemical Impedance Spectroscopy",
    0x1E: "Galvano Electrochemical Impedance Spectroscopy",
    0x30: "Cyclic Voltammetry",
    0x32: "IR compensation (PEIS)",
    0x33: "Cyclic Voltammetry Advanced",
    0x6C: "Linear Sweep Voltammetry",
    0x75: "Constant Voltage",
    0x76: "Constant Current",
    0x77: "Galvanostatic Cycling with Potential Limitation",
    0x7F: "Modulo Bat",
    0x88: "Battery Capacity Determination",
}


def _ranges() -> dict[int, float]:
    """Current-range code (``I Range`` column) -> full-scale current, A."""
    spec = ("1:10m 2:100u 3:1u 4:2 5:1 6:5 7:10 8:20 9:1 10:100m 11:10m 12:1m 13:100u "
            "14:10u 16:100m 17:10m 18:1m 19:100u 20:100u 21:10u 22:1u 23:100n 24:10n 25:1n "
            "26:80 27:4 29:4 30:100u 31:10u 32:1u 33:100n 34:10n 35:1n 36:8 37:1 38:100m "
            "39:10m 40:1m 41:100u 42:10u 43:1u 44:100n 45:10n 46:50 47:5 48:100 49:150 50:1 "
            "51:4 52:100u 53:10u 54:1u 55:100n 56:10n 57:1n 58:100p 59:10p 60:1p 61:5 62:10 "
            "63:20 64:40 65:10 66:2 67:8 68:12 69:16 70:20 112:10 113:1 114:100m 115:10m "
            "116:1m 117:100u 118:10u 119:20 120:40 121:80 124:300m 125:3 126:30")
    exponent = {"m": "e-3", "u": "e-6", "n": "e-9", "p": "e-12"}  # exact decimal values
    out = {}
    for item in spec.split():
        code, value = item.split(":")
        out[int(code)] = float(value.rstrip("munp") + exponent.get(value[-1], ""))
    return out


# Codes 15 (Auto), 28 (PAC), 122 (Auto Limited) and 123 (Unset) name no fixed range.
I_RANGE_A: dict[int, float] = _ranges()
