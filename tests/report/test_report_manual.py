"""The report's last section is the scheme's coding manual: what its events were coded by."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from cuevision.report import write_session_outputs
from cuevision.scheme import load_scheme
from cuevision.types import Event


class _Sections(HTMLParser):
    """Each <h2> heading with the text that follows it, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[list[str]] = []
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._in_h2 = tag == "h2"
        if self._in_h2:
            self.sections.append(["", ""])

    def handle_endtag(self, tag: str) -> None:
        self._in_h2 = self._in_h2 and tag != "h2"

    def handle_data(self, data: str) -> None:
        if self.sections:
            self.sections[-1][0 if self._in_h2 else 1] += data


def _report(tmp_path: Path, scheme=None) -> _Sections:
    events = [
        Event("child", "child_smiles", 2.0, 3.0),
        Event("caregiver", "caregiver_smiles", 3, 4),
    ]
    scheme = scheme or load_scheme()
    write_session_outputs(tmp_path, events, scheme=scheme, duration_s=20.0, basis="candidates")
    parser = _Sections()
    parser.feed((tmp_path / "report.html").read_text())
    return parser


def test_the_appendix_ends_with_the_whole_manual(tmp_path: Path) -> None:
    scheme = load_scheme()
    assert scheme.manual is not None
    heading, text = _report(tmp_path).sections[-1]
    assert heading == "Coding manual"
    assert "Minimum gap between two events of a type: 0.5 s." in text
    assert all(rule in text for rule in scheme.manual.general)
    for kind in scheme.event_types:
        entry = scheme.manual.types[kind.name]
        for sentence in (kind.description, entry.code_when, entry.onset, entry.offset):
            assert sentence in text
        assert all(item in text for item in entry.not_this)
    # in scheme order
    places = [text.index(kind.name.replace("_", " ")) for kind in scheme.event_types]
    assert places == sorted(places)


def test_a_scheme_without_a_manual_says_so(tmp_path: Path) -> None:
    scheme = load_scheme().model_copy(update={"manual": None})
    heading, text = _report(tmp_path, scheme).sections[-1]
    assert heading == "Coding manual" and "carries no coding manual" in text
