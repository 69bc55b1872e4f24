"""cuevision: caregiver-child cue and response moments from video, confirmed by people, measured."""

__version__ = "0.1.0"
