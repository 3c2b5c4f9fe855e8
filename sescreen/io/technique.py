"""What a record is, and why sescreen says so.

The technique comes from what the file states: the technique name of the header or the
settings, and for EC-Lab/BT-Lab Modulo Bat records each step's own control type
(``ctrl_type``: Rest, CC, CV, ...). Only when nothing is stated is it inferred, and only from
unambiguous evidence: a frequency column is an impedance spectrum; EC-Lab's ``mode`` column
says whether the cell was under current control; a nonzero programmed voltage (``control/V``)
held constant while the current decays is a constant-voltage hold. A flat measured voltage is
no evidence of a hold (a current-controlled record at 0 A shows one too), so it is never used.
Every classification carries its reason (:attr:`Measurement.technique_reason`), which
``sescreen inspect`` prints.
"""

from __future__ import annotations

import itertools

import numpy as np

from sescreen.io.headers import split_header
from sescreen.io.measurement import Measurement, Technique

__all__ = ["classify"]

# Modulo Bat / BT-Lab control types -> Technique (None: no data of its own, e.g. Loop).
_CONTROL_TYPES = {"rest": Technique.OPEN_CIRCUIT, "cc": Technique.CONSTANT_CURRENT,
                  "cv": Technique.CONSTANT_VOLTAGE, "ci": Technique.CONSTANT_CURRENT,
                  "peis": Technique.IMPEDANCE, "geis": Technique.IMPEDANCE,
                  "cs": Technique.SWEEP, "cr": Technique.UNKNOWN, "cp": Technique.UNKNOWN,
                  "cload": Technique.UNKNOWN, "loop": None, "trigger": None}
_VOLT_UNITS = {"V": 1.0, "mV": 1e-3, "uV": 1e-6, "\u00b5V": 1e-6}
_MODE_CC, _MODE_CV, _MODE_REST = 1, 2, 3


def classify(m: Measurement) -> None:
    """Set ``technique``, ``technique_inferred``, ``technique_reason`` and, for Modulo Bat
    records, ``step_techniques`` / ``step_voltages_v`` of ``m`` in place."""
    if m.technique is not Technique.UNKNOWN:
        if not m.technique_reason:
            m.technique_reason = (f"the file names it ({m.technique_name!r})" if
                                  m.technique_name else "the file states it")
        return
    if _modulo_bat(m):
        return
    _infer(m)


def _as_list(value) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _modulo_bat(m: Measurement) -> bool:
    controls = m.settings.get("ctrl_type")
    if controls is None:
        return _steps_from_data(m)
    controls = _as_list(controls)
    values = _as_list(m.settings.get("ctrl1_val", [""] * len(controls)))
    units = _as_list(m.settings.get("ctrl1_val_unit", [""] * len(controls)))
    refs = _as_list(m.settings.get("ctrl1_val_vs", [""] * len(controls)))
    for k, ctrl in enumerate(controls):
        tech = _CONTROL_TYPES.get(ctrl.strip().lower(), Technique.UNKNOWN)
        if tech is None:
            continue
        m.step_techniques[k] = tech
        if tech is Technique.CONSTANT_VOLTAGE and k < len(values) and k < len(units):
            try:
                volts = float(values[k].replace(",", ".")) * _VOLT_UNITS[units[k].strip()]
            except (ValueError, KeyError):
                continue
            m.step_voltages_v[k] = volts
            if k < len(refs) and refs[k].strip():
                m.step_references[k] = refs[k].strip()
    present = sorted(int(s) for s in np.unique(m.data["step"])) if "step" in m.data else \
        sorted(m.step_techniques)
    seen = {k: m.step_techniques[k] for k in present if k in m.step_techniques}
    kinds = {t for t in seen.values() if t is not Technique.OPEN_CIRCUIT} or set(seen.values())
    listing = ", ".join(f"Ns {k} {controls[k]}" for k in seen)
    name = m.technique_name or "Modulo Bat"
    if len(kinds) == 1:
        m.technique = kinds.pop()
        m.technique_reason = f"{name} steps in the data: {listing}"
        if m.technique is Technique.CONSTANT_VOLTAGE and m.applied_voltage_v is None:
            first = next(k for k, t in seen.items() if t is Technique.CONSTANT_VOLTAGE)
            m.applied_voltage_v = m.step_voltages_v.get(first)
            m.applied_voltage_ref = m.step_references.get(first)
    else:
        m.technique_reason = (f"{name} with steps of several kinds ({listing or 'none recorded'})"
                              "; split it with segments() (CLI: inspect --segments)")
    return True


_MULTI_STEP = ("modulo bat", "modular potentio", "modular galvano")


def _steps_from_data(m: Measurement) -> bool:
    """Each step's technique of a multi-step EC-Lab record that does not list its steps'
    control types (an ``.mpr``: the settings module's step table is not decoded), from the
    rows of that step: a nonzero frequency is an impedance step, ``mode`` 3 a rest, 1
    current control, 2 potential control (a hold when ``control_v`` is constant within 1 mV,
    else a sweep). The record as a whole is then classified as :func:`_modulo_bat` does from
    the listed types. Review readers-F4: a Modulo Bat ``.mpr`` with one impedance step was
    called an impedance spectrum as a whole (its ``.mpt`` twin: several kinds), so none of
    its other steps could be analysed.

    Returns False (nothing decided) for other records or without ``step`` and ``mode``.
    """
    name = (m.technique_name or "").lower()
    df = m.data
    if not any(k in name for k in _MULTI_STEP) or "step" not in df or "mode" not in df \
            or not len(df):
        return False
    steps = df["step"].to_numpy()
    modes = df["mode"].to_numpy()
    freq = next((df[c].to_numpy(dtype=float) for c in df.columns
                 if split_header(str(c))[0].strip().lower() in {"freq", "frequency"}), None)
    control = df["control_v"].to_numpy(dtype=float) if "control_v" in df else None
    names = {Technique.OPEN_CIRCUIT: "rest", Technique.CONSTANT_CURRENT: "current control",
             Technique.CONSTANT_VOLTAGE: "potential hold", Technique.SWEEP: "potential sweep",
             Technique.IMPEDANCE: "impedance", Technique.UNKNOWN: "mixed control"}
    seen: dict[int, Technique] = {}
    for step in np.unique(steps):
        rows = steps == step
        kinds = set(np.unique(modes[rows]).tolist())
        if freq is not None and np.any(np.nan_to_num(freq[rows]) > 0):
            tech = Technique.IMPEDANCE
        elif kinds == {_MODE_REST}:
            tech = Technique.OPEN_CIRCUIT
        elif kinds <= {_MODE_CC, _MODE_REST}:
            tech = Technique.CONSTANT_CURRENT
        elif kinds <= {_MODE_CV, _MODE_REST} and control is not None:
            v = control[rows & (modes == _MODE_CV)]
            tech = Technique.CONSTANT_VOLTAGE if np.ptp(v) <= 1e-3 else Technique.SWEEP
            if tech is Technique.CONSTANT_VOLTAGE:
                m.step_voltages_v[int(step)] = float(np.median(v))
        else:
            tech = Technique.UNKNOWN
        seen[int(step)] = m.step_techniques[int(step)] = tech
    _rest_before_hold(m, seen)
    kinds = {t for t in seen.values() if t is not Technique.OPEN_CIRCUIT} or set(seen.values())
    listing = ", ".join(f"Ns {k} {names[t]}" for k, t in seen.items())
    label = m.technique_name or "Modulo Bat"
    if len(kinds) == 1:
        m.technique, m.technique_inferred = kinds.pop(), True
        m.technique_reason = f"{label} steps in the data (from each step's rows): {listing}"
        if m.technique is Technique.CONSTANT_VOLTAGE and m.applied_voltage_v is None:
            first = next(k for k, t in seen.items() if t is Technique.CONSTANT_VOLTAGE)
            m.applied_voltage_v = m.step_voltages_v.get(first)
    else:
        m.technique_reason = (f"{label} with steps of several kinds (from each step's rows: "
                              f"{listing}); split it with segments() (CLI: inspect --segments)")
    return True


def _rest_before_hold(m: Measurement, seen: dict[int, Technique]) -> None:
    """Warn where a hold's voltage (the recorded control potential, vs Ref) follows a rest
    whose open-circuit voltage is not ~0: the file does not say whether the set-point was
    given vs Eoc, and then the polarization is the control potential minus that Eoc."""
    if "voltage_v" not in m.data:
        return
    steps = m.data["step"].to_numpy()
    volts = m.data["voltage_v"].to_numpy(dtype=float)
    order = list(seen)
    for before, step in itertools.pairwise(order):
        if seen[step] is not Technique.CONSTANT_VOLTAGE or seen[before] is not \
                Technique.OPEN_CIRCUIT:
            continue
        rest = volts[steps == before][-5:]
        eoc = float(np.median(rest)) if rest.size else 0.0
        if abs(eoc) > 1e-3:
            m.warnings.append(
                f"step Ns {step}: the hold's voltage {m.step_voltages_v[step]:.6g} V is the "
                f"recorded control potential (vs Ref); the rest before it ends at Ewe = "
                f"{eoc:.6g} V: if the set-point was given vs Eoc, the polarization is "
                f"{m.step_voltages_v[step] - eoc:.6g} V (give it with --voltage)")
            return  # once per record


def _infer(m: Measurement) -> None:
    df = m.data
    for col in df.columns:
        if split_header(str(col))[0].strip().lower() in {"freq", "frequency"}:
            m.technique, m.technique_inferred = Technique.IMPEDANCE, True
            m.technique_reason = f"no technique stated; a frequency column ({col!r})"
            return
    if "mode" in df and len(df):
        modes = set(np.unique(df["mode"].to_numpy()).tolist())
        if modes == {_MODE_REST}:
            m.technique, m.technique_inferred = Technique.OPEN_CIRCUIT, True
            m.technique_reason = ("no technique stated; EC-Lab's mode column: a rest (mode 3, "
                                  "open circuit) at every point")
            return
        if _MODE_CC in modes and modes <= {_MODE_CC, _MODE_REST}:
            m.technique, m.technique_inferred = Technique.CONSTANT_CURRENT, True
            m.technique_reason = "no technique stated; EC-Lab's mode column: current control"
            return
        if _MODE_CV not in modes:
            m.technique_reason = ("no technique stated; EC-Lab's mode column shows no "
                                  "potential control")
            return
    if "control_a" in df and np.any(df["control_a"].to_numpy() != 0):
        m.technique, m.technique_inferred = Technique.CONSTANT_CURRENT, True
        m.technique_reason = "no technique stated; a nonzero current set-point column"
        return
    if "control_v" not in df or "current_a" not in df or len(df) < 5:
        m.technique_reason = ("no technique stated and no programmed set-point (control/V) "
                              "column; sescreen does not guess a hold from the measured voltage")
        return
    v = df["control_v"].to_numpy(dtype=float)
    i = np.abs(df["current_a"].to_numpy(dtype=float))
    lo, hi = np.percentile(v, [2.5, 97.5])
    setpoint = float(np.median(v))
    k = max(2, len(i) // 10)
    early, late = float(np.median(i[:k])), float(np.median(i[-k:]))
    if hi - lo > max(1e-3, 5e-3 * abs(setpoint)):
        m.technique_reason = "no technique stated; the programmed voltage varies (not a hold)"
    elif abs(setpoint) < 1e-3:
        m.technique_reason = ("no technique stated; the programmed voltage is 0 V (a rest or a "
                              "current-controlled record), not a hold")
    elif not early > 1.5 * late:
        m.technique_reason = (f"no technique stated; the programmed voltage is constant "
                              f"({setpoint:.4g} V) but the current does not decay")
    else:
        m.technique, m.technique_inferred = Technique.CONSTANT_VOLTAGE, True
        m.applied_voltage_v = setpoint if m.applied_voltage_v is None else m.applied_voltage_v
        m.technique_reason = (f"no technique stated; a constant programmed voltage "
                              f"({setpoint:.4g} V) while the current decays from {early:.3g} A "
                              f"to {late:.3g} A")
