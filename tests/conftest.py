"""Shared fixtures: the third-party instrument files in ../shared/realdata (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"
EXAMPLES = ROOT / "datasets" / "examples"


@pytest.fixture(scope="session")
def realdata() -> Path:
    """Folder of real potentiostat files nobody on this project wrote."""
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not available")
    return REALDATA


@pytest.fixture
def galvani():
    """galvani (optional extra 'biologic') for .mpr files."""
    return pytest.importorskip("galvani")


@pytest.fixture(scope="session")
def examples() -> Path:
    """The bundled example data (datasets/examples)."""
    return EXAMPLES
