"""Ground truth for netx `dense_rec` (slayer's Recurrent block) from lava-dl's own netx.
Usage (oracle venv): python tools/oracle/netx_dense_rec.py OUT_DIR

slayer builds Input(10) -> Recurrent(10 -> 8) -> Dense(8 -> 3), all CUBA, and exports it
with lava-dl's `export_hdf5` (dense_rec.net). lava-dl's netx loads it (W and W_rec
quantised jointly, a second Dense from the neurons' spikes back to their a_in) and Lava
0.10 runs it in fixed point with random graded input on the input neurons' a_in;
dense_rec.npz keeps input, recurrent-layer spikes and output spikes."""
import os, sys
import h5py, numpy as np, torch
from lava.lib.dl import slayer, netx
from lava.proc.io.source import RingBuffer as Source
from lava.proc.io.sink import RingBuffer as Sink
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.magma.core.run_conditions import RunSteps

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
x = torch.rand(1, 10, 5)
for b in blocks:
    x = b(x)
path = os.path.join(out, "dense_rec.net")
with h5py.File(path, "w") as h:
    lay = h.create_group("layer")
    for i, b in enumerate(blocks):
        b.export_hdf5(lay.create_group(f"{i}"))

steps = 60
net = netx.hdf5.Network(net_config=path)
inp = (np.random.rand(10, steps) < 0.3) * np.random.randint(2000, 9000, (10, steps))
src = Source(data=inp)
src.s_out.connect(net.layers[0].neuron.a_in)
hidden = Sink(shape=net.layers[1].neuron.s_out.shape, buffer=steps)
net.layers[1].neuron.s_out.connect(hidden.a_in)
sink = Sink(shape=net.out.shape, buffer=steps)
net.out.connect(sink.a_in)
net.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
h, o = hidden.data.get(), sink.data.get()
net.stop()
np.savez(os.path.join(out, "dense_rec.npz"), input=inp, rec=h, out=o)
print("recurrent layer spikes", int(h.sum()), "of", h.size, "; output spikes", int(o.sum()), "of", o.size)
