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


def test_default_hash_is_unchanged_by_the_manual() -> None:
    """cue-tcn 0.1 checks this hash: the manual (and any rewording of it) must not move it."""
    scheme = load_scheme()
    assert scheme.hash == "fe04b944034d"
    assert scheme.manual is not None
    assert set(scheme.manual.types) == set(scheme.type_names)
    reworded = scheme.model_copy(
        update={"manual": scheme.manual.model_copy(update={"general": ("Only what you see.",)})}
    )
    assert reworded.hash == scheme.hash
    assert scheme.model_copy(update={"manual": None}).hash == scheme.hash


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["manual"]["types"].pop("child_smiles"), "no entry for child_smiles"),
        (
            lambda d: d["manual"]["types"].update(
                child_sneezes=d["manual"]["types"]["child_smiles"]
            ),
            "the manual names unknown event type 'child_sneezes'",
        ),
        (lambda d: d["manual"]["types"]["child_smiles"].pop("offset"), "child_smiles.offset"),
        (lambda d: d["manual"]["types"]["child_smiles"].update(not_this=[]), "not_this"),
        (lambda d: d["manual"].update(min_gap_s=0), "manual.min_gap_s"),
        (lambda d: d["manual"].update(general=[]), "manual.general"),
    ],
)
def test_broken_manual_names_the_problem(tmp_path: Path, mutate, message: str) -> None:
    data = _default()
    mutate(data)
    with pytest.raises(SchemeError, match=message):
        load_scheme(_write(tmp_path, data))


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(name="default\x1b[2J"), "name"),
        (
            lambda d: d["event_types"][0].update(description="gaze\x00arrives"),
            "event_types.0.description",
        ),
        (lambda d: d["event_types"][2].update(hotkey="\x07"), "event_types.2.hotkey"),
        (lambda d: d["manual"]["general"].append("two\nlines"), "manual.general.6"),
        (
            lambda d: d["manual"]["types"]["child_reaches"]["not_this"].append("x\x7f"),
            "manual.types.child_reaches.not_this.2",
        ),
        (lambda d: d["manual"]["types"]["child_smiles"].update(onset="\x85"), "child_smiles.onset"),
    ],
)
def test_control_characters_are_refused_naming_the_field(
    tmp_path: Path, mutate, field: str
) -> None:
    data = _default()
    mutate(data)
    with pytest.raises(SchemeError, match=rf"{field}: Value error, contains the control character"):
        load_scheme(_write(tmp_path, data))


def test_every_manual_entry_is_whole_sentences() -> None:
    """A comma in a YAML flow list splits a sentence in two; each entry must end a sentence."""
    manual = load_scheme().manual
    assert manual is not None
    texts = [*manual.general]
    for entry in manual.types.values():
        texts += [entry.code_when, entry.onset, entry.offset, *entry.not_this]
    assert [t for t in texts if not (t[0].isupper() and t.endswith("."))] == []
