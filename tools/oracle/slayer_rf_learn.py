"""Ground truth for basalt-slayer's learnable RF decays (slayer's `rf.Neuron` with
`requires_grad=True`). Usage (oracle venv): python tools/oracle/slayer_rf_learn.py OUT_DIR

slayer's cuba Input(8) -> rf.Dense(8 -> 6, requires_grad) -> cuba.Dense(6 -> 3), the RF
block's sin and cos decays moved off round values (as training would: +13.3, -7.6; slayer
clamps their gain below 4096 each forward), exported by lava-dl's own export_hdf5
(rf_learn.net: the rounded sinDecay / cosDecay). On two spike samples x (2, 8, 50): every
block's spikes, the SpikeRate(0.2, 0.03) loss for labels [0, 2] and its gradients w.r.t. the
weights, the sin and cos decays and the input. Lava 0.10 runs the export on sample 0
(`out_lava`)."""
import os, sys
import numpy as np, torch
import netx_oracle
from netx_oracle import g2, w2
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(31)
np.random.seed(31)
steps = 50
cuba = {'threshold': 0.5, 'current_decay': 0.25, 'voltage_decay': 0.1}
rf = {'threshold': 0.1, 'period': 7, 'decay': 0.05, 'requires_grad': True}
blocks = torch.nn.ModuleList([
    slayer.block.cuba.Input(cuba),
    slayer.block.rf.Dense(rf, 8, 6, weight_scale=4),
    slayer.block.cuba.Dense(cuba, 6, 3, weight_scale=4),
])
n = blocks[1].neuron
with torch.no_grad():
    n.sin_decay.data += torch.tensor([13.3])
    n.cos_decay.data -= torch.tensor([7.6])
x_np = (np.random.rand(2, 8, steps) < 0.3).astype(np.float32)
path = os.path.join(out, "rf_learn.net")
with torch.no_grad():
    netx_oracle.export(blocks, path, torch.tensor(x_np[:1]))
x = torch.tensor(x_np, requires_grad=True)
outs = netx_oracle.forward_all(blocks, x)
loss = slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, reduction="sum")(outs[-1], torch.tensor([0, 2]))
loss.backward()
inp = (blocks[0].neuron.quantize_8bit(torch.tensor(x_np[0])).numpy() * 64).round().astype(np.int32)
h, o = netx_oracle.run(path, inp)
np.savez(os.path.join(out, "rf_learn.npz"), x=x_np.astype(np.float64), loss=np.array([loss.item()]),
         grad_x=x.grad.numpy().astype(np.float64), grad_w_real=g2(blocks[1].synapse.real.weight),
         grad_w_imag=g2(blocks[1].synapse.imag.weight), grad_w_out=g2(blocks[2].synapse.weight),
         sin=n.sin_decay.detach().numpy().astype(np.float64), cos=n.cos_decay.detach().numpy().astype(np.float64),
         grad_sin=n.sin_decay.grad.numpy().astype(np.float64), grad_cos=n.cos_decay.grad.numpy().astype(np.float64),
         out_lava=o.astype(np.float64), **{f"out{i}": t.detach().numpy().astype(np.float64) for i, t in enumerate(outs)})
print("rf learn: loss", loss.item(), "| spikes", [int(t.sum()) for t in outs], "| sin/cos", n.sin_decay.item(),
      n.cos_decay.item(), "| exported", n.cx_sin_decay, n.cx_cos_decay, "| grads", n.sin_decay.grad.item(),
      n.cos_decay.grad.item(), "| Lava == slayer one step earlier:",
      np.array_equal(o[:, :-1], outs[2][0].detach().numpy()[:, 1:]))
