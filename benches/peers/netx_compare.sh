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
print("\n| workload | Lava steps/s | Basalt steps/s | ratio | target |")
print("|---|---|---|---|---|")
for r in json.load(open(sys.argv[1])):
    ns = json.load(open(f"target/criterion/netx/{r['workload']}/new/estimates.json"))["mean"]["point_estimate"]
    ours = r["steps"] / (ns * 1e-9)
    ratio = ours / r["steps_per_s"]
    print(f"| {r['workload']} | {r['steps_per_s']:.1f} | {ours:.0f} | {ratio:.0f}x | >= 50x {'ok' if ratio >= 50 else 'MISSED'} |")
PY
