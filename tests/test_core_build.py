"""The compiled core is an optional build: where a C compiler is present it must have been
built, and built from the current source (an editable install keeps a stale module when a
rebuild fails, and the fits then call functions it does not have)."""

from __future__ import annotations

import re
import shutil
import sysconfig
from pathlib import Path

import pytest

from sescreen.dcpol import core

SOURCE = Path(core.__file__).with_name("_lmcore.c")


def test_core_is_built_where_a_compiler_is():
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}) here: the Python path is the build")
    assert core._lmcore is not None, (
        "a C compiler is here but sescreen.dcpol._lmcore is not built: the install's "
        "optional build failed (rebuild with pip install -e . and read its warnings)")


def test_built_core_has_every_function_of_its_source():
    if core._lmcore is None:
        pytest.skip("the compiled core is not built")
    text = SOURCE.read_text(encoding="utf-8")
    table = text[text.index("static PyMethodDef methods[]"):]
    declared = set(re.findall(r'\{"(\w+)",', table))
    assert declared, "no method table found in _lmcore.c"
    missing = sorted(n for n in declared if not hasattr(core._lmcore, n))
    assert not missing, f"the built _lmcore is older than its source: lacks {missing}"
