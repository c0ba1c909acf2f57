"""LSTM, fast: the same math as ``engine.ops.recurrent.lstm_forward``/``lstm_backward`` (the reference, where to
read it), arranged for few, contiguous, in-place NumPy calls. tests/engine/test_recurrent.py checks it against
the reference (float64 and float32, the last state or every step's, and through the layer's gradients).

What differs from the reference, and why (LSTM MNIST rows: T=28, F=28, H=128, batch 128, float32, one BLAS
thread, forward + backward: 23.3 ms before these changes (the gate-major path alone), 18.1 ms with them;
benchmarks/RESULTS.md "Issue 24: LSTM speed, like for like"):

- Gate-major storage: gates (4, T, N, H), gate k of step t one contiguous (N, H) block. NumPy's ufuncs run ~2.5x
  slower on the column slices of an (N, 4H) row.
- One product per step, bias included: each gate's weights are one matrix [kernel; bias; recurrent kernel]
  ((4, F + 1 + H, H)), read against the step's row [x_t, 1, h_{t-1}] of one inputs buffer (the hidden states
  are its last H columns). No separate input projection, no per-step add of it, and in backward the gradients
  of kernel, bias and recurrent kernel come out of one product ([x, 1, h]ᵀ dA).
- One tanh for all four gates: σ(a) = 0.5 tanh(a / 2) + 0.5, the /2 folded into that weight copy (the i, f and
  o columns scaled by 0.5 once per pass). The forward order is i, f, o, c~, so the three sigmoid gates are one
  block: per step one product, ONE tanh over the four gates, 0.5 x + 0.5 on the (3, N, H) sigmoid block (two
  in-place calls), then the cell. Backward's gate gradients are in Keras's order i, f, c, o (the derivatives
  read the gates' values, σ' = σ - σ² of i, f, o in one call on the sigmoid block), so the weight gradients
  come out in Keras's layout.
- Backward's element-wise work stays step by step: whole-sequence calls before the loop were tried and were
  slower (a (T, N, H) array leaves the cache; ~3x slower a call per element than a step's hot (N, H) block).
  A layer that returns the last state hands backward the last step's gradient alone.
- Buffers: a ``Workspace`` (the layer keeps one) holds every array of a training pass, reused while the batch's
  shape stays, so a training step allocates nothing of size (4, T, N, H).
- Two cores: a big enough batch is cut in two halves run on two threads (``engine.parallel.run_pieces``; NumPy
  releases the GIL in its ufuncs and BLAS, BLAS single-threaded per call inside ``engine_threads``), each half a
  whole LSTM of its own; the weight gradients are summed. ``engine.ops.dispatch`` ("lstm batch") decides.
"""

from __future__ import annotations

import numpy as np

from engine.backend import array_module
from engine.ops.dispatch import choose
from engine.parallel import cpu_workers, run_pieces

FORWARD_ORDER = (0, 1, 3, 2)  # Keras's i, f, c, o -> i, f, o, c~: the sigmoid gates side by side
SIGMOID_GATES = 3


class Workspace:
    """Arrays kept from pass to pass, by name; a new shape or dtype replaces them all (one batch shape kept)."""

    def __init__(self):
        self._key = None
        self._arrays = {}
        self.halves = []  # a Workspace per half, when the batch is cut in two

    def get(self, name, shape, dtype, xp):
        key = (xp, dtype)
        if key != self._key:
            self._key, self._arrays = key, {}
        array = self._arrays.get(name)
        if array is None or array.shape != shape:
            array = self._arrays[name] = xp.empty(shape, dtype=dtype)
        return array

    def half(self, index):
        while len(self.halves) <= index:
            self.halves.append(Workspace())
        return self.halves[index]


def _by_gate(matrix, units, order, xp):
    """(rows, 4H) in Keras's layout -> (4, rows, H) gate-major in ``order`` (a new array)."""
    rows = matrix.shape[0]
    return matrix.reshape(rows, 4, units).transpose(1, 0, 2)[list(order)]


def _from_gates(stacked):
    """(4, rows, H) -> (rows, 4H), Keras's layout again."""
    gates, rows, units = stacked.shape
    return stacked.transpose(1, 0, 2).reshape(rows, gates * units)


def _halves(xp, batch):
    """The batch ranges run side by side: the whole batch, or two halves (``engine.ops.dispatch`` "lstm batch")."""
    if choose("lstm batch", xp, batch, cpu_workers()) == "halves":
        middle = batch // 2
        return [(0, middle), (middle, batch)]
    return [(0, batch)]


# -- forward ---------------------------------------------------------------------------------------------------

def lstm_forward(x, kernel, recurrent_kernel, bias, workspace=None):
    """hs (T, N, H) and what backward needs; ``workspace`` (a Workspace) keeps the buffers between passes."""
    xp = array_module(x)
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    dtype = x.dtype
    scale = xp.asarray([0.5, 0.5, 0.5, 1.0], dtype=dtype).reshape(4, 1, 1)
    # One matrix per gate, [kernel; bias; recurrent kernel] (F + 1 + H rows), read against each step's row
    # [x_t, 1, h_{t-1}] (the inputs buffer below): per step one product writes the gates' pre-activations, bias
    # included, and backward's weight gradients come out of one product too.
    stacked = xp.concatenate([kernel, bias.reshape(1, -1), recurrent_kernel], axis=0)
    weights4 = _by_gate(stacked, units, FORWARD_ORDER, xp)
    weights4 *= scale
    weights = (kernel, recurrent_kernel, weights4)
    ranges = _halves(xp, batch)
    if len(ranges) == 1:
        hs, saved = _forward_range(x, weights, workspace)
        return hs, [saved]
    results = [None] * len(ranges)
    # each half's buffers, chosen here: the threads below must not grow the workspace's list at the same time
    spaces = [workspace.half(index) if workspace is not None else None for index in range(len(ranges))]

    def run(index):
        lo, hi = ranges[index]
        results[index] = _forward_range(x[lo:hi], weights, spaces[index])

    run_pieces(run, list(range(len(ranges))))
    hs = _buffer(workspace, "hs", (steps, batch, units), dtype, xp)
    for (lo, hi), (half_hs, _) in zip(ranges, results, strict=True):
        hs[:, lo:hi] = half_hs
    return hs, [saved for _, saved in results]


def _buffer(workspace, name, shape, dtype, xp):
    return workspace.get(name, shape, dtype, xp) if workspace is not None else xp.empty(shape, dtype=dtype)


def _forward_range(x, weights, workspace):
    kernel, recurrent_kernel, weights4 = weights
    xp = array_module(x)
    batch, steps, features = x.shape
    units = recurrent_kernel.shape[0]
    dtype = x.dtype

    def buffer(name, shape):
        return _buffer(workspace, name, shape, dtype, xp)

    # Row t: [x_t, 1, h_{t-1}]; row T holds h_T (its x part unused). ``states`` is a view of the h columns.
    inputs = buffer("inputs", (steps + 1, batch, features + 1 + units))
    inputs[:steps, :, :features] = x.transpose(1, 0, 2)
    inputs[:, :, features] = 1
    states = inputs[:, :, features + 1:]
    states[0] = 0
    gates = buffer("gates", (4, steps, batch, units))  # i, f, o, c~ of every step
    cells = buffer("cells", (steps + 1, batch, units))
    cells[0] = 0
    tanh_cells = buffer("tanh_cells", (steps, batch, units))
    for t in range(steps):
        g = gates[:, t]
        if xp is np:
            xp.matmul(inputs[t], weights4, out=g)  # straight into the four gates' blocks of step t
        else:  # CuPy: a product into a strided view is not promised to land in place
            g[...] = xp.matmul(inputs[t], weights4)
        xp.tanh(g, out=g)  # tanh(a/2) for i, f, o (the weights hold the /2), tanh(a) for c~
        sigmoids = g[:SIGMOID_GATES]
        sigmoids *= 0.5
        sigmoids += 0.5
        i, f, o, candidate = g
        c = cells[t + 1]
        xp.multiply(f, cells[t], out=c)
        xp.multiply(i, candidate, out=tanh_cells[t])
        c += tanh_cells[t]
        xp.tanh(c, out=tanh_cells[t])
        xp.multiply(o, tanh_cells[t], out=states[t + 1])
    saved = (inputs, cells, gates, tanh_cells, kernel, recurrent_kernel, workspace)
    return states[1:], saved


# -- backward --------------------------------------------------------------------------------------------------

def lstm_backward(dhs, saved, need_input_grad=True):
    """dx (N, T, F) (None unless ``need_input_grad``) and the gradients of kernel, recurrent_kernel and bias.

    ``dhs``: the gradient of every step's hidden state (T, N, H), or of the last step's alone (N, H) (a layer
    that returns the last state: no (T, N, H) of zeros to add in)."""
    xp = array_module(dhs)
    ranges, start = [], 0
    for part in saved:
        half_batch = part[0].shape[1]  # the inputs buffer (T + 1, N, F + 1 + H)
        ranges.append((start, start + half_batch))
        start += half_batch
    results = [None] * len(saved)

    def run(index):
        lo, hi = ranges[index]
        part = dhs[..., lo:hi, :] if dhs.ndim == 3 else dhs[lo:hi]
        results[index] = _backward_range(part, saved[index], need_input_grad)

    run_pieces(run, list(range(len(saved))))
    grads = results[0][1]
    for _, more in results[1:]:
        for name, grad in more.items():
            grads[name] += grad
    dx = None
    if need_input_grad:
        dx = results[0][0] if len(results) == 1 else xp.concatenate([dx for dx, _ in results], axis=0)
    return dx, grads


def _backward_range(dhs, saved, need_input_grad):
    inputs, cells, gates, tanh_cells, kernel, recurrent_kernel, workspace = saved
    xp = array_module(dhs)
    steps, batch = gates.shape[1], gates.shape[2]
    features, units = kernel.shape[0], recurrent_kernel.shape[0]
    dtype = inputs.dtype

    def buffer(name, shape):
        return _buffer(workspace, name, shape, dtype, xp)

    d_gates = buffer("d_gates", (4, steps, batch, units))  # dL/d(a_i, a_f, a_c, a_o), Keras's order
    recurrent4_t = _by_gate(recurrent_kernel, units, (0, 1, 2, 3), xp).transpose(0, 2, 1).copy()
    dh = buffer("dh", (batch, units))
    dc = buffer("dc", (batch, units))
    dc[...] = 0
    work = buffer("work", (batch, units))
    derivative = buffer("sigmoid_derivative", (SIGMOID_GATES, batch, units))
    through_gates = buffer("through_gates", (4, batch, units))
    every_step = dhs.ndim == 3
    if every_step:
        dh[...] = 0
    else:
        dh[...] = dhs
    # Step by step, not as whole-sequence calls before the loop: a step's (N, H) blocks stay in the cache,
    # where an element-wise call runs ~3x faster than on (T, N, H) arrays (measured, float32, H=128, N=128).
    for t in reversed(range(steps)):
        if every_step:
            dh += dhs[t]
        sigmoids = gates[:SIGMOID_GATES, t]
        i, f, o, candidate = gates[:, t]
        di, df, dcandidate, do = dg = d_gates[:, t]
        tanh_c = tanh_cells[t]
        xp.multiply(sigmoids, sigmoids, out=derivative)  # σ' = σ - σ² of i, f and o in one block
        xp.subtract(sigmoids, derivative, out=derivative)
        xp.multiply(tanh_c, tanh_c, out=work)  # dc += dh ⊙ o ⊙ (1 - tanh(c_t)²)
        xp.subtract(1.0, work, out=work)
        work *= o
        work *= dh
        dc += work
        xp.multiply(dh, tanh_c, out=do)  # do = dh ⊙ tanh(c_t) ⊙ σ'(o)
        do *= derivative[2]
        xp.multiply(dc, candidate, out=di)  # di = dc ⊙ c~ ⊙ σ'(i)
        di *= derivative[0]
        xp.multiply(dc, cells[t], out=df)  # df = dc ⊙ c_{t-1} ⊙ σ'(f)
        df *= derivative[1]
        xp.multiply(candidate, candidate, out=work)  # dc~ = dc ⊙ i ⊙ (1 - c~²)
        xp.subtract(1.0, work, out=work)
        work *= i
        xp.multiply(dc, work, out=dcandidate)
        if t:
            dc *= f
            xp.matmul(dg, recurrent4_t, out=through_gates)  # dh_{t-1} = Σ_k dA_k R_kᵀ
            xp.sum(through_gates, axis=0, out=dh)
    flat = d_gates.reshape(4, steps * batch, units)
    # [x, 1, h_{t-1}]ᵀ dA of every step in one product: the kernel's, the bias's and the recurrent kernel's rows
    every = _from_gates(xp.matmul(inputs[:-1].reshape(steps * batch, -1).T, flat))
    grads = {"kernel": every[:features], "bias": every[features], "recurrent_kernel": every[features + 1:]}
    dx = None
    if need_input_grad:
        kernel4_t = _by_gate(kernel, units, (0, 1, 2, 3), xp).transpose(0, 2, 1)
        dx = xp.matmul(flat, kernel4_t).sum(axis=0)
        dx = dx.reshape(steps, batch, features).transpose(1, 0, 2)
    return dx, grads
