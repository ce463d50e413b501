#!/bin/bash
# testbed-start.sh - start the measurement test bed (targets and simulated providers)
#
# Usage: testbed-start.sh        (root; TB_DIR, TB_PROFILES, SCOPE_BIN may be set)
# Everything runs in network namespaces stb-*; nothing leaves the machine.
# On failure it stops what it started. Stop with testbed-stop.sh. Design:
# docs/testbed.md.
set -u
. "$(dirname "$0")/testbed-lib.sh"
trap 'tb_stop; exit 130' INT TERM
if ! tb_start; then
	tb_stop
	exit 1
fi
