#!/usr/bin/env bash
# Times Lava 0.10 and Basalt on the netx workloads (benches/netx.rs), one after the other on
# this machine, and prints a markdown table of steps/s and ratios (target >= 50x).
# Usage: benches/peers/netx_compare.sh [VENV]   (VENV: made by ../shared/oracle/setup.sh;
#        default .venv-oracle).
set -euo pipefail
source "$(dirname "$0")/oracle_venv.sh"
echo "== Basalt (criterion)"
cargo bench --bench netx -- --noplot 2>&1 | grep -E "^netx/|time:" || true
echo "== Lava 0.10"
"$PY" benches/peers/lava_netx.py --json "$OUT/lava_netx.json"
"$PY" - "$OUT/lava_netx.json" <<'PY'
import json, sys
print("\n| workload | batch | Lava sample-steps/s | Basalt sample-steps/s | ratio | target |")
print("|---|---|---|---|---|---|")
lava = {r["workload"]: r for r in json.load(open(sys.argv[1]))}
# Lava has no batch dimension: a batch of 64 is 64 runs one after the other, so its
# sample-steps/s at batch 64 is its batch-1 steps/s.
rows = [("pilotnet_sdnn_90_steps", "pilotnet_sdnn_90_steps", 90, 1),
        ("dense_2000_steps", "dense_2000_steps", 2000, 1),
        ("pilotnet_sdnn_batch64_18_steps", "pilotnet_sdnn_90_steps", 18, 64),
        ("dense_batch64_2000_steps", "dense_2000_steps", 2000, 64)]
for ours_name, lava_name, steps, batch in rows:
    ns = json.load(open(f"target/criterion/netx/{ours_name}/new/estimates.json"))["mean"]["point_estimate"]
    ours = steps * batch / (ns * 1e-9)
    theirs = lava[lava_name]["steps_per_s"]
    ratio = ours / theirs
    print(f"| {ours_name} | {batch} | {theirs:.1f} | {ours:.0f} | {ratio:.0f}x | >= 50x {'ok' if ratio >= 50 else 'MISSED'} |")
PY
