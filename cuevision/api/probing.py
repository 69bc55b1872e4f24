"""The upload's probe, in a child process with a timeout: a hostile file that hangs or crashes the
demuxer takes the child with it, never the server.

``python -m cuevision.api.probing FILE`` prints the VideoInfo as JSON (exit 0) or the probe's
refusal as one line (exit 2).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from cuevision.errors import CuevisionError


class ProbeRefused(CuevisionError):
    """The upload is not a video the pipeline can read; the message says why."""


def probe_in_child(path: Path, timeout_s: float) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cuevision.api.probing", str(path)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        raise ProbeRefused(
            f"the file could not be read as a video within {timeout_s:g} s"
        ) from None
    if done.returncode == 0:
        info: dict[str, Any] = json.loads(done.stdout)
        return info
    reason = done.stdout.strip() or "the file could not be read as a video"
    raise ProbeRefused(reason.splitlines()[-1])


def main() -> None:
    from cuevision.video import probe

    try:
        info = probe(Path(sys.argv[1]))
    except CuevisionError as error:
        print(str(error).replace("\n", " "))
        raise SystemExit(2) from None
    except Exception as error:  # a demuxer error on a hostile file: still a refusal
        print(f"the file could not be read as a video ({type(error).__name__})")
        raise SystemExit(2) from None
    print(json.dumps(info.to_dict()))


if __name__ == "__main__":
    main()
