"""Fine-tuning a base on columns newer than it: the widened network starts as the base."""

from __future__ import annotations

import numpy as np
import torch

from cuevision.detect.infer import Detector
from cuevision.detect.inputs import Normaliser
from cuevision.detect.model import Architecture, CueTCN
from cuevision.train.data import Session
from cuevision.train.run import widened
from cuevision.types import FeatureSeries


def _session(names: tuple[str, ...], values: np.ndarray, source: str) -> Session:
    series = FeatureSeries(np.arange(len(values)) / 15.0, 15.0, names, values.astype(np.float32))
    targets = np.zeros((len(values), 1), np.float32)
    return Session(source, source, series, targets, (), source)  # type: ignore[arg-type]


def test_widened_base_keeps_its_function_and_learns_new_columns_from_real_data() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    old = Normaliser(("a", "b"), (0.0, 1.0), (1.0, 2.0))
    net = CueTCN(Architecture(n_inputs=old.n_inputs, n_outputs=1, channels=8, levels=2))
    net.eval()
    base = Detector("base@1", net, old, 15.0, ("x",), {}, {})
    names = ("a", "b", "c")
    real = _session(names, rng.normal(50.0, 5.0, (60, 3)), "confirmed")
    sim = _session(names, rng.normal(0.0, 1.0, (60, 3)), "simulated")

    normaliser, arch, state = widened(base, ["a", "b", "c"], [sim, real])

    assert normaliser.names == names and arch.n_inputs == 9
    assert abs(normaliser.mean[2] - 50.0) < 2.0  # the new column's statistics: real data only
    wide = CueTCN(arch)
    wide.load_state_dict(state)
    wide.eval()
    values = real.series.values
    with torch.no_grad():
        before = net(torch.from_numpy(old.encode(values[:, :2]))[None])
        after = wide(torch.from_numpy(normaliser.encode(values))[None])
    assert torch.allclose(before, after, atol=1e-5)
    assert widened(base, ["a", "b"], [real])[0] is old
