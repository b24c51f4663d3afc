"""Ground truth for basalt-slayer's learnable ALIF decays (slayer's `alif.Neuron` with
`requires_grad=True`). Usage (oracle venv): python tools/oracle/slayer_alif_decays.py OUT_DIR

slayer's alif Input(8) -> Dense(8 -> 12) -> Dense(12 -> 3), both Dense blocks with learnable
decays, every block's four decays moved off round values (as training would), exported by lava-dl's own
export_hdf5 (alif.net: the rounded iDecay, vDecay, thDecay, refDecay). On two spike samples
x (2, 8, 50): every block's spikes, the SpikeRate(0.2, 0.03) loss for labels [0, 2], and
its gradients w.r.t. the weights, the input and every learnable decay. slayer's
adaptive-threshold dynamics pass no gradient, so the threshold and refractory decays' are 0
(Adam leaves them where they are): only the current and voltage decays learn."""
import os, sys
import numpy as np, torch
import netx_oracle
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(5)
np.random.seed(5)
steps = 50
pa = {'threshold': 0.6, 'threshold_step': 0.3, 'current_decay': 0.3, 'voltage_decay': 0.05,
      'threshold_decay': 0.1, 'refractory_decay': 0.2, 'requires_grad': True}
blocks = torch.nn.ModuleList([
    slayer.block.alif.Input(dict(pa, requires_grad=False)),
    slayer.block.alif.Dense(pa, 8, 12, weight_scale=3),
    slayer.block.alif.Dense(pa, 12, 3, weight_scale=3),
])
with torch.no_grad():
    for b in blocks:
        n = b.neuron
        n.current_decay.data += torch.tensor([37.3])
        n.voltage_decay.data -= torch.tensor([21.6])
        n.threshold_decay.data += torch.tensor([11.2])
        n.refractory_decay.data -= torch.tensor([9.7])
x_np = (np.random.rand(2, 8, steps) < 0.3).astype(np.float32)
path = os.path.join(out, "alif.net")
with torch.no_grad():
    netx_oracle.export(blocks, path, torch.tensor(x_np[:1]))
x = torch.tensor(x_np, requires_grad=True)
outs = netx_oracle.forward_all(blocks, x)
loss = slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, reduction="sum")(outs[-1], torch.tensor([0, 2]))
loss.backward()
flat = lambda t: t.detach().numpy().astype(np.float64)
rec = dict(x=x_np.astype(np.float64), loss=np.array([loss.item()]), grad_x=flat(x.grad))
for i, b in enumerate(blocks):
    rec[f"out{i}"] = flat(outs[i])
    if getattr(b, "synapse", None) is not None:
        rec[f"grad_w{i}"] = b.synapse.weight.grad.reshape(b.synapse.weight.shape[0], -1).numpy().astype(np.float64)
    n = b.neuron
    for key, p in [("cd", n.current_decay), ("vd", n.voltage_decay), ("td", n.threshold_decay),
                   ("rd", n.refractory_decay)]:
        rec[f"{key}{i}"] = flat(p)
        if p.grad is not None:
            rec[f"grad_{key}{i}"] = flat(p.grad)
np.savez(os.path.join(out, "alif.npz"), **rec)
print("loss", loss.item(), "| spikes per block", [int(o.sum()) for o in outs],
      "| decay grads", {k: rec[k].tolist() for k in rec if k.startswith("grad_") and k[5:7] in ("cd", "vd", "td", "rd")})
