"""Ground truth for netx `pool` layers, which lava-dl's netx loader cannot build
(NotImplementedError). Usage (oracle venv): python tools/oracle/netx_pool.py OUT_DIR

1. slayer builds Input(2x6x6) -> Pool(2x2, weight_scale 2) -> Flatten -> Dense(18 -> 4),
   all CUBA, and exports it with lava-dl's own `export_hdf5` (pool.net: the file we load).
2. The pool layer is rewritten as the convolution it is: per-channel (groups = C) with the
   pool's single kernel for every channel (pool_as_conv.net), which lava-dl's netx loads.
3. Lava 0.10 runs pool_as_conv.net in fixed point with random graded input on the input
   neurons' a_in (as lava-dl's tinynet test does); pool.npz keeps input, pool-layer and
   output spikes. Basalt must reproduce them exactly from pool.net."""
import os, sys
import h5py, numpy as np, torch
import netx_oracle
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(7)
np.random.seed(7)
p = {'threshold': 1.0, 'current_decay': 0.25, 'voltage_decay': 0.1}
p_pool = {'threshold': 20.0, 'current_decay': 0.5, 'voltage_decay': 0.25}
blocks = torch.nn.ModuleList([
    slayer.block.cuba.Input(p),
    slayer.block.cuba.Pool(p_pool, 2, weight_scale=2),
    slayer.block.cuba.Flatten(),
    slayer.block.cuba.Dense(p, 2 * 3 * 3, 4, weight_scale=2),
])
pool_net = os.path.join(out, "pool.net")
netx_oracle.export(blocks, pool_net, torch.rand(1, 2, 6, 6, 5))

conv_net = os.path.join(out, "pool_as_conv.net")
with h5py.File(pool_net) as src, h5py.File(conv_net, "w") as dst:
    src.copy("layer", dst)
    g = dst["layer/1"]
    kernel = g["weight"][()]  # (1, 1, kH, kW): one kernel shared by all channels
    channels = int(g["shape"][0])
    del g["type"], g["weight"], g["kernelSize"]
    g.create_dataset("type", (1,), "S10", [b"conv"])
    g.create_dataset("weight", data=np.tile(kernel, (channels, 1, 1, 1)))
    g.create_dataset("groups", data=channels)

steps = 40
inp = (np.random.rand(6, 6, 2, steps) < 0.15) * np.random.randint(1000, 9000, (6, 6, 2, steps))
h, o = netx_oracle.run(conv_net, inp)
np.savez(os.path.join(out, "pool.npz"), input=inp, pool=h, out=o)
os.remove(conv_net)
print("pool layer spikes", int(h.sum()), "of", h.size, "; output spikes", int(o.sum()), "of", o.size)
