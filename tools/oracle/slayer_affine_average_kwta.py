"""Ground truth for basalt-slayer's Affine, Average and KWTA blocks. Usage (oracle venv):
python tools/oracle/slayer_affine_average_kwta.py OUT_DIR

1. Affine (affine.net, affine.npz): cuba Input(8) -> Dense(8 -> 12) -> Affine(12 -> 3), whose
   output is the CUBA voltage without threshold or reset (`dynamics=True`). On two spike
   samples x (2, 8, 50): every block's output, the loss sum((v - 0.1)^2), its gradients
   w.r.t. both weights and the input. affine.net is lava-dl's export (a dense layer with
   vThMant = 2^18 - 1); Lava 0.10 runs it on sample 0 and its last layer's voltage `v`
   (probed each step) equals slayer's Affine output times 4096 at the same step (`v_lava`:
   the Affine block has no delay_shift, which makes up for the Input block's). Also the same Affine block with `dynamics=False` (its output is the synaptic
   current): `current`, `grad_w_current`.
2. Average (average.npz): cuba Input(8) -> Dense(8 -> 12) -> Average(3): outputs, the loss
   sum((y - 0.2)^2), gradients w.r.t. the weight and the input (lava-dl cannot export it:
   netx has no average layer).
3. KWTA (kwta.npz): cuba Input(8) -> KWTA(8 -> 6, 2 winners, self-excitation 0.5, no
   delay_shift: lava-dl's KWTA fails to train with it) -> Dense(6 -> 3), every block's output, the SpikeRate(0.2, 0.03) loss for labels [0, 2],
   gradients w.r.t. the input weights, the self-excitation, the dense weights and the input
   (lava-dl exports nothing for KWTA)."""
import os, sys
import numpy as np, torch
import netx_oracle
from netx_oracle import flat, g2
from lava.lib.dl import slayer, netx
from lava.proc.io.source import RingBuffer as Source
from lava.proc.monitor.process import Monitor
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.magma.core.run_conditions import RunSteps

out = sys.argv[1]
torch.manual_seed(13)
np.random.seed(13)
steps = 50
p = {'threshold': 0.5, 'current_decay': 0.25, 'voltage_decay': 0.1}


def spikes(shape):
    return (np.random.rand(*shape) < 0.3).astype(np.float32)


# 1. Affine
blocks = torch.nn.ModuleList([
    slayer.block.cuba.Input(p),
    slayer.block.cuba.Dense(p, 8, 12, weight_scale=3),
    slayer.block.cuba.Affine(p, 12, 3, weight_scale=3),
])
x_np = spikes((2, 8, steps))
path = os.path.join(out, "affine.net")
netx_oracle.export(blocks, path, torch.tensor(x_np[:1]))
x = torch.tensor(x_np, requires_grad=True)
outs = netx_oracle.forward_all(blocks, x)
loss = ((outs[-1] - 0.1) ** 2).sum()
loss.backward()
rec = dict(x=x_np.astype(np.float64), loss=np.array([loss.item()]), grad_x=flat(x.grad),
           grad_w1=g2(blocks[1].synapse.weight), grad_w2=g2(blocks[2].synapse.weight),
           **{f"out{i}": flat(o) for i, o in enumerate(outs)})
# Lava: the last layer's voltage.
net = netx.hdf5.Network(net_config=path)
inp = (blocks[0].neuron.quantize_8bit(torch.tensor(x_np[0])).numpy() * 64).round().astype(np.int32)
src = Source(data=inp)
src.s_out.connect(net.layers[0].neuron.a_in)
mon = Monitor()
mon.probe(net.layers[-1].neuron.v, steps)
net.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
v = mon.get_data()[net.layers[-1].neuron.name]["v"].T  # (3, steps)
net.stop()
want = flat(outs[-1][0]) * 4096
same = np.array_equal(v, want)
print("affine: Lava v == slayer voltage·4096:", same, "| max |v|", np.abs(v).max(),
      "| differing", int((v != want).sum()))
assert same
rec["v_lava"] = v.astype(np.float64)
# dynamics=False: the Affine block's output is its synaptic current.
cur = slayer.block.cuba.Affine(p, 12, 3, weight_scale=3, dynamics=False)
with torch.no_grad():
    cur.synapse.weight.data = blocks[2].synapse.weight.data.clone()
h = outs[1].detach()
c = cur(h)
(c ** 2).sum().backward()
rec["current"] = flat(c)
rec["grad_w_current"] = g2(cur.synapse.weight)
np.savez(os.path.join(out, "affine.npz"), **rec)
print("affine: loss", loss.item())

# 2. Average
blocks = torch.nn.ModuleList([
    slayer.block.cuba.Input(p),
    slayer.block.cuba.Dense(p, 8, 12, weight_scale=3),
    slayer.block.cuba.Average(3),
])
x_np = spikes((2, 8, steps))
x = torch.tensor(x_np, requires_grad=True)
outs = netx_oracle.forward_all(blocks, x)
loss = ((outs[-1] - 0.2) ** 2).sum()
loss.backward()
np.savez(os.path.join(out, "average.npz"), x=x_np.astype(np.float64), loss=np.array([loss.item()]),
         grad_x=flat(x.grad), grad_w1=g2(blocks[1].synapse.weight),
         w1=blocks[1].synapse.weight.detach().reshape(12, 8).numpy().astype(np.float64),
         **{f"out{i}": flat(o) for i, o in enumerate(outs)})
print("average: loss", loss.item())

# 3. KWTA
blocks = torch.nn.ModuleList([
    slayer.block.cuba.Input(p),
    # delay_shift=False: with lava-dl's default (True) the KWTA block cannot train — its
    # persistent-state step_delay writes into a custom autograd output in place.
    slayer.block.cuba.KWTA(dict(p), 8, 6, 2, weight_scale=3, delay_shift=False),
    slayer.block.cuba.Dense(p, 6, 3, weight_scale=3),
])
netx_oracle.kwta_case(blocks, spikes((2, 8, steps)), os.path.join(out, "kwta.npz"), "kwta")
