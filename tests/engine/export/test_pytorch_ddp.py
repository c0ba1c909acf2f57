"""Past one machine: the exported script trains data-parallel (DistributedDataParallel) under torchrun.

Two processes on the CPU (gloo) for a few steps, as `torchrun --standalone --nproc_per_node 2` starts them: both
ranks end with identical weights, the loss goes down, and the weights saved are a rank's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import engine
from engine.export.pytorch_code import export_pytorch
from tests.engine.export.pytorch_helpers import json_lines

torch = pytest.importorskip("torch")
pytest.importorskip("torch.distributed.run")  # what the torchrun command runs
safetensors_numpy = pytest.importorskip("safetensors.numpy")

STEPS = 5
TIMEOUT_S = 300


def test_two_cpu_processes_under_torchrun_keep_identical_weights_and_lower_the_loss(tmp_path):
    from resources import path as resource

    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch has no gloo backend")
    spec = json.loads(Path(resource("examples/softmax-regression.json")).read_text(encoding="utf-8"))
    training = {"dataset": "mnist", "epochs": 1, "batch_size": 100, "optimizer": {"name": "sgd", "lr": 0.5}}
    script, _ = export_pytorch(engine.build(spec, seed=0), tmp_path / "ddp.py", training=training)
    saved = tmp_path / "trained.safetensors"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script),
               "--steps", str(STEPS), "--save", str(saved), "--save-every-rank", "--log-every", "1", "--json", "--cpu"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=tmp_path)
    assert result.returncode == 0, f"torchrun failed:\n{result.stdout}\n{result.stderr}"

    lines = json_lines(result.stdout)
    losses = [line["loss"] for line in lines if "loss" in line]
    assert len(losses) == STEPS, "rank 0 alone reports, once a step"
    assert losses[-1] < losses[0]
    assert next(line for line in lines if "steps" in line)["steps"] == STEPS

    ranks = [safetensors_numpy.load_file(str(saved.with_suffix(f".rank{rank}.safetensors"))) for rank in (0, 1)]
    final = safetensors_numpy.load_file(str(saved))
    assert set(ranks[0]) == set(ranks[1]) == set(final) == {"logits.weight", "logits.bias"}
    for name in final:
        np.testing.assert_array_equal(ranks[0][name], ranks[1][name], err_msg=name)
        np.testing.assert_array_equal(final[name], ranks[0][name], err_msg=name)
    assert np.abs(final["logits.weight"]).max() > 0, "the weights started at zero and moved"
