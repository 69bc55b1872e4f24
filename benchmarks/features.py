"""Feature and weak-label speed, from a landmarks file and the same looped to an hour.

    .venv/bin/python benchmarks/features.py LANDMARKS.parquet [--minutes 60]

LANDMARKS.parquet is what ``cuevision landmarks CLIP -o DIR`` writes (keep it outside the
project: it describes real people). The loop repeats the clip's tracks end to end with a
continuing clock. Printed: wall seconds, times real time, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from cuevision.features import compute_features
from cuevision.features.weak import label_events, label_frames
from cuevision.landmarks.io import read_landmarks
from cuevision.scheme import load_scheme
from cuevision.types import LandmarkTracks, PersonTrack


def looped(tracks: LandmarkTracks, minutes: float) -> LandmarkTracks:
    """The tracks repeated until they cover ``minutes``, on one increasing clock."""
    step = float(np.median(np.diff(tracks.t_s)))
    span = float(tracks.t_s[-1]) + step
    times = int(np.ceil(minutes * 60 / span))
    t_s = np.concatenate([tracks.t_s + k * span for k in range(times)])

    def tile(track: PersonTrack) -> PersonTrack:
        return PersonTrack(
            *(
                np.concatenate([a] * times)
                for a in (track.face, track.face_score, track.pose, track.pose_score)
            )
        )

    return replace(
        tracks,
        frame=np.arange(len(t_s)),
        t_s=t_s,
        roles={role: tile(track) for role, track in tracks.roles.items()},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landmarks", type=Path)
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    scheme = load_scheme()
    clip = read_landmarks(args.landmarks)
    print(
        f"{'input':>14} {'video s':>8} {'frames':>7} {'features s':>10} {'weak s':>7} "
        f"{'x real time':>11} {'peak MB':>8}"
    )
    for label, tracks in (
        ("clip", clip),
        (f"{args.minutes:g} min loop", looped(clip, args.minutes)),
    ):
        start = time.perf_counter()
        series = compute_features(tracks)
        mid = time.perf_counter()
        label_frames(series, scheme)
        label_events(series, scheme)
        end = time.perf_counter()
        video_s = float(tracks.t_s[-1])
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{label:>14} {video_s:8.0f} {len(tracks.t_s):7d} {mid - start:10.2f} {end - mid:7.2f} "
            f"{video_s / (end - start):11.0f} {peak_mb:8.0f}"
        )


if __name__ == "__main__":
    main()
