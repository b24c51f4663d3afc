"""Small SHD-format files (the Spiking Heidelberg Digits HDF5 layout) and their ground truth
for basalt-slayer's SHD reader. Usage (oracle venv): python tools/oracle/shd_files.py OUT_DIR

SHD stores each sample as variable-length sequences: /spikes/times (seconds) and
/spikes/units (channel 0..699), with /labels. Two files, written by h5py:
* shd_f16.h5: times float16, units uint16, labels uint8 (SHD's own types), 4 samples, the
  third one empty;
* shd_f64.h5: times float64, units int32, labels int16, 3 samples.
shd.npz holds, per file and sample, the times and units as h5py reads them, the labels, and
the sample binned as slayer's `io.Event(units, None, 0, times·1000).fill_tensor` does
(OR binning, 1 ms steps, (1, 1, 700, 1000)) -> `{stem}_{i}_bins` as (700, 1000)."""
import os, sys
import numpy as np, h5py
from lava.lib.dl import slayer

out = sys.argv[1]
rng = np.random.default_rng(17)
truth = {}
for stem, tt, ut, lt, counts in [("shd_f16", np.float16, np.uint16, np.uint8, [120, 35, 0, 300]),
                                  ("shd_f64", np.float64, np.int32, np.int16, [10, 250, 64])]:
    path = os.path.join(out, f"{stem}.h5")
    with h5py.File(path, "w") as h:
        times = h.create_dataset("spikes/times", (len(counts),), dtype=h5py.vlen_dtype(tt))
        units = h.create_dataset("spikes/units", (len(counts),), dtype=h5py.vlen_dtype(ut))
        labels = rng.integers(0, 20, len(counts)).astype(lt)
        h.create_dataset("labels", data=labels)
        for i, n in enumerate(counts):
            times[i] = np.sort(rng.uniform(0, 1.2, n)).astype(tt)
            units[i] = rng.integers(0, 700, n).astype(ut)
    with h5py.File(path, "r") as h:
        truth[f"{stem}_labels"] = h["labels"][:].astype(np.float64)
        for i in range(len(counts)):
            t = h["spikes/times"][i].astype(np.float64)
            u = h["spikes/units"][i].astype(np.float64)
            truth[f"{stem}_{i}_times"] = t
            truth[f"{stem}_{i}_units"] = u
            bins = np.zeros((1, 1, 700, 1000))
            if len(u):  # slayer's Event cannot hold no events (an empty sample bins to zeros)
                ev = slayer.io.Event(u, None, np.zeros_like(u), t * 1000)
                bins = ev.fill_tensor(bins, sampling_time=1)
            truth[f"{stem}_{i}_bins"] = bins.reshape(700, 1000)
    print(stem, "samples", counts, "labels", truth[f"{stem}_labels"])
np.savez_compressed(os.path.join(out, "shd.npz"), **truth)
