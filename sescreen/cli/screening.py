"""Commands over many materials or files: ``screen`` (a ranked verdict table), ``report``
(self-contained HTML) and ``batch`` (a folder of measurements, parallel and resumable)."""

from __future__ import annotations

import json
import os
import sys

import click

from sescreen.cli.app import EXIT_FAIL, EXIT_INTERRUPTED, cli_terms, main
from sescreen.cli.options import (
    _check_output,
    _no_overwrite,
    _plain_text_figures,
    _quantity,
    emit_json,
    fit_options,
    model_option,
    reader_kwargs,
    reader_options,
    temperature_uncertainty_option,
)
from sescreen.constants import SCREEN_TEMPERATURE_UNCERTAINTY_K
from sescreen.errors import InputError, one_line
from sescreen.serialize import json_safe

_SCREEN_COLUMNS = ("rank", "material", "sigma_e", "sigma_e_method", "outcome_1ma",
                   "outcome_10ma", "margin_1ma_decades", "p_pass_1ma", "predicted_ccd",
                   "measured_ccd_ma_cm2", "measured_ccd_failed_at_ma_cm2", "ndp_growth")


@main.command()
@click.argument("candidates", type=click.Path(dir_okay=False))
@click.option("--at", "at", default="25C", show_default=True,
              help="Operating temperature the verdicts refer to.")
@click.option("--out", "out", type=click.Path(dir_okay=False),
              help="Write the table: .csv or .json by extension.")
@model_option
@temperature_uncertainty_option(SCREEN_TEMPERATURE_UNCERTAINTY_K)
@click.option("--export-ccd", "export_ccd", type=click.Path(dir_okay=False),
              help="Write the lab's (material, sigma_e, CCD, conditions) rows of the ccd_file "
              "records in the curated dataset's format (.csv).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
def screen(candidates, at, out, model, temperature_uncertainty, export_ccd, as_json, quiet):
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
    _check_output(export_ccd, (".csv",), "--export-ccd")
    outputs = {"--out": out, "--export-ccd": export_ccd}
    _no_overwrite(outputs, [candidates])
    operating_k = _quantity(at, "temperature", "--at")
    table = read_candidates(candidates)
    _no_overwrite(outputs, _referenced_inputs(table))
    result = _screen_with_progress(run_screen, table, operating_k, quiet, model=model,
                                   temperature_uncertainty_k=temperature_uncertainty)
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
    for note in result.notes:
        click.echo(f"  note: {note}")
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
    """The files a candidates table points to (measurements, NDP series, stack TOMLs,
    cycling records)."""
    found = []
    for col in ("file", "ndp", "ndp_stack", "ccd_file"):
        if col in table:
            found += [v for v in table[col] if isinstance(v, str) and os.path.exists(v)]
    return found


def _write_table(result, out: str) -> None:
    from sescreen.atomic import atomic_write_text, csv_text

    if out.lower().endswith(".json"):
        atomic_write_text(out, json.dumps(json_safe(result.to_json()), indent=2) + "\n")
    else:
        atomic_write_text(out, csv_text(result.file_table()))


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
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.option("--manifest", type=click.Path(dir_okay=False),
              help="A table of files (paths relative to it) with per-file material, "
              "thickness, area, temperature, voltage, skip, segment, model and reader "
              "options (sescreen.manifest); instead of FOLDER.")
@click.option("--thickness", help="Electrolyte thickness, e.g. '1mm' (required unless every "
              "manifest row gives one).")
@click.option("--area", help="Electrode area (default: each file's).")
@click.option("--voltage", help="Applied voltage (default: each file's).")
@click.option("--temperature", help="Temperature of the measurements (default: each file's).")
@fit_options
@reader_options
@click.option("--workers", type=click.IntRange(min=0), help="Worker processes (default, "
              "or 0: all CPUs).")
@click.option("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 "
              "(extra sescreen[dask]).")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Results table (CSV; "
              "default: FOLDER-batch.csv beside FOLDER, or MANIFEST-batch.csv beside the "
              "manifest); the journal that makes runs resumable is <out>.jsonl.")
@click.option("--restart", is_flag=True, help="Ignore the journal of an earlier run.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def batch(folder, manifest, thickness, area, voltage, temperature, model, skip, segment,
          workers, scheduler, out, restart, as_json, quiet, **opts):
    """Every measurement file under FOLDER (recursively), or of a --manifest, through the
    DC analysis.

    Runs in parallel, lists bad files and goes on, and resumes an interrupted run without
    redoing finished files (the resume key is the resolved path). Each row of the table has
    the material (from the manifest), the file's 95 % interval of sigma_e (sigma_e_lo_s_cm,
    sigma_e_hi_s_cm, upper_bound_only) and its outcome at 1 and 10 mA/cm^2 (pass, fail or
    inconclusive); units are in the column names. --out (and its journal <out>.jsonl and
    lock <out>.lock) must lie outside FOLDER and be none of the files read; a second run
    on the same --out while one runs is refused. A worker that dies (killed, out of memory)
    is replaced and its file retried once, then listed as failed. Progress goes to stderr
    (a bar on a terminal, a line every 10 s otherwise).

    Exit code: 0 every file analysed, 1 the table is complete but some files failed (listed),
    2 bad input (nothing analysed), 130 interrupted (run again to resume).
    """
    from sescreen.batch import default_output, run_batch
    from sescreen.progress import Progress

    if folder is not None and manifest is not None:
        raise click.UsageError("give FOLDER or --manifest, not both (a manifest lists its "
                               "files)", ctx=click.get_current_context())
    if folder is None and manifest is None:
        raise click.UsageError("give the FOLDER of measurement files, or --manifest FILE",
                               ctx=click.get_current_context())
    if out is not None and not out.strip():  # '' had silently meant the default table
        raise InputError("--out '' names no file: give a .csv name, or leave --out out for "
                         f"the default ({default_output(folder, manifest)})")
    out = out or str(default_output(folder, manifest))
    _check_output(out, (".csv",), "--out")
    area_m2 = _quantity(area, "area", "--area")
    thickness_m = _quantity(thickness, "length", "--thickness")
    fit_kwargs = {"thickness_cm": None if thickness_m is None else thickness_m * 100,
                  "area_cm2": None if area_m2 is None else area_m2 * 1e4,
                  "voltage_v": _quantity(voltage, "voltage", "--voltage"),
                  "temperature_k": _quantity(temperature, "temperature", "--temperature"),
                  "skip_s": _quantity(skip, "time", "--skip"), "model": model}
    bar: dict = {}

    def progress(done, total):
        if "bar" not in bar:
            bar["bar"] = Progress(total, "analysing", unit="file", quiet=quiet)
            bar["bar"].advance(done)
        else:
            bar["bar"].advance(done - bar["bar"].done)

    try:
        result = run_batch(folder, manifest=manifest, fit_kwargs=fit_kwargs, out=out,
                           read_kwargs=reader_kwargs(opts), segment=segment,
                           workers=workers, scheduler=scheduler, resume=not restart,
                           progress=progress)
    except KeyboardInterrupt:
        done = bar["bar"].done if "bar" in bar else 0
        total = bar["bar"].total if "bar" in bar else "?"
        click.echo(f"\nsescreen: interrupted after {done} of {total} files; the finished ones "
                   f"are in {out}.jsonl: run the same command again to resume", err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        if "bar" in bar:
            bar["bar"].close()
    summary = result.summary()
    for w in result.warnings:
        click.echo(f"sescreen: warning: {one_line(w)}", err=True)
    if as_json:
        emit_json(summary)
        _exit_if(EXIT_FAIL if result.errors else 0)
        return
    click.echo(f"{summary['n_files']} files: {summary['ok']} analysed, {summary['failed']} "
               f"failed ({summary['computed']} computed now, {summary['reused']} from the "
               f"journal); table: {out}")
    for tag, ma in (("1ma", 1), ("10ma", 10)):
        n = summary[f"outcomes_{tag}"]
        click.echo(f"  {ma:>2} mA/cm^2: {n['pass']} pass, {n['fail']} fail, "
                   f"{n['inconclusive']} inconclusive")
    options = {p.name for p in click.get_current_context().command.params}
    for e in result.errors:
        click.echo(f"  failed: {one_line(cli_terms(e, options))}")  # a newline in a name
    _exit_if(EXIT_FAIL if result.errors else 0)
