"""Times lava-dl's slayer training the slayer issue's workload on one CPU thread: cuba.Dense
200 -> 256 -> cuba.Dense 256 -> 10 (threshold 1.25, decays 0.25 / 0.03, tau_grad 0.03,
scale_grad 3), batch 32, T = 100, random input spikes (rate 0.1) and labels, SpikeRate loss
(0.2 / 0.03), Adam lr 1e-3: forward + backward + step per iteration.

Usage (oracle venv): python benches/peers/lava_dl_train.py [--json OUT.json]"""
import argparse, json, time
import numpy as np, torch
from lava.lib.dl import slayer

ap = argparse.ArgumentParser()
ap.add_argument("--json")
ap.add_argument("--iters", type=int, default=20)
a = ap.parse_args()
torch.set_num_threads(1)
torch.manual_seed(0)
p = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03, "tau_grad": 0.03, "scale_grad": 3}
net = torch.nn.Sequential(slayer.block.cuba.Dense(p, 200, 256), slayer.block.cuba.Dense(p, 256, 10))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
loss_fn = slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, reduction="sum")
x = (torch.rand(32, 200, 100) < 0.1).float()
y = torch.randint(0, 10, (32,))


def step():
    opt.zero_grad()
    loss = loss_fn(net(x), y)
    loss.backward()
    opt.step()


for _ in range(3):
    step()
t0 = time.perf_counter()
for _ in range(a.iters):
    step()
dt = time.perf_counter() - t0
rate = a.iters * 32 / dt
print(f"lava-dl slayer: {rate:.0f} samples/s ({dt / a.iters * 1000:.1f} ms per batch of 32)", flush=True)
if a.json:
    json.dump({"peer": "lava-dl", "samples_per_s": rate}, open(a.json, "w"))
