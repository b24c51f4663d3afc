"""Ground truth for basalt-slayer's resonate-and-fire neurons (slayer's `rf` and `rf_iz`).
Usage (oracle venv): python tools/oracle/slayer_rf.py OUT_DIR

For each of rf (phase spikes: real >= threshold as the imaginary state crosses zero upward)
and rf_iz (Izhikevich spikes: imaginary state >= threshold, then reset): slayer's cuba
Input(8) -> {rf,rf_iz}.Dense(8 -> 6, complex weights) -> cuba.Dense(6 -> 3), exported by
lava-dl's own export_hdf5 ({stem}.net: a dense layer with weight/real and weight/imag and an
RF_PHASE / RF_IZ neuron). On two spike samples x (2, 8, 50): every block's output, the RF
block's real and imaginary states (`real`, `imag`), the SpikeRate(0.2, 0.03) loss for
labels [0, 2] and its gradients w.r.t. the real, imaginary and output weights and the input.
Lava 0.10 runs the export on sample 0 (`hidden_lava`, `out_lava`)."""
import os, sys
import numpy as np, torch
import netx_oracle
from netx_oracle import g2, w2
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(29)
np.random.seed(29)
steps = 50
cuba = {'threshold': 0.5, 'current_decay': 0.25, 'voltage_decay': 0.1}
for stem, module, rf in [
    ("rf", slayer.block.rf, {'threshold': 0.1, 'period': 7, 'decay': 0.05}),
    ("rf_iz", slayer.block.rf_iz, {'threshold': 0.2, 'period': 9, 'decay': 0.1}),
]:
    blocks = torch.nn.ModuleList([
        slayer.block.cuba.Input(cuba),
        module.Dense(rf, 8, 6, weight_scale=4),
        slayer.block.cuba.Dense(cuba, 6, 3, weight_scale=4),
    ])
    x_np = (np.random.rand(2, 8, steps) < 0.3).astype(np.float32)
    path = os.path.join(out, f"{stem}.net")
    with torch.no_grad():
        netx_oracle.export(blocks, path, torch.tensor(x_np[:1]))
    x = torch.tensor(x_np, requires_grad=True)
    outs = netx_oracle.forward_all(blocks, x)
    with torch.no_grad():
        real, imag = blocks[1].neuron.dynamics(blocks[1].synapse(outs[0]))
    loss = slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, reduction="sum")(outs[-1], torch.tensor([0, 2]))
    loss.backward()
    rf_block = blocks[1]
    inp = (blocks[0].neuron.quantize_8bit(torch.tensor(x_np[0])).numpy() * 64).round().astype(np.int32)
    h, o = netx_oracle.run(path, inp)
    rec = dict(x=x_np.astype(np.float64), loss=np.array([loss.item()]), grad_x=x.grad.numpy().astype(np.float64),
               real=real.numpy().astype(np.float64), imag=imag.numpy().astype(np.float64),
               w_real=w2(rf_block.synapse.real.weight), w_imag=w2(rf_block.synapse.imag.weight),
               w_out=w2(blocks[2].synapse.weight), grad_w_real=g2(rf_block.synapse.real.weight),
               grad_w_imag=g2(rf_block.synapse.imag.weight), grad_w_out=g2(blocks[2].synapse.weight),
               sin_decay=np.array([rf_block.neuron.cx_sin_decay]), cos_decay=np.array([rf_block.neuron.cx_cos_decay]),
               hidden_lava=h.astype(np.float64), out_lava=o.astype(np.float64),
               **{f"out{i}": o_.detach().numpy().astype(np.float64) for i, o_ in enumerate(outs)})
    np.savez(os.path.join(out, f"{stem}.npz"), **rec)
    ours = outs[1][0].detach().numpy()
    print(stem, "loss", loss.item(), "| spikes per block", [int(t.sum()) for t in outs],
          "| sin/cos", rec["sin_decay"], rec["cos_decay"], "| Lava hidden spikes", int(h.sum()),
          "| Lava == slayer one step earlier:", np.array_equal(h[:, :-1], ours[:, 1:]),
          np.array_equal(o[:, :-1], outs[2][0].detach().numpy()[:, 1:]))
