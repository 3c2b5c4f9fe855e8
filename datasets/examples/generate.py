"""Generate the bundled example data from stated ground truth.

Run from the repository root:  python datasets/examples/generate.py

Everything here is synthetic and says so. The truth each file was generated from is written
beside the files in ``truth.json``, so an analysis of the examples can be checked against it:

- ``dcpol/``: DC-polarization holds (ion-blocking cells, 0.1 V) of three synthetic materials
  at four temperatures each, in three file formats (EC-Lab .mpt, CSV, Gamry .DTA). The
  steady-state current follows sigma_e(T) = A exp(-Ea / k_B T) and METHODS eq. (1); the
  transient is a constant plus two exponentials; some holds stop before steady state.
- ``ndp/llzo_60C.csv``: an operando NDP series (wide table, 30 frames of 360 s) of the
  LLZO-like material plated at 0.1 mA/cm^2: lithium metal plated at the interface (a
  surface peak, which pushes the electrolyte's own lithium deeper) and, from frame 12 on,
  lithium deposited uniformly inside the electrolyte; together they are the charge passed.
- ``ccd/llzo_like_25C_plating.csv``: the lab's own CCD record of the LLZO-like material, a
  Li | SE | Cu plating staircase at 25 C as in Han et al. 2019, Fig. 2 (10 uA/cm^2 steps of
  30 min); the cell shorts at 50 uA/cm^2 (the paper's LLZO value): soft-short dips early in
  that step, the collapse to ~0 V early in the next (:func:`sescreen.synthetic.step_record`).
- ``candidates.csv``: the screening input: the measurement files above, the NDP series,
  the CCD record, and three literature candidates with sigma_e values only.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sescreen.atomic import atomic_write_text
from sescreen.constants import BOLTZMANN_EV, ELEMENTARY_CHARGE
from sescreen.io.writers import write_dta, write_mpt, write_table
from sescreen.ndp import Standard, depth_preset, host_lithium_density, synthesize_series
from sescreen.ndp.calibration import LI_METAL_ATOMS_CM3
from sescreen.synthetic import dcpol_record, i_ss_for, step_record

HERE = Path(__file__).resolve().parent
SEED = 20190204  # publication month of Han et al. 2019
TEMPS_C = (30.0, 45.0, 60.0, 80.0)
VOLTAGE_V = 0.1

# name, formula, sigma_e at 30 C (S/cm), Ea (eV), thickness cm, area cm2, writer, fracture MPa
MATERIALS = [
    ("LLZO-like", "Li6.4La3Zr1.4Ta0.6O12", 5.5e-8, 0.45, 0.10, 0.785, "mpt", 100.0),
    ("Li3PS4-like", "Li3PS4", 2.2e-9, 0.35, 0.08, 0.785, "csv", 30.0),
    ("Glass-X", "Li3BS3", 2.0e-11, 0.55, 0.05, 1.0, "dta", 50.0),
]
NDP_STANDARD = Standard(counts_per_monitor=850.0)


def sigma_at(sigma30: float, ea: float, temp_c: float) -> float:
    """sigma(T) = sigma(30 C) exp(-Ea/k (1/T - 1/T30))."""
    return sigma30 * np.exp(-ea / BOLTZMANN_EV * (1 / (temp_c + 273.15) - 1 / 303.15))


def dc_examples(rng) -> list[dict]:
    truth = []
    for name, _, s30, ea, thick, area, kind, _ in MATERIALS:
        for k, tc in enumerate(TEMPS_C):
            sigma = float(sigma_at(s30, ea, tc))
            i_ss = i_ss_for(sigma, VOLTAGE_V, thick, area)
            tau2 = 3000.0 / (1 + k)  # faster relaxation when hotter
            hold = tau2 * (2.5 if k == 0 else 8.0)  # the 30 C hold stops early
            params = dict(i_ss=i_ss, a1=6 * i_ss, tau1=tau2 / 15, a2=2.5 * i_ss, tau2=tau2)
            m = dcpol_record("exp2", params, hold_s=hold, dt_s=hold / 400,
                             noise_a=0.004 * i_ss, rng=rng, voltage_v=VOLTAGE_V)
            base = f"{name.lower().replace('-', '_')}_{tc:g}C"
            if kind == "mpt":
                path = write_mpt(HERE / "dcpol" / f"{base}.mpt", m.time_s, m.current_a,
                                 applied_voltage_v=VOLTAGE_V, area_cm2=area)
            elif kind == "csv":
                path = write_table(HERE / "dcpol" / f"{base}.csv", m.time_s, m.current_a,
                                   current_unit="nA", style="bracket",
                                   names=("Time", "Current", "E"),
                                   comments={"voltage": f"{VOLTAGE_V} V", "area": f"{area} cm2",
                                             "temperature": f"{tc} C",
                                             "technique": "chronoamperometry",
                                             "sample": f"{name} (synthetic)"})
            else:
                path = write_dta(HERE / "dcpol" / f"{base}.DTA", m.time_s, m.current_a,
                                 applied_voltage_v=VOLTAGE_V, area_cm2=area, temperature_c=tc)
            truth.append({"file": str(path.relative_to(HERE)), "material": name,
                          "temperature_c": tc, "sigma_e_s_cm": sigma, "i_ss_a": i_ss,
                          "thickness_cm": thick, "area_cm2": area, "voltage_v": VOLTAGE_V,
                          "tau_s": [params["tau1"], tau2], "hold_s": hold,
                          "steady_state_expected": k > 0, "noise_rel": 0.004})
    return truth


def ndp_example(rng) -> dict:
    cal = depth_preset("han2019-llzo-x10")
    host = host_lithium_density("Li6.4La3Zr1.4Ta0.6O12", 5.1)
    times = np.arange(30) * 360.0
    t_on = times[12]
    j_ma_cm2, window_um = 0.1, 16.0  # the preset's measurable depth

    def grow(t):
        return np.clip((t - t_on) / (times[-1] - t_on), 0, None)

    def profile(t, x):
        # host lithium (x: true depth in the electrolyte), plus from frame 12 a deposit
        # inside the window growing uniformly to 6 % of the host
        return host * (1 + np.where(x <= window_um, 0.06 * grow(t), 0.0))

    def plated_um(t):
        # the rest of the charge passed is Li metal plated at the interface; it pushes the
        # electrolyte's own lithium deeper (synthesize_series, CATIMA stopping powers)
        charge = j_ma_cm2 * 1e-3 * t / ELEMENTARY_CHARGE
        deposit = 0.06 * grow(t) * host * window_um * 1e-4
        return max(charge - deposit, 0.0) / LI_METAL_ATOMS_CM3 * 1e4

    series = synthesize_series(profile, times, cal, rng=rng, standard=NDP_STANDARD,
                               frame_s=360.0, current_ma_cm2=j_ma_cm2, plated_um=plated_um)
    lo, hi = (int(c) for c in np.round(cal.energy_range_kev))
    keep = (series.channels >= (lo - 38.267) / 0.696 - 5) & \
           (series.channels <= (hi - 38.267) / 0.696 + 5)
    lines = ["channel," + ",".join(f"{t:g}" for t in times)]
    for key, vals in (("live_time", series.live_time_s), ("real_time", series.real_time_s),
                      ("monitor", series.monitor), ("current_ma_cm2", series.current_ma_cm2)):
        lines.append(key + "," + ",".join(f"{v:g}" for v in vals))
    for c, col in zip(series.channels[keep], series.counts[:, keep].T, strict=True):
        lines.append(f"{int(c)}," + ",".join(str(int(v)) for v in col))
    path = HERE / "ndp" / "llzo_60C.csv"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return {"file": str(path.relative_to(HERE)), "material": "LLZO-like",
            "calibration": "han2019-llzo-x10", "standard_counts_per_monitor": 850.0,
            "current_ma_cm2": j_ma_cm2, "frame_s": 360.0, "onset_s": float(t_on),
            "internal_deposit_fraction_of_host": 0.06, "growth": "internal deposition"}


CCD_DENSITIES = [round(0.01 * (k + 1), 3) for k in range(8)]  # mA/cm2, Fig. 2 staircase
CCD_SHORT_STEP = 4  # 0.05 mA/cm2, the paper's CCD of LLZO at 25 C


def ccd_example(rng) -> dict:
    """The LLZO-like plating staircase: ohmic + Butler-Volmer polarization with a slow rise
    (voids) and a slowly degrading interface, Cu nucleation overshoot, EC-Lab-like 0.1 mV
    voltage resolution, rare glitches; soft short at 0.05 mA/cm2, hard in the next step."""
    area, temp_c = 0.785, 25.0
    m, truth = step_record(
        rng, protocol="plating", densities=CCD_DENSITIES, step_s=1800.0, dt_s=10.0,
        rest_s=60.0, area_cm2=area, asr_ohm_cm2=420.0, j0_ma_cm2=0.08, rise=0.25,
        drift=0.05, noise_v=3e-4, glitch_rate=0.002, quant_v=1e-4, ocv_v=2.6,
        nucleation=0.35, short_step=CCD_SHORT_STEP, short_frac=0.2,
        short_kind="soft_then_hard", r_short=0.02, steps_after=1,
        temperature_k=temp_c + 273.15, name="llzo_like_25C_plating")
    path = write_table(HERE / "ccd" / "llzo_like_25C_plating.csv", m.time_s, m.current_a,
                       voltage_v=m.data["voltage_v"].to_numpy(), current_unit="uA",
                       style="paren", names=("time", "I", "Ewe"),
                       comments={"area": f"{area} cm2", "temperature": f"{temp_c:g} C",
                                 "technique": "chronopotentiometry",
                                 "sample": "Li | LLZO-like | Cu plating staircase "
                                           "(synthetic)"})
    return {"file": str(path.relative_to(HERE)), "material": "LLZO-like",
            "cell": "Li|LLZO-like|Cu", "protocol": "plating", "temperature_c": temp_c,
            "area_cm2": area, "densities_ma_cm2": truth["densities"], "step_s": 1800.0,
            "short_kind": "soft_then_hard", "failed_step": truth["failed_step"],
            "failed_at_ma_cm2": truth["failed_at_ma_cm2"],
            "last_held_ma_cm2": truth["densities"][truth["failed_step"] - 1]}


def candidates(dc_truth: list[dict], ndp_truth: dict, ccd_truth: dict) -> None:
    fracture = {m[0]: m[7] for m in MATERIALS}
    formula = {m[0]: m[1] for m in MATERIALS}
    rows = ["material,formula,file,sigma_e (S/cm),sigma_e_stderr (S/cm),temperature (C),"
            "thickness (mm),area (cm2),fracture_stress (MPa),ndp,ndp_stack,"
            "ndp_standard_counts,ndp_current (mA/cm2),host_density (g/cm3),source,ccd_file,"
            "sigma_e_bound"]
    for t in dc_truth:
        name = t["material"]
        rows.append(f"{name},{formula[name]},{t['file']},,,{t['temperature_c']:g},"
                    f"{t['thickness_cm'] * 10:g},{t['area_cm2']:g},{fracture[name]:g},"
                    + (f"{ndp_truth['file']},{ndp_truth['calibration']},850,0.1,5.1"
                       if name == "LLZO-like" and t["temperature_c"] == 30.0 else ",,,,")
                    + ",synthetic example,,")
    rows.append(f"{ccd_truth['material']},{formula[ccd_truth['material']]},,,,"
                f"{ccd_truth['temperature_c']:g},,{ccd_truth['area_cm2']:g},,,,,,,"
                f"synthetic example (CCD record),{ccd_truth['file']},")
    rows += [
        "LBPSI glass (x = 0.17),,,2.8e-11,,25,,,,,,,,,Song et al. 2025 (literature row),,",
        "Li3YCl6,Li3YCl6,,1.51e-9,,25,,,,,,,,,Wang et al. 2021 (literature row),,",
        # Han et al. state only the range 1e-15..1e-12 S/cm: its upper end as a bound (an
        # error bar of 1e-13 +- 5e-14 had been invented, and passed at 10 mA/cm^2)
        "LiPON,Li2.9PO3.3N0.46,,1e-12,,25,,,,,,,,,Han et al. 2019 range (literature),,upper",
    ]
    atomic_write_text(HERE / "candidates.csv", "\n".join(rows) + "\n")


def main() -> None:
    rng = np.random.default_rng(SEED)
    dc = dc_examples(rng)
    ndp = ndp_example(np.random.default_rng([SEED, 1]))  # its own stream: a change to it
    ccd = ccd_example(rng)  # or to the NDP series leaves the other files as they are
    candidates(dc, ndp, ccd)
    atomic_write_text(HERE / "truth.json", json.dumps(
        {"seed": SEED, "voltage_v": VOLTAGE_V, "materials": [
            {"name": m[0], "formula": m[1], "sigma_e_30C_s_cm": m[2], "ea_ev": m[3],
             "fracture_stress_mpa": m[7]} for m in MATERIALS],
         "dcpol": dc, "ndp": ndp, "ccd": ccd}, indent=2) + "\n")


if __name__ == "__main__":
    main()
