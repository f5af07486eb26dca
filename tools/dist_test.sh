#!/usr/bin/env bash
# Multi-GPU / multi-node testing through torchrun and MMEngine's launcher.
# Usage: bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args...]
# Env: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), PORT (29500).
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
exec bash "$(dirname "$0")/dist_run.sh" tools/test.py "$GPUS" \
    "$CONFIG" "$CHECKPOINT" "$@"
