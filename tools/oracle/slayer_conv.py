"""Ground truth for basalt-slayer's Conv / Pool / Flatten blocks. Usage (oracle venv):
python tools/oracle/slayer_conv.py OUT_DIR

1. Sigma-delta (sd_conv.net, sd_conv.npz): slayer's sigma_delta Input (2x8x10) ->
   Conv(2 -> 4, 3x3, stride 2, padding 1) -> Conv(4 -> 6, 3x3) -> Flatten -> Dense(36 -> 10)
   -> Output(10 -> 3), exported with lava-dl's own export_hdf5. On two random-walk samples
   (2, 2, 8, 10, 30): every block's output, the squared-error loss toward `target`, its
   gradients w.r.t. the four weight tensors (w0..w3, torch shapes without the time axis) and
   the input (`grad_x`); and `out_lava`: lava-dl's netx running the file in Lava fixed point
   on sample 0 (input a_in = quantize_8bit(x)*64 in Lava's WHC order), 34 steps, which equals
   slayer's output times 2^18 four steps later (one per synapse hop).
2. CUBA (cuba_conv.net, cuba_conv.npz): cuba Input (2x8x10) -> Conv(2 -> 4, 3x3, padding 1)
   -> Pool(2x2) -> Flatten -> Dense(80 -> 3) on two random spike samples (2, 2, 8, 10, 40):
   every block's spikes, SpikeRate(0.2, 0.03) loss for labels [1, 2], gradients w.r.t. the
   conv and dense weights and the input."""
import os, sys
import numpy as np, torch
import netx_oracle
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(3)
np.random.seed(3)
relu = torch.nn.functional.relu


def flat(t):
    return t.detach().numpy().astype(np.float64)


def weight(b):
    w = b.synapse.weight
    return w.grad.reshape(w.shape[:4] if w.dim() == 5 and w.shape[-1] == 1 else w.shape[:2]).numpy().astype(np.float64)


# 1. sigma-delta
sd = lambda th: {'threshold': th, 'activation': relu}
blocks = torch.nn.ModuleList([
    slayer.block.sigma_delta.Input(sd(0.1)),
    slayer.block.sigma_delta.Conv(sd(0.125), 2, 4, 3, stride=2, padding=1, weight_scale=2),
    slayer.block.sigma_delta.Conv(sd(0.09), 4, 6, 3, weight_scale=2),
    slayer.block.sigma_delta.Flatten(),
    slayer.block.sigma_delta.Dense(sd(0.1), 36, 10, weight_scale=2),
    slayer.block.sigma_delta.Output(sd(0.1), 10, 3, weight_scale=2),
])
steps = 30
walk = np.cumsum(np.random.randn(2, 2, 8, 10, steps) * 0.25, axis=-1) + np.random.rand(2, 2, 8, 10, 1) * 2
x_np = np.clip(walk, 0, 3).astype(np.float32)
path = os.path.join(out, "sd_conv.net")
netx_oracle.export(blocks, path, torch.tensor(x_np[:1]))
x, outs, target, loss = netx_oracle.squared_error_backward(blocks, x_np, 3, steps)
with_weights = [b for b in blocks if hasattr(b, 'synapse')]
q = blocks[0].neuron.quantize_8bit(torch.tensor(x_np[0])).numpy()  # (C, H, W, T)
hops = 4
inp = np.concatenate([q * 64, np.zeros((2, 8, 10, hops))], axis=-1).transpose(2, 1, 0, 3).round().astype(np.int32)
_, out_lava = netx_oracle.run(path, inp)
want = flat(outs[-1][0]) * 2 ** 18
assert np.array_equal(out_lava[:, hops:], want), np.abs(out_lava[:, hops:] - want).max()
names = ["input", "conv1", "conv2", "flatten", "dense", "out"]
np.savez(os.path.join(out, "sd_conv.npz"), x=x_np.astype(np.float64),
         **{n: flat(o).reshape(o.shape[0], -1, o.shape[-1]) for n, o in zip(names, outs)},
         target=target.numpy().astype(np.float64), loss=np.array([loss.item()]),
         grad_x=x.grad.numpy().astype(np.float64).reshape(2, -1, steps), out_lava=out_lava.astype(np.float64),
         **{f"w{i}": weight(b) for i, b in enumerate(with_weights)})
print("sigma-delta: loss", loss.item(), "| nonzero per block", [int((o != 0).sum()) for o in outs[:5]],
      "| Lava output equals slayer's times 2^18, 4 steps later")

# 2. CUBA
p = {'threshold': 0.5, 'current_decay': 0.25, 'voltage_decay': 0.1}
p_conv = {'threshold': 1.0, 'current_decay': 0.3, 'voltage_decay': 0.05}
blocks = torch.nn.ModuleList([
    slayer.block.cuba.Input(p),
    slayer.block.cuba.Conv(p_conv, 2, 4, 3, padding=1, weight_scale=3),
    slayer.block.cuba.Pool(p, 2, weight_scale=1),
    slayer.block.cuba.Flatten(),
    slayer.block.cuba.Dense(p, 80, 3, weight_scale=3),
])
steps = 40
x_np = (np.random.rand(2, 2, 8, 10, steps) < 0.3).astype(np.float32)
path = os.path.join(out, "cuba_conv.net")
netx_oracle.export(blocks, path, torch.tensor(x_np[:1]))
x = torch.tensor(x_np, requires_grad=True)
outs = netx_oracle.forward_all(blocks, x)
loss = slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, reduction="sum")(outs[-1], torch.tensor([1, 2]))
loss.backward()
with_weights = [b for b in blocks if hasattr(b, 'synapse') and b.synapse.weight.requires_grad]
names = ["input", "conv", "pool", "flatten", "out"]
np.savez(os.path.join(out, "cuba_conv.npz"), x=x_np.astype(np.float64).reshape(2, -1, steps),
         **{n: flat(o).reshape(o.shape[0], -1, o.shape[-1]) for n, o in zip(names, outs)},
         loss=np.array([loss.item()]), grad_x=x.grad.numpy().astype(np.float64).reshape(2, -1, steps),
         **{f"w{i}": weight(b) for i, b in enumerate(with_weights)})
print("CUBA: loss", loss.item(), "| spikes per block", [int(o.sum()) for o in outs])
