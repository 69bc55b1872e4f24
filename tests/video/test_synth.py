"""The synthetic dyad: a plausible, seeded script whose truth matches what is drawn."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cuevision.events import read_events
from cuevision.scheme import load_scheme
from cuevision.synth.video import AWAY, LOOK_AT, SCALE, STRETCH, TURN_S, DyadScript, dyad_script
from cuevision.types import ROLES, Event
from cuevision.video import decode, probe

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def script() -> DyadScript:
    return dyad_script(seed=0)


def by_type(events: tuple[Event, ...], kind: str) -> list[Event]:
    return [e for e in events if e.type == kind]


def test_same_seed_same_script_and_other_seeds_differ(script: DyadScript) -> None:
    assert dyad_script(seed=0) == script
    assert dyad_script(seed=1).events != script.events


@pytest.mark.parametrize("seed", range(6))
def test_long_scripts_repeat_the_cycle(seed: int) -> None:
    """Scripts of many 20 s cycles (the chunk benchmarks loop 6 minutes): every cycle's jitter
    keeps its ramps in order, and the events go on to the end."""
    script = dyad_script(seed=seed, duration_s=65.0)
    assert max(e.offset_s for e in script.events) > 60.0


def test_events_use_the_default_scheme(script: DyadScript, tmp_path: Path) -> None:
    from cuevision.events import write_events

    scheme = load_scheme()
    write_events(tmp_path / "truth.csv", script.events)
    events = read_events(tmp_path / "truth.csv", scheme)  # validates types and actors
    kinds = {e.type for e in events}
    for needed in (
        "child_looks_at_caregiver",
        "child_looks_away",
        "caregiver_looks_at_child",
        "caregiver_leans_in",
        "child_smiles",
        "caregiver_smiles",
    ):
        assert needed in kinds
    assert all(0 <= e.onset_s < e.offset_s <= script.duration_s for e in events)


def test_a_plausible_interaction(script: DyadScript) -> None:
    """Cues answered within the scheme's window, one bid unanswered, a rupture then repair::

    child   lk.....sm....   away....lk....   lk..sm  (unanswered)   exit   lk....
    carer       lk....sm      lean..........                                   lk.sm
    """
    scheme = load_scheme()
    answered, unanswered = 0, 0
    for rule in scheme.contingency:
        for cue in by_type(script.events, rule.cue):
            replies = [
                e
                for e in script.events
                if e.type in rule.responses and 0 < e.onset_s - cue.onset_s <= rule.window_s
            ]
            answered += bool(replies)
            unanswered += not replies
    assert answered >= 3 and unanswered >= 2
    repair = scheme.repair
    assert repair is not None
    ruptures = [e for e in script.events if e.type in repair.ruptures]
    assert ruptures
    for rupture in ruptures:
        assert any(
            e.type in repair.repairs and 0 < e.onset_s - rupture.onset_s <= repair.max_s
            for e in script.events
        )


def test_onsets_follow_the_scheme_semantics(script: DyadScript) -> None:
    """looks_at onset = the turn arrives; looks_away onset = the turn starts."""
    for event in script.events:
        role = event.actor
        before, at = script.yaw_at(role, event.onset_s - 0.05), script.yaw_at(role, event.onset_s)
        if event.type.endswith(("looks_at_caregiver", "looks_at_child")):
            assert at == LOOK_AT[role] and before != LOOK_AT[role]
            assert script.yaw_at(role, event.onset_s - TURN_S) != LOOK_AT[role]
        elif event.type.endswith("looks_away"):
            assert at == before and script.yaw_at(role, event.onset_s + TURN_S) == AWAY[role]
        elif event.type.endswith("smiles"):
            assert script.value_at(role, "smile", event.onset_s) == 0
            assert script.value_at(role, "smile", event.onset_s + 0.3) == 1
        elif event.type.endswith("leans_in"):
            assert script.value_at(role, "scale", event.onset_s) == 1
            assert script.value_at(role, "scale", event.onset_s + 0.5) > 1


def test_yaw_signs_face_the_partner(script: DyadScript) -> None:
    """The caregiver is on the left: facing the child means the nose points to +x."""
    assert LOOK_AT["caregiver"] > 0 > LOOK_AT["child"]
    assert {AWAY[r] * LOOK_AT[r] < 0 for r in ROLES} == {True}


def test_child_leaves_and_comes_back(script: DyadScript) -> None:
    assert script.absent["caregiver"] == () and script.visible["caregiver"] == ((0.0, 20.0),)
    (gone,) = script.absent["child"]
    first, second = script.visible["child"]
    assert first[0] == 0.0 and first[1] < gone[0] < gone[1] < second[0] and second[1] == 20.0
    assert gone[1] - gone[0] > 1.5
    assert script.is_absent("child", (gone[0] + gone[1]) / 2)
    assert not script.is_visible("child", (gone[0] + gone[1]) / 2)


@pytest.mark.parametrize(("duration", "cycles"), [(5.0, 0), (45.0, 2)])
def test_other_durations_cut_or_repeat_the_script(duration: float, cycles: int) -> None:
    """The 20 s script repeats; the lean-in (~6.8 s) and the exit (~14 s) count whole cycles::

    0        20        40  45
    |--lean--exit--|--lean--exit--|--|   45 s: 2 of each
    |--|                                  5 s: none
    """
    script = dyad_script(seed=3, duration_s=duration)
    assert all(e.onset_s < duration and e.offset_s <= duration for e in script.events)
    assert script.n_frames == round(duration * 15)
    assert len(by_type(script.events, "caregiver_leans_in")) == cycles
    assert len(script.absent["child"]) == cycles
    assert by_type(script.events, "child_looks_at_caregiver")


def test_cli_and_function_render_the_same_video(tmp_path: Path, run_cli: RunCli) -> None:
    from cuevision.synth.video import make_dyad_video

    video, truth = tmp_path / "cli.mp4", tmp_path / "cli.csv"
    result = run_cli("synth", "-o", video, "--truth", truth, "--duration", "1.5", "--seed", "4")
    script = make_dyad_video(tmp_path / "f.mp4", tmp_path / "f.csv", seed=4, duration_s=1.5)
    assert f"{script.n_frames} frames" in result.stdout and str(truth) in result.stdout
    assert truth.read_bytes() == (tmp_path / "f.csv").read_bytes()
    info = probe(video)
    assert (info.width, info.height, info.n_frames) == (640, 360, script.n_frames)
    assert not info.variable_frame_rate
    for a, b in zip(decode(video), decode(tmp_path / "f.mp4"), strict=True):
        assert a.t_s == b.t_s and np.array_equal(a.image, b.image)


def test_cli_refuses_bad_arguments(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli(
        "synth",
        "-o",
        tmp_path / "s.mp4",
        "--truth",
        tmp_path / "t.csv",
        "--duration",
        "0",
        check=False,
    )
    assert result.returncode == 2 and "--duration" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "s.mp4").exists()
    paths = ("-o", tmp_path / "s.mp4", "--truth", tmp_path / "t.csv")
    result = run_cli("synth", *paths, "--seed", "-1", check=False)  # numpy takes seeds >= 0
    assert result.returncode == 2 and "--seed" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("option", ["-o", "--truth"])
def test_cli_refuses_a_folder_as_output(tmp_path: Path, run_cli: RunCli, option: str) -> None:
    paths = {"-o": tmp_path / "s.mp4", "--truth": tmp_path / "t.csv"}
    paths[option].mkdir()
    args = [arg for name, path in paths.items() for arg in (name, path)]
    result = run_cli("synth", *args, "--duration", "1", check=False)
    assert result.returncode == 2 and "a folder" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_facemesh_sees_the_turns_smiles_and_open_mouths() -> None:
    """Real FaceMesh on the posed sprites: yaw follows the turn, the mouth opens, corners rise."""
    import mediapipe as mp

    from cuevision.features.geometry import head_pose
    from cuevision.synth.faces import load_sprite, pose_sprite

    mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True)

    def measure(role: str, **pose: float) -> tuple[float, float, float]:
        rgba = pose_sprite(load_sprite(role, SCALE[role], STRETCH[role]), **pose)
        alpha = rgba[:, :, 3:] / 255.0
        image = np.ascontiguousarray((rgba[:, :, :3] * alpha + 200 * (1 - alpha)).astype(np.uint8))
        found = mesh.process(image).multi_face_landmarks
        assert found, (role, pose)
        h, w = image.shape[:2]
        face = np.array([(p.x, p.y, p.z) for p in found[0].landmark], dtype=np.float32)
        yaw = float(head_pose(face[None], w, h)[0, 0])
        gap = (face[14, 1] - face[13, 1]) * h  # inner lips
        lift = ((face[13, 1] + face[14, 1]) / 2 - (face[61, 1] + face[291, 1]) / 2) * h
        return yaw, gap, lift

    for role in ROLES:
        neutral = measure(role, yaw_deg=0, mouth=0, smile=0)
        left = measure(role, yaw_deg=-45, mouth=0, smile=0)
        right = measure(role, yaw_deg=45, mouth=0, smile=0)
        assert left[0] < neutral[0] - 8 and right[0] > neutral[0] + 8 and abs(neutral[0]) < 5
        assert measure(role, yaw_deg=0, mouth=1, smile=0)[1] > neutral[1] + 4
        assert measure(role, yaw_deg=0, mouth=0, smile=1)[2] > neutral[2] + 1.5
    mesh.close()
