"""``sescreen watch``: follow a running hold (or replay a finished one) and say when it can
stop. A thin layer over :mod:`sescreen.sequential`, loaded by :mod:`sescreen.cli`."""

from __future__ import annotations

import json
import sys

import click

from sescreen.cli.app import (
    EXIT_BAD_INPUT,
    EXIT_FAIL,
    EXIT_INCONCLUSIVE,
    EXIT_INTERRUPTED,
    main,
)
from sescreen.cli.options import (
    _check_measurement,
    _check_output,
    _hold_args,
    _no_overwrite,
    _quantity,
    accuracy_option,
    model_option,
    read_measurement,
    reader_options,
)
from sescreen.errors import InputError, one_line
from sescreen.serialize import json_safe


def _fraction(text: str | None, name: str) -> float | None:
    """'5%' or '0.05' -> 0.05."""
    if text is None:
        return None
    s = text.strip()
    try:
        value = float(s[:-1]) / 100 if s.endswith("%") else float(s)
    except ValueError:
        raise InputError(f"{name} {text!r}: write a fraction such as '5%' or '0.05'") from None
    if not 0 < value < 1:
        raise InputError(f"{name} {text!r} must be between 0 and 100 %")
    return value


def _final(watcher, code: int, no_look: str) -> dict:
    last = watcher.history.last
    first = watcher.history.first_decision
    out = {"final": True, "stop": no_look if last is None else last.stop,
           # a PASS or FAIL not yet repeated --confirm times is not a decision
           "outcome": last.outcome if last is not None and last.decided else "inconclusive",
           "last_look_outcome": None if last is None else last.outcome,
           "decided": bool(last and last.decided), "exit_code": code,
           "n_looks": len(watcher.history), "decided_at_s": first and first.elapsed_s,
           "method": watcher.boundary.describe(), "threshold": watcher.threshold}
    if last is not None:
        out.update(notes=list(last.notes), elapsed_s=last.elapsed_s, sigma_e=last.sigma_e,
                   sigma_e_interval=last.sigma_e_interval, level=last.level,
                   sigma_e_interval_95=last.sigma_e_interval_95,
                   precision_reached=last.precision_reached, reason=last.reason)
    return json_safe(out)


@main.command()
@_hold_args
@click.option("--every", default="5min", show_default=True,
              help="Time between looks (wall clock; record time with --replay).")
@click.option("--idle", default="30min", show_default=True,
              help="Stop when the file has not grown, or could not be read, for this long.")
@click.option("--replay", is_flag=True, help="Replay a finished record as it was written.")
@click.option("--precision", help="Also stop when the interval is this narrow, e.g. '5%'.")
@click.option("--alpha", default=0.05, show_default=True, type=float,
              help="Error rate over all looks together.")
@click.option("--max-looks", type=int, help="Pre-set number of looks (alpha/K each); "
              "default: any number (alpha 6/(pi^2 k^2) at look k).")
@click.option("--confirm", default=2, show_default=True, type=click.IntRange(min=1),
              help="Looks in a row that must give the same PASS or FAIL before it decides "
              "(a process slower than the record so far is invisible in it).")
@model_option
@accuracy_option
@click.option("--history", "history_path", type=click.Path(dir_okay=False),
              help="Write the looks as JSON lines to this file (.jsonl).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Plot sigma_e and its interval against time (.png, .svg, .pdf).")
@reader_options
@click.option("--json-lines", "json_lines", is_flag=True,
              help="One JSON object per look, and a last one when watching stops.")
def watch(file, thickness, area, voltage, temperature, target, every, idle, replay,
          precision, alpha, max_looks, confirm, model, accuracy, history_path, plot_path,
          json_lines, **opts):
    """Follow a hold the instrument is still writing and say when it can stop.

    At each look the record so far is refitted and sigma_e's interval is judged against the
    threshold for --target. Look k uses the level 1 - alpha_k with sum alpha_k <= --alpha,
    so over all looks together a wrong PASS or FAIL has probability <= alpha (union bound;
    Howard et al., Ann. Stat. 2021). A PASS or FAIL decides only when --confirm looks in a
    row give it (default 2: a slow process the record cannot show yet turns a single look
    round), or at the last look of a finished record. Stops with exit 0 (PASS) or 1 (FAIL)
    when decided;
    with exit 3 when the interval reaches --precision undecided, the file stops growing for
    --idle, the replay ends or --max-looks is used up; 130 on Ctrl-C (the last state is
    printed); 2 on bad input (also a file that states another technique). A file that
    cannot be read at a later look (a row no reader accepts, a file emptied, deleted or
    moved away) is reported once on stderr, naming the file and the line, and not judged
    until it can be read again; unreadable for --idle, watching stops with exit 2 (stop
    "unreadable").
    """
    from sescreen.sequential import HoldWatcher, follow
    from sescreen.sequential import replay as replay_record

    _check_output(history_path, (".jsonl",), "--history")
    _check_output(plot_path, (".png", ".svg", ".pdf"), "--plot")
    _no_overwrite({"--history": history_path, "--plot": plot_path}, [file])
    every_s = _quantity(every, "time", "--every")
    idle_s = _quantity(idle, "time", "--idle")
    area_m2 = _quantity(area, "area", "--area")
    watcher = HoldWatcher(
        thickness_cm=_quantity(thickness, "length", "--thickness") * 100,
        target_ma_cm2=_quantity(target, "current_density", "--target") / 10.0,
        area_cm2=None if area_m2 is None else area_m2 * 1e4,
        voltage_v=_quantity(voltage, "voltage", "--voltage"),
        temperature_k=_quantity(temperature, "temperature", "--temperature"), model=model,
        accuracy_a=_quantity(accuracy, "current", "--accuracy"), alpha=alpha,
        max_looks=max_looks, precision=_fraction(precision, "--precision"),
        confirm=confirm, source=file)
    if not json_lines:
        click.echo(f"watching {file}: {watcher.boundary.describe()}; threshold "
                   f"{watcher.threshold:.3g} S/cm for {watcher.target_ma_cm2:g} mA/cm^2")
    if replay:
        opts["allow_truncated"] = True
        m = read_measurement(file, **opts)
        _check_measurement(m, area=area, voltage=voltage, temperature=temperature)
        looks = replay_record(m, watcher, every_s=every_s)
    else:
        kw = {"format": opts.get("fmt"), "technique": opts.get("technique")}
        kw.update({k: opts.get(k) for k in ("time_unit", "current_unit", "voltage_unit")})
        for k in ("time_col", "current_col", "voltage_col"):
            v = opts.get(k)
            kw[k] = int(v) if v is not None and v.isdigit() else v
        looks = follow(file, watcher, every_s=every_s, idle_s=idle_s, read_kwargs=kw,
                       report=lambda msg: click.echo(f"sescreen: warning: {one_line(msg)}",
                                                     err=True))
    code = EXIT_INCONCLUSIVE
    try:
        for look in looks:
            if json_lines:
                click.echo(json.dumps(look.summary(), allow_nan=False))
            else:
                click.echo(look.line())
                click.echo(f"            {look.reason}" if look.stop else "", nl=bool(look.stop))
                for note in look.notes:
                    click.echo(f"            note: {note}")
            sys.stdout.flush()
    except KeyboardInterrupt:
        watcher.finish("interrupted")
        code = EXIT_INTERRUPTED
    last = watcher.history.last
    if code != EXIT_INTERRUPTED and last is not None and last.decided:
        code = 0 if last.outcome == "pass" else EXIT_FAIL
    if last is not None and last.stop == "unreadable":  # review 4, D7: not "idle", exit 2
        code = EXIT_BAD_INPUT
    if history_path:
        watcher.history.to_json_lines(history_path)
    if plot_path:  # temp file + rename, as every output (review 4, D12)
        import matplotlib

        from sescreen.plot import save_figure

        matplotlib.use("Agg")
        save_figure(watcher.history.plot(), plot_path)
    final = _final(watcher, code, "end" if replay else "idle")
    if json_lines:
        click.echo(json.dumps(final, allow_nan=False))
    else:
        if last is None:
            click.echo("no look: the file never held a readable record")
        elif code == EXIT_INTERRUPTED:
            click.echo("interrupted; last state:\n" + last.line())
        state = final["outcome"].upper()
        when = (f" (decided at {final['decided_at_s']:.6g} s)" if final["decided"] else "")
        click.echo(f"stop: {final['stop']}: {state}{when}")
    if code == EXIT_BAD_INPUT:
        click.echo(f"sescreen: error: {one_line(last.notes[-1])}; stopped watching: it "
                   f"could not be read for --idle {idle}", err=True)
    sys.exit(code)
