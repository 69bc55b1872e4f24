"""ELAN (EAF) import and export: chosen tiers of an ``.eaf`` file become cuevision events, and
events become an ``.eaf`` file (``eaf_text``, one tier per actor.type).

ELAN files carry no notion of child or caregiver, cue or response: a tier is just named
annotations in milliseconds. A small *tier mapping* says which tier is which event type, e.g.::

    CHI: {actor: child, type: child_vocalises}
    FA1: {actor: caregiver, type: caregiver_vocalises}

Tiers not named in the mapping are ignored; each annotation on a mapped tier becomes one
:class:`~cuevision.types.Event` (``source="elan:<tier>"``). With a scheme, the mapped types and
actors are checked against it, so an import cannot produce events the metrics do not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from cuevision.errors import CuevisionError
from cuevision.types import ROLES, Event, Role

if TYPE_CHECKING:
    from cuevision.scheme import Scheme

TierMapping = Mapping[str, Mapping[str, str]]


class ElanError(CuevisionError):
    """An EAF file or tier mapping that cannot be used; the message names the file and the fix."""


def _check_mapping(mapping: TierMapping, scheme: Scheme | None) -> dict[str, tuple[Role, str]]:
    checked: dict[str, tuple[Role, str]] = {}
    for tier, target in mapping.items():
        if not isinstance(target, Mapping) or set(target) != {"actor", "type"}:
            raise ElanError(f"tier mapping for {tier!r} must be {{actor: ..., type: ...}}")
        actor, kind = str(target["actor"]), str(target["type"])
        if actor not in ROLES:
            raise ElanError(f"tier {tier!r}: actor {actor!r} must be one of {', '.join(ROLES)}")
        if scheme is not None:
            known = scheme.event_type(kind)
            if known is None or known.actor != actor:
                raise ElanError(
                    f"tier {tier!r}: the scheme {scheme.name!r} has no {actor} event type "
                    f"{kind!r}; map the tier to one of {', '.join(scheme.type_names)}"
                )
        checked[str(tier)] = (actor, kind)
    if not checked:
        raise ElanError("the tier mapping is empty: name at least one tier to import")
    return checked


def read_eaf(path: Path, mapping: TierMapping, scheme: Scheme | None = None) -> list[Event]:
    """Events from the mapped tiers of an ELAN file, sorted by onset (ms -> s)."""
    import pympi

    path = Path(path)
    targets = _check_mapping(mapping, scheme)
    if not path.is_file():
        raise ElanError(f"{path}: no such ELAN file")
    try:
        eaf = pympi.Elan.Eaf(str(path))
    except Exception as error:  # pympi raises a bare Exception for unparsable XML
        raise ElanError(f"{path}: not a readable ELAN .eaf file ({error})") from None
    tiers = set(eaf.get_tier_names())
    missing = sorted(set(targets) - tiers)
    if missing:
        raise ElanError(
            f"{path}: no tier(s) {', '.join(missing)}; the file has {', '.join(sorted(tiers))}"
        )
    events = []
    for tier, (actor, kind) in targets.items():
        for annotation in eaf.get_annotation_data_for_tier(tier):
            start_ms, end_ms = annotation[0], annotation[1]
            if start_ms is None or end_ms is None or end_ms < start_ms or start_ms < 0:
                raise ElanError(
                    f"{path}, tier {tier}: annotation {annotation[2]!r} has unusable times "
                    f"{start_ms}..{end_ms} ms"
                )
            events.append(
                Event(actor, kind, start_ms / 1000.0, end_ms / 1000.0, source=f"elan:{tier}")
            )
    return sorted(events, key=lambda e: (e.onset_s, e.type))


def eaf_text(events: list[Event]) -> str:
    """An ELAN file of ``events``: one tier per event type, named ``actor.type`` (ms times), so
    :func:`read_eaf` with the mapping ``{"child.child_smiles": {...}}`` reads them back."""
    import tempfile

    import pympi

    eaf = pympi.Elan.Eaf(author="cuevision")
    eaf.remove_tier("default")
    for event in events:
        tier = f"{event.actor}.{event.type}"
        if tier not in eaf.get_tier_names():
            eaf.add_tier(tier)
        onset, offset = round(event.onset_s * 1000), round(event.offset_s * 1000)
        eaf.add_annotation(tier, onset, max(offset, onset + 1), event.type)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.eaf"
        pympi.Elan.to_eaf(str(path), eaf)
        return path.read_text(encoding="utf-8")
