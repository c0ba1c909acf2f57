"""Fuzz every file format LayerLab reads, thousands of cases, and print the figures issue 19 asks for.

    python benchmarks/fuzz_files.py                          # ~4,500 cases: a table per format
    python benchmarks/fuzz_files.py --format image --cases-per-format 100
    python benchmarks/fuzz_files.py --format model --seed 0 --case 17     # one case, with its traceback

The cases are tests/fuzz's (seeded, made from valid files built here). Each runs in its own forked process,
in its own process group, with RLIMIT_AS capped (--memory-cap above what the process holds at start) and
the case's own SIGALRM bound inside (tests/fuzz/bounds.py); the parent kills a child that outlives its bound
by 15 s, so neither a hang nor a runaway allocation can take the runner down. Columns:

    clean       success, or the format's own error in words (no Python exception name, no traceback)
    tracebacks  any other exception, or a CLI run whose stderr shows one
    hangs       still running at the time bound (3 s a case; 10 s for the CLI)
    memory      resident memory past 256 MiB (1 GiB for the CLI), or an allocation refused at the cap
    accepted    a file that must be refused (NaN weights) read without complaint
    crashes     the process died (a signal) without reporting
    harness     the harness could not make or judge the case (its own bug, or a tree older than it)
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import resource
import select
import signal
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one thread per forked case: the pool is the parallelism

from tests.fuzz.bounds import STATUSES, Outcome, run_case  # noqa: E402
from tests.fuzz.cases import formats, make_cases, one_case  # noqa: E402

DEFAULT_CASES = 540  # per format; with the CLI's 160, about 4,500 cases in all
DEFAULT_CLI_CASES = 160
KILL_GRACE_S = 15.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", action="append", choices=sorted(formats()), help="only this format (repeatable)")
    parser.add_argument("--cases-per-format", type=int, default=DEFAULT_CASES)
    parser.add_argument("--cli-cases", type=int, default=DEFAULT_CLI_CASES, help="cases for the CLI (slower each)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--case", type=int, help="run only this case number, in this process, and show how it ended")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--memory-cap", type=float, default=4.0, help="GiB of address space a case may add")
    parser.add_argument("--list", type=int, default=3, help="examples shown per failing kind")
    args = parser.parse_args(argv)
    names = args.format or sorted(formats())
    if args.case is not None:
        return show_one(names[0], args.case, args.seed)

    warm_up()
    cases = [case for name in names
             for case in make_cases(name, args.cli_cases if name == "cli" else args.cases_per_format, args.seed)]
    started = time.perf_counter()
    outcomes = run_all(cases, args.jobs, int(args.memory_cap * 1024**3))
    elapsed = time.perf_counter() - started
    print_table(outcomes, names)
    print_failures(outcomes, args.list)
    commit = os.popen(f"git -C {REPO} rev-parse --short HEAD 2>/dev/null").read().strip()
    print(f"\n{len(cases):,} cases in {elapsed:.0f} s with {args.jobs} processes; seed {args.seed}; tree {commit}")
    return 0


def warm_up() -> None:
    """Make the valid files and import the readers once, here, so every forked case starts with them."""
    from PIL import Image

    import app.cli  # noqa: F401
    import app.commands.image_input  # noqa: F401
    import app.document.autosave  # noqa: F401
    import engine  # noqa: F401
    from tests.fuzz import base_files, data_cases, model_cases

    Image.init()
    base_files.toy_checkpoint()
    base_files.mnist_model()
    for fmt in base_files.IMAGE_FORMATS:
        base_files.image_bytes(fmt)
    model_cases._bomb()
    data_cases._png_bomb()


def run_all(cases, jobs: int, memory_cap: int) -> list[tuple[object, Outcome]]:
    pending = list(reversed(cases))
    running: dict[int, tuple[object, int, float, int]] = {}  # read end -> (case, pid, deadline, started)
    done = []
    reported = 0
    while pending or running:
        while pending and len(running) < jobs:
            case = pending.pop()
            read_end, pid = fork_case(case, memory_cap)
            running[read_end] = (case, pid, time.monotonic() + case.format.time_bound + KILL_GRACE_S, time.monotonic())
        ready, _, _ = select.select(list(running), [], [], 0.2)
        for read_end in ready:
            case, pid, _, began = running.pop(read_end)
            done.append((case, collect(case, read_end, pid, began)))
        now = time.monotonic()
        for read_end, (case, pid, deadline, began) in list(running.items()):
            if now > deadline:  # the in-case alarm did not end it: a hang that ignores SIGALRM
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
                running.pop(read_end)
                os.waitpid(pid, 0)
                os.close(read_end)
                done.append((case, Outcome(case.label, "hang", f"killed after {now - began:.0f} s (ignored SIGALRM)")))
        if len(done) >= reported + 500:
            reported = len(done)
            print(f"... {len(done):,} of {len(cases):,}", file=sys.stderr, flush=True)
    return done


def fork_case(case, memory_cap: int) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own process group (a Ghostscript it starts dies with it), capped, one case
        code = 0
        try:
            os.close(read_end)
            os.setpgid(0, 0)
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            limit = _vm_size() + memory_cap
            limit = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
            outcome = run_case(case)
            payload = json.dumps(outcome.__dict__).encode("utf-8")
            os.write(write_end, payload)
        except BaseException as exc:  # noqa: BLE001 - the child must never fall back into the parent's loop
            # The harness itself failed (making or judging the case): reported apart, never as LayerLab's fault.
            detail = f"the harness failed: {type(exc).__name__}: {exc}"[:400]
            with contextlib.suppress(OSError):
                os.write(write_end, json.dumps(Outcome(case.label, "harness", detail).__dict__).encode("utf-8"))
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    return read_end, pid


def collect(case, read_end: int, pid: int, began: float) -> Outcome:
    chunks = []
    while chunk := os.read(read_end, 1 << 16):
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)  # whatever the case left running (a Ghostscript after a hang)
    if chunks:
        return Outcome(**json.loads(b"".join(chunks)))
    how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}"
    return Outcome(case.label, "crash", f"the process ended ({how}) after {time.monotonic() - began:.1f} s")


def print_table(outcomes, names) -> None:
    counts = {name: collections.Counter() for name in names}
    for case, outcome in outcomes:
        counts[case.format.name][outcome.status] += 1
    statuses = (*STATUSES, "harness")
    columns = ("cases", *statuses)
    titles = {"traceback": "tracebacks", "hang": "hangs", "accepted": "accepted", "crash": "crashes"}
    print(f"{'format':<14}" + "".join(f"{titles.get(c, c):>11}" for c in columns))
    total = collections.Counter()
    for name in names:
        row = counts[name]
        total.update(row)
        print(f"{name:<14}{sum(row.values()):>11,}" + "".join(f"{row[s]:>11,}" for s in statuses))
    print(f"{'all':<14}{sum(total.values()):>11,}" + "".join(f"{total[s]:>11,}" for s in statuses))


def print_failures(outcomes, examples: int) -> None:
    """Failing cases grouped by format, kind, status and the place in LayerLab's code where they failed."""
    groups = collections.defaultdict(list)
    for case, outcome in outcomes:
        if outcome.status != "clean":
            groups[(case.format.name, case.kind, outcome.status, outcome.where)].append(outcome)
    if not groups:
        return
    print("\nNot clean (format / kind / status / where: count, then examples):")
    for (name, kind, status, where), found in sorted(groups.items(), key=lambda item: -len(item[1])):
        print(f"- {name} / {kind} / {status} / {where or '-'}: {len(found)}")
        for outcome in found[:examples]:
            print(f"    {outcome.case}: {outcome.detail[:240]}")


def show_one(name: str, number: int, seed: int) -> int:
    """One case in this process: how it ended, and for a traceback the traceback itself."""
    import tempfile

    case = one_case(name, number, seed)
    outcome = run_case(case)
    print(outcome.line())
    if outcome.status in ("traceback", "accepted"):
        with tempfile.TemporaryDirectory() as folder:
            _, read = case.make(Path(folder))
            signal.alarm(int(case.format.time_bound) + 5)
            try:
                print("result:", read())
            except Exception:  # noqa: BLE001 - shown to the developer reproducing the case
                traceback.print_exc()
            finally:
                signal.alarm(0)
    return 0 if outcome.status == "clean" else 1


def _vm_size() -> int:
    with open("/proc/self/status", encoding="ascii") as stream:
        for line in stream:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


if __name__ == "__main__":
    sys.exit(main())
