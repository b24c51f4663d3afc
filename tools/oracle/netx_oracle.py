"""Shared by the netx_*.py oracle scripts: exporting slayer blocks as a netx file, and
running a netx file in Lava 0.10 (fixed point) with graded input on the first layer's
neurons' a_in, recording layer 1's and the output layer's spikes."""
import h5py, numpy as np, torch
from lava.lib.dl import netx
from lava.proc.io.source import RingBuffer as Source
from lava.proc.io.sink import RingBuffer as Sink
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.magma.core.run_conditions import RunSteps


def export(blocks, path, sample):
    """Runs `sample` through the slayer blocks (to fix their shapes), then writes them with
    lava-dl's own export_hdf5 under /layer/<i>."""
    x = sample
    for b in blocks:
        x = b(x)
    with h5py.File(path, "w") as h:
        lay = h.create_group("layer")
        for i, b in enumerate(blocks):
            b.export_hdf5(lay.create_group(f"{i}"))


def forward_all(blocks, x):
    """Every block's output for input x, in order (gradients on)."""
    outs = []
    for b in blocks:
        x = b(x)
        outs.append(x)
    return outs


def run(net_path, inp):
    """Runs the netx file for inp.shape[-1] steps; returns (layer-1 spikes, output spikes)."""
    steps = inp.shape[-1]
    net = netx.hdf5.Network(net_config=net_path)
    src = Source(data=inp)
    src.s_out.connect(net.layers[0].neuron.a_in)
    hidden = Sink(shape=net.layers[1].neuron.s_out.shape, buffer=steps)
    net.layers[1].neuron.s_out.connect(hidden.a_in)
    sink = Sink(shape=net.out.shape, buffer=steps)
    net.out.connect(sink.a_in)
    net.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    h, o = hidden.data.get(), sink.data.get()
    net.stop()
    return h, o


def squared_error_backward(blocks, x_np, outputs, steps):
    """Runs x_np through the blocks with gradients, draws a random target (batch, outputs,
    steps) in [0, 1), and back-propagates sum((out - target)^2); returns (x, outs, target,
    loss)."""
    x = torch.tensor(x_np, requires_grad=True)
    outs = forward_all(blocks, x)
    target = torch.tensor(np.random.rand(x_np.shape[0], outputs, steps).astype(np.float32))
    loss = ((outs[-1] - target) ** 2).sum()
    loss.backward()
    return x, outs, target, loss


def flat(t):
    """A tensor's values as float64 (detached)."""
    return t.detach().numpy().astype(np.float64)


def g2(w):
    """A weight's gradient as a 2-D float64 array (outputs, everything else)."""
    return w.grad.reshape(w.grad.shape[0], -1).numpy().astype(np.float64)


def w2(w):
    """A weight as a 2-D float64 array (outputs, everything else)."""
    return w.detach().reshape(w.shape[0], -1).numpy().astype(np.float64)


def kwta_case(blocks, x_np, path, label):
    """Ground truth of an Input -> KWTA -> Dense network (blocks[1] the KWTA, 8 -> 6; blocks[2]
    the Dense, 6 -> 3) on spikes x_np (2, 8, T): every block's output, the SpikeRate(0.2, 0.03)
    loss for labels [0, 2] and its gradients w.r.t. the input, both weights and the
    self-excitation, saved to `path`; prints a summary headed `label`."""
    from lava.lib.dl import slayer

    x = torch.tensor(x_np, requires_grad=True)
    outs = forward_all(blocks, x)
    loss = slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, reduction="sum")(outs[-1], torch.tensor([0, 2]))
    loss.backward()
    k = blocks[1]
    np.savez(path, x=x_np.astype(np.float64), loss=np.array([loss.item()]),
             grad_x=flat(x.grad), grad_w1=g2(k.synapse.weight), grad_w2=g2(blocks[2].synapse.weight),
             grad_a=flat(k.self_excitation.grad),
             w1=k.synapse.weight.detach().reshape(6, 8).numpy().astype(np.float64),
             w2=blocks[2].synapse.weight.detach().reshape(3, 6).numpy().astype(np.float64),
             **{f"out{i}": flat(o) for i, o in enumerate(outs)})
    print(f"{label}: loss", loss.item(), "| spikes per block", [int(o.sum()) for o in outs],
          "| winners per step (max)", int(outs[1].sum(dim=1).max()))
