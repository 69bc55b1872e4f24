"""Training as a job of the service: a study's confirmed sessions become a data set, and
``cuevision train``'s own code fine-tunes a model on it in the service's models folder.

A researcher's ``POST /v1/models/train`` and Label Studio's START_TRAINING enqueue the same row of
``training_requests``; a worker (the embedded :class:`TrainingRunner`, or a Celery task calling
:func:`run_training_job`) leases it like a stage run (:class:`cuevision.jobs.runner.Lease`), so a
request handler never trains.

The job writes its data set into ``DATA/training/job-N/``: a manifest (:mod:`cuevision.train.data`)
whose sessions are the study's sessions with confirmed events in the store, each with its dyad
(the session's ``dyad_id``) and its blob folder's ``features.parquet``, their confirmed events as
CSVs and the rejected candidates of their last pull as confirmed negatives. Every dyad is a
training dyad, and the evaluation the promotion gate compares on is leave-one-dyad-out, so the
study needs confirmed sessions of at least two dyads. The new version, ``NAME@BASE.jobN`` unless
the request names one, goes into ``DATA/models/``: a registry of the service's own that starts as a
copy of the shipped one (:func:`cuevision.detect.registry.seed_registry`), where promotion through
the gate (``cuevision models promote --models-dir DATA/models``, or the API) is a separate,
deliberate act.

A job whose data or request cannot work (no confirmed sessions, one dyad, an unknown base) fails at
once with the reason and its fix; anything else (a crash, the machine's memory) is retried like a
stage run, up to three attempts.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session as Db
from sqlalchemy.orm import sessionmaker

from cuevision.errors import CuevisionError
from cuevision.events import read_events, write_events
from cuevision.files import make_private_dir, write_text
from cuevision.jobs.runner import Lease, Runner, RunnerSettings
from cuevision.jobs.tasks import TaskContext
from cuevision.store.audit import record
from cuevision.store.blobs import BlobStore
from cuevision.store.models import EventRow, Session, StageState, TrainingRequest, utcnow
from cuevision.types import Event

if TYPE_CHECKING:
    from cuevision.scheme import Scheme

log = logging.getLogger(__name__)
MODELS, DATASETS = "models", "training"  # folders of the service's data dir
FEATURES, REJECTED = "features.parquet", "rejected.csv"
VERSION = r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,63}$"


class TrainingError(CuevisionError):
    """A training request that cannot work as it stands; the message names the fix."""


class TrainingOptions(BaseModel):
    """What a request may choose; the defaults are cue-tcn 0.3's recipe (its card), with every
    confirmed dyad for training and the leave-one-dyad-out evaluation the gate compares on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str | None = Field(
        default=None, pattern=VERSION, description="VERSION to write; default BASE.jobN"
    )
    epochs: int = Field(default=10, ge=1, le=200)
    steps_per_epoch: int = Field(default=20, ge=1, le=1000)
    sim_dyads: int = Field(
        default=60, ge=0, le=400, description="simulated dyads mixed in; 0: none, else >= 2"
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    coded_types: list[str] | None = Field(
        default=None,
        description="the types annotators were asked to code (default all): only for these "
        "is time outside every confirmed event a negative",
    )

    @field_validator("sim_dyads")
    @classmethod
    def _enough_sim(cls, value: int) -> int:
        if value == 1:
            raise ValueError("give 0 (no simulation) or at least 2 simulated dyads")
        return value

    @field_validator("coded_types")
    @classmethod
    def _known_types(cls, value: list[str] | None) -> list[str] | None:
        from cuevision.scheme import load_scheme

        if value is None:
            return None
        known = load_scheme().type_names
        unknown = sorted(set(value) - set(known))
        if unknown or not value:
            raise ValueError(
                f"unknown types {', '.join(unknown) or '(none given)'}; use some of "
                f"{', '.join(known)}, or leave coded_types out for all"
            )
        return value


def service_models(data_dir: Path) -> Path:
    """The service's registry, ``DATA/models``, seeded from the shipped one on first use."""
    from cuevision.detect.registry import seed_registry

    return seed_registry(Path(data_dir) / MODELS)


def confirmed_sessions(db: Db, blobs: BlobStore, study_id: int) -> list[Session]:
    """The study's sessions with confirmed events in the store and features in their folder."""
    confirmed = select(EventRow.session_id).where(EventRow.basis == "confirmed").distinct()
    rows = db.scalars(
        select(Session)
        .where(Session.study_id == study_id, Session.id.in_(confirmed))
        .order_by(Session.dyad_id, Session.id)
    ).all()
    return [s for s in rows if (blobs.session_dir(s.id) / FEATURES).is_file()]


def check_trainable(sessions: Sequence[Session], study_name: str) -> None:
    """Training is split by dyad: refuse, naming the fix, a study with fewer than two dyads."""
    dyads = sorted({s.dyad_id for s in sessions})
    if not dyads:
        raise TrainingError(
            f"study {study_name!r} has no processed session with confirmed events; annotate "
            "sessions in Label Studio and pull them (POST /v1/sessions/ID/labelstudio/pull) first"
        )
    if len(dyads) < 2:
        raise TrainingError(
            f"study {study_name!r} has confirmed sessions of one dyad only ({dyads[0]}, "
            f"{len(sessions)} sessions); training is split by dyad and evaluated on dyads it "
            "did not see, so confirm a session of another dyad first"
        )


def enqueue(
    db: Db,
    study_id: int,
    options: TrainingOptions,
    *,
    base: str | None = None,
    requested_by: int | None = None,
    project_id: int | None = None,
) -> TrainingRequest:
    """A pending training job (in the caller's transaction, audited with it)."""
    job = TrainingRequest(
        study_id=study_id,
        requested_by=requested_by,
        project_id=project_id,
        base=base,
        options=options.model_dump(mode="json"),
    )
    db.add(job)
    db.flush()
    record(
        db,
        requested_by,
        "model.train",
        study_id=study_id,
        detail={"job": job.id, "base": base, "labelstudio_project": project_id},
    )
    return job


def from_labelstudio(db: Db, project_id: int | None) -> list[TrainingRequest]:
    """START_TRAINING: a job for each study with sessions in the project (a project is per
    scheme, so several studies may share one; their data never mix). A study that has a pending
    job keeps that one. A project of no study is kept as a failed row saying so."""
    studies = (
        db.scalars(
            select(Session.study_id)
            .where(Session.labelstudio_project_id == project_id)
            .distinct()
            .order_by(Session.study_id)
        ).all()
        if project_id is not None
        else []
    )
    if not studies:
        job = TrainingRequest(
            project_id=project_id,
            options={},
            state=StageState.FAILED,
            error=f"Label Studio project {project_id} has no session of this service; push "
            "a study's sessions there first (POST /v1/sessions/ID/labelstudio/push), or ask with "
            "POST /v1/models/train",
        )
        db.add(job)
        return [job]
    jobs = []
    for study_id in studies:
        waiting = db.scalar(
            select(TrainingRequest).where(
                TrainingRequest.study_id == study_id,
                TrainingRequest.state == StageState.PENDING,
            )
        )
        jobs.append(waiting or enqueue(db, study_id, TrainingOptions(), project_id=project_id))
    return jobs


def write_dataset(
    db: Db, blobs: BlobStore, job: TrainingRequest, folder: Path, study_name: str
) -> Path:
    """The job's data set as a manifest with its label files in ``folder``; its path."""
    sessions = confirmed_sessions(db, blobs, job.study_id or 0)
    check_trainable(sessions, study_name)
    if folder.exists():  # a retried attempt: the store may have changed meanwhile
        shutil.rmtree(folder)
    make_private_dir(folder.parent)
    make_private_dir(folder)
    entries = []
    for s in sessions:
        rows = db.scalars(
            select(EventRow)
            .where(EventRow.session_id == s.id, EventRow.basis == "confirmed")
            .order_by(EventRow.seq)
        ).all()
        write_events(
            folder / "events" / f"{s.id}.csv",
            [Event(r.actor, r.type, r.onset_s, r.offset_s) for r in rows],  # type: ignore[arg-type]
        )
        outdir = blobs.session_dir(s.id)
        entry: dict[str, Any] = {
            "id": s.id,
            "dyad": s.dyad_id,
            "split": "train",
            "output": os.path.relpath(outdir, folder),
            "events": f"events/{s.id}.csv",
        }
        if (outdir / REJECTED).is_file():
            write_events(folder / "rejected" / f"{s.id}.csv", read_events(outdir / REJECTED))
            entry["rejected"] = f"rejected/{s.id}.csv"
        entries.append(entry)
    manifest = {
        "name": f"study {study_name}",
        "held_out_dyads": [],
        "coded_types": job.options.get("coded_types"),
        "coding": f"events confirmed by the annotators of study {study_name} in Label Studio",
        "sessions": entries,
    }
    path = folder / "manifest.yaml"
    write_text(path, yaml.safe_dump(manifest, sort_keys=False))
    return path


def train_job(
    db: Db,
    job: TrainingRequest,
    progress: Callable[[int, int], None],
    *,
    blobs: BlobStore,
    data_dir: Path,
    scheme: Scheme,
) -> None:
    """The work of one claimed job: data set, training, the new version recorded on the row.

    A :class:`CuevisionError` (the data, the base, the version) fails the job at once with its
    message: another attempt would meet the same. Anything else propagates, to be retried.
    """
    from cuevision.detect.registry import default_model, read_config, resolve, version_folder
    from cuevision.store.models import Study
    from cuevision.train.data import load_dataset
    from cuevision.train.fit import FitSettings
    from cuevision.train.run import TrainSettings, train_model

    study = db.get(Study, job.study_id) if job.study_id is not None else None
    try:
        if study is None:
            raise TrainingError("the job names no study; ask again with POST /v1/models/train")
        models_dir = service_models(data_dir)
        options = TrainingOptions.model_validate(job.options)
        base = resolve(job.base or default_model(models_dir), models_dir)
        spec = f"{base.name}@{options.version or f'{base.version}.job{job.id}'}"
        name, version = spec.split("@")
        folder = Path(data_dir) / DATASETS / f"job-{job.id}"
        snapshot = load_dataset(write_dataset(db, blobs, job, folder, study.name)).snapshot
        job.snapshot, job.base = snapshot, f"{base.name}@{base.version}"
        db.commit()
        progress(0, options.epochs)
        target = version_folder(name, version, models_dir)
        done = target.is_dir() and (read_config(target).get("data") or {}).get("snapshot")
        if done != snapshot:  # else an earlier attempt wrote it and stopped before recording
            settings = TrainSettings(
                name=name,
                version=version,
                seed=options.seed,
                sim_dyads=options.sim_dyads,
                data=folder / "manifest.yaml",
                base=f"{base.name}@{base.version}",
                cross_dyad=True,
                fit=FitSettings(
                    epochs=options.epochs,
                    steps_per_epoch=options.steps_per_epoch,
                    lr=1e-3,
                    real_fraction=0.75,
                    threads=1,
                ),
                models_dir=models_dir,
            )

            def logged(line: str) -> None:
                log.info("training job %s: %s", job.id, line)
                if line.startswith("epoch "):
                    progress(int(line.split()[1].rstrip(":")), options.epochs)

            train_model(settings, scheme, log=logged)
    except CuevisionError as error:
        db.rollback()
        job.state, job.error, job.lease_owner = StageState.FAILED, str(error), None
        job.finished_at = job.updated_at = utcnow()
        record(
            db,
            job.requested_by,
            "model.train_failed",
            study_id=job.study_id,
            detail={"job": job.id, "error": str(error)},
        )
        db.commit()
        log.warning("training job %s failed: %s", job.id, error)
        return
    db.refresh(job)  # what the heartbeat saved meanwhile
    job.state, job.error, job.lease_owner, job.model = StageState.DONE, None, None, spec
    job.progress_done = job.progress_total = options.epochs
    job.finished_at = job.updated_at = utcnow()
    record(
        db,
        job.requested_by,
        "model.trained",
        study_id=job.study_id,
        detail={"job": job.id, "model": spec, "snapshot": snapshot},
    )
    db.commit()


def run_training_job(
    db: sessionmaker[Any] | Engine,
    job_id: int,
    *,
    blobs: BlobStore,
    data_dir: Path,
    scheme: Scheme,
    settings: RunnerSettings | None = None,
) -> bool:
    """Claim training job ``job_id`` and run it under a lease (for a Celery task, or any worker):
    False if it is not due (done, failed, or held by a live worker). Its outcome is on its row."""
    factory = db if isinstance(db, sessionmaker) else sessionmaker(db, expire_on_commit=False)
    lease = Lease(factory, settings or RunnerSettings())
    if not lease.claim_id(TrainingRequest, job_id):
        return False
    return lease.run(TrainingRequest, job_id, _work(blobs, data_dir, scheme))


def _work(
    blobs: BlobStore, data_dir: Path, scheme: Scheme
) -> Callable[[Db, TrainingRequest, Callable[[int, int], None]], None]:
    def work(db: Db, job: TrainingRequest, progress: Callable[[int, int], None]) -> None:
        job.started_at = job.started_at or utcnow()
        train_job(db, job, progress, blobs=blobs, data_dir=data_dir, scheme=scheme)

    return work


class TrainingRunner(Runner):
    """The embedded runner's training thread: claims due training jobs, oldest first."""

    def __init__(
        self, engine: Engine, context: TaskContext, settings: RunnerSettings, data_dir: Path
    ) -> None:
        super().__init__(engine, context, settings)
        self.data_dir = data_dir

    def claim(self) -> int | None:
        with self.db() as db:
            waiting = db.scalars(
                select(TrainingRequest)
                .where(TrainingRequest.state.in_([StageState.PENDING, StageState.RUNNING]))
                .order_by(TrainingRequest.id)
                .limit(50)
            ).all()
            for job in waiting:
                if self.lease.claim(db, job):
                    return job.id
        return None

    def run_once(self) -> bool:
        job_id = self.claim()
        if job_id is None:
            return False
        work = _work(self.context.blobs, self.data_dir, self.context.scheme)
        self.lease.run(TrainingRequest, job_id, work)
        return True
