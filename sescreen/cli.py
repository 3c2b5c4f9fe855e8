"""The ``sescreen`` command line: a thin layer over the Python API.

Every command prints a human summary, or with ``--json`` exactly one JSON object on stdout.
Exit codes: 0 success (for ``check``: PASS), 1 a ``check`` verdict failed, 3 a ``check``
verdict is inconclusive (the 95 % interval of sigma_e straddles the threshold, or the record
supports only a bound on the wrong side), 2 bad input (one-line message on stderr, never a
traceback; set ``SESCREEN_DEBUG=1`` to see one). Heavy libraries are
imported inside the commands, so ``sescreen --help`` starts fast.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, ClassVar

import click

from sescreen import __version__
from sescreen.errors import InputError, SescreenError
from sescreen.serialize import json_safe

# Kept in step with sescreen.dcpol.MODEL_CHOICES (a test checks), without importing it here.
_MODEL_CHOICES = ("auto", "exp1", "exp2", "exp3", "stretched", "stoich", "stoich_limit",
                  "stoich_rc", "power", "exp1_power")
EXIT_FAIL = 1
EXIT_BAD_INPUT = 2
EXIT_INCONCLUSIVE = 3
EXIT_INTERRUPTED = 130  # the shell convention for Ctrl-C


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of our output went away (| head)


def _say(text: str) -> None:
    """One error line on stderr: control characters escaped, length capped."""
    from sescreen.errors import one_line

    try:
        click.echo(f"sescreen: error: {one_line(text)}", err=True)
    except (BrokenPipeError, OSError):
        pass


def _os_error_text(exc: OSError) -> str:
    """What went wrong with a file, by cause, and the fix."""
    import errno

    where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
    code = exc.errno
    if code == errno.ENOSPC or code == getattr(errno, "EDQUOT", -1):
        return f"{where}the disk is full (or over quota): free space or write elsewhere"
    if code in (errno.EACCES, errno.EPERM):
        return f"{where}permission denied: check the permissions of the file and its folder"
    if code == errno.ENOENT:
        return f"{where}no such file or folder: check the path"
    if code == errno.EROFS:
        return f"{where}the file system is read-only: write elsewhere"
    if code == errno.EISDIR:
        return f"{where}is a folder, not a file: give a file name"
    if code == errno.ENOTDIR:
        return f"{where}a part of the path is a file, not a folder: check the path"
    if code == errno.ENAMETOOLONG:
        return f"{where}the file name is too long: use a shorter one"
    return f"{where}{exc.strerror or exc}: check the path and its permissions"


class _Group(click.Group):
    """Click group whose every failure is one line on stderr, never a traceback:
    SescreenError and click's usage errors exit 2, a closed pipe exits quietly (141),
    anything unexpected is named as a bug (exit 2). ``SESCREEN_DEBUG=1`` re-raises.
    Commands kept in their own modules are loaded when called."""

    lazy: ClassVar[dict[str, str]] = {"watch": "sescreen.cli_watch"}  #: command -> module

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str):
        if name in self.lazy and name not in self.commands:
            import importlib

            return getattr(importlib.import_module(self.lazy[name]), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        import warnings

        debug = bool(os.environ.get("SESCREEN_DEBUG"))
        try:
            with warnings.catch_warnings():
                if not debug:  # numpy's RuntimeWarnings on odd data are not for users
                    warnings.simplefilter("ignore", RuntimeWarning)
                return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except click.ClickException:
            raise  # usage errors: one line in main()
        except SescreenError as exc:
            if debug:
                raise
            _say(cli_terms(str(exc), self._params_of(ctx)))
            ctx.exit(EXIT_BAD_INPUT)
        except BrokenPipeError:
            _quiet_broken_pipe()
        except OSError as exc:  # an output that cannot be written, a folder named as a file
            if debug:
                raise
            _say(_os_error_text(exc))
            ctx.exit(EXIT_BAD_INPUT)
        except MemoryError:
            if debug:
                raise
            _say("not enough memory for this input: split the file, or run on a machine "
                 "with more memory")
            ctx.exit(EXIT_BAD_INPUT)
        except RecursionError:
            if debug:
                raise
            _say("the input is nested too deeply to read: check the file")
            ctx.exit(EXIT_BAD_INPUT)
        except Exception as exc:
            if debug:
                raise
            _say(f"unexpected {type(exc).__name__}: {' '.join(str(exc).split())}: this is "
                 "a bug in sescreen for this input, please report it (SESCREEN_DEBUG=1 "
                 "shows the traceback)")
            ctx.exit(EXIT_BAD_INPUT)

    def _params_of(self, ctx: click.Context) -> set[str]:
        """The option names of the command being run (for cli_terms)."""
        try:
            cmd = self.get_command(ctx, ctx.invoked_subcommand or "")
        except Exception:  # a lazily loaded command that fails to load: no names
            cmd = None
        return {p.name for p in cmd.params} if cmd is not None else set()

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra: Any) -> Any:
        _one_blas_thread()
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:  # click's own take 4 lines
            cmd = exc.ctx.command_path if exc.ctx is not None else "sescreen"
            _say(f"{cmd}: {exc.format_message()} (see '{cmd} --help')")
            sys.exit(EXIT_BAD_INPUT)
        except click.ClickException as exc:
            _say(exc.format_message())
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("sescreen: aborted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            _quiet_broken_pipe()
        sys.exit(rv if isinstance(rv, int) else 0)


_API_TO_CLI = {"current_unit": "--current-unit", "current_col": "--current-col",
               "time_col": "--time-col", "voltage_col": "--voltage-col",
               "allow_truncated": "--allow-truncated", "technique": "--technique"}


def cli_terms(text: str, options: set[str] | frozenset[str] = frozenset()) -> str:
    """A library message in the CLI's terms: "pass current_unit= (CLI: --current-unit)" ->
    "pass --current-unit", "(time_col=0, ...; CLI: --time-col 0 ...)" -> "(--time-col 0 ...)",
    the API's holds()/fit_dcpol_series() advice -> the command's --segment or sescreen dcpol.
    ``options``: the parameter names of the command being run."""
    import re

    if "holds()" in text or "fit_dcpol_series()" in text:
        advice = ("choose one with --segment N" if "segment" in options else
                  "choose one with sescreen dcpol FILE --segment N, or fit them all as a "
                  "voltage series with sescreen dcpol FILE")
        text = re.sub(r"split it with holds\(\).*?\(CLI:[^)]*\)", advice, text)
    text = re.sub(r"\(([^();]*=[^();]*); CLI: ([^)]*)\)", r"(\2)", text)

    def cli_part(m):
        cli = m.group(2).strip().replace(", ", " and ")
        first = cli.split()[0] if cli.split() else ""
        return f"sescreen {cli}" if first in main.commands else cli

    text = re.sub(r"([\w.]+\(\)|[a-z_]+=\S*(?:\s+and\s+[a-z_]+=\S*)*)\s+\(CLI: ([^)]*)\)",
                  cli_part, text)
    return re.sub(r"\b(" + "|".join(_API_TO_CLI) + r")=(?:'([^']*)'|(\S*))",
                  lambda m: _API_TO_CLI[m.group(1)] + (f" {m.group(2) or m.group(3)}"
                                                       if (m.group(2) or m.group(3)) else ""),
                  text)


#: BLAS/OpenMP thread pools of numpy and scipy (read when numpy loads its BLAS)
_BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                     "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def _one_blas_thread() -> None:
    """One BLAS thread per ``sescreen`` process unless the user set a count. Every solve here
    is tiny (a 2x2 posterior, fits of 2-8 parameters), where threads cost more than they
    save (the fitted CCD draw: 0.12 s threaded vs 0.07 s on one thread, 2 cores;
    tests/benchmarks/test_cli_speed.py), and ``batch`` parallelises over processes, which
    threads would oversubscribe. Set here, in the CLI entry point, before numpy loads, so
    library users keep their own settings; a no-op once numpy is imported."""
    if "numpy" in sys.modules:
        return
    for name in _BLAS_THREAD_VARS:
        os.environ.setdefault(name, "1")


def _quiet_broken_pipe() -> None:
    """The reader closed the pipe (``sescreen criteria | head -1``): stop quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # CliRunner's stdout has no file number
        pass
    sys.exit(EXIT_BROKEN_PIPE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sescreen")
def main() -> None:
    """sescreen: will lithium dendrites grow inside this solid electrolyte?

    Electronic conductivity from DC polarization, Arrhenius extrapolation, the
    1e-10 / 1e-12 S/cm thresholds of Han et al., Nature Energy 4, 187 (2019), and the
    neutron-depth-profiling evidence. Quantities take units: "1 mm", "0.785cm2",
    "100 mV", "30C".
    """


# -- shared helpers ----------------------------------------------------------------------
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
}
_NON_NEGATIVE = {"--skip", "--boundary"}


def _quantity(text: str | None, dimension: str, name: str) -> float | None:
    """A quantity option in SI units, refused unless finite and physically plausible
    (:mod:`sescreen.limits`) for the options that have a lab range."""
    if text is None:
        return None
    import math

    from sescreen.limits import check_range
    from sescreen.units import parse_quantity

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
    from sescreen.limits import check_range

    if temperature is None and m.temperature_k is not None:
        check_range(m.temperature_k, "temperature_k", "the file's temperature",
                    path=m.source)
    if area is None and m.area_cm2 is not None:
        check_range(m.area_cm2, "area_cm2", "the file's electrode area", path=m.source)
    if voltage is None and m.applied_voltage_v is not None and m.applied_voltage_v != 0:
        check_range(m.applied_voltage_v, "voltage_v", "the file's applied voltage",
                    path=m.source)


def reader_options(func):
    """Options every command that reads measurement files shares."""
    options = [
        click.option("--format", "fmt", type=click.Choice(
            ["biologic-mpt", "biologic-mpr", "gamry-dta", "table"]),
            help="Skip format detection."),
        click.option("--time-col", help="Time column (header or 0-based number)."),
        click.option("--current-col", help="Current column (header or 0-based number)."),
        click.option("--voltage-col", help="Voltage column (header or 0-based number)."),
        click.option("--time-unit", help="Unit of the time column, e.g. 's', 'h'."),
        click.option("--current-unit", help="Unit of the current column, e.g. 'nA'."),
        click.option("--voltage-unit", help="Unit of the voltage column, e.g. 'mV'."),
        click.option("--allow-truncated", is_flag=True,
                     help="Drop a truncated last row instead of refusing the file."),
        click.option("--technique", help="What the record is when the file does not say, "
                     "e.g. 'constant_voltage'."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


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
    from sescreen.limits import refuse_pathological_lines

    def col(v):
        return int(v) if v is not None and v.isdigit() else v

    area_m2 = _quantity(area, "area", "--area")
    voltage_v = _quantity(voltage, "voltage", "--voltage")
    temperature_k = _quantity(temperature, "temperature", "--temperature")
    refuse_pathological_lines(path)
    with _naming(path):
        m = read(
            path,
            format=opts.get("fmt"),
            time_col=col(opts.get("time_col")),
            current_col=col(opts.get("current_col")),
            voltage_col=col(opts.get("voltage_col")),
            time_unit=opts.get("time_unit"),
            current_unit=opts.get("current_unit"),
            voltage_unit=opts.get("voltage_unit"),
            allow_truncated=bool(opts.get("allow_truncated")),
            technique=opts.get("technique"),
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
    return value


def _check_output(path: str | None, suffixes: tuple[str, ...], option: str) -> None:
    """Refuse an output name with the wrong extension, or naming a folder, before any work."""
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


# -- commands ----------------------------------------------------------------------------
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
@click.option("--model", type=click.Choice(list(_MODEL_CHOICES)), default="auto",
              show_default=True, help="Transient model; auto = lowest AICc.")
@click.option("--skip", help="Ignore the first part of each hold, e.g. '10s' "
              "(default: the step sample and any RC spike).")
@click.option("--segment", type=int, help="Fit only this hold of a multi-hold record.")
@click.option("--cell", type=click.Choice(["blocking", "hebb-wagner"]), default="blocking",
              show_default=True, help="Cell type stored with sigma_e.")
@click.option("--thickness-tol", type=float, default=0.0, callback=_finite_fraction,
              help="Relative standard uncertainty of the thickness (e.g. 0.02).")
@click.option("--area-tol", type=float, default=0.0, callback=_finite_fraction,
              help="Relative standard uncertainty of the area (e.g. 0.01).")
@reader_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Save a figure (PNG/SVG/PDF) of the fit.")
def dcpol(files, thickness, area, voltage, temperature, model, skip, segment, cell,
          thickness_tol, area_tol, as_json, plot_path, **opts):
    """Steady-state current and electronic conductivity from DC-polarization holds.

    FILES are constant-voltage holds on an ion-blocking cell (Cu | SE | Cu). One hold gives
    sigma_e = I_ss L / (V A) from the fitted asymptote; holds at several voltages (several
    files, or the steps of one file) give sigma_e from the slope dI_ss/dV. With
    --cell hebb-wagner (Li | SE | blocking, voltages = E vs Li), several holds give the
    electron and hole conductivities of METHODS eq. (2).
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
        skip_s=skip_s,
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
@click.option("--model", type=click.Choice(list(_MODEL_CHOICES)), default="auto",
              show_default=True, help="Transient model for measurement files.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Save the Arrhenius plot (PNG/SVG/PDF).")
def arrhenius(inputs, convention, at, material, thickness, area, temperatures, model,
              as_json, plot_path):
    """Arrhenius fit of sigma(T) and extrapolation to another temperature.

    INPUTS is a table (temperature and sigma columns, optional stderr and material), a
    manifest (file, temperature, thickness, area columns: each file runs through the DC
    analysis), or several DC-polarization files of one cell (--thickness, and
    --temperatures unless the files carry them).
    """
    import pandas as pd

    from sescreen import sigma_table as st
    from sescreen.arrhenius import fit_arrhenius

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
    fits = []
    for name, part in groups.items():
        err = part["sigma_stderr"]
        fits.append(fit_arrhenius(part["temperature_k"], part["sigma"],
                                  None if pd.isna(err).all() else err.fillna(err.median()),
                                  convention=convention, material=name))
    if plot_path:
        from sescreen.plot import plot_arrhenius, save_figure

        _plain_text_figures()
        save_figure(plot_arrhenius(fits, at_k=at_k), plot_path)
    summaries = [f.summary(at_k) for f in fits]
    for s in summaries:
        s["warnings"] = s["warnings"] + failures
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
@click.option("--fracture-stress", help="Fracture stress of the electrolyte, e.g. '100MPa'.")
@click.option("--model", type=click.Choice(["pressure", "griffith", "han2019"]),
              default="pressure", show_default=True,
              help="pressure: eq. (3); griffith: flaw + K_IC; han2019: the reported values.")
@click.option("--k-ic", "k_ic", help="Fracture toughness for griffith, e.g. '1.25 MPa*m^0.5'.")
@click.option("--flaw", help="Flaw size for griffith, e.g. '10um' (radius of an internal "
              "crack, depth of a surface crack).")
@click.option("--crack", type=click.Choice(["internal", "surface"]), default="internal",
              show_default=True, help="Griffith geometry: internal penny-shaped crack "
              "(Y = 2/pi, Li deposited inside the SE) or surface crack (Y = 1.12).")
@click.option("--geometry-factor", type=float, default=None,
              help="An explicit Y of the Griffith form (overrides --crack).")
@click.option("--asr", help="Interfacial or grain-boundary area-specific resistance, e.g. "
              "'100 ohm*cm^2': adds j_crit = |phi_c| / ASR.")
@click.option("--overpotential", help="Inverse: the stress for this phi_c, e.g. '-20mV'.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def mechanics(fracture_stress, model, k_ic, flaw, crack, geometry_factor, asr, overpotential,
              as_json):
    """Critical overpotential for lithium deposited inside the electrolyte (METHODS eq. 3)."""
    from sescreen import mechanics as mech

    if overpotential is not None:
        phi = _quantity(overpotential, "voltage", "--overpotential")
        stress = mech.fracture_stress_for(phi, model=model)
        warns = []
        if k_ic or flaw or fracture_stress:
            warns.append("--fracture-stress, --k-ic and --flaw are not used with "
                         "--overpotential (the inverse gives the stress)")
        if model == "han2019" and not 30e6 <= stress <= 100e6:
            warns.append("outside the reported 30-100 MPa: the reported line is extrapolated")
        out = {"critical_overpotential_v": phi, "model": model,
               "inputs": {"critical_overpotential_v": phi}, "stress_pa": stress,
               "warnings": warns}
        if as_json:
            emit_json(out)
        else:
            click.echo(f"phi_c = {phi * 1e3:.2f} mV needs a stress of {stress / 1e6:.4g} MPa "
                       f"({model})")
            for w in warns:
                click.echo(f"  warning: {w}")
        return
    if model == "griffith" and fracture_stress is not None:
        raise InputError("--model griffith uses --k-ic and --flaw, not --fracture-stress")
    if model != "griffith" and (k_ic or flaw):
        raise InputError(f"--k-ic and --flaw belong to --model griffith, not {model}")
    result = mech.critical_overpotential(
        _quantity(fracture_stress, "pressure", "--fracture-stress"), model=model,
        fracture_toughness_pa_sqrt_m=_quantity(k_ic, "fracture_toughness", "--k-ic"),
        flaw_size_m=_quantity(flaw, "length", "--flaw"), crack=crack,
        geometry_factor=geometry_factor)
    out = result.summary()
    if asr is not None:
        asr_ohm_cm2 = _quantity(asr, "area_resistance", "--asr") * 1e4
        out["critical_current_density_ma_cm2"] = result.critical_current_density(asr_ohm_cm2)
        out["inputs"]["asr_ohm_cm2"] = asr_ohm_cm2
        out["critical_current_label"] = ("model: j_crit = |phi_c| / ASR (potential drop across "
                                         "one resistive interface reaching |phi_c|)")
    if as_json:
        emit_json(out)
        return
    click.echo(str(result))
    if asr is not None:
        click.echo(f"  j_crit = |phi_c| / ASR = {out['critical_current_density_ma_cm2']:.3g} "
                   f"mA/cm^2 (model, ASR = {out['inputs']['asr_ohm_cm2']:.4g} ohm cm^2)")


@main.command()
@click.option("--ccd", help="Target current density, e.g. '1mA/cm2': the largest sigma_e.")
@click.option("--sigma-e", "sigma_e", help="Electronic conductivity, e.g. '1e-9 S/cm' (a bare "
              "number is S/cm): the predicted CCD and the verdict.")
@click.option("--stderr", help="Standard error of --sigma-e, e.g. '2e-10 S/cm'.")
@click.option("--source", type=click.Choice(["han2019", "construction", "fit"]),
              default="han2019", show_default=True, help="Where the threshold comes from.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def criteria(ccd, sigma_e, stderr, source, as_json):
    """Thresholds of electronic conductivity for dendrite-free plating (Han et al. 2019).

    With --ccd: the largest sigma_e for that current density. With --sigma-e: the
    predicted CCD and the outcome at 1 and 10 mA/cm^2 (pass, fail or inconclusive: the
    95 % interval from --stderr, log-normal, against the threshold). With neither: the
    thresholds from all sources side by side.
    """
    from sescreen import criteria as cr

    sigma_e = _conductivity(sigma_e, "--sigma-e")
    stderr = _conductivity(stderr, "--stderr")
    out: dict[str, Any] = {"source": source}
    if ccd is not None:
        target = _quantity(ccd, "current_density", "--ccd") / 10.0  # A/m^2 -> mA/cm^2
        thr = cr.max_sigma_e(target, source=source)
        out.update(ccd_ma_cm2=target, max_sigma_e=thr.sigma_e_max,
                   max_sigma_e_interval=None if thr.interval is None else list(thr.interval),
                   label=thr.label)
    if sigma_e is not None:
        pred = cr.predicted_ccd(sigma_e, source="fit" if source == "fit" else source)
        v = cr.verdict(sigma_e, stderr=stderr, source=source)
        out.update(sigma_e=sigma_e, sigma_e_interval=list(v.sigma_e_interval),
                   outcome_1ma=v.outcome_1ma, outcome_10ma=v.outcome_10ma,
                   reason_1ma=v.reason_1ma, reason_10ma=v.reason_10ma,
                   predicted_ccd=pred["predicted_ccd"],
                   predicted_ccd_interval=pred["interval"], verdict=v.summary(),
                   warnings=pred["warnings"])
        if ccd is not None:
            at = cr.judge_at(sigma_e, target, stderr=stderr, source=source)
            out.update(outcome=at["outcome"], reason=at["reason"])
    if ccd is None and sigma_e is None:
        out["thresholds"] = [
            {"source": src, "ccd_ma_cm2": c, "max_sigma_e": t.sigma_e_max,
             "interval": None if t.interval is None else list(t.interval), "label": t.label}
            for src in ("han2019", "construction", "fit") for c in (1.0, 10.0)
            for t in [cr.max_sigma_e(c, source=src)]]
    if as_json:
        emit_json(out)
        return
    if "max_sigma_e" in out:
        iv = out["max_sigma_e_interval"]
        click.echo(f"sigma_e must stay below {out['max_sigma_e']:.3g} S/cm for "
                   f"{out['ccd_ma_cm2']:g} mA/cm^2"
                   + (f" (95 %: {iv[0]:.2g} .. {iv[1]:.2g})" if iv else "")
                   + f" [{out['label']}]")
    if "verdict" in out:
        iv = out["predicted_ccd_interval"]
        click.echo(f"predicted CCD for sigma_e = {sigma_e:.3g} S/cm: "
                   f"{out['predicted_ccd']:.3g} mA/cm^2"
                   + (f" (95 % prediction: {iv[0]:.2g} .. {iv[1]:.2g})" if iv else ""))
        click.echo(str(v))
        if "outcome" in out:
            click.echo(f"  at {out['ccd_ma_cm2']:g} mA/cm^2: {out['outcome'].upper()}: "
                       f"{out['reason']}")
        for w in out["warnings"]:
            click.echo(f"  warning: {w}")
    for t in out.get("thresholds", []):
        iv = t["interval"]
        click.echo(f"{t['source']:>12} {t['ccd_ma_cm2']:>4g} mA/cm^2: sigma_e < "
                   f"{t['max_sigma_e']:.3g} S/cm"
                   + (f" (95 %: {iv[0]:.2g} .. {iv[1]:.2g})" if iv else ""))


@main.command()
@_hold_args
@click.option("--source", type=click.Choice(["han2019", "construction", "fit"]),
              default="han2019", show_default=True)
@click.option("--model", type=click.Choice(list(_MODEL_CHOICES)), default="auto",
              show_default=True)
@reader_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def check(file, thickness, area, voltage, temperature, target, source, model, as_json,
          **opts):
    """A new DC-polarization measurement in, sigma_e and the verdict out.

    PASS only when the whole 95 % interval of sigma_e is below the threshold for --target,
    FAIL only when the whole interval is above it, INCONCLUSIVE otherwise (with the reason
    and, for a hold still decaying, about how long a hold would settle it). A result that
    supports only an upper bound can pass, never fail. Exit code 0 pass, 1 fail,
    3 inconclusive (for scripted lab checks), 2 bad input.
    """
    from sescreen import criteria as cr
    from sescreen.dcpol import fit_dcpol

    m = read_measurement(file, area=area, temperature=temperature, **opts)
    thickness_cm = _quantity(thickness, "length", "--thickness") * 100
    voltage_v = _quantity(voltage, "voltage", "--voltage")
    with _naming(file):
        fit = fit_dcpol(m, thickness_cm=thickness_cm, voltage_v=voltage_v, model=model)
    target_ma = _quantity(target, "current_density", "--target") / 10.0
    evidence = cr.fit_inputs(fit)
    at = cr.judge_at(fit.sigma_e, target_ma, **evidence, source=source)
    v = cr.verdict(fit.sigma_e, **evidence, temperature_k=fit.temperature_k, source=source)
    outcome, margin = at["outcome"], at["margin_decades"]
    lo, hi = at["sigma_e_interval"]
    out = {"file": file, "outcome": outcome, "reason": at["reason"],
           "passes": outcome == "pass", "target_ma_cm2": target_ma,
           "max_sigma_e": at["threshold"], "max_sigma_e_interval": at["threshold_interval"],
           "sigma_e": fit.sigma_e, "sigma_e_interval": [lo, hi],
           "sigma_e_stderr": fit.sigma_e_stderr,
           "upper_bound_only": bool(getattr(fit, "upper_bound_only", False)),
           "margin_decades": margin, "p_pass": at["p_pass"],
           "steady_state_reached": fit.steady_state_reached, "t_hold": fit.t_hold,
           "t_steady_estimate": fit.t_steady_estimate, "source": source,
           "threshold_label": at["threshold_label"], "verdict": v.summary(),
           "warnings": list(fit.warnings) + list(v.warnings)}
    if not fit.steady_state_reached:
        out["warnings"].append("the hold did not reach steady state: sigma_e is extrapolated")
    if as_json:
        emit_json(out)
    else:
        def near(x):  # enough digits to tell a bound from the threshold
            return cr._near(x, at["threshold"])

        if lo <= 0 and hi != float("inf"):
            stated = f"sigma_e < {near(hi)} S/cm (upper bound only; point {fit.sigma_e:.3g})"
        elif hi == float("inf"):
            stated = f"sigma_e > {near(lo)} S/cm (lower bound only)"
        else:
            stated = f"sigma_e = {near(fit.sigma_e)} S/cm (95 %: {near(lo)} .. {near(hi)})"
        prob = "" if out["p_pass"] is None else f", P(pass) = {out['p_pass']:.2f}"
        click.echo(f"{outcome.upper()}: {stated} vs < {at['threshold']:.3g} S/cm for "
                   f"{target_ma:g} mA/cm^2 (margin {margin:+.2f} decades{prob})")
        click.echo(f"  reason: {at['reason']}")
        for w in out["warnings"]:
            click.echo(f"  warning: {w}")
    if outcome == "fail":
        sys.exit(EXIT_FAIL)
    if outcome != "pass":
        sys.exit(EXIT_INCONCLUSIVE)


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
@click.option("--boundary", help="Surface/bulk boundary, e.g. '2um' (default: from the data).")
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


_SCREEN_COLUMNS = ("rank", "material", "sigma_e", "sigma_e_method", "outcome_1ma",
                   "outcome_10ma", "margin_1ma_decades", "p_pass_1ma", "predicted_ccd",
                   "measured_ccd_ma_cm2", "measured_ccd_failed_at_ma_cm2", "ndp_growth")


@main.command()
@click.argument("candidates", type=click.Path(dir_okay=False))
@click.option("--at", "at", default="25C", show_default=True,
              help="Operating temperature the verdicts refer to.")
@click.option("--out", "out", type=click.Path(dir_okay=False),
              help="Write the table: .csv or .json by extension.")
@click.option("--model", type=click.Choice(list(_MODEL_CHOICES)), default="auto",
              show_default=True, help="Transient model for measurement files.")
@click.option("--export-ccd", "export_ccd", type=click.Path(dir_okay=False),
              help="Write the lab's (material, sigma_e, CCD, conditions) rows of the ccd_file "
              "records in the curated dataset's format (.csv).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
def screen(candidates, at, out, model, export_ccd, as_json, quiet):
    """Screen a candidates table: one verdict row per material, ranked.

    Outcomes at 1 and 10 mA/cm^2 are pass, fail or inconclusive, from each material's 95 %
    interval of sigma_e; an inconclusive material never ranks above one that passes.
    Progress goes to stderr (a bar on a terminal, a line every 10 s otherwise).

    Exit code: 0 every row evaluated, 1 the table is written but some rows could not be
    evaluated (each named on stderr: a missing or unreadable file, no usable value),
    2 bad input.
    """
    from sescreen.screening import read_candidates
    from sescreen.screening import screen as run_screen

    _check_output(out, (".csv", ".json"), "--out")
    _no_overwrite({"--out": out}, [candidates])
    operating_k = _quantity(at, "temperature", "--at")
    table = read_candidates(candidates)
    _no_overwrite({"--out": out}, _referenced_inputs(table))
    result = _screen_with_progress(run_screen, table, operating_k, quiet, model=model)
    if out:
        _write_table(result, out)
    if export_ccd:
        from sescreen.atomic import atomic_write_text
        from sescreen.cycling.export import dataset_rows

        atomic_write_text(export_ccd, dataset_rows(result).to_csv(index=False))
    if as_json:
        emit_json(result.to_json())
        _exit_if(_input_problems(result))
        return
    table = result.table
    cols = [c for c in _SCREEN_COLUMNS if c in table]
    with _pandas_display():
        click.echo(table[cols].astype(object).where(table[cols].notna(), "-")
                   .to_string(index=False))
    for _, r in table.iterrows():
        if isinstance(r.get("error"), str):
            click.echo(f"  {r['material']}: error: {r['error']}")
        for tag, ma in (("1ma", 1), ("10ma", 10)):
            if r.get(f"outcome_{tag}") == "inconclusive":
                click.echo(f"  {r['material']}: inconclusive at {ma} mA/cm^2: "
                           f"{r[f'reason_{tag}']}")
    _exit_if(_input_problems(result))


def _screen_with_progress(run_screen, table, operating_k, quiet, **kwargs):
    """``run_screen`` with a progress bar / plain lines on stderr over the table's rows."""
    from sescreen.progress import Progress

    with Progress(len(table), "screening", unit="row", quiet=quiet) as bar:
        return run_screen(table, operating_k=operating_k,
                          progress=lambda n, note: bar.advance(n, note=note), **kwargs)


def _exit_if(code: int) -> None:
    if code:
        sys.exit(code)


def _input_problems(result) -> int:
    """Each row of the candidates table that could not be evaluated (a missing or unreadable
    file, a material without a usable value), on stderr; the exit code: 1 if any, else 0."""
    problems = [f"skipped: {f}" for f in result.failures]
    table = result.table
    if "error" in table:
        problems += [f"{r['material']}: not evaluated: {r['error']}"
                     for _, r in table.iterrows() if isinstance(r.get("error"), str)]
    for text in problems:
        click.echo(f"sescreen: warning: {cli_terms(text)}", err=True)
    if problems:
        click.echo(f"sescreen: {len(problems)} input problem(s) in the candidates table: "
                   "the output lists the rest (exit 1)", err=True)
    return EXIT_FAIL if problems else 0


def _referenced_inputs(table) -> list[str]:
    """The files a candidates table points to (measurements, NDP series, stack TOMLs)."""
    found = []
    for col in ("file", "ndp", "ndp_stack"):
        if col in table:
            found += [v for v in table[col] if isinstance(v, str) and os.path.exists(v)]
    return found


def _write_table(result, out: str) -> None:
    from sescreen.atomic import atomic_write_text, csv_text

    if out.lower().endswith(".json"):
        atomic_write_text(out, json.dumps(json_safe(result.to_json()), indent=2) + "\n")
    else:
        atomic_write_text(out, csv_text(result.table))


def _pandas_display():
    import pandas as pd

    return pd.option_context("display.width", 200, "display.max_columns", 20,
                             "display.float_format", "{:.3g}".format)


@main.command()
@click.argument("candidates", required=False, type=click.Path(dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(),
              help="The HTML file to write (with --all: a folder).")
@click.option("--at", "at", default="25C", show_default=True,
              help="Operating temperature the verdicts refer to.")
@click.option("--reproduction", is_flag=True,
              help="Write the Han et al. 2019 reproduction report instead.")
@click.option("--all", "write_all", is_flag=True,
              help="Write both reports (example-screening.html, han2019-reproduction.html) "
              "into the --out folder.")
@click.option("--title", default="sescreen screening report", show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
def report(candidates, out, at, reproduction, write_all, title, quiet):
    """Self-contained HTML report. Without CANDIDATES: the bundled example data.

    The main job:  sescreen report --out reports/example-screening.html

    Progress goes to stderr (a bar on a terminal, a line every 10 s otherwise). Exit code:
    0 every row evaluated, 1 the report is written but some rows of the candidates table
    could not be evaluated (each named on stderr and in the report), 2 bad input.
    """
    from pathlib import Path

    from sescreen import report as rep
    from sescreen.screening import EXAMPLE_CANDIDATES
    from sescreen.screening import screen as run_screen

    targets = []
    if write_all:
        if out.lower().endswith(".html"):
            raise InputError(f"--all writes two reports into a folder: --out {out!r} names a "
                             "file; give a folder, e.g. --out reports/")
        folder = Path(out)
        targets = [("screening", folder / "example-screening.html"),
                   ("reproduction", folder / "han2019-reproduction.html")]
    else:
        _check_output(out, (".html", ".htm"), "--out")
        targets = [("reproduction" if reproduction else "screening", Path(out))]
    from sescreen.screening import read_candidates

    operating_k = _quantity(at, "temperature", "--at")
    source = Path(candidates) if candidates else EXAMPLE_CANDIDATES
    table = None
    if any(kind == "screening" for kind, _ in targets):
        if not source.is_file():
            raise InputError(f"no candidates table at {source} (give one; without one, "
                             "the bundled examples are missing: reinstall sescreen)")
        outs = {f"--out ({p.name})": p for _, p in targets}
        _no_overwrite(outs, [source])
        table = read_candidates(source)
        _no_overwrite(outs, _referenced_inputs(table))
    _plain_text_figures()
    code = 0
    for kind, path in targets:
        if kind == "reproduction":
            rep.reproduction_report(path)
        else:
            result = _screen_with_progress(run_screen, table, operating_k, quiet)
            if not quiet:
                click.echo(f"report: drawing the figures of {path.name}", err=True)
            rep.screening_report(result, path, title=title, candidates_path=str(source))
            code = max(code, _input_problems(result))
        click.echo(f"wrote {path}")
    _exit_if(code)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--thickness", required=True, help="Electrolyte thickness, e.g. '1mm'.")
@click.option("--area", help="Electrode area (default: each file's).")
@click.option("--voltage", help="Applied voltage (default: each file's).")
@click.option("--model", type=click.Choice(list(_MODEL_CHOICES)), default="auto",
              show_default=True)
@click.option("--workers", type=click.IntRange(min=0), help="Worker processes (default, "
              "or 0: all CPUs).")
@click.option("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 "
              "(extra sescreen[dask]).")
@click.option("--out", "out", default="batch-results.csv", show_default=True,
              type=click.Path(dir_okay=False), help="Results table (CSV); the journal "
              "that makes runs resumable is <out>.jsonl.")
@click.option("--restart", is_flag=True, help="Ignore the journal of an earlier run.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def batch(folder, thickness, area, voltage, model, workers, scheduler, out, restart,
          as_json):
    """Every measurement file under FOLDER (recursively) through the DC analysis.

    Runs in parallel, lists bad files and goes on, and resumes an interrupted run without
    redoing finished files (the resume key is the resolved path). Each row of the table has
    the file's 95 % interval of sigma_e (sigma_e_lo, sigma_e_hi, upper_bound_only) and its
    outcome at 1 and 10 mA/cm^2 (pass, fail or inconclusive). --out (and its journal
    <out>.jsonl and lock <out>.lock) must lie outside FOLDER; a second run on the same
    --out while one runs is refused. A worker that dies (killed, out of memory) is replaced
    and its file retried once, then listed as failed.

    Exit code: 0 every file analysed, 1 the table is complete but some files failed (listed),
    2 bad input (nothing analysed), 130 interrupted (run again to resume).
    """
    from sescreen.batch import run_batch

    _check_output(out, (".csv",), "--out")
    _no_overwrite({"--out": out, "the journal (--out + .jsonl)": out + ".jsonl"}, [folder])
    area_m2 = _quantity(area, "area", "--area")
    fit_kwargs = {"thickness_cm": _quantity(thickness, "length", "--thickness") * 100,
                  "area_cm2": None if area_m2 is None else area_m2 * 1e4,
                  "voltage_v": _quantity(voltage, "voltage", "--voltage"), "model": model}
    bar = {}

    def progress(done, total):
        if "bar" not in bar:
            bar["bar"] = click.progressbar(length=total, label="analysing", file=sys.stderr,
                                           show_pos=True)
            bar["bar"].__enter__()
            bar["seen"] = 0
        bar["bar"].update(done - bar["seen"])
        bar["seen"] = done

    try:
        result = run_batch(folder, fit_kwargs=fit_kwargs, out=out, workers=workers,
                           scheduler=scheduler, resume=not restart, progress=progress)
    except KeyboardInterrupt:
        done = bar.get("seen", 0)
        total = bar["bar"].length if "bar" in bar else "?"
        click.echo(f"\nsescreen: interrupted after {done} of {total} files; the finished ones "
                   f"are in {out}.jsonl: run the same command again to resume", err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        if "bar" in bar:
            bar["bar"].__exit__(None, None, None)
    summary = result.summary()
    summary["out"] = out
    for w in result.warnings:
        click.echo(f"sescreen: warning: {w}", err=True)
    if as_json:
        emit_json(summary)
        if result.errors:
            sys.exit(EXIT_FAIL)
        return
    click.echo(f"{summary['n_files']} files: {summary['ok']} analysed, {summary['failed']} "
               f"failed ({summary['computed']} computed now, {summary['reused']} from the "
               f"journal); table: {out}")
    for tag, ma in (("1ma", 1), ("10ma", 10)):
        n = summary[f"outcomes_{tag}"]
        click.echo(f"  {ma:>2} mA/cm^2: {n['pass']} pass, {n['fail']} fail, "
                   f"{n['inconclusive']} inconclusive")
    for e in result.errors:
        click.echo(f"  failed: {e}")
    if result.errors:
        sys.exit(EXIT_FAIL)


def _is_table(path: str) -> bool:
    from pathlib import Path

    from sescreen.io import sniff_format

    p = Path(path)
    return p.is_file() and sniff_format(p) == "table" and _first_line(path) != ""


def _first_line(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as fh:
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


if __name__ == "__main__":  # pragma: no cover
    main()
