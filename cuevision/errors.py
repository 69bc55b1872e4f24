"""The base class of errors a user can fix: the CLI prints a message, not a traceback."""


class CuevisionError(ValueError):
    """Bad input or a missing prerequisite; the message says what was wrong and how to fix it."""
