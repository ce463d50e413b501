# tap.sh - TAP output helpers for the integration tests (sourced, bash).
#
# tap_plan N             print the plan line
# tap_ok STATUS NAME     "ok N - NAME" when STATUS is 0, else "not ok N - NAME"
# tap_is GOT WANT NAME   string equality, prints both on failure as diagnostics
# tap_skip_all REASON    "1..0 # SKIP REASON" and exit 0 (only when a tool truly cannot run)
# tap_diag TEXT          a "# TEXT" diagnostic line
# tap_done               exit 1 when any test failed or the count differs from the plan
#
# Every assertion has a name; failures never stop the script (the caller's
# EXIT trap stops servers), so one run reports every failing check.

TAP_N=0
TAP_FAILED=0
TAP_PLANNED=

tap_plan() { TAP_PLANNED=$1; echo "1..$1"; }

tap_diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

tap_ok() {
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

tap_is() {
	if [ "$1" = "$2" ]; then
		tap_ok 0 "$3"
	else
		tap_ok 1 "$3"
		tap_diag "got:  '$1'" "want: '$2'"
	fi
}

# tap_like GOT PATTERN NAME - GOT contains PATTERN (a fixed string)
tap_like() {
	case $1 in
	*"$2"*) tap_ok 0 "$3" ;;
	*) tap_ok 1 "$3"; tap_diag "got:  '$1'" "want: something containing '$2'" ;;
	esac
}

# tap_isnt GOT UNWANTED NAME
tap_isnt() {
	if [ "$1" != "$2" ]; then
		tap_ok 0 "$3"
	else
		tap_ok 1 "$3"
		tap_diag "got '$1', which it should not be"
	fi
}

tap_skip_all() { echo "1..0 # SKIP $*"; exit 0; }

tap_done() {
	if [ -n "$TAP_PLANNED" ] && [ "$TAP_N" -ne "$TAP_PLANNED" ]; then
		tap_diag "planned $TAP_PLANNED tests but ran $TAP_N"
		exit 1
	fi
	[ "$TAP_FAILED" -eq 0 ]
}
