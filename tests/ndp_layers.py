"""Operando NDP series of an electrolyte with a thin surface layer (tests/test_ndp_surface_layer.py
and its measurement script): the layer's lithium differs from the bulk's (Li-poor, Li-rich, a
Li2CO3 film), as a step or an exponential of true depth; lithium plates at the front at a
constant current and pushes the electrolyte, layer and all, deeper (CATIMA stopping,
:func:`sescreen.ndp.synthesize_series` with ``plated_um``); a Gaussian detector resolution;
Poisson counts. The analysis knows none of this."""

from __future__ import annotations

import numpy as np

from sescreen.constants import ELEMENTARY_CHARGE
from sescreen.ndp import Standard, depth_preset, host_lithium_density, synthesize_series
from sescreen.ndp.stopping import LI_METAL_ATOMS_CM3

CAL = depth_preset("han2019-llzo-x10")
HOST = host_lithium_density("Li6.4La3Zr1.4Ta0.6O12", 5.1)
#: ~40,000 counts per 60-channel host bin and frame
STD = Standard(counts_per_monitor=20000.0)
TIMES = np.arange(30) * 360.0
T_ON = TIMES[12]
#: Li2CO3 (2.11 g/cm^3): 3.44e22 Li/cm^3, 1.5 x the LLZO host's
LI2CO3 = host_lithium_density("Li2CO3", 2.11)
#: name: (shape, layer Li density over the host's - 1, thickness or decay length, um)
LAYERS = {"li-poor step": ("step", -0.5, 0.3), "li-poor exp": ("exp", -0.6, 0.3),
          "li-rich step": ("step", 0.6, 0.5), "li-rich exp": ("exp", 0.8, 0.3),
          "li-rich deep exp": ("exp", 0.8, 0.5), "li2co3 film": ("step", LI2CO3 / HOST - 1, 0.4),
          "li2co3 graded": ("exp", LI2CO3 / HOST - 1, 0.4)}


def layer_profile(shape, excess, length_um, *, deposit=0.0):
    """Li atoms/cm^3 vs true depth in the electrolyte: host x (1 + ``excess``) in the first
    ``length_um`` (``shape='step'``) or host x (1 + ``excess`` exp(-x / length_um))
    (``'exp'``), plus from T_ON a uniform internal deposit growing linearly to ``deposit``
    x host at the last frame (a dendrite)."""
    def profile(t, x):
        f = np.where(x < length_um, excess, 0.0) if shape == "step" \
            else excess * np.exp(-x / length_um)
        grow = np.clip((t - T_ON) / (TIMES[-1] - T_ON), 0.0, None)
        return HOST * (1.0 + f + deposit * grow)
    return profile


def layer_series(name, seed, *, deposit=0.0, j_ma_cm2=None, fwhm_kev=None):
    """A series of the layer ``name`` (:data:`LAYERS`); plating current and resolution drawn
    from the seed (0.1-0.4 mA/cm^2: 1.5-6 um of lithium; 18-45 keV FWHM) unless given."""
    rng = np.random.default_rng(seed)
    j = float(rng.uniform(0.1, 0.4)) if j_ma_cm2 is None else j_ma_cm2
    fwhm = float(rng.uniform(18.0, 45.0)) if fwhm_kev is None else fwhm_kev

    def plated_um(t):
        return j * 1e-3 * t / ELEMENTARY_CHARGE / LI_METAL_ATOMS_CM3 * 1e4

    return synthesize_series(layer_profile(*LAYERS[name], deposit=deposit), TIMES, CAL,
                             rng=rng, standard=STD, frame_s=360.0, current_ma_cm2=j,
                             plated_um=plated_um, resolution_fwhm_kev=fwhm)
