"""Coding schemes as data: load and validate the YAML that defines event types and rules.

Nothing else in cuevision names a label; the Label Studio config, the detector's classes and the
metrics all come from a :class:`Scheme`. A scheme may carry its coding manual (:class:`Manual`),
which annotators see in Label Studio and readers in the report's appendix.

Every text of a scheme is free of control characters: they break the Label Studio XML and can
hide text in a terminal, so a scheme with one is refused, naming the field.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from cuevision.errors import CuevisionError
from cuevision.resources import ANNOTATION_DIR as ANNOTATION_DIR
from cuevision.resources import DEFAULT_SCHEME
from cuevision.types import ANALYSIS_FPS, Role


class SchemeError(CuevisionError):
    """A scheme file that cannot be used; the message says what is wrong and where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _printable(text: str) -> str:
    """Refuse control characters (Unicode category Cc: \\x00-\\x1f, \\x7f-\\x9f), newlines too."""
    bad = next((c for c in text if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise ValueError(
            f"contains the control character {bad!r}; remove it (text is one printable line)"
        )
    return text


Text = Annotated[str, Field(min_length=1), AfterValidator(_printable)]


class EventType(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    actor: Role
    kind: Literal["cue", "response"]
    description: Text
    color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    hotkey: Annotated[str, Field(min_length=1, max_length=1), AfterValidator(_printable)]


class ContingencyRule(_Strict):
    """Responses of these types answer a cue of this type if they start within ``window_s``."""

    cue: str
    responses: tuple[str, ...] = Field(min_length=1)
    window_s: float = Field(gt=0)


class RepairRule(_Strict):
    """A rupture opens at a ``ruptures`` onset; the actor's next ``repairs`` onset repairs it."""

    ruptures: tuple[str, ...] = Field(min_length=1)
    repairs: tuple[str, ...] = Field(min_length=1)
    actor: Role = "child"
    max_s: float = Field(gt=0)


class SynchronySettings(_Strict):
    window_s: float = Field(default=4.0, gt=0)
    step_s: float = Field(default=0.5, gt=0)
    max_lag_s: float = Field(default=3.0, ge=0)
    surrogates: int = Field(default=200, ge=1)


class AnalysisSettings(_Strict):
    fps: float = Field(default=ANALYSIS_FPS, gt=0, le=120)
    time_unit_s: float = Field(default=0.1, gt=0)
    permutations: int = Field(default=1000, ge=1)
    synchrony: SynchronySettings = SynchronySettings()
    seed: int = 0


class TypeManual(_Strict):
    """How to code one event type: when, where its onset and offset fall, and what is not it."""

    code_when: Text
    onset: Text
    offset: Text
    not_this: tuple[Text, ...] = Field(min_length=1)


class Manual(_Strict):
    """A coding manual: how two people code the same thing. One entry per event type."""

    min_gap_s: float = Field(gt=0)
    general: tuple[Text, ...] = Field(min_length=1)
    types: dict[str, TypeManual]


class Scheme(_Strict):
    name: Text
    version: int = 1
    event_types: tuple[EventType, ...] = Field(min_length=1)
    contingency: tuple[ContingencyRule, ...] = ()
    repair: RepairRule | None = None
    analysis: AnalysisSettings = AnalysisSettings()
    manual: Manual | None = None

    @model_validator(mode="after")
    def _references_resolve(self) -> Scheme:
        names = [t.name for t in self.event_types]
        for field, values in (("name", names), ("hotkey", [t.hotkey for t in self.event_types])):
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"event types share a {field}: {', '.join(dupes)}")
        kinds = {t.name: t.kind for t in self.event_types}

        def check(name: str, where: str, kind: str | None = None) -> None:
            if name not in kinds:
                raise ValueError(f"{where} names unknown event type {name!r}")
            if kind and kinds[name] != kind:
                raise ValueError(f"{where}: {name!r} is a {kinds[name]}, not a {kind}")

        for rule in self.contingency:
            check(rule.cue, "a contingency rule", "cue")
            for response in rule.responses:
                check(response, f"the rule for {rule.cue!r}", "response")
        if self.repair:
            for name in (*self.repair.ruptures, *self.repair.repairs):
                check(name, "the repair rule")
        if self.manual:
            missing = [n for n in names if n not in self.manual.types]
            if missing:
                raise ValueError(f"the manual has no entry for {', '.join(missing)}")
            for name in self.manual.types:
                check(name, "the manual")
        return self

    @cached_property
    def type_names(self) -> tuple[str, ...]:
        """Event type names in scheme order: also the detector's output classes, in that order."""
        return tuple(t.name for t in self.event_types)

    def event_type(self, name: str) -> EventType | None:
        return next((t for t in self.event_types if t.name == name), None)

    def types_of(self, kind: str | None = None, actor: str | None = None) -> tuple[EventType, ...]:
        return tuple(
            t
            for t in self.event_types
            if (kind is None or t.kind == kind) and (actor is None or t.actor == actor)
        )

    @cached_property
    def hash(self) -> str:
        """A short content hash: stamped on models and outputs so mismatches are caught.

        It guards what the detector's classes and the metrics depend on, so the manual is left
        out: rewording how to code a type must not orphan the models trained for the scheme
        (their registry entries check this hash).
        """
        canonical = json.dumps(self.model_dump(mode="json", exclude={"manual"}), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def load_scheme(path: Path | str | None = None) -> Scheme:
    """Load and validate a scheme; ``None`` loads the default scheme shipped in ``annotation/``."""
    path = Path(path) if path is not None else DEFAULT_SCHEME
    if not path.is_file():
        raise SchemeError(f"{path}: no such scheme file (the default is {DEFAULT_SCHEME})")
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise SchemeError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise SchemeError(f"{path}: a scheme is a YAML mapping with name and event_types")
    try:
        return Scheme.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'scheme'}: {e['msg']}" for e in error.errors()
        )
        raise SchemeError(f"{path}: invalid scheme: {problems}") from None
