"""One look at a running hold, and the history of looks (JSON lines, plot)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sescreen.errors import FormatError
from sescreen.serialize import json_safe

__all__ = ["Look", "WatchHistory"]

STOPS = ("decided", "precision", "idle", "end", "interrupted", "max_looks", "unreadable")


@dataclass(frozen=True)
class Look:
    """The state of a hold at one look.

    Times in s since the voltage step, sigma in S/cm. ``sigma_e_interval`` is the look's
    sequential interval (level ``1 - alpha_k``, see :mod:`sescreen.sequential.boundary`);
    ``sigma_e_interval_95`` the fit's own 95 % interval, for reference only: deciding on
    it at every look would inflate the error rate.
    """

    k: int  #: look number, 1-based
    elapsed_s: float  #: time of the last sample used, s since the step
    n_points: int
    outcome: str  #: "pass" | "fail" | "inconclusive"
    decided: bool  #: outcome is pass or fail at the sequential level, in enough looks in a row
    alpha_k: float  #: error spent at this look
    threshold: float  #: max sigma_e for the target, S/cm
    sigma_e: float | None = None
    sigma_e_interval: tuple[float, float] | None = None
    sigma_e_interval_95: tuple[float, float] | None = None
    upper_bound_only: bool = False
    relative_half_width: float | None = None  #: larger end distance / sigma_e
    precision_reached: bool = False
    remaining_fraction: float | None = None  #: transient left, fraction of I_ss
    t_steady_estimate: float | None = None  #: when the fitted transient is < 1 % of I_ss, s
    steady_state_reached: bool | None = None
    reason: str = ""
    stop: str | None = None  #: why watching stopped here (one of STOPS), else None
    notes: tuple[str, ...] = field(default_factory=tuple)
    in_a_row: int = 0  #: looks in a row, this one included, with this PASS or FAIL
    confirm: int = 1  #: looks in a row a decision needs

    @property
    def level(self) -> float:
        """Confidence level of ``sigma_e_interval``."""
        return 1.0 - self.alpha_k

    def summary(self) -> dict[str, Any]:
        """JSON-safe dict (the ``--json-lines`` object)."""
        out = asdict(self)
        out["level"] = self.level
        out["notes"] = list(self.notes)
        return json_safe(out)

    def line(self) -> str:
        """One human line: elapsed time, sigma_e with its interval, the transient left, the
        predicted settling time and the state."""
        head = f"look {self.k:>3}  {_hours(self.elapsed_s):>8}"
        state = self.outcome.upper() + (
            " (decided)" if self.decided else
            f" ({self.in_a_row} of {self.confirm} looks in a row)" if self.in_a_row else "")
        if self.sigma_e_interval is None:
            return f"{head}  no fit yet: {self.reason}  {state}"
        lo, hi = self.sigma_e_interval
        pct = f"{100 * self.level:.4g} %"
        if self.upper_bound_only or lo <= 0:
            what = f"sigma_e < {hi:.3g} S/cm ({pct})"
        else:
            what = f"sigma_e {self.sigma_e:.3g} S/cm ({pct}: {lo:.3g} .. {hi:.3g})"
        rem = "" if self.remaining_fraction is None else \
            f"  left {100 * self.remaining_fraction:.2g} %"
        settle = ""
        if self.steady_state_reached:
            settle = "  settled"
        elif self.t_steady_estimate:
            settle = f"  settles >= ~{_hours(self.t_steady_estimate)}"
        prec = "  precision reached" if self.precision_reached else ""
        stop = f"  [stop: {self.stop}]" if self.stop else ""
        return f"{head}  {what}{rem}{settle}  {state}{prec}{stop}"


def _hours(s: float) -> str:
    if s is None or not math.isfinite(s):
        return "?"
    return f"{s / 3600:.3g} h" if s >= 3600 else f"{s / 60:.3g} min"


class WatchHistory:
    """The looks of one watched hold, in order.

    ``summary()`` gives a JSON-safe dict, ``to_json_lines(path)`` writes one object per look
    (atomically), ``from_json_lines(path)`` reads them back and ``plot(ax)`` draws sigma_e
    and its sequential interval against elapsed time.
    """

    def __init__(self, looks: list[Look] | None = None, *, threshold: float | None = None,
                 source: str | None = None):
        self.looks: list[Look] = list(looks or [])
        self.threshold = threshold
        self.source = source

    def __len__(self) -> int:
        return len(self.looks)

    def __iter__(self):
        return iter(self.looks)

    @property
    def last(self) -> Look | None:
        """The latest look (None before the first)."""
        return self.looks[-1] if self.looks else None

    @property
    def first_decision(self) -> Look | None:
        """The first look that decided (None: never)."""
        return next((lk for lk in self.looks if lk.decided), None)

    def summary(self) -> dict[str, Any]:
        """JSON-safe dict: the source, threshold, number of looks, the last look and the
        first decision (elapsed time and outcome)."""
        first = self.first_decision
        return json_safe({
            "source": self.source, "threshold": self.threshold, "n_looks": len(self.looks),
            "last": None if self.last is None else self.last.summary(),
            "decided_at_s": None if first is None else first.elapsed_s,
            "decision": None if first is None else first.outcome})

    def to_json_lines(self, path: str | Path) -> Path:
        """Write one JSON object per look to ``path`` (temp file + rename); returns it.

        Through :func:`sescreen.atomic.atomic_write_text`, so that an error names ``path``,
        not the temporary file, and a missing folder is created (review 4, D12).
        """
        from sescreen.atomic import atomic_write_text

        return atomic_write_text(path, "".join(json.dumps(lk.summary(), allow_nan=False)
                                               + "\n" for lk in self.looks))

    @classmethod
    def from_json_lines(cls, path: str | Path) -> WatchHistory:
        """Read a history written by :meth:`to_json_lines` or ``sescreen watch --json-lines``
        (lines without a look number, such as the final summary, are skipped)."""
        looks = []
        names = set(Look.__dataclass_fields__)
        for n, text in enumerate(Path(path).read_text().splitlines(), start=1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except ValueError:
                raise FormatError("not a JSON object: write the history with "
                                  "'sescreen watch --json-lines'", path=path, line=n) from None
            if "k" not in obj:
                continue
            kw = {key: obj.get(key) for key in names if key in obj}
            for key in ("sigma_e_interval", "sigma_e_interval_95"):
                if kw.get(key) is not None:
                    kw[key] = tuple(math.inf if v is None else v for v in kw[key])
            kw["notes"] = tuple(kw.get("notes") or ())
            looks.append(Look(**kw))
        thr = looks[0].threshold if looks else None
        return cls(looks, threshold=thr, source=str(path))

    def plot(self, ax=None):
        """sigma_e (points) and its sequential interval (band) against elapsed time, the
        threshold as a line and the first decision marked; returns the Axes."""
        import matplotlib.pyplot as plt
        import numpy as np

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        fitted = [lk for lk in self.looks if lk.sigma_e_interval is not None]
        t = np.array([lk.elapsed_s / 3600 for lk in fitted])
        lo = np.array([max(lk.sigma_e_interval[0], 0.0) for lk in fitted])
        hi = np.array([lk.sigma_e_interval[1] for lk in fitted])
        sig = np.array([lk.sigma_e if lk.sigma_e and lk.sigma_e > 0 else np.nan
                        for lk in fitted])
        if t.size:
            finite = hi[np.isfinite(hi)]
            floor = lo[lo > 0].min() if np.any(lo > 0) else \
                (finite.min() / 10 if finite.size else 1e-15)  # an upper bound: to the axis
            ax.fill_between(t, np.where(lo > 0, lo, floor), hi, alpha=0.3,
                            label="sequential interval")
            ax.plot(t, sig, "o-", ms=3, label="sigma_e")
        if self.threshold:
            ax.axhline(self.threshold, color="k", ls="--", lw=1, label="threshold")
        first = self.first_decision
        if first is not None:
            ax.axvline(first.elapsed_s / 3600, color="C3", lw=1,
                       label=f"decided: {first.outcome.upper()}")
        ax.set_yscale("log")
        ax.set_xlabel("elapsed time (h)")
        ax.set_ylabel("sigma_e (S/cm)")
        ax.legend(fontsize="small")
        return ax
