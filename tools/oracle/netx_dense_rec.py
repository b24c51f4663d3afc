"""Ground truth for netx `dense_rec` (slayer's Recurrent block) from lava-dl's own netx.
Usage (oracle venv): python tools/oracle/netx_dense_rec.py OUT_DIR

slayer builds Input(10) -> Recurrent(10 -> 8) -> Dense(8 -> 3), all CUBA, and exports it
with lava-dl's `export_hdf5` (dense_rec.net). lava-dl's netx loads it (W and W_rec
quantised jointly, a second Dense from the neurons' spikes back to their a_in) and Lava
0.10 runs it in fixed point with random graded input on the input neurons' a_in;
dense_rec.npz keeps input, recurrent-layer spikes and output spikes."""
import os, sys
import numpy as np, torch
import netx_oracle
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(11)
np.random.seed(11)
p = {'threshold': 1.0, 'current_decay': 0.25, 'voltage_decay': 0.1}
p_rec = {'threshold': 1.5, 'current_decay': 0.5, 'voltage_decay': 0.2}
blocks = torch.nn.ModuleList([
    slayer.block.cuba.Input(p),
    slayer.block.cuba.Recurrent(p_rec, 10, 8, weight_scale=3),
    slayer.block.cuba.Dense(p, 8, 3, weight_scale=3),
])
path = os.path.join(out, "dense_rec.net")
netx_oracle.export(blocks, path, torch.rand(1, 10, 5))

steps = 60
inp = (np.random.rand(10, steps) < 0.3) * np.random.randint(2000, 9000, (10, steps))
h, o = netx_oracle.run(path, inp)
np.savez(os.path.join(out, "dense_rec.npz"), input=inp, rec=h, out=o)
print("recurrent layer spikes", int(h.sum()), "of", h.size, "; output spikes", int(o.sum()), "of", o.size)
