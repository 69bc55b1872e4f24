"""The labeling config comes from the scheme, and the committed default stays in step with it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from cuevision.annotate.config import DEFAULT_CONFIG, FROM_NAME, TO_NAME, labeling_config
from cuevision.scheme import load_scheme


def test_committed_default_matches_the_default_scheme() -> None:
    """If this fails, run: python -c 'from cuevision.annotate.config import *; from
    cuevision.scheme import load_scheme; write_default_config(load_scheme())'"""
    assert DEFAULT_CONFIG.read_text() == labeling_config(load_scheme())


def test_every_event_type_is_a_label_with_its_colour_hotkey_and_description() -> None:
    scheme = load_scheme()
    root = ET.fromstring(labeling_config(scheme))
    video = root.find("Video")
    assert video is not None
    assert video.get("name") == TO_NAME and video.get("frameRate") == "$fps"
    control = root.find("TimelineLabels")
    assert control is not None
    assert control.get("name") == FROM_NAME and control.get("toName") == TO_NAME
    labels = control.findall("Label")
    assert [label.get("value") for label in labels] == list(scheme.type_names)
    for label, kind in zip(labels, scheme.event_types, strict=True):
        assert label.get("background") == kind.color
        assert label.get("hotkey") == kind.hotkey
        assert kind.description in (label.get("hint") or "")
