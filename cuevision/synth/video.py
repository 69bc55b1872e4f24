"""A synthetic dyad video with known ground truth, for tests and the demo.

Two real faces (see :mod:`cuevision.synth.faces`), a larger caregiver on the left and a smaller
child on the right, in a plain room. A seeded script makes them turn toward and away from each
other (0.2 s turns, so onsets are sharp), smile, open their mouths, has the caregiver lean in and
the child leave the frame and come back. :func:`dyad_script` computes what happens without
rendering; :func:`make_dyad_video` renders it and writes the events as ``truth.csv``.

The 20 s base script, nominal times in seconds (each beat gets a seeded jitter of up to 0.15 s;
longer videos repeat the cycle, shorter ones cut it)::

    t (s)  child                                 caregiver
     1.2   looks at caregiver (turn arrives)
     2.2                                         looks at child (answers after 1.0 s)
     3.0   smiles, opens mouth
     3.8                                         smiles (answers after 0.8 s), talks
     4.6   turns ahead
     6.0   looks away (rupture; turn starts)
     6.8                                         leans in (movement starts), talks
     8.7   looks at caregiver (repair)
     9.4                                         leans back; turns ahead at 9.8
    10.2   turns ahead
    11.5   looks at caregiver (unanswered)
    12.3   smiles (unanswered)
    13.3   turns ahead
    14.0   leaves the frame (wholly out ~14.5-16.8)
    16.5   comes back (whole face in from ~17.0)
    18.0   looks at caregiver
    18.8                                         looks at child (answers after 0.8 s)
    19.2                                         smiles
    19.6   turns ahead                           turns ahead; all is home again at 20 s
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from cuevision.events import write_events
from cuevision.synth.faces import Sprite, load_sprite, pose_sprite
from cuevision.types import ANALYSIS_FPS, ROLES, Event, Role

WIDTH, HEIGHT = 640, 360
TURN_S = 0.2  # head turns take this long: onsets are sharp
LOOK_AT = {"caregiver": 45.0, "child": -45.0}  # yaw facing the partner (caregiver left of child)
AWAY = {"caregiver": -45.0, "child": 45.0}
BASE_S = 20.0
SCALE = {"caregiver": 0.65, "child": 0.75}  # of the source photos
STRETCH = {"caregiver": 1.0, "child": 1.25}  # widening: a child's face is rounder
HOME = {"caregiver": (170.0, 165.0), "child": (530.0, 225.0)}  # nose position, frame pixels
LEAN = (55.0, 1.15)  # caregiver lean-in: shift toward the child (px) and growth
FACE_HALF_WIDTH = {"caregiver": 92.0, "child": 46.0}  # cheek to cheek / 2, photo pixels
EXIT_X = 820.0  # child's nose x when out of frame (beyond the right edge)
SWAY_S = {"caregiver": 3.1, "child": 2.3}  # periods of the nuisance head sway

Keys = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class DyadScript:
    """What happens in a synthetic dyad video, exactly.

    ``channels[role][name]`` are keyframes ``(t_s, value)``, linear in between, for ``yaw``,
    ``mouth`` and ``smile`` (0..1), ``x``, ``y`` (nose, pixels) and ``scale``. Yaw is in degrees,
    > 0 when the nose points to image right: the cylinder turn of the sprite. FaceMesh head pose
    (``features.geometry.head_pose``) reads about 0.4-0.5 of it: +-45 reads +-17 to 25.
    ``visible[role]`` are the intervals where the whole face is in frame, ``absent[role]`` those
    where all of it is out of frame (in between, it is partly cut off). Rendering adds nuisances
    that are not in the keyframes: a position jitter of at most 1.5 px, a slow head sway of at
    most 1.5 degrees of yaw, exposure drift and sensor noise.
    """

    seed: int
    duration_s: float
    fps: float
    width: int
    height: int
    channels: dict[Role, dict[str, Keys]]
    visible: dict[Role, tuple[tuple[float, float], ...]]
    absent: dict[Role, tuple[tuple[float, float], ...]]
    events: tuple[Event, ...]
    n_frames: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_frames", math.ceil(self.duration_s * self.fps - 1e-9))

    def value_at(self, role: Role, name: str, t_s: float) -> float:
        keys = self.channels[role][name]
        return float(np.interp(t_s, [k[0] for k in keys], [k[1] for k in keys]))

    def yaw_at(self, role: Role, t_s: float) -> float:
        """Scripted yaw in degrees at ``t_s`` (> 0: nose toward image right)."""
        return self.value_at(role, "yaw", t_s)

    def yaw_keys(self, role: Role) -> Keys:
        return self.channels[role]["yaw"]

    def is_visible(self, role: Role, t_s: float) -> bool:
        """Whether the whole face of ``role`` is in frame at ``t_s``."""
        return any(a <= t_s <= b for a, b in self.visible[role])

    def is_absent(self, role: Role, t_s: float) -> bool:
        """Whether the whole face of ``role`` is out of frame at ``t_s``."""
        return any(a <= t_s <= b for a, b in self.absent[role])

    def frame_times(self) -> np.ndarray:
        """PTS seconds of the frames: the video has a constant rate, frame k at k / fps."""
        return np.arange(self.n_frames) / self.fps


class _Track:
    """Builds one channel's keyframes: holds its value, then ramps to a new one."""

    def __init__(self, t0: float, value: float) -> None:
        self.keys: list[tuple[float, float]] = [(t0, value)]

    def ramp(self, start: float, end: float, value: float) -> None:
        assert start >= self.keys[-1][0], "ramps of one channel must not overlap"
        self.keys += [(start, self.keys[-1][1]), (end, value)]


def _base(rng: np.random.Generator, t0: float) -> tuple[dict[Role, dict[str, _Track]], list[Event]]:
    """One 20 s cycle of the script starting at ``t0``; returns channels and events."""
    tracks: dict[Role, dict[str, _Track]] = {
        role: {
            "yaw": _Track(t0, 0.0),
            "mouth": _Track(t0, 0.0),
            "smile": _Track(t0, 0.0),
            "x": _Track(t0, HOME[role][0]),
            "y": _Track(t0, HOME[role][1]),
            "scale": _Track(t0, 1.0),
        }
        for role in ROLES
    }
    events: list[Event] = []

    def at(t: float) -> float:
        return t0 + t + float(rng.uniform(-0.15, 0.15))

    def turn(role: Role, start: float, yaw: float) -> float:
        tracks[role]["yaw"].ramp(start, start + TURN_S, yaw)
        return start + TURN_S

    def event(role: Role, kind: str, onset: float, offset: float) -> None:
        events.append(Event(role, f"{role}_{kind}", onset, offset, source="synth"))

    def smile(role: Role, start: float, end: float) -> None:
        tracks[role]["smile"].ramp(start, start + 0.3, 1.0)
        tracks[role]["smile"].ramp(end, end + 0.3, 0.0)
        event(role, "smiles", start, end)

    def talk(role: Role, start: float, n: int) -> None:
        for i in range(n):
            tracks[role]["mouth"].ramp(start + 0.5 * i, start + 0.5 * i + 0.15, 0.8)
            tracks[role]["mouth"].ramp(start + 0.5 * i + 0.25, start + 0.5 * i + 0.4, 0.0)

    # Bid answered: child looks, caregiver looks back, smiles are exchanged.
    c_look = turn("child", at(1.0), LOOK_AT["child"])
    p_look = turn("caregiver", at(2.0), LOOK_AT["caregiver"])
    c_smile = at(3.0)
    smile("child", c_smile, c_smile + 1.4)
    talk("child", c_smile + 0.2, 1)
    p_smile = at(3.8)
    smile("caregiver", p_smile, p_smile + 1.6)
    talk("caregiver", p_smile + 0.1, 2)
    c_back = at(4.6)
    turn("child", c_back, 0.0)
    event("child", "looks_at_caregiver", c_look, c_back)
    # Rupture and repair: the child turns away, the caregiver leans in and talks, the child
    # turns back.
    c_away = at(6.0)
    turn("child", c_away, AWAY["child"])
    lean = at(6.8)
    for name, value in (("x", HOME["caregiver"][0] + LEAN[0]), ("scale", LEAN[1])):
        tracks["caregiver"][name].ramp(lean, lean + 0.5, value)
    talk("caregiver", lean + 0.3, 3)
    c_repair = at(8.5)
    c_look = turn("child", c_repair, LOOK_AT["child"])
    event("child", "looks_away", c_away, c_repair)
    lean_back = at(9.4)
    for name, value in (("x", HOME["caregiver"][0]), ("scale", 1.0)):
        tracks["caregiver"][name].ramp(lean_back, lean_back + 0.5, value)
    event("caregiver", "leans_in", lean, lean_back)
    p_off = at(9.8)
    turn("caregiver", p_off, 0.0)
    event("caregiver", "looks_at_child", p_look, p_off)
    c_back = at(10.2)
    turn("child", c_back, 0.0)
    event("child", "looks_at_caregiver", c_look, c_back)
    # An unanswered bid: the caregiver keeps looking ahead and does not smile.
    c_look = turn("child", at(11.3), LOOK_AT["child"])
    c_smile = at(12.3)
    smile("child", c_smile, c_smile + 0.9)
    c_back = at(13.3)
    turn("child", c_back, 0.0)
    event("child", "looks_at_caregiver", c_look, c_back)
    # The child leaves the frame and comes back.
    leave, enter = at(14.0), at(16.5)
    tracks["child"]["x"].ramp(leave, leave + 0.8, EXIT_X)
    tracks["child"]["x"].ramp(enter, enter + 0.8, HOME["child"][0])
    # A last bid, answered: look, then a look back and a smile.
    c_look = turn("child", at(17.8), LOOK_AT["child"])
    p_look = turn("caregiver", at(18.6), LOOK_AT["caregiver"])
    end = t0 + BASE_S - 0.4  # every channel is home again when the next cycle starts
    p_smile = min(at(19.2), end - 0.3)  # the smile has risen before it ends, whatever the jitter
    smile("caregiver", p_smile, end)
    turn("child", end, 0.0)
    turn("caregiver", end, 0.0)
    event("child", "looks_at_caregiver", c_look, end)
    event("caregiver", "looks_at_child", p_look, end)
    return tracks, events


def dyad_script(
    *, seed: int = 0, duration_s: float = 20.0, fps: float = ANALYSIS_FPS
) -> DyadScript:
    """The seeded script of a synthetic dyad video, computed without rendering anything."""
    if not duration_s > 0 or not fps > 0:
        raise ValueError(f"duration and fps must be positive, got {duration_s} s at {fps} fps")
    rng = np.random.default_rng(seed)
    channels: dict[Role, dict[str, list[tuple[float, float]]]] = {role: {} for role in ROLES}
    events: list[Event] = []
    for cycle in range(math.ceil(duration_s / BASE_S)):
        tracks, cycle_events = _base(rng, cycle * BASE_S)
        events += cycle_events
        for role in ROLES:
            for name, track in tracks[role].items():
                channels[role].setdefault(name, []).extend(track.keys)
    kept = tuple(
        Event(e.actor, e.type, e.onset_s, min(e.offset_s, duration_s), source=e.source)
        for e in events
        if e.onset_s < duration_s
    )
    frozen = {
        role: {name: tuple(keys) for name, keys in named.items()}
        for role, named in channels.items()
    }
    script = DyadScript(seed, duration_s, fps, WIDTH, HEIGHT, frozen, {}, {}, kept)
    for name, inside in (("visible", True), ("absent", False)):
        object.__setattr__(script, name, {role: _intervals(script, role, inside) for role in ROLES})
    return script


def _intervals(script: DyadScript, role: Role, inside: bool) -> tuple[tuple[float, float], ...]:
    """Intervals (1 ms resolution) where the role's face is wholly inside, or wholly outside."""
    times = np.arange(0.0, script.duration_s + 1e-9, 0.001)

    def channel(name: str) -> np.ndarray:
        keys = np.array(script.channels[role][name])
        return np.interp(times, keys[:, 0], keys[:, 1])

    half = FACE_HALF_WIDTH[role] * SCALE[role] * STRETCH[role] * channel("scale")
    boxes = np.stack([channel("x") - half, channel("x") + half], axis=1)
    if inside:
        mask = (boxes[:, 0] >= 0) & (boxes[:, 1] <= script.width)
    else:
        mask = (boxes[:, 1] < 0) | (boxes[:, 0] > script.width)
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    return tuple(
        (round(float(times[a]), 3), round(float(times[b - 1]), 3))
        for a, b in zip(edges[::2], edges[1::2], strict=True)
    )


def _background() -> np.ndarray:
    """A plain room: a warm wall with a window, a skirting line and a wooden floor."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    wall = np.array([214.0, 200.0, 178.0]) * (0.92 + 0.08 * (1 - y / HEIGHT))[..., None]
    image = np.broadcast_to(wall, (HEIGHT, WIDTH, 3)).copy()
    floor = y > 0.78 * HEIGHT
    grain = 0.9 + 0.1 * np.sin(x / 9.0 + np.sin(y / 13.0))
    image[floor] = np.array([150.0, 105.0, 70.0]) * grain[floor][:, None]
    window = (x > 290) & (x < 370) & (y > 30) & (y < 120)
    image[window] = [205.0, 225.0, 240.0]
    image[(np.abs(x - 330) < 2) & window] = [240.0, 240.0, 240.0]
    return image.astype(np.float32)


def _paste(canvas: np.ndarray, rgba: np.ndarray, left: int, top: int) -> None:
    """Alpha-blend ``rgba`` onto ``canvas`` with its top-left corner at (left, top), clipped."""
    h, w = rgba.shape[:2]
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + w, canvas.shape[1]), min(top + h, canvas.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    part = rgba[y0 - top : y1 - top, x0 - left : x1 - left]
    alpha = part[:, :, 3:] / 255.0
    canvas[y0:y1, x0:x1] = canvas[y0:y1, x0:x1] * (1 - alpha) + part[:, :, :3] * alpha


def render_frames(script: DyadScript) -> Iterator[np.ndarray]:
    """The frames of ``script`` as RGB uint8 arrays, deterministic for a given script."""
    sprites: dict[Role, Sprite] = {
        role: load_sprite(role, SCALE[role], STRETCH[role]) for role in ROLES
    }
    background = _background()
    rng = np.random.default_rng(script.seed + 1)
    noise = 2.0 * rng.standard_normal((8, *background.shape), dtype=np.float32)
    posed: dict[tuple[Role, float, float, float], np.ndarray] = {}
    for t in script.frame_times():
        canvas = background.copy()
        for role in ROLES:
            jitter = rng.uniform(-1.5, 1.5, size=2)
            sway = 1.5 * math.sin(2 * math.pi * t / SWAY_S[role])  # slow head sway, degrees
            key = (
                role,
                round((script.yaw_at(role, t) + sway) * 2) / 2,
                round(script.value_at(role, "mouth", t), 2),
                round(script.value_at(role, "smile", t), 2),
            )
            if key not in posed:
                if len(posed) > 256:
                    posed.clear()
                posed[key] = pose_sprite(sprites[role], yaw_deg=key[1], mouth=key[2], smile=key[3])
            rgba, (nx, ny) = posed[key], sprites[role].nose
            scale = script.value_at(role, "scale", t)
            if scale != 1.0:
                rgba = ndimage.zoom(rgba, (scale, scale, 1.0), order=1)
                nx, ny = nx * scale, ny * scale
            x = script.value_at(role, "x", t) + jitter[0]
            y = script.value_at(role, "y", t) + jitter[1]
            _paste(canvas, rgba, round(x - nx), round(y - ny))
        canvas *= 1.0 + 0.02 * math.sin(2 * math.pi * t / 7.0)  # slow exposure drift
        canvas += noise[rng.integers(len(noise))]  # sensor noise
        yield np.clip(canvas, 0, 255).astype(np.uint8)


def make_dyad_video(
    video: Path, truth: Path, *, seed: int = 0, duration_s: float = 20.0, fps: float = ANALYSIS_FPS
) -> DyadScript:
    """Render the seeded synthetic dyad to ``video`` (H.264) and its events to ``truth`` (CSV)."""
    from cuevision.video import VideoWriter

    script = dyad_script(seed=seed, duration_s=duration_s, fps=fps)
    with VideoWriter(Path(video), fps, script.width, script.height) as writer:
        for frame in render_frames(script):
            writer.write(frame)
    write_events(Path(truth), script.events)
    return script
