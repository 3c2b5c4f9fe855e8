"""``sescreen ndp``: neutron depth profiling spectra to lithium profiles and dendrite content."""

from __future__ import annotations

import os

import click

from sescreen.cli.app import main
from sescreen.cli.options import (
    _FIGURE_FORMATS,
    _check_output,
    _finite_positive_option,
    _no_overwrite,
    _plain_text_figures,
    _quantity,
    emit_json,
    read_measurement,
)
from sescreen.errors import InputError


class _DefaultGroup(click.Group):
    """A group whose unknown first argument goes to a default subcommand
    (``sescreen ndp SPECTRA...`` is ``sescreen ndp analyse SPECTRA...``)."""

    default_command = "analyse"

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


@main.group(cls=_DefaultGroup)
def ndp():
    """Neutron depth profiling: spectra -> lithium profiles -> dendrite content.

    sescreen ndp SPECTRA... --stack NAME|stack.toml  analyses a series of frames;
    sescreen ndp calibrate STACK  prints a depth calibration.
    """


def _depth_calibration(stack: str, method: str | None):
    from sescreen.ndp import calibration as cal

    if method in (None, "preset") and stack in cal.DEPTH_PRESETS:
        return cal.depth_preset(stack), None
    if method == "preset":
        raise InputError(f"no preset named {stack!r}; presets: {', '.join(cal.DEPTH_PRESETS)} "
                         "(or --method stopping with a stack TOML)")
    st = cal.load_stack(stack)
    calc = cal.stopping_calibration(st)
    comparison = {}
    if st.preset:
        for name in (st.preset, f"{st.preset}-x10"):
            if name in cal.DEPTH_PRESETS:
                comparison[name] = cal.compare_with_preset(calc, cal.depth_preset(name))
    return calc, comparison


@ndp.command("calibrate")
@click.argument("stack")
@click.option("--method", type=click.Choice(["preset", "stopping"]), default=None,
              help="preset: the paper's polynomial; stopping: computed with pycatima "
              "(default: preset when STACK names one).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def ndp_calibrate(stack, method, as_json):
    """Depth calibration of STACK (a TOML file or han2019-lipon|-llzo|-li3ps4[-x10])."""
    calib, comparison = _depth_calibration(stack, method)
    out = calib.summary()
    if comparison:
        out["compared_with_presets"] = comparison
    if as_json:
        emit_json(out)
        return
    click.echo(str(calib))
    for name, c in (comparison or {}).items():
        click.echo(f"  vs {name}: offset {c['offset_um']:+.3f} um, max difference after the "
                   f"offset {c['max_abs_after_offset_um']:.3f} um over {c['overlap_kev']:.0f} keV")


@ndp.command("analyse")
@click.argument("spectra", nargs=-1, required=True, type=click.Path())
@click.option("--stack", required=True, help="Depth calibration: preset name or stack TOML.")
@click.option("--method", type=click.Choice(["preset", "stopping"]), default=None)
@click.option("--standard-counts", type=float, callback=_finite_positive_option,
              help="C_10B: the 10B standard's corrected counts per monitor unit (eq. 4); "
              "without it, amounts are relative.")
@click.option("--alpha1-only", is_flag=True, help="The standard's counts are alpha_1 only.")
@click.option("--channels-per-bin", type=click.IntRange(min=1), default=60, show_default=True)
@click.option("--window", help="Depth window, e.g. '0:16' (um).")
@click.option("--boundary", help="Surface/bulk boundary, e.g. '2um' (default: 3 resolution widths "
              "past the plated layer's edge).")
@click.option("--current", help="Constant current density for the charge line, e.g. "
              "'0.1mA/cm2'.")
@click.option("--current-log", type=click.Path(dir_okay=False),
              help="A current record (any measurement file, time from the first frame) for "
              "the charge line; its area from --area or the file.")
@click.option("--area", help="Electrode area of --current-log, e.g. '0.785cm2'.")
@click.option("--background", type=click.Path(dir_okay=False),
              help="A background spectrum (one frame with live/real time and monitor), "
              "subtracted after the same dead-time and monitor corrections.")
@click.option("--host", help="Electrolyte formula and density, e.g. "
              "'Li6.4La3Zr1.4Ta0.6O12:5.1' (g/cm3), for the dendrite fraction.")
@click.option("--monitor", type=float, callback=_finite_positive_option,
              help="Monitor counts for frames whose headers lack it.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Save the figure.")
def ndp_analyse(spectra, stack, method, standard_counts, alpha1_only, channels_per_bin,
                window, boundary, current, current_log, area, background, host, monitor,
                as_json, plot_path):
    """Analyse a series of NDP frames (files, a folder or a wide table)."""
    import numpy as np

    from sescreen.ndp import HAN2019_STANDARD, Standard, analyse, read_spectra

    _check_output(plot_path, _FIGURE_FORMATS, "--plot")
    _no_overwrite({"--plot": plot_path},
                  [*spectra, current_log, background, stack if os.path.exists(stack) else None])
    calib, _ = _depth_calibration(stack, method)
    series = read_spectra(list(spectra), monitor=monitor)
    win = None
    if window:
        try:
            lo, hi = (float(x) for x in window.split(":"))
        except ValueError:
            raise InputError(f"--window {window!r}: write 'lo:hi' in um, e.g. '0:16'") from None
        win = (lo, hi)
    host_spec = None
    if host:
        formula, _, dens = host.partition(":")
        try:
            host_spec = (formula.strip(), float(dens))
        except ValueError:
            raise InputError(f"--host {host!r}: write 'FORMULA:DENSITY', e.g. "
                             "'Li7La3Zr2O12:5.1'") from None
    log = None
    if current_log is not None:
        m = read_measurement(current_log, area=area)
        if m.area_cm2 is None:
            raise InputError("--current-log needs the electrode area (--area)")
        log = (m.time_s - m.time_s[0], np.abs(m.current_a) * 1e3 / m.area_cm2)
    bg = None
    if background is not None:
        frame = read_spectra([background], monitor=monitor)
        if frame.counts.shape[1] != series.counts.shape[1]:
            raise InputError(f"the background has {frame.counts.shape[1]} channels, the series "
                             f"{series.counts.shape[1]}")
        bg = (frame.counts[0], float(frame.real_time_s[0] / frame.live_time_s[0]
                                     / frame.monitor[0]))
    result = analyse(
        series, calib, current_log=log, background=bg,
        standard=HAN2019_STANDARD if standard_counts is None
        else Standard(counts_per_monitor=standard_counts),
        channels_per_bin=channels_per_bin, depth_window_um=win,
        boundary_um=None if boundary is None else _quantity(boundary, "length",
                                                            "--boundary") * 1e6,
        current_ma_cm2=None if current is None else _quantity(
            current, "current_density", "--current") / 10.0,
        alpha1_only=alpha1_only, host=host_spec)
    if plot_path:
        from sescreen.plot import save_figure

        _plain_text_figures()
        save_figure(result.plot()[0], plot_path)
    if as_json:
        emit_json(result.summary())
    else:
        click.echo(str(result))
