"""Voice activity with silero-vad's ONNX model, run by onnxruntime: no torch, no download.

The ``silero-vad`` wheel carries the model file (``silero_vad/data/silero_vad.onnx``); it is
found through the installed distribution's file list, without importing the package (whose
``__init__`` imports torch). The model reads 512-sample chunks at 16 kHz, each preceded by the
last 64 samples of the one before, and carries a recurrent state from chunk to chunk: the same
loop as silero-vad's own ``OnnxWrapper``.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np

from cuevision.audio.decode import Audio, AudioError

CHUNK = 512  # samples per model step at 16 kHz: 32 ms
CONTEXT = 64  # samples of the previous chunk the model sees before each chunk
VAD_RATE = 16_000


def model_path() -> Path:
    """The ONNX model inside the installed silero-vad wheel."""
    try:
        path = Path(
            str(importlib.metadata.distribution("silero-vad").locate_file("silero_vad/data"))
        )
    except importlib.metadata.PackageNotFoundError:
        raise AudioError(
            "silero-vad is not installed; `pip install silero-vad` (its wheel carries the model)"
        ) from None
    onnx = path / "silero_vad.onnx"
    if not onnx.is_file():
        raise AudioError(f"{onnx}: missing from the silero-vad wheel; reinstall silero-vad")
    return onnx


def voice_activity(audio: Audio) -> np.ndarray:
    """Speech probability per 32 ms chunk: value ``k`` covers ``t0_s + k * 0.032`` s onward."""
    import onnxruntime as ort

    if audio.rate != VAD_RATE:
        raise ValueError(f"silero-vad reads {VAD_RATE} Hz audio, got {audio.rate} Hz")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # a small recurrent model: threads cost more than they win
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        str(model_path()), sess_options=options, providers=["CPUExecutionProvider"]
    )
    n = -(-len(audio.samples) // CHUNK)
    padded = np.zeros(CONTEXT + n * CHUNK, np.float32)
    padded[CONTEXT : CONTEXT + len(audio.samples)] = audio.samples
    state = np.zeros((2, 1, 128), np.float32)
    sr = np.array(VAD_RATE, dtype=np.int64)
    probs = np.empty(n, np.float32)
    for k in range(n):
        x = padded[None, k * CHUNK : k * CHUNK + CONTEXT + CHUNK]
        out, state = session.run(None, {"input": x, "state": state, "sr": sr})
        probs[k] = float(out[0, 0])
    return probs
