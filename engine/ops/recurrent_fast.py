"""LSTM, fast: the same math as ``engine.ops.recurrent.lstm_forward``/``lstm_backward`` (the reference, where to
read it), arranged for few, contiguous, in-place NumPy calls. tests/engine/test_recurrent.py checks it against
the reference (float64 and float32, the last state or every step's, and through the layer's gradients).

What differs from the reference, and why (LSTM MNIST rows: T=28, F=28, H=128, batch 128, float32, one BLAS
thread, forward + backward: 23.3 ms before these changes (the gate-major path alone), 18.1 ms with them;
benchmarks/RESULTS.md "Issue 24: LSTM speed, like for like"):

- Feature-major, gate after gate: a step's gates are one contiguous (4H, N) block (rows i, f, o, c~, H each), the
  states (H, N) blocks. Per step ONE product (4H, F + 1 + H) @ (F + 1 + H, N) writes the four gates, where the
  earlier (N, H)-per-gate storage needed four ((N, F + 1 + H) @ (F + 1 + H, H), NumPy's stacked matmul), and
  backward's dh_{t-1} = R dA_t is one (H, 4H) @ (4H, N) product where it was four and a sum. Timed alone
  (OpenBLAS, one thread, float32): 133-140 us against 148-165 us forward, 122 us against 135 us backward; every
  block stays contiguous (NumPy's ufuncs run ~2.5x slower on the column slices of an (N, 4H) row, ~2x on
  strided row blocks). The cost: backward's whole-sequence products copy each chunk of steps side by side first.
- One product per step, bias included: the weights are one matrix [kernel; bias; recurrent kernel] per gate,
  read against the step's column block [x_t; 1; h_{t-1}] of one inputs buffer (the hidden states are its last
  H rows). No separate input projection, no per-step add of it, and in backward the gradients of kernel, bias
  and recurrent kernel come out of one product (Σ_t [x_t; 1; h_{t-1}] dA_tᵀ).
- One tanh for all four gates: σ(a) = 0.5 tanh(a / 2) + 0.5, the /2 folded into that weight copy (the i, f and
  o columns scaled by 0.5 once per pass). The forward order is i, f, o, c~, so the three sigmoid gates are one
  block: per step one product, ONE tanh over the four gates, 0.5 x + 0.5 on the (3H, N) sigmoid block (two
  in-place calls), then the cell. Backward's gate gradients are in Keras's order i, f, c, o (the derivatives
  read the gates' values, σ' = σ - σ² of i, f, o in one call on the sigmoid block), so the weight gradients
  come out in Keras's layout.
- Backward's element-wise work stays step by step: whole-sequence calls before the loop were tried and were
  slower (a whole-sequence array leaves the cache; ~3x slower a call per element than a step's hot block).
  A layer that returns the last state hands backward the last step's gradient alone.
- Buffers: an ``engine.ops.workspace.Workspace`` (the layer keeps one; each half of a cut batch a child of its
  own) holds every array of a training pass, reused while the batch's shape stays, so a training step allocates
  nothing of size (T, 4H, N).
- Two cores (NumPy releases the GIL in its ufuncs and BLAS, BLAS single-threaded per call inside
  ``engine_threads``; ``engine.ops.dispatch`` "lstm batch" decides): "overlap" keeps the batch whole and hands
  backward's whole-sequence products (weight and input gradients, ~half of backward's time) to the second core
  a chunk of steps at a time while the first runs the step loop on; "halves" cuts the batch in two halves,
  each a whole LSTM on a thread of its own, the weight gradients summed.
"""

from __future__ import annotations

import queue

from engine.backend import array_module
from engine.ops.dispatch import choose
from engine.ops.workspace import scratch_buffer
from engine.parallel import cpu_workers, run_pieces

FORWARD_ORDER = (0, 1, 3, 2)  # Keras's i, f, c, o -> i, f, o, c~: the sigmoid gates side by side
SIGMOID_GATES = 3


def _by_gate(matrix, units, order, xp):
    """(rows, 4H) in Keras's layout -> (4, rows, H) gate-major in ``order`` (a new array)."""
    rows = matrix.shape[0]
    return matrix.reshape(rows, 4, units).transpose(1, 0, 2)[list(order)]


def _halves(xp, batch):
    """The batch ranges run side by side: the whole batch, or two halves (``engine.ops.dispatch`` "lstm batch")."""
    if choose("lstm batch", xp, batch, cpu_workers()) == "halves":
        middle = batch // 2
        return [(0, middle), (middle, batch)]
    return [(0, batch)]


def _overlaps(xp, batch):
    """True when backward's whole-sequence products run on a second core beside the step loop."""
    return choose("lstm batch", xp, batch, cpu_workers()) == "overlap"


# -- forward ---------------------------------------------------------------------------------------------------

def lstm_forward(x, kernel, recurrent_kernel, bias, workspace=None):
    """hs (T, N, H) and what backward needs; ``workspace`` (an ``engine.ops.workspace.Workspace``) keeps the
    buffers between passes."""
    xp = array_module(x)
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    dtype = x.dtype
    scale = xp.asarray([0.5, 0.5, 0.5, 1.0], dtype=dtype).reshape(4, 1, 1)
    # One matrix, the four gates' [kernel; bias; recurrent kernel] (F + 1 + H columns) stacked gate after gate
    # (4H rows), read against each step's column block [x_t; 1; h_{t-1}] (the inputs buffer below): per step ONE
    # product writes the four gates' pre-activations, bias included, gate after gate.
    stacked = xp.concatenate([kernel, bias.reshape(1, -1), recurrent_kernel], axis=0)
    weights4 = _by_gate(stacked, units, FORWARD_ORDER, xp)
    weights4 *= scale
    rows = xp.ascontiguousarray(weights4.transpose(0, 2, 1).reshape(4 * units, stacked.shape[0]))
    weights = (kernel, recurrent_kernel, rows)
    ranges = _halves(xp, batch)
    if len(ranges) == 1:
        hs, saved = _forward_range(x, weights, workspace)
        return hs, [saved]
    results = [None] * len(ranges)
    # each half's buffers, chosen here: the threads below must not add the workspace's children at the same time
    spaces = [workspace.child(f"half {index}") if workspace is not None else None for index in range(len(ranges))]

    def run(index):
        lo, hi = ranges[index]
        results[index] = _forward_range(x[lo:hi], weights, spaces[index])

    run_pieces(run, list(range(len(ranges))))
    hs = scratch_buffer(workspace, "hs", (steps, batch, units), x)
    for (lo, hi), (half_hs, _) in zip(ranges, results, strict=True):
        hs[:, lo:hi] = half_hs
    return hs, [saved for _, saved in results]


def _forward_range(x, weights, workspace):
    kernel, recurrent_kernel, rows = weights
    xp = array_module(x)
    batch, steps, features = x.shape
    units = recurrent_kernel.shape[0]

    def buffer(name, shape):
        return scratch_buffer(workspace, name, shape, x)

    # Feature-major: step t's block of the inputs buffer is [x_t; 1; h_{t-1}] ((F + 1 + H) x N), block T holds
    # h_T (its x part unused); ``states`` is a view of the h rows, each step's (H, N) block contiguous.
    inputs = buffer("inputs", (steps + 1, features + 1 + units, batch))
    inputs[:steps, :features] = x.transpose(1, 2, 0)
    inputs[:, features] = 1
    states = inputs[:, features + 1:]
    states[0] = 0
    gates = buffer("gates", (steps, 4 * units, batch))  # i, f, o, c~ of every step, gate after gate
    cells = buffer("cells", (steps + 1, units, batch))
    cells[0] = 0
    tanh_cells = buffer("tanh_cells", (steps, units, batch))
    for t in range(steps):
        g = gates[t]
        xp.matmul(rows, inputs[t], out=g)  # the four gates of step t, one contiguous (4H, N) block
        xp.tanh(g, out=g)  # tanh(a/2) for i, f, o (the weights hold the /2), tanh(a) for c~
        sigmoids = g[:SIGMOID_GATES * units]
        sigmoids *= 0.5
        sigmoids += 0.5
        i, f, o, candidate = g.reshape(4, units, batch)
        c = cells[t + 1]
        xp.multiply(f, cells[t], out=c)
        xp.multiply(i, candidate, out=tanh_cells[t])
        c += tanh_cells[t]
        xp.tanh(c, out=tanh_cells[t])
        xp.multiply(o, tanh_cells[t], out=states[t + 1])
    saved = (inputs, cells, gates, tanh_cells, kernel, recurrent_kernel, workspace)
    return states[1:].transpose(0, 2, 1), saved  # (T, N, H), a view


# -- backward --------------------------------------------------------------------------------------------------

def lstm_backward(dhs, saved, need_input_grad=True):
    """dx (N, T, F) (None unless ``need_input_grad``) and the gradients of kernel, recurrent_kernel and bias.

    ``dhs``: the gradient of every step's hidden state (T, N, H), or of the last step's alone (N, H) (a layer
    that returns the last state: no (T, N, H) of zeros to add in)."""
    xp = array_module(dhs)
    ranges, start = [], 0
    for part in saved:
        half_batch = part[0].shape[2]  # the inputs buffer (T + 1, F + 1 + H, N)
        ranges.append((start, start + half_batch))
        start += half_batch
    results = [None] * len(saved)

    overlap = len(saved) == 1 and _overlaps(xp, start)

    def run(index):
        lo, hi = ranges[index]
        part = dhs[..., lo:hi, :] if dhs.ndim == 3 else dhs[lo:hi]
        results[index] = _backward_range(part, saved[index], need_input_grad, overlap)

    run_pieces(run, list(range(len(saved))))
    grads = results[0][1]
    for _, more in results[1:]:
        for name, grad in more.items():
            grads[name] += grad
    dx = None
    if need_input_grad:
        dx = results[0][0] if len(results) == 1 else xp.concatenate([dx for dx, _ in results], axis=0)
    return dx, grads


def _backward_range(dhs, saved, need_input_grad, overlap=False):
    inputs, cells, gates, tanh_cells, kernel, recurrent_kernel, workspace = saved
    xp = array_module(dhs)
    steps, batch = gates.shape[0], gates.shape[2]
    units = recurrent_kernel.shape[0]

    def buffer(name, shape):
        return scratch_buffer(workspace, name, shape, inputs)

    d_gates = buffer("d_gates", (steps, 4 * units, batch))  # dL/d(a_i, a_f, a_c, a_o), Keras's order
    dh = buffer("dh", (units, batch))
    dc = buffer("dc", (units, batch))
    dc[...] = 0
    work = buffer("work", (units, batch))
    derivative = buffer("sigmoid_derivative", (SIGMOID_GATES, units, batch))
    every_step = dhs.ndim == 3
    if every_step:
        dh[...] = 0
        by_step = buffer("dhs", (steps, units, batch))
        by_step[...] = dhs.transpose(0, 2, 1)  # once, feature-major like the rest
        dhs = by_step
    else:
        dh[...] = dhs.T
    buffers = (dh, dc, work, derivative, xp.ascontiguousarray(recurrent_kernel))
    products = _SequenceProducts(inputs, d_gates, kernel, need_input_grad)
    if overlap:
        done = queue.SimpleQueue()  # the first step of each finished chunk (steps run backwards); None: the end

        def loop():
            try:
                _step_loop(dhs, every_step, gates, cells, tanh_cells, d_gates, buffers, done)
            finally:
                done.put(None)  # the consumer stops even when the loop fails (its error is raised by run_pieces)

        def consume():
            while (first := done.get()) is not None:
                products.add(first, first + OVERLAP_CHUNK_STEPS)
        # run_pieces hands the pieces out in order: a lone thread runs the loop (which posts every chunk and
        # the end) before the consumer, so it never waits on itself; a second core takes the consumer.
        pieces = {"loop": loop, "products": consume}
        run_pieces(lambda name: pieces[name](), ["loop", "products"])
    else:
        _step_loop(dhs, every_step, gates, cells, tanh_cells, d_gates, buffers, None)
        for first in range(0, steps, OVERLAP_CHUNK_STEPS):
            products.add(first, first + OVERLAP_CHUNK_STEPS)
    return products.result()


# Backward's weight-gradient and input-gradient products run this many steps at a time (on the second core
# with engine.ops.dispatch "lstm batch": "overlap"): small enough that little is left when the loop ends and
# that a chunk's copies stay in the cache, big enough that each product runs BLAS efficiently.
OVERLAP_CHUNK_STEPS = 4


def _step_loop(dhs, every_step, gates, cells, tanh_cells, d_gates, buffers, done):
    """The steps from last to first: each step's gate gradients into ``d_gates``; with a ``done`` queue, the
    first step of every finished chunk of OVERLAP_CHUNK_STEPS, posted as soon as the chunk is final."""
    xp = array_module(gates)
    steps, units = gates.shape[0], gates.shape[1] // 4
    dh, dc, work, derivative, recurrent_kernel = buffers
    # Step by step, not as whole-sequence calls before the loop: a step's (H, N) blocks stay in the cache,
    # where an element-wise call runs ~3x faster than on whole-sequence arrays (measured, float32, H=N=128).
    for t in reversed(range(steps)):
        if every_step:
            dh += dhs[t]
        sigmoids = gates[t, :SIGMOID_GATES * units].reshape(SIGMOID_GATES, units, -1)
        i, f, o, candidate = gates[t].reshape(4, units, -1)
        dg = d_gates[t]
        di, df, dcandidate, do = dg.reshape(4, units, -1)
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
            xp.matmul(recurrent_kernel, dg, out=dh)  # dh_{t-1} = R dA: (H, 4H) (4H, N), one product
        if done is not None and t % OVERLAP_CHUNK_STEPS == 0:
            done.put(t)


class _SequenceProducts:
    """Σ_t [x_t; 1; h_{t-1}] dA_tᵀ (the kernel's, the bias's and the recurrent kernel's gradients in one product,
    in Keras's layout) and dx_t = (K dA_t)ᵀ, added a range of steps at a time once their gate gradients are final:
    the range's blocks copied side by side ((F + 1 + H) x steps·N and 4H x steps·N) make each one product."""

    def __init__(self, inputs, d_gates, kernel, need_input_grad):
        xp = array_module(inputs)
        self.inputs, self.d_gates, self.kernel = inputs, d_gates, kernel
        steps, batch = d_gates.shape[0], d_gates.shape[2]
        self.every = xp.zeros((inputs.shape[1], d_gates.shape[1]), dtype=inputs.dtype)  # (F + 1 + H, 4H)
        self.dx = None
        if need_input_grad:
            self.kernel = xp.ascontiguousarray(kernel)
            self.dx = xp.empty((batch, steps, kernel.shape[0]), dtype=inputs.dtype)  # the caller's to keep

    def add(self, lo, hi):
        xp = array_module(self.inputs)
        hi = min(hi, self.d_gates.shape[0])
        batch = self.d_gates.shape[2]
        side_by_side = (hi - lo) * batch
        d_gates = xp.ascontiguousarray(self.d_gates[lo:hi].transpose(1, 0, 2)).reshape(-1, side_by_side)
        inputs = xp.ascontiguousarray(self.inputs[lo:hi].transpose(1, 0, 2)).reshape(-1, side_by_side)
        self.every += inputs @ d_gates.T
        if self.dx is not None:
            features = self.kernel.shape[0]
            self.dx[:, lo:hi] = (self.kernel @ d_gates).reshape(features, hi - lo, batch).transpose(2, 1, 0)

    def result(self):
        every, features = self.every, self.kernel.shape[0]
        grads = {"kernel": every[:features], "bias": every[features], "recurrent_kernel": every[features + 1:]}
        return self.dx, grads
