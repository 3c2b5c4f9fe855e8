"""Regenerate reports/ndp-depth-calibrations.png and print the comparison table.

Run from the repository root (needs the `stopping` extra):
    python reports/make_ndp_calibrations.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sescreen.ndp.calibration import (
    compare_with_preset,
    depth_preset,
    load_stack,
    stopping_calibration,
)
from sescreen.plot import _pyplot, save_figure

HERE = Path(__file__).resolve().parent


def main() -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    print("| stack | preset reading | offset (um) | max diff. after offset (um) | overlap (keV) |")
    print("|---|---|---|---|---|")
    for ax, name in zip(axes, ("han2019-lipon", "han2019-llzo", "han2019-li3ps4"), strict=True):
        calc = stopping_calibration(load_stack(name))
        depths, energies = calc.details["profile"]
        ax.plot(energies, depths, "k.", ms=4, label="CATIMA (this stack)")
        grid = np.linspace(*calc.energy_range_kev, 200)
        readings = [name] if name.endswith("lipon") else [name, f"{name}-x10"]
        for k, preset_name in enumerate(readings):
            preset = depth_preset(preset_name)
            c = compare_with_preset(calc, preset)
            label = "printed" if k == 0 else "E^2 x10"
            ax.plot(grid, preset.depth(grid), f"C{k}-", label=f"paper, {label}")
            ax.plot(grid, preset.depth(grid) + c["offset_um"], f"C{k}--",
                    label=f"paper, {label}, offset {c['offset_um']:+.2f} um")
            print(f"| {name} | {label} | {c['offset_um']:+.2f} | "
                  f"{c['max_abs_after_offset_um']:.3f} | {c['overlap_kev']:.0f} |")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("detected energy (keV)")
        ax.set_ylabel("depth (um)")
        ax.set_ylim(-2, max(depths) * 1.3)
        ax.legend(fontsize=7)
    save_figure(axes[0], HERE / "ndp-depth-calibrations.png")


if __name__ == "__main__":
    main()
