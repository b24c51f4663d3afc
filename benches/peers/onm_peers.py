"""The open-neuromorphic SNN training benchmark's setup in lava-dl's slayer and in plain
PyTorch: one Linear(n, n) + LIF layer, batch 16, T = 500, random input spikes (rate 0.1),
forward + backward of the summed output spikes, timed with the device synchronised (CUDA
when available, else the CPU with torch's default threads). Prints ms per pass and saves
JSON; `onm_compare.sh` sets them beside Basalt (crates/slayer/benches/onm.rs).

lava-dl: slayer.block.cuba.Dense(n, n) (threshold 1.25, decays 0.25 / 0.03, tau_grad 0.03,
scale_grad 3; its CUDA dynamics kernels on a GPU). PyTorch: nn.Linear then a current-based
LIF stepped in Python (u = 0.75 u + x, v = 0.97 v + u, spike v >= 1.25 with a fast-sigmoid
surrogate, reset), the benchmark's 'plain PyTorch' baseline.

Usage (oracle venv): python benches/peers/onm_peers.py [--sizes 1024] [--steps 500] [--json OUT]"""
import argparse, json, time
import torch

ap = argparse.ArgumentParser()
ap.add_argument("--sizes", default="1024")
ap.add_argument("--steps", type=int, default=500)
ap.add_argument("--iters", type=int, default=5)
ap.add_argument("--json")
args = ap.parse_args()
dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.manual_seed(0)


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()


class FastSigmoidSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x >= 0).float()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + 10 * x.abs()) ** 2


class TorchLif(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.fc = torch.nn.Linear(n, n, bias=False)

    def forward(self, x):  # (batch, n, T) like slayer
        z = self.fc(x.permute(2, 0, 1))  # (T, batch, n)
        u = torch.zeros_like(z[0])
        v = torch.zeros_like(z[0])
        out = []
        for t in range(z.shape[0]):
            u = 0.75 * u + z[t]
            v = 0.97 * v + u
            s = FastSigmoidSpike.apply(v - 1.25)
            v = v * (1 - s.detach())
            out.append(s)
        return torch.stack(out, dim=-1)


def slayer_net(n):
    from lava.lib.dl import slayer

    p = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03, "tau_grad": 0.03, "scale_grad": 3}
    return slayer.block.cuba.Dense(p, n, n)


def time_passes(net, x):
    def step():
        net.zero_grad(set_to_none=True)
        net(x).sum().backward()

    for _ in range(2):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(args.iters):
        step()
    sync()
    return (time.perf_counter() - t0) / args.iters


results = {}
for n in [int(s) for s in args.sizes.split(",")]:
    x = (torch.rand(16, n, args.steps, device=dev) < 0.1).float()
    for peer, make in [("lava-dl slayer", slayer_net), ("PyTorch LIF", TorchLif)]:
        secs = time_passes(make(n).to(dev), x)
        results[f"{peer} n{n}"] = secs
        print(f"{peer} on {dev.type}, n {n}, T {args.steps}, batch 16: {secs * 1e3:.1f} ms per forward+backward", flush=True)
if args.json:
    json.dump(results, open(args.json, "w"))
