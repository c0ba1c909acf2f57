"""The engine benchmark still runs (a few steps, no figures asserted), and its ratio statistic is right."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from engine import backend

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_engine.py"


@pytest.fixture(scope="module")
def bench_engine():
    spec = importlib.util.spec_from_file_location("bench_engine", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_paired_ratio_compares_neighbouring_windows(bench_engine):
    # The host slows down 3x halfway through: both sides' windows slow together, the ratio stays 2.
    ours = [1.0, 1.0, 3.0, 3.0]
    theirs = [2.0, 2.0, 6.0, 6.0]
    assert bench_engine.paired_ratio(ours, theirs) == (2.0, 2.0, 2.0)
    median, first, third = bench_engine.paired_ratio([1.0] * 5, [1.0, 2.0, 3.0, 4.0, 5.0])
    assert (median, first, third) == (3.0, 2.0, 4.0)


def test_the_engine_benchmark_runs(bench_engine, capsys):
    bench_engine.main(["--models", "softmax", "--batch-sizes", "16", "--steps", "3", "--no-torch"])
    out = capsys.readouterr().out
    assert "| softmax | 16 |" in out and "engine latency" in out


def test_the_convolution_algorithm_benchmark_runs():
    path = BENCHMARK.with_name("bench_conv_algorithms.py")
    spec = importlib.util.spec_from_file_location("bench_conv_algorithms", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    columns, fourier, auto = module.time_both(2, 3, 4, 6, 3, "same", repeats=1)
    assert columns > 0 and fourier > 0 and auto is False  # two images: the columns' path


def test_the_one_image_benchmark_runs(capsys):
    path = BENCHMARK.with_name("bench_one_image.py")
    spec = importlib.util.spec_from_file_location("bench_one_image", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--model", "mlp", "--turns", "1", "--calls", "3", "--settle", "1"])
    module.main(["--model", "softmax", "--trees", str(BENCHMARK.parents[1]), "--turns", "1", "--calls", "3",
                 "--settle", "1"])
    out = capsys.readouterr().out
    assert "| one-image plan |" in out and "| layer by layer |" in out and f"| {BENCHMARK.parents[1]} |" in out
    if backend.current() is np:  # the plan's steps are timed on NumPy only (the plan is NumPy's)
        assert "| hidden | Dense |" in out
