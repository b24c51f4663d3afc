#!/usr/bin/env bash
# On-chip learning (STDP on LIF(100) -> LearningDense(100x100) -> LIF(100), 1000 steps):
# Lava 0.10 and Basalt, one after the other on this machine.
# Usage: benches/peers/learning_compare.sh ORACLE_VENV
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${1:?usage: learning_compare.sh ORACLE_VENV}/bin/python"
echo "== Lava 0.10"; "$PY" benches/peers/lava_learning.py 100 1000 2>/dev/null
echo "== Basalt";    cargo bench --bench learning -- --noplot 2>/dev/null | grep -E "stdp|thrpt"
