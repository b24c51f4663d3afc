"""PyTorch peer of the GPU benchmark: the dense LIF stack of `basalt::workloads::dense_lif_stack`
(LIF(N) with bias -> `layers` x [Dense(N x N) -> LIF(N)]) in plain PyTorch tensors, a batch of
copies sharing the weights, float or Lava's bit-accurate fixed point, timed over T steps on the
GPU (CUDA) when there is one, else on the CPU.

Same definition as Basalt: W[i, j] = (31 i + 17 j) mod 101, b[i] = 1 + ((37 i) mod 101) / 202,
wexp = -(floor(log2 N) - 2); float: vth 10, du = dv = 0.1, Dense W 2^wexp / 100, bias b on
every population; fixed: vth 1000 (<< 6), du = dv = 409, bias_mant round(800 b) << 3, Dense W
(8-bit excitatory, unchanged) then >> -wexp. Dense sends last step's accumulation (Lava's
one-step synaptic delay). Fixed-point sums run as float32 matmuls (exact: every sum is an
integer below 2^24) and the neuron updates in int64, as Lava's PyLifModelBitAcc.

usage: python torch_dense_lif.py [--n 1024] [--layers 1] [--batch 1] [--steps 1000]
                                 [--precision fixed|float] [--device cuda|cpu] [--dtype float32|float64]
Prints one line: steps/s and the spike count of every population (to compare with Basalt).
"""

import argparse
import math
import time

import torch


def build(n, precision, device, dtype):
    i = torch.arange(n, device=device, dtype=torch.int64)
    wint = (31 * i[:, None] + 17 * i[None, :]) % 101
    b = 1.0 + ((37 * i) % 101).to(torch.float64) / 202.0
    wexp = -(int(math.floor(math.log2(n))) - 2)
    if precision == "float":
        w = (wint.to(torch.float64) * 2.0**wexp / 100.0).to(dtype)
        return w, b.to(dtype), wexp
    bias = torch.round(800.0 * b).to(torch.int64) << 3  # round half to even, as numpy
    return wint.to(torch.float32), bias, wexp


def rtz12(x):
    """sign(x) * (|x| >> 12), Lava's decay shift (x is int64)."""
    return torch.sign(x) * (torch.abs(x) >> 12)


def run(args):
    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype)
    n, layers, batch = args.n, args.layers, args.batch
    fixed = args.precision == "fixed"
    w, bias, wexp = build(n, args.precision, device, dtype)
    wt = w.t().contiguous()
    pops = layers + 1
    if fixed:
        zeros = lambda: torch.zeros(batch, n, dtype=torch.int64, device=device)
        vth, max_uv = 1000 << 6, 1 << 23
    else:
        zeros = lambda: torch.zeros(batch, n, dtype=dtype, device=device)
        vth = 10.0
    u = [zeros() for _ in range(pops)]
    v = [zeros() for _ in range(pops)]
    buf = [zeros() for _ in range(layers)]
    spikes = [0] * pops
    count = args.count

    def lif(k, a_in):
        if fixed:
            cur = rtz12(u[k] * (4096 - 410)) + (a_in << 6)
            cur = torch.where(cur > max_uv, cur - 2 * max_uv, cur)
            cur = torch.where(cur <= -max_uv, cur + 2 * max_uv, cur)
            volt = rtz12(v[k] * (4096 - 409)) + cur + bias
            volt = torch.clamp(volt, -max_uv + 1, max_uv - 1)
        else:
            cur = u[k] * 0.9 + a_in
            volt = v[k] * 0.9 + cur + bias
        s = volt > vth
        u[k] = cur
        v[k] = torch.where(s, torch.zeros_like(volt), volt)
        return s

    def dense(s):
        a = s.to(wt.dtype) @ wt
        if fixed:
            a = a.to(torch.int64)
            return a >> -wexp if wexp < 0 else a << wexp
        return a

    def step():
        sent = list(buf)  # last step's accumulations
        s = lif(0, zeros())
        if count:
            spikes[0] += int(s.sum())
        for k in range(1, pops):
            buf[k - 1] = dense(s)
            s = lif(k, sent[k - 1])
            if count:
                spikes[k] += int(s.sum())

    step()  # warm-up (kernel selection, allocations)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(args.steps - 1):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    secs = time.perf_counter() - t0
    rate = (args.steps - 1) / secs
    print(
        f"torch {args.precision} n {n} layers {layers} batch {batch} on {device}: "
        f"{rate:.1f} steps/s; spikes per population {spikes if count else '(not counted)'}"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=1024)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--precision", choices=["fixed", "float"], default="fixed")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--count", action="store_true", help="count spikes (syncs every step; off when timing)")
    run(p.parse_args())
