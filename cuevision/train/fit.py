"""Fit the TCN: masked multi-label BCE on random windows, seeded so one seed gives one model.

Weak labels abstain (NaN) where no labelling function is confident, and confirmed labels where a
type was not coded: those frames add nothing to the loss. Confirmed frames weigh as much as
simulated ones, weak frames less. Rare types get a positive-class weight (capped) so the network
does not learn "never". ``init`` starts from an existing version's weights (fine-tuning).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from cuevision.detect.inputs import Normaliser
from cuevision.detect.model import Architecture, CueTCN
from cuevision.train.data import Session


@dataclass(frozen=True)
class FitSettings:
    epochs: int = 12
    steps_per_epoch: int = 60
    batch: int = 16
    window_s: float = 20.0
    lr: float = 3e-3
    weight_decay: float = 1e-4
    weak_weight: float = 0.5  # loss weight of weakly labelled frames relative to simulated ones
    real_fraction: float = 0.25  # share of windows drawn from real clips, when there are any
    max_pos_weight: float = 8.0
    threads: int = 2


@dataclass(frozen=True)
class Encoded:
    """A session as arrays the network reads: inputs (C, T), targets and loss weights (K, T)."""

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray


def encode(session: Session, normaliser: Normaliser, weak_weight: float) -> Encoded:
    x = normaliser.encode(normaliser.select(session.series))
    labelled = np.isfinite(session.targets)
    y = np.where(labelled, session.targets, 0.0).T.astype(np.float32)
    scale = weak_weight if session.source == "weak" else 1.0
    return Encoded(x, y, (labelled * scale).T.astype(np.float32))


def _batch(
    pools: Sequence[Sequence[Encoded]],
    shares: Sequence[float],
    rng: np.random.Generator,
    size: int,
    window: int,
) -> tuple[torch.Tensor, ...]:
    """``size`` random windows; each from a pool drawn with probability ``shares``."""
    xs, ys, ws = [], [], []
    for p in rng.choice(len(pools), size=size, p=shares):
        pool = pools[int(p)]
        d = pool[int(rng.integers(0, len(pool)))]
        length = d.x.shape[1]
        start = int(rng.integers(0, max(length - window, 0) + 1))
        stop = start + window
        pad = max(stop - length, 0)

        def crop(a: np.ndarray, stop: int = stop, start: int = start, pad: int = pad) -> np.ndarray:
            return np.pad(a[:, start:stop], ((0, 0), (0, pad)))

        xs.append(crop(d.x))
        ys.append(crop(d.y))
        ws.append(crop(d.w))  # padded frames weigh 0
    return tuple(torch.from_numpy(np.stack(a)) for a in (xs, ys, ws))


def fit(
    train: Sequence[Session],
    val: Sequence[Session],
    *,
    normaliser: Normaliser,
    arch: Architecture,
    settings: FitSettings,
    seed: int,
    init: Mapping[str, torch.Tensor] | None = None,
    log: Callable[[dict[str, float]], None] = lambda row: None,
) -> CueTCN:
    """Train from ``seed`` (and ``init`` weights, if given); return the network of the epoch with
    the lowest validation loss (the last epoch where there is no validation session)."""
    torch.manual_seed(seed)
    torch.set_num_threads(settings.threads)  # reduction order depends on the thread count
    torch.use_deterministic_algorithms(True)  # an op without a deterministic kernel fails loudly
    rng = np.random.default_rng(seed)
    fps = train[0].series.fps
    window = int(round(settings.window_s * fps))
    data = [encode(s, normaliser, settings.weak_weight) for s in train]
    real = [d for d, s in zip(data, train, strict=True) if s.source != "simulated"]
    simulated = [d for d, s in zip(data, train, strict=True) if s.source == "simulated"]
    pools = [p for p in (simulated, real) if p]
    share = settings.real_fraction if real and simulated else 0.0
    shares = [1.0 - share, share] if len(pools) == 2 else [1.0]
    held = [encode(s, normaliser, settings.weak_weight) for s in val]
    positives = sum((d.y * (d.w > 0)).sum(axis=1) for d in data)
    labelled = sum((d.w > 0).sum(axis=1) for d in data)
    ratio = (labelled - positives) / np.maximum(positives, 1.0)
    pos_weight = torch.tensor(np.clip(ratio, 1.0, settings.max_pos_weight), dtype=torch.float32)
    network = CueTCN(arch)
    if init is not None:
        network.load_state_dict(dict(init))
    optimiser = torch.optim.AdamW(
        network.parameters(), lr=settings.lr, weight_decay=settings.weight_decay
    )
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, settings.lr, total_steps=settings.epochs * settings.steps_per_epoch
    )
    best: tuple[float, dict[str, torch.Tensor]] = (np.inf, {})
    for epoch in range(settings.epochs):
        network.train()
        total = 0.0
        for _ in range(settings.steps_per_epoch):
            x, y, w = _batch(pools, shares, rng, settings.batch, window)
            loss = _loss(network(x), y, w, pos_weight)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            total += loss.item()
        row = {"epoch": epoch + 1, "train_loss": total / settings.steps_per_epoch}
        if held:
            row["val_loss"] = evaluate_loss(network, held, pos_weight)
        log(row)
        if not held or row["val_loss"] < best[0]:
            best = (row.get("val_loss", np.inf), _copy(network))
    network.load_state_dict(best[1])
    network.eval()
    return network


def _copy(network: CueTCN) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in network.state_dict().items()}


def _loss(
    logits: torch.Tensor, y: torch.Tensor, w: torch.Tensor, pos_weight: torch.Tensor
) -> torch.Tensor:
    per_frame = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, y, pos_weight=pos_weight[None, :, None], reduction="none"
    )
    return (per_frame * w).sum() / w.sum().clamp(min=1.0)


def evaluate_loss(network: CueTCN, data: Sequence[Encoded], pos_weight: torch.Tensor) -> float:
    network.eval()
    with torch.no_grad():
        total = weight = 0.0
        for d in data:
            logits = network(torch.from_numpy(d.x)[None])
            y, w = torch.from_numpy(d.y)[None], torch.from_numpy(d.w)[None]
            total += float(_loss(logits, y, w, pos_weight)) * float(w.sum())
            weight += float(w.sum())
    return total / max(weight, 1.0)
