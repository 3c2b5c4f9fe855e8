"""Accuracy of :func:`sescreen.cycling.measure_ccd` on generated step-current records.

Records come from ``tests/ccd_records.py`` (``random_case``: 4-8 steps, geometric or
arithmetic staircases from 0.01-0.2 mA/cm^2, ASR 10-1000 ohm cm^2, Butler-Volmer j0
0.05-3 mA/cm^2, within-step rise 0-50 %, ASR drift -15..+20 % per step, noise 0.1-3 % of
the first polarization, glitches, rests, with and without a set-point column; symmetric
Li|SE|Li and plating Li|SE|Cu). Per kind it counts the outcomes and, for shorts, how often
the reported interval (ccd_ma_cm2, failed_at_ma_cm2] contains the true failing density.

    python tests/benchmarks/ccd_detection.py [--n 400] [--seed 2019] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

KINDS = ("healthy", "hard", "soft", "soft_then_hard", "contact")


def table(n: int, seed: int) -> str:
    from ccd_records import random_case

    from sescreen.cycling import measure_ccd

    rng = np.random.default_rng(seed)
    rows = ["| kind | records | shorted | no_short | ambiguous | contact_loss | "
            "interval contains truth |", "|---|---|---|---|---|---|---|"]
    start = time.perf_counter()
    for kind in KINDS:
        outcomes, covered = Counter(), 0
        for _ in range(n):
            m, truth = random_case(rng, kind)
            r = measure_ccd(m)
            outcomes[r.outcome] += 1
            f = truth["failed_at_ma_cm2"]
            if f is not None and r.shorted:
                lo, hi = r.interval_ma_cm2
                covered += lo < f * (1 - 1e-3) and f <= hi * (1 + 1e-3)
        cover = f"{covered / n:.1%}" if kind not in ("healthy", "contact") else "-"
        rows.append(f"| {kind} | {n} | " + " | ".join(
            str(outcomes[o]) for o in ("shorted", "no_short", "ambiguous", "contact_loss"))
            + f" | {cover} |")
    rows.append(f"\n{5 * n} records, seed {seed}, {time.perf_counter() - start:.0f} s.")
    return "\n".join(rows)


if __name__ == "__main__":
    here = Path(__file__).resolve()
    sys.path[:0] = [str(here.parents[2]), str(here.parents[1])]  # this checkout, tests/
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seed", type=int, default=2019)
    ap.add_argument("--out", default=str(here.with_suffix(".md")))
    args = ap.parse_args()
    text = ("# CCD detection on generated records\n\n"
            f"`python tests/benchmarks/ccd_detection.py --n {args.n} --seed {args.seed}`\n\n"
            + table(args.n, args.seed) + "\n")
    Path(args.out).write_text(text)
    print(text)
