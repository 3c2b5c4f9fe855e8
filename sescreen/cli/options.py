"""Options and helpers the commands share: quantities with units and lab ranges, the reader
options, output checks, JSON output."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from sescreen.errors import InputError, SescreenError
from sescreen.serialize import json_safe

#: Kept in step with sescreen.dcpol.MODEL_CHOICES (a test checks), without importing it here.
_MODEL_CHOICES = ("auto", "exp1", "exp2", "exp3", "stretched", "stoich", "stoich_limit",
                  "stoich_rc", "power", "exp1_power")

def emit_json(obj: dict) -> None:
    """Print exactly one JSON object on stdout."""
    click.echo(json.dumps(json_safe(obj), indent=2, allow_nan=False))


#: option -> (plausibility kind of sescreen.limits, factor from SI to that kind's unit)
_PLAUSIBLE = {
    "--thickness": ("thickness_cm", 100.0), "--area": ("area_cm2", 1e4),
    "--voltage": ("voltage_v", 1.0), "--temperature": ("temperature_k", 1.0),
    "--temperatures": ("temperature_k", 1.0), "--at": ("temperature_k", 1.0),
    "--ccd": ("current_density_ma_cm2", 0.1), "--target": ("current_density_ma_cm2", 0.1),
    "--current": ("current_density_ma_cm2", 0.1),
    "--fracture-stress": ("fracture_stress_mpa", 1e-6),
}
_NON_NEGATIVE = {"--skip", "--boundary", "--accuracy"}


def _quantity(text: str | None, dimension: str, name: str) -> float | None:
    """A quantity option in SI units, refused unless finite and physically plausible
    (:mod:`sescreen.limits`) for the options that have a lab range."""
    if text is None:
        return None
    import math
    import re

    from sescreen.limits import check_range
    from sescreen.units import parse_quantity

    # "1,000 um": a decimal comma (1 um) or a thousands separator (1000 um)? Read as the
    # first, it had made sigma_e 1000x too low (a false PASS, review cli-U1): refused.
    grouped = re.match(r"\s*([-+]?[1-9]\d{0,2}),(\d{3})(?![\d.,])(.*)$", text)
    if grouped:
        whole, part, rest = grouped.groups()
        raise InputError(f"{name} {text!r} is ambiguous: a decimal comma or a thousands "
                         f"separator? write '{whole}.{part}{rest}' or '{whole}{part}{rest}'")
    try:
        value = parse_quantity(text, dimension, name=name)
    except InputError as exc:
        if name in exc.message:
            raise
        raise InputError(f"{name}: {exc.message}") from None
    if not math.isfinite(value):
        raise InputError(f"{name} {text!r} is not a finite quantity")
    if name in _PLAUSIBLE:
        kind, scale = _PLAUSIBLE[name]
        check_range(value * scale, kind, f"{name} {text!r}")
    elif name in _NON_NEGATIVE and value < 0:
        raise InputError(f"{name} {text!r} must not be negative")
    return value


def _check_measurement(m, *, area: str | None, voltage: str | None,
                       temperature: str | None) -> None:
    """The metadata a file brings (when no option overrides it) must be plausible too."""
    from sescreen.limits import check_file_metadata

    check_file_metadata(m, temperature_given=temperature is not None,
                        area_given=area is not None, voltage_given=voltage is not None)


#: One vocabulary across commands: each of these options means the same wherever it appears.
model_option = click.option(
    "--model", type=click.Choice(list(_MODEL_CHOICES)), default="auto", show_default=True,
    help="Transient model of the DC-polarization fit; auto = lowest AICc.")
skip_option = click.option(
    "--skip", help="Ignore the first part of each hold, e.g. '10s' (default: the step "
    "sample and any RC spike).")
segment_option = click.option(
    "--segment", type=click.IntRange(min=0),
    help="Fit only this hold of a multi-hold record (0-based; see inspect --segments).")
accuracy_option = click.option(
    "--accuracy", help="The instrument's current accuracy at the end of the hold, e.g. "
    "'2pA' (default: 1e-3 of the current range the file states, else of the smallest "
    "decade range holding the current; '0A' for none).")



def _temperature_uncertainty(ctx, param, value):
    """Callback: a standard uncertainty of the temperatures, K (a difference: '1', '1K'),
    finite, 0 .. 50 K."""
    import math
    import re

    m = re.fullmatch(r"\s*([-+0-9.eE]+|nan|inf)\s*(k|kelvin)?\s*", str(value), re.IGNORECASE)
    try:
        kelvin = float(m[1]) if m else math.nan
    except ValueError:
        kelvin = math.nan
    if not (math.isfinite(kelvin) and 0 <= kelvin <= 50):
        raise click.BadParameter(f"{value!r} must be a temperature difference of 0 to 50 K, "
                                 "e.g. '1K' (a difference in C is the same number)")
    return kelvin


def temperature_uncertainty_option(default_k: float, spans: str = "the Arrhenius intervals"):
    """``--temperature-uncertainty`` with the command's default (K) and what widens."""
    return click.option(
        "--temperature-uncertainty", "temperature_uncertainty", default=f"{default_k:g}K",
        show_default=True, callback=_temperature_uncertainty,
        help="Standard uncertainty (K) of an offset common to all temperatures of a "
        "material (its thermocouple's calibration, e.g. 1 for type K class 1): "
        f"{spans} span it ('0K': the temperatures are exact).")


def fit_options(func):
    """How a hold is fitted: ``--model``, ``--skip``, ``--segment`` (dcpol, check, batch)."""
    return model_option(skip_option(segment_option(func)))


source_option = click.option(
    "--source", type=click.Choice(["han2019", "construction", "fit"]), default="han2019",
    show_default=True, help="Where the threshold comes from: the paper's values, its "
    "construction, or the fit to the curated dataset.")


def reader_options(func):
    """Options every command that reads measurement files shares."""
    options = [
        click.option("--format", "fmt", type=click.Choice(
            ["biologic-mpt", "biologic-mpr", "gamry-dta", "table"]),
            help="Skip format detection."),
        click.option("--time-col", help="Time column (header or 0-based number)."),
        click.option("--current-col", help="Current column (header or 0-based number)."),
        click.option("--voltage-col", help="Voltage column (header or 0-based number)."),
        click.option("--time-unit", help="Unit of the time column when the file does not "
                     "state one, e.g. 's', 'h'."),
        click.option("--current-unit", help="Unit of the current column when the file does "
                     "not state one (a bare header), e.g. 'nA'. A unit the file states is "
                     "never overridden: a different one is refused (batch: not applied to "
                     "that file, with a warning)."),
        click.option("--voltage-unit", help="Unit of the voltage column when the file does "
                     "not state one, e.g. 'mV'."),
        click.option("--allow-truncated", is_flag=True,
                     help="Drop a truncated last row instead of refusing the file."),
        click.option("--technique", help="What the record is when the file does not say, "
                     "e.g. 'constant_voltage'."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def reader_kwargs(opts: dict[str, Any]) -> dict[str, Any]:
    """The keywords of :func:`sescreen.io.read` from the values of :func:`reader_options`
    (a column given as a number is a 0-based index; options not given are left out)."""
    def col(v):
        return int(v) if v is not None and v.isdigit() else v

    out = {"format": opts.get("fmt"), "time_col": col(opts.get("time_col")),
           "current_col": col(opts.get("current_col")),
           "voltage_col": col(opts.get("voltage_col")), "time_unit": opts.get("time_unit"),
           "current_unit": opts.get("current_unit"), "voltage_unit": opts.get("voltage_unit"),
           "allow_truncated": True if opts.get("allow_truncated") else None,
           "technique": opts.get("technique")}
    return {k: v for k, v in out.items() if v is not None}


class _naming:
    """Context manager: a SescreenError raised without a file gets ``path`` (every message
    names the file it is about)."""

    def __init__(self, path) -> None:
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        if isinstance(exc, SescreenError) and exc.path is None and self.path is not None:
            raise type(exc)(exc.message, path=self.path, line=exc.line,
                            column=exc.column) from None
        return False


def read_measurement(path: str, *, area: str | None = None, voltage: str | None = None,
                     temperature: str | None = None, **opts: Any):
    """Read a file with the shared reader options (quantities as unit strings)."""
    from sescreen.io import read

    area_m2 = _quantity(area, "area", "--area")
    voltage_v = _quantity(voltage, "voltage", "--voltage")
    temperature_k = _quantity(temperature, "temperature", "--temperature")
    with _naming(path):
        m = read(
            path,
            **reader_kwargs(opts),
            applied_voltage_v=voltage_v,
            area_cm2=None if area_m2 is None else area_m2 * 1e4,
            temperature_k=temperature_k,
        )
    _check_measurement(m, area=area, voltage=voltage, temperature=temperature)
    return m


_FIGURE_FORMATS = (".png", ".svg", ".pdf")


def _conductivity(text: str | None, name: str) -> float | None:
    """A conductivity in S/cm from '1e-9', '1e-9 S/cm', '1e-7 S/m' or '1 uS/cm'."""
    if text is None:
        return None
    import re

    from sescreen.units import factor

    m = re.match(r"^\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*(.*)$", text)
    if not m:
        raise InputError(f"{name} {text!r}: write a number in S/cm, e.g. '1e-9' or '1e-9 S/cm'")
    unit = m.group(4).strip() or "S/cm"
    try:
        value = float(m.group(1)) * factor(unit, "S/cm")
    except InputError:
        raise InputError(f"{name} {text!r}: {unit!r} is not a conductivity (S/cm, S/m)") \
            from None
    if not value > 0:
        raise InputError(f"{name} {text!r} must be positive")
    from sescreen.limits import check_range

    return check_range(value, "conductivity_s_cm", name)


def _check_output(path: str | None, suffixes: tuple[str, ...], option: str) -> None:
    """Refuse an output name with the wrong extension, naming a folder, or in a folder that
    cannot be written (:func:`sescreen.atomic.check_writable`), before any work."""
    if path is None:
        return
    from pathlib import Path

    p = Path(path)
    if p.is_dir() or path.endswith(("/", os.sep)):
        raise InputError(f"{option} {path!r} is a folder: give a file name ending in "
                         f"{' or '.join(suffixes)}")
    if p.suffix.lower() not in suffixes:
        raise InputError(f"{option} {path!r}: the file name must end in "
                         f"{' or '.join(suffixes)}")
    from sescreen.atomic import check_writable

    check_writable(p)


def _no_overwrite(outputs: dict[str, Any], inputs: list[Any]) -> None:
    from sescreen.atomic import refuse_overwriting_inputs

    refuse_overwriting_inputs(outputs, list(inputs))


def _finite_fraction(ctx, param, value):
    """Callback: a relative tolerance is a finite fraction 0..1 (nan and inf refused)."""
    import math

    if value is not None and not (math.isfinite(value) and 0 <= value <= 1):
        raise click.BadParameter(f"{value!r} must be a finite fraction between 0 and 1 "
                                 "(e.g. 0.02)")
    return value


def _finite_positive_option(ctx, param, value):
    """Callback: a finite number > 0 within 1e-12 .. 1e12 (counts, monitor units)."""
    import math

    if value is not None and not (math.isfinite(value) and 1e-12 <= value <= 1e12):
        raise click.BadParameter(f"{value!r} must be a finite positive number between "
                                 "1e-12 and 1e12")
    return value


def _plain_text_figures() -> None:
    """Figures show names as written: a material or file called '$x$' is not mathtext
    (sescreen's own labels use none)."""
    import matplotlib

    matplotlib.rcParams["text.parse_math"] = False


def _path_arg(func):
    return click.argument("file", type=click.Path(dir_okay=False))(func)


def _hold_args(func):
    """The record and the cell of a verdict on one hold (``check``, ``watch``)."""
    for option in reversed((
            click.option("--thickness", required=True,
                         help="Electrolyte thickness, e.g. '1mm'."),
            click.option("--area", help="Electrode area (default: from the file)."),
            click.option("--voltage", help="Applied voltage (default: from the file)."),
            click.option("--temperature", help="Temperature of the measurement, e.g. '25C'."),
            click.option("--target", default="1mA/cm2", show_default=True,
                         help="Current density the electrolyte must support."))):
        func = option(func)
    return _path_arg(func)
