"""NDP review: frame order, channel axes, one-frame series, frame-to-frame scatter beyond
counting (the monitor's own noise), and the screening path without a 10B standard.

The spectra here are drawn directly (a flat host spectrum with Poisson counts), not with
:mod:`sescreen.ndp.forward`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from sescreen.cli import main
from sescreen.errors import FormatError, InputError
from sescreen.ndp import HAN2019_STANDARD, Standard, analyse, depth_preset, read_spectra
from sescreen.ndp.profiles import detect_onset
from sescreen.ndp.spectra import SpectrumSeries, write_spectra

CAL = depth_preset("han2019-llzo-x10")
N_CH = 4000
STD = Standard(counts_per_monitor=850.0)


def _flat_series(rng, n=30, per_channel=30.0, monitor=None, rise_from=None, rise=0.0):
    """Frames of a flat host spectrum (channels 1500..3300, inside the LLZO window),
    optionally rising by ``rise`` (fraction per frame) from frame ``rise_from`` on; the
    monitor is a Poisson count of mean ``monitor`` (exact 1e9 when None)."""
    counts = np.zeros((n, N_CH))
    mon = np.full(n, 1e9) if monitor is None else rng.poisson(monitor, n).astype(float)
    for k in range(n):
        level = per_channel * (1 + (rise * (k - rise_from) if rise_from is not None
                                    and k > rise_from else 0.0))
        # the detected counts follow the true flux (monitor mean), not the monitor's draw
        counts[k, 1500:3300] = rng.poisson(level, 1800)
    return SpectrumSeries(np.arange(float(N_CH)), counts, np.full(n, 171.0), np.full(n, 180.0),
                          mon, np.arange(n) * 180.0)


def _write_frames(folder, counts, names, with_time=False):
    folder.mkdir()
    for k, (name, c) in enumerate(zip(names, counts, strict=True)):
        head = "# live_time: 171\n# real_time: 180\n# monitor: 1e9\n"
        if with_time:
            head += f"# time: {k * 180}\n"
        rows = "\n".join(f"{ch} {int(v)}" for ch, v in enumerate(c))
        (folder / name).write_text(head + "channel counts\n" + rows + "\n")


# -- frame order ------------------------------------------------------------------------------
def test_unpadded_frame_numbers_are_read_in_numeric_order(tmp_path):
    """spec_10 is the eleventh frame, not the third (a plain string sort put it there, and
    frames without a time header are timed by their order)."""
    rng = np.random.default_rng(1)
    n = 12
    counts = np.zeros((n, N_CH))
    for k in range(n):
        counts[k, 1500:3300] = rng.poisson(30 + 3 * k, 1800)  # total grows with k
    _write_frames(tmp_path / "f", counts, [f"spec_{k}.txt" for k in range(n)])
    s = read_spectra(tmp_path / "f")
    assert [p.rsplit("/", 1)[-1] for p in s.sources[:4]] == [
        "spec_0.txt", "spec_1.txt", "spec_2.txt", "spec_3.txt"]
    assert np.all(np.diff(s.counts.sum(axis=1)) > 0)
    np.testing.assert_allclose(s.time_s, np.arange(n) * 180.0)


# -- the channel axis -------------------------------------------------------------------------
def _one_frame_text(rows, header="channel counts"):
    return "# live_time: 171\n# real_time: 180\n# monitor: 1e9\n" + header + "\n" + rows + "\n"


def test_energy_axis_is_refused(tmp_path):
    rows = "\n".join(f"{0.696 * ch + 38.267:.3f} 5" for ch in range(N_CH))
    p = tmp_path / "e.txt"
    p.write_text(_one_frame_text(rows, "energy_keV counts"))
    with pytest.raises(FormatError, match="channel numbers"):
        read_spectra(p)
    p.write_text(_one_frame_text(rows))  # the same, headed 'channel'
    with pytest.raises(FormatError, match="not a whole number"):
        read_spectra(p)


def test_repeated_channels_are_refused(tmp_path):
    rows = [f"{ch} 5" for ch in range(N_CH)] + [f"{ch} 5" for ch in range(3000, 3100)]
    p = tmp_path / "dup.txt"
    p.write_text(_one_frame_text("\n".join(rows)))
    with pytest.raises(FormatError, match="more than once"):
        read_spectra(p)


def test_descending_channels_are_put_in_order(tmp_path):
    p = tmp_path / "desc.txt"
    p.write_text(_one_frame_text("\n".join(f"{ch} {ch % 7}" for ch in range(N_CH)[::-1])))
    s = read_spectra(p)
    np.testing.assert_array_equal(s.channels, np.arange(float(N_CH)))
    np.testing.assert_array_equal(s.counts[0], np.arange(N_CH) % 7)


def test_negative_counts_name_the_channel(tmp_path):
    rows = "\n".join(f"{ch} {5 - 3.3 * (ch == 2500):.2f}" for ch in range(N_CH))
    rows = rows.replace("2500 1.70", "2500 -1.30")
    p = tmp_path / "neg.txt"
    p.write_text(_one_frame_text(rows))
    with pytest.raises(FormatError, match=r"channel 2500 has negative counts.*background"):
        read_spectra(p)


def test_wide_table_without_times_is_timed_by_real_time(tmp_path):
    p = tmp_path / "wide.csv"
    n = 4
    lines = ["channel," + ",".join(f"run{k}" for k in range(n)),
             "live_time," + ",".join(["171"] * n), "real_time," + ",".join(["180"] * n),
             "monitor," + ",".join(["1e9"] * n)]
    lines += [f"{ch}," + ",".join(["5"] * n) for ch in range(N_CH)]
    p.write_text("\n".join(lines) + "\n")
    s = read_spectra(p)
    np.testing.assert_allclose(s.time_s, [0.0, 180.0, 360.0, 540.0])


# -- one frame --------------------------------------------------------------------------------
def test_one_frame_is_refused_not_reported_as_zero_change(tmp_path):
    s = _flat_series(np.random.default_rng(2), n=1)
    with pytest.raises(InputError, match="one frame"):
        analyse(s, CAL, standard=STD)
    write_spectra(s, tmp_path / "one")
    r = CliRunner().invoke(main, ["ndp", str(tmp_path / "one"), "--stack", "han2019-llzo-x10",
                                  "--standard-counts", "850"])
    assert r.exit_code == 2 and "one frame" in r.stderr


# -- scatter beyond counting ------------------------------------------------------------------
def test_onset_not_claimed_on_white_excess_noise():
    """A flat series whose frames scatter 3x their counting errors (e.g. the monitor's own
    Poisson noise, which the counting errors leave out) has no onset."""
    rng = np.random.default_rng(3)
    t = np.arange(40) * 180.0
    claimed = 0
    for _ in range(50):
        y = 1e5 + rng.normal(0, 3 * math.sqrt(1e5), t.size)
        claimed += detect_onset(t, y, np.full(t.size, math.sqrt(1e5)))["onset_s"] is not None
    assert claimed == 0


def test_onset_still_found_on_a_curved_rise_with_counting_noise():
    rng = np.random.default_rng(4)
    t = np.arange(40) * 180.0
    truth = 1e5 * (1 + 0.02 * np.clip((t - t[16]) / (t[-1] - t[16]), 0, None) ** 2)
    y = rng.poisson(truth).astype(float)
    out = detect_onset(t, y, np.sqrt(y))
    assert out["onset_s"] is not None and out["scatter_ratio"] < 2.0


def test_monitor_noise_widens_the_dendrite_error_and_gives_no_false_onset():
    """Monitor counts of ~2000 per frame (2 % noise) against ~54000 counts in the bulk
    (0.4 %): without the scatter ratio, the bulk content's error was ~5x too small and
    flat series showed onsets."""
    onsets, z = 0, []
    for seed in range(8):
        s = _flat_series(np.random.default_rng(10 + seed), n=40, monitor=2000.0)
        a = analyse(s, CAL, standard=STD, boundary_um=1.0)
        onsets += a.onset["onset_s"] is not None
        z.append(a.bulk[-1] / a.bulk_err[-1])
        assert any("scatters from frame to frame" in w for w in a.warnings)
    assert onsets == 0
    assert np.max(np.abs(z)) < 3.5


def test_counting_noise_alone_keeps_the_counting_error():
    s = _flat_series(np.random.default_rng(5), n=40)
    a = analyse(s, CAL, standard=STD, boundary_um=1.0)
    assert not any("scatters" in w for w in a.warnings)
    assert a.onset["onset_s"] is None


# -- screening without a standard -------------------------------------------------------------
def test_screening_ndp_without_standard_counts_warns_relative_units(tmp_path):
    from sescreen.screening import _ndp

    s = _flat_series(np.random.default_rng(6), n=6)
    write_spectra(s, tmp_path / "frames")
    rec = {"ndp_stack": "han2019-llzo-x10", "ndp": str(tmp_path / "frames"),
           "ndp_standard_counts": math.nan, "host_density_g_cm3": math.nan,
           "ndp_current_ma_cm2": 0.5}
    a = _ndp(rec, None, [])
    assert any("no 10B standard" in w for w in a.warnings)
    assert not any("of the charge passed" in w for w in a.warnings)
    assert HAN2019_STANDARD.counts_per_monitor == 1.0


def test_no_standard_gives_no_fraction_of_host_lithium():
    """Without C_10B the amounts are relative: 'x % of the host's lithium' (atoms/cm^3)
    and the transported fraction of the charge were printed from them all the same."""
    s = _flat_series(np.random.default_rng(7), n=6)
    a = analyse(s, CAL, host=("Li6.4La3Zr1.4Ta0.6O12", 5.1), current_ma_cm2=0.5)
    summary = a.summary()
    assert "dendrite_fraction_of_host_li" not in summary
    assert "transported_fraction_of_charge" not in summary
    assert "host's lithium" not in str(a)
    with_std = analyse(s, CAL, standard=STD, host=("Li6.4La3Zr1.4Ta0.6O12", 5.1),
                       current_ma_cm2=0.5).summary()
    assert "dendrite_fraction_of_host_li" in with_std
