#!/bin/bash
# lava-schema.sh - every kind of job debkeep lava job writes must pass LAVA's own validator, as TAP:
#   tests/integration/lava-schema.sh DEBKEEP
# The validator is lava-schema.py from Debian's lava-common package (with python3-voluptuous,
# python3-yaml and python3-jinja2), run with --strict: unknown keys anywhere are errors.
set -u

dk=${1:?usage: lava-schema.sh DEBKEEP}
case $dk in /*) ;; *) dk=$PWD/$dk ;; esac
schema=$(dpkg -L lava-common 2>/dev/null | grep '/lava-schema\.py$' | head -n1)
# Debian's interpreter, the one lava-common's modules are installed for (not a pyenv or venv python3).
py=/usr/bin/python3
if [ -z "$schema" ] || ! "$py" -c 'import voluptuous, yaml, jinja2, lava_common.schemas' 2>/dev/null; then
	echo "1..0 # SKIP lava-common, python3-voluptuous or python3-jinja2 is not installed"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/debkeep-lava.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# shellcheck source=../lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
: >diag

img=https://images.example/cip-core-image-bookworm
# validate NAME WHAT ARGS...: write the job with debkeep, then let lava-schema.py --strict judge it.
validate() {
	local name=$1 what=$2
	shift 2
	if ! "$dk" lava job "$@" -o "$name.yaml" 2>>diag; then
		ok 1 "$what: debkeep lava job failed"
		return
	fi
	"$py" "$schema" job --strict "$name.yaml" >>diag 2>&1
	ok $? "$what"
}

validate qemu-amd64 "qemu amd64, smoke test" --image "$img-amd64.wic.xz"
validate qemu-arm64 "qemu arm64, smoke test" --image "$img-arm64.wic.xz" --arch arm64
validate qemu-amd64-swu "qemu amd64, update test" --image "$img-amd64.wic.xz" --swu "$img-amd64.swu"
validate qemu-arm64-swu "qemu arm64, update test, firmware, password, 5 minutes" --device qemu --arch arm64 \
	--image "$img-arm64.wic.zst" --swu "$img-arm64.swu" --firmware https://images.example/QEMU_EFI.fd \
	--password CIPsecurity@123 --timeout 5
validate qemu-1min "qemu, a one-minute job (every action capped)" --image "$img.img.gz" --timeout 1
validate board "a board (flasher, minimal boot), smoke test" --device mcom-mtda --image "$img-x86-uefi.wic.xz"
validate board-swu "a board, update test" --device mcom-mtda --image "$img-x86-uefi.wic.bz2" \
	--swu "$img-x86-uefi.swu" --timeout 180
validate odd "strings YAML would misread: name yes, password 123, prompt with ': ' and '#'" \
	--name yes --password 123 --prompt 'root@demo:~# ' --login-prompt 'demo login: ' --user 0 \
	--image "https://images.example/a.wic?x=1&y=2#frag" --swu "https://images.example/u.swu?token=a:b"

# The strings reach LAVA as the strings they were, not as booleans or numbers.
"$py" - odd.yaml >>diag 2>&1 <<'PY'
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
boot = job["actions"][1]["boot"]
assert job["job_name"] == "yes", job["job_name"]
assert boot["auto_login"]["password"] == "123", boot["auto_login"]
assert boot["auto_login"]["username"] == "0", boot["auto_login"]
assert boot["prompts"] == ["root@demo:~# "], boot["prompts"]
assert job["actions"][0]["deploy"]["images"]["system"]["url"] == "https://images.example/a.wic?x=1&y=2#frag"
steps = job["actions"][3]["test"]["definitions"][0]["repository"]["run"]["steps"]
assert any("'https://images.example/u.swu?token=a:b'" in s for s in steps), steps
PY
ok $? "odd strings read back unchanged by PyYAML"

# The update test's steps, as LAVA will run them, in order.
"$py" - qemu-amd64-swu.yaml >>diag 2>&1 <<'PY'
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
kinds = [next(iter(a)) for a in job["actions"]]
assert kinds == ["deploy", "boot", "test", "test", "boot", "test"], kinds
def steps(i):
    return " ".join(job["actions"][i]["test"]["definitions"][0]["repository"]["run"]["steps"])
install, check = steps(3), steps(5)
assert install.index("USTATE=0") < install.index("swupdate -v -i") < install.index("USTATE=1"), install
assert check.index("USTATE=2") < check.index("boot-env-switched") < check.index("bg_setenv -c"), check
PY
ok $? "update test: install, reboot, check TESTING and the switch, then confirm"

# A control: the validator does reject what it should, so the passes above mean something.
sed 's/^priority: medium$/priority: medium\nretries: 3/' qemu-amd64.yaml >broken.yaml
! "$py" "$schema" job --strict broken.yaml >/dev/null 2>&1
ok $? "control: lava-schema.py --strict rejects a job with an unknown key"

tap_end
