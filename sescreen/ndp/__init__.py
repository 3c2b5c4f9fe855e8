"""Neutron depth profiling (NDP): spectra -> lithium depth profiles -> dendrite content.

Modules: :mod:`~sescreen.ndp.spectra` (reading frames), :mod:`~sescreen.ndp.calibration`
(energy and depth calibrations, stacks), :mod:`~sescreen.ndp.stopping` (stopping powers,
range tables, the depths behind plated lithium), :mod:`~sescreen.ndp.profiles`
(corrections, eq. 4, profiles, the analysis), :mod:`~sescreen.ndp.boundary` (the surface /
bulk boundary), :mod:`~sescreen.ndp.onset` (when the bulk lithium starts to rise),
:mod:`~sescreen.ndp.host_shift` and :mod:`~sescreen.ndp.surface_layer` (the electrolyte's
lithium, and a surface layer, that plated lithium pushes deeper),
:mod:`~sescreen.ndp.growth` (internal deposition or directional growth),
:mod:`~sescreen.ndp.forward` (synthetic spectra from a profile).
"""

from sescreen.ndp.calibration import (
    DEPTH_PRESETS,
    HAN2019_ENERGY,
    DepthCalibration,
    EnergyCalibration,
    depth_preset,
    load_stack,
    stopping_calibration,
)
from sescreen.ndp.forward import synthesize_series
from sescreen.ndp.profiles import (
    HAN2019_STANDARD,
    NDPAnalysis,
    Standard,
    analyse,
    host_lithium_density,
)
from sescreen.ndp.spectra import SpectrumSeries, read_spectra

__all__ = [
    "DEPTH_PRESETS",
    "HAN2019_ENERGY",
    "HAN2019_STANDARD",
    "DepthCalibration",
    "EnergyCalibration",
    "NDPAnalysis",
    "SpectrumSeries",
    "Standard",
    "analyse",
    "depth_preset",
    "host_lithium_density",
    "load_stack",
    "read_spectra",
    "stopping_calibration",
    "synthesize_series",
]
