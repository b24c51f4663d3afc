"""Ground truth for basalt-slayer's losses. Usage (oracle venv):
python tools/oracle/slayer_losses.py OUT_DIR

Random spike trains (batch 3, 4 outputs, 30 steps, rate 0.3), labels [2, 0, 3] and random
desired spike trains; slayer's SpikeMax (probability and logsoftmax modes), SpikeTime
(time_constant 5, length 20), SpikeRate (0.2 / 0.03) and SpikeMoid (alpha 0.2, theta 0.25,
for random 0/1 targets `moid_target` (3, 4) drawn after the rest), and with moving_window=5
for per-step labels `step_labels` (3, 30) drawn after those, SpikeRate (0.2 / 0.03) and
SpikeMax (logsoftmax; its probability mode is log(0) = inf whenever a labelled output has
not spiked in the window), all with reduction 'sum'; MovingWindow(5)'s rate and predict. Each
loss value and its gradient w.r.t. the input spikes go to losses.npz."""
import os, sys
import numpy as np, torch
from lava.lib.dl import slayer

out = sys.argv[1]
torch.manual_seed(17)
spikes = (torch.rand(3, 4, 30) < 0.3).float()
desired = (torch.rand(3, 4, 30) < 0.2).float()
labels = torch.tensor([2, 0, 3])
moid_target = (torch.rand(3, 4) < 0.5).float()
step_labels = torch.randint(0, 4, (3, 30))
arrays = {"spikes": spikes.numpy().astype(np.float64), "desired": desired.numpy().astype(np.float64),
          "labels": labels.numpy().astype(np.float64), "moid_target": moid_target.numpy().astype(np.float64)}
cases = {
    "max_probability": lambda x: slayer.loss.SpikeMax(mode="probability")(x, labels),
    "max_logsoftmax": lambda x: slayer.loss.SpikeMax(mode="logsoftmax")(x, labels),
    "time": lambda x: slayer.loss.SpikeTime(time_constant=5, length=20)(x, desired),
    "rate": lambda x: slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03)(x, labels),
    "moid": lambda x: slayer.loss.SpikeMoid(alpha=0.2, theta=0.25)(x, moid_target),
    "rate_window": lambda x: slayer.loss.SpikeRate(true_rate=0.2, false_rate=0.03, moving_window=5)(x, step_labels),
    "max_window_logsoftmax": lambda x: slayer.loss.SpikeMax(moving_window=5, mode="logsoftmax")(x, step_labels),
}
arrays["step_labels"] = step_labels.numpy().astype(np.float64)
window = slayer.classifier.MovingWindow(5)
arrays["window_rate"] = window.rate(spikes).numpy().astype(np.float64)
arrays["window_predict"] = window.predict(spikes).numpy().astype(np.float64)
for name, f in cases.items():
    x = spikes.clone().requires_grad_(True)
    loss = f(x)
    loss.backward()
    arrays[f"{name}_loss"] = np.array([loss.item()])
    arrays[f"{name}_grad"] = x.grad.numpy().astype(np.float64)
    print(name, loss.item())
np.savez(os.path.join(out, "losses.npz"), **arrays)
