"""Landmark extraction speed and memory against the decode floor, printed as a table.

    .venv/bin/python benchmarks/landmarks.py [--clip PATH] [--long-minutes 30] [--work /tmp/x]

From one clip (default: the Lookit ``6c6MZQ...ThatsNotAHat``, 640x480 30 fps, 17 s) it makes
480p and 720p copies at 30 fps in ``--work`` (never in the project: these are real people), then
runs, each in its own process: decode only (the floor) and the full two-person extraction, for
every frame and for every second frame (the default 15 Hz analysis rate on 30 fps). Peak RSS is
the largest sum over the process tree (the extraction and its pose worker), sampled from /proc.
Last, the clip looped to ``--long-minutes`` at 480p 15 fps shows memory does not grow with length.

Goal: >= 1.0x real time for 720p 30 fps at the default rate on 2 cores; peak memory < 1.5 GB.
The machine is shared: numbers move with other people's load. To weigh a change, give
``--baseline SRC`` (a folder holding another version's ``cuevision`` package, e.g. from
``git archive HEAD cuevision | tar -x -C SRC``): each extraction then also runs with that code,
right after this one, so the ratio of the two rows is measured under the same load. The last two
columns are CPU seconds per second of video of the main process and of the pose worker: on two
free cores the extraction keeps up with real time while both stay under 1.0 (each has a core),
whatever other sessions' load does to the wall-clock columns.
``--long-minutes 0`` skips the long video.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = ROOT.parent / "shared/data/lookit/6c6MZQ.joke1.rep1.take1.ThatsNotAHat.mp4"


def make_copy(clip: Path, out: Path, width: int, height: int, fps: float, seconds: float) -> None:
    """``clip`` scaled to width x height, looped up to ``seconds``, at ``fps`` (frame-nearest)."""
    import cv2

    from cuevision.video import VideoWriter, decode

    if out.is_file():
        return
    written = 0
    total = int(seconds * fps)
    with VideoWriter(out, fps, width, height) as writer:
        while written < total:
            for frame in decode(clip, target_fps=fps):
                writer.write(cv2.resize(frame.image, (width, height)))
                written += 1
                if written >= total:
                    break


def _tree_rss(pid: int) -> int:
    """Sum of VmRSS (bytes) of ``pid`` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def run_case(
    args: list[str], report_every_s: float = 0.0, source: Path | None = None
) -> tuple[dict[str, float], int]:
    """Run this script's ``--case`` in a subprocess; its JSON result and the tree's peak RSS.

    With ``report_every_s``, prints the peak so far at that interval (for long runs); with
    ``source``, the subprocess imports ``cuevision`` from that folder.
    """
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, __file__, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    peak = 0
    start = time.monotonic()

    def sample() -> None:
        nonlocal peak
        reported = start
        while process.poll() is None:
            peak = max(peak, _tree_rss(process.pid))
            if report_every_s and time.monotonic() - reported >= report_every_s:
                reported = time.monotonic()
                print(f"  ... {reported - start:.0f} s, peak RSS so far {peak / 2**20:.0f} MB",
                      flush=True)  # fmt: skip
            time.sleep(0.25)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, _ = process.communicate()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"case {args} failed with exit {process.returncode}")
    return json.loads(out.decode().strip().splitlines()[-1]), peak


def _row(
    video: str, frames: str, run: str, r: dict[str, float], floor_fps: float, peak: int
) -> None:
    fps = r["frames"] / r["seconds"]
    print(
        f"| {video} | {frames} | {run} | {r['frames']:.0f} | {fps:.1f} | "
        f"{r['duration'] / r['seconds']:.2f} | {fps / floor_fps:.2f} | {peak / 2**20:.0f} MB | "
        f"{r['main_cpu'] / r['duration']:.2f} | {r['worker_cpu'] / r['duration']:.2f} |",
        flush=True,
    )


def case(kind: str, video: Path, analysis_fps: float | None) -> dict[str, float]:
    from cuevision.landmarks import LandmarkSettings, extract_landmarks
    from cuevision.video import decode, probe

    info = probe(video)
    settings = LandmarkSettings(analysis_fps=analysis_fps)
    start = time.perf_counter()
    if kind == "decode":
        frames = sum(1 for _ in decode(video, target_fps=settings.decode_fps(info)))
    else:
        out = video.with_suffix(".parquet")
        summary = extract_landmarks(video, out, settings=settings)
        frames = summary.frames
        out.unlink()
    main, worker = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return {
        "frames": frames,
        "seconds": time.perf_counter() - start,
        "duration": info.duration_s,
        "main_cpu": main.ru_utime + main.ru_stime,
        "worker_cpu": worker.ru_utime + worker.ru_stime,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cuevision-bench"))
    parser.add_argument("--long-minutes", type=float, default=30.0)
    parser.add_argument("--case", choices=["decode", "extract"])
    parser.add_argument("--video", type=Path)
    parser.add_argument("--fps", type=float, default=0.0)
    parser.add_argument("--baseline", type=Path, help="folder with another version's cuevision")
    parser.add_argument(
        "--default-rate", action="store_true", help="only the default analysis rate (15 Hz)"
    )
    args = parser.parse_args()
    if args.case:
        print(json.dumps(case(args.case, args.video, args.fps or None)))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    videos = {"480p": (640, 480), "720p": (1280, 720)}
    for name, (width, height) in videos.items():
        make_copy(args.clip, args.work / f"{name}.mp4", width, height, 30.0, 17.0)
    header = ("video", "frames analysed", "run", "frames", "frames/s", "x real time", "/ floor",
              "peak RSS", "main CPU s / video s", "pose CPU s / video s")  # fmt: skip
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header), flush=True)
    for name in videos:
        video = args.work / f"{name}.mp4"
        rates = (("every frame", 0.0), ("every 2nd (15 Hz)", 15.0))[args.default_rate :]
        for label, fps in rates:
            common = ["--video", str(video), "--fps", str(fps)]
            floor, floor_rss = run_case(["--case", "decode", *common])
            floor_fps = floor["frames"] / floor["seconds"]
            _row(f"{name} 30 fps", label, "decode only", floor, floor_fps, floor_rss)
            result, rss = run_case(["--case", "extract", *common])
            _row(f"{name} 30 fps", label, "extraction", result, floor_fps, rss)
            if args.baseline:
                result, rss = run_case(["--case", "extract", *common], source=args.baseline)
                _row(f"{name} 30 fps", label, "extraction, baseline", result, floor_fps, rss)
    if not args.long_minutes:
        return
    long_video = args.work / f"long_{args.long_minutes:g}min.mp4"
    make_copy(args.clip, long_video, 640, 480, 15.0, args.long_minutes * 60)
    common = ["--video", str(long_video), "--fps", "15"]
    floor, _ = run_case(["--case", "decode", *common])
    result, rss = run_case(["--case", "extract", *common], report_every_s=120.0)
    floor_fps = floor["frames"] / floor["seconds"]
    _row(f"480p 15 fps, {args.long_minutes:g} min", "every frame", "extraction", result, floor_fps,
         rss)  # fmt: skip


if __name__ == "__main__":
    main()
