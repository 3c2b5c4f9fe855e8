"""The ``sescreen`` command line: a thin layer over the Python API.

One module per family of commands, each registering on the group of :mod:`.app` when its
command is called (:data:`.app.COMMANDS`; ``sescreen --help`` loads none):
:mod:`.measurements` (``inspect``, ``dcpol``, ``arrhenius``, ``ccd``), :mod:`.thresholds`
(``mechanics``, ``criteria``, ``check``), :mod:`.depth_profiling` (``ndp``),
:mod:`.screening` (``screen``, ``report``, ``batch``) and :mod:`.watching` (``watch``);
:mod:`.options` holds what they share. Exit codes and the error contract: :mod:`.app`.
"""

from sescreen.cli.app import (
    EXIT_BAD_INPUT,
    EXIT_BROKEN_PIPE,
    EXIT_FAIL,
    EXIT_INCONCLUSIVE,
    EXIT_INTERRUPTED,
    cli_terms,
    main,
)

__all__ = ["EXIT_BAD_INPUT", "EXIT_BROKEN_PIPE", "EXIT_FAIL", "EXIT_INCONCLUSIVE",
           "EXIT_INTERRUPTED", "cli_terms", "main"]
