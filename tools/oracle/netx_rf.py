"""Ground truth for netx RF neurons with complex dense layers (`weight/real`, `weight/imag`)
from lava-dl's own netx. Usage (oracle venv): python tools/oracle/netx_rf.py OUT_DIR

slayer builds Input(10, CUBA) -> rf.Dense(10 -> 6, RF_PHASE) -> Dense(6 -> 3, CUBA) and
exports it with lava-dl's `export_hdf5` (rf.net); lava-dl's netx loads it (two Dense
synapses into the RF neurons' a_real_in / a_imag_in; period and alpha from sinDecay and
cosDecay) and Lava 0.10 runs it in fixed point with random graded input on the input
neurons' a_in; rf.npz keeps input, RF-layer spikes and output spikes."""
import os, sys
import numpy as np, torch
import netx_oracle
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(5)
np.random.seed(5)
cuba = {'threshold': 1.0, 'current_decay': 0.25, 'voltage_decay': 0.1}
rf = {'threshold': 0.02, 'period': 7, 'decay': 0.05}
blocks = torch.nn.ModuleList([
    slayer.block.cuba.Input(cuba),
    slayer.block.rf.Dense(rf, 10, 6, weight_scale=6),
    slayer.block.cuba.Dense({'threshold': 0.3, 'current_decay': 0.5, 'voltage_decay': 0.5}, 6, 3, weight_scale=4),
])
path = os.path.join(out, "rf.net")
netx_oracle.export(blocks, path, torch.rand(1, 10, 5))

steps = 80
inp = (np.random.rand(10, steps) < 0.6) * np.random.randint(2000, 9000, (10, steps))
h, o = netx_oracle.run(path, inp)
np.savez(os.path.join(out, "rf.npz"), input=inp, rf=h, out=o)
print("RF layer spikes", int(h.sum()), "of", h.size, "; output spikes", int(o.sum()), "of", o.size)
