"""The one base class for errors a user can fix: the CLI prints them as a message, not a traceback."""


class CuevisionError(ValueError):
    """Bad input or a missing prerequisite; the message says what was wrong and how to fix it."""
