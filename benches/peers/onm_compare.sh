#!/usr/bin/env bash
# The open-neuromorphic training setup (Linear(n, n) + LIF, batch 16, T 500, forward +
# backward, synchronised) in Basalt (crates/slayer/benches/onm.rs), lava-dl's slayer and
# plain PyTorch, one after the other on this machine; prints ms per pass and ratios.
# Usage: benches/peers/onm_compare.sh [VENV] with BASALT_ONM_SIZES (default 1024) and
#        BASALT_ONM_FEATURES (e.g. "--features wgpu" on a GPU machine; default CPU).
set -euo pipefail
source "$(dirname "$0")/oracle_venv.sh"
SIZES="${BASALT_ONM_SIZES:-1024}"
echo "== Basalt (criterion) ${BASALT_ONM_FEATURES:-CPU}"
# shellcheck disable=SC2086
BASALT_ONM_SIZES="$SIZES" cargo bench -p basalt-slayer ${BASALT_ONM_FEATURES:-} --bench onm -- --noplot 2>&1 \
  | grep -E "^slayer_onm/|time:" || true
echo "== lava-dl slayer and PyTorch"
"$PY" benches/peers/onm_peers.py --sizes "$SIZES" --json "$OUT/onm_peers.json" 2>&1 | grep -v -i prophesee
"$PY" - "$OUT" "$SIZES" <<'PY'
import json, sys
out, sizes = sys.argv[1], sys.argv[2].split(",")
peers = json.load(open(f"{out}/onm_peers.json"))
print("\n| n | Basalt ms | lava-dl ms | PyTorch ms | vs lava-dl | vs PyTorch |")
print("|---|---|---|---|---|---|")
for n in sizes:
    ns = json.load(open(f"target/criterion/slayer_onm/linear_lif_fwd_bwd_b16/n{n}_t500/new/estimates.json"))["mean"]["point_estimate"]
    ours, lava, torch_ = ns / 1e6, peers[f"lava-dl slayer n{n}"] * 1e3, peers[f"PyTorch LIF n{n}"] * 1e3
    print(f"| {n} | {ours:.1f} | {lava:.1f} | {torch_:.1f} | {lava / ours:.2f}x | {torch_ / ours:.2f}x |")
PY
