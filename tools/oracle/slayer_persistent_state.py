"""Ground truth for the state basalt-slayer's Recurrent and KWTA blocks carry from one forward
call to the next (slayer forces `persistent_state` on for them). Usage (oracle venv):
python tools/oracle/slayer_persistent_state.py OUT_DIR

Writes persistent.npz: four spike inputs x0, x1 (batch 2) and x2, x3 (batch 3), each (b, 8, 40),
fed in that order, without gradients, to each of
  * cuba.Recurrent(8 -> 12) (weights rec_w, rec_r; outputs rec_out0..3),
  * alif.Recurrent(8 -> 12) (alif_w, alif_r; alif_out0..3),
  * cuba.KWTA(8 -> 6, 2 winners, self-excitation 0.5, lava-dl's default delay_shift, whose
    step_delay buffers the last output step across calls) (kwta_w; kwta_out0..3).
x1 continues from the states x0 left, x2 starts from rest (another batch size), x3 continues
from x2. The script checks that the carried state matters (x1's output differs from a fresh
block's) so that the ground truth can tell a carried state from none."""
import copy, os, sys
import numpy as np, torch
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(21)
np.random.seed(21)
steps = 40
p = {'threshold': 0.5, 'current_decay': 0.25, 'voltage_decay': 0.1}
p_alif = {'threshold': 1.0, 'threshold_step': 0.5, 'current_decay': 0.3, 'voltage_decay': 0.1,
          'threshold_decay': 0.1, 'refractory_decay': 0.2}
xs = [(np.random.rand(b, 8, steps) < 0.35).astype(np.float32) for b in (2, 2, 3, 3)]
rec = {f"x{k}": x.astype(np.float64) for k, x in enumerate(xs)}


def w2(w):
    return w.detach().reshape(w.shape[0], -1).numpy().astype(np.float64)


cases = [
    ("rec", slayer.block.cuba.Recurrent(dict(p), 8, 12, weight_scale=3)),
    ("alif", slayer.block.alif.Recurrent(dict(p_alif), 8, 12, weight_scale=3)),
    ("kwta", slayer.block.cuba.KWTA(dict(p), 8, 6, 2, weight_scale=3)),
]
for name, block in cases:
    fresh = copy.deepcopy(block)
    if hasattr(block, "input_synapse"):
        rec[f"{name}_w"] = w2(block.input_synapse.weight)
        rec[f"{name}_r"] = w2(block.recurrent_synapse.weight)
    else:
        rec[f"{name}_w"] = w2(block.synapse.weight)
    with torch.no_grad():
        outs = [block(torch.tensor(x)).numpy().astype(np.float64) for x in xs]
        alone = fresh(torch.tensor(xs[1])).numpy()
    for k, o in enumerate(outs):
        rec[f"{name}_out{k}"] = o
    carried = int((alone != outs[1]).sum())
    print(f"{name}: spikes per call {[int(o.sum()) for o in outs]}; x1 after x0 differs from x1 alone in "
          f"{carried} places")
    assert carried > 0
np.savez(os.path.join(out, "persistent.npz"), **rec)
