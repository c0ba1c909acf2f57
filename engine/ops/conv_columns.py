"""2-D convolution as im2col + GEMM: the column path of ``engine.ops.conv``, and its backward.

The padded input is stored CHWN (see ``layout``), the windows are copied into cols (C*kh*kw, out_h*out_w*N),
and y = kernel2d @ cols, which is y in CHWN memory, returned as its logical-NCHW view. Backward: dkernel =
dy2d @ cols.T; dx by one GEMM into column space and a col2im scatter-add of kh*kw shifted blocks.

On the CPU a large convolution is cut into chunks of output positions (``chunks_of_outputs``), and the cores
take chunks in turn, each doing the whole job for its chunk: gather the columns, multiply (single-threaded
BLAS, see ``engine.parallel``), add the bias. A chunk's columns are a few MB and stay in that core's cache;
the whole cols matrix of the seed CNN's second convolution is 80 MB at batch 128. Backward gathers each
chunk's columns again from the input rather than keeping them all from forward; each chunk scatters its
column gradient through a patch of its own. On a GPU, and for small inputs, the whole matrix is one chunk
(``engine.ops.dispatch``'s "conv2d columns" rules), and col2im adds straight into dx.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass

import numpy as np

from engine.backend import array_module
from engine.ops import dispatch
from engine.ops.layout import CHWN_TO_NCHW, NCHW_TO_CHWN, strided_view
from engine.parallel import cpu_workers, engine_threads, for_ranges, matmul, run_pieces


@dataclass
class ConvCache:
    """What backward needs from forward."""

    x_shape: tuple
    x_padded: object  # the padded input, stored CHWN: backward gathers each chunk's columns from it
    cols: object  # when forward ran as one chunk: its columns (C*kh*kw, out_h*out_w*N), else None
    workspace: object
    kernel: object
    strides: tuple
    pads: tuple
    out_hw: tuple
    chunks: list  # [(first row, end row, first column, end column)] of output positions


def chunks_of_outputs(xp, out_hw: tuple, bytes_per_position: int) -> list[tuple]:
    """Output positions cut into equal chunks (first row, end row, first column, end column) of at most
    ~``dispatch.CHUNK_BYTES`` of columns: whole rows, or equal parts of every row when one row is more. One
    chunk on a GPU. A chunk's columns are contiguous in y's (F, H, W, N) memory.
    """
    out_h, out_w = out_hw
    if dispatch.choose("conv2d columns", xp, out_hw, bytes_per_position) == "one chunk":
        return [(0, out_h, 0, out_w)]
    positions = dispatch.positions_per_chunk(bytes_per_position)
    if positions >= out_w:
        rows = _even_split(out_h, positions // out_w)
        return [(start, min(out_h, start + rows), 0, out_w) for start in range(0, out_h, rows)]
    width = _even_split(out_w, positions)
    return [(row, row + 1, first, min(out_w, first + width))
            for row in range(out_h) for first in range(0, out_w, width)]


def _even_split(length: int, at_most: int) -> int:
    """The size of the fewest equal parts of ``length`` that are at most ``at_most`` each."""
    parts = -(-length // at_most)
    return -(-length // parts)


def _columns(chunk, out_w: int, n: int) -> slice:
    """Where a chunk's columns lie in y2d / dy2d (F, out_h*out_w*N)."""
    first_row, end_row, first, end = chunk
    return slice((first_row * out_w + first) * n, ((end_row - 1) * out_w + end) * n)


def _windows(x_padded, kernel_hw, strides, out_hw):
    """A strided (C, kh, kw, out_h, out_w, N) view: [c, i, j, h, w] is input pixel (c, h*sh+i, w*sw+j)."""
    memory = x_padded.transpose(NCHW_TO_CHWN)  # (C, Hp, Wp, N), contiguous
    c, _, _, n = memory.shape
    (kh, kw), (sh, sw), (out_h, out_w) = kernel_hw, strides, out_hw
    s_c, s_h, s_w, s_n = memory.strides
    return strided_view(memory, (c, kh, kw, out_h, out_w, n), (s_c, s_h, s_w, s_h * sh, s_w * sw, s_n))


class _Scratch:
    """Per-core scratch buffers for the chunks: a chunk borrows a slot, so two chunks never share one.

    Buffers come from the layer's workspace in training (reused from step to step); without one (inference)
    they are allocated once per call and slot, not once per chunk.
    """

    def __init__(self, xp, workspace, like, slots: int):
        self._xp, self._workspace, self._like = xp, workspace, like
        self._own = {}
        self._free = queue.SimpleQueue()
        for slot in range(slots):
            self._free.put(slot)

    def run(self, work, chunks):
        """``work(chunk, slot)`` for every chunk, shared between the cores."""
        def one(chunk):
            slot = self._free.get()
            try:
                work(chunk, slot)
            finally:
                self._free.put(slot)
        run_pieces(one, chunks)

    def get(self, name, slot, size):
        """A flat buffer of ``size`` elements for ``slot`` (each name is always asked for one size)."""
        if self._workspace is not None:
            return self._workspace.get(f"{name}.{slot}", (size,), self._like.dtype, self._like)
        if (name, slot) not in self._own:
            self._own[name, slot] = self._xp.empty(size, dtype=self._like.dtype)
        return self._own[name, slot]


def _gather(windows, chunk, buffer, share=False):
    """A chunk's columns as a (C*kh*kw, positions*N) matrix in ``buffer``; with ``share``, channels are
    copied on every core (for the one big chunk; chunks are already shared out)."""
    xp = array_module(windows)
    first_row, end_row, first, end = chunk
    c, kh, kw, _, _, n = windows.shape
    shape = (c, kh, kw, end_row - first_row, end - first, n)
    cols = buffer[:int(np.prod(shape))].reshape(shape)

    def copy_channels(start, stop):
        xp.copyto(cols[start:stop], windows[start:stop, :, :, first_row:end_row, first:end])

    if share:
        for_ranges(xp, c, cols[0].size, copy_channels)
    else:
        copy_channels(0, c)
    return cols.reshape(c * kh * kw, -1)


def _chunk_size(kernel, chunks, n):
    """Elements in the columns of the largest chunk."""
    _, c, kh, kw = kernel.shape
    return c * kh * kw * n * max((end_row - first_row) * (end - first) for first_row, end_row, first, end in chunks)


def columns_forward(x_padded, kernel, bias, strides, out_hw, chunks, workspace):
    """(y, cols): y a logical-NCHW array stored CHWN; cols the columns when forward ran as one chunk (kept for
    backward), else None. ``x_padded`` is the padded input, stored CHWN (``layout.pad_to_chwn``)."""
    xp = array_module(x_padded)
    n = x_padded.shape[0]
    f, _, kh, kw = kernel.shape
    out_h, out_w = out_hw
    windows = _windows(x_padded, (kh, kw), strides, out_hw)
    kernel2d = kernel.reshape(f, -1)
    chunk_size = _chunk_size(kernel, chunks, n)
    scratch = _Scratch(xp, workspace, x_padded, min(cpu_workers(), len(chunks)))
    cols = None
    if len(chunks) == 1:  # one GEMM, itself shared between the cores; its columns are kept for backward
        cols = _gather(windows, chunks[0], scratch.get("cols", 0, chunk_size), share=True)
        y2d = matmul(kernel2d, cols)
        if bias is not None:
            y2d += bias[:, None]
    else:
        y2d = xp.empty((f, out_h * out_w * n), dtype=x_padded.dtype)

        def forward_chunk(chunk, slot):
            y_chunk = y2d[:, _columns(chunk, out_w, n)]
            xp.matmul(kernel2d, _gather(windows, chunk, scratch.get("cols", slot, chunk_size)), out=y_chunk)
            if bias is not None:
                y_chunk += bias[:, None]  # while the chunk is still in cache

        with engine_threads():
            scratch.run(forward_chunk, chunks)
    return y2d.reshape(f, out_h, out_w, n).transpose(CHWN_TO_NCHW), cols


def backward_whole(dy2d, cache: ConvCache, dkernel2d, dx_memory):
    """Backward as one chunk: each GEMM and col2im's channels shared between the cores."""
    xp = array_module(dy2d)
    f, c, kh, kw = cache.kernel.shape
    matmul(dy2d, cache.cols.T, out=dkernel2d)
    if dx_memory is None:
        return
    kernel_t = cache.kernel.reshape(f, -1).T
    chunk = cache.chunks[0]
    if cache.workspace is None:
        dcols = matmul(kernel_t, dy2d)
    else:
        dcols = matmul(kernel_t, dy2d, out=cache.workspace.get("dcols", cache.cols.shape, dy2d.dtype, dy2d))
    dcols = dcols.reshape(c, kh, kw, chunk[1] - chunk[0], chunk[3] - chunk[2], -1)
    for_ranges(xp, c, dcols[0].size,
               lambda start, stop: _col2im_add(dx_memory[start:stop], dcols[start:stop], cache.strides))


def backward_in_chunks(dy2d, cache: ConvCache, dkernel2d, dx_memory):
    """Backward chunk by chunk, the cores taking chunks in turn: gather the chunk's columns again, add its
    share of dkernel (one sum per core), and, given a ``dx_memory``, scatter its column gradient into it
    through a patch of its own, since chunks on other cores add to overlapping input pixels."""
    xp = array_module(dy2d)
    f, c, kh, kw = cache.kernel.shape
    n = cache.x_shape[0]
    (sh, sw), out_w, chunks = cache.strides, cache.out_hw[1], cache.chunks
    windows = _windows(cache.x_padded, (kh, kw), cache.strides, cache.out_hw)
    kernel_t = cache.kernel.reshape(f, -1).T
    chunk_size = _chunk_size(cache.kernel, chunks, n)
    slots = min(cpu_workers(), len(chunks))
    scratch = _Scratch(xp, cache.workspace, dy2d, slots)
    dkernels = [None] * slots
    adding = threading.Lock()
    patch_size = c * n * max(((end_row - first_row - 1) * sh + kh) * ((end - first - 1) * sw + kw)
                             for first_row, end_row, first, end in chunks)

    def backward_chunk(chunk, slot):
        first_row, end_row, first, end = chunk
        cols = _gather(windows, chunk, scratch.get("cols", slot, chunk_size))
        dy_chunk = dy2d[:, _columns(chunk, out_w, n)]
        if dkernels[slot] is None:
            dkernels[slot] = xp.matmul(dy_chunk, cols.T)
        else:
            partial = scratch.get("dkernel", slot, dkernel2d.size).reshape(dkernel2d.shape)
            dkernels[slot] += xp.matmul(dy_chunk, cols.T, out=partial)
        if dx_memory is None:
            return
        dcols = scratch.get("dcols", slot, chunk_size)[:cols.size].reshape(cols.shape)
        dcols = xp.matmul(kernel_t, dy_chunk, out=dcols).reshape(c, kh, kw, end_row - first_row, end - first, n)
        top_row, left_column = first_row * sh, first * sw
        rows, columns = (end_row - first_row - 1) * sh + kh, (end - first - 1) * sw + kw
        patch = scratch.get("patch", slot, patch_size)[:c * rows * columns * n].reshape(c, rows, columns, n)
        patch.fill(0)
        _col2im_add(patch, dcols, cache.strides)
        with adding:
            dx_memory[:, top_row:top_row + rows, left_column:left_column + columns] += patch

    with engine_threads():
        scratch.run(backward_chunk, chunks)
    summed = [d for d in dkernels if d is not None]
    xp.copyto(dkernel2d, summed[0])
    for partial in summed[1:]:
        dkernel2d += partial


def _col2im_add(target, dcols, strides):
    """Add each kernel offset's block of ``dcols`` (C, kh, kw, rows, columns, N) into ``target`` (C, H, W, N)
    where it was gathered from, the chunk's first window at the target's top left."""
    _, kh, kw, rows, columns, _ = dcols.shape
    sh, sw = strides
    for i in range(kh):
        for j in range(kw):
            target[:, i:i + sh * (rows - 1) + 1:sh, j:j + sw * (columns - 1) + 1:sw, :] += dcols[:, i, j]
