"""Result objects of a CCD record analysis: per-step figures and the CCD interval."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["CCDRecord", "Signature", "StepSummary"]


@dataclass(frozen=True)
class Signature:
    """One piece of evidence: ``name`` fired at time ``t_s`` (s) in step ``step``."""

    name: str
    step: int
    t_s: float
    confidence: float
    detail: str
    onset_only: bool = False  #: only dates the onset of a short a later step confirms

    def summary(self) -> dict:
        return {"name": self.name, "step": self.step, "t_s": self.t_s,
                "confidence": round(self.confidence, 3), "detail": self.detail}


@dataclass(frozen=True)
class StepSummary:
    """One current density of the staircase, as held.

    Attributes
    ----------
    index : int
    density_ma_cm2 : float
        |j|, mA/cm^2.
    t_start_s, t_end_s : float
        s.
    capacity_mah_cm2 : float
        Areal capacity passed in the step, mAh/cm^2.
    mean_v : float
        Mean voltage of the held points, V.
    overpotential_v : float
        Polarization of the step, V: median of V sign(I) (0 V = Li/Li+ for a Li counter
        electrode), or half the difference between the +j and -j halves when the step has
        both, which needs no equilibrium voltage.
    asr_ohm_cm2 : float
        overpotential / |j|, ohm cm^2 (the kinetics the paper's Discussion says a CCD hides).
    polarity : {"positive", "negative", "both"}
    state : {"held", "failed", "after_failure", "contact_loss", "not_judged", "in_doubt"}
        ``in_doubt``: the record's last step, not counted as held (it ends in a collapse
        of |V| or before the step's time or capacity).
    """

    index: int
    density_ma_cm2: float
    t_start_s: float
    t_end_s: float
    capacity_mah_cm2: float
    mean_v: float
    overpotential_v: float
    asr_ohm_cm2: float
    polarity: str
    state: str

    def summary(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class CCDRecord:
    """The critical current density one cycling record supports, with its evidence.

    Attributes
    ----------
    outcome : {"shorted", "no_short", "contact_loss", "ambiguous"}
    shorted : bool
    ccd_ma_cm2 : float or None
        Last current density held without a short, mA/cm^2 (None when the first step
        failed). With ``censored`` it is a lower bound.
    failed_at_ma_cm2 : float or None
        The density at which the cell shorted (the "CCD" of Han et al. 2019, who quote the
        density at which the cell shorts), mA/cm^2; None without a short.
    censored : bool
        True when the record ended without a short: CCD > ccd_ma_cm2.
    confidence : float
        Combined confidence of the short signatures at the failing step, 1 - prod(1 - c).
    signatures : tuple of Signature
        Every short signature that fired, in time order.
    contact_loss : Signature or None
    sigma_v : float
        Noise of the polarization the significance tests used, V.
    """

    source: str | None
    protocol: str
    cell: str
    area_cm2: float
    temperature_k: float | None
    outcome: str
    ccd_ma_cm2: float | None
    failed_at_ma_cm2: float | None
    censored: bool
    confidence: float
    steps: tuple[StepSummary, ...]
    signatures: tuple[Signature, ...]
    contact_loss: Signature | None
    sigma_v: float
    warnings: tuple[str, ...] = ()
    trace: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def shorted(self) -> bool:
        return self.outcome == "shorted"

    @property
    def interval_ma_cm2(self) -> tuple[float, float | None]:
        """(lo, hi], mA/cm^2: the CCD lies above the last density held and at or below the
        density that failed (hi None: censored, only a lower bound)."""
        return (self.ccd_ma_cm2 or 0.0, self.failed_at_ma_cm2)

    def summary(self) -> dict[str, Any]:
        """JSON-safe dict (the ``sescreen ccd --json`` object)."""
        return {
            "source": self.source,
            "outcome": self.outcome,
            "shorted": self.shorted,
            "ccd_ma_cm2": self.ccd_ma_cm2,
            "failed_at_ma_cm2": self.failed_at_ma_cm2,
            "ccd_interval_ma_cm2": list(self.interval_ma_cm2),
            "censored": self.censored,
            "confidence": round(self.confidence, 3),
            "signatures": sorted({s.name for s in self.signatures}),
            "evidence": [s.summary() for s in self.signatures],
            "contact_loss": None if self.contact_loss is None else self.contact_loss.summary(),
            "protocol": self.protocol,
            "cell": self.cell,
            "area_cm2": self.area_cm2,
            "temperature_k": self.temperature_k,
            "noise_v": self.sigma_v,
            "steps": [s.summary() for s in self.steps],
            "warnings": list(self.warnings),
        }

    def statement(self) -> str:
        """One sentence: what the record supports."""
        lo, hi = self.interval_ma_cm2
        if self.outcome == "shorted":
            names = ", ".join(sorted({s.name for s in self.signatures
                                      if s.step == self._failed_index()}))
            return (f"shorted at {hi:.4g} mA/cm2 ({names}; confidence {self.confidence:.2f}): "
                    f"CCD in ({lo:.4g}, {hi:.4g}] mA/cm2")
        if self.outcome == "ambiguous":
            return (f"ambiguous: weak short signatures at {self._suspect():.4g} mA/cm2 "
                    f"(confidence {self.confidence:.2f}); no short claimed, CCD > {lo:.4g} "
                    "mA/cm2 if none")
        tail = ("; contact loss (voltage runaway) at "
                f"{self.steps[self.contact_loss.step].density_ma_cm2:.4g} mA/cm2, not a short"
                if self.contact_loss is not None else "")
        return f"no short detected: CCD > {lo:.4g} mA/cm2 (censored){tail}"

    def _failed_index(self) -> int | None:
        return next((s.index for s in self.steps if s.state == "failed"), None)

    def _suspect(self) -> float:
        return self.steps[min(s.step for s in self.signatures)].density_ma_cm2

    def __str__(self) -> str:
        temp = "" if self.temperature_k is None else f", {self.temperature_k - 273.15:.4g} C"
        lines = [f"{self.source or 'record'}: {self.cell} ({self.protocol}{temp}, "
                 f"{self.area_cm2:g} cm2)", "  " + self.statement(),
                 "  step  j/mA cm-2   t_start/s    t_end/s  Q/mAh cm-2  mean V   eta/mV"
                 "  ASR/ohm cm2  state"]
        for s in self.steps:
            lines.append(f"  {s.index:4d}  {s.density_ma_cm2:9.4g}  {s.t_start_s:10.1f} "
                         f"{s.t_end_s:10.1f}  {s.capacity_mah_cm2:10.3g}  {s.mean_v:+7.4f}"
                         f"  {s.overpotential_v * 1e3:7.3g}  {s.asr_ohm_cm2:11.4g}  {s.state}")
        lines += [f"  evidence: {s.name} at t = {s.t_s:.1f} s (step {s.step}, confidence "
                  f"{s.confidence:.2f}): {s.detail}" for s in self.signatures]
        if self.contact_loss is not None:
            lines.append(f"  {self.contact_loss.detail} at t = {self.contact_loss.t_s:.1f} s")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def plot(self, ax=None):
        """Voltage vs time with the current density on a twin axis, the steps shaded by
        state and the signatures marked. Returns the voltage Axes."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(7, 4))
        t, v, j = self.trace.get("time_s"), self.trace.get("voltage_v"), self.trace.get("j")
        if t is not None:
            ax.plot(t, v, lw=0.8, color="k", label="V")
            twin = ax.twinx()
            twin.plot(t, j, lw=0.8, color="tab:blue", alpha=0.6)
            twin.set_ylabel("j (mA/cm^2)", color="tab:blue")
        colors = {"held": "tab:green", "failed": "tab:red", "after_failure": "0.8",
                  "contact_loss": "tab:orange", "not_judged": "0.9", "in_doubt": "tab:olive"}
        for s in self.steps:
            ax.axvspan(s.t_start_s, s.t_end_s, color=colors[s.state], alpha=0.12, lw=0)
        for s in self.signatures:
            ax.axvline(s.t_s, color="tab:red", ls="--", lw=0.8)
            ax.annotate(s.name, (s.t_s, 0.02), xycoords=("data", "axes fraction"),
                        rotation=90, fontsize=7, color="tab:red")
        if self.contact_loss is not None:
            ax.axvline(self.contact_loss.t_s, color="tab:orange", ls=":", lw=1)
        ax.set_xlabel("time / s")
        ax.set_ylabel("V / V")
        # y=1 explicitly: where matplotlib puts it (no top tick labels), without measuring
        # the tick labels again at every layout pass (PNG unchanged, ~10 % of its save)
        ax.set_title(self.statement(), fontsize=8, y=1.0)
        return ax
