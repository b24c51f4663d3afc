#!/usr/bin/env bash
# Times Lava 0.10 and Basalt on the same LIF(N) -> Dense(NxN) -> LIF(N) workload, one after
# the other on this machine, and prints a markdown table of steps/s and ratios.
# Usage: benches/peers/compare.sh [VENV]   (VENV: made by ../shared/oracle/setup.sh;
#        default .venv-oracle). Needs nothing else; takes a few minutes.
set -euo pipefail
source "$(dirname "$0")/oracle_venv.sh"
echo "== Lava 0.10 (1000 steps per size and precision)"
"$PY" benches/peers/lava_lif_dense_lif.py --json "$OUT/lava.json"
echo "== Basalt (criterion)"
cargo bench --bench lif_dense_lif -- --noplot 2>&1 | grep -E "lif_dense_lif_1000_steps/|thrpt:" || true
"$PY" - "$OUT/lava.json" <<'PY'
import json, sys, os
lava = json.load(open(sys.argv[1]))
targets = {100: 300, 1000: 30, 4000: 10}
print("\n| N | precision | Lava steps/s | Basalt steps/s | ratio | target |")
print("|---|---|---|---|---|---|")
for r in lava:
    est = f"target/criterion/lif_dense_lif_1000_steps/{r['precision']}/{r['n']}/new/estimates.json"
    if not os.path.exists(est):
        continue
    ns = json.load(open(est))["mean"]["point_estimate"]
    ours = 1000 / (ns * 1e-9)
    ratio = ours / r["steps_per_s"]
    t = targets.get(r["n"])
    print(f"| {r['n']} | {r['precision']} | {r['steps_per_s']:.0f} | {ours:.0f} | {ratio:.0f}x | >= {t}x {'ok' if ratio >= t else 'MISSED'} |")
PY
