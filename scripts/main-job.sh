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

# The security part: a small real sample of the tracker's advisory lists ships in docs/examples/tracker
# (the DSA/DLA entries of the CIP set's source packages, as of 2023-03-31: older than bookworm's
# release, so it names no bookworm fix). With a checkout of the tracker's repository, use
# `debkeep cve update --from PATH/TO/security-tracker` instead.
echo "== security: tracker data, scan and release gate of the amd64 package set"
"$debkeep" --root "$root" cve update --from "$top/docs/examples/tracker"
"$debkeep" pkglist resolve "$list" "${indices[@]}" --arch amd64 --format manifest \
	-o "$root/cip-core.amd64.manifest" >/dev/null
"$debkeep" --root "$root" cve scan "$root/cip-core.amd64.manifest" --release bookworm || true
gate=0
"$debkeep" --root "$root" gate "$root/cip-core.amd64.manifest" --policy "$top/docs/examples/gate-policy.yaml" \
	--release bookworm --report "$root/evidence.json" --html "$root/evidence.html" || gate=$?
[ "$gate" -le 1 ] || exit "$gate"
echo
echo "The resolved list is $root/cip-core.resolved.yaml; the release evidence $root/evidence.html."
