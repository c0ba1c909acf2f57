"""Helpers for the PyTorch export tests: load an exported script as a module, run it as a user would.

A user runs the script where LayerLab is not installed. Here LayerLab is installed (editable), so ``run_script``
starts the script in an isolated interpreter (-I: no PYTHONPATH, no user site) with the ``engine``, ``app`` and
``resources`` packages made unimportable: a script that reached for them would fail.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

TOLERANCE = 1e-5  # the exported module's outputs equal the engine's within this (max abs)

# Runs the script as __main__ with LayerLab's packages blocked (None in sys.modules: any import of them fails).
_BLOCKED_RUN = ("import runpy, sys\n"
                "for name in ('engine', 'app', 'resources'):\n"
                "    sys.modules[name] = None\n"
                "script = sys.argv[1]\n"
                "sys.argv = sys.argv[1:]\n"
                "runpy.run_path(script, run_name='__main__')\n")


def load_script(path: Path):
    """The exported script as a module (its __main__ part not run)."""
    name = f"exported_{Path(path).stem}_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(path: Path, *arguments: str, timeout: float = 240.0) -> list[dict]:
    """Run the script (--json) as a user would, LayerLab's packages unimportable; its JSON lines."""
    command = [sys.executable, "-I", "-c", _BLOCKED_RUN, str(path), "--json", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=Path(path).parent)
    assert result.returncode == 0, f"the script failed:\n{result.stdout}\n{result.stderr}"
    return json_lines(result.stdout)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def script_imports(path: Path) -> set[str]:
    """The top-level modules the script imports (from its import statements)."""
    import ast

    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module.split(".")[0])
    return names


def exported_model(network, folder, name="model", training=None):
    """(script module, model with the exported weights loaded, in eval mode)."""
    from safetensors.torch import load_file

    from engine.export.pytorch_code import class_name_for, export_pytorch

    script, weights = export_pytorch(network, Path(folder) / f"{name}.py", training=training)
    module = load_script(script)
    model = getattr(module, class_name_for(network.name))()
    state = load_file(str(weights))
    assert set(state) == set(model.state_dict()), "the weights file names the module's state_dict entries"
    model.load_state_dict(state)
    model.eval()
    return module, model


def outputs_of(model, images, **options):
    import torch

    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)), **options).numpy()


def assert_same_outputs(network, model, images):
    """The design's outputs and its loss's scores (pre-activation) agree within TOLERANCE."""
    import engine

    expected = network.predict(images)
    np.testing.assert_allclose(outputs_of(model, images), expected, rtol=0, atol=TOLERANCE)
    head = network.output_head
    scores = engine.backend.to_host(network.forward(images, pre_activation=head.fused))
    np.testing.assert_allclose(outputs_of(model, images, return_logits=True), scores, rtol=0, atol=TOLERANCE)


def chain_spec(name, input_shape, layers, **task):
    """A chain design: an Input of ``input_shape``, then ``layers`` (ids layer-0, layer-1...); ``task``: the
    spec's "loss" and "target" keys, if any."""
    nodes = [{"id": "input", "type": "Input", "shape": input_shape}]
    nodes += [{"id": f"layer-{i}", **layer} for i, layer in enumerate(layers)]
    return {"format": "layerlab-network", "version": 1, "name": name, "nodes": nodes, **task}


def step_both(network, trainer, module, model, optimizer, step, images, labels) -> tuple[float, float]:
    """One training step of the engine's ``trainer`` and of the exported script (``module``'s learning rate, loss,
    target and clipping driving ``model`` and ``optimizer``) on the same batch: (engine loss, PyTorch loss). The
    target is the batch itself for an autoencoder, else ``labels``."""
    import torch

    head = network.output_head
    scores = network.forward(images, training=True, pre_activation=head.fused)
    loss, dscores = head.loss(scores, images if head.reconstructs else labels)
    network.backward(dscores, input_grad=False)
    trainer.optimizer.step()

    for group in optimizer.param_groups:
        group["lr"] = module.learning_rate(step)
    torch_images, torch_labels = torch.from_numpy(images), torch.from_numpy(labels)
    torch_scores = model(torch_images, return_logits=True)
    torch_loss = module.loss_function(torch_scores, module.targets_for(torch_images, torch_labels))
    optimizer.zero_grad()
    torch_loss.backward()
    module.clip_gradients(model)
    optimizer.step()
    return float(loss), float(torch_loss.detach())


def assert_same_weights(network, model) -> None:
    """The module's weights equal the engine network's (in the exported layout) within 2e-5."""
    from engine.export.pytorch_code import torch_weights

    expected = torch_weights(network)
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(value.detach().numpy(), expected[key], rtol=0, atol=2e-5, err_msg=key)
