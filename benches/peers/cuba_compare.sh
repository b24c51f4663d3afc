#!/usr/bin/env bash
# Runs the CUBA E/I benchmark (4000 LIF, p = 0.02, 10,000 steps of 0.1 ms) in Basalt, Brian2
# (C++ standalone) and BrainPy, one after the other on this machine.
# Usage: benches/peers/cuba_compare.sh PEERS_VENV
#   PEERS_VENV: a Python 3.11 venv with `pip install brian2 brainpy jax[cpu] numba 'numpy<2.1'`
#   (kept apart from the oracle venv: brainpy needs numpy 2, Lava numpy 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${1:?usage: cuba_compare.sh PEERS_VENV}/bin/python"
cargo build --release --example cuba -q
echo "== Basalt";  ./target/release/examples/cuba | tail -2
echo "== Brian2";  "$PY" benches/peers/brian2_cuba.py 2>/dev/null | tail -1
echo "== BrainPy"; "$PY" benches/peers/brainpy_cuba.py 2>/dev/null | tail -1
