"""CLI commands of this domain (filled by the owner of the domain)."""

import typer


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the root app."""
