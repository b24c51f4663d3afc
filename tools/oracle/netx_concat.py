"""Ground truth for a netx `concat` layer (a skip connection: the netx README's
`concat: {shape, type, layers}`), which lava-dl's netx loader cannot build
(NotImplementedError). Usage (oracle venv): python tools/oracle/netx_concat.py OUT_DIR

1. slayer exports Input(6) -> Dense(6 -> 8) -> Dense(8 -> 5) and a Dense(13 -> 4) with
   lava-dl's own `export_hdf5`; concat.net places between the last two a `concat` layer
   that joins layer 2's output with layer 1's (`layers = [1]`, shape 13).
2. Lava 0.10 runs the same network built by hand: lava-dl's netx loads layers 0..2, and
   the last layer is a LIF with netx's CUBA mapping (vth = vThMant, du = iDecay - 1,
   dv = vDecay, bias_exp = 6) fed by two Dense synapses holding the columns of
   netx's `optimize_weight_bits` of the whole (4, 13) weight for layer 2 and layer 1.
3. concat.npz keeps input, layer-1 spikes and output spikes (fixed point, random graded
   input on the input neurons' a_in)."""
import os, sys
import h5py, numpy as np, torch
from lava.lib.dl import netx, slayer
from lava.lib.dl.netx.utils import optimize_weight_bits
from lava.proc.lif.process import LIF
from lava.proc.dense.process import Dense
from lava.proc.io.source import RingBuffer as Source
from lava.proc.io.sink import RingBuffer as Sink
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.magma.core.run_conditions import RunSteps

out = sys.argv[1]
torch.manual_seed(13)
np.random.seed(13)
p = {'threshold': 0.5, 'current_decay': 0.25, 'voltage_decay': 0.1}
blocks = [
    slayer.block.cuba.Input(p),
    slayer.block.cuba.Dense(p, 6, 8, weight_scale=3),
    slayer.block.cuba.Dense(p, 8, 5, weight_scale=3),
]
last = slayer.block.cuba.Dense({**p, 'threshold': 2.0}, 13, 4, weight_scale=2)
x = torch.rand(1, 6, 5)
h1 = blocks[1](blocks[0](x))
last(torch.cat([blocks[2](h1), h1], 1))  # fixes shapes

path = os.path.join(out, "concat.net")
head = os.path.join(out, "head.net")
for f, with_tail in ((path, True), (head, False)):
    with h5py.File(f, "w") as h:
        lay = h.create_group("layer")
        for i, b in enumerate(blocks):
            b.export_hdf5(lay.create_group(f"{i}"))
        if with_tail:
            g = lay.create_group("3")
            g.create_dataset("type", (1,), "S10", [b"concat"])
            g.create_dataset("shape", data=np.array([13]))
            g.create_dataset("layers", data=np.array([1]))
            last.export_hdf5(lay.create_group("4"))

with h5py.File(path) as h:
    w = h["layer/4/weight"][()].astype(int)
    n = {k: h[f"layer/4/neuron/{k}"][()] for k in ("vThMant", "iDecay", "vDecay")}

steps = 60
inp = (np.random.rand(6, steps) < 0.5) * np.random.randint(1000, 9000, (6, steps))
net = netx.hdf5.Network(net_config=head)
w_opt, bits, exp, _ = optimize_weight_bits(w)
lif = LIF(shape=(4,), vth=n["vThMant"], du=n["iDecay"] - 1, dv=n["vDecay"], bias_exp=6)
for cols, layer in ((slice(0, 5), net.layers[2]), (slice(5, 13), net.layers[1])):
    d = Dense(weights=w_opt[:, cols], weight_exp=exp, num_weight_bits=bits, num_message_bits=0)
    layer.neuron.s_out.connect(d.s_in)
    d.a_out.connect(lif.a_in)
src = Source(data=inp)
src.s_out.connect(net.layers[0].neuron.a_in)
hidden = Sink(shape=(8,), buffer=steps)
net.layers[1].neuron.s_out.connect(hidden.a_in)
sink = Sink(shape=(4,), buffer=steps)
lif.s_out.connect(sink.a_in)
net.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
h, o = hidden.data.get(), sink.data.get()
net.stop()
np.savez(os.path.join(out, "concat.npz"), input=inp, layer1=h, out=o)
os.remove(head)
print("layer-1 spikes", int(h.sum()), "of", h.size, "; output spikes", int(o.sum()), "of", o.size)
