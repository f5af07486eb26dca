#!/usr/bin/env bash
# Run a tool on N processes per node through torchrun and MMEngine's
# launcher (what dist_train.sh and dist_test.sh share).
# Usage: bash tools/dist_run.sh TOOL NPROC [tool args...]
# Env: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), PORT (29500).
set -euo pipefail
TOOL=$1
NPROC=$2
shift 2
cd "$(dirname "$0")/.."
PYTHONPATH="$(pwd):${PYTHONPATH:-}" \
torchrun \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$NPROC" \
    --master_port="${PORT:-29500}" \
    "$TOOL" "$@" --launcher pytorch
