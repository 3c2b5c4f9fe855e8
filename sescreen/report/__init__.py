"""Self-contained HTML reports: figures embedded as data URIs, no network needed to view
them, user-supplied text escaped (jinja2 autoescape).

- :func:`screening_report`: the screening table with PASS / FAIL / INCONCLUSIVE badges
  (the reason of an inconclusive one shown and as a tooltip), every DC fit, the
  Arrhenius plots, the CCD vs sigma_e map with the thresholds, the candidates and the lab's
  measured CCD points (beside the predicted CCD in the table, each record's voltage trace
  and evidence in its own section), the NDP
  panels, methods and provenance (versions, input file hashes, constants), every warning.
- :func:`reproduction_report`: the numbers Han et al. 2019 state next to what sescreen
  computes, with the differences explained.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import hashlib
import io
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from sescreen.atomic import atomic_write_text

__all__ = ["figure_uri", "provenance", "reproduction_report", "screening_report"]

_DEPENDENCIES = ("numpy", "scipy", "pandas", "lmfit", "pymatgen", "matplotlib", "click",
                 "pint", "jinja2", "galvani", "pycatima")


def _env():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["sci"] = _sci
    env.filters["fixed"] = _fixed
    return env


def _sci(value, digits: int = 3) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "-"
    if v != v:  # NaN
        return "-"
    return f"{v:.{digits}g}" if 1e-3 <= abs(v) < 1e4 or v == 0 else f"{v:.{digits - 1}e}"


def _fixed(value, digits: int = 2) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "-"
    return "-" if v != v else f"{v:+.{digits}f}"


def figure_uri(ax_or_fig, *, dpi: int = 110) -> str:
    """A matplotlib figure as a PNG data URI (the figure is closed)."""
    from sescreen.plot import _pyplot

    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    if hasattr(ax_or_fig, "__len__") and not hasattr(ax_or_fig, "figure"):
        fig = ax_or_fig[0].figure
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    _pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def provenance(inputs: list[str] | None = None) -> dict[str, Any]:
    """Versions, platform, time, and the SHA-256 of every input file."""
    from sescreen import __version__
    from sescreen.dcpol import core

    versions = {"sescreen": __version__, "python": platform.python_version(),
                # the DC fits' optimizer: the C extension, or the Python reference path
                "DC fit core": "compiled" if core.available() else "python"}
    for dep in _DEPENDENCIES:
        try:
            versions[dep] = metadata.version(dep)
        except metadata.PackageNotFoundError:
            versions[dep] = "not installed"

    def shown(path: Path) -> str:
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(path)

    files = []
    for p in sorted(set(inputs or [])):
        path = Path(p)
        if path.is_file():
            files.append({"path": shown(path), "sha256": _sha256(str(path)),
                          "bytes": path.stat().st_size})
        elif path.is_dir():
            for sub in sorted(q for q in path.rglob("*") if q.is_file()):
                files.append({"path": shown(sub), "sha256": _sha256(str(sub)),
                              "bytes": sub.stat().st_size})
    return {"versions": versions, "platform": platform.platform(),
            "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "files": files}


def constants() -> list[dict[str, str]]:
    """The constants a report's numbers depend on, with their sources."""
    from sescreen import criteria, mechanics
    from sescreen.constants import BOLTZMANN_EV, FARADAY, GAS_CONSTANT
    from sescreen.ndp.calibration import HAN2019_ENERGY
    from sescreen.ndp.profiles import HAN2019_STANDARD as S

    def row(name, value, source):
        return {"name": name, "value": value, "source": source}

    codata = "CODATA 2018"
    return [
        row("sigma_e threshold, 1 mA/cm2", f"{criteria.SIGMA_E_MAX_1MA.sigma_e_max:g} S/cm",
            criteria.SIGMA_E_MAX_1MA.label),
        row("sigma_e threshold, 10 mA/cm2", f"{criteria.SIGMA_E_MAX_10MA.sigma_e_max:g} S/cm",
            criteria.SIGMA_E_MAX_10MA.label),
        row("Faraday constant F", f"{FARADAY} C/mol", codata),
        row("gas constant R", f"{GAS_CONSTANT} J/(mol K)", codata),
        row("Boltzmann constant k_B", f"{BOLTZMANN_EV} eV/K", codata),
        row("molar volume of Li, Omega_Li", f"{mechanics.LI_MOLAR_VOLUME_M3:.5g} m3/mol",
            "6.941 g/mol / 0.534 g/cm3"),
        row("NDP energy calibration", HAN2019_ENERGY.label, "Han et al. 2019"),
        row("NDP eq. (4) constants",
            f"D_10B {S.areal_density:g} atoms/cm2, sigma_10B {S.sigma_10b_barn} b, "
            f"sigma_6Li {S.sigma_6li_barn} b, A_6Li {S.abundance_6li}", "Han et al. 2019"),
    ]


def _write(path: str | Path, html: str) -> Path:
    return atomic_write_text(path, html)


def screening_report(result, out: str | Path, *, title: str = "sescreen screening report",
                     candidates_path: str | None = None) -> Path:
    """Write the screening report of a :class:`sescreen.screening.ScreeningResult`.

    Raises
    ------
    InputError
        ``out`` is (or resolves to) a file the screening read: the candidates table
        (``candidates_path`` or ``result.candidates_path``) or a file it points to. Nothing
        is written.
    """
    import pandas as pd

    from sescreen.atomic import refuse_overwriting_inputs
    from sescreen.plot import plot_arrhenius, plot_ccd_map
    from sescreen.screening import json_rows

    refuse_overwriting_inputs({"the report": out}, [*result.inputs, candidates_path,
                                                    result.candidates_path])
    table = result.table
    rows = json_rows(table)
    dc_figures = []
    for material, fits in result.fits.items():
        for fit in fits:
            dc_figures.append({"material": material, "source": fit.source,
                               "summary": str(fit), "uri": figure_uri(fit.plot(), dpi=80)})
    arrhenius_uri = None
    if result.arrhenius:
        arrhenius_uri = figure_uri(plot_arrhenius(list(result.arrhenius.values()),
                                                  at_k=result.operating_k))
    cands = pd.DataFrame({"name": table["material"], "sigma_e": table["sigma_e"]}).dropna()
    ccd_uri = figure_uri(plot_ccd_map(candidates=cands, measured=result.ccd_points()))
    ccd_records = []
    for material, records in result.ccd.items():
        for r in records:  # shown by file name, as the DC fits are
            r = dataclasses.replace(r, source=Path(r.source).name if r.source else None)
            ccd_records.append({"material": material, "source": r.source,
                                "statement": r.statement(), "summary": str(r),
                                "uri": figure_uri(r.plot(), dpi=80)})
    ndp_panels = [{"material": m, "summary": str(a), "uri": figure_uri(a.plot(), dpi=90)}
                  for m, a in result.ndp.items()]
    warnings = [{"material": r["material"], "text": w} for r in rows
                for w in (r.get("warnings") or "").split("; ") if w]
    warnings += [{"material": "(input)", "text": f} for f in result.failures]
    warnings += [{"material": "(table)", "text": n} for n in result.notes]
    table_path = candidates_path or result.candidates_path
    inputs = list(result.inputs) + ([table_path] if table_path else [])
    html = _env().get_template("screening.html.j2").render(
        title=title, rows=rows, operating_c=result.operating_k - 273.15,
        dc_figures=dc_figures, arrhenius_uri=arrhenius_uri, ccd_uri=ccd_uri,
        ccd_records=ccd_records,
        ndp_panels=ndp_panels, warnings=warnings, constants=constants(),
        provenance=provenance(inputs))
    return _write(out, html)


def reproduction_report(out: str | Path) -> Path:
    """Write the Han 2019 reproduction report (see :mod:`sescreen.report.reproduction`)."""
    from sescreen.report.reproduction import reproduction_context

    html = _env().get_template("reproduction.html.j2").render(
        **reproduction_context(), constants=constants(), provenance=provenance([]))
    return _write(out, html)
