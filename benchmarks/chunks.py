"""Chunked landmark extraction against the unchunked one, printed as a table.

    nice .venv/bin/python benchmarks/chunks.py [--clip PATH] [--minutes 6] [--chunk-s 60]
        [--overlap-s 10] [--work /tmp/cuevision-chunks] [--only real|synthetic] [--jobs 4]

Two videos of about ``--minutes``: a real Lookit clip of a training dyad (default the
``6c6MZQ...ThatsNotAHat``) looped with PyAV into ``--work`` (never into the project: real
people), and the 20 s synthetic dyad (``cuevision.synth``) looped likewise. Each is extracted whole
and in ``--chunk-s`` chunks (``plan_chunks``, ``extract_chunk`` one after another, ``stitch``),
with the default settings but for the trackers' restart period, which is the chunk length
(``LandmarkSettings.restart_s``: chunks must be a multiple of it), and the two
``landmarks.parquet`` are compared:

- **roles**: of the frames where someone is placed in both (face centre, else pose head), the
  share where each role is the same person: nearer to that role's place in the unchunked file
  than to the other role's (or, alone, within ``SAME_PLACE`` of it);
- **bit-for-bit**: the share of frames whose rows (both roles) are identical, and of frames with
  the child's, the caregiver's face mesh identical, before the first seam and after it (the same
  decoded frames, the seek is exact, and the trackers restart at every seam in both runs: it
  must be 100% in both; before the restarts it was 100% before the first seam only);
- **differences**: where both have the face mesh, the largest coordinate difference per frame
  (normalised to the frame), its p99 and max; the same for pose head and shoulders (points 0..12
  both visible >= 0.5); the share of frames that agree on which faces and bodies are found;
- **candidates**: features and the default model's candidates (as ``cuevision process`` makes
  them, without the audio) on both files, matched per actor and type at +-0.1 s.

Last, the **settling** of a new chunk: over each overlap, by time since the later chunk began,
the share of frames where both chunks find the same number of faces and of bodies. It shows how
much overlap the stitch needs to see the same people, and so the default ``overlap_s``; it is
also what one restart of the trackers costs a whole-video run for a few seconds. Files stay in
``--work``: a second run reuses them and only prints (delete the folder to measure again).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # make_copy of the landmarks benchmark

from landmarks import make_copy  # noqa: E402

from cuevision.detect import load_detector  # noqa: E402
from cuevision.features import compute_features  # noqa: E402
from cuevision.files import make_private_dir, write_json  # noqa: E402
from cuevision.landmarks import (  # noqa: E402
    LANDMARKS_VERSION,
    Chunk,
    LandmarkSettings,
    extract_chunk,
    extract_landmarks,
    plan_chunks,
    read_landmarks,
    stitch,
)
from cuevision.landmarks.chunks import DEFAULT_OVERLAP_S, read_chunk  # noqa: E402
from cuevision.metrics.agreement import match_onsets  # noqa: E402
from cuevision.scheme import load_scheme  # noqa: E402
from cuevision.types import ROLES, Event, LandmarkTracks, VideoInfo  # noqa: E402
from cuevision.video import probe  # noqa: E402

DEFAULT_CLIP = ROOT.parent.parent / "shared/data/lookit/6c6MZQ.joke1.rep1.take1.ThatsNotAHat.mp4"
SAME_PLACE = 0.1  # of the frame's width: a role seen alone is the same person this near
TOLERANCE_S = 0.1  # candidates match at this onset difference
SETTLE_BIN_S = 1.0


def make_videos(args: argparse.Namespace) -> dict[str, Path]:
    """The looped real clip and the synthetic dyad in ``--work`` (made once)."""
    from cuevision.synth.video import make_dyad_video

    seconds = 60.0 * args.minutes
    videos = {}
    if args.only in (None, "real"):
        info = probe(args.clip)
        real = args.work / "real.mp4"
        make_copy(args.clip, real, info.width, info.height, 30.0, seconds)
        videos["real"] = real
    if args.only in (None, "synthetic"):
        # its 20 s script, looped: dyad_script fails an assertion for longer ones (the third
        # cycle's jittered smile overlaps its end)
        base, synthetic = args.work / "synthetic-20s.mp4", args.work / "synthetic.mp4"
        if not base.is_file():
            make_dyad_video(base, args.work / "synthetic-20s.csv", duration_s=20.0)
        info = probe(base)
        make_copy(base, synthetic, info.width, info.height, info.nominal_fps, seconds)
        videos["synthetic"] = synthetic
    return videos


def _timed(task: tuple[str, Path, Path, float, float, int]) -> float:
    """Wall seconds of one extraction: the whole video (index -1) or chunk ``index``."""
    kind, video, out, chunk_s, overlap_s, index = task
    info, settings = probe(video), LandmarkSettings(restart_s=chunk_s)
    started = time.perf_counter()
    if index < 0:
        extract_landmarks(video, out, settings=settings, info=info)
    else:
        chunk = _plan(info, chunk_s, overlap_s)[index]
        extract_chunk(video, chunk, out, settings=settings, info=info)
    return time.perf_counter() - started


def run(videos: dict[str, Path], args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Extract each video whole and in chunks into its folder, ``--jobs`` extractions at a time
    (their wall times overlap: the per-chunk times are under that load), unless done before
    (``timing.json``); then stitch. Wall times by video."""
    tasks, todo = [], {}
    for name, video in videos.items():
        folder = _folder(args, name)
        if (folder / "timing.json").is_file():
            continue
        make_private_dir(folder)
        todo[name] = video
        chunks = _plan(probe(video), args.chunk_s, args.overlap_s)
        tasks.append((name, video, folder / "whole.parquet", args.chunk_s, args.overlap_s, -1))
        tasks += [
            (name, video, folder / f"chunk{c.index}.parquet", args.chunk_s, args.overlap_s, c.index)
            for c in chunks
        ]
    with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
        walls = list(pool.map(_timed, tasks))
    for name in todo:
        mine = [w for task, w in zip(tasks, walls, strict=True) if task[0] == name]
        timing = {"whole_s": mine[0], "chunks_s": sum(mine[1:]), "longest_chunk_s": max(mine[1:])}
        write_json(_folder(args, name) / "timing.json", timing)
    timings = {}
    for name, video in videos.items():  # the stitch always runs again: it takes seconds
        folder, info = _folder(args, name), probe(video)
        chunks = _plan(info, args.chunk_s, args.overlap_s)
        files = [folder / f"chunk{c.index}.parquet" for c in chunks]
        started = time.perf_counter()
        stitch(
            files,
            folder / "stitched.parquet",
            settings=LandmarkSettings(restart_s=args.chunk_s),
            info=info,
            video=video,
            chunks=chunks,
        )
        timing = json.loads((folder / "timing.json").read_text())
        timings[name] = {**timing, "stitch_s": time.perf_counter() - started}
    return timings


def _folder(args: argparse.Namespace, name: str) -> Path:
    plan = f"{args.chunk_s:g}s-{args.overlap_s:g}s-v{LANDMARKS_VERSION}"
    return Path(args.work) / f"{name}-{plan}"


def _plan(info: VideoInfo, chunk_s: float, overlap_s: float) -> tuple[Chunk, ...]:
    """The chunks, with the trackers restarting at every seam."""
    return plan_chunks(info, chunk_s=chunk_s, overlap_s=overlap_s, restart_s=chunk_s)


def places(tracks: LandmarkTracks) -> dict[str, np.ndarray]:
    """(N, 2) normalised place of each role: face centre, else mean of the pose's face points."""
    found = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the mean of no points: NaN
        for role in ROLES:
            person = tracks.roles[role]
            face = np.nanmean(person.face[:, :, :2], axis=1)
            head = np.nanmean(person.pose[:, :11, :2], axis=1)
            found[role] = np.where(np.isfinite(face), face, head)
    return found


def same_roles(whole: LandmarkTracks, chunked: LandmarkTracks) -> tuple[int, int]:
    """(frames compared, frames where every role is the same person), see the docstring."""
    a, b = places(whole), places(chunked)
    compared = agree = 0
    for k in range(len(whole.frame)):
        checks = []
        for role, other in (("child", "caregiver"), ("caregiver", "child")):
            if not (np.isfinite(a[role][k]).all() and np.isfinite(b[role][k]).all()):
                continue
            own = np.hypot(*(b[role][k] - a[role][k]))
            if np.isfinite(a[other][k]).all():
                checks.append(own < np.hypot(*(b[role][k] - a[other][k])))
            else:
                checks.append(own < SAME_PLACE)
        if checks:
            compared += 1
            agree += all(checks)
    return compared, agree


def differences(
    whole: LandmarkTracks, chunked: LandmarkTracks, rows: np.ndarray
) -> dict[str, float]:
    """Bit-for-bit share, presence agreement and coordinate differences over ``rows``."""
    equal = np.ones(rows.sum(), bool)
    present = np.ones(rows.sum(), bool)
    face_d: list[np.ndarray] = []
    pose_d: list[np.ndarray] = []
    face_equal: dict[str, float] = {}
    for role in ROLES:
        p, q = whole.roles[role], chunked.roles[role]
        for x, y in ((p.face, q.face), (p.pose, q.pose), (p.face_score, q.face_score)):
            same = x[rows] == y[rows]
            same |= np.isnan(x[rows]) & np.isnan(y[rows])
            equal &= same.reshape(len(same), -1).all(axis=1)
        same_face = (p.face[rows] == q.face[rows]) | (
            np.isnan(p.face[rows]) & np.isnan(q.face[rows])
        )
        face_equal[role] = float(same_face.all(axis=(1, 2)).mean()) if rows.any() else 0.0
        present &= (p.face_score[rows] > 0) == (q.face_score[rows] > 0)
        present &= (p.pose_score[rows] > 0) == (q.pose_score[rows] > 0)
        both = np.isfinite(p.face[rows, 0, 0]) & np.isfinite(q.face[rows, 0, 0])
        face_d.append(
            np.abs(p.face[rows][both, :, :2] - q.face[rows][both, :, :2]).max(axis=(1, 2))
        )
        a, b = p.pose[rows, :13], q.pose[rows, :13]
        seen = (a[:, :, 3] >= 0.5) & (b[:, :, 3] >= 0.5)
        gap = np.where(seen, np.abs(a[:, :, :2] - b[:, :, :2]).max(axis=2), 0.0)
        pose_d.append(gap.max(axis=1)[seen.any(axis=1)])
    faces, poses = np.concatenate(face_d), np.concatenate(pose_d)
    return {
        "frames": int(rows.sum()),
        "bit_equal": float(equal.mean()) if rows.any() else float("nan"),
        "child_face_equal": face_equal["child"],
        "caregiver_face_equal": face_equal["caregiver"],
        "found_agree": float(present.mean()) if rows.any() else float("nan"),
        "face_p99": float(np.percentile(faces, 99)) if len(faces) else 0.0,
        "face_max": float(faces.max()) if len(faces) else 0.0,
        "pose_p99": float(np.percentile(poses, 99)) if len(poses) else 0.0,
        "pose_max": float(poses.max()) if len(poses) else 0.0,
    }


def candidates(path: Path) -> list[Event]:
    """The default model's candidates from a landmarks file, as ``process`` makes them."""
    scheme = load_scheme()
    detector = load_detector(None, scheme=scheme)
    series = compute_features(read_landmarks(path), fps=scheme.analysis.fps)
    return list(detector.candidates(series))


def matched(a: Sequence[Event], b: Sequence[Event]) -> int:
    """How many of ``a`` pair one to one with ``b`` within ``TOLERANCE_S``, per actor and type."""
    count = 0
    for key in {(e.actor, e.type) for e in a}:
        onsets_a = [e.onset_s for e in a if (e.actor, e.type) == key]
        onsets_b = [e.onset_s for e in b if (e.actor, e.type) == key]
        count += len(match_onsets(onsets_a, onsets_b, TOLERANCE_S))
    return count


def settling(
    folder: Path, video: Path, info: VideoInfo, chunk_s: float, overlap_s: float
) -> list[float]:
    """Per ``SETTLE_BIN_S`` since a chunk's start, over all overlaps: the share of frames where
    the chunk finds as many faces and bodies as the chunk before it (its trackers settled)."""
    settings = LandmarkSettings(restart_s=chunk_s)
    chunks = _plan(info, chunk_s, overlap_s)
    bins = int(np.ceil(overlap_s / SETTLE_BIN_S))
    agree, total = np.zeros(bins), np.zeros(bins)

    def counts(path: Path, lo: float, hi: float) -> np.ndarray:
        table = pq.read_table(
            str(path),
            columns=["frame", "face_score", "pose_score"],
            filters=[("t_s", ">=", lo), ("t_s", "<", hi)],
        ).to_pandas()
        table["face"], table["body"] = table.face_score > 0, table.pose_score > 0
        return table.groupby("frame")[["face", "body"]].sum().to_numpy()

    for before, after in zip(chunks, chunks[1:], strict=False):
        a = counts(folder / f"chunk{before.index}.parquet", after.start_s, before.end_s)
        b = counts(folder / f"chunk{after.index}.parquet", after.start_s, before.end_s)
        times = read_chunk(
            folder / f"chunk{after.index}.parquet", after, settings=settings, video=video, info=info
        ).tracked.t_s
        since = times[times < before.end_s] - after.start_s
        which = np.minimum((since / SETTLE_BIN_S).astype(int), bins - 1)
        np.add.at(total, which, 1)
        np.add.at(agree, which, (a == b).all(axis=1))
    return list(agree / np.maximum(total, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--minutes", type=float, default=6.0)
    parser.add_argument("--chunk-s", type=float, default=60.0)
    parser.add_argument("--overlap-s", type=float, default=DEFAULT_OVERLAP_S)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cuevision-chunks"))
    parser.add_argument("--only", choices=("real", "synthetic"))
    parser.add_argument("--jobs", type=int, default=4, help="extractions at a time")
    args = parser.parse_args()
    make_private_dir(args.work)
    videos = make_videos(args)
    header = (
        f"{'video':<10} {'region':<12} {'frames':>6} {'bit-equal':>9} {'child face=':>11} "
        f"{'carer face=':>11} {'found=':>7} "
        f"{'face p99':>8} {'face max':>8} {'pose p99':>8} {'pose max':>8}"
    )
    lines, summary = [header], []
    timings = run(videos, args)
    for name, video in videos.items():
        folder, timing, info = _folder(args, name), timings[name], probe(video)
        whole = read_landmarks(folder / "whole.parquet")
        chunked = read_landmarks(folder / "stitched.parquet")
        if not (
            np.array_equal(whole.frame, chunked.frame) and np.array_equal(whole.t_s, chunked.t_s)
        ):
            raise SystemExit(f"{name}: the chunked file has other frames than the whole one")
        first_seam = _plan(info, args.chunk_s, args.overlap_s)[0].end_s
        for region, rows in (
            ("before seam", whole.t_s < first_seam),
            ("after seam", whole.t_s >= first_seam),
        ):
            d = differences(whole, chunked, rows)
            lines.append(
                f"{name:<10} {region:<12} {d['frames']:>6} {d['bit_equal']:>9.1%} "
                f"{d['child_face_equal']:>11.1%} {d['caregiver_face_equal']:>11.1%} "
                f"{d['found_agree']:>7.1%} {d['face_p99']:>8.4f} {d['face_max']:>8.4f} "
                f"{d['pose_p99']:>8.4f} {d['pose_max']:>8.4f}"
            )
        compared, agree = same_roles(whole, chunked)
        a, b = candidates(folder / "whole.parquet"), candidates(folder / "stitched.parquet")
        settle = settling(folder, video, info, args.chunk_s, args.overlap_s)
        summary.append(
            f"{name}: {info.duration_s:.0f} s, roles the same in {agree}/{compared} frames "
            f"({agree / max(compared, 1):.2%}); candidates matched at +-{TOLERANCE_S} s: "
            f"{matched(a, b)} of {len(a)} unchunked, {matched(b, a)} of {len(b)} chunked; "
            f"whole {timing['whole_s']:.0f} s, chunks {timing['chunks_s']:.0f} s (longest "
            f"{timing['longest_chunk_s']:.0f} s), stitch {timing['stitch_s']:.1f} s; settling "
            f"(same faces and bodies found, per {SETTLE_BIN_S:g} s since a chunk's start): "
            + " ".join(f"{s:.0%}" for s in settle)
        )
    print(
        f"{args.chunk_s:g} s chunks, {args.overlap_s:g} s overlap, default settings but the "
        f"trackers restart every {args.chunk_s:g} s in both runs"
    )
    print("\n".join(lines))
    print("\n".join(summary))


if __name__ == "__main__":
    main()
