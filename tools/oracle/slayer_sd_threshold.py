"""Ground truth for basalt-slayer's learnable sigma-delta thresholds (slayer's
`sigma_delta.Neuron` with `requires_grad=True`: `axon.Delta`'s threshold parameter). Usage
(oracle venv): python tools/oracle/slayer_sd_threshold.py OUT_DIR

slayer's sigma-delta Input (θ 0.1) -> Dense 12 -> 16 (θ 0.125, learnable) -> Dense 16 -> 8
(θ 6/64, learnable) -> Output 8 -> 3, ReLU, exported by lava-dl's export_hdf5 (sd.net).
The learnable thresholds are multiples of 1/64, where slayer's forward (unquantized θ) and
its export (int(θ·64)) agree. On two random-walk samples x (2, 12, 40): every block's
messages, the squared error against `target`, and its gradients w.r.t. the weights, the
input and the two thresholds (`grad_th1`, `grad_th2`: slayer's `_DeltaUnit` rule)."""
import os, sys
import numpy as np, torch
import netx_oracle
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(9)
np.random.seed(9)
relu = torch.nn.functional.relu
learn = {'activation': relu, 'requires_grad': True}
blocks = torch.nn.ModuleList([
    slayer.block.sigma_delta.Input({'threshold': 0.1, 'activation': relu}),
    slayer.block.sigma_delta.Dense(dict(learn, threshold=0.125), 12, 16, weight_scale=2),
    slayer.block.sigma_delta.Dense(dict(learn, threshold=6 / 64), 16, 8, weight_scale=2),
    slayer.block.sigma_delta.Output({'threshold': 0.1, 'activation': relu}, 8, 3, weight_scale=2),
])
steps = 40
walk = np.cumsum(np.random.randn(2, 12, steps) * 0.25, axis=-1) + np.random.rand(2, 12, 1) * 2
x_np = np.clip(walk, 0, 3).astype(np.float32)
path = os.path.join(out, "sd.net")
with torch.no_grad():
    netx_oracle.export(blocks, path, torch.tensor(x_np[:1]))
x, outs, target, loss = netx_oracle.squared_error_backward(blocks, x_np, 3, steps)
flat = lambda t: t.detach().numpy().astype(np.float64)
rec = dict(x=x_np.astype(np.float64), target=flat(target), loss=np.array([loss.item()]), grad_x=flat(x.grad))
for i, (b, o) in enumerate(zip(blocks, outs)):
    rec[f"out{i}"] = flat(o)
    if i > 0:
        rec[f"grad_w{i}"] = b.synapse.weight.grad.reshape(b.synapse.weight.shape[:2]).numpy().astype(np.float64)
for i in (1, 2):
    th = blocks[i].neuron.delta.threshold
    rec[f"th{i}"] = flat(th)
    rec[f"grad_th{i}"] = flat(th.grad)
np.savez(os.path.join(out, "sd.npz"), **rec)
print("loss", loss.item(), "| thresholds", [rec[f"th{i}"].tolist() for i in (1, 2)],
      "| threshold grads", [rec[f"grad_th{i}"].tolist() for i in (1, 2)],
      "| nonzero messages per block", [int((o != 0).sum()) for o in outs])
