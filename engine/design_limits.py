"""How much a design may ask of this computer: memory found from the spec alone, before anything is allocated.

Shape inference knows every node's parameter count and the size of its output for one example, so a
design that cannot fit (a padding of 20,000, a Dense layer of 2^31 units, a 1x2^20x2^20 input) is
refused there, naming the node, instead of failing at build with "Unable to allocate 23.9 TiB":

    conv1: its output for one example needs 204.9 GB; this computer has 24.9 GB

``training_memory_problem(report, batch_size)`` says the same for one training step at a batch size, so
a trainer can refuse before its first batch. Sizes are in decimal units (1 GB = 10^9 bytes).
"""

from __future__ import annotations

import os
import sys

from engine.errors import SpecError

BYTES_PER_VALUE = 4  # float32, the default dtype
# The largest whole number a size field (units, filters, a shape's dimension, a kernel) may hold: an axis
# beyond 2^31 - 1 cannot be indexed by the 32-bit indices that BLAS and GPU kernels use.
MAX_SIZE = 2**31 - 1
FALLBACK_MEMORY_BYTES = 16 * 10**9  # where the system will not say (a typical desktop's memory)
MEMORY_RULE = "memory"


def memory_limit_bytes() -> int:
    """The memory this process could use at most: the machine's physical memory, or when lower the
    container's memory limit (cgroup) or the address-space limit set on this process (a ``ulimit -v``)."""
    memory = min(_physical_memory_bytes(), _container_limit_bytes())
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY and 0 < soft < memory:
            memory = soft
    except (ImportError, OSError, ValueError):  # no resource module on Windows
        pass
    return memory


# cgroup v2, then v1: where Docker, Kubernetes and systemd put a container's memory limit ("max": none).
CGROUP_LIMIT_FILES = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def _container_limit_bytes() -> int:
    for name in CGROUP_LIMIT_FILES:
        try:
            with open(name, encoding="ascii") as limit_file:  # a kernel file of one short line
                text = limit_file.read(64).strip()
        except (OSError, UnicodeDecodeError):
            continue
        if text.isdigit() and 0 < int(text) < 2**60:  # v1 writes "no limit" as a number near 2^63
            return int(text)
    return 2**63


def _physical_memory_bytes() -> int:
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        if memory > 0:
            return memory
    except (AttributeError, OSError, ValueError):  # no sysconf on Windows
        pass
    if sys.platform == "win32":
        try:
            import ctypes

            class MemoryStatus(ctypes.Structure):
                _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong),
                            ("total_physical", ctypes.c_ulonglong), ("available_physical", ctypes.c_ulonglong),
                            ("total_page_file", ctypes.c_ulonglong), ("available_page_file", ctypes.c_ulonglong),
                            ("total_virtual", ctypes.c_ulonglong), ("available_virtual", ctypes.c_ulonglong),
                            ("available_extended_virtual", ctypes.c_ulonglong)]

            status = MemoryStatus()
            status.length = ctypes.sizeof(MemoryStatus)
            if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)) and status.total_physical > 0:
                return int(status.total_physical)
        except (AttributeError, OSError):
            pass
    return FALLBACK_MEMORY_BYTES


def format_bytes(count: int) -> str:
    """'204.9 GB', '512 B': decimal units, one decimal place from KB up."""
    if count < 1000:
        return f"{count} B"
    value = float(count)
    for unit in ("KB", "MB", "GB", "TB", "PB", "EB"):
        value /= 1000
        if value < 1000 or unit == "EB":
            return f"{value:,.1f} {unit}"
    raise AssertionError("unreachable")


def _this_computer(limit: int) -> str:
    return f"this computer has {format_bytes(limit)}"


def node_memory_error(info, limit: int, bytes_per_value: int = BYTES_PER_VALUE) -> SpecError | None:
    """A SpecError naming ``info``'s node where its parameters, or its output for one example, cannot fit."""
    output = info.output_size * bytes_per_value
    if output > limit:
        return SpecError(f"its output for one example ({_shape(info.output_shape)}) needs {format_bytes(output)}; "
                         f"{_this_computer(limit)}", info.id, MEMORY_RULE)
    params = info.params * bytes_per_value
    if params > limit:
        return SpecError(f"its {info.params:,} parameters need {format_bytes(params)}; {_this_computer(limit)}",
                         info.id, MEMORY_RULE)
    return None


def network_memory_error(nodes, limit: int, bytes_per_value: int = BYTES_PER_VALUE) -> SpecError | None:
    """A SpecError naming the node with the most parameters where the network's parameters and their
    gradients (what building it allocates) cannot fit together."""
    nodes = [info for info in nodes if info.params]
    total = sum(info.params for info in nodes)
    needed = 2 * total * bytes_per_value
    if needed <= limit:
        return None
    largest = max(nodes, key=lambda info: info.params)
    return SpecError(f"the network's {total:,} parameters and their gradients need {format_bytes(needed)}, "
                     f"{format_bytes(2 * largest.params * bytes_per_value)} of it here; {_this_computer(limit)}",
                     largest.id, MEMORY_RULE)


def training_memory_problem(report, batch_size: int, optimizer_slots: int = 2,
                            bytes_per_value: int = BYTES_PER_VALUE) -> str | None:
    """Words saying why one training step at ``batch_size`` cannot fit in this computer's memory, or None.

    ``report`` is ``engine.infer_shapes(spec)``; ``optimizer_slots`` is how many values the optimizer
    keeps per parameter (Adam 2, SGD with momentum 1, plain SGD 0). The estimate is a floor: the
    parameters, their gradients and the optimizer's state, plus every node's output for the whole batch
    kept for backward and a gradient of the same size. Where even that floor exceeds the memory, the step
    cannot run, and the message names the node with the largest activations:

        >>> training_memory_problem(engine.infer_shapes(spec), batch_size=4096)
        'one training step at batch size 4096 needs at least 61.2 GB: activations 60.1 GB, the most at conv1
        (12.8 GB); weights, gradients and optimizer state 1.1 GB; this computer has 24.9 GB. Use a smaller
        batch size or a smaller design.'
    """
    batch = max(1, int(batch_size))
    nodes = list(report.nodes.values())
    if not nodes:
        return None
    weights = sum(info.params for info in nodes) * bytes_per_value * (2 + max(0, int(optimizer_slots)))
    per_example = sum(info.output_size for info in nodes) * bytes_per_value
    activations = 2 * batch * per_example
    limit = memory_limit_bytes()
    if weights + activations <= limit:
        return None
    largest = max(nodes, key=lambda info: info.output_size)
    largest_bytes = 2 * batch * largest.output_size * bytes_per_value
    return (f"one training step at batch size {batch:,} needs at least {format_bytes(weights + activations)}: "
            f"activations {format_bytes(activations)}, the most at {largest.id} ({format_bytes(largest_bytes)}); "
            f"weights, gradients and optimizer state {format_bytes(weights)}; {_this_computer(limit)}. "
            f"Use a smaller batch size or a smaller design.")


def _shape(shape) -> str:
    return "x".join(str(d) for d in shape)
