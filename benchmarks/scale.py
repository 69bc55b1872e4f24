"""Scale-out: one long video through the embedded runner (unchunked) and through Celery with 1 and
2 workers (landmarks in chunks), timed end to end.

The video is a real clip of a training dyad (6c6MZQ or 2UWdXP) looped to about ``--minutes``
(packets copied, timestamps shifted; nothing re-encoded) into a temporary folder, never into the
project. For each run it prints the wall time, x real time (video seconds per wall second), the
speed-up over the single worker, and the overheads read from the workers' logs: the idle worker
time (queueing, the serial stages other workers wait on) and the stitch. Then a projection for a
cohort from the measured per-chunk and per-session times.

A landmark chunk already keeps about two cores busy (the worker and its pose process,
cuevision/landmarks/pose_worker.py), so on a 2-core machine a second worker mostly competes for
the same cores; the table says what it measured. With ``--one-core`` each worker finds the poses in
its own process, so one worker is one core and the second worker has a core of its own; with
``--pin`` as well, worker i runs under ``taskset -c i``, so that a lone worker's threads (MediaPipe
runs about 20) do not borrow the core that a second worker would have: N workers on N cores.

    .venv/bin/python benchmarks/scale.py                      # 10 minutes, 5-minute chunks
    .venv/bin/python benchmarks/scale.py --minutes 1 --chunk-s 20    # a short check
    .venv/bin/python benchmarks/scale.py --one-core   # workers of one core each (worker --one-core)
    .venv/bin/python benchmarks/scale.py --one-core --pin    # ... each pinned to its own core
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kill_workers import Lab  # noqa: E402

from cuevision.landmarks.chunks import DEFAULT_OVERLAP_S  # noqa: E402
from tests.service import redis as broker  # noqa: E402

LOOKIT = ROOT.parent / "shared" / "data" / "lookit"
TRAINING_DYADS = ("6c6MZQ", "2UWdXP")  # never the held-out dyads
TIMING = re.compile(
    r"(chunk \d+|probe|landmarks|features|detect|metrics) of \w+ done in ([\d.]+) s"
)


def loop_clip(clip: Path, out: Path, seconds: float) -> float:
    """``clip`` repeated (whole copies) to at least ``seconds``; the looped duration."""
    import av

    with av.open(str(clip)) as source:
        video = source.streams.video[0]
        assert video.duration is not None and video.time_base is not None
        length = float(video.duration * video.time_base)
    copies = max(1, math.ceil(seconds / length))
    with av.open(str(out), "w") as sink:
        with av.open(str(clip)) as source:
            kept = [s for s in source.streams if s.type in ("video", "audio")]
            streams = {s.index: sink.add_stream_from_template(s) for s in kept}
        for copy in range(copies):
            with av.open(str(clip)) as source:
                for packet in source.demux(*[source.streams[i] for i in streams]):
                    if packet.dts is None or packet.pts is None:
                        continue
                    tb = packet.stream.time_base
                    assert tb is not None
                    shift = round(copy * length / tb)
                    packet.pts += shift
                    packet.dts += shift
                    packet.stream = streams[packet.stream.index]
                    sink.mux(packet)
    return copies * length


def embedded(video: Path, folder: Path) -> float:
    """``cuevision process`` (the embedded runner's very stages, unchunked), wall seconds."""
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "cuevision", "process", str(video), "-o", str(folder / "out")],
        check=True,
        capture_output=True,
    )
    return time.monotonic() - started


def celery(
    video: Path,
    folder: Path,
    redis_url: str,
    workers: int,
    chunk_s: float,
    one_core: bool,
    pin: bool,
) -> dict:
    """One session through ``workers`` Celery workers; wall seconds and the logged task times."""
    folder.mkdir()
    settings = {
        "chunk_s": chunk_s,
        "chunk_overlap_s": DEFAULT_OVERLAP_S,
        "sweep_s": 1.0,
        "visibility_timeout_s": max(3600.0, 10 * chunk_s),
    }
    lab = Lab.open(folder, f"sqlite:///{folder / 'cuevision.sqlite3'}", redis_url, **settings)
    if one_core:
        lab.env["CUEVISION_WORKER_ONE_CORE"] = "1"
    for cpu in range(workers):
        lab.start_worker(["taskset", "-c", str(cpu)] if pin else [])
    time.sleep(0.5)
    started = time.monotonic()
    lab.add(video)
    try:
        while not lab.finished():
            time.sleep(0.2)
        wall = time.monotonic() - started
    finally:
        lab.stop()
    tasks: dict[str, list[float]] = {}
    for log in folder.glob("worker-*.log"):
        for what, seconds in TIMING.findall(log.read_text(errors="replace")):
            tasks.setdefault("chunk" if what.startswith("chunk") else what, []).append(
                float(seconds)
            )
    return {"wall": wall, "tasks": tasks, "workers": workers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", default="6c6MZQ", help="a clip name under ../shared/data/lookit")
    parser.add_argument("--minutes", type=float, default=10.0, help="loop the clip to this long")
    parser.add_argument("--chunk-s", type=float, default=300.0, help="the landmark chunks")
    parser.add_argument("--cohort", type=int, default=200, help="sessions in the projection")
    parser.add_argument("--cohort-minutes", type=float, default=60.0)
    parser.add_argument(
        "--one-core",
        action="store_true",
        help="workers find poses in their own process (cuevision worker --one-core): one core each",
    )
    parser.add_argument("--pin", action="store_true", help="with --one-core: worker i on core i")
    args = parser.parse_args()
    if args.pin and not args.one_core:
        raise SystemExit("--pin needs --one-core: a two-core worker pinned to one core would wait")
    matches = sorted(LOOKIT.glob(f"{args.clip}*.mp4"))
    if not matches or not matches[0].name.startswith(TRAINING_DYADS):
        raise SystemExit(f"{args.clip}: name a clip of a training dyad {TRAINING_DYADS}")
    work = Path(tempfile.mkdtemp(prefix="cuevision-scale-"))
    try:
        video = work / "looped.mp4"
        duration = loop_clip(matches[0], video, args.minutes * 60)
        cores = "one core" if args.one_core else "two cores (poses in a second process)"
        cores += ", pinned (taskset)" if args.pin else ""
        print(
            f"{matches[0].name} looped to {duration:.0f} s; chunks of {args.chunk_s:g} s; "
            f"each worker uses {cores}"
        )
        (work / "embedded").mkdir()
        rows = [("embedded, unchunked", embedded(video, work / "embedded"), None)]
        runs = []
        with broker.server() as redis:
            for n in (1, 2):
                redis.stop()
                redis.start()
                run = celery(
                    video, work / f"celery{n}", redis.url, n, args.chunk_s, args.one_core, args.pin
                )
                runs.append(run)
                rows.append((f"celery, {n} worker{'s' * (n > 1)}", run["wall"], run))
        single = runs[0]["wall"]
        print(
            f"\n{'run':<22}{'wall s':>8}{'x real':>8}{'vs 1 w':>8}{'chunks':>7}"
            f"{'chunk s':>9}{'stitch s':>9}{'serial s':>9}{'idle w·s':>9}"
        )
        for name, wall, run in rows:
            line = f"{name:<22}{wall:>8.0f}{duration / wall:>8.2f}"
            if run is None:
                print(line + f"{'':>8}{'-':>7}")
                continue
            tasks = run["tasks"]
            chunks = tasks.get("chunk", [])
            serial = sum(sum(tasks.get(s, [])) for s in ("probe", "features", "detect", "metrics"))
            busy = sum(sum(v) for v in tasks.values())
            idle = run["workers"] * wall - busy  # queueing and waiting on the serial stages
            print(
                line + f"{single / wall:>8.2f}{len(chunks):>7}"
                f"{statistics.mean(chunks) if chunks else 0:>9.0f}"
                f"{sum(tasks.get('landmarks', [])):>9.1f}{serial:>9.0f}{idle:>9.0f}"
            )
        one = runs[0]["tasks"]
        work_per_video_s = sum(sum(v) for v in one.values()) / duration  # every task, 1 worker
        session_work = work_per_video_s * args.cohort_minutes * 60
        print(
            f"\nprojection: {work_per_video_s:.2f} s of worker time per video second (all tasks, "
            f"1 worker), so a {args.cohort_minutes:g}-minute session is "
            f"{session_work / 3600:.2f} worker-hours; {args.cohort} sessions keep every worker "
            "busy (chunks of many sessions interleave), so N workers, each with "
            + ("its own core" if args.one_core else "the two cores one chunk uses")
            + ", take about (before the slowdown of workers sharing a machine, which the "
            "2-worker chunk time above shows):"
        )
        for n in (1, 2, 4, 8, 16, 32):
            print(f"  {n:>3} workers: {args.cohort * session_work / n / 3600:8.1f} h")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
