#!/usr/bin/env bash
# Lay CIFAR-10 out at data/cifar10 as {train,test}/<class>/*.jpg.
#
# Usage: bash tools/dataset_converters/prepare_cifar10.sh [SHARED_DATA_DIR]
#
# With an offline JPEG copy (default: ../shared/data, which holds
# unpack_cifar10.sh and cifar10-jpeg.tar.gz) it unpacks it into data/. The
# tools read image folders at a config's data root by themselves, and run
# this script when data/cifar10 is missing; so does the test suite.
#
# Without one, you need nothing from this script: MMPretrain's CIFAR10
# dataset (the default in every config) downloads the official pickles into
# data/cifar10 on first use when the machine has internet.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
shared=${1:-$here/../shared/data}
if [[ ! -x $shared/unpack_cifar10.sh && ! -f $shared/unpack_cifar10.sh ]]; then
    echo "prepare_cifar10: no offline copy at $shared." >&2
    echo "Configs use MMPretrain's CIFAR10 dataset, which downloads CIFAR-10" >&2
    echo "into data/cifar10 by itself on a machine with internet." >&2
    exit 1
fi
bash "$shared/unpack_cifar10.sh" "$here/data"
echo "CIFAR-10 image folders ready in $here/data/cifar10"
