#!/bin/bash
# main-job.sh - debkeep's main job on its embedded defaults (a data directory, no server).
#
# Fetches the real bookworm main indices for amd64 and arm64 through apt itself, in a private apt
# setup under the data root (the host's apt configuration and state are not touched), resolves the
# CIP Core example package list against them and writes the resolved list.
#
#   scripts/main-job.sh [DEBKEEP]       (DEBKEEP_ROOT: the data root, default ./debkeep-data)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
debkeep=${1:-$top/build/src/debkeep}
root=${DEBKEEP_ROOT:-$PWD/debkeep-data}
list=$top/docs/examples/cip-core.yaml
mkdir -p "$root"

echo "== fetching bookworm indices through apt (private setup under $root/apt)"
indices=()
for arch in amd64 arm64; do
	index=$("$top/tests/lib/apt-data.sh" "$root/apt" "$arch" bookworm)
	echo "   $arch: $index ($(grep -c '^Package:' "$index") stanzas)"
	indices+=(--index "$index")
done

echo "== resolving $list"
TIMEFORMAT='   (%R s)'
time "$debkeep" pkglist resolve "$list" "${indices[@]}" -o "$root/cip-core.resolved.yaml"

echo "== why is libssl3 there?"
"$debkeep" pkglist why libssl3 "$list" "${indices[@]}" --arch amd64
echo
echo "The resolved list is $root/cip-core.resolved.yaml."
