"""Where CLI tables go: stdout, at least 120 columns wide when piped, so logs keep every column."""

from __future__ import annotations

import sys

from rich.console import Console


def stdout() -> Console:
    """A console for results; a terminal keeps its own width."""
    return Console() if sys.stdout.isatty() else Console(width=120)
