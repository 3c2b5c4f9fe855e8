"""Commands on measurement files: ``inspect``, ``dcpol`` (sigma_e from DC polarization),
``arrhenius`` (sigma(T) and its extrapolation) and ``ccd`` (critical current density)."""

from __future__ import annotations

from typing import Any

import click

from sescreen.cli.app import main
from sescreen.cli.options import (
    _FIGURE_FORMATS,
    _check_output,
    _finite_fraction,
    _naming,
    _no_overwrite,
    _path_arg,
    _plain_text_figures,
    _quantity,
    accuracy_option,
    emit_json,
    fit_options,
    model_option,
    read_measurement,
    reader_options,
    temperature_uncertainty_option,
)
from sescreen.errors import InputError, SescreenError


@main.command()
@_path_arg
@reader_options
@click.option("--area", help="Electrode area, e.g. '0.785cm2' (overrides the file).")
@click.option("--voltage", help="Applied voltage, e.g. '100mV' (overrides the file).")
@click.option("--temperature", help="Temperature, e.g. '30C' (overrides the file).")
@click.option("--segments", "show_segments", is_flag=True,
              help="List the steps of a multi-step record.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def inspect(file: str, as_json: bool, show_segments: bool, **opts: Any) -> None:
    """Show what a measurement FILE holds: format, technique, metadata, columns."""
    m = read_measurement(file, **opts)
    if as_json:
        out = m.summary()
        if show_segments:
            out["segments"] = [_segment_row(s) for s in m.segments()]
        emit_json(out)
        return
    click.echo(str(m))
    if show_segments:
        for s in m.segments():
            row = _segment_row(s)
            click.echo(f"  segment {row['segment']}: {row['n_points']} points, "
                       f"t = {row['t_start_s']:.6g} .. {row['t_end_s']:.6g} s, "
                       f"applied voltage {row['applied_voltage_v']} V")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--thickness", required=True, help="Electrolyte thickness, e.g. '1mm'.")
@click.option("--area", help="Electrode area, e.g. '0.785cm2' (default: from the file).")
@click.option("--voltage", help="Applied voltage, e.g. '0.1V' (default: from the file).")
@click.option("--temperature", help="Temperature, e.g. '30C' (stored with sigma_e).")
@fit_options
@accuracy_option
@click.option("--cell", type=click.Choice(["blocking", "hebb-wagner"]), default="blocking",
              show_default=True, help="Cell type stored with sigma_e.")
@click.option("--thickness-tol", type=float, default=0.0, callback=_finite_fraction,
              help="Relative standard uncertainty of the thickness (e.g. 0.02).")
@click.option("--area-tol", type=float, default=0.0, callback=_finite_fraction,
              help="Relative standard uncertainty of the area (e.g. 0.01).")
@temperature_uncertainty_option(0.0, spans="the Hebb-Wagner conductivities' errors "
                                "(--cell hebb-wagner, several holds)")
@reader_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Save a figure (PNG/SVG/PDF) of the fit.")
def dcpol(files, thickness, area, voltage, temperature, model, skip, segment, accuracy,
          cell, thickness_tol, area_tol, temperature_uncertainty, as_json, plot_path, **opts):
    """Steady-state current and electronic conductivity from DC-polarization holds.

    FILES are constant-voltage holds on an ion-blocking cell (Cu | SE | Cu). One hold gives
    sigma_e = I_ss L / (V A) from the fitted asymptote; holds at several voltages (several
    files, or the steps of one file) give sigma_e from the slope dI_ss/dV. With
    --cell hebb-wagner (Li | SE | blocking, voltages = E vs Li), several holds give the
    electron and hole conductivities of METHODS eq. (2) (E > 0: the blocking electrode
    positive), with --temperature-uncertainty propagated into their errors.
    """
    from sescreen import dcpol as dc

    _check_output(plot_path, _FIGURE_FORMATS, "--plot")
    _no_overwrite({"--plot": plot_path}, files)
    thickness_cm = _quantity(thickness, "length", "--thickness") * 100
    skip_s = _quantity(skip, "time", "--skip")
    if skip_s is not None and skip_s < 0:
        raise InputError(f"--skip {skip!r} must not be negative")
    kwargs = dict(
        thickness_cm=thickness_cm, model=model, cell=cell,
        voltage_v=_quantity(voltage, "voltage", "--voltage"),
        skip_s=skip_s, accuracy_a=_quantity(accuracy, "current", "--accuracy"),
        thickness_rel_tol=thickness_tol, area_rel_tol=area_tol,
    )
    measurements = [read_measurement(f, area=area, temperature=temperature, **opts)
                    for f in files]
    hold_list = [h for m in measurements for h in dc.holds(m)]
    if segment is not None:
        if not 0 <= segment < len(hold_list):
            raise InputError(f"--segment {segment}: there are {len(hold_list)} holds "
                             f"(0..{len(hold_list) - 1})")
        hold_list = [hold_list[segment]]
    if temperature_uncertainty and not (cell == "hebb-wagner" and len(hold_list) > 1):
        raise InputError(f"--temperature-uncertainty {temperature_uncertainty:g}K widens the "
                         "Hebb-Wagner fit of several holds (--cell hebb-wagner), whose eq. (2) "
                         "depends on T; sigma_e = I L / (V A) of a hold does not: leave it out")
    results = []
    for h in hold_list:
        with _naming(h.source):
            results.append(dc.fit_dcpol(h, **kwargs))
    if cell == "hebb-wagner" and len(results) > 1:
        from sescreen.hebb_wagner import fit_hebb_wagner

        temps = {r.temperature_k for r in results}
        if None in temps or len(temps) > 1:
            raise InputError("Hebb-Wagner needs one known temperature for all holds "
                             "(--temperature)")
        result = fit_hebb_wagner([r.voltage_v for r in results], [r.i_ss for r in results],
                                 i_err_a=[r.i_ss_stderr for r in results],
                                 temperature_k=temps.pop(), thickness_cm=thickness_cm,
                                 area_cm2=results[0].area_cm2,
                                 temperature_uncertainty_k=temperature_uncertainty,
                                 labels=[f"{r.source} (hold {k}, {r.voltage_v:+.3g} V)"
                                         for k, r in enumerate(results)],
                                 hold_warnings=[f"{r.source} ({r.voltage_v:+.3g} V): {w}"
                                                for r in results for w in r.warnings])
    elif len(results) == 1:
        result = results[0]
    else:
        volts = {round(r.voltage_v, 6) for r in results}
        if len(volts) == 1:
            temps = {r.temperature_k for r in results}
            hint = ("; holds at several temperatures make an Arrhenius series: sescreen "
                    "arrhenius FILES... --thickness ..." if len(temps - {None}) > 1 else "")
            raise InputError(f"{len(results)} holds at the same voltage "
                             f"({results[0].voltage_v:g} V): choose one with --segment N{hint}")
        result = dc.fit_voltage_series(results)
    if plot_path:
        from sescreen.plot import save_figure

        _plain_text_figures()
        save_figure(result.plot(), plot_path)
    if as_json:
        emit_json(result.summary())
    else:
        click.echo(str(result))


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--convention", type=click.Choice(["sigma", "sigmaT"]), default="sigma",
              show_default=True, help="sigma = A exp(-Ea/kT) or sigma*T = A exp(-Ea/kT).")
@click.option("--at", "at", help="Extrapolate to this temperature, e.g. '25C'.")
@click.option("--material", help="Only this material of a multi-material table.")
@click.option("--thickness", help="For measurement files: electrolyte thickness, e.g. '1mm'.")
@click.option("--area", help="For measurement files: electrode area (default: the file's).")
@click.option("--temperatures", help="For measurement files: one temperature per file, "
              "comma-separated, e.g. '30C,60C,90C' (default: the files' own).")
@model_option
@temperature_uncertainty_option(0.0)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Save the Arrhenius plot (PNG/SVG/PDF).")
def arrhenius(inputs, convention, at, material, thickness, area, temperatures, model,
              temperature_uncertainty, as_json, plot_path):
    """Arrhenius fit of sigma(T) and extrapolation to another temperature.

    INPUTS is a table (temperature and sigma columns, optional stderr and material), a
    manifest (file, temperature, thickness, area columns: each file runs through the DC
    analysis), or several DC-polarization files of one cell (--thickness, and
    --temperatures unless the files carry them).
    """
    import pandas as pd

    from sescreen import sigma_table as st
    from sescreen.arrhenius import fit_arrhenius, kelvin_as_celsius_warning

    _check_output(plot_path, _FIGURE_FORMATS, "--plot")
    _no_overwrite({"--plot": plot_path}, inputs)
    at_k = _quantity(at, "temperature", "--at")
    failures: list[str] = []
    if len(inputs) == 1 and _is_table(inputs[0]):
        head = _first_line(inputs[0]).lower()
        points = (st.read_manifest(inputs[0], model=model, errors=failures)
                  if "file" in [h.strip().strip('"') for h in _split_any(head)]
                  else st.read_sigma_table(inputs[0]))
    else:
        if thickness is None:
            raise InputError("measurement files need --thickness (or give a table/manifest)")
        temps = None
        if temperatures:
            temps = [_quantity(x, "temperature", "--temperatures")
                     for x in temperatures.split(",")]
        area_m2 = _quantity(area, "area", "--area")
        points = st.points_from_measurements(
            inputs, thickness_cm=_quantity(thickness, "length", "--thickness") * 100,
            area_cm2=None if area_m2 is None else area_m2 * 1e4, temperatures_k=temps,
            model=model, errors=failures)
    groups = st.sigma_points(points)
    if material is not None:
        if material not in groups:
            raise InputError(f"no material {material!r}; the table has "
                             f"{[g for g in groups if g]}")
        groups = {material: groups[material]}
    fits, notes = [], {}
    source = inputs[0] if len(inputs) == 1 else None
    for name, part in groups.items():
        err = part["sigma_stderr"]
        # one rule with screen: a point without a stated error leaves the fit unweighted
        # (filled with the others' median, it had narrowed the interval past the truth)
        weighted = not pd.isna(err).any()
        if pd.isna(err).any() and not pd.isna(err).all():
            notes[name] = (f"{int(pd.isna(err).sum())} of {len(err)} points state no error: "
                           "the fit is unweighted (its scatter sets the interval)")
        kelvin = kelvin_as_celsius_warning(part["temperature_k"])
        if kelvin:
            notes[name] = f"{notes[name]}; {kelvin}" if name in notes else kelvin
        try:
            fits.append(fit_arrhenius(part["temperature_k"], part["sigma"],
                                      err if weighted else None,
                                      convention=convention, material=name,
                                      temperature_uncertainty_k=temperature_uncertainty))
        except SescreenError as exc:  # too few points left: say which files were skipped
            skipped = f"; skipped: {'; '.join(failures)}" if failures else ""
            raise type(exc)(f"{exc.message}{skipped}", path=exc.path or source) from None
    if plot_path:
        from sescreen.plot import plot_arrhenius, save_figure

        _plain_text_figures()
        save_figure(plot_arrhenius(fits, at_k=at_k), plot_path)
    summaries = [f.summary(at_k) for f in fits]
    for f, s in zip(fits, summaries, strict=True):
        s["warnings"] = s["warnings"] + ([notes[f.material]] if f.material in notes else []) \
            + failures
    if as_json:
        emit_json(summaries[0] if len(summaries) == 1 else {"materials": summaries})
        return
    for f, s in zip(fits, summaries, strict=True):
        click.echo(str(f).split("\n  warning:")[0])
        if at_k is not None:
            lo, hi = s["sigma_at_interval"]
            plo, phi = s["sigma_at_prediction_interval"]
            click.echo(f"  sigma({at_k - 273.15:.1f} C) = {s['sigma_at']:.3g} S/cm "
                       f"(95 % CI {lo:.3g} .. {hi:.3g}; prediction {plo:.3g} .. {phi:.3g})")
        for w in s["warnings"]:  # the fit's, the extrapolation's and skipped files
            click.echo(f"  warning: {w}")




@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--area", help="Electrode area, e.g. '1cm2' (default: from the file).")
@click.option("--protocol", type=click.Choice(["auto", "plating", "symmetric"]), default="auto",
              show_default=True, help="plating: Li|SE|Cu or Pt, one direction (Han 2019 "
              "Fig. 2); symmetric: Li|SE|Li half-cycles; auto: from the current's sign.")
@click.option("--temperature", help="Temperature of the test, e.g. '25C' (stored with the CCD).")
@click.option("--cell", help="Cell stored with the CCD, e.g. 'Li|LLZO|Cu'.")
@reader_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Write the voltage record with steps and signatures (.png/.svg/.pdf); "
              "with several files, FILE stem appended.")
def ccd(files, area, protocol, temperature, cell, as_json, plot_path, **opts):
    """Critical current density from step-current cycling records.

    Finds the current steps, the signatures of a short (polarization collapse towards
    0 V, loss of V ~ I*R scaling between steps, noise bursts, the plating cell's return
    to 0 V) and of contact loss (not a short), and reports the CCD interval: above the
    last density held, at or below the one that failed; censored when nothing shorted.
    With --json: one object for one file, {"records": [...]} for several.
    """
    from pathlib import Path

    from sescreen.cycling import measure_ccd

    _check_output(plot_path, _FIGURE_FORMATS, "--plot")
    _no_overwrite({"--plot": plot_path}, files)
    results = [measure_ccd(read_measurement(f, area=area, **opts), protocol=protocol,
                           temperature_k=_quantity(temperature, "temperature", "--temperature"),
                           cell=cell) for f in files]
    if plot_path:
        from sescreen.plot import save_figure

        _plain_text_figures()
        for r in results:
            out = Path(plot_path)
            if len(results) > 1:
                out = out.with_name(f"{out.stem}-{Path(r.source).stem}{out.suffix}")
            save_figure(r.plot(), out)
    if as_json:
        summaries = [r.summary() for r in results]
        emit_json(summaries[0] if len(summaries) == 1 else {"records": summaries})
    else:
        click.echo("\n".join(str(r) for r in results))




def _is_table(path: str) -> bool:
    from pathlib import Path

    from sescreen.io import sniff_format

    p = Path(path)
    return p.is_file() and sniff_format(p) == "table" and _first_line(path) != ""


def _first_line(path: str) -> str:
    with open(path, encoding="utf-8-sig", errors="replace") as fh:  # Excel's BOM
        for line in fh:
            if line.strip() and not line.lstrip().startswith("#"):
                return line.strip()
    return ""


def _split_any(line: str) -> list[str]:
    import re

    return re.split(r"[,;\t|]", line)


def _segment_row(s) -> dict:
    return {"segment": s.segment or 0, "n_points": len(s), "t_start_s": float(s.time_s[0]),
            "t_end_s": float(s.time_s[-1]), "applied_voltage_v": s.applied_voltage_v}
