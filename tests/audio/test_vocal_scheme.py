"""The vocal scheme: its own file, so the default scheme (and cue-tcn 0.1) stay unchanged; the
audio stage's vocalisations are events of it."""

from __future__ import annotations

from cuevision.annotate.config import labeling_config
from cuevision.metrics.turns import REPLY_WINDOW_S, VOCAL_TYPE
from cuevision.scheme import load_scheme
from tests.conftest import ROOT

VOCAL = ROOT / "annotation" / "schemes" / "vocal.yaml"


def test_the_vocal_scheme_holds_the_audio_types_and_vocal_reply_rules() -> None:
    scheme = load_scheme(VOCAL)
    for role, name in VOCAL_TYPE.items():
        found = scheme.event_type(name)
        assert found is not None and found.actor == role
    assert {"child_laughs", "child_cries"} <= set(scheme.type_names)
    rules = {rule.cue: rule for rule in scheme.contingency}
    assert set(rules) == {"child_vocalises", "child_laughs", "child_cries"}
    assert {r.responses for r in rules.values()} == {("caregiver_vocalises",)}
    assert {r.window_s for r in rules.values()} == {REPLY_WINDOW_S}
    assert scheme.manual is not None and set(scheme.manual.types) == set(scheme.type_names)
    config = labeling_config(scheme)
    assert all(f'<Label value="{name}"' in config for name in scheme.type_names)


def test_the_default_scheme_is_untouched() -> None:
    default = load_scheme()
    assert default.hash == "fe04b944034d"
    assert not set(VOCAL_TYPE.values()) & set(default.type_names)
