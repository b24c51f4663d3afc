"""Ground truth for basalt-slayer's sigma-delta blocks. Usage (oracle venv):
python tools/oracle/slayer_sigma_delta.py OUT_DIR

slayer builds a sigma-delta network as lava-dl's PilotNet SDNN does (Input delta encoder ->
sigma_delta.Dense 12 -> 16 -> sigma_delta.Dense 16 -> 8 -> sigma_delta.Output 8 -> 3, ReLU,
thresholds 0.1 / 0.125 / 0.09) with random weights, and exports it with lava-dl's own
`export_hdf5` (sigma_delta.net). On two random-walk input samples (12 x 40, in [0, 3]) it
records (sigma_delta.npz):

* `x` (2, 12, 40); `input`, `hidden1`, `hidden2`, `out`: every block's forward output;
* `loss` = sum((out - target)^2) with `target` (2, 3, 40), and its gradients `w0`, `w1`, `w2`
  (each (out, in)) and `grad_x` (2, 12, 40);
* `out_lava`: the exported file run by lava-dl's netx in Lava fixed point on sample 0
  (input a_in = quantize_8bit(x)·64), 43 steps, the Sigma output's s_out (3, 43) — equal to
  slayer's `out[0]`·2^18 three steps later (one step per synapse hop)."""
import os, sys
import numpy as np, torch
import netx_oracle
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(5)
np.random.seed(5)
relu = torch.nn.functional.relu
blocks = torch.nn.ModuleList([
    slayer.block.sigma_delta.Input({'threshold': 0.1, 'activation': relu}),
    slayer.block.sigma_delta.Dense({'threshold': 0.125, 'activation': relu}, 12, 16, weight_scale=2),
    slayer.block.sigma_delta.Dense({'threshold': 0.09, 'activation': relu}, 16, 8, weight_scale=2),
    slayer.block.sigma_delta.Output({'threshold': 0.1, 'activation': relu}, 8, 3, weight_scale=2),
])
steps = 40
walk = np.cumsum(np.random.randn(2, 12, steps) * 0.25, axis=-1) + np.random.rand(2, 12, 1) * 2
x_np = np.clip(walk, 0, 3).astype(np.float32)
x_np[:, :, 30:] = x_np[:, :, 29:30]  # a constant tail: the encoders fall silent
path = os.path.join(out, "sigma_delta.net")
netx_oracle.export(blocks, path, torch.tensor(x_np[:1]))

x, outs, target, loss = netx_oracle.squared_error_backward(blocks, x_np, 3, steps)
grads = {f"w{i}": b.synapse.weight.grad.reshape(b.synapse.weight.shape[:2]).numpy().astype(np.float64)
         for i, b in enumerate(blocks[1:])}

# Lava fixed point on sample 0: three synapse hops, so run 3 steps longer.
q = blocks[0].neuron.quantize_8bit(torch.tensor(x_np[0])).numpy()
hops = 3
inp = np.concatenate([q * 64, np.zeros((12, hops))], axis=1).round().astype(np.int32)
_, out_lava = netx_oracle.run(path, inp)
want = outs[-1][0].detach().numpy().astype(np.float64) * 2 ** 18
assert np.array_equal(out_lava[:, hops:], want), np.abs(out_lava[:, hops:] - want).max()

np.savez(os.path.join(out, "sigma_delta.npz"), x=x_np.astype(np.float64),
         **{n: o.detach().numpy().astype(np.float64) for n, o in zip(["input", "hidden1", "hidden2", "out"], outs)},
         target=target.numpy().astype(np.float64), loss=np.array([loss.item()]),
         grad_x=x.grad.numpy().astype(np.float64), out_lava=out_lava.astype(np.float64), **grads)
nz = [int((o != 0).sum()) for o in outs[:3]]
print("loss", loss.item(), "| nonzero messages per block", nz, "of", [o.numel() for o in outs[:3]],
      "| Lava output equals slayer's times 2^18, 3 steps later")
