"""Regenerate reports/ndp-depth-calibrations.png and print the comparison table.

Run from the repository root (needs the `stopping` extra):
    python reports/make_ndp_calibrations.py
"""

from __future__ import annotations

from pathlib import Path

from sescreen.plot import plot_depth_calibrations, save_figure

HERE = Path(__file__).resolve().parent


def main() -> None:
    axes, rows = plot_depth_calibrations()
    print("| stack | paper reading | offset (um) | max diff. after offset (um) | overlap (keV) |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['stack']} | {r['reading']} | {r['offset_um']:+.2f} | "
              f"{r['max_abs_after_offset_um']:.3f} | {r['overlap_kev']:.0f} |")
    save_figure(axes[0], HERE / "ndp-depth-calibrations.png")


if __name__ == "__main__":
    main()
