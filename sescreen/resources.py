"""Where sescreen's bundled data live: the curated literature dataset and the example
measurements the main job (``sescreen report``) screens.

One source in the repository, ``datasets/`` (documented in the README and in
``datasets/literature/README.md``). A built wheel carries a copy of it inside the package
namespace, as ``sescreen/data/`` (``setup.py`` copies it at build time; nothing is
duplicated in git), read through :mod:`importlib.resources`. A source checkout or an
editable install reads ``datasets/`` in place, so editing a dataset needs no reinstall.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from sescreen.errors import InputError

__all__ = ["data_path", "data_root"]

_CHECKOUT = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """The folder holding ``literature/`` and ``examples/``: the installed package's
    ``sescreen/data`` when present, else the source checkout's ``datasets/``."""
    installed = importlib.resources.files("sescreen") / "data"
    if installed.is_dir():
        return Path(str(installed))
    # a source checkout: datasets/ beside this package, recognised by sescreen's own
    # pyproject (never some other installed package's top-level "datasets")
    checkout = _CHECKOUT / "datasets"
    if (_CHECKOUT / "pyproject.toml").is_file() and (checkout / "literature").is_dir():
        return checkout
    return Path(str(installed))  # missing: the caller's error names this path


def data_path(*parts: str, must_exist: bool = False) -> Path:
    """A bundled data file, e.g. ``data_path("literature", "electrolytes.csv")``."""
    path = data_root().joinpath(*parts)
    if must_exist and not path.exists():
        raise InputError(f"bundled data file {'/'.join(parts)} is missing at {path}: "
                         "reinstall sescreen (pip install --force-reinstall sescreen)")
    return path
