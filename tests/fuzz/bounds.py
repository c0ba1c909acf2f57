"""Run one fuzz case within a time and a memory bound, and say how it ended.

- clean: the reader succeeded, or raised its format's documented error with a message a person can read
  (no Python exception name, no "Traceback");
- traceback: any other exception, or a documented one whose message shows a Python exception name;
- hang: still running at the time bound;
- memory: resident memory grew past the bound, or an allocation failed (MemoryError, caught or not);
- accepted: a file that must be refused (NaN weights) was read without complaint.

The time bound is SIGALRM in the main thread: the handler raises ``CaseTimeout`` (a BaseException, so a
reader's ``except Exception`` cannot swallow it) and first kills the processes the case started (Pillow's
Ghostscript, which would keep ``subprocess`` waiting). A FIFO opened by C code that retries EINTR itself
never returns to Python for the handler to run: a watchdog thread then opens the FIFOs of the case's folder
for writing and closes them, which ends the blocked open with an empty file. Memory is the process's peak
resident set (reset per case through /proc/self/clear_refs, so Pillow's and NumPy's C allocations count);
``address_space`` also caps RLIMIT_AS for the case, so a runaway allocation fails instead of swapping.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import signal
import stat
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from tests.fuzz.cases import Case

REPO = Path(__file__).resolve().parents[2]
STATUSES = ("clean", "traceback", "hang", "memory", "accepted", "crash")
# A Python exception's name in a message: TypeError, KeyError, UnicodeDecodeError, ModelFileError, BadZipFile...
PYTHON_NAME = re.compile(r"\b[A-Z][A-Za-z]*[a-z](?:Error|Exception)\b|\bTraceback\b|\bBadZipFile\b|\bBadGzipFile\b"
                         r"|\bStopIteration\b|\bTokenError\b|<class '")


class CaseTimeout(BaseException):
    """Raised in the main thread when a case runs past its time bound."""


@dataclass(frozen=True)
class Outcome:
    case: str
    status: str
    detail: str
    where: str = ""
    seconds: float = 0.0
    peak_bytes: int = 0

    def line(self) -> str:
        where = f" at {self.where}" if self.where else ""
        return f"{self.case} -> {self.status}{where}: {self.detail}"


def leaked_name(message: str) -> str | None:
    found = PYTHON_NAME.search(message)
    return found.group(0) if found else None


def run_case(case: Case, parent: Path | None = None, *, time_bound: float | None = None,
             memory_bound: int | None = None, address_space: int | None = None) -> Outcome:
    """Make ``case`` in a fresh folder under ``parent``, run its reader within the bounds, remove the folder."""
    fmt = case.format
    time_bound = time_bound or fmt.time_bound
    memory_bound = memory_bound or fmt.memory_bound
    folder = Path(tempfile.mkdtemp(prefix="case-", dir=parent))
    try:
        what, read = case.make(folder)
        label = f"{case.label} [{what}]"
        started = time.perf_counter()
        with _memory_meter() as meter, _address_space(address_space), _time_bound(time_bound, folder) as timer:
            result, error = None, None
            try:
                result = read()
            except CaseTimeout as exc:
                error = exc
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # noqa: BLE001 - classifying every ending is the point
                error = exc
            timer.disarm()
        seconds = time.perf_counter() - started
        return _classify(case, label, result, error, timer.fired, meter.peak(), memory_bound, seconds)
    finally:
        _remove(folder)


def _classify(case, label, result, error, timed_out, peak, memory_bound, seconds) -> Outcome:
    def outcome(status, detail, where=""):
        return Outcome(label, status, detail, where, seconds, peak)

    if timed_out:
        return outcome("hang", f"still running after {seconds:.1f} s", _where(error))
    if peak > memory_bound or _memory_error_in(error):
        return outcome("memory", f"peak {peak / 2**20:,.0f} MiB" + (f" ({_describe(error)})" if error else ""),
                       _where(error))
    if error is None:
        problem = case.format.judge(result)
        if problem:
            return outcome("traceback", problem)
        if case.must_refuse:
            return outcome("accepted", "read without complaint; it must be refused")
        return outcome("clean", "read")
    if isinstance(error, case.format.clean_errors()):
        name = leaked_name(str(error))
        if name:
            return outcome("traceback", f"message shows {name!r}: {str(error)[:300]}", _where(error))
        return outcome("clean", f"refused: {str(error)[:200]}")
    return outcome("traceback", _describe(error), _where(error))


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:300]}"


def _memory_error_in(error: BaseException | None) -> bool:
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, MemoryError):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _where(error: BaseException | None) -> str:
    """file:line of the innermost frame in LayerLab's own code (not this harness) where ``error`` was raised."""
    if error is None or error.__traceback__ is None:
        return ""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if frame.filename.startswith(str(REPO)) and "/tests/fuzz/" not in frame.filename]
    frame = (ours or frames)[-1]
    name = os.path.relpath(frame.filename, REPO) if frame.filename.startswith(str(REPO)) else frame.filename
    return f"{name}:{frame.lineno} ({frame.name})"


# ------------------------------------------------------------------------------------------------ time


class _Timer:
    def __init__(self, folder: Path):
        self.folder = folder
        self.fired = False
        self.done = threading.Event()

    def disarm(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.done.set()


@contextlib.contextmanager
def _time_bound(seconds: float, folder: Path):
    timer = _Timer(folder)

    def on_alarm(signum, frame):
        timer.fired = True
        _kill_children()
        raise CaseTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    watchdog = threading.Thread(target=_unblock_fifos, args=(timer, seconds + 1.0), daemon=True)
    watchdog.start()
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.5)  # repeats: one CaseTimeout might be caught and dropped
    try:
        yield timer
    finally:
        timer.disarm()
        signal.signal(signal.SIGALRM, previous)
        watchdog.join()
        if timer.fired:
            _kill_children()


def _unblock_fifos(timer: _Timer, after: float) -> None:
    """Past the bound, open every FIFO of the case for writing and close it: a blocked reader gets an empty file."""
    if timer.done.wait(after):
        return
    timer.fired = True
    while not timer.done.is_set():
        for path in timer.folder.rglob("*"):
            with contextlib.suppress(OSError):
                if stat.S_ISFIFO(path.lstat().st_mode):
                    os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        timer.done.wait(0.2)


def _children() -> list[int]:
    found = []
    for task in Path("/proc/self/task").glob("*"):
        with contextlib.suppress(OSError, ValueError):
            found += [int(pid) for pid in (task / "children").read_text().split()]
    return found


def _kill_children() -> None:
    """Kill the processes this process started (a case's Ghostscript); the runner starts none of its own."""
    for pid in _children():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)


# ---------------------------------------------------------------------------------------------- memory


class _RssMeter:
    """Peak resident memory of this process since the case started, above where it started."""

    def __init__(self):
        with open("/proc/self/clear_refs", "w") as stream:  # 5: reset the peak resident set (Linux)
            stream.write("5")
        self.start = _status_kib("VmRSS")

    def peak(self) -> int:
        return max(0, _status_kib("VmHWM") - self.start) * 1024


class _TracemallocMeter:
    """Where /proc/self/clear_refs is missing: Python's and NumPy's allocations only."""

    def __init__(self):
        import tracemalloc

        self.tracemalloc = tracemalloc
        tracemalloc.start()

    def peak(self) -> int:
        return self.tracemalloc.get_traced_memory()[1]

    def stop(self) -> None:
        self.tracemalloc.stop()


@contextlib.contextmanager
def _memory_meter():
    try:
        meter = _RssMeter()
    except OSError:
        meter = _TracemallocMeter()
    try:
        yield meter
    finally:
        peak = meter.peak()
        if isinstance(meter, _TracemallocMeter):
            meter.stop()
        meter.peak = lambda: peak


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as stream:
        for line in stream:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


@contextlib.contextmanager
def _address_space(extra: int | None):
    """RLIMIT_AS set to what the process uses now plus ``extra`` bytes, for the case only."""
    if not extra:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _status_kib("VmSize") * 1024 + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _remove(folder: Path) -> None:
    for path in folder.rglob("*"):  # a case may leave a read-only file or folder behind
        with contextlib.suppress(OSError):
            if not path.is_symlink():
                path.chmod(0o700)
    shutil.rmtree(folder, ignore_errors=True)
