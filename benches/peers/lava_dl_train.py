"""Times lava-dl's slayer training the slayer issue's workload on one CPU thread: cuba.Dense
200 -> 256 -> cuba.Dense 256 -> 10 (threshold 1.25, decays 0.25 / 0.03, tau_grad 0.03,
scale_grad 3), batch 32, T = 100, random input spikes (rate 0.1) and labels, SpikeRate loss
(0.2 / 0.03), Adam lr 1e-3: forward + backward + step per iteration.

Usage (oracle venv): python benches/peers/lava_dl_train.py [--json OUT.json]"""
import torch
from lava.lib.dl import slayer
from train_timing import setup, train_steps

args = setup()
p = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03, "tau_grad": 0.03, "scale_grad": 3}
net = torch.nn.Sequential(slayer.block.cuba.Dense(p, 200, 256), slayer.block.cuba.Dense(p, 256, 10))
loss_fn = slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, reduction="sum")
x = (torch.rand(32, 200, 100) < 0.1).float()
y = torch.randint(0, 10, (32,))
train_steps(args, "lava-dl slayer", net, loss_fn, x, y)
