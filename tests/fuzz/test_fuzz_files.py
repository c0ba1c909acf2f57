"""Every format LayerLab reads, fed a few hundred seeded hostile files: each ends in success or a clean refusal.

Clean means the format's own error (ModelFileError, ProjectFileError, SpecError, DatasetError, the CLI's one
'layerlab ...:' line) with no Python exception name in its words, within the case's time bound (3 s; 10 s
for the CLI) and memory bound (256 MiB of resident memory; 1 GiB for the CLI, which loads MNIST). Each case
runs under a SIGALRM timer, so a reader that regresses into a hang fails this test instead of hanging the
suite (pytest's own timeout plugin is not installed). A failure lists every failing case; reproduce one with

    python benchmarks/fuzz_files.py --format model --seed 0 --case 17

The whole file (1,720 cases) took 22 s on this 2-core machine (the harness check included).
"""

from __future__ import annotations

import pytest

from tests.fuzz.bounds import run_case
from tests.fuzz.cases import make_cases

SEED = 0
# Cases per format: a few hundred, fewer where one case costs more (a CLI run trains a few steps).
CASES = {"model": 250, "spec": 250, "project": 200, "idx": 250, "csv": 250, "image": 250, "image folder": 100,
         "recovery": 120, "cli": 50}
# RLIMIT_AS headroom per case: a runaway allocation fails with MemoryError instead of taking the machine.
ADDRESS_SPACE = 2 * 1024**3


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_hostile_file_ends_cleanly(name, tmp_path):
    outcomes = [run_case(case, tmp_path, address_space=ADDRESS_SPACE) for case in make_cases(name, CASES[name], SEED)]
    failures = [outcome for outcome in outcomes if outcome.status != "clean"]
    assert not failures, (f"{len(failures)} of {len(outcomes)} {name} cases did not end cleanly:\n"
                          + "\n".join(outcome.line()[:500] for outcome in failures))


def test_the_bounds_catch_a_hang_and_a_runaway_allocation(tmp_path):
    """The harness itself: a FIFO read with plain open() hangs, an allocation past the bound is memory."""
    import os

    import numpy as np

    from tests.fuzz.cases import Case, Format

    def fifo_reader(rng, folder):
        os.mkfifo(folder / "pipe")
        return "plain open of a FIFO", lambda: open(folder / "pipe", "rb").read()

    def hog(rng, folder):
        return "400 MiB touched", lambda: np.ones(400 * 1024**2, dtype=np.uint8).sum()

    fmt = Format("harness", {"pipe": fifo_reader, "hog": hog}, None, "x", lambda: (), time_bound=1.0)
    hang = run_case(Case(fmt, 0, 0, "pipe"), tmp_path)
    memory = run_case(Case(fmt, 1, 0, "hog"), tmp_path, time_bound=30, address_space=ADDRESS_SPACE)
    assert (hang.status, memory.status) == ("hang", "memory"), (hang.line(), memory.line())
