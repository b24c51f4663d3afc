"""Ground truth for basalt-slayer's weight normalization (slayer's `weight_norm=True`: torch's
`weight_norm(name='weight')`, w = g·v/||v|| per output channel). Usage (oracle venv):
python tools/oracle/slayer_weight_norm.py OUT_DIR

weight_norm.npz: cuba Input(2x6x6) -> Conv(2 -> 4, 3x3, weight_norm) -> Flatten ->
Dense(64 -> 3, weight_norm), the gains scaled by U[0.7, 1.3) away from their initial ||v||.
On two spike samples x (2, 72, 50): every block's spikes, the SpikeRate(0.2, 0.03) loss for
labels [1, 2], its gradients w.r.t. both v and both g and the input; v{i} (slayer's weight_v,
reshaped (out, -1)) and g{i} (out,) to build the same blocks."""
import os, sys
import numpy as np, torch
import netx_oracle
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(19)
np.random.seed(19)
steps = 50
p = {'threshold': 0.5, 'current_decay': 0.25, 'voltage_decay': 0.1}
blocks = torch.nn.ModuleList([
    slayer.block.cuba.Input(p),
    slayer.block.cuba.Conv(p, 2, 4, 3, weight_scale=3, weight_norm=True),
    slayer.block.cuba.Flatten(),
    slayer.block.cuba.Dense(p, 64, 3, weight_scale=3, weight_norm=True),
])
with torch.no_grad():
    for i in [1, 3]:
        s = blocks[i].synapse
        s.weight_g.data *= torch.empty_like(s.weight_g).uniform_(0.7, 1.3)
x_np = (np.random.rand(2, 2, 6, 6, steps) < 0.3).astype(np.float32)
x = torch.tensor(x_np, requires_grad=True)
outs = netx_oracle.forward_all(blocks, x)
loss = slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, reduction="sum")(outs[-1], torch.tensor([1, 2]))
loss.backward()
flat = lambda t: t.detach().numpy().astype(np.float64)
rec = dict(x=x_np.reshape(2, 72, steps).astype(np.float64), loss=np.array([loss.item()]),
           grad_x=flat(x.grad).reshape(2, 72, steps))
for i in [1, 3]:
    s = blocks[i].synapse
    o = s.weight_v.shape[0]
    # our Conv weight is (Cout, Cin, kH, kW): slayer's (Cout, Cin, kH, kW, 1)
    rec[f"v{i}"] = flat(s.weight_v).reshape(o, -1)
    rec[f"g{i}"] = flat(s.weight_g).reshape(o)
    rec[f"grad_v{i}"] = s.weight_v.grad.numpy().astype(np.float64).reshape(o, -1)
    rec[f"grad_g{i}"] = s.weight_g.grad.numpy().astype(np.float64).reshape(o)
for i, o in enumerate(outs):
    rec[f"out{i}"] = flat(o).reshape(2, -1, steps)
np.savez(os.path.join(out, "weight_norm.npz"), **rec)
print("weight norm: loss", loss.item(), "| spikes per block", [int(o.sum()) for o in outs],
      "| g", [rec[f"g{i}"].round(3).tolist() for i in [1, 3]])
