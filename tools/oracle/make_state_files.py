"""Writes state files with h5py and numpy for crates/core/tests/persistence.rs: the
fixed-point walkthrough network's Vars (process_name.var_name, Lava's dtypes) that the
tests load with Runtime::load_states. Also checks, when given Basalt-written files, that
h5py and numpy read them with the expected names, shapes and dtypes.

    python tools/oracle/make_state_files.py OUT_DIR [BASALT_FILE.h5 BASALT_FILE.npz]
"""
import sys, os
import numpy as np
import h5py

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
arrays = {
    "lif1.u": np.array([1, -2, 3], dtype=np.int32),
    "lif1.v": np.array([100, 200, -300], dtype=np.int32),
    "lif1.du": np.array([100], dtype=np.uint16),
    "lif1.bias_mant": np.array([800, 900, 1000], dtype=np.int16),
    "dense.weights": np.array([[40, 10, 20], [50, 90, 6]], dtype=np.int32),
    "dense.num_message_bits": np.array([0], dtype=np.int64),
    "lif2.v": np.array([5, 7], dtype=np.int32),
}
with h5py.File(os.path.join(out, "walkthrough_fixed_h5py.h5"), "w") as f:
    for k, v in arrays.items():
        f.create_dataset(k, data=v)
np.savez(os.path.join(out, "walkthrough_fixed_numpy.npz"), **arrays)
print("wrote", sorted(arrays))

for path in sys.argv[2:]:
    if path.endswith(".npz"):
        d = np.load(path)
        items = {k: d[k] for k in d.files}
    else:
        f = h5py.File(path, "r")
        items = {k: f[k][()] for k in f.keys()}
    for k in sorted(items):
        print(f"{os.path.basename(path)}: {k} shape={items[k].shape} dtype={items[k].dtype}")
