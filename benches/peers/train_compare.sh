#!/usr/bin/env bash
# Times training of the slayer issue's workload (200 -> 256 -> 10 CUBA dense, batch 32,
# T = 100, forward + backward + Adam step) on one CPU thread: Basalt (criterion,
# crates/slayer/benches/train.rs), lava-dl's slayer and snnTorch, one after the other on
# this machine; prints samples/s and ratios (targets: >= 2x lava-dl, faster than snnTorch).
# Usage: benches/peers/train_compare.sh [VENV]   (VENV: made by ../shared/oracle/setup.sh,
#        with snntorch installed; default .venv-oracle).
set -euo pipefail
source "$(dirname "$0")/oracle_venv.sh"
echo "== Basalt (criterion, RAYON_NUM_THREADS=1)"
RAYON_NUM_THREADS=1 cargo bench -p basalt-slayer --bench train -- --noplot 2>&1 | grep -E "^slayer/|time:|thrpt:" || true
echo "== lava-dl 0.6 slayer (torch, 1 thread)"
"$PY" benches/peers/lava_dl_train.py --json "$OUT/lava_dl_train.json" 2>&1 | grep -v -i prophesee
echo "== snnTorch (torch, 1 thread)"
"$PY" benches/peers/snntorch_train.py --json "$OUT/snntorch_train.json"
"$PY" - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
ns = json.load(open("target/criterion/slayer/train_200_256_10_b32_t100/new/estimates.json"))["mean"]["point_estimate"]
ours = 32 / (ns * 1e-9)
lava = json.load(open(f"{out}/lava_dl_train.json"))["samples_per_s"]
snn = json.load(open(f"{out}/snntorch_train.json"))["samples_per_s"]
print("\n| trainer | samples/s | Basalt ratio | target |")
print("|---|---|---|---|")
print(f"| Basalt slayer | {ours:.0f} | 1.0x | |")
print(f"| lava-dl slayer | {lava:.0f} | {ours / lava:.2f}x | >= 2x {'ok' if ours >= 2 * lava else 'MISSED'} |")
print(f"| snnTorch | {snn:.0f} | {ours / snn:.2f}x | > 1x {'ok' if ours > snn else 'MISSED'} |")
PY
