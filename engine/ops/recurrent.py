"""SimpleRNN, LSTM and GRU: forward over the steps and full backpropagation through time, against ``xp``.

Shapes and layout (Keras's, the spec's; docs/spec.md):

- ``x`` is (N, T, F): N sequences of T steps of F features; the state starts at zero.
- ``kernel`` (F, G*H), ``recurrent_kernel`` (H, G*H), ``bias`` (G*H), gates side by side along the last axis:
  SimpleRNN G=1; LSTM G=4 in order i, f, c, o (c is the candidate cell, PyTorch's g); GRU G=3 in order
  z, r, h, with the reset gate applied after the recurrent product (Keras reset_after=True, PyTorch's GRU)
  and so a second bias ``recurrent_bias`` (3H) added to h @ recurrent_kernel.

The equations, per step t (σ the logistic function, ⊙ the element-wise product):

    SimpleRNN  h_t = act(x_t K + h_{t-1} R + b)
    LSTM       [a_i a_f a_c a_o] = x_t K + h_{t-1} R + b
               i = σ(a_i), f = σ(a_f), c~ = tanh(a_c), o = σ(a_o)
               c_t = f ⊙ c_{t-1} + i ⊙ c~,  h_t = o ⊙ tanh(c_t)
    GRU        [u_z u_r u_h] = x_t K + b,   [v_z v_r v_h] = h_{t-1} R + b_R
               z = σ(u_z + v_z), r = σ(u_r + v_r), h~ = tanh(u_h + r ⊙ v_h)
               h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h~

How the work is arranged (the LSTM's fast path, ``engine.ops.recurrent_fast``, goes further; benchmarks/RESULTS.md
"Issue 24" measures both beside PyTorch's): only
h_{t-1} R depends on the previous step, so the input projection x K + b of all steps is one big matrix
product before the loop, and in backward the gradients of K, R and b, and of x, are one big product each after
the loop, over all steps stacked; the loop itself does one small product and the gates' element-wise work,
in place on buffers allocated once per pass. Arrays are time-major inside, (T, N, ...), so a step's slice is
contiguous. Everything stays in the input's dtype (float32 in training, float64 in gradient checks).

Each ``*_forward`` returns (hs, saved): hs (T, N, H) every step's hidden state (the layer's output is hs or
hs[-1]) and what backward reads. Each ``*_backward(dhs, saved, need_input_grad)`` takes dL/dhs (T, N, H)
and returns (dx or None, {parameter name: gradient}).
"""

from __future__ import annotations

from engine.backend import array_module


def sigmoid_(a, xp):
    """The logistic function in place, as 0.5 * (1 + tanh(a / 2)): exactly σ, with no overflow for large |a|."""
    a *= 0.5
    xp.tanh(a, out=a)
    a += 1.0
    a *= 0.5
    return a


def _time_major(x, xp):
    return xp.ascontiguousarray(x.transpose(1, 0, 2))


def _input_projection(x_t, kernel, bias, xp):
    """x K + b for every step at once: (T, N, F) -> (T, N, G*H), one matrix product."""
    steps, batch, features = x_t.shape
    projected = x_t.reshape(steps * batch, features) @ kernel
    projected += bias
    return projected.reshape(steps, batch, -1)


def _weight_gradients(x_t, h_prev, d_input_gates, d_recurrent_gates, kernel, need_input_grad, xp):
    """The gradients that need no loop: dK = Σ_t x_tᵀ dA_t, dR = Σ_t h_{t-1}ᵀ dV_t, db, and dx = dA Kᵀ."""
    steps, batch, features = x_t.shape
    units = h_prev.shape[2]
    flat_dgates = d_input_gates.reshape(steps * batch, -1)
    grads = {"kernel": x_t.reshape(steps * batch, features).T @ flat_dgates,
             "recurrent_kernel": h_prev.reshape(steps * batch, units).T @ d_recurrent_gates.reshape(steps * batch, -1),
             "bias": flat_dgates.sum(axis=0)}
    dx = None
    if need_input_grad:
        dx = (flat_dgates @ kernel.T).reshape(steps, batch, features).transpose(1, 0, 2)
    return dx, grads


def _hidden_with_initial(steps, batch, units, dtype, xp):
    """(T + 1, N, H) with row 0 the zero initial state: row t + 1 is h_t, and rows 0..T-1 are the h_{t-1}."""
    states = xp.empty((steps + 1, batch, units), dtype=dtype)
    states[0] = 0
    return states


# -- SimpleRNN --------------------------------------------------------------------------------------------------

def simple_rnn_forward(x, kernel, recurrent_kernel, bias, activation):
    """``activation`` is an ``engine.ops.activations.Activation`` (forward(z) -> (y, saved), backward(dy, saved))."""
    xp = array_module(x)
    x_t = _time_major(x, xp)
    steps, batch, _ = x_t.shape
    units = recurrent_kernel.shape[0]
    states = _hidden_with_initial(steps, batch, units, x.dtype, xp)
    pre = _input_projection(x_t, kernel, bias, xp)
    activation_saved = []
    for t in range(steps):
        a = pre[t]
        a += states[t] @ recurrent_kernel
        h, kept = activation.forward(a)
        states[t + 1] = h
        activation_saved.append(kept)
    return states[1:], (x_t, states, kernel, recurrent_kernel, activation, activation_saved)


def simple_rnn_backward(dhs, saved, need_input_grad=True):
    x_t, states, kernel, recurrent_kernel, activation, activation_saved = saved
    xp = array_module(dhs)
    steps = dhs.shape[0]
    d_pre = xp.empty(dhs.shape, dtype=dhs.dtype)
    dh_next = xp.zeros_like(dhs[0])
    for t in reversed(range(steps)):
        dh_next += dhs[t]
        d_pre[t] = activation.backward(dh_next, activation_saved[t])
        dh_next = d_pre[t] @ recurrent_kernel.T
    return _weight_gradients(x_t, states[:-1], d_pre, d_pre, kernel, need_input_grad, xp)


# -- LSTM -------------------------------------------------------------------------------------------------------

def lstm_forward(x, kernel, recurrent_kernel, bias):
    xp = array_module(x)
    x_t = _time_major(x, xp)
    steps, batch, _ = x_t.shape
    units = recurrent_kernel.shape[0]
    states = _hidden_with_initial(steps, batch, units, x.dtype, xp)
    cells = _hidden_with_initial(steps, batch, units, x.dtype, xp)
    gates = _input_projection(x_t, kernel, bias, xp)  # becomes i, f, c~, o of every step, in place
    tanh_cells = xp.empty((steps, batch, units), dtype=x.dtype)
    for t in range(steps):
        g = gates[t]
        g += states[t] @ recurrent_kernel
        sigmoid_(g[:, :2 * units], xp)  # i and f, side by side
        xp.tanh(g[:, 2 * units:3 * units], out=g[:, 2 * units:3 * units])
        sigmoid_(g[:, 3 * units:], xp)
        i, f, candidate, o = g[:, :units], g[:, units:2 * units], g[:, 2 * units:3 * units], g[:, 3 * units:]
        c = cells[t + 1]
        xp.multiply(f, cells[t], out=c)
        xp.multiply(i, candidate, out=tanh_cells[t])  # i ⊙ c~, before the row holds tanh(c_t)
        c += tanh_cells[t]
        xp.tanh(c, out=tanh_cells[t])
        xp.multiply(o, tanh_cells[t], out=states[t + 1])
    return states[1:], (x_t, states, cells, gates, tanh_cells, kernel, recurrent_kernel)


def lstm_backward(dhs, saved, need_input_grad=True):
    x_t, states, cells, gates, tanh_cells, kernel, recurrent_kernel = saved
    xp = array_module(dhs)
    steps, batch, units = dhs.shape
    d_gates = xp.empty_like(gates)  # dL/d(pre-activations a_i, a_f, a_c, a_o) of every step
    dh = xp.zeros((batch, units), dtype=dhs.dtype)
    dc = xp.zeros((batch, units), dtype=dhs.dtype)
    work = xp.empty((batch, units), dtype=dhs.dtype)
    recurrent_t = xp.ascontiguousarray(recurrent_kernel.T)  # a C-order operand: ~20% faster products per step
    for t in reversed(range(steps)):
        dh += dhs[t]
        g, dg = gates[t], d_gates[t]
        i, f, candidate, o = g[:, :units], g[:, units:2 * units], g[:, 2 * units:3 * units], g[:, 3 * units:]
        di, df, dcandidate, do = dg[:, :units], dg[:, units:2 * units], dg[:, 2 * units:3 * units], dg[:, 3 * units:]
        tanh_c = tanh_cells[t]
        # dc_t += dh ⊙ o ⊙ (1 - tanh(c_t)²)
        xp.multiply(tanh_c, tanh_c, out=work)
        xp.subtract(1.0, work, out=work)
        work *= o
        work *= dh
        dc += work
        # do = dh ⊙ tanh(c_t) ⊙ o(1 - o)
        xp.multiply(dh, tanh_c, out=do)
        xp.subtract(1.0, o, out=work)
        work *= o
        do *= work
        # di = dc ⊙ c~ ⊙ i(1 - i)
        xp.multiply(dc, candidate, out=di)
        xp.subtract(1.0, i, out=work)
        work *= i
        di *= work
        # df = dc ⊙ c_{t-1} ⊙ f(1 - f)
        xp.multiply(dc, cells[t], out=df)
        xp.subtract(1.0, f, out=work)
        work *= f
        df *= work
        # dc~ = dc ⊙ i ⊙ (1 - c~²)
        xp.multiply(candidate, candidate, out=work)
        xp.subtract(1.0, work, out=work)
        work *= i
        xp.multiply(dc, work, out=dcandidate)
        # what flows to step t - 1
        dc *= f
        xp.matmul(dg, recurrent_t, out=dh)
    return _weight_gradients(x_t, states[:-1], d_gates, d_gates, kernel, need_input_grad, xp)


# -- GRU (reset after the recurrent product) ----------------------------------------------------------------------

def gru_forward(x, kernel, recurrent_kernel, bias, recurrent_bias):
    xp = array_module(x)
    x_t = _time_major(x, xp)
    steps, batch, _ = x_t.shape
    units = recurrent_kernel.shape[0]
    states = _hidden_with_initial(steps, batch, units, x.dtype, xp)
    gates = _input_projection(x_t, kernel, bias, xp)  # becomes z, r, h~ of every step, in place
    recurrent = xp.empty((steps, batch, 3 * units), dtype=x.dtype)  # h_{t-1} R + b_R, kept for backward
    for t in range(steps):
        g, v = gates[t], recurrent[t]
        xp.matmul(states[t], recurrent_kernel, out=v)
        v += recurrent_bias
        g[:, :2 * units] += v[:, :2 * units]
        sigmoid_(g[:, :2 * units], xp)  # z and r
        z, r, candidate = g[:, :units], g[:, units:2 * units], g[:, 2 * units:]
        candidate += r * v[:, 2 * units:]
        xp.tanh(candidate, out=candidate)
        # h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h~ = h~ + z ⊙ (h_{t-1} - h~)
        h = states[t + 1]
        xp.subtract(states[t], candidate, out=h)
        h *= z
        h += candidate
    return states[1:], (x_t, states, gates, recurrent, kernel, recurrent_kernel)


def gru_backward(dhs, saved, need_input_grad=True):
    x_t, states, gates, recurrent, kernel, recurrent_kernel = saved
    xp = array_module(dhs)
    steps, batch, units = dhs.shape
    d_input = xp.empty_like(gates)  # dL/d(x_t K + b) of every step
    d_recurrent = xp.empty_like(recurrent)  # dL/d(h_{t-1} R + b_R) of every step
    dh = xp.zeros((batch, units), dtype=dhs.dtype)
    work = xp.empty((batch, units), dtype=dhs.dtype)
    recurrent_t = xp.ascontiguousarray(recurrent_kernel.T)
    for t in reversed(range(steps)):
        dh += dhs[t]
        g, v, du, dv = gates[t], recurrent[t], d_input[t], d_recurrent[t]
        z, r, candidate = g[:, :units], g[:, units:2 * units], g[:, 2 * units:]
        dz, dr, dcandidate = du[:, :units], du[:, units:2 * units], du[:, 2 * units:]
        # d(pre-activation of h~) = dh ⊙ (1 - z) ⊙ (1 - h~²)
        xp.multiply(candidate, candidate, out=work)
        xp.subtract(1.0, work, out=work)
        xp.subtract(1.0, z, out=dcandidate)
        dcandidate *= work
        dcandidate *= dh
        # dz = dh ⊙ (h_{t-1} - h~) ⊙ z(1 - z)
        xp.subtract(states[t], candidate, out=dz)
        dz *= dh
        xp.subtract(1.0, z, out=work)
        work *= z
        dz *= work
        # dr = d(h~ pre) ⊙ v_h ⊙ r(1 - r)
        xp.multiply(dcandidate, v[:, 2 * units:], out=dr)
        xp.subtract(1.0, r, out=work)
        work *= r
        dr *= work
        # the recurrent side: z and r as the input side, h~'s through the reset gate
        dv[:, :2 * units] = du[:, :2 * units]
        xp.multiply(dcandidate, r, out=dv[:, 2 * units:])
        # what flows to step t - 1: directly through z, and through R
        dh *= z
        dh += dv @ recurrent_t
    dx, grads = _weight_gradients(x_t, states[:-1], d_input, d_recurrent, kernel, need_input_grad, xp)
    grads["recurrent_bias"] = d_recurrent.reshape(steps * batch, -1).sum(axis=0)
    return dx, grads
