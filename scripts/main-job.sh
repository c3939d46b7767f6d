#!/bin/bash
# main-job.sh - debkeep's main job on its embedded defaults (a data directory, SQLite, no server).
#
# The CIP Core working list, end to end, on real Debian data:
#   1. mirror bookworm main (amd64 and arm64) from the archive the machine's apt uses, only the closure of
#      docs/examples/cip-core.yaml, verified against debian-archive-keyring (InRelease -> Packages -> .deb);
#   2. freeze it as a snapshot and publish it as a signed apt repository (a key made for this data root),
#      and write the resolved package list (the supported set, grouped by source package);
#   3. build the image from the snapshot (root mode as root, else extract mode), with its manifest and
#      SBOMs (CycloneDX, SPDX);
#   4. load the security tracker's data, scan the image and run the release gate.
# Re-runs reuse everything already mirrored and built; a new upstream state gives a new snapshot.
#
#   scripts/main-job.sh [DEBKEEP]       (DEBKEEP_ROOT: the data root, default ./debkeep-data)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
debkeep=${1:-$top/build/src/debkeep}
root=${DEBKEEP_ROOT:-$PWD/debkeep-data}
list=$top/docs/examples/cip-core.yaml
arch=amd64           # the image's architecture; the mirror and the package list cover arm64 too
archs=amd64,arm64
dk() { "$debkeep" --root "$root" "$@"; }
step() { printf '\n== %s\n' "$*"; }
TIMEFORMAT='   (%R s)'

# shellcheck source=../tests/lib/apt-data.sh
source "$top/tests/lib/apt-data.sh"
url=$(archive_uri)

[ -e "$root/debkeep.db" ] || dk init

step "mirror: bookworm main $archs, the closure of $(basename "$list"), verified against the Debian archive key"
dk mirror show bookworm >/dev/null 2>&1 ||
	dk mirror create bookworm "$url" --suite bookworm --components main --archs "$archs" \
		--keyring /usr/share/keyrings/debian-archive-keyring.gpg --list "$list"
time dk mirror update bookworm

step "snapshot: freeze what the mirror verified"
# One snapshot per upstream state: the name carries the date and the digest of the mirrored set.
snap=cip-bookworm-$(dk --json mirror show bookworm | jq -r '(.release_date // .updated) | .[0:10]')
dk snapshot show "$snap" >/dev/null 2>&1 || dk snapshot create "$snap" --from-mirror bookworm \
	--description "CIP Core example, bookworm main $archs"
dk snapshot list

step "publish: a signed apt repository under $root/public/cip"
gnupg=$root/gnupg
if [ ! -d "$gnupg" ]; then
	"$top/tests/fixtures/publish/make-key.sh" "$gnupg" >/dev/null
fi
key=$(GNUPGHOME=$gnupg gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')
GNUPGHOME=$gnupg gpg --batch --export "$key" >"$root/public-key.gpg"
time dk publish "$snap" --prefix cip --suite bookworm --sign "$key" --gnupghome "$gnupg"

step "package list: the supported set, resolved against the published snapshot"
indices=()
for a in ${archs//,/ }; do
	indices+=(--index "$root/public/cip/dists/bookworm/main/binary-$a/Packages.xz")
done
dk pkglist resolve "$list" "${indices[@]}" -o "$root/cip-core.resolved.yaml"
dk pkglist why libssl3 "$list" "${indices[@]}" --arch "$arch"

step "build: the image from $snap"
mode=extract
[ "$(id -u)" -ne 0 ] || mode=root
mkdir -p "$root/images"
image=$root/images/cip-core-$arch.tar.zst
echo "   $mode mode; the build log (dpkg's output, what normalisation removed) goes to $image.log"
time dk build --snapshot "$snap" --list "$list" --arch "$arch" --mode "$mode" -o "$image" --log "$image.log"
ls -l "$image" "$image.manifest" "$image.cdx.json" "$image.spdx.json"

# The security part: a small real sample of the tracker's advisory lists ships in docs/examples/tracker
# (the DSA/DLA entries of the CIP set's source packages, as of 2023-03-31: older than bookworm's
# release, so it names no bookworm fix). With a checkout of the tracker's repository, use
# `debkeep cve update --from PATH/TO/security-tracker` instead.
step "security: tracker data, scan of the image, release gate"
dk cve update --from "$top/docs/examples/tracker"
dk cve scan "$image.manifest" --release bookworm || true
gate=0
dk gate "$image.manifest" --policy "$top/docs/examples/gate-policy.yaml" --release bookworm \
	--report "$root/evidence.json" --html "$root/evidence.html" || gate=$?
[ "$gate" -le 1 ] || exit "$gate"

cat <<EOF

The image is $image (manifest and SBOMs beside it); the release evidence $root/evidence.html.
To install from the published snapshot with apt, serve it and point apt at it:
  $debkeep --root $root serve --listen 127.0.0.1:8080 &
  cp $root/public-key.gpg /etc/apt/keyrings/debkeep-cip.gpg
  echo 'deb [signed-by=/etc/apt/keyrings/debkeep-cip.gpg] http://127.0.0.1:8080/cip bookworm main' \\
    > /etc/apt/sources.list.d/debkeep-cip.list
EOF
