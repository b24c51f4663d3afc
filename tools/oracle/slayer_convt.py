"""Ground truth for basalt-slayer's ConvT and Unpool blocks. Usage (oracle venv):
python tools/oracle/slayer_convt.py OUT_DIR

slayer's cuba Input (2x4x5) -> ConvT(2 -> 3, 3x3, stride 2, padding 1) -> Unpool(2) ->
Flatten -> Dense(756 -> 3), exported with lava-dl's export_hdf5 (convt.net; lava-dl's netx
cannot load convT/unpool layers, so there is no Lava run: basalt-netx builds them as the
transposed convolutions `tools/oracle/netx_convt.py` checks). On two random spike samples
(2, 2, 4, 5, 40): every block's spikes, SpikeRate(0.2, 0.03) loss for labels [2, 0],
gradients w.r.t. the ConvT weight (w0, torch's (Cin, Cout, kH, kW)), the dense weight (w1)
and the input."""
import os, sys
import numpy as np, torch
import netx_oracle
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(9)
np.random.seed(9)
p = {'threshold': 0.5, 'current_decay': 0.25, 'voltage_decay': 0.1}
p_unpool = {'threshold': 1.25, 'current_decay': 0.25, 'voltage_decay': 0.1}
blocks = torch.nn.ModuleList([
    slayer.block.cuba.Input(p),
    slayer.block.cuba.ConvT(p, 2, 3, 3, stride=2, padding=1, weight_scale=2),
    slayer.block.cuba.Unpool(p_unpool, 2, weight_scale=1),
    slayer.block.cuba.Flatten(),
    slayer.block.cuba.Dense(p, 756, 3, weight_scale=6),
])
steps = 40
x_np = (np.random.rand(2, 2, 4, 5, steps) < 0.2).astype(np.float32)
path = os.path.join(out, "convt.net")
netx_oracle.export(blocks, path, torch.tensor(x_np[:1]))
x = torch.tensor(x_np, requires_grad=True)
outs = netx_oracle.forward_all(blocks, x)
loss = slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, reduction="sum")(outs[-1], torch.tensor([2, 0]))
loss.backward()
flat = lambda t: t.detach().numpy().astype(np.float64).reshape(t.shape[0], -1, t.shape[-1])
w0 = blocks[1].synapse.weight.grad
w1 = blocks[4].synapse.weight.grad
names = ["input", "convt", "unpool", "flatten", "out"]
np.savez(os.path.join(out, "convt.npz"), x=flat(x), **{n: flat(o) for n, o in zip(names, outs)},
         loss=np.array([loss.item()]), grad_x=flat(x.grad),
         w0=w0.reshape(w0.shape[:4]).numpy().astype(np.float64), w1=w1.reshape(w1.shape[:2]).numpy().astype(np.float64))
print("loss", loss.item(), "| spikes per block", [int(o.sum()) for o in outs], "| shapes", [tuple(o.shape) for o in outs])
