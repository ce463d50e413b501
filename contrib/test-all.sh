#!/bin/bash
# test-all.sh - the whole test suite from a fresh Debian 12 machine, as root:
# install packages, build, run `make check` (unit tests, fuzz replays, and
# integration tests against real Postfix and Sendmail on loopback), then the
# same suite again in an AddressSanitizer + UndefinedBehaviorSanitizer build,
# then the Debian package test (contrib/test-package.sh: build, install, mail
# through a chrooted Postfix smtpd, purge). Prints one closing line
# "N passed, N failed, N skipped" over all three.
# This is the README's test command, and what .ci/run runs.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

contrib/install-deps.sh || exit 1
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; exit 1; }

# run_build DIR CONFIGURE-ARGS... - configure, build and check in DIR
run_build() {
	local dir=$1; shift
	rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || return 1
	"$top/configure" -q "$@" || return 1
	make -s -j2 >/dev/null || { make 2>&1 | tail -30; return 1; }
	make -s check
	local rc=$?
	[ $rc -eq 0 ] || find t -name '*.log' ! -name test-suite.log -exec grep -l -E '^(not ok|ERROR|FAIL)' {} + |
		while read -r f; do echo "==== $f"; grep -v '^ok' "$f" | head -40; done
	cd "$top" || return 1
	return $rc
}

rc=0
echo "== build and test (gcc -O2, -Wall -Wextra -Werror)"
run_build build-ci || rc=1
echo "== build and test with ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	run_build build-asan --enable-sanitizers CFLAGS="-O1 -g" || rc=1

echo "== Debian package: build, install, mail through a chrooted smtpd, purge"
bash contrib/test-package.sh >build-ci/test-package.log 2>&1 || rc=1
grep -v '^ok' build-ci/test-package.log | head -40

pass=0 fail=0 skip=0
for trs in $(find build-ci build-asan -name '*.trs' 2>/dev/null); do
	pass=$((pass + $(grep -c '^:test-result: PASS' "$trs")))
	fail=$((fail + $(grep -c -E '^:test-result: (FAIL|ERROR|XPASS)' "$trs")))
	skip=$((skip + $(grep -c '^:test-result: SKIP' "$trs")))
done
pass=$((pass + $(grep -c '^ok ' build-ci/test-package.log)))
fail=$((fail + $(grep -c '^not ok ' build-ci/test-package.log)))
skip=$((skip + $(grep -c '^1\.\.0 # SKIP' build-ci/test-package.log)))
[ "$pass" -gt 0 ] || rc=1
echo "$pass passed, $fail failed, $skip skipped"
exit $rc
