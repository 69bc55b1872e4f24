"""Two coders on one task, against a real Label Studio: each posts an annotation as their own
Label Studio user, and ``annotate pull --annotator EMAIL`` brings back that coder's events.

The hand-drawn session of conftest.py (25 fps proxy, 250 frames) and what each coder does::

    time (s)  0    1    2    3    4    5    6    7    8    9    10
    c0001          [====)                                         child_smiles: A keeps it
    c0002                  [====)                                 caregiver_smiles
    c0003                              [====)                     child_looks_away
    A adds                                              [===)     child_reaches
    B adds                   [=======)                            child_looks_at_caregiver

A keeps c0001 and deletes the other candidates; B deletes all three.
A posts first, B second, so B's is the latest annotation and a plain pull gives B's.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from cuevision.annotate.clock import ProxyClock
from cuevision.annotate.server import LabelStudioSettings, connection
from cuevision.annotate.tasks import annotation_result
from cuevision.annotate.users import ensure_annotators
from cuevision.api import ApiSettings
from cuevision.types import Event

pytestmark = pytest.mark.labelstudio
RunCli = Callable[..., subprocess.CompletedProcess[str]]
Args = tuple[str | Path | int, ...]
A, B = "coder-a@cuevision.local", "coder-b@cuevision.local"


def region(rid: str, label: str, start: int, end: int) -> dict[str, Any]:
    return {
        "id": rid,
        "from_name": "events",
        "to_name": "video",
        "type": "timelinelabels",
        "origin": "manual",
        "value": {"ranges": [{"start": start, "end": end}], "timelinelabels": [label]},
    }


def rows(path: Path) -> list[tuple[str, ...]]:
    keys = ("id", "type", "onset_s", "offset_s", "status", "annotator")
    with path.open() as handle:
        return [tuple(row[k] for k in keys) for row in csv.DictReader(handle)]


def rejected_ids(path: Path) -> list[tuple[str, str]]:
    return [(r[0], r[5]) for r in rows(path)]


def set_webhooks(admin: httpx.Client, project: int, active: bool) -> None:
    """Our API pulls the latest annotation on each webhook; off, so only our pulls write."""
    for hook in admin.get("/api/webhooks/", params={"project": project}).json():
        admin.patch(f"/api/webhooks/{hook['id']}/", json={"is_active": active}).raise_for_status()


def test_each_coder_pulled_by_email(
    api: ApiSettings,
    labelstudio: LabelStudioSettings,
    client: httpx.Client,
    run_cli: RunCli,
    cli_args: Args,
    outdir_template: Path,
    tmp_path: Path,
) -> None:
    session = tmp_path / "out"
    shutil.copytree(outdir_template, session)
    run_cli("annotate", "push", session, *cli_args)
    state = json.loads((session / "labelstudio.json").read_text())
    task, project = state["task_id"], state["project_id"]
    coders = ensure_annotators(labelstudio, [A, B])
    assert [c.email for c in coders] == [A, B] and len({c.token for c in coders}) == 2

    a_result = [region("c0001", "child_smiles", 26, 50), region("a1", "child_reaches", 211, 230)]
    b_added = Event("child", "child_looks_at_caregiver", 3.0, 4.6)
    b_result = annotation_result([b_added], ProxyClock(25.0, 250), "b")  # frames 76..115
    assert b_result[0]["value"]["ranges"] == [{"start": 76, "end": 115}]
    url = connection(labelstudio).url
    set_webhooks(client, project, False)
    try:
        for coder, result in zip(coders, (a_result, b_result), strict=True):
            with httpx.Client(
                base_url=url, headers={"Authorization": f"Token {coder.token}"}, timeout=60
            ) as person:
                posted = person.post(f"/api/tasks/{task}/annotations/", json={"result": result})
                assert posted.status_code == 201, posted.text
                assert posted.json()["completed_by"] == coder.user_id

        out = run_cli("annotate", "pull", session, "--annotator", A, *cli_args)
        assert f"({A})" in out.stdout
        assert rows(session / "confirmed.csv") == [
            ("c0001", "child_smiles", "1.0", "2.0", "accepted", A),
            ("a1", "child_reaches", "8.4", "9.2", "added", A),
        ]
        assert rejected_ids(session / "rejected.csv") == [("c0002", A), ("c0003", A)]

        run_cli("annotate", "pull", session, "--annotator", B, *cli_args)
        b_rows = [("b0001", "child_looks_at_caregiver", "3.0", "4.6", "added", B)]
        assert rows(session / "confirmed.csv") == b_rows
        assert rejected_ids(session / "rejected.csv") == [
            (c, B) for c in ("c0001", "c0002", "c0003")
        ]

        out = run_cli("annotate", "pull", session, *cli_args)
        assert f"({B})" in out.stdout and "unchanged" in out.stdout
        assert rows(session / "confirmed.csv") == b_rows

        before = (session / "confirmed.csv").read_bytes()
        wrong = run_cli(
            "annotate",
            "pull",
            session,
            "--annotator",
            "nobody@cuevision.local",
            *cli_args,
            check=False,
        )
        said = " ".join(wrong.stderr.split())
        assert wrong.returncode == 2 and "Traceback" not in said
        assert f"no annotation by nobody@cuevision.local (annotated by: {A}, {B})" in said
        assert (session / "confirmed.csv").read_bytes() == before
    finally:
        set_webhooks(client, project, True)
