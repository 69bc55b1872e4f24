"""Poses in a second process, the second core: ``python -m cuevision.landmarks.pose_worker``.

MediaPipe's Python calls hold the GIL, so a thread adds no core. A plain subprocess (rather than
``multiprocessing``) works from any caller: spawn would re-run a caller's script that lacks a
``__main__`` guard, and fork is unsafe once MediaPipe's threads run. The worker decodes the same
frames itself (cheaper than shipping images; for a time chunk, the same range) and writes only
small binary records to stdout:
``int64 frame index, int64 k`` then ``k x 33 x 4`` float32 points and ``k`` float32 scores.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from cuevision.landmarks.tracking import Restarts

if TYPE_CHECKING:
    from cuevision.landmarks.backend import PoseBackend
    from cuevision.video import Frame

HEADER = np.dtype([("index", "<i8"), ("k", "<i8")])
POINTS = 33 * 4


def _write(out: BinaryIO, index: int, points: np.ndarray, scores: np.ndarray) -> None:
    out.write(np.array([(index, len(scores))], HEADER).tobytes())
    out.write(np.asarray(points, "<f4").tobytes())
    out.write(np.asarray(scores, "<f4").tobytes())


class PoseStream:
    """Reads the worker's poses frame by frame, in decode order; ``close`` ends the worker."""

    def __init__(self, video: Path, target_fps: float | None, options: dict[str, object]) -> None:
        self._log = tempfile.TemporaryFile()  # MediaPipe logs a lot; a full pipe would block it
        args = json.dumps({"video": str(video), "target_fps": target_fps, **options})
        self._process = subprocess.Popen(
            [sys.executable, "-m", "cuevision.landmarks.pose_worker", args],
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        assert self._process.stdout is not None
        self._out = self._process.stdout

    def _read(self, n: int) -> bytes:
        data = self._out.read(n)
        if len(data) != n:
            self._process.wait()
            self._log.seek(0)
            tail = self._log.read().decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(
                f"pose worker stopped (exit {self._process.returncode}): {' | '.join(tail)}"
            )
        return data

    def get(self, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
        """(k, 33, 4) points and (k,) scores of the poses of ``frame``."""
        index = frame.index
        header = np.frombuffer(self._read(HEADER.itemsize), HEADER)[0]
        k = int(header["k"])
        if int(header["index"]) != index:
            raise RuntimeError(f"pose worker out of step: frame {header['index']} for {index}")
        points = np.frombuffer(self._read(4 * POINTS * k), "<f4").reshape(k, 33, 4)
        scores = np.frombuffer(self._read(4 * k), "<f4")
        return points, scores

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._out.close()
        self._log.close()


class InlinePoses:
    """The same poses in the caller's own process: one core, for a worker that is given one
    (``cuevision worker --one-core``); the results are those of :class:`PoseStream`."""

    def __init__(self, options: dict[str, Any]) -> None:
        self._backend = _backend(options)
        self._restarts = Restarts(options["restart_s"])

    def get(self, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
        return _poses(self._backend, self._restarts, frame)

    def close(self) -> None:
        self._backend.close()


def _backend(options: dict[str, Any]) -> PoseBackend:
    from cuevision.landmarks.backend import PoseBackend

    return PoseBackend(
        cache_dir=Path(options["cache_dir"]),
        num_poses=2,
        min_confidence=options["min_confidence"],
        min_visibility=options["min_visibility"],
    )


def _poses(backend: PoseBackend, restarts: Restarts, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """(k, 33, 4) points and (k,) scores, as float32: what the stream's records carry; the
    landmarker restarts on the grid of ``restarts``, as the faces' trackers do."""
    if restarts(frame.t_s):
        backend.restart()
    poses = backend.detect(frame.image, frame.t_s)
    points = np.stack([p.points for p in poses]) if poses else np.zeros((0, 33, 4))
    return np.asarray(points, "<f4"), np.array([p.score for p in poses], "<f4")


def main(argv: list[str]) -> None:
    from cuevision.video import decode

    options = json.loads(argv[0])
    backend, restarts = _backend(options), Restarts(options["restart_s"])
    out = sys.stdout.buffer
    frames = decode(
        Path(options["video"]),
        target_fps=options["target_fps"],
        start_s=options.get("start_s", 0.0),
        end_s=options.get("end_s"),
    )
    for frame in frames:
        _write(out, frame.index, *_poses(backend, restarts, frame))
        out.flush()
    backend.close()


if __name__ == "__main__":
    main(sys.argv[1:])
