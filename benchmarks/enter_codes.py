"""Build the lookit-coding data set: the coders' codes through the real Label Studio loop, then
their agreement and the consensus.

    .venv/bin/python benchmarks/enter_codes.py [--stage all|enter|agree] [--clips N]

``enter``: a fresh Label Studio (``cuevision labelstudio up`` in a temporary data folder). For each
clip, an OUTDIR with the clip's ``video.json`` (from ``--processed``) and an *empty*
``candidates.csv`` (the coders never saw the model's candidates, so nothing may come back as
rejected) is pushed with ``cuevision annotate push``. Each coder is a Label Studio user
(``<coder>@cuevision.local``, made by :func:`cuevision.annotate.users.ensure_annotators`) who
posts their events as their own annotation through the REST API, converted to frames by
``ProxyClock``. ``cuevision annotate pull
--annotator EMAIL`` brings each back; its ``confirmed.csv`` goes to ``pulled/<coder>/<clip>.csv``.
A table says how the pulled events differ from the posted ones (the proxy-frame quantisation).

``agree``: ``cuevision agreement`` between the pulled codings of each clip (event F1 at ±1 s and
time-unit kappa), pooled per dyad and overall with ``compare_sessions``, and ``cuevision
consensus`` per clip into ``consensus/<clip>.csv``. Prints the tables the data set's README shows.

Clips of the held-out dyads are refused by name: nothing of theirs is opened.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from cuevision.annotate.server import LabelStudioSettings, connection
from cuevision.annotate.sync import proxy_clock
from cuevision.annotate.tasks import annotation_result
from cuevision.annotate.users import ensure_annotators
from cuevision.events import read_events, write_events
from cuevision.files import write_text
from cuevision.metrics.agreement import AgreementResult, compare_sessions
from cuevision.scheme import load_scheme
from cuevision.train.data import load_dataset
from cuevision.types import Event, VideoInfo

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "annotation" / "datasets" / "lookit-coding"
CODERS = ("c1", "c2")
HELD_OUT = ("3dC3SQ", "4JDccE")
BIN = Path(sys.executable).parent / "cuevision"


def email(coder: str) -> str:
    return f"{coder}@cuevision.local"


def cli(*args: str | Path | int) -> str:
    done = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"cuevision {' '.join(map(str, args))} failed:\n{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clips_of(data: Path, limit: int | None) -> list[str]:
    names = sorted(p.stem for p in (data / "events" / CODERS[0]).glob("*.csv"))
    refused = [n for n in names if n.split(".")[0] in HELD_OUT]
    if refused:
        raise SystemExit(f"held-out clips in the data set, refusing: {', '.join(refused)}")
    return names[:limit]


def post_annotation(
    user: httpx.Client, user_id: int, task_id: int, result: list[dict[str, Any]]
) -> None:
    """The coder's one annotation of the task: created, or replaced if they have one."""
    task = user.get(f"/api/tasks/{task_id}").raise_for_status().json()
    mine = [a for a in task.get("annotations") or [] if _user_id(a) == user_id]
    body = {"result": result, "was_cancelled": False, "ground_truth": False}
    if mine:
        user.patch(f"/api/annotations/{mine[0]['id']}/", json=body).raise_for_status()
    else:
        user.post(f"/api/tasks/{task_id}/annotations/", json=body).raise_for_status()


def _user_id(annotation: dict[str, Any]) -> int | None:
    who = annotation.get("completed_by")
    return int(who["id"]) if isinstance(who, dict) else (None if who is None else int(who))


def differences(posted: list[Event], pulled: list[Event]) -> tuple[float, float]:
    """Max |onset| and |offset| difference, events paired in (type, onset) order."""
    if len(posted) != len(pulled):
        raise SystemExit(f"posted {len(posted)} events but pulled {len(pulled)}")
    key = lambda e: (e.type, e.onset_s)  # noqa: E731
    pairs = list(zip(sorted(posted, key=key), sorted(pulled, key=key), strict=True))
    for a, b in pairs:
        if a.type != b.type:
            raise SystemExit(f"posted {a} came back as {b}")
    on = max((abs(a.onset_s - b.onset_s) for a, b in pairs), default=0.0)
    off = max((abs(a.offset_s - b.offset_s) for a, b in pairs), default=0.0)
    return on, off


def enter(args: argparse.Namespace, clips: list[str]) -> None:
    work = Path(tempfile.mkdtemp(prefix="cuevision-enter-"))
    ls = LabelStudioSettings(
        venv=ROOT / ".labelstudio" / "venv",
        data_dir=args.labelstudio_data or work / "labelstudio",
        port=args.labelstudio_port or free_port(),
    )
    ls_args = ("--venv", ls.venv, "--data-dir", ls.data_dir, "--port", ls.port)
    sync_args = (
        *("--data-dir", work / "cuevision-data", "--api-url", "http://127.0.0.1:9"),
        *("--labelstudio-data", ls.data_dir, "--venv", ls.venv, "--labelstudio-port", ls.port),
    )
    started = time.monotonic()
    cli("labelstudio", "up", *ls_args)
    print(f"Label Studio up in {time.monotonic() - started:.0f} s ({work})")
    try:
        conn = connection(ls)
        users = {
            coder: (
                httpx.Client(
                    base_url=conn.url, headers={"Authorization": f"Token {a.token}"}, timeout=60
                ),
                a.user_id,
            )
            for coder, a in zip(
                CODERS, ensure_annotators(ls, [email(c) for c in CODERS]), strict=True
            )
        }
        scheme = load_scheme(None)
        print(
            f"{'clip':42} {'fps':>4} {'coder':5} {'posted':>6} {'pulled':>6} {'max Δon':>8} "
            f"{'max Δoff':>8}"
        )
        worst = [0.0, 0.0]
        for clip in clips:
            outdir = work / "sessions" / clip
            outdir.mkdir(parents=True)
            shutil.copyfile(args.processed / clip / "video.json", outdir / "video.json")
            write_events(outdir / "candidates.csv", [])
            cli("annotate", "push", outdir, *sync_args)
            task_id = int(json.loads((outdir / "labelstudio.json").read_text())["task_id"])
            clock = proxy_clock(outdir, VideoInfo.load(outdir / "video.json"))
            for coder in CODERS:
                posted = read_events(args.data / "events" / coder / f"{clip}.csv", scheme)
                client, user_id = users[coder]
                result = annotation_result(posted, clock, f"{coder}-")
                post_annotation(client, user_id, task_id, result)
                cli("annotate", "pull", outdir, "--annotator", email(coder), *sync_args)
                pulled_text = (outdir / "confirmed.csv").read_text()
                target = args.data / "pulled" / coder / f"{clip}.csv"
                target.parent.mkdir(parents=True, exist_ok=True)
                write_text(target, pulled_text)
                pulled = read_events(target, scheme)
                if any(e.annotator != email(coder) or e.status != "added" for e in pulled):
                    raise SystemExit(f"{target}: not all events are {email(coder)}'s, added")
                on, off = differences(posted, pulled)
                worst = [max(worst[0], on), max(worst[1], off)]
                print(
                    f"{clip:42} {clock.fps:4.0f} {coder:5} {len(posted):6d} {len(pulled):6d} "
                    f"{on:8.3f} {off:8.3f}"
                )
        print(f"max difference over all clips: onset {worst[0]:.3f} s, offset {worst[1]:.3f} s")
    finally:
        if args.labelstudio_data is None:
            cli("labelstudio", "down", *ls_args)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _f1(result: AgreementResult, name: str | None = None) -> str:
    counts = result.overall if name is None else result.per_type.get(name)
    if counts is None:
        return "–"
    f1 = "–" if counts.f1 is None else f"{counts.f1:.2f}"
    return f"{f1} ({counts.n_reference}/{counts.n_other}/{counts.n_matched})"


def _kappa(result: AgreementResult, name: str) -> str:
    value = result.kappa.get(name)
    return "–" if value is None else f"{value:.2f}"


def agree(args: argparse.Namespace, clips: list[str]) -> None:
    scheme = load_scheme(None)
    folders = [args.data / "pulled" / coder for coder in CODERS]
    sessions: dict[str, list[tuple[list[Event], list[Event], float]]] = {}
    print(
        "| clip | c1 | c2 | matched | F1 | consensus |\n| --- | ---: | ---: | ---: | ---: | ---: |"
    )
    for clip in clips:
        duration = VideoInfo.load(args.processed / clip / "video.json").duration_s
        first, second = (f / f"{clip}.csv" for f in folders)
        one = json.loads(cli("agreement", first, second, "--json", "--duration", str(duration)))[
            "overall"
        ]
        out = args.data / "consensus" / f"{clip}.csv"
        cli("consensus", first, second, "-o", out)
        agreed = len(read_events(out, scheme))
        codes = (read_events(first, scheme), read_events(second, scheme), duration)
        sessions.setdefault(clip.split(".")[0], []).append(codes)
        f1 = "–" if one["f1"] is None else f"{one['f1']:.2f}"
        print(
            f"| {clip} | {one['n_reference']} | {one['n_other']} | {one['n_matched']} | {f1} "
            f"| {agreed} |"
        )
    unit = scheme.analysis.time_unit_s
    pooled = {
        d: compare_sessions(s, tolerance_s=1.0, time_unit_s=unit) for d, s in sessions.items()
    }
    pooled["all"] = compare_sessions(
        [s for group in sessions.values() for s in group], tolerance_s=1.0, time_unit_s=unit
    )
    head = " | ".join(f"{d} F1 (c1/c2/matched) | {d} κ" for d in pooled)
    print(f"\n| type | {head} |\n| --- |" + " ---: | ---: |" * len(pooled))
    for name in scheme.type_names:
        cells = " | ".join(f"{_f1(r, name)} | {_kappa(r, name)}" for r in pooled.values())
        print(f"| {name} | {cells} |")
    cells = " | ".join(f"**{_f1(r)}** | " for r in pooled.values())
    print(f"| **all types** | {cells}")


SPLITS = {"2UWdXP": "train", "6c6MZQ": "validation"}
MANIFEST_HEAD = """\
# The lookit-coding data set (see README.md): two training dyads, coded twice, and their consensus.
# Written by benchmarks/enter_codes.py. Videos are not in the project: the paths point at the
# shared clips. Splits are by dyad; swap them for the other direction of the cross-dyad check.
"""


def write_manifest(data: Path, clips: list[str]) -> None:
    """``manifest.yaml`` in the format of :mod:`cuevision.train.data`, checked by its loader."""
    videos = Path(os.path.relpath(ROOT.parent / "shared" / "data" / "lookit", data))
    manifest = {
        "name": "lookit-coding",
        "held_out_dyads": list(HELD_OUT),
        "sessions": [
            {
                "id": clip,
                "dyad": clip.split(".")[0],
                "split": SPLITS[clip.split(".")[0]],
                "video": str(videos / f"{clip}.mp4"),
                "events": f"consensus/{clip}.csv",
            }
            for clip in clips
        ],
    }
    body = yaml.safe_dump(manifest, sort_keys=False, width=200)
    write_text(data / "manifest.yaml", MANIFEST_HEAD + body)
    dataset = load_dataset(data / "manifest.yaml")
    print(f"\nmanifest: {dataset.describe()['dyads']}, snapshot {dataset.snapshot}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=("all", "enter", "agree"), default="all")
    parser.add_argument("--data", type=Path, default=DATA, help="the data set's folder")
    parser.add_argument(
        "--processed",
        type=Path,
        default=Path("/tmp/cv-work/processed"),
        help="`cuevision process` OUTDIRs, one per clip (their video.json is used)",
    )
    parser.add_argument("--clips", type=int, default=None, help="only the first N clips")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--labelstudio-data",
        type=Path,
        default=None,
        help="use (and leave running) this Label Studio instead of a fresh one",
    )
    parser.add_argument("--labelstudio-port", type=int, default=None)
    args = parser.parse_args()
    clips = clips_of(args.data, args.clips)
    if args.stage in ("all", "enter"):
        enter(args, clips)
    if args.stage in ("all", "agree"):
        agree(args, clips)
        write_manifest(args.data, clips)


if __name__ == "__main__":
    main()
