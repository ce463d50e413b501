#!/bin/bash
# testbed-stop.sh - stop every process of the test bed and delete its namespaces
#
# Usage: testbed-stop.sh [--purge]   (--purge also removes $TB_DIR)
# Idempotent: safe after a failed or killed start.
set -u
. "$(dirname "$0")/testbed-lib.sh"
tb_stop
[ "${1:-}" = --purge ] && rm -rf -- "$TB_DIR"
exit 0
