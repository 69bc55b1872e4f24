"""The coding scheme is data: the default loads, and a broken scheme says what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cuevision.scheme import DEFAULT_SCHEME, SchemeError, load_scheme


def test_default_scheme_has_the_issue_types_and_rules() -> None:
    scheme = load_scheme()
    assert [t.name for t in scheme.types_of("cue", "child")] == [
        "child_looks_at_caregiver",
        "child_looks_away",
        "child_smiles",
        "child_distress",
        "child_reaches",
    ]
    assert {t.name for t in scheme.types_of("response", "caregiver")} == {
        "caregiver_looks_at_child",
        "caregiver_smiles",
        "caregiver_touches_child",
        "caregiver_leans_in",
    }
    rules = {r.cue: (set(r.responses), r.window_s) for r in scheme.contingency}
    assert rules["child_smiles"] == ({"caregiver_smiles"}, 3.0)
    assert rules["child_reaches"] == ({"caregiver_touches_child", "caregiver_leans_in"}, 3.0)
    assert scheme.repair is not None and scheme.repair.max_s == 30.0
    assert len(scheme.hash) == 12


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "scheme.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _default() -> dict:
    return yaml.safe_load(DEFAULT_SCHEME.read_text())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["contingency"][0].update(cue="child_sneezes"),
            "unknown event type 'child_sneezes'",
        ),
        (lambda d: d["contingency"][0].update(cue="caregiver_smiles"), "is a response, not a cue"),
        (lambda d: d["event_types"][0].update(actor="sibling"), "event_types.0.actor"),
        (lambda d: d["event_types"][1].update(hotkey="1"), "share a hotkey: 1"),
        (lambda d: d["event_types"][0].update(color="blue"), "event_types.0.color"),
        (lambda d: d["repair"].update(max_s=-1), "repair.max_s"),
        (lambda d: d.update(extra_field=1), "extra_field"),
    ],
)
def test_broken_scheme_names_the_problem(tmp_path: Path, mutate, message: str) -> None:
    data = _default()
    mutate(data)
    with pytest.raises(SchemeError, match=message.replace("(", r"\(")):
        load_scheme(_write(tmp_path, data))


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed")
    with pytest.raises(SchemeError, match="not valid YAML"):
        load_scheme(bad)
    with pytest.raises(SchemeError, match="no such scheme file"):
        load_scheme(tmp_path / "missing.yaml")
    with pytest.raises(SchemeError, match="YAML mapping"):
        load_scheme(_write(tmp_path, ["a", "list"]))
