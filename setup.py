"""Build hook: the wheel carries the repository's ``datasets/`` inside the package namespace.

``datasets/`` (top level, README-documented) is the one copy in git. Building a wheel copies
the files the package reads at run time (the curated literature dataset and the example
measurements of the main job) to ``sescreen/data/`` in the build tree, where
:mod:`sescreen.resources` finds them through :mod:`importlib.resources`. Editable installs
skip the copy and read ``datasets/`` in place. The one C extension (the fits' compiled core) is
declared here too; everything else is in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: datasets/ sub-folder -> glob patterns shipped (the generator script stays in the repo)
SHIPPED = {"literature": ["*.csv", "README.md"],
           "examples": ["candidates.csv", "truth.json", "dcpol/*", "ndp/*", "ccd/*"]}


def _shipped_files():
    src = HERE / "datasets"
    for folder, patterns in SHIPPED.items():
        for pattern in patterns:
            for path in sorted((src / folder).glob(pattern)):
                if path.is_file():
                    yield path, path.relative_to(src)


class build_py_with_data(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        dest = Path(self.build_lib) / "sescreen" / "data"
        if dest.exists():
            shutil.rmtree(dest)
        files = list(_shipped_files())
        if not files:
            raise SystemExit("setup.py: datasets/ is missing; build from a source checkout "
                             "or an sdist that includes it")
        for path, rel in files:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / rel)

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        dest = Path(self.build_lib) / "sescreen" / "data"
        return outputs + [str(dest / rel) for _, rel in _shipped_files()]


#: The compiled core of the transient fits (sescreen/dcpol/core.py); optional: without a C
#: compiler the build goes on and the fits run the Python reference path.
LMCORE = Extension("sescreen.dcpol._lmcore", ["sescreen/dcpol/_lmcore.c"], optional=True)

setup(cmdclass={"build_py": build_py_with_data}, ext_modules=[LMCORE])
