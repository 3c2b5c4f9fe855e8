"""The ``sescreen`` command group: exit codes, one-line errors, CLI terms in messages.

Every command prints a human summary, or with ``--json`` exactly one JSON object on stdout.
Exit codes: 0 success (for ``check``: PASS), 1 a ``check`` verdict failed (for ``screen``,
``report``, ``batch``: some inputs could not be evaluated, the rest is written), 3 a
``check`` verdict is inconclusive (the 95 % interval of sigma_e straddles the threshold, or
the record supports only a bound on the wrong side), 2 bad input (one-line message on
stderr, never a traceback; set ``SESCREEN_DEBUG=1`` to see one), 130 interrupted, 141 the
reader of the output went away. Heavy libraries are imported inside the commands, so
``sescreen --help`` starts fast.
"""


from __future__ import annotations

import os
import sys
from typing import Any

import click

from sescreen import __version__
from sescreen.errors import SescreenError

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


#: command -> (the module that defines it, the first paragraph of its help). A command's
#: module is imported only when that command runs, so ``sescreen --help`` builds no command;
#: ``tests/test_cli.py`` checks this table against the commands themselves.
COMMANDS = {
    "arrhenius": ("sescreen.cli.measurements",
                  "Arrhenius fit of sigma(T) and extrapolation to another temperature."),
    "batch": ("sescreen.cli.screening", "Every measurement file under FOLDER (recursively), "
              "or of a --manifest, through the DC analysis."),
    "ccd": ("sescreen.cli.measurements",
            "Critical current density from step-current cycling records."),
    "check": ("sescreen.cli.thresholds",
              "A new DC-polarization measurement in, sigma_e and the verdict out."),
    "criteria": ("sescreen.cli.thresholds", "Thresholds of electronic conductivity for "
                 "dendrite-free plating (Han et al. 2019)."),
    "dcpol": ("sescreen.cli.measurements", "Steady-state current and electronic "
              "conductivity from DC-polarization holds."),
    "inspect": ("sescreen.cli.measurements",
                "Show what a measurement FILE holds: format, technique, metadata, columns."),
    "mechanics": ("sescreen.cli.thresholds", "Critical overpotential for lithium deposited "
                  "inside the electrolyte (METHODS eq. 3)."),
    "ndp": ("sescreen.cli.depth_profiling",
            "Neutron depth profiling: spectra -> lithium profiles -> dendrite content."),
    "report": ("sescreen.cli.screening",
               "Self-contained HTML report. Without CANDIDATES: the bundled example data."),
    "screen": ("sescreen.cli.screening",
               "Screen a candidates table: one verdict row per material, ranked."),
    "watch": ("sescreen.cli.watching",
              "Follow a hold the instrument is still writing and say when it can stop."),
}


class _Group(click.Group):
    """Click group whose every failure is one line on stderr, never a traceback:
    SescreenError and click's usage errors exit 2, a closed pipe exits quietly (141),
    anything unexpected is named as a bug (exit 2). ``SESCREEN_DEBUG=1`` re-raises.
    Commands are loaded when called (:data:`COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, name: str):
        if name in COMMANDS and name not in self.commands:
            import importlib

            importlib.import_module(COMMANDS[name][0])  # registers the command on main
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter) -> None:
        """The commands' one-line help from :data:`COMMANDS`, without loading them."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        rows = [(n, (click.Command(n, help=COMMANDS[n][1]) if n in COMMANDS
                     else self.commands[n]).get_short_help_str(limit)) for n in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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


_API_TO_CLI = {"current_unit": "--current-unit", "time_unit": "--time-unit",
               "voltage_unit": "--voltage-unit", "current_col": "--current-col",
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
        return f"sescreen {cli}" if first in COMMANDS else cli

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


