"""Commands on the thresholds: ``mechanics`` (critical overpotential), ``criteria`` (the
sigma_e thresholds and predicted CCD) and ``check`` (the verdict on one new hold)."""

from __future__ import annotations

import math
import sys
from typing import Any

import click

from sescreen.cli.app import EXIT_FAIL, EXIT_INCONCLUSIVE, main
from sescreen.cli.options import (
    _conductivity,
    _hold_args,
    _naming,
    _quantity,
    accuracy_option,
    emit_json,
    fit_options,
    read_measurement,
    reader_options,
    source_option,
)
from sescreen.errors import InputError


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
@source_option
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
                   max_sigma_e_bracket=None if thr.bracket is None else list(thr.bracket),
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
    if "max_sigma_e" in out and out["max_sigma_e_bracket"] is not None:
        # only the bracket decides there: the line's value is no requirement to design to
        from sescreen.thresholds import bracket_text

        lo, hi = out["max_sigma_e_bracket"]
        enough = (f"sigma_e below {lo:.3g} S/cm is enough" if lo > 0
                  else "no sigma_e is known to be enough")
        click.echo(f"{enough} for {out['ccd_ma_cm2']:g} mA/cm^2: the threshold there is only "
                   f"known to be {bracket_text((lo, hi))} (the line's "
                   f"{out['max_sigma_e']:.3g} S/cm does not decide) [{out['label']}]")
    elif "max_sigma_e" in out:
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
@source_option
@fit_options
@accuracy_option
@reader_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def check(file, thickness, area, voltage, temperature, target, source, model, skip, segment,
          accuracy, as_json, **opts):
    """A new DC-polarization measurement in, sigma_e and the verdict out.

    PASS only when the whole 95 % interval of sigma_e is below the threshold for --target,
    FAIL only when the whole interval is above it, INCONCLUSIVE otherwise (with the reason
    and, for a hold still decaying, about how long a hold would settle it). A result that
    supports only an upper bound can pass, never fail. Exit code 0 pass, 1 fail,
    3 inconclusive (for scripted lab checks), 2 bad input.
    """
    from sescreen import criteria as cr
    from sescreen.dcpol import fit_dcpol, select_hold

    m = read_measurement(file, area=area, temperature=temperature, **opts)
    thickness_cm = _quantity(thickness, "length", "--thickness") * 100
    voltage_v = _quantity(voltage, "voltage", "--voltage")
    with _naming(file):
        fit = fit_dcpol(select_hold(m, segment), thickness_cm=thickness_cm,
                        voltage_v=voltage_v, model=model,
                        skip_s=_quantity(skip, "time", "--skip"),
                        accuracy_a=_quantity(accuracy, "current", "--accuracy"))
    target_ma = _quantity(target, "current_density", "--target") / 10.0
    evidence = cr.fit_inputs(fit)
    at = cr.judge_at(fit.sigma_e, target_ma, **evidence, temperature_k=fit.temperature_k,
                     source=source)
    v = cr.verdict(fit.sigma_e, **evidence, temperature_k=fit.temperature_k, source=source)
    outcome, margin = at["outcome"], at["margin_decades"]
    lo, hi = at["sigma_e_interval"]
    out = {"file": file, "outcome": outcome, "reason": at["reason"],
           "passes": outcome == "pass", "target_ma_cm2": target_ma,
           "max_sigma_e": at["threshold"], "max_sigma_e_interval": at["threshold_interval"],
           "max_sigma_e_bracket": at["threshold_bracket"],
           "sigma_e": fit.sigma_e, "sigma_e_interval": [lo, hi],
           "sigma_e_interval_measured": list(fit.sigma_e_interval),
           "temperature_k": fit.temperature_k, "sigma_e_stderr": fit.sigma_e_stderr,
           "upper_bound_only": bool(lo <= 0 and math.isfinite(hi)),
           "margin_decades": margin, "p_pass": at["p_pass"],
           "steady_state_reached": fit.steady_state_reached, "t_hold": fit.t_hold,
           "t_steady_estimate": fit.t_steady_estimate, "source": source,
           "threshold_label": at["threshold_label"], "verdict": v.summary(),
           "warnings": list(fit.warnings) + list(v.warnings)}
    if not fit.steady_state_reached:
        out["warnings"].append("the hold did not reach steady state: sigma_e is extrapolated")
    if fit.temperature_k is None:  # sescreen.criteria.carried_to needs it
        out["warnings"].append(
            "the measurement temperature is unknown (the file states none; give "
            "--temperature): sigma_e is judged as if measured at 25 C, where the thresholds "
            "are stated; measured below 25 C it would be higher there (sigma_e rises with "
            "temperature) and a PASS would not hold")
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
        if at["threshold_bracket"] is None:
            versus = f"< {at['threshold']:.3g} S/cm"
        else:  # not stated at this density: only its range decides
            from sescreen.thresholds import bracket_text

            versus = (f"a threshold of {bracket_text(tuple(at['threshold_bracket']))} "
                      f"(not stated; the line gives {at['threshold']:.3g})")
        click.echo(f"{outcome.upper()}: {stated} vs {versus} for "
                   f"{target_ma:g} mA/cm^2 (margin {margin:+.2f} decades{prob})")
        click.echo(f"  reason: {at['reason']}")
        for w in out["warnings"]:
            click.echo(f"  warning: {w}")
    if outcome == "fail":
        sys.exit(EXIT_FAIL)
    if outcome != "pass":
        sys.exit(EXIT_INCONCLUSIVE)
