"""Random step-current cycling records with known truth, for the CCD tests and benchmark.

The record model is :func:`sescreen.synthetic.step_record` (numpy only; written
independently of the detector, it shares no code with :mod:`sescreen.cycling`);
:func:`random_case` draws cells and protocols from wide ranges.
"""

from __future__ import annotations

import numpy as np

from sescreen.synthetic import step_record

__all__ = ["random_case", "screen_export", "step_record"]


def screen_export(tmp_path, m, material: str, sigma_e: float = 5.5e-8):
    """``sescreen screen --export-ccd`` over a candidates table pairing ``material``'s
    sigma_e (S/cm, 25 C) with the CCD record ``m`` (written as ``ccd.csv``): the CLI
    result and the export's path."""
    from click.testing import CliRunner

    from sescreen.cli import main

    m.data[["time_s", "current_a", "voltage_v"]].set_axis(
        ["time (s)", "current (A)", "voltage (V)"], axis=1).to_csv(tmp_path / "ccd.csv",
                                                                    index=False)
    (tmp_path / "cand.csv").write_text(
        "material,sigma_e (S/cm),temperature (C),area (cm2),ccd_file\n"
        f"{material},{sigma_e:g},25,,\n{material},,25,1.0,ccd.csv\n")
    export = tmp_path / "rows.csv"
    res = CliRunner().invoke(main, ["screen", str(tmp_path / "cand.csv"), "--json",
                                    "--export-ccd", str(export)])
    return res, export


def random_case(rng, kind: str, *, protocol: str | None = None):
    """A record drawn from wide ranges of cell and protocol, of one ``kind``:
    ``healthy``, ``hard``, ``soft``, ``soft_then_hard`` or ``contact``."""
    protocol = protocol or rng.choice(["symmetric", "plating"])
    n_steps = int(rng.integers(4, 9))
    j_first = 10 ** rng.uniform(-2, -0.7)
    factor = rng.choice([1.25, 1.5, 2.0])
    arithmetic = rng.random() < 0.4
    densities = (j_first * (1 + np.arange(n_steps)) if arithmetic
                 else j_first * factor ** np.arange(n_steps))
    asr = min(10 ** rng.uniform(1, 3), 1e3 / densities[-1])  # 10-1000 ohm cm2, p < ~1 V
    p_first = densities[0] * 1e-3 * asr
    kw = dict(protocol=str(protocol), densities=np.round(densities, 5).tolist(),
              step_s=float(rng.choice([300.0, 600.0, 1200.0])),
              dt_s=float(rng.choice([1.0, 2.0, 5.0])),
              asr_ohm_cm2=asr, j0_ma_cm2=10 ** rng.uniform(-1.3, 0.5),
              rise=rng.uniform(0, 0.5), drift=rng.uniform(-0.15, 0.2),
              noise_v=max(p_first, 1e-3) * 10 ** rng.uniform(-3, -1.5),
              glitch_rate=rng.choice([0.0, 0.002]), rest_s=float(rng.choice([0.0, 60.0])),
              nucleation=rng.uniform(0, 0.5), setpoint=bool(rng.random() < 0.7))
    kw["half_s"] = kw["step_s"] / float(rng.choice([2, 4]))
    if kind != "healthy":
        k = int(rng.integers(1, n_steps - (kind == "soft_then_hard")))
        kw.update(steps_after=int(rng.integers(0, 3)))
        if kind == "contact":
            kw.update(contact_step=k, contact_frac=rng.uniform(0.2, 0.8))
        else:
            kw.update(short_step=k, short_kind=kind, short_frac=rng.uniform(0.05, 0.9),
                      r_short=10 ** rng.uniform(-2.5, -1))
    return step_record(rng, **kw)
