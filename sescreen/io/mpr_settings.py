"""The settings module (``VMP Set``) of an EC-Lab ``.mpr`` file.

Offsets in the module's data (EC-Lab 10.x to 11.6x):

========  ======================================================================
0x0000    technique ID (u1), see :data:`sescreen.io.mpr_columns.TECHNIQUES`
0x0211    electrode surface area (f4), in the unit coded at 0x0250
0x0250    area unit code (u1): 2 = cm^2, 3 = mm^2 (the area as the user typed it)
0x0251    characteristic-mass unit code (u1): 1 = g, 2 = mg
varies    technique parameters: ``Ns`` (u2) sequences of ``n`` (u2) parameters, at one of
          0x0572, 0x1845, 0x1846, 0x1847 depending on the version and the technique
========  ======================================================================

Chronoamperometry's parameters start with ``Ei`` (f4, V) and the reference it is given
against (u1 up to EC-Lab 11.4x, u4 from 11.50: 0 Eoc, 1 Ectrl, 2 Emeas, 3 Ei, 4 Ref),
in records of 64 (67) bytes per sequence.
"""

from __future__ import annotations

import math
import struct

__all__ = ["decode_settings"]

_AREA_UNITS_CM2 = {2: ("cm2", 1.0), 3: ("mm2", 0.01)}
_PARAM_OFFSETS = (0x0572, 0x1845, 0x1846, 0x1847)
_REFERENCES = {0: "Eoc", 1: "Ectrl", 2: "Emeas", 3: "Ei", 4: "Ref"}
_CA_ID, _CA_NPARAMS = 0x18, 25


def decode_settings(d: bytes, *, new_layout: bool, technique_names: dict[int, str],
                    warnings: list[str]) -> dict:
    """What the analysis needs from the settings module.

    Parameters
    ----------
    d : bytes
        The module's data.
    new_layout : bool
        The module has the EC-Lab >= 11.50 header (wider parameter fields).
    technique_names : dict
        Technique ID -> EC-Lab name.
    warnings : list of str
        Appended to (an area in a unit sescreen does not know, an unknown technique ID).

    Returns
    -------
    dict
        ``technique_id``, ``technique_name``, ``area_cm2`` (or None), ``area_as_stored``,
        ``applied_voltage_v`` and ``applied_voltage_ref`` (chronoamperometry), ``Ns``,
        ``n_params`` and, for chronoamperometry, ``Ei (V)`` / ``Ei (V) vs.`` per sequence.
    """
    out: dict = {}
    if not d:
        return out
    tid = d[0]
    out["technique_id"] = tid
    out["technique_name"] = technique_names.get(tid)
    if out["technique_name"] is None:
        warnings.append(f"EC-Lab technique ID 0x{tid:02X} is not known to sescreen; give the "
                        "technique (technique=, CLI --technique) if the analysis needs it")
    if len(d) >= 0x0252:
        value = struct.unpack_from("<f", d, 0x0211)[0]
        code = d[0x0250]
        unit = _AREA_UNITS_CM2.get(code)
        if math.isfinite(value) and value > 0:
            out["area_as_stored"] = f"{value:.6g} {unit[0] if unit else f'(unit code {code})'}"
            if unit is None:
                warnings.append(f"electrode area {value:.6g} is stored with unit code {code}, "
                                "which sescreen does not know: ignored; give the area "
                                "(area_cm2=, CLI --area)")
            else:
                out["area_cm2"] = float(f"{float(f'{value:.7g}') * unit[1]:.7g}")
    found = _parameters(d)
    if found is None:
        return out
    offset, ns, n_params = found
    out["Ns"], out["n_params"] = ns, n_params
    if tid == _CA_ID and n_params == _CA_NPARAMS:
        vs_width, size = (4, 67) if new_layout else (1, 64)
        eis, refs = [], []
        for k in range(ns):
            at = offset + 4 + k * size
            if at + 4 + vs_width > len(d):
                break
            ei = struct.unpack_from("<f", d, at)[0]
            vs = int.from_bytes(d[at + 4:at + 4 + vs_width], "little")
            if not (math.isfinite(ei) and abs(ei) < 100 and vs in _REFERENCES):
                break
            eis.append(round(ei, 7))
            refs.append(_REFERENCES[vs])
        if eis:
            out["Ei (V)"], out["Ei (V) vs."] = eis, refs
            out["applied_voltage_v"], out["applied_voltage_ref"] = eis[0], refs[0]
    return out


def _parameters(d: bytes) -> tuple[int, int, int] | None:
    """(offset, Ns, n_params) of the technique parameters, or None when none fits."""
    for off in _PARAM_OFFSETS:
        if off + 8 > len(d):
            continue
        ns, n_params = struct.unpack_from("<HH", d, off)
        if 1 <= ns <= 1000 and 1 <= n_params <= 300:
            return off, ns, n_params
    return None
