"""The ``sescreen`` command line: a thin layer over the Python API.

One module per family of commands, each registering on the group of :mod:`.app`:
:mod:`.measurements` (``inspect``, ``dcpol``, ``arrhenius``, ``ccd``), :mod:`.thresholds`
(``mechanics``, ``criteria``, ``check``), :mod:`.depth_profiling` (``ndp``),
:mod:`.screening` (``screen``, ``report``, ``batch``) and :mod:`.watching` (``watch``);
:mod:`.options` holds what they share. Exit codes and the error contract: :mod:`.app`.
"""

from sescreen.cli import depth_profiling, measurements, screening, thresholds, watching
from sescreen.cli.app import (
    EXIT_BAD_INPUT,
    EXIT_BROKEN_PIPE,
    EXIT_FAIL,
    EXIT_INCONCLUSIVE,
    EXIT_INTERRUPTED,
    cli_terms,
    main,
)
from sescreen.cli.options import _MODEL_CHOICES

__all__ = ["EXIT_BAD_INPUT", "EXIT_BROKEN_PIPE", "EXIT_FAIL", "EXIT_INCONCLUSIVE",
           "EXIT_INTERRUPTED", "_MODEL_CHOICES", "cli_terms", "depth_profiling", "main",
           "measurements", "screening", "thresholds", "watching"]
