#!/usr/bin/env bash
# Multi-GPU / multi-node training through torchrun and MMEngine's launcher.
# Usage: bash tools/dist_train.sh CONFIG GPUS [train.py args...]
# Env: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), PORT (29500).
set -euo pipefail
CONFIG=$1
GPUS=$2
shift 2
exec bash "$(dirname "$0")/dist_run.sh" tools/train.py "$GPUS" "$CONFIG" "$@"
