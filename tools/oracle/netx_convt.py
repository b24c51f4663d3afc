"""Ground truth for netx `convT` and `unpool` layers, which lava-dl's netx loader cannot build
(NotImplementedError). Usage (oracle venv): python tools/oracle/netx_convt.py OUT_DIR

1. slayer builds Input(2x3x3) -> ConvT(2 -> 4, 3x3, stride 2, padding 1, groups 2) ->
   Unpool(2x2) -> Flatten -> Dense(4*10*10 -> 5), all CUBA, and exports it with lava-dl's
   own `export_hdf5` (convt.net: the file we load).
2. Both up-sampling layers are linear maps: each is rewritten as the dense layer it is
   (columns = torch's conv_transpose2d of unit inputs, in C-order CHW as slayer flattens),
   with a flatten after the input layer (convt_as_dense.net), which lava-dl's netx loads.
3. Lava 0.10 runs convt_as_dense.net in fixed point with random graded input on the input
   neurons' a_in; convt.npz keeps input, convT-layer spikes (CHW-flat) and output spikes."""
import os, sys
import h5py, numpy as np, torch
import torch.nn.functional as F
import netx_oracle
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(3)
np.random.seed(3)
p = {'threshold': 1.0, 'current_decay': 0.25, 'voltage_decay': 0.1}
p_up = {'threshold': 0.6, 'current_decay': 0.5, 'voltage_decay': 0.25}
blocks = torch.nn.ModuleList([
    slayer.block.cuba.Input(p),
    slayer.block.cuba.ConvT(p_up, 2, 4, 3, stride=2, padding=1, groups=2, weight_scale=3),
    slayer.block.cuba.Unpool(p_up, 2, weight_scale=2),
    slayer.block.cuba.Flatten(),
    slayer.block.cuba.Dense(p, 4 * 10 * 10, 5, weight_scale=2),
])
convt_net = os.path.join(out, "convt.net")
netx_oracle.export(blocks, convt_net, torch.rand(1, 2, 3, 3, 5))


def as_matrix(g, in_chw):
    """The dense matrix (out CHW-flat, in CHW-flat) of a convT/unpool layer group."""
    w = torch.tensor(g["weight"][()], dtype=torch.float64)
    stride = tuple(int(x) for x in g["stride"][()])
    padding = tuple(int(x) for x in g["padding"][()])
    dilation = tuple(int(x) for x in g["dilation"][()])
    groups = int(g["groups"][()]) if "groups" in g else in_chw[0]
    if g["type"][0] == b"unpool":
        w = w.repeat(in_chw[0], 1, 1, 1)  # one kernel per channel
    n = int(np.prod(in_chw))
    cols = []
    for j in range(n):
        e = torch.zeros(n, dtype=torch.float64)
        e[j] = 1
        y = F.conv_transpose2d(e.reshape(1, *in_chw), w, None, stride, padding, 0, groups, dilation)
        cols.append(y.flatten())
    return torch.stack(cols, 1).numpy(), tuple(y.shape[1:])


dense_net = os.path.join(out, "convt_as_dense.net")
with h5py.File(convt_net) as src, h5py.File(dense_net, "w") as dst:
    lay = dst.create_group("layer")
    src.copy("layer/0", lay, "0")
    lay.create_group("1").create_dataset("type", (1,), "S10", [b"flatten"])
    chw = tuple(int(x) for x in src["layer/0/shape"][()])
    for i in (1, 2):
        m, chw = as_matrix(src[f"layer/{i}"], chw)
        g = lay.create_group(f"{i + 1}")
        g.create_dataset("type", (1,), "S10", [b"dense"])
        g.create_dataset("shape", data=np.array([m.shape[0]]))
        g.create_dataset("weight", data=m.astype(np.float32))
        src.copy(f"layer/{i}/neuron", g, "neuron")
    src.copy("layer/4", lay, "4")

steps = 40
inp = (np.random.rand(3, 3, 2, steps) < 0.3) * np.random.randint(1000, 9000, (3, 3, 2, steps))
h, o = netx_oracle.run(dense_net, inp)
np.savez(os.path.join(out, "convt.npz"), input=inp, convt=h, out=o)
os.remove(dense_net)
print("convT layer spikes", int(h.sum()), "of", h.size, "; output spikes", int(o.sum()), "of", o.size)
