"""Single-image inference latency: the one-image plan beside the layer-by-layer pass, step by step, or across checkouts.

    python benchmarks/bench_one_image.py                        # this checkout: plan, layer by layer, plan steps
    python benchmarks/bench_one_image.py --model mlp
    python benchmarks/bench_one_image.py --trees /tmp/before .  # checkouts, each in a process, taking turns

A reading is ``Network.forward`` of one MNIST-sized image in inference mode (what the Draw panel's reader does,
and ``bench_engine.py``'s latency without PyTorch beside it). On a shared host a figure moves by tens of percent
from one minute to the next, so the variants always take turns: windows of ``--calls`` readings, the first
``--settle`` of each not counted, ``--turns`` times round. ``--trees`` runs each checkout's engine in a process of
its own (its ``engine`` package imported from that folder) for A/B comparisons of commits.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from models import MODELS  # noqa: E402


def reading(tree: Path | None, model: str, layer_by_layer: bool = False):
    """(network, one reading as a callable) with the engine of ``tree`` (default: this checkout)."""
    sys.path.insert(0, str(tree or HERE.parent))
    import engine

    network = engine.build(MODELS[model][0](), seed=0)
    x = np.random.default_rng(0).random((1, *network.input_shape), dtype=np.float32)
    if layer_by_layer:  # keeping every node's output skips the plan
        return network, lambda: network.forward(x, return_all=True)[network.output_id]
    return network, lambda: network.forward(x)


def window(infer, calls: int, settle: int) -> list[float]:
    times = []
    for call in range(calls):
        start = time.perf_counter()
        infer()
        if call >= settle:
            times.append(time.perf_counter() - start)
    return times


def row(name: str, seconds: list[float]) -> str:
    us = np.array(seconds) * 1e6
    return f"| {name} | {np.percentile(us, 10):,.0f} | {np.median(us):,.0f} | {np.percentile(us, 90):,.0f} |"


def compare_in_process(model: str, turns: int, calls: int, settle: int) -> None:
    network, plan = reading(None, model)
    _, layered = reading(None, model, layer_by_layer=True)
    times = {"one-image plan": [], "layer by layer": []}
    for _ in range(turns):
        times["one-image plan"] += window(plan, calls, settle)
        times["layer by layer"] += window(layered, calls, settle)
    print(f"# {model}: one image, this checkout (us)\n\n| pass | p10 | median | p90 |\n|---|---:|---:|---:|")
    for name, seconds in times.items():
        print(row(name, seconds))
    if network.xp is not np:
        print("\n(The plan is NumPy's: on this backend both rows take the layer-by-layer path.)")
        return
    print_plan_steps(network, calls * turns)


def print_plan_steps(network, calls: int) -> None:
    """Each step of the plan, timed by ``OneImagePlan.run`` itself."""
    plan = network._one_image_plan()
    x = np.random.default_rng(0).random((1, *network.input_shape), dtype=np.float32)
    timings = {}
    for _ in range(calls):
        plan.run(x, timings)
    print("\n| plan step (named by the node whose output it gives) | kind | mean (us) |\n|---|---|---:|")
    for node_id, kind in plan.step_kinds().items():
        print(f"| {node_id} | {kind} | {timings[node_id] / calls * 1e6:,.1f} |")


def compare_trees(trees: list[Path], model: str, turns: int, calls: int, settle: int) -> None:
    servers = [subprocess.Popen([sys.executable, __file__, "--serve", str(tree), "--model", model],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for tree in trees]
    times = {tree: [] for tree in trees}
    try:
        for _ in range(turns):
            for tree, server in zip(trees, servers, strict=True):
                server.stdin.write(f"{calls} {settle}\n")
                server.stdin.flush()
                times[tree] += json.loads(server.stdout.readline())
    finally:
        for server in servers:
            server.stdin.close()
            server.wait()
    print(f"# {model}: one image, checkouts taking turns (us)\n")
    print("| checkout | p10 | median | p90 |\n|---|---:|---:|---:|")
    for tree, seconds in times.items():
        print(row(str(tree), seconds))


def serve(tree: Path, model: str) -> None:
    """Child of ``--trees``: a window of readings per request line "calls settle"; its times as a JSON line."""
    _, infer = reading(tree, model)
    window(infer, 200, 200)  # warm-up
    for line in sys.stdin:
        calls, settle = map(int, line.split())
        print(json.dumps(window(infer, calls, settle)), flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="seed-cnn", choices=list(MODELS))
    parser.add_argument("--trees", nargs="+", type=Path, help="checkouts to compare, each in a process of its own")
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--calls", type=int, default=130, help="readings per window")
    parser.add_argument("--settle", type=int, default=20, help="readings not counted at the start of each window")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.calls <= args.settle:
        parser.error("--calls must be more than --settle")
    if args.serve:
        serve(args.serve, args.model)
    elif args.trees:
        compare_trees(args.trees, args.model, args.turns, args.calls, args.settle)
    else:
        compare_in_process(args.model, args.turns, args.calls, args.settle)


if __name__ == "__main__":
    main()
