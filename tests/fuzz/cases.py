"""Seeded hostile files for every format LayerLab reads, and the reader each one is given to.

A case is made again from (format, number, seed) alone, so a failure found by the suite or the benchmark
is reproduced with ``python benchmarks/fuzz_files.py --format FORMAT --seed SEED --case NUMBER``.

    for case in make_cases("model", count=200, seed=0):
        read = case.make(folder)       # writes the hostile file(s) under folder, returns the reader call
        read()                         # what the runner bounds in time and memory (bounds.run_case)

The first cases of every format are the special files (a FIFO, a symlink to /dev/zero, a symlink loop, a
folder, a missing file, an empty file), once each; the rest take each of the format's mutation kinds in turn.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.mutations import SPECIAL_FILES, make_special

Reader = Callable[[], object]
# A kind: (rng, folder) -> (what was done, the reader call). Raising nothing, writing only under folder.
KindMaker = Callable[[random.Random, Path], tuple[str, Reader]]


@dataclass(frozen=True)
class Format:
    """One file format: its mutation kinds, the reader a path goes to, and what a clean refusal is."""

    name: str
    kinds: dict[str, KindMaker]
    read_path: Callable[[Path], Reader] | None  # the reader of one path: special files go through it
    file_name: str  # the name a special file gets (the extension the reader expects)
    clean_errors: Callable[[], tuple[type[BaseException], ...]]  # imported late: engine/app load only when used
    judge: Callable[[object], str | None] = lambda result: None  # a success's own check: None when fine
    memory_bound: int = 256 * 1024**2
    time_bound: float = 3.0
    must_refuse: frozenset[str] = field(default_factory=frozenset)  # kinds whose success is a failure


@dataclass(frozen=True)
class Case:
    format: Format
    number: int
    seed: int
    kind: str

    @property
    def label(self) -> str:
        return f"{self.format.name} #{self.number} (seed {self.seed}): {self.kind}"

    @property
    def must_refuse(self) -> bool:
        return self.kind in self.format.must_refuse

    def make(self, folder: Path) -> tuple[str, Reader]:
        """Write this case's files under ``folder``; (what was done, in words; the reader call)."""
        rng = random.Random(f"{self.format.name}:{self.seed}:{self.number}")
        if self.kind in SPECIAL_FILES:
            path = make_special(self.kind, folder / self.format.file_name)
            return self.kind, self.format.read_path(path)
        return self.format.kinds[self.kind](rng, folder)


def formats() -> dict[str, Format]:
    from tests.fuzz import app_cases, data_cases, model_cases, spec_cases

    found = {}
    for module in (model_cases, spec_cases, data_cases, app_cases):
        found.update({fmt.name: fmt for fmt in module.FORMATS})
    return found


def kind_of(fmt: Format, number: int) -> str:
    """Case ``number``'s kind: the special files first, once each, then the format's kinds in turn."""
    specials = SPECIAL_FILES if fmt.read_path else ()
    if number < len(specials):
        return specials[number]
    kinds = list(fmt.kinds)
    return kinds[(number - len(specials)) % len(kinds)]


def make_cases(name: str, count: int, seed: int = 0) -> list[Case]:
    """``count`` cases of format ``name``."""
    fmt = formats()[name]
    return [Case(fmt, number, seed, kind_of(fmt, number)) for number in range(count)]


def one_case(name: str, number: int, seed: int = 0) -> Case:
    fmt = formats()[name]
    return Case(fmt, number, seed, kind_of(fmt, number))


def path_kind(file_name: str, read_path: Callable[[Path], Reader], make_bytes) -> KindMaker:
    """A kind that writes ``make_bytes(rng) -> (what, bytes)`` as ``file_name`` and reads it."""

    def make(rng: random.Random, folder: Path) -> tuple[str, Reader]:
        what, data = make_bytes(rng)
        path = folder / file_name
        path.write_bytes(data)
        return what, read_path(path)

    return make
