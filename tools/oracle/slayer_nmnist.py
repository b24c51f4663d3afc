"""Ground truth for basalt-slayer's NMNIST event reader. Usage (oracle venv):
python tools/oracle/slayer_nmnist.py OUT_DIR

300 random events (x, y in 0..10 so that some fall outside an 8x8 frame, both polarities,
times up to 60 ms at microsecond resolution) written with lava-dl's
`slayer.io.encode_2d_spikes` (events.bin: NMNIST's 40-bit format), read back with
`read_2d_spikes` and binned with `to_tensor(sampling_time=1.5, dim=(2, 8, 8, 40))`
(OR binning, value 1/sampling_time): events.npz keeps the decoded events and the tensor
(C, H, W, T)."""
import os, sys
import numpy as np
from lava.lib.dl import slayer

out = sys.argv[1]
rng = np.random.default_rng(23)
n = 300
x, y, p = rng.integers(0, 10, n), rng.integers(0, 10, n), rng.integers(0, 2, n)
t_us = np.sort(rng.integers(0, 60000, n))
path = os.path.join(out, "events.bin")
slayer.io.encode_2d_spikes(path, slayer.io.Event(x, y, p, t_us / 1000))
ev = slayer.io.read_2d_spikes(path)
frame = ev.to_tensor(sampling_time=1.5, dim=(2, 8, 8, 40))
np.savez(os.path.join(out, "events.npz"), x=ev.x.astype(np.float64), y=ev.y.astype(np.float64),
         p=ev.c.astype(np.float64), t=ev.t.astype(np.float64), frame=frame.astype(np.float64))
print(frame.shape, frame.sum(), os.path.getsize(path))
