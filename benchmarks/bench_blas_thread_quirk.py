"""Training speed on a background thread after the main thread has (or has not) set BLAS's thread count.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_blas_thread_quirk.py

With OpenBLAS 0.3.31, once the main thread has set a thread count (a batch through
``engine.parallel.engine_threads``), a count set later from another thread may be ignored, and training on
that thread runs at about half speed. ``engine.keep_blas_threads_on_this_thread()`` on the main thread (what
``layerlab`` does for its GUI thread) avoids it. Each case runs in a fresh process, in turns.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ("main thread never sets", "main thread set once", "main thread kept off BLAS")


def run_case(case: str) -> float:
    sys.path.insert(0, str(ROOT))
    import numpy as np

    import engine
    from engine import parallel

    spec = json.loads((ROOT / "resources" / "examples" / "seed-cnn.json").read_text(encoding="utf-8"))
    rng = np.random.default_rng(0)
    images = rng.random((50, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, 50)
    if case == CASES[2]:
        engine.keep_blas_threads_on_this_thread()
    if case != CASES[0]:
        with parallel.engine_threads():
            engine.build(spec, seed=0).forward(images)
    speed = {}

    def train():
        network = engine.build(spec, seed=0)
        optimizer = engine.optimizers.get("adam", network.parameters())
        head = network.output_head

        def step():
            scores = network.forward(images, training=True, pre_activation=head.fused)
            _, gradient = head.loss(scores, labels)
            network.backward(gradient)
            optimizer.step()
            optimizer.zero_grad()

        for _ in range(5):
            step()
        started = time.perf_counter()
        for _ in range(30):
            step()
        speed["samples/s"] = 30 * len(images) / (time.perf_counter() - started)

    thread = threading.Thread(target=train)
    thread.start()
    thread.join()
    return speed["samples/s"]


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        print(run_case(sys.argv[2]))
        return
    print("seed CNN, batch 50, 30 steps on a background thread (samples/s), two turns")
    for turn in (1, 2):
        for case in CASES:
            output = subprocess.run([sys.executable, __file__, "--case", case], capture_output=True, text=True,
                                    check=True, env=os.environ).stdout
            print(f"turn {turn}  {case:<28} {float(output):8,.0f}")


if __name__ == "__main__":
    main()
