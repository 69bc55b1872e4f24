"""Speed of the audio stage: decode, silero-vad, Praat, the grid, in times real time.

    .venv/bin/python benchmarks/audio.py [--minutes 10] [--process-x 1.08] [--work DIR]

Per real clip (two of the dyads 2UWdXP and 6c6MZQ, from ../shared/data/lookit/), then for a
``--minutes`` long video whose audio is the first clip's, looped, and whose picture is a tiny grey
frame (written to ``--work``, default /tmp/cuevision-bench, never into the project). The share
of ``process`` assumes the rest of ``process`` runs at ``--process-x`` times real time (landmarks
dominate: 1.07-1.09x at 15 Hz in benchmarks/landmarks.py on this machine).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' clip writer

from cuevision.audio import decode_audio, measure_voice, voice_grid  # noqa: E402
from cuevision.audio.pitch import prosody  # noqa: E402
from cuevision.audio.vad import voice_activity  # noqa: E402
from cuevision.audio.voice import VoiceMeasures  # noqa: E402
from tests.audio.sounds import write_clip  # noqa: E402

CLIPS = (
    "6c6MZQ.joke1.rep1.take1.ThatsNotAHat.mp4",
    "2UWdXP.joke5.rep3.take1.ThatsNotACat.mp4",
)
T = TypeVar("T")


def timed(work: Callable[..., T], *args: Any) -> tuple[T, float]:
    start = time.perf_counter()
    result = work(*args)
    return result, time.perf_counter() - start


def row(name: str, length_s: float, parts: dict[str, float]) -> str:
    total = sum(parts.values())
    cells = "".join(f"{length_s / s:>9.0f}x" for s in parts.values())
    return f"{name:<44}{length_s:>8.1f}{cells}{length_s / total:>9.0f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--process-x", type=float, default=1.08)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cuevision-bench"))
    args = parser.parse_args()
    folder = ROOT.parent / "shared" / "data" / "lookit"
    header = f"{'clip':<44}{'length':>8}" + "".join(
        f"{h:>10}" for h in ("decode", "vad", "praat", "grid", "all")
    )
    print(header)
    first = None
    for name in CLIPS:
        path = folder / name
        if not path.is_file():
            print(f"{name:<44} not found in {folder}")
            continue
        audio, t_decode = timed(decode_audio, path)
        assert audio is not None
        first = first or audio
        probs, t_vad = timed(voice_activity, audio)
        pitch, t_praat = timed(prosody, audio)
        measures = VoiceMeasures(
            audio.t0_s, audio.end_s, audio.t0_s + np.arange(len(probs)) * 0.032, probs, pitch
        )
        grid_t = np.arange(int(audio.end_s * 15)) / 15
        _, t_grid = timed(voice_grid, measures, grid_t, 15.0)
        parts = {"decode": t_decode, "vad": t_vad, "praat": t_praat, "grid": t_grid}
        print(row(name, audio.end_s, parts))
    if first is None:
        return
    seconds = args.minutes * 60
    args.work.mkdir(parents=True, exist_ok=True)
    loops = int(np.ceil(seconds * first.rate / len(first.samples)))
    samples = np.tile(first.samples, loops)[: int(seconds * first.rate)]
    long_clip = write_clip(
        args.work / "audio-long.mp4",
        duration_s=seconds,
        fps=15,
        audio=samples,
        audio_rate=first.rate,
    )
    long_measures, t_all = timed(measure_voice, long_clip)
    assert long_measures is not None
    name = f"{args.minutes:g} min, the first clip's audio looped"
    print(f"{name:<44}{seconds:>8.1f}{'':>40}{seconds / t_all:>9.0f}x")
    rest_s = seconds / args.process_x
    print(
        f"\naudio stage {t_all:.1f} s for {args.minutes:g} min: {seconds / t_all:.0f}x real time; "
        f"{t_all / (t_all + rest_s):.1%} of process (the rest at {args.process_x:g}x real time)"
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
