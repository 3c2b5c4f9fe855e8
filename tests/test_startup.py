"""Start-up imports nothing a command does not use: ``--help`` no numeric stack, ``inspect``
nothing beyond pandas and numpy (no pint registry: the field's units are parsed by
sescreen.unit_parse), each in a fresh interpreter. The times are in
tests/benchmarks/test_cli_speed.py."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import EXAMPLES

_RUN = """
import json, sys
from sescreen.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def _modules(*args: str) -> set[str]:
    """Modules imported by ``sescreen ARGS`` in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", _RUN, *args], capture_output=True, text=True,
                         check=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def _top_modules(*args: str) -> set[str]:
    """Top-level packages imported by ``sescreen ARGS``."""
    return {m.split(".")[0] for m in _modules(*args)}


def test_help_imports_no_numeric_stack():
    heavy = {"pandas", "numpy", "scipy", "matplotlib", "pint", "lmfit", "pymatgen", "dask"}
    assert _top_modules("--help") & heavy == set()


def test_help_builds_no_command_and_its_table_matches_the_commands():
    """``--help`` loads no command module (their one-line help comes from
    sescreen.cli.app.COMMANDS), and that table says what the commands themselves say."""
    import importlib
    import inspect

    from click.testing import CliRunner

    from sescreen.cli import app

    code = ("import sys; from sescreen.cli import main\ntry:\n    main(['--help'])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules "
            "if m.startswith('sescreen.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    assert out == "['sescreen.cli.app']"
    for name, (module, first) in app.COMMANDS.items():
        cmd = getattr(importlib.import_module(module), name.replace("-", "_"))
        assert cmd.name == name
        real = " ".join(inspect.cleandoc(cmd.help or "").split("\n\n")[0].split())
        assert real == first, name
    loaded = set(app.main.commands)
    assert loaded == set(app.COMMANDS)  # every command is in the table
    r = CliRunner().invoke(app.main, ["--help"])
    assert all(name in r.output for name in app.COMMANDS)


@pytest.mark.parametrize("name", ["dcpol/llzo_like_30C.mpt", "dcpol/glass_x_30C.DTA",
                                  "dcpol/li3ps4_like_30C.csv"])
def test_inspect_imports_only_pandas_and_numpy(name):
    heavy = {"scipy", "matplotlib", "lmfit", "pint", "pymatgen", "dask", "uncertainties"}
    assert _top_modules("inspect", str(EXAMPLES / name)) & heavy == set()


@pytest.mark.realdata
def test_inspect_of_a_real_ec_lab_file_needs_no_pint(realdata):
    assert "pint" not in _top_modules("inspect", str(realdata / "biologic" / "ca.mpt"))


def test_check_imports_only_what_the_fit_needs():
    """``check`` needs scipy for the fit (not scipy.stats: quantiles come from
    scipy.special), not lmfit, matplotlib, pint, pymatgen, dask or jinja2."""
    heavy = {"pint", "pymatgen", "dask", "distributed", "jinja2", "lmfit", "matplotlib"}
    args = ("check", str(EXAMPLES / "dcpol" / "llzo_like_30C.mpt"), "--thickness", "1mm")
    imported = _modules(*args)
    assert {m.split(".")[0] for m in imported} & heavy == set()
    assert "scipy.stats" not in imported
