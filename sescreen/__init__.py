"""sescreen: will lithium dendrites grow inside this solid electrolyte?

Implements the analysis of Han et al., "High electronic conductivity as the origin of
lithium dendrite formation within solid electrolytes", Nature Energy 4, 187-196 (2019),
doi:10.1038/s41560-018-0312-z: electronic conductivity from DC polarization, its
temperature dependence, the thresholds it must stay below (1e-10 S/cm at 1 mA/cm^2,
1e-12 S/cm at 10 mA/cm^2), and the neutron-depth-profiling evidence.

Subpackages are imported on demand so that ``import sescreen`` stays light.
"""

from sescreen.errors import FitError, FormatError, InputError, SescreenError, TechniqueError

__version__ = "0.1.0"

__all__ = [
    "FitError",
    "FormatError",
    "InputError",
    "SescreenError",
    "TechniqueError",
    "__version__",
]
