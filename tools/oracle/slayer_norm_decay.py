"""Ground truth for basalt-slayer's batch norm (neuron biases) and learnable decays. Usage
(oracle venv): python tools/oracle/slayer_norm_decay.py OUT_DIR

1. Dense (dense.net, dense.npz): slayer's cuba Input(8) -> Dense(8 -> 12) -> Dense(12 -> 3),
   both Dense blocks with `norm=MeanOnlyBatchNorm` and learnable decays
   (`requires_grad=True`). Three training forwards on random batches move the running
   means away from 0 (`rm*_before`); the export (lava-dl's own: `bias` =
   -quantize_8bit(running mean)·64, the learned iDecay/vDecay) is dense.net. On two spike
   samples x (2, 8, 50): the eval-mode forward (biases from the running means: `eval_*`),
   which Lava 0.10 runs from dense.net exactly, one step earlier (`out_lava`); then the
   training-mode forward (batch means: every block's spikes), the SpikeRate(0.2, 0.03)
   loss for labels [0, 2], its gradients w.r.t. the weights, the four decays and the input,
   and the running means after that forward (`rm*_after`).
2. Conv (conv.net, conv.npz): cuba Input(2x6x6) -> Conv(2 -> 4, 3x3, norm) -> Flatten ->
   Dense(64 -> 3): the batch norm's mean per channel (over batch, H, W and time). The same
   records (no learnable decays)."""
import os, sys
import numpy as np, torch
import netx_oracle
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(11)
np.random.seed(11)
steps = 50
norm = slayer.neuron.norm.MeanOnlyBatchNorm


def flat(t):
    return t.detach().numpy().astype(np.float64)


def lava_input(blocks, x_np):
    q = blocks[0].neuron.quantize_8bit(torch.tensor(x_np[0])).numpy()
    return (q * 64).round().astype(np.int32)


def run_case(stem, blocks, in_shape, normed, learn, labels):
    # Warm the running means on random batches (training mode), then fix them for export.
    for _ in range(3):
        xw = torch.tensor((np.random.rand(4, *in_shape, steps) < 0.3).astype(np.float32))
        netx_oracle.forward_all(blocks, xw)
    if learn:  # move the decays off their initial values, as training would
        with torch.no_grad():
            for i in normed:
                blocks[i].neuron.current_decay.data += torch.tensor([37.3])
                blocks[i].neuron.voltage_decay.data -= torch.tensor([21.6])
    path = os.path.join(out, f"{stem}.net")
    x_np = (np.random.rand(2, *in_shape, steps) < 0.3).astype(np.float32)
    blocks.eval()
    with torch.no_grad():
        netx_oracle.export(blocks, path, torch.tensor(x_np[:1]))
        rm_before = {f"rm{i}_before": flat(blocks[i].neuron.norm.running_mean) for i in normed}
        evals = netx_oracle.forward_all(blocks, torch.tensor(x_np))
    # Lava: sample 0, one step earlier (the Input block's shift).
    _, o = netx_oracle.run(path, lava_input(blocks, x_np).reshape(-1, steps) if len(in_shape) == 1 else
                           np.transpose(lava_input(blocks, x_np), (2, 1, 0, 3)))
    want = flat(evals[-1][0])
    same = np.array_equal(o[:, :-1], want[:, 1:])
    print(f"{stem}: Lava == slayer eval one step earlier: {same}; output spikes {int(o.sum())}")
    assert same
    blocks.train()
    x = torch.tensor(x_np, requires_grad=True)
    outs = netx_oracle.forward_all(blocks, x)
    loss = slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, reduction="sum")(outs[-1], torch.tensor(labels))
    loss.backward()
    g2 = lambda w: w.grad.reshape(w.grad.shape[0], -1).numpy().astype(np.float64)
    rec = dict(x=x_np.astype(np.float64), loss=np.array([loss.item()]), grad_x=flat(x.grad),
               out_lava=o.astype(np.float64), **rm_before)
    for i, (e, t) in enumerate(zip(evals, outs)):
        rec[f"eval{i}"] = flat(e)
        rec[f"train{i}"] = flat(t)
    for i, b in enumerate(blocks):
        if getattr(b, "synapse", None) is not None:
            rec[f"grad_w{i}"] = g2(b.synapse.weight)
    for i in normed:
        n = blocks[i].neuron
        rec[f"rm{i}_after"] = flat(n.norm.running_mean)
        if learn:
            rec[f"cd{i}"] = flat(n.current_decay)
            rec[f"vd{i}"] = flat(n.voltage_decay)
            rec[f"grad_cd{i}"] = flat(n.current_decay.grad)
            rec[f"grad_vd{i}"] = flat(n.voltage_decay.grad)
    np.savez(os.path.join(out, f"{stem}.npz"), **rec)
    print(f"{stem}: loss", loss.item(), "| train spikes per block", [int(t.sum()) for t in outs],
          "| eval spikes", [int(e.sum()) for e in evals],
          "| biases", [(-blocks[i].neuron.quantize_8bit(blocks[i].neuron.norm.running_mean) * 64).tolist()
                       for i in normed])


p = {'threshold': 0.5, 'current_decay': 0.25, 'voltage_decay': 0.1}
pn = dict(p, norm=norm, requires_grad=True)
dense = torch.nn.ModuleList([
    slayer.block.cuba.Input(p),
    slayer.block.cuba.Dense(pn, 8, 12, weight_scale=3),
    slayer.block.cuba.Dense(pn, 12, 3, weight_scale=3),
])
run_case("dense", dense, (8,), [1, 2], True, [0, 2])

pc = dict(p, norm=norm)
conv = torch.nn.ModuleList([
    slayer.block.cuba.Input(p),
    slayer.block.cuba.Conv(pc, 2, 4, 3, weight_scale=3),
    slayer.block.cuba.Flatten(),
    slayer.block.cuba.Dense(p, 64, 3, weight_scale=3),
])
run_case("conv", conv, (2, 6, 6), [1], False, [1, 2])
