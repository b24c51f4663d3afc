"""Ground truth for basalt-slayer's axonal delays and Recurrent blocks. Usage (oracle venv):
python tools/oracle/slayer_delay_recurrent.py OUT_DIR

1. Delays (delay.net, delay.npz): slayer's cuba Input(8) -> Dense(8 -> 12, delay=True) ->
   Dense(12 -> 10, delay=True) -> Dense(10 -> 3), delays set to U[0, 6) (fractional: the
   forward truncates them). On two random spike samples (2, 8, 50): every block's spikes,
   SpikeRate(0.2, 0.03) loss for labels [0, 2], gradients w.r.t. the three dense weights,
   the two delay vectors (d0, d1 -> grad_d0, grad_d1) and the input. delay.net is lava-dl's
   own export (each block's floor(delay) on its own layer), which lava-dl's netx loads as
   delays on the synapses *into* that layer. Lava 0.10 runs it on sample 0 (input a_in =
   quantize_8bit(x)·64) and spikes exactly as slayer, one step earlier (the Input block's
   shift): delaying all of a neuron's input by d delays its spikes by d, since the neurons
   start at rest and have no bias.
2. Recurrent (recurrent.net, recurrent.npz): cuba Input(8) -> cuba.Recurrent(8 -> 12) ->
   cuba.Dense(12 -> 3) on two samples (2, 8, 50): every block's spikes, SpikeRate loss for
   labels [1, 2], gradients w.r.t. the input weights, the recurrent weights, the dense
   weights and the input; Lava runs lava-dl's export (dense_rec) on sample 0 and spikes as
   slayer one step earlier. The same for alif.Recurrent (alif_recurrent.net / .npz), without the
   Lava run (lava-dl's netx loader builds no ALIF neurons for dense_rec layers)."""
import os, sys
import numpy as np, torch
import netx_oracle
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(5)
np.random.seed(5)
steps = 50


def flat(t):
    return t.detach().numpy().astype(np.float64)


def lava_input(blocks, x_np):
    """Sample 0 as Lava's input neurons receive it: quantize_8bit(x)·64."""
    q = blocks[0].neuron.quantize_8bit(torch.tensor(x_np[0])).numpy()
    return (q * 64).round().astype(np.int32)


def check_lava(path, inp, want, what):
    """Lava's output of `path` equals slayer's `want` (outputs, steps) one step earlier."""
    _, o = netx_oracle.run(path, inp)
    same = np.array_equal(o[:, :-1], want[:, 1:])
    print(f"{what}: Lava == slayer one step earlier: {same}; output spikes {int(o.sum())}, "
          f"{int((o[:, :-1] != want[:, 1:]).sum())} differ")
    return same, o


# 1. Delays
p = {'threshold': 0.5, 'current_decay': 0.25, 'voltage_decay': 0.1}
blocks = torch.nn.ModuleList([
    slayer.block.cuba.Input(p),
    slayer.block.cuba.Dense(p, 8, 12, weight_scale=3, delay=True),
    slayer.block.cuba.Dense(p, 12, 10, weight_scale=3, delay=True),
    slayer.block.cuba.Dense(p, 10, 3, weight_scale=3),
])
x_np = (np.random.rand(2, 8, steps) < 0.3).astype(np.float32)
with torch.no_grad():
    netx_oracle.forward_all(blocks, torch.tensor(x_np[:1]))  # sizes the delays
    for b in blocks[1:3]:
        b.delay.delay.data = torch.rand(b.delay.delay.shape) * 6
path = os.path.join(out, "delay.net")
netx_oracle.export(blocks, path, torch.tensor(x_np[:1]))
x = torch.tensor(x_np, requires_grad=True)
outs = netx_oracle.forward_all(blocks, x)
loss = slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, reduction="sum")(outs[-1], torch.tensor([0, 2]))
loss.backward()
want = flat(outs[-1][0])
inp = lava_input(blocks, x_np)
same, out_lava = check_lava(path, inp, want, "delays")
assert same
names = ["input", "dense1", "dense2", "out"]
np.savez(os.path.join(out, "delay.npz"), x=x_np.astype(np.float64),
         **{n: flat(o) for n, o in zip(names, outs)}, loss=np.array([loss.item()]), grad_x=flat(x.grad),
         out_lava=out_lava.astype(np.float64),
         **{f"w{i}": blocks[i + 1].synapse.weight.grad.reshape(blocks[i + 1].synapse.weight.shape[:2]).numpy()
            .astype(np.float64) for i in range(3)},
         **{f"d{i}": blocks[i + 1].delay.delay.detach().numpy().astype(np.float64) for i in range(2)},
         **{f"grad_d{i}": blocks[i + 1].delay.delay.grad.numpy().astype(np.float64) for i in range(2)})
print("delays: loss", loss.item(), "| spikes per block", [int(o.sum()) for o in outs])

# 2. Recurrent (CUBA, then ALIF)
p_rec = {'threshold': 1.0, 'current_decay': 0.3, 'voltage_decay': 0.1}
p_alif = {'threshold': 1.0, 'threshold_step': 0.5, 'current_decay': 0.3, 'voltage_decay': 0.1,
          'threshold_decay': 0.1, 'refractory_decay': 0.2}
for stem, kind, params in [("recurrent", slayer.block.cuba, p_rec), ("alif_recurrent", slayer.block.alif, p_alif)]:
    blocks = torch.nn.ModuleList([
        slayer.block.cuba.Input(p),
        kind.Recurrent(params, 8, 12, weight_scale=3),
        slayer.block.cuba.Dense(p, 12, 3, weight_scale=3),
    ])
    path = os.path.join(out, f"{stem}.net")
    x_np = (np.random.rand(2, 8, steps) < 0.3).astype(np.float32)
    netx_oracle.export(blocks, path, torch.tensor(x_np[:1]))
    # A fresh block: slayer's Recurrent keeps its neuron state across calls.
    for name in ["current_state", "voltage_state", "refractory_state"]:
        if hasattr(blocks[1].neuron, name):
            setattr(blocks[1].neuron, name, torch.zeros(1))
    if hasattr(blocks[1].neuron, "threshold_state"):
        blocks[1].neuron.threshold_state = blocks[1].neuron.threshold * torch.ones(1)
    x = torch.tensor(x_np, requires_grad=True)
    outs = netx_oracle.forward_all(blocks, x)
    loss = slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, reduction="sum")(outs[-1], torch.tensor([1, 2]))
    loss.backward()
    # lava-dl's netx builds no ALIF neurons for dense_rec layers (its loader fails), so
    # only the CUBA file runs in Lava.
    extra = {}
    if kind is slayer.block.cuba:
        same, out_lava = check_lava(path, lava_input(blocks, x_np), flat(outs[-1][0]), stem)
        assert same
        extra["out_lava"] = out_lava.astype(np.float64)
    rec = blocks[1]
    g2 = lambda w: w.grad.reshape(w.shape[:2]).numpy().astype(np.float64)
    np.savez(os.path.join(out, f"{stem}.npz"), x=x_np.astype(np.float64),
             **{n: flat(o) for n, o in zip(["input", "rec", "out"], outs)}, loss=np.array([loss.item()]),
             grad_x=flat(x.grad), **extra,
             w_in=g2(rec.input_synapse.weight), w_rec=g2(rec.recurrent_synapse.weight),
             w_out=g2(blocks[2].synapse.weight))
    print(f"{stem}: loss", loss.item(), "| spikes per block", [int(o.sum()) for o in outs])
