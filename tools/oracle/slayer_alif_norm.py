"""Ground truth for basalt-slayer's batch norm on ALIF blocks. Usage (oracle venv):
python tools/oracle/slayer_alif_norm.py OUT_DIR

slayer's alif Input(8) -> Dense(8 -> 12) -> Dense(12 -> 3), both Dense blocks with
`norm=MeanOnlyBatchNorm` and learnable decays (`requires_grad=True`). ALIF's norm acts on the
input current (before both integrators), unlike CUBA's (between them). Three training
forwards on random batches move the running means away from 0 (`rm*_before`) and the decays
are moved off round values (`cd*`, `vd*`, `td*`, `rd*`: as training would). On two spike
samples x (2, 8, 50): the eval-mode forward (the running means: `eval*`), then the
training-mode forward (batch means: `train*`), the SpikeRate(0.2, 0.03) loss for labels
[0, 2], its gradients w.r.t. the weights, the current and voltage decays and the input, and
the running means after that forward (`rm*_after`). lava-dl would export the norm as a netx
`bias`, which Lava adds to the voltage instead: no export is made."""
import os, sys
import numpy as np, torch
import netx_oracle
from netx_oracle import flat, g2
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(23)
np.random.seed(23)
steps = 50
norm = slayer.neuron.norm.MeanOnlyBatchNorm


pa = {'threshold': 0.5, 'threshold_step': 0.2, 'current_decay': 0.25, 'voltage_decay': 0.1,
      'threshold_decay': 0.1, 'refractory_decay': 0.2}
pn = dict(pa, norm=norm, requires_grad=True)
blocks = torch.nn.ModuleList([
    slayer.block.alif.Input(dict(pa)),
    slayer.block.alif.Dense(dict(pn), 8, 12, weight_scale=3),
    slayer.block.alif.Dense(dict(pn), 12, 3, weight_scale=3),
])
normed = [1, 2]
for _ in range(3):
    xw = torch.tensor((np.random.rand(4, 8, steps) < 0.3).astype(np.float32))
    netx_oracle.forward_all(blocks, xw)
rec = {}
with torch.no_grad():
    for i in normed:
        n = blocks[i].neuron
        n.current_decay.data += torch.tensor([37.3])
        n.voltage_decay.data -= torch.tensor([21.6])
        rec[f"rm{i}_before"] = flat(n.norm.running_mean)
        for name in ["current_decay", "voltage_decay", "threshold_decay", "refractory_decay"]:
            rec[f"{name[0]}d{i}"] = flat(getattr(n, name))
x_np = (np.random.rand(2, 8, steps) < 0.3).astype(np.float32)
blocks.eval()
with torch.no_grad():
    evals = netx_oracle.forward_all(blocks, torch.tensor(x_np))
blocks.train()
x = torch.tensor(x_np, requires_grad=True)
outs = netx_oracle.forward_all(blocks, x)
loss = slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, reduction="sum")(outs[-1], torch.tensor([0, 2]))
loss.backward()
rec.update(x=x_np.astype(np.float64), loss=np.array([loss.item()]), grad_x=flat(x.grad))
for i, (e, t) in enumerate(zip(evals, outs)):
    rec[f"eval{i}"] = flat(e)
    rec[f"train{i}"] = flat(t)
for i in normed:
    b = blocks[i]
    rec[f"w{i}"] = b.synapse.weight.detach().reshape(b.synapse.weight.shape[0], -1).numpy().astype(np.float64)
    rec[f"grad_w{i}"] = g2(b.synapse.weight)
    rec[f"rm{i}_after"] = flat(b.neuron.norm.running_mean)
    rec[f"grad_cd{i}"] = flat(b.neuron.current_decay.grad)
    rec[f"grad_vd{i}"] = flat(b.neuron.voltage_decay.grad)
np.savez(os.path.join(out, "alif_norm.npz"), **rec)
print("alif norm: loss", loss.item(), "| train spikes per block", [int(t.sum()) for t in outs],
      "| eval spikes", [int(e.sum()) for e in evals],
      "| running means", [rec[f"rm{i}_before"].round(3).tolist() for i in normed])
