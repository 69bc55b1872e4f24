"""Every console the CLI prints to, with rich's markup off.

What the CLI prints carries user text: paths (``missing[/].csv``), scheme errors quoting a regex
(``'^[a-z][a-z0-9_]*$'``), names from the user's files. Rich would read ``[...]`` in them as tags,
lose text or raise MarkupError, so no console here parses markup; styles come from ``style=`` and
:class:`rich.text.Text`, never from brackets in a string.

Results go to stdout, at least 120 columns wide when piped, so logs keep every column.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.text import Text


def stdout() -> Console:
    """A console for results; a terminal keeps its own width."""
    width = None if sys.stdout.isatty() else 120
    return Console(width=width, markup=False)


def stderr() -> Console:
    """A console for progress and messages, beside the results."""
    return Console(stderr=True, markup=False, highlight=False)


def error(message: object) -> None:
    """The one red line a user-fixable error becomes (never wrapped, so it stays one line)."""
    stderr().print(Text.assemble(("error:", "bold red"), " ", str(message)), soft_wrap=True)
