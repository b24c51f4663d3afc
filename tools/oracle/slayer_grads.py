"""Gradient ground truth for basalt-slayer's surrogate gradients. Usage (oracle venv):
python tools/oracle/slayer_grads.py OUT_DIR

lava-dl's tiny_cuba_slayer network (../shared/fixtures/lava-dl/tiny_cuba_slayer: 20 -> 10
-> 2 CUBA dense, exported by slayer) is loaded into slayer cuba.Dense blocks (weights =
file weights / 64, thresholds vThMant / 64, decays / 4096); its input x (20 x 50 spikes)
goes through them with gradients on, and slayer's SpikeRate loss (true rate 0.2, false rate
0.03, label 1, reduction sum) is back-propagated. grads.npz keeps the loss, both weight
gradients (out, in) and the input gradient (20, 50), after checking that the forward
reproduces the fixture's hidden_slayer / out_slayer.

grads_alif.npz does the same for the ALIF network of crates/netx/tests/data/alif (alif.Dense
12 -> 8 -> cuba.Dense 8 -> 3, from tools/oracle/netx_alif.py) on its input, label 2, after
checking that the forward reproduces that oracle's hidden / out spikes."""
import os, sys
import h5py, numpy as np, torch
from lava.lib.dl import slayer

out = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
fx = os.path.join(here, "../../../shared/fixtures/lava-dl/tiny_cuba_slayer")


def load_blocks(path):
    """slayer blocks holding a netx file's dense layers (CUBA or ALIF neurons)."""
    blocks = []
    with h5py.File(path) as f:
        for i in range(len(f["layer"])):
            g = f[f"layer/{i}"]
            w, n = g["weight"][()], g["neuron"]
            kind = n["type"][()].decode() if isinstance(n["type"][()], bytes) else str(n["type"][()])
            params = {"threshold": n["vThMant"][()] / 64, "current_decay": n["iDecay"][()] / 4096,
                      "voltage_decay": n["vDecay"][()] / 4096}
            if kind == "ALIF":
                params.update({"threshold_step": n["vThStep"][()] / 64, "threshold_decay": n["thDecay"][()] / 4096,
                               "refractory_decay": n["refDecay"][()] / 4096})
                b = slayer.block.alif.Dense(params, w.shape[1], w.shape[0])
            else:
                b = slayer.block.cuba.Dense(params, w.shape[1], w.shape[0])
            b.synapse.weight.data = torch.tensor(w / 64, dtype=torch.float32).reshape(b.synapse.weight.shape)
            blocks.append(b)
    return blocks


def grads(blocks, x_np, label, hidden_want, out_want, name):
    x = torch.tensor(x_np[None], dtype=torch.float32, requires_grad=True)
    h = blocks[0](x)
    o = blocks[1](h)
    assert (h[0].detach().numpy() == hidden_want).all() and (o[0].detach().numpy() == out_want).all()
    loss = slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, reduction="sum")(o, torch.tensor([label]))
    loss.backward()
    w0, w1 = blocks[0].synapse.weight.grad, blocks[1].synapse.weight.grad
    np.savez(os.path.join(out, name), loss=np.array([loss.item()]),
             w0=w0.reshape(w0.shape[0], w0.shape[1]).numpy().astype(np.float64),
             w1=w1.reshape(w1.shape[0], w1.shape[1]).numpy().astype(np.float64),
             x=x.grad[0].numpy().astype(np.float64))
    print(name, "loss", loss.item(), "| |grad w0|", w0.abs().sum().item(), "| |grad x|", x.grad.abs().sum().item())


io = np.load(os.path.join(fx, "io.npz"))
grads(load_blocks(os.path.join(fx, "network.net")), io["x"], 1, io["hidden_slayer"], io["out_slayer"], "grads.npz")
al = os.path.join(here, "../../crates/netx/tests/data/alif")
truth = np.load(os.path.join(al, "alif.npz"))
grads(load_blocks(os.path.join(al, "alif.net")), truth["input"], 2, truth["hidden"], truth["out"], "grads_alif.npz")
