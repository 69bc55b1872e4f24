"""The labeling config comes from the scheme, and the committed default stays in step with it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from cuevision.annotate.config import (
    DEFAULT_CONFIG,
    FROM_NAME,
    TO_NAME,
    labeling_config,
    project_fields,
    project_title,
)
from cuevision.scheme import Scheme, load_scheme


class _Page(HTMLParser):
    """The tags and the text of an HTML fragment, as a browser's tokenizer sees them."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text = ""
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


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


HOSTILE = 'x --> <Label value="evil"/> <!-- & </View><script>alert(1)</script>'


def _hostile_scheme() -> Scheme:
    scheme = load_scheme()
    kinds = tuple(
        t.model_copy(update={"description": f"{t.description} {HOSTILE}"})
        for t in scheme.event_types
    )
    assert scheme.manual is not None
    manual = scheme.manual.model_copy(update={"general": (*scheme.manual.general, HOSTILE)})
    return scheme.model_copy(update={"name": HOSTILE, "event_types": kinds, "manual": manual})


def test_no_text_of_the_scheme_adds_an_element() -> None:
    """A name with ``-->`` or markup stays text: the config has exactly the elements it should."""
    hostile = _hostile_scheme()
    assert HOSTILE not in labeling_config(hostile)  # not in the (unescapable) comment
    plain, bad = (ET.fromstring(labeling_config(s)) for s in (load_scheme(), hostile))
    assert [e.tag for e in bad.iter()] == [e.tag for e in plain.iter()]
    for label, kind in zip(bad.iter("Label"), hostile.event_types, strict=True):
        assert label.get("hint", "").endswith(kind.description)


def test_project_fields_carry_the_manual_as_escaped_instructions() -> None:
    scheme = load_scheme()
    fields = project_fields(scheme)
    assert fields["title"] == project_title(scheme) and fields["show_instruction"] is True
    assert fields["label_config"] == labeling_config(scheme)
    page = _Page(fields["expert_instruction"])
    text = page.text
    assert scheme.manual is not None
    for kind in scheme.event_types:
        entry = scheme.manual.types[kind.name]
        for sentence in (entry.code_when, entry.onset, entry.offset, *entry.not_this):
            assert sentence in text
    assert all(rule in text for rule in scheme.manual.general)
    assert "0.5 s" in text

    hostile = _Page(project_fields(_hostile_scheme())["expert_instruction"])
    general_end = page.tags.index("h4", page.tags.index("h4") + 1)  # the last general rule's end
    assert hostile.tags == page.tags[:general_end] + ["li"] + page.tags[general_end:]
    assert HOSTILE in hostile.text


def test_a_scheme_without_a_manual_shows_no_instructions() -> None:
    fields = project_fields(load_scheme().model_copy(update={"manual": None}))
    assert fields["expert_instruction"] == "" and fields["show_instruction"] is False
