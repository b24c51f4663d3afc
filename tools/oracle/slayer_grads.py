"""Gradient ground truth for basalt-slayer's surrogate gradients. Usage (oracle venv):
python tools/oracle/slayer_grads.py OUT_DIR

lava-dl's tiny_cuba_slayer network (../shared/fixtures/lava-dl/tiny_cuba_slayer: 20 -> 10
-> 2 CUBA dense, exported by slayer) is loaded into slayer cuba.Dense blocks (weights =
file weights / 64, thresholds vThMant / 64, decays / 4096); its input x (20 x 50 spikes)
goes through them with gradients on, and slayer's SpikeRate loss (true rate 0.2, false rate
0.03, label 1, reduction sum) is back-propagated. grads.npz keeps the loss, both weight
gradients (out, in) and the input gradient (20, 50), after checking that the forward
reproduces the fixture's hidden_slayer / out_slayer."""
import os, sys
import h5py, numpy as np, torch
from lava.lib.dl import slayer

out = sys.argv[1]
fx = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/fixtures/lava-dl/tiny_cuba_slayer")
io = np.load(os.path.join(fx, "io.npz"))
blocks = []
with h5py.File(os.path.join(fx, "network.net")) as f:
    for i in range(2):
        g = f[f"layer/{i}"]
        w = g["weight"][()]
        params = {"threshold": g["neuron/vThMant"][()] / 64, "current_decay": g["neuron/iDecay"][()] / 4096,
                  "voltage_decay": g["neuron/vDecay"][()] / 4096}
        b = slayer.block.cuba.Dense(params, w.shape[1], w.shape[0])
        b.synapse.weight.data = torch.tensor(w / 64, dtype=torch.float32).reshape(b.synapse.weight.shape)
        blocks.append(b)
x = torch.tensor(io["x"][None], dtype=torch.float32, requires_grad=True)
h = blocks[0](x)
o = blocks[1](h)
assert (h[0].detach().numpy() == io["hidden_slayer"]).all() and (o[0].detach().numpy() == io["out_slayer"]).all()
loss = slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, reduction="sum")(o, torch.tensor([1]))
loss.backward()
np.savez(os.path.join(out, "grads.npz"), loss=np.array([loss.item()]),
         w0=blocks[0].synapse.weight.grad.reshape(10, 20).numpy().astype(np.float64),
         w1=blocks[1].synapse.weight.grad.reshape(2, 10).numpy().astype(np.float64),
         x=x.grad[0].numpy().astype(np.float64))
print("loss", loss.item(), "| |grad w0|", blocks[0].synapse.weight.grad.abs().sum().item(),
      "| |grad x|", x.grad.abs().sum().item())
