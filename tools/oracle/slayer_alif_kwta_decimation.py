"""Ground truth for basalt-slayer's ALIF KWTA and TimeDecimation blocks. Usage (oracle venv):
python tools/oracle/slayer_alif_kwta_decimation.py OUT_DIR

1. ALIF KWTA (alif_kwta.npz): alif Input(8) -> alif KWTA(8 -> 6, 2 winners, self-excitation
   0.5, no delay_shift: lava-dl's KWTA cannot train with it) -> alif Dense(6 -> 3). The KWTA
   constant input uses the ALIF base threshold. On two spike samples x (2, 8, 50): every
   block's output, the SpikeRate(0.2, 0.03) loss for labels [0, 2], its gradients w.r.t. the
   input weights, the self-excitation, the dense weights and the input.
2. TimeDecimation (decimation.npz): cuba Input(8) -> Dense(8 -> 12) -> TimeDecimation(4)
   -> Dense(12 -> 3), on x (2, 8, 50) (50 steps pad to 52: 13 bins). Every block's output,
   the loss sum((y - 0.1)^2) and its gradients w.r.t. both weights and the input; and the
   same decimation by 8 of the hidden spikes alone (`by8`, 7 bins)."""
import os, sys
import numpy as np, torch
import netx_oracle
from netx_oracle import flat, g2
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(17)
np.random.seed(17)
steps = 50


def spikes(shape):
    return (np.random.rand(*shape) < 0.3).astype(np.float32)


# 1. ALIF KWTA
pa = {'threshold': 0.5, 'threshold_step': 0.2, 'current_decay': 0.25, 'voltage_decay': 0.1,
      'threshold_decay': 0.1, 'refractory_decay': 0.2}
blocks = torch.nn.ModuleList([
    slayer.block.alif.Input(dict(pa)),
    slayer.block.alif.KWTA(dict(pa), 8, 6, 2, weight_scale=3, delay_shift=False),
    slayer.block.alif.Dense(dict(pa), 6, 3, weight_scale=3),
])
netx_oracle.kwta_case(blocks, spikes((2, 8, steps)), os.path.join(out, "alif_kwta.npz"), "alif kwta")

# 2. TimeDecimation
p = {'threshold': 0.5, 'current_decay': 0.25, 'voltage_decay': 0.1}
blocks = torch.nn.ModuleList([
    slayer.block.cuba.Input(p),
    slayer.block.cuba.Dense(p, 8, 12, weight_scale=3),
    slayer.block.cuba.TimeDecimation(4),
    slayer.block.cuba.Dense(p, 12, 3, weight_scale=3),
])
x_np = spikes((2, 8, steps))
x = torch.tensor(x_np, requires_grad=True)
outs = netx_oracle.forward_all(blocks, x)
loss = ((outs[-1] - 0.1) ** 2).sum()
loss.backward()
by8 = slayer.block.alif.TimeDecimation(8)(outs[1].detach())
np.savez(os.path.join(out, "decimation.npz"), x=x_np.astype(np.float64), loss=np.array([loss.item()]),
         grad_x=flat(x.grad), grad_w1=g2(blocks[1].synapse.weight), grad_w2=g2(blocks[3].synapse.weight),
         w1=blocks[1].synapse.weight.detach().reshape(12, 8).numpy().astype(np.float64),
         w2=blocks[3].synapse.weight.detach().reshape(3, 12).numpy().astype(np.float64),
         by8=flat(by8), **{f"out{i}": flat(o) for i, o in enumerate(outs)})
print("decimation: loss", loss.item(), "| shapes", [tuple(o.shape) for o in outs], "| by8", tuple(by8.shape))
