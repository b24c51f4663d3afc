"""Checks that NIR files Basalt wrote load with the real `nir` package.

Usage (oracle venv): python tools/oracle/nir_read_check.py FILE.nir ...
Prints each file's nodes and edges as nir.read returns them; exits non-zero on failure.
"""
import sys

import h5py
import nir

for path in sys.argv[1:]:
    g = nir.read(path)
    kinds = {k: type(v).__name__ for k, v in g.nodes.items()}
    with h5py.File(path) as f:
        version = f["version"][()].decode()
    print(f"{path}: version {version}, {len(g.nodes)} nodes {kinds}, {len(g.edges)} edges")
