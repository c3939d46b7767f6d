# Makefile - the short names for setting up, building and testing debkeep; Meson does the building.
#
#   make deps        install the Debian packages the build and tests need (root; apt-get update once a day)
#   make build       build/ with gcc: the debkeep command, the library, the tests
#   make build-asan  build-asan/ with gcc, AddressSanitizer and UndefinedBehaviorSanitizer
#   make run         deps + build + the main job (scripts/main-job.sh)
#   make check       deps + both builds + every test in both (the slow suite only in build/) + a short
#                    fuzz run + one summary line
#   make test        the tests of build/ only (no deps, no sanitizers): the quick loop while editing
#   make fuzz        fuzz/run.sh with FUZZ_SECONDS (default 30) per target
#   make bench       every bench/*.sh
#
# `make check` goes on past failing tests so that the summary counts all of them, then fails if any
# did. .ci/run runs the same steps, timing each.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_SECONDS ?= 30
CHECK_FUZZ_SECONDS ?= 10
STAMP_DIR ?= /var/cache/debkeep-test

# Everything the build, the tests, the fuzzers and the benchmarks use, from Debian 12.
DEPS := build-essential meson ninja-build pkg-config clang libclang-rt-14-dev \
	libarchive-dev libssl-dev libyaml-dev libjansson-dev libsqlite3-dev libcurl4-openssl-dev \
	libgpgme-dev libmicrohttpd-dev libdpkg-dev apt dpkg-dev \
	xz-utils zstd bzip2 lz4 gzip ca-certificates debian-archive-keyring jq python3 time \
	zlib1g-dev openssl cpio swupdate efibootguard lava-common python3-voluptuous python3-jinja2 debsecan \
	libext2fs-dev e2fsprogs fdisk mmdebstrap chromium gnupg curl apt-utils \
	debootstrap aptly reprepro sqlite3 nginx-light
# The SBOM validators are npm packages: Debian's nodejs and npm, unless a node with npm is there already
# (another nodejs build conflicts with Debian's npm package).
NODE_DEPS := nodejs npm

# Sanitizer reports end the program with a failure instead of scrolling past.
SAN_ENV := ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:print_summary=1 \
	UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1:print_summary=1

.PHONY: deps build build-asan run check test test-asan fuzz fuzz-smoke summary bench clean

# apt-get update at most once a day (the stamp), install only when something is missing, and
# update again once if the install still cannot find a package (lists cleaned since the stamp).
# Another apt-get at work (unattended upgrades, a second shell) is waited for, not failed on. Installing
# starts no services (a policy-rc.d for the while, as in Debian's container images): nginx is only a test
# server the tests start themselves, and its postinst fails when it cannot start on port 80.
APT_GET := apt-get -q -o DPkg::Lock::Timeout=600
deps:
	@missing=$$(dpkg-query -W -f='$${db:Status-Abbrev} $${Package}\n' $(DEPS) 2>/dev/null | \
		awk '$$1 == "ii" { ok[$$2] = 1 } END { n = split("$(DEPS)", d, " "); \
			for (i = 1; i <= n; i++) if (!(d[i] in ok)) printf "%s ", d[i] }'); \
	command -v npm >/dev/null || missing="$$missing $(NODE_DEPS)"; \
	if [ -z "$$missing" ]; then echo "deps: all $(words $(DEPS)) packages installed"; exit 0; fi; \
	echo "deps: installing $$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	mkdir -p $(STAMP_DIR); \
	if [ ! -e /usr/sbin/policy-rc.d ]; then \
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && \
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT; \
	fi; \
	if [ -z "$$(find $(STAMP_DIR)/apt-updated -mmin -1440 2>/dev/null)" ]; then \
		$(APT_GET) update && touch $(STAMP_DIR)/apt-updated || exit 1; \
	fi; \
	$(APT_GET) install -y --no-install-recommends $$missing || \
		{ $(APT_GET) update && touch $(STAMP_DIR)/apt-updated && \
		  $(APT_GET) install -y --no-install-recommends $$missing; }

build:
	@[ -f $(BUILD)/build.ninja ] || { rm -rf $(BUILD) && CC=gcc meson setup $(BUILD); }
	ninja -C $(BUILD)

# -Db_lundef=false: meson's default -Wl,--no-undefined cannot see the sanitizer runtimes' symbols
# with every compiler; harmless with gcc, needed with clang. -Dwerror=false: the instrumentation
# changes what gcc's flow analysis sees (-Wformat-truncation, -Wmaybe-uninitialized, -Wstringop-*),
# and such a warning must not cost the sanitized test run; build/ enforces warnings, and these still
# show in the log.
build-asan:
	@[ -f $(ASAN_BUILD)/build.ninja ] || { rm -rf $(ASAN_BUILD) && CC=gcc meson setup $(ASAN_BUILD) \
		-Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false \
		-Dc_args=-fno-sanitize-recover=undefined; }
	ninja -C $(ASAN_BUILD)

run: deps build
	bash scripts/main-job.sh

test: build
	@rm -f $(BUILD)/meson-logs/testlog.json
	meson test -C $(BUILD) --print-errorlogs

test-asan: build-asan
	@rm -f $(ASAN_BUILD)/meson-logs/testlog.json
	$(SAN_ENV) meson test -C $(ASAN_BUILD) --print-errorlogs --timeout-multiplier 3 --no-suite slow

fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run.sh

fuzz-smoke:
	@mkdir -p $(BUILD) && rm -f $(BUILD)/fuzz.tap
	FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS) bash fuzz/run.sh | tee $(BUILD)/fuzz.tap

summary:
	@bash tests/lib/summary.sh $(BUILD)/meson-logs/testlog.json $(ASAN_BUILD)/meson-logs/testlog.json \
		$(BUILD)/fuzz.tap

check: deps
	@rm -f $(BUILD)/meson-logs/testlog.json $(ASAN_BUILD)/meson-logs/testlog.json $(BUILD)/fuzz.tap
	-@$(MAKE) --no-print-directory test
	-@$(MAKE) --no-print-directory test-asan
	-@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory summary

bench: deps build
	@set -e; for b in bench/*.sh; do [ -e "$$b" ] || continue; echo "== $$b"; bash "$$b"; done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
