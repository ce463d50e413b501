# dkim-common.sh - shell helpers shared by run-dkim.sh and run-psl.sh
# (sourced, not run): skipping, bailing out, the work directory.

# diff_skip REASON - the whole test skipped (a reference tool is missing)
diff_skip() { echo "1..0 # SKIP $1"; exit 0; }

# diff_bail REASON - the test cannot run
diff_bail() { echo "Bail out! $1"; exit 1; }

# diff_workdir [KEEPDIR] - sets dir: KEEPDIR (kept), else a temporary
# directory removed on exit
diff_workdir() {
	if [ $# -ge 1 ]; then
		dir=$1
		mkdir -p "$dir"
	else
		dir=$(mktemp -d) && trap 'rm -rf -- "$dir"' EXIT
	fi
}
