"""Writes scikit-learn's 8x8 handwritten digits (1797 images, pixel values 0..16, UCI ML
hand-written digits) as crates/slayer/data/digits.npz: `images` (1797, 64) int16 in row
order, `labels` (1797,) int16. Usage (any venv with scikit-learn, e.g. the oracle venv):
python tools/data/make_digits.py crates/slayer/data/digits.npz"""
import sys
import numpy as np
from sklearn.datasets import load_digits

d = load_digits()
np.savez(sys.argv[1], images=d.data.astype(np.int16), labels=d.target.astype(np.int16))
print(d.data.shape, np.bincount(d.target))
