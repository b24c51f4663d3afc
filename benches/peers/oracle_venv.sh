# Sourced by the Lava comparison scripts (compare.sh, netx_compare.sh) with their arguments:
# moves to the repository root, sets PY to the oracle venv's python (first argument, default
# .venv-oracle, made by ../shared/oracle/setup.sh) and OUT to the results folder.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
VENV="${1:-.venv-oracle}"
PY="$VENV/bin/python"
[ -x "$PY" ] || { echo "no oracle venv at $VENV: run ../shared/oracle/setup.sh $VENV" >&2; exit 2; }
OUT="target/peer-bench"
mkdir -p "$OUT"
