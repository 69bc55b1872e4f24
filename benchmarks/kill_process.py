"""Fault campaign: SIGKILL ``cuevision process`` at random moments, re-run, compare with an
undisturbed run.

    .venv/bin/python benchmarks/kill_process.py [--kills 20] [--seed 0] [--duration 8]

On a synthetic dyad: one undisturbed run gives the reference outputs and its wall time T. Then,
``--kills`` times: a fresh run in the same folder is killed (its whole process group, pose worker
included) after a random delay in (0, T); what it left is checked (every stage the manifest
records has outputs byte-identical to the reference, and every output present at all is a whole
file that its reader accepts); a re-run then completes and must give byte-identical outputs. Exits
1 on any mismatch. The test suite runs a short version (tests/test_crash_safety.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

BIN = Path(sys.executable).parent / "cuevision"


def outputs(folder: Path) -> dict[str, bytes]:
    """Every output file by relative name; temporary (dotted) names are not outputs."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }


def whole(path: Path) -> bool:
    """Whether ``path`` is a complete file that its reader accepts."""
    try:
        if path.suffix == ".parquet":
            pq.read_table(path)
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix in (".csv", ".html"):
            text = path.read_text()
            return text.endswith("\n") or text.rstrip().endswith("</html>")
        return True
    except Exception:  # noqa: BLE001  # any reader failure means "not whole"
        return False


def left_behind(folder: Path, reference: dict[str, bytes]) -> list[str]:
    """Problems in what a killed run left: recorded stages must be right, files must be whole."""
    problems = []
    try:
        stages = json.loads((folder / "pipeline.json").read_text())["stages"]
    except FileNotFoundError:
        stages = {}
    for stage, entry in stages.items():
        for name in entry["outputs"]:
            if (folder / name).read_bytes() != reference.get(name):
                problems.append(f"stage {stage} recorded but {name} differs from the reference")
    for name in outputs(folder):
        if not whole(folder / name):
            problems.append(f"{name} is not a whole file")
    return problems


def run(video: Path, out: Path, *, kill_after: float | None = None) -> float:
    """Run ``process``; with ``kill_after``, SIGKILL its process group after that many seconds."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [str(BIN), "process", str(video), "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    if kill_after is None:
        _, err = child.communicate()
        if child.returncode:
            raise SystemExit(f"process failed ({child.returncode}): {err.decode()[-2000:]}")
    else:
        try:
            child.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    return time.perf_counter() - started


def campaign(kills: int, seed: int, duration: float, work: Path) -> dict[str, int]:
    video = work / "sample.mp4"
    subprocess.run(
        [str(BIN), "synth", "-o", str(video), "--truth", str(work / "truth.csv"),
         "--duration", str(duration)],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    out, ref = work / "out", work / "ref"
    wall = run(video, out)
    out.rename(ref)  # the reference ran in the same path, so paths inside match
    reference = outputs(ref)
    rng = random.Random(seed)
    counts = {"kills": 0, "reruns": 0, "bad_leftovers": 0, "mismatches": 0}
    for k in range(kills):
        shutil.rmtree(out, ignore_errors=True)
        delay = rng.uniform(0.05, 0.95) * wall
        run(video, out, kill_after=delay)
        counts["kills"] += 1
        problems = left_behind(out, reference)
        counts["bad_leftovers"] += bool(problems)
        run(video, out)
        counts["reruns"] += 1
        final = outputs(out)
        differ = sorted(
            n for n in reference.keys() | final.keys() if reference.get(n) != final.get(n)
        )
        counts["mismatches"] += bool(differ)
        verdict = f"differs in {', '.join(differ)}" if differ else "identical"
        print(f"kill {k + 1:2d} at {delay:5.1f} s: leftovers {problems or 'ok'}; re-run {verdict}")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duration", type=float, default=8.0, help="synthetic clip length, s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cuevision-kill-") as tmp:
        counts = campaign(args.kills, args.seed, args.duration, Path(tmp))
    print("\n| kills | re-runs | bad leftovers | mismatches |\n| --- | --- | --- | --- |")
    print(f"| {counts['kills']} | {counts['reruns']} | {counts['bad_leftovers']} | "
          f"{counts['mismatches']} |")  # fmt: skip
    sys.exit(1 if counts["bad_leftovers"] or counts["mismatches"] else 0)


if __name__ == "__main__":
    main()
