"""NDP boundary under a plated layer reaching past the window's middle (review ndp3): the
surface peak was sought only in the window's shallow half against the deep half's median
increase, which is then the plated layer itself; no peak was found, the bulk region started
at the electrolyte's front (inside the plated layer) and a uniform deposit or no change
was called directional growth. Spectra from test_ndp_boundary's own forward model."""

from __future__ import annotations

import pytest
from test_ndp_boundary import CAL, STD, STOPPING_RATIO, _profile, _smeared_series

from sescreen.errors import InputError
from sescreen.ndp import analyse
from sescreen.ndp.growth import BOUNDARY_SENSITIVE, NOT_RESOLVED


@pytest.mark.parametrize(("kind", "verdicts"),
                         [("uniform", ("internal deposition", NOT_RESOLVED)),
                          ("gradient", ("directional growth", BOUNDARY_SENSITIVE))])
def test_plated_layer_past_the_middle_keeps_the_boundary_at_its_edge(kind, verdicts):
    """60 um of plated Li: the bulk region starts past its edge (it started at 0.3 um, and
    a uniform deposit was called directional growth); 2.5 um of bulk is left, so a uniform
    8 % deposit may be unresolved, but not directional."""
    thickness = 60.0  # um of Li metal: 13.2 um SE-equivalent, in a -2 .. 16 um window
    s = _smeared_series(_profile(kind, thickness), fwhm_kev=18.0, seed=21)
    a = analyse(s, CAL, standard=STD)
    edge = thickness * STOPPING_RATIO
    assert a.boundary["edge_um"] == pytest.approx(edge, abs=0.2)
    assert a.boundary_um > edge
    assert a.uniformity["verdict"] in verdicts


def test_plated_layer_filling_the_window_is_refused():
    s = _smeared_series(_profile("uniform", 70.0), fwhm_kev=18.0, seed=22)  # edge 15.4 um
    with pytest.raises(InputError, match="plated layer fills the depth window"):
        analyse(s, CAL, standard=STD)
