"""The whole loop against a real Label Studio and our real API.

Hand-drawn session (25 fps proxy, 250 frames) and what the annotator does to it::

    time (s)  0    1    2    3    4    5    6    7    8    9    10
    c0001          [====)                                           child_smiles      accept
    c0002                 [====)---->                               caregiver_smiles  end +1 s
    c0003                          [====)                           child_looks_away  delete
    added                                           [===)           child_reaches     add

c0002 starts at 2.5 s, between frames: its first frame is 64 (2.52 s), the first that shows it.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from cuevision.annotate.server import LabelStudioSettings
from cuevision.api import ApiSettings

pytestmark = pytest.mark.labelstudio
RunCli = Callable[..., subprocess.CompletedProcess[str]]
Args = tuple[str | Path | int, ...]

ADDED = {
    "id": "added1",
    "from_name": "events",
    "to_name": "video",
    "type": "timelinelabels",
    "origin": "manual",
    "value": {"ranges": [{"start": 211, "end": 230}], "timelinelabels": ["child_reaches"]},
}
ANNOTATOR = "admin@cuevision.local"
EXPECTED_CONFIRMED = [
    # id, type, onset, offset, status, candidate_id, annotator, score
    ("c0001", "child_smiles", "1.0", "2.0", "accepted", "c0001", ANNOTATOR, "0.9"),
    ("c0002", "caregiver_smiles", "2.52", "4.52", "edited", "c0002", ANNOTATOR, "0.8"),
    ("added1", "child_reaches", "8.4", "9.2", "added", "", ANNOTATOR, ""),
]


def _said(done: subprocess.CompletedProcess[str]) -> str:
    """stderr with the terminal's line wrapping undone."""
    return " ".join(done.stderr.split())


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def _summary(path: Path) -> list[tuple[str, ...]]:
    keys = ("id", "type", "onset_s", "offset_s", "status", "candidate_id", "annotator", "score")
    return [tuple(row[k] for k in keys) for row in _rows(path)]


def _snapshot(outdir: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(outdir)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(outdir.rglob("*"))
        if p.is_file()
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _state(outdir: Path) -> dict[str, Any]:
    return dict(json.loads((outdir / "labelstudio.json").read_text()))


def _set_webhooks(client: httpx.Client, project: int, active: bool) -> None:
    """Turn our webhook off to play 'our API was down' (webhooks are fire-once)."""
    for hook in client.get("/api/webhooks/", params={"project": project}).json():
        client.patch(f"/api/webhooks/{hook['id']}/", json={"is_active": active}).raise_for_status()


@pytest.fixture(scope="module")
def session(
    api: ApiSettings,
    run_cli: RunCli,
    outdir_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    outdir = tmp_path_factory.mktemp("roundtrip") / "out"
    shutil.copytree(outdir_template, outdir)
    return outdir


def test_push_creates_project_task_and_prediction(
    session: Path,
    api: ApiSettings,
    run_cli: RunCli,
    client: httpx.Client,
    cli_args: Args,
) -> None:
    started = time.monotonic()
    out = run_cli("annotate", "push", session, *cli_args)
    print(f"push: {time.monotonic() - started:.1f} s")
    assert "task" in out.stdout and "created" in out.stdout
    state = _state(session)
    task = client.get(f"/api/tasks/{state['task_id']}").json()
    assert task["data"]["session"] == state["session_id"]
    assert task["data"]["fps"] == 25.0
    assert task["data"]["video"].startswith(f"{api.url}/video/")
    video = httpx.get(task["data"]["video"], headers={"Range": "bytes=0-99"})
    assert video.status_code == 206 and len(video.content) == 100
    [prediction] = task["predictions"]
    assert prediction["model_version"] == "cue-tcn@0.1-test"
    assert prediction["score"] == pytest.approx((0.9 + 0.8 + 0.3) / 3, abs=1e-4)
    assert [(r["id"], r["score"], r["value"]["ranges"]) for r in prediction["result"]] == [
        ("c0001", 0.9, [{"start": 26, "end": 50}]),
        ("c0002", 0.8, [{"start": 64, "end": 88}]),
        ("c0003", 0.3, [{"start": 126, "end": 150}]),
    ]
    project = client.get(f"/api/projects/{state['project_id']}").json()
    assert "<TimelineLabels" in project["label_config"]


def test_annotator_round_trip_then_pull(
    session: Path,
    api: ApiSettings,
    run_cli: RunCli,
    client: httpx.Client,
    cli_args: Args,
) -> None:
    """Accept c0001, move c0002's end by 1 s, delete c0003, add one; pull; pull again."""
    state = _state(session)
    _set_webhooks(client, state["project_id"], active=False)  # pull alone must be enough
    task = client.get(f"/api/tasks/{state['task_id']}").json()
    [prediction] = task["predictions"]
    result = copy.deepcopy(prediction["result"])
    for region in result:
        region["origin"] = "prediction"
    result[1]["value"]["ranges"][0]["end"] += 25
    del result[2]
    result.append(ADDED)
    made = client.post(
        f"/api/tasks/{state['task_id']}/annotations/",
        json={"result": result, "parent_prediction": prediction["id"], "lead_time": 12.5},
    )
    assert made.status_code == 201, made.text
    started = time.monotonic()
    out = run_cli("annotate", "pull", session, *cli_args)
    print(f"pull: {time.monotonic() - started:.1f} s")
    assert "1 accepted, 1 added, 1 edited, 1 rejected" in out.stdout
    assert _summary(session / "confirmed.csv") == EXPECTED_CONFIRMED
    assert [(r["id"], r["status"], r["candidate_id"]) for r in _rows(session / "rejected.csv")] == [
        ("c0003", "rejected", "c0003")
    ]
    assert {r["model_version"] for r in _rows(session / "confirmed.csv")} == {
        "cue-tcn@0.1-test",
        "",
    }
    metrics = json.loads((session / "confirmed" / "metrics.json").read_text())
    assert metrics["basis"] == "confirmed"
    assert metrics["provenance"]["confirmed_sha256"] == _sha256(session / "confirmed.csv")
    assert not (session / "metrics.json").exists()  # the pipeline's file is not the pull's
    before = _snapshot(session)
    again = run_cli("annotate", "pull", session, *cli_args)
    assert "unchanged" in again.stdout
    assert _snapshot(session) == before  # pulling twice changes nothing, not even a mtime


def test_push_again_duplicates_nothing(
    session: Path,
    api: ApiSettings,
    run_cli: RunCli,
    client: httpx.Client,
    tmp_path: Path,
    cli_args: Args,
) -> None:
    state = _state(session)
    run_cli("annotate", "push", session, *cli_args)
    assert _state(session) == state
    tasks = client.get("/api/tasks/", params={"project": state["project_id"]}).json()["tasks"]
    assert [t["id"] for t in tasks if t["data"]["session"] == state["session_id"]] == [
        state["task_id"]
    ]
    task = client.get(f"/api/tasks/{state['task_id']}").json()
    assert [p["id"] for p in task["predictions"]] == [state["prediction_id"]]
    assert len(task["annotations"]) == 1  # the annotator's work is untouched

    # A re-run with new scores replaces the prediction of that session's task.
    rerun = tmp_path / "rerun"
    shutil.copytree(session, rerun)
    (rerun / "labelstudio.json").unlink()
    run_cli("annotate", "push", rerun, *cli_args)
    text = (rerun / "candidates.csv").read_text().replace(",0.9,", ",0.95,")
    (rerun / "candidates.csv").write_text(text)
    first = _state(rerun)
    run_cli("annotate", "push", rerun, *cli_args)
    second = _state(rerun)
    assert second["task_id"] == first["task_id"]
    assert second["prediction_id"] != first["prediction_id"]
    predictions = client.get(f"/api/tasks/{second['task_id']}").json()["predictions"]
    assert [(p["id"], p["result"][0]["score"]) for p in predictions] == [
        (second["prediction_id"], 0.95)
    ]


def _wait_for(path: Path, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.is_file():
        assert time.monotonic() < deadline, f"no webhook wrote {path.name}"
        time.sleep(0.5)


def test_webhook_gives_the_same_result_as_pull(
    session: Path,
    api: ApiSettings,
    run_cli: RunCli,
    client: httpx.Client,
    cli_args: Args,
) -> None:
    state = _state(session)
    pulled = {n: (session / n).read_bytes() for n in ("confirmed.csv", "rejected.csv")}
    run_cli("annotate", "push", session, *cli_args)  # push re-enables our webhook
    for name in pulled:
        (session / name).unlink()
    task = client.get(f"/api/tasks/{state['task_id']}").json()
    [annotation] = task["annotations"]
    saved = client.patch(
        f"/api/annotations/{annotation['id']}/", json={"result": annotation["result"]}
    )
    saved.raise_for_status()  # Label Studio fires ANNOTATION_UPDATED to our API
    _wait_for(session / "rejected.csv")  # written after confirmed.csv, each atomically
    assert {n: (session / n).read_bytes() for n in pulled} == pulled


def test_labelstudio_down_then_pull_catches_up(
    session: Path,
    api: ApiSettings,
    run_cli: RunCli,
    client: httpx.Client,
    labelstudio: LabelStudioSettings,
    cli_args: Args,
) -> None:
    """Our API misses an edit (webhook off), then Label Studio stops: push fails with the fix,
    nothing is lost, and the pull after a restart brings the missed edit in."""
    state = _state(session)
    _set_webhooks(client, state["project_id"], active=False)
    [annotation] = client.get(f"/api/tasks/{state['task_id']}").json()["annotations"]
    result = [r for r in annotation["result"] if r["id"] != "c0001"]  # c0001 now rejected
    client.patch(
        f"/api/annotations/{annotation['id']}/", json={"result": result}
    ).raise_for_status()
    ls_args = (
        "--venv",
        labelstudio.venv,
        "--data-dir",
        labelstudio.data_dir,
        "--port",
        labelstudio.port,
    )
    run_cli("labelstudio", "down", *ls_args)
    try:
        before = _snapshot(session)
        push = run_cli("annotate", "push", session, *cli_args, check=False)
        assert push.returncode == 2
        assert "not reachable" in _said(push) and "labelstudio up" in _said(push)
        assert "Traceback" not in push.stderr
        pull = run_cli("annotate", "pull", session, *cli_args, check=False)
        assert pull.returncode == 2 and "not reachable" in _said(pull)
        assert _snapshot(session) == before
        status = run_cli("labelstudio", "status", "--json", *ls_args, check=False)
        assert '"running": false' in status.stdout
    finally:
        started = time.monotonic()
        run_cli("labelstudio", "up", *ls_args)
        print(f"Label Studio restart: {time.monotonic() - started:.1f} s")
    run_cli("annotate", "pull", session, *cli_args)
    rows = _summary(session / "confirmed.csv")
    assert [r[0] for r in rows] == ["c0002", "added1"]
    assert [(r["id"], r["status"]) for r in _rows(session / "rejected.csv")] == [
        ("c0001", "rejected"),
        ("c0003", "rejected"),
    ]


def test_bad_input_is_named_with_its_fix(
    fresh_outdir: Path,
    api: ApiSettings,
    run_cli: RunCli,
    client: httpx.Client,
    tmp_path: Path,
    cli_args: Args,
) -> None:
    no_candidates = tmp_path / "a"
    shutil.copytree(fresh_outdir, no_candidates)
    (no_candidates / "candidates.csv").unlink()
    no_video = tmp_path / "b"
    shutil.copytree(fresh_outdir, no_video)
    (no_video / "video.json").unlink()
    broken = tmp_path / "c"
    shutil.copytree(fresh_outdir, broken)
    (broken / "candidates.csv").write_text("actor,type,onset_s,offset_s\nchild,child_smiles,1,x\n")
    for outdir, words in [
        (no_candidates, "no candidates.csv"),
        (no_video, "no video.json"),
        (broken, "is not a number"),
        (tmp_path / "missing", "no such folder"),
    ]:
        done = run_cli("annotate", "push", outdir, *cli_args, check=False)
        assert done.returncode == 2 and words in _said(done), done.stderr
        assert not (outdir / "labelstudio.json").exists()
    never = run_cli("annotate", "pull", fresh_outdir, *cli_args, check=False)
    assert never.returncode == 2 and "never pushed" in _said(never)
    (broken / "labelstudio.json").write_bytes(b"\x89PNG\r\n")
    corrupt = run_cli("annotate", "pull", broken, *cli_args, check=False)
    assert corrupt.returncode == 2 and "not a cuevision session file" in _said(corrupt)
    run_cli("annotate", "push", fresh_outdir, *cli_args)
    task_id = _state(fresh_outdir)["task_id"]
    client.delete(f"/api/tasks/{task_id}/").raise_for_status()
    gone = run_cli("annotate", "pull", fresh_outdir, *cli_args, check=False)
    assert gone.returncode == 2 and "push it again" in _said(gone)


def test_push_and_pull_through_the_api(
    fresh_outdir: Path, api: ApiSettings, client: httpx.Client
) -> None:
    """The API's push and pull do what the CLI does, behind the admin header."""
    from cuevision.annotate import links

    admin = {links.ADMIN_HEADER: links.derived_key(links.load_secret(api.data_dir), "admin")}
    body = {"outdir": str(fresh_outdir)}
    assert httpx.post(f"{api.url}/annotate/push", json=body).status_code == 401
    pushed = httpx.post(f"{api.url}/annotate/push", json=body, headers=admin, timeout=120)
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["new_task"] is True and pushed.json()["candidates"] == 3
    task = client.get(f"/api/tasks/{pushed.json()['task_id']}").json()
    assert task["data"]["session"] == pushed.json()["session_id"]
    pulled = httpx.post(f"{api.url}/annotate/pull", json=body, headers=admin, timeout=120)
    assert pulled.status_code == 200 and pulled.json()["annotated"] is False
    missing = httpx.post(
        f"{api.url}/annotate/pull", json={"outdir": "/nowhere"}, headers=admin, timeout=60
    )
    assert missing.status_code == 400 and "no such folder" in missing.json()["detail"]


def test_label_studio_uses_our_ml_backend(
    fresh_outdir: Path, api: ApiSettings, run_cli: RunCli, client: httpx.Client, cli_args: Args
) -> None:
    """Push connects our /ml as the project's ML backend with its basic-auth credential; Label
    Studio retrieves predictions through it, and refuses to add it without the credential."""
    run_cli("annotate", "push", fresh_outdir, *cli_args)
    state = _state(fresh_outdir)
    [backend] = [
        b
        for b in client.get("/api/ml/", params={"project": state["project_id"]}).json()
        if b["url"] == f"{api.url}/ml"
    ]
    assert backend["auth_method"] == "BASIC_AUTH" and backend["readable_state"] == "Connected"
    assert backend["basic_auth_user"] == "labelstudio" and backend["basic_auth_pass_is_set"]
    retrieved = client.post(
        "/api/dm/actions",
        params={"id": "retrieve_tasks_predictions", "project": state["project_id"]},
        json={"selectedItems": {"all": False, "included": [state["task_id"]]}},
    )
    assert retrieved.status_code == 200, retrieved.text
    predictions = client.get(f"/api/tasks/{state['task_id']}").json()["predictions"]
    assert len(predictions) == 2  # the pushed one and the one asked for from the UI
    assert predictions[0]["result"] == predictions[1]["result"]
    run_cli("annotate", "push", fresh_outdir, *cli_args)  # once connected, it is kept as it is
    again = client.get("/api/ml/", params={"project": state["project_id"]}).json()
    assert [b["id"] for b in again if b["url"] == f"{api.url}/ml"] == [backend["id"]]
    anonymous = client.post(
        "/api/ml/", json={"url": f"{api.url}/ml", "project": state["project_id"], "title": "x"}
    )
    assert anonymous.status_code == 400 and "authentication" in anonymous.text
    client.delete(f"/api/ml/{backend['id']}").raise_for_status()


def test_push_the_processed_synthetic_session(
    processed_synthetic: Path,
    api: ApiSettings,
    run_cli: RunCli,
    client: httpx.Client,
    cli_args: Args,
    tmp_path: Path,
) -> None:
    """A real `cuevision process` OUTDIR goes in whole: every candidate, its version and score."""
    from cuevision.events import read_events

    outdir = tmp_path / "out"
    shutil.copytree(processed_synthetic, outdir)
    candidates = read_events(outdir / "candidates.csv")
    run_cli("annotate", "push", outdir, *cli_args)
    state = _state(outdir)
    task = client.get(f"/api/tasks/{state['task_id']}").json()
    proxy = json.loads((outdir / "proxy.json").read_text())
    assert task["data"]["fps"] == proxy["nominal_fps"]
    [prediction] = task["predictions"]
    assert [r["id"] for r in prediction["result"]] == [e.id for e in candidates]
    assert [r["score"] for r in prediction["result"]] == [e.score for e in candidates]
    assert {prediction["model_version"]} == {e.model_version for e in candidates}
    pulled = run_cli("annotate", "pull", outdir, *cli_args)
    assert "not annotated yet" in pulled.stdout


# In the child: die by SIGKILL where the pull would compute the confirmed metrics.
DIE_BEFORE_METRICS = """
import os, signal, sys
import cuevision.annotate.sync as sync
sync._recompute_metrics = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
from cuevision.cli import main
sys.argv = ["cuevision", *sys.argv[1:]]
main()
"""


def test_pull_killed_before_metrics_leaves_no_false_basis(
    api: ApiSettings,
    run_cli: RunCli,
    client: httpx.Client,
    cli_args: Args,
    outdir_template: Path,
    tmp_path: Path,
) -> None:
    """A pull killed after confirmed.csv but before the metrics leaves no metrics resting on
    other events; the next pull completes them, as an undisturbed pull would have."""
    outdir = tmp_path / "out"
    shutil.copytree(outdir_template, outdir)
    run_cli("annotate", "push", outdir, *cli_args)
    state = _state(outdir)
    _set_webhooks(client, state["project_id"], active=False)
    [prediction] = client.get(f"/api/tasks/{state['task_id']}").json()["predictions"]
    made = client.post(
        f"/api/tasks/{state['task_id']}/annotations/",
        json={"result": prediction["result"][:2], "parent_prediction": prediction["id"]},
    )
    assert made.status_code == 201, made.text
    run_cli("annotate", "pull", outdir, *cli_args)
    first = (outdir / "confirmed.csv").read_bytes()

    client.patch(
        f"/api/annotations/{made.json()['id']}/", json={"result": prediction["result"][:1]}
    ).raise_for_status()
    undisturbed = tmp_path / "undisturbed"
    shutil.copytree(outdir, undisturbed)
    killed = subprocess.run(
        [sys.executable, "-c", DIE_BEFORE_METRICS, "annotate", "pull", str(outdir),
         *map(str, cli_args)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    assert (outdir / "confirmed.csv").read_bytes() != first  # the new events landed
    assert not (outdir / "confirmed" / "metrics.json").exists()  # no metrics of the old ones

    run_cli("annotate", "pull", outdir, *cli_args)
    run_cli("annotate", "pull", undisturbed, *cli_args)
    metrics = json.loads((outdir / "confirmed" / "metrics.json").read_text())
    expected = json.loads((undisturbed / "confirmed" / "metrics.json").read_text())
    assert metrics["provenance"]["confirmed_sha256"] == _sha256(outdir / "confirmed.csv")
    for data in (metrics, expected):
        data["provenance"].pop("signals", None)  # names its own folder
    assert metrics == expected
