"""Landmark coverage and role accuracy against the two-coder visibility reference, as tables.

    .venv/bin/python benchmarks/coverage.py [--processed DIR | --work DIR] [--clips GLOB]

The reference (``annotation/datasets/lookit-coding/visibility/{c1,c2}/<clip>.csv``) marks, every
0.5 s (the exact PTS of a frame) and for each role, whether the face is ``full``, ``partial`` or
``none``, the face centre x, y (fractions of the frame) and the main difficulty. Landmarks come
from ``DIR/<clip>/landmarks.parquet``: with ``--processed`` they are read as they are (e.g. the
output folders of ``cuevision process``); with ``--work`` the extraction runs here first, into
``DIR``, for any clip whose file is missing or was made by another landmarks version or settings.

Rules (stated, so that later numbers can be held against these):

- **Matching**: each reference time takes the analysed frame nearest in time, if within
  ``TOLERANCE_S`` (0.07 s, about one step of the 15 Hz grid); otherwise the face counts as not
  found.
- **Both coders**: an item (time, role) counts in a measure only where both coders agree on it:
  "seen" = both say full or partial, "full" = both say full, "none" = both say none. The coders'
  position of a face is the mean of their two marks.
- **Face recall**: of the items both coders see, the share where that role's row has a face.
- **False faces**: of the items both coders mark none, the share where that role's row has a face.
- **Role accuracy**: of the found faces on items both coders see, the share whose centre is nearer
  the coders' position for that role than the coders' position for the other role (when both
  coders see the other face too), or else within ``RADIUS`` (0.2 of the frame, normalised x, y)
  of it.
- **Per difficulty**: an item is counted under every difficulty either coder gave it.
- **Feature coverage**: share of the 15 Hz feature grid where ``<role>.<feature>`` is finite.

Never run this on the held-out dyads (3dC3SQ, 4JDccE): their reference is for one final check.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "annotation/datasets/lookit-coding/visibility"
CLIPS = ROOT.parent / "shared/data/lookit"
TRAINING_DYADS = ("2UWdXP", "6c6MZQ")
TOLERANCE_S = 0.07
RADIUS = 0.2
FEATURES = ("gaze_to_partner", "smile", "hand_to_partner")
EXTRA_FEATURES = (
    "head_to_partner",
    "any_gaze_to_partner",
    "any_head_to_partner",
    "head_source",
)  # reported where the features have them
ROLE_NAMES = ("caregiver", "child")


@dataclass(frozen=True)
class Measure:
    """A share: ``hits`` of ``total``."""

    hits: int
    total: int

    def __str__(self) -> str:
        if not self.total:
            return "-"
        return f"{100.0 * self.hits / self.total:.1f}% ({self.hits}/{self.total})"


def reference(clip: str) -> pd.DataFrame:
    """Both coders' rows of one clip, joined on (t_s, role): columns suffixed _1 and _2."""
    coders = [
        pd.read_csv(REFERENCE / coder / f"{clip}.csv", dtype={"difficulty": str})
        for coder in ("c1", "c2")
    ]
    for table in coders:
        table["t_key"] = table["t_s"].round(3)
    joined = coders[0].merge(
        coders[1].drop(columns="t_s"), on=["t_key", "role"], suffixes=("_1", "_2")
    )
    if len(joined) != len(coders[0]) or len(joined) != len(coders[1]):
        raise SystemExit(f"{clip}: the two coders' times or roles differ")
    joined["clip"] = clip
    joined["dyad"] = clip.split(".")[0]
    return joined


def matched(ref: pd.DataFrame, landmarks: Path) -> pd.DataFrame:
    """``ref`` plus, per item, whether that role has a face and where (nearest analysed frame)."""
    import pyarrow.parquet as pq

    names = pq.read_schema(str(landmarks)).names
    columns = ["t_s", "role", "face_score", "face_cx", "face_cy"]
    rows = pq.read_table(
        str(landmarks), columns=columns + ["face_source"] * ("face_source" in names)
    ).to_pandas()
    if "face_source" not in rows:  # landmarks version 1: every face is a mesh
        rows["face_source"] = np.where(rows["face_score"] > 0, 2, 0)
    out = ref.copy()
    out["found"] = False
    out["mesh"] = False
    out["fx"] = np.nan
    out["fy"] = np.nan
    for role, part in rows.groupby("role"):
        t = part["t_s"].to_numpy()
        at = np.flatnonzero(out["role"].to_numpy() == role)
        k = np.clip(np.searchsorted(t, out["t_s"].to_numpy()[at]), 1, len(t) - 1)
        k = np.where(
            np.abs(t[k - 1] - out["t_s"].to_numpy()[at])
            <= np.abs(t[k] - out["t_s"].to_numpy()[at]),
            k - 1,
            k,
        )
        near = np.abs(t[k] - out["t_s"].to_numpy()[at]) <= TOLERANCE_S
        score = part["face_score"].to_numpy()[k]
        found = near & (score > 0)
        out.loc[out.index[at], "found"] = found
        out.loc[out.index[at], "mesh"] = found & (part["face_source"].to_numpy()[k] == 2)
        out.loc[out.index[at], "fx"] = np.where(found, part["face_cx"].to_numpy()[k], np.nan)
        out.loc[out.index[at], "fy"] = np.where(found, part["face_cy"].to_numpy()[k], np.nan)
    return out


def judge(items: pd.DataFrame) -> pd.DataFrame:
    """Adds the both-coder classes and, per found face, whether it sits on its role's person."""
    vis1, vis2 = items["visibility_1"], items["visibility_2"]
    items["seen"] = vis1.isin(["full", "partial"]) & vis2.isin(["full", "partial"])
    items["full"] = (vis1 == "full") & (vis2 == "full")
    items["none"] = (vis1 == "none") & (vis2 == "none")
    items["rx"] = (items["x_1"] + items["x_2"]) / 2
    items["ry"] = (items["y_1"] + items["y_2"]) / 2
    other = items[["clip", "t_key", "role", "rx", "ry", "seen"]].copy()
    other["role"] = other["role"].map({"caregiver": "child", "child": "caregiver"})
    items = items.merge(other, on=["clip", "t_key", "role"], suffixes=("", "_other"))
    own = np.hypot(items["fx"] - items["rx"], items["fy"] - items["ry"])
    theirs = np.hypot(items["fx"] - items["rx_other"], items["fy"] - items["ry_other"])
    items["right_role"] = (
        np.where(items["seen_other"], own < theirs, own <= RADIUS) & items["found"]
    )
    return items


def table_rows(items: pd.DataFrame) -> list[str]:
    """One Markdown row per group: recall (seen, full), false faces, role accuracy."""
    groups: list[tuple[str, pd.DataFrame]] = [("all", items)]
    groups += [(f"dyad {d}", part) for d, part in items.groupby("dyad")]
    groups += [(f"role {r}", part) for r, part in items.groupby("role")]
    labels = sorted(set(items["difficulty_1"].dropna()) | set(items["difficulty_2"].dropna()))
    for label in labels:
        mask = (items["difficulty_1"] == label) | (items["difficulty_2"] == label)
        groups.append((f"difficulty {label}", items[mask]))
    out = []
    for name, part in groups:
        seen, full, none = part[part["seen"]], part[part["full"]], part[part["none"]]
        found = seen[seen["found"]]
        cells = [
            Measure(int(seen["found"].sum()), len(seen)),
            Measure(int(full["found"].sum()), len(full)),
            Measure(int(seen["mesh"].sum()), len(seen)),
            Measure(int(none["found"].sum()), len(none)),
            Measure(int(found["right_role"].sum()), len(found)),
        ]
        out.append(f"| {name} | " + " | ".join(map(str, cells)) + " |")
    return out


def agreement(items: pd.DataFrame) -> str:
    from sklearn.metrics import cohen_kappa_score

    a, b = items["visibility_1"], items["visibility_2"]
    kappa = cohen_kappa_score(a, b, labels=["full", "partial", "none"])
    seen_kappa = cohen_kappa_score(a == "none", b == "none", labels=[False, True])
    return (
        f"inter-coder agreement on visibility ({len(items)} items): {100 * (a == b).mean():.1f}%, "
        f"Cohen's kappa {kappa:.3f} (full/partial/none); face seen or not: "
        f"{100 * ((a == 'none') == (b == 'none')).mean():.1f}%, kappa {seen_kappa:.3f}"
    )


def feature_coverage(paths: Iterable[Path]) -> list[str]:
    """Per role and feature, the share of grid frames where the feature is finite."""
    from cuevision.features import compute_features
    from cuevision.landmarks import read_landmarks

    finite: dict[str, list[float]] = {}
    for path in paths:
        series = compute_features(read_landmarks(path))
        for role in ROLE_NAMES:
            for name in (*FEATURES, *EXTRA_FEATURES):
                column = f"{role}.{name}"
                if column in series.names:
                    values = series.values[:, series.names.index(column)]
                    if name == "head_source":
                        values = np.where(values > 0, values, np.nan)
                    finite.setdefault(column, []).extend(np.isfinite(values).tolist())
    return [f"| {name} | {100 * np.mean(v):.1f}% |" for name, v in finite.items()]


def _extract_one(clip: str, work: Path) -> tuple[float, float] | None:
    """Landmarks of one clip into ``work/<clip>/``, unless fresh; (video s, wall s) if run."""
    from cuevision.landmarks import (
        LANDMARKS_VERSION,
        LandmarkSettings,
        extract_landmarks,
        read_metadata,
    )

    settings = LandmarkSettings()
    out = work / clip / "landmarks.parquet"
    if out.is_file():
        meta = read_metadata(out)
        fresh = meta.get("landmarks_version") == LANDMARKS_VERSION
        if fresh and meta.get("settings_hash") == settings.hash:
            return None
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = extract_landmarks(CLIPS / f"{clip}.mp4", out, settings=settings)
    print(f"  {clip}: {summary.speed:.2f}x real time, {summary.role_method}", flush=True)
    return summary.duration_s, summary.wall_s


def extract(clips: list[str], work: Path, jobs: int) -> None:
    """Landmarks of ``clips`` into ``work/<clip>/``, where missing or stale, ``jobs`` at a time
    (each extraction is two processes already: speed is measured by benchmarks/landmarks.py)."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs) as pool:
        done = [r for r in pool.map(_extract_one, clips, [work] * len(clips)) if r]
    if done:
        video_s, wall_s = map(sum, zip(*done, strict=True))
        print(f"extracted {video_s:.0f} s of video, {wall_s:.0f} s of wall time summed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--processed", type=Path, help="read DIR/<clip>/landmarks.parquet")
    source.add_argument("--work", type=Path, help="extract into DIR/<clip>/ first")
    parser.add_argument("--clips", default="*", help="glob over clip names (training dyads only)")
    parser.add_argument("--jobs", type=int, default=1, help="extractions at a time")
    parser.add_argument("--no-features", action="store_true", help="skip feature coverage")
    parser.add_argument("--dump", type=Path, help="write the judged items to this CSV")
    args = parser.parse_args()
    clips = sorted(
        p.stem
        for p in (REFERENCE / "c1").glob("*.csv")
        if p.stem.startswith(TRAINING_DYADS) and fnmatch.fnmatch(p.stem, args.clips)
    )
    if not clips:
        raise SystemExit(f"no reference clip of {TRAINING_DYADS} matches {args.clips!r}")
    folder = args.processed or args.work
    started = time.perf_counter()
    if args.work:
        extract(clips, args.work, args.jobs)
    items = judge(
        pd.concat([matched(reference(c), folder / c / "landmarks.parquet") for c in clips])
    )
    if args.dump:
        items.to_csv(args.dump, index=False)
    from cuevision.landmarks import read_metadata

    meta = read_metadata(folder / clips[0] / "landmarks.parquet")
    print(f"{len(clips)} clips from {folder} (landmarks version {meta.get('landmarks_version')})")
    print(agreement(items))
    print(f"matching: nearest analysed frame within {TOLERANCE_S} s; role radius {RADIUS}\n")
    header = ("group", "recall, both see", "recall, both full", "with mesh, both see",
              "false faces, both none",
              "role accuracy")  # fmt: skip
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    print("\n".join(table_rows(items)))
    if not args.no_features:
        paths = [folder / c / "landmarks.parquet" for c in clips]
        print("\n| feature | finite |\n|---|---|")
        print("\n".join(feature_coverage(paths)))
    print(f"\n({time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
