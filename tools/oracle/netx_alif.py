"""Ground truth for netx ALIF layers, which lava-dl's netx cannot load (it has no ALIF
neuron mapping and Lava 0.10 no process with 12-bit ALIF decays). Usage (oracle venv):
python tools/oracle/netx_alif.py OUT_DIR

slayer builds alif.Dense(12 -> 8) -> cuba.Dense(8 -> 3) and exports it with lava-dl's
own `export_hdf5` (alif.net). The truth is slayer's own forward on random input spikes
(alif.npz: input, hidden = ALIF-layer spikes, out = output spikes), which for CUBA layers
equals Lava running the exported file with no time offset (the tiny_cuba_slayer fixture)."""
import os, sys
import numpy as np, torch
import netx_oracle
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(11)
np.random.seed(11)
alif = {'threshold': 0.6, 'threshold_step': 0.3, 'current_decay': 0.3, 'voltage_decay': 0.05,
        'threshold_decay': 0.1, 'refractory_decay': 0.2}
cuba = {'threshold': 0.5, 'current_decay': 0.25, 'voltage_decay': 0.1}
blocks = torch.nn.ModuleList([
    slayer.block.alif.Dense(alif, 12, 8, weight_scale=3),
    slayer.block.cuba.Dense(cuba, 8, 3, weight_scale=3),
])
steps = 80
x = torch.tensor((np.random.rand(1, 12, steps) < 0.3).astype(np.float32))
path = os.path.join(out, "alif.net")
netx_oracle.export(blocks, path, x)
with torch.no_grad():
    hidden = blocks[0](x)
    o = blocks[1](hidden)
h, o = hidden[0].numpy(), o[0].numpy()
np.savez(os.path.join(out, "alif.npz"), input=x[0].numpy(), hidden=h, out=o)
print("ALIF layer spikes", int(h.sum()), "of", h.size, "; output spikes", int(o.sum()), "of", o.size)
