"""Generate the bundled example measurements from stated ground truth.

Run from the repository root:  python datasets/examples/generate.py

Every file is synthetic and says so in its header. The truth each file was generated from
(electronic conductivity, geometry, transient time constants, noise) is written beside the
files in ``truth.json``, so an analysis of the examples can be checked against it.

Model of a DC-polarization hold on an ion-blocking cell (METHODS.md section 1): the current
decays from an ionic charging transient to the electronic steady state
I_ss = sigma_e * V * A / L, here as a constant plus two exponentials, with Gaussian noise of
a stated relative size.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sescreen.atomic import atomic_write_text
from sescreen.io.writers import write_mpt

HERE = Path(__file__).resolve().parent
SEED = 20190204  # publication month of Han et al. 2019

# material, sigma_e (S/cm) at 30 C, thickness (cm), area (cm^2), voltage (V)
EXAMPLES = [
    {"file": "dcpol/llzo_30C.mpt", "material": "LLZO (Ta-doped, synthetic)",
     "sigma_e_s_cm": 5.5e-8, "thickness_cm": 0.1, "area_cm2": 0.785, "voltage_v": 0.1,
     "temperature_c": 30.0, "tau_s": [150.0, 2500.0], "amplitude_ratio": [8.0, 2.0],
     "hold_s": 36000.0, "dt_s": 30.0, "noise_rel": 0.003},
]


def transient(t: np.ndarray, i_ss: float, amplitudes: list[float], taus: list[float]):
    """Constant plus exponentials: I(t) = I_ss (1 + sum_k a_k exp(-t / tau_k)), A."""
    return i_ss * (1.0 + sum(a * np.exp(-t / tau) for a, tau in zip(amplitudes, taus,
                                                                      strict=True)))


def main() -> None:
    rng = np.random.default_rng(SEED)
    truth = []
    for ex in EXAMPLES:
        i_ss = ex["sigma_e_s_cm"] * ex["voltage_v"] * ex["area_cm2"] / ex["thickness_cm"]
        t = np.arange(0.0, ex["hold_s"] + ex["dt_s"] / 2, ex["dt_s"])
        clean = transient(t, i_ss, ex["amplitude_ratio"], ex["tau_s"])
        current = clean + rng.normal(0.0, ex["noise_rel"] * i_ss, t.size)
        write_mpt(HERE / ex["file"], t, current, applied_voltage_v=ex["voltage_v"],
                  area_cm2=ex["area_cm2"])
        truth.append({**ex, "i_ss_a": i_ss, "seed": SEED})
    atomic_write_text(HERE / "truth.json", json.dumps(truth, indent=2) + "\n")


if __name__ == "__main__":
    main()
