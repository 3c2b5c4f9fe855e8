"""``python -m sescreen.cli``: the same as the ``sescreen`` command."""

from sescreen.cli import main

main()
