"""The loop's state (secret, session registry, training requests) behind one interface: the data
folder's files and the store behave alike, and the CLI picks the store when the folder has one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from cuevision.annotate.links import FolderState, LoopState
from cuevision.errors import CuevisionError
from cuevision.store.blobs import BlobStore
from cuevision.store.db import make_engine, sessions, sqlite_url, upgrade
from cuevision.store.loop import StoreState, loop_state
from cuevision.store.models import Session, TrainingRequest


def _both(engine: Engine, tmp_path: Path) -> list[LoopState]:
    return [
        FolderState(tmp_path / "folder"),
        StoreState(sessions(engine), BlobStore(tmp_path / "blobs")),
    ]


def test_folder_and_store_keep_the_same_state(engine: Engine, tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    outdir.mkdir()
    for state in _both(engine, tmp_path):
        secret = state.secret()
        assert len(secret) >= 32 and state.secret() == secret  # made once, then kept
        assert state.lookup("abc123") is None and state.registered() == {}
        state.register("abc123", outdir)
        state.register("abc123", outdir)  # pushing again changes nothing
        assert state.lookup("abc123") == outdir.resolve()
        assert state.registered() == {"abc123": outdir.resolve()}
        for hostile in ("../credentials", "a/b", "x\x00", "é1", "a" * 33):
            with pytest.raises(CuevisionError, match="not alphanumeric"):
                state.register(hostile, outdir)
            assert state.lookup(hostile) is None
        state.record_training(7)
        state.record_training(None)
    folder = tmp_path / "folder"
    lines = (folder / "training-requests.jsonl").read_text().splitlines()
    assert [json.loads(line)["project"] for line in lines] == [{"id": 7}, {"id": None}]
    with sessions(engine)() as db:
        assert list(db.scalars(select(TrainingRequest.project_id))) == [7, None]


def test_a_service_session_is_registered_as_its_blob_folder(engine: Engine, tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    state = StoreState(sessions(engine), blobs)
    with sessions(engine)() as db:
        from cuevision.store.people import create_study

        study = create_study(db, "S")
        row = Session(
            id="f" * 32,
            study_id=study.id,
            filename="v.mp4",
            sha256="0" * 64,
            size_bytes=1,
            dyad_id="d",
            consent="private",
            video_info={},
            labelstudio_task_id=3,
        )
        db.add(row)
        db.commit()
    state.register(row.id, tmp_path / "elsewhere")  # its OUTDIR is its blob folder, always
    assert state.lookup(row.id) == blobs.session_dir(row.id)
    assert state.registered() == {row.id: blobs.session_dir(row.id)}
    assert state.read_session(blobs.session_dir(row.id)) == {}
    pushed = {"session_id": row.id, "project_id": 2, "task_id": 9, "prediction_id": 4}
    state.write_session(blobs.session_dir(row.id), pushed)
    assert state.read_session(blobs.session_dir(row.id)) == pushed
    assert not (blobs.session_dir(row.id) / "labelstudio.json").exists()
    with sessions(engine)() as db:
        again = db.get(Session, row.id)
        assert again is not None and again.labelstudio_task_id == 9
    elsewhere = tmp_path / "elsewhere"  # an OUTDIR outside the blob folder keeps its file
    elsewhere.mkdir()
    state.write_session(elsewhere, pushed)
    assert json.loads((elsewhere / "labelstudio.json").read_text()) == pushed
    assert state.read_session(elsewhere) == pushed


def test_the_cli_uses_the_store_when_the_data_folder_has_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUEVISION_DATABASE_URL", raising=False)
    assert loop_state(tmp_path) == FolderState(tmp_path)
    engine = make_engine(sqlite_url(tmp_path))
    upgrade(engine)
    engine.dispose()
    chosen = loop_state(tmp_path)
    assert isinstance(chosen, StoreState)
    chosen.register("abc", tmp_path)
    assert not (tmp_path / "sessions").exists() and not (tmp_path / "secret").exists()
