"""The cue/response network: a small non-causal temporal convolutional network (TCN).

Sessions are analysed offline, so each frame may look both ways in time. Dilated residual blocks
give a receptive field of ``1 + (kernel - 1) * (2**levels - 1)`` frames (61 frames, about 4 s at
15 Hz, with the defaults) while the weights stay in the tens of kilobytes. It is fully
convolutional: any sequence length works, and there is no padding to a fixed window.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class Architecture:
    """Everything needed to rebuild the network; stored in the model's ``config.json``."""

    n_inputs: int
    n_outputs: int
    channels: int = 32
    levels: int = 4
    kernel: int = 5
    dropout: float = 0.1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def receptive_field(self) -> int:
        return 1 + (self.kernel - 1) * (2**self.levels - 1)


class _Block(nn.Module):
    """Two dilated convolutions with a residual connection; length in == length out."""

    def __init__(self, channels: int, kernel: int, dilation: int, dropout: float) -> None:
        super().__init__()
        pad = dilation * (kernel - 1) // 2
        self.body = nn.Sequential(
            nn.Conv1d(channels, channels, kernel, padding=pad, dilation=dilation),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Conv1d(channels, channels, kernel, padding=pad, dilation=dilation),
            nn.GELU(),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class CueTCN(nn.Module):
    """(batch, n_inputs, T) inputs -> (batch, n_outputs, T) per-frame logits, one per event type."""

    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        if arch.kernel % 2 == 0:
            raise ValueError("the kernel size must be odd so that every frame stays centred")
        self.arch = arch
        self.inp = nn.Conv1d(arch.n_inputs, arch.channels, 1)
        self.blocks = nn.Sequential(
            *(
                _Block(arch.channels, arch.kernel, 2**level, arch.dropout)
                for level in range(arch.levels)
            )
        )
        self.out = nn.Conv1d(arch.channels, arch.n_outputs, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.blocks(self.inp(x)))


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
