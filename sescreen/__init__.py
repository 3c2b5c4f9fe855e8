"""sescreen: will lithium dendrites grow inside this solid electrolyte?

Implements the analysis of Han et al., "High electronic conductivity as the origin of
lithium dendrite formation within solid electrolytes", Nature Energy 4, 187-196 (2019),
doi:10.1038/s41560-018-0312-z: electronic conductivity from DC polarization, its
temperature dependence, the thresholds it must stay below (1e-10 S/cm at 1 mA/cm^2,
1e-12 S/cm at 10 mA/cm^2), and the neutron-depth-profiling evidence.

The main entry points are importable from here and load their modules on first use, so
``import sescreen`` stays light::

    import sescreen
    m = sescreen.read("hold.mpr")
    fit = sescreen.fit_dcpol(m, thickness_cm=0.1)
    print(fit.statement)                        # what the record supports
    v = sescreen.verdict(fit.sigma_e, **sescreen.fit_inputs(fit))
    v.outcome_1ma                               # "pass" | "fail" | "inconclusive"
"""

from __future__ import annotations

import importlib

from sescreen.errors import FitError, FormatError, InputError, SescreenError, TechniqueError

__version__ = "0.1.0"

# public name -> module that defines it (imported on first access)
_LAZY = {
    "read": "sescreen.io",
    "Measurement": "sescreen.io",
    "Technique": "sescreen.io",
    "fit_dcpol": "sescreen.dcpol",
    "fit_voltage_series": "sescreen.dcpol",
    "fit_hebb_wagner": "sescreen.hebb_wagner",
    "fit_arrhenius": "sescreen.arrhenius",
    "fit_arrhenius_many": "sescreen.arrhenius_batch",
    "critical_overpotential": "sescreen.mechanics",
    "fit_ccd": "sescreen.ccd",
    "paper_construction": "sescreen.ccd",
    "measure_ccd": "sescreen.cycling",
    "verdict": "sescreen.criteria",
    "judge": "sescreen.criteria",
    "judge_at": "sescreen.criteria",
    "decide": "sescreen.criteria",
    "fit_inputs": "sescreen.criteria",
    "max_sigma_e": "sescreen.criteria",
    "predicted_ccd": "sescreen.criteria",
    "screen": "sescreen.screening",
    "run_batch": "sescreen.batch",
}

__all__ = [
    "FitError",
    "FormatError",
    "InputError",
    "SescreenError",
    "TechniqueError",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sescreen' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
