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
from lava.lib.dl import slayer, netx
from lava.proc.io.source import RingBuffer as Source
from lava.proc.io.sink import RingBuffer as Sink
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.magma.core.run_conditions import RunSteps

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
x = torch.rand(1, 2, 6, 6, 5)
for b in blocks:
    x = b(x)
pool_net = os.path.join(out, "pool.net")
with h5py.File(pool_net, "w") as h:
    lay = h.create_group("layer")
    for i, b in enumerate(blocks):
        b.export_hdf5(lay.create_group(f"{i}"))

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
net = netx.hdf5.Network(net_config=conv_net)
inp = (np.random.rand(6, 6, 2, steps) < 0.15) * np.random.randint(1000, 9000, (6, 6, 2, steps))
src = Source(data=inp)
src.s_out.connect(net.layers[0].neuron.a_in)
hidden = Sink(shape=net.layers[1].neuron.s_out.shape, buffer=steps)
net.layers[1].neuron.s_out.connect(hidden.a_in)
sink = Sink(shape=net.out.shape, buffer=steps)
net.out.connect(sink.a_in)
net.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
h, o = hidden.data.get(), sink.data.get()
net.stop()
np.savez(os.path.join(out, "pool.npz"), input=inp, pool=h, out=o)
os.remove(conv_net)
print("pool layer spikes", int(h.sum()), "of", h.size, "; output spikes", int(o.sum()), "of", o.size)
