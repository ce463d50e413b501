#!/bin/bash
# psl.sh - make check's organizational-domain differential test: run-psl.sh
# on a fixed seed with 3,000 generated names (smtpscope vs libpsl).
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/run-psl.sh" 20261204 3000
