"""Fixtures of the audio tests: a real clip of the dyad 6c6MZQ."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def clip_6c6(lookit: Callable[[str], Path]) -> Path:
    """A real clip of the dyad 6c6MZQ (its audio starts 37 ms after its video)."""
    return lookit("6c6MZQ.joke1.rep1.take1.ThatsNotAHat.mp4")
