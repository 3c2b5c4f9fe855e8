"""DC polarization on an ion-blocking cell: current decay -> steady state -> sigma_e.

A constant voltage V on Cu | SE | Cu (or Au, Mo, Pt) drives a current that decays to a
steady state carried by electrons only (Han et al. 2019; METHODS.md section 1):

    sigma_e = I_ss * L / (V * A)        S/cm, I in A, L in cm, A in cm^2, V in V     (1)

Holds last hours to days and are often stopped before steady state, and real records have
correlated noise, drift and quantized currents (METHODS.md section 6). The package:

``binning``     log-time bins, white noise from second differences, the current step
``noise``       the correlated-noise model (residual block-sum variogram -> covariance of
                the bin means) and the quantization half-width
``candidates``  one transient fitted by generalized least squares; what the hold can
                identify; the profile-likelihood interval
``averaging``   QAICc, Akaike weights, the model-averaged (MATA) interval
``judgement``   the tail trend, truncation test and the steady-state decision, with the
                warnings that explain it
``record``      the one pass over the raw samples: bins, white noise, cells of samples
``residuals``   a fit's residuals from those statistics (variogram, step test)
``grid``        global starting points: the amplitudes projected out on a grid
``marquardt``   Levenberg-Marquardt with box bounds
``lsq``         bounded least squares over parameters with product constraints
``widening``    rival models and a slow tail the fits alone leave out of the interval
``estimate``    the steps above in order: I_ss with its interval
``analysis``    a Measurement in, a :class:`DCPolarizationResult` out (eq. 1)
``series``      several voltages: sigma_e from dI_ss/dV

A two-blocking-electrode value is an upper bound of sigma_e, not the Hebb-Wagner value
(:mod:`sescreen.hebb_wagner`); the cell type is stored with every sigma_e.
"""

from sescreen.dcpol.analysis import (
    fit_dcpol,
    fit_dcpol_series,
    holds,
    select_hold,
    sigma_from_current,
)
from sescreen.dcpol.binning import Binned, noise_sigma, resolution_step
from sescreen.dcpol.candidates import Candidate
from sescreen.dcpol.estimate import (
    AUTO_MODELS,
    MODEL_CHOICES,
    TransientEstimate,
    estimate_transient,
)
from sescreen.dcpol.judgement import SteadyStateCriterion
from sescreen.dcpol.record import RecordStats, log_bin, summarize
from sescreen.dcpol.result import DCPolarizationResult
from sescreen.dcpol.series import VoltageSeriesResult, fit_voltage_series

__all__ = [
    "AUTO_MODELS",
    "MODEL_CHOICES",
    "Binned",
    "Candidate",
    "DCPolarizationResult",
    "RecordStats",
    "SteadyStateCriterion",
    "TransientEstimate",
    "VoltageSeriesResult",
    "estimate_transient",
    "fit_dcpol",
    "fit_dcpol_series",
    "fit_voltage_series",
    "holds",
    "log_bin",
    "noise_sigma",
    "resolution_step",
    "select_hold",
    "sigma_from_current",
    "summarize",
]
