"""Sequential looks on replayed realistic holds: wrong decisions over all looks, time saved.

Each hold of :mod:`realistic_holds` (seeds and true sigma_e exactly as in
``test_dcpol_realistic.py``: per hold index j, two "far" holds 1-2 decades from 1e-10 S/cm,
one within 0.02-0.4 decades of 1e-10 and one of 1e-12) is fed point by point to a
:class:`sescreen.sequential.HoldWatcher` as a running instrument would write it, with a
look after every 1/K of the planned hold (K looks, the last at the full hold). At each look
the watcher's sequential interval (level 1 - alpha_k, alpha_k = 0.05 * 6/(pi^2 k^2)) is
judged against 1e-10 and 1e-12 S/cm; a threshold is decided when a PASS (hi < thr) or FAIL
(lo > thr) is repeated at ``CONFIRM`` looks in a row (the watcher's ``confirm``, 2), or by
the last look of the complete record. Looks continue until both thresholds are decided or
the hold ends. The holds of :mod:`late_holds` (a current that dips and climbs back, a slow
second decay: processes slower than the first looks) are replayed the same way.

Per regime and threshold: wrong decisions (the first decision contradicts the truth; holds
never decided count as not wrong), correct decisions, and the median fraction of the hold
used by a correct decision (instrument time saved = 1 - it). For comparison, the same looks
decided by the first look that clears (``--confirm 1``), judged naively by the fit's own
95 % interval at every look ("peeking"), and the decision of the full hold alone (95 %, what
``sescreen check`` says at the end).

Run::

    python tests/benchmarks/watch_holds.py [--n 8] [--looks 10] [--regime NAME ...]

writes ``watch_results.md``; a sample runs in the default suite (``tests/test_watch.py``).
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
for _p in (HERE.parents[1], HERE):  # this checkout's sescreen, then the benchmark scripts
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import late_holds as lh  # noqa: E402
import realistic_holds as rh  # noqa: E402
import test_dcpol_realistic as dr  # noqa: E402

THRESHOLDS = dr.THRESHOLDS
REGIMES = (*rh.REGIMES, *lh.FAMILIES)
CONFIRM = 2  # looks in a row a decision needs (HoldWatcher's default)
RESULTS_MD = HERE / "watch_results.md"


def _state(lo: float, hi: float, thr: float) -> str | None:
    return "pass" if hi < thr else "fail" if lo > thr else None


def run_one(regime: str, j: int, looks: int = 10) -> dict[str, Any]:
    """Replay hold ``j`` of ``regime`` with ``looks`` looks; one result row."""
    from sescreen.sequential import HoldWatcher

    rng = dr.hold_rng(regime, j)
    if regime in lh.FAMILIES:
        t, i, meta = lh.make_hold(regime, rng, j)
        sigma_true, kind = meta["sigma_e_true"], "near" if j % 2 == 0 else "near_1e-12"
    else:
        sigma_true, kind = dr.draw_sigma(j, rng)
        t, i, meta = rh.make_hold(regime, rng, sigma_e_true=sigma_true)
    w = HoldWatcher(thickness_cm=rh.THICKNESS_CM, target_ma_cm2=1.0,
                    area_cm2=meta["area_cm2"], voltage_v=meta["voltage_v"],
                    accuracy_a=0.0, source=f"{regime}#{j}")  # (no instrument offset)
    row: dict[str, Any] = dict(regime=regime, j=j, kind=kind, sigma_true=sigma_true,
                               hold_s=float(t[-1]), crashed="")
    seq: dict[float, tuple] = {}  # decided when repeated CONFIRM looks in a row
    once: dict[float, tuple] = {}  # decided by the first look that clears (--confirm 1)
    naive: dict[float, tuple] = {}
    in_a_row: dict[float, tuple[str | None, int]] = {}
    fed = 0
    for k in range(1, looks + 1):
        n = int(np.searchsorted(t, t[-1] * k / looks, side="right"))
        for start in range(fed, n, 50):  # point by point, in the instrument's small writes
            w.feed(t[start:min(start + 50, n)], i[start:min(start + 50, n)])
        fed = n
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lk = w.look()
        except Exception as exc:  # a bug: count it, keep the benchmark going
            row["crashed"] = f"{type(exc).__name__}: {exc}"
            break
        if lk.sigma_e_interval is None:
            continue
        frac = lk.elapsed_s / row["hold_s"]
        for thr in THRESHOLDS:
            s = _state(*lk.sigma_e_interval, thr)
            before, count = in_a_row.get(thr, (None, 0))
            count = count + 1 if s is not None and s == before else int(s is not None)
            in_a_row[thr] = (s, count)
            if s and thr not in once:
                once[thr] = (s, frac, k)
            # the last look judges the complete record: it decides unrepeated
            if s and thr not in seq and (count >= CONFIRM or k == looks):
                seq[thr] = (s, frac, k)
            s95 = _state(*lk.sigma_e_interval_95, thr)
            if s95 and thr not in naive:
                naive[thr] = (s95, frac, k)
            if k == looks:
                row[f"full_{thr:.0e}"] = s95
        if len(seq) == len(THRESHOLDS):
            break
    if f"full_{THRESHOLDS[0]:.0e}" not in row:  # stopped before the end: fit the full hold
        _full(row, rh.to_measurement(t, i, meta))
    for thr in THRESHOLDS:
        truth = "pass" if sigma_true < thr else "fail"
        tag = f"{thr:.0e}"
        s, frac, k = seq.get(thr, (None, math.nan, None))
        row.update({f"seq_{tag}": s, f"seq_frac_{tag}": frac, f"seq_look_{tag}": k,
                    f"truth_{tag}": truth, f"once_{tag}": once.get(thr, (None,))[0]})
        row[f"naive_{tag}"] = naive.get(thr, (None,))[0]
    return row


def _full(row: dict[str, Any], m) -> None:
    """The 95 % verdicts of the whole record (what ``sescreen check`` says at the end)."""
    from sescreen.dcpol import fit_dcpol
    from sescreen.errors import SescreenError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # the watcher's accuracy setting (no instrument offset), so the two compare
            lo, hi = fit_dcpol(m, thickness_cm=rh.THICKNESS_CM,
                               accuracy_a=0.0).sigma_e_interval
    except SescreenError:
        lo, hi = 0.0, math.inf
    for thr in THRESHOLDS:
        row[f"full_{thr:.0e}"] = _state(lo, hi, thr)


def _star(args):
    return run_one(*args)


def evaluate(regimes=None, n: int = 8, looks: int = 10, *, indices=None,
             workers: int = 2) -> list[dict[str, Any]]:
    """Rows for hold indices ``0 .. n - 1`` (or ``indices``) of each regime."""
    regimes = list(regimes or REGIMES)
    jobs = [(r, j, looks) for r in regimes for j in (indices or range(n))]
    if workers <= 1:
        return [run_one(*a) for a in jobs]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_star, jobs))


def wrong(row: dict[str, Any], thr: float, key: str = "seq") -> bool:
    """The first decision by ``key`` ("seq", "once", "naive" or "full") contradicts the
    truth."""
    s = row[f"{key}_{thr:.0e}"]
    return s in ("pass", "fail") and s != row[f"truth_{thr:.0e}"]


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per regime and one for all: counts and rates per threshold."""
    out = []
    groups = sorted({r["regime"] for r in rows}, key=list(REGIMES).index)
    for name, sel in [(g, [r for r in rows if r["regime"] == g]) for g in groups] + \
            [("**all**", rows)]:
        line: dict[str, Any] = {"regime": name, "n": len(sel),
                                "crashed": sum(bool(r["crashed"]) for r in sel)}
        for thr in THRESHOLDS:
            tag = f"{thr:.0e}"
            ok = [r for r in sel if r[f"seq_{tag}"] and not wrong(r, thr)]
            fracs = [r[f"seq_frac_{tag}"] for r in ok]
            line.update({
                f"wrong_{tag}": sum(wrong(r, thr) for r in sel),
                f"once_wrong_{tag}": sum(wrong(r, thr, "once") for r in sel),
                f"naive_wrong_{tag}": sum(wrong(r, thr, "naive") for r in sel),
                f"correct_{tag}": len(ok),
                f"full_correct_{tag}": sum(r[f"full_{tag}"] == r[f"truth_{tag}"]
                                           for r in sel),
                f"median_frac_{tag}": float(np.median(fracs)) if fracs else math.nan})
        out.append(line)
    return out


def markdown_table(summary: list[dict[str, Any]], looks: int) -> str:
    """The summary as a markdown table with its legend."""
    head = ["regime", "n"]
    for thr in THRESHOLDS:
        t = f"{thr:.0e}"
        head += [f"wrong {t} (seq)", f"wrong {t} (first look)", f"wrong {t} (peek 95 %)",
                 f"correct {t} (seq)",
                 f"correct {t} (full hold)", f"median hold used {t}"]
    lines = [f"# Sequential looks on realistic holds ({looks} looks per hold)", "",
             "Generated by `tests/benchmarks/watch_holds.py`. wrong: holds whose first "
             "decision contradicts the truth (seq: the watcher's sequential intervals, "
             "alpha_k = 0.05 * 6/(pi^2 k^2), a PASS or FAIL decided when repeated at "
             f"{CONFIRM} looks in a row or at the last look; first look: decided by the "
             "first look that clears, `--confirm 1`; peek 95 %: the fit's own 95 % interval "
             "at every look). correct: decided and right (seq: at any look; full hold: the 95 % "
             "verdict of the whole record, what `sescreen check` says at the end). median "
             "hold used: elapsed / full hold at the first correct sequential decision "
             "(instrument time saved = 1 - it).", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in summary:
        cells = [s["regime"], str(s["n"])]
        for thr in THRESHOLDS:
            t = f"{thr:.0e}"
            cells += [str(s[f"wrong_{t}"]), str(s[f"once_wrong_{t}"]),
                      str(s[f"naive_wrong_{t}"]),
                      f"{s[f'correct_{t}'] / s['n']:.0%}",
                      f"{s[f'full_correct_{t}'] / s['n']:.0%}",
                      "-" if math.isnan(s[f"median_frac_{t}"]) else
                      f"{s[f'median_frac_{t}']:.0%}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=8, help="holds per regime")
    p.add_argument("--looks", type=int, default=10, help="looks per hold")
    p.add_argument("--regime", action="append", help="only these regimes")
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args(argv)
    rows = evaluate(a.regime, a.n, a.looks, workers=a.workers)
    table = markdown_table(summarize(rows), a.looks)
    bad = [f"{r['regime']} #{r['j']} true {r['sigma_true']:.3g}: {thr:.0e} "
           f"{r[f'seq_{thr:.0e}']}" for r in rows for thr in THRESHOLDS if wrong(r, thr)]
    table += "\nWrong sequential decisions: " + (", ".join(bad) if bad else "none") + "\n"
    crashed = [f"{r['regime']} #{r['j']}: {r['crashed']}" for r in rows if r["crashed"]]
    if crashed:
        table += "\nCrashed: " + "; ".join(crashed) + "\n"
    print(table)
    if not a.regime:
        RESULTS_MD.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
