#!/bin/bash
# dkim.sh - make check's DKIM differential test: run-dkim.sh on a fixed
# seed with 1,200 generated cases (smtpscope vs dkimpy and Mail::DKIM).
# Any seed and count: t/differential/run-dkim.sh SEED COUNT.
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/run-dkim.sh" 20261204 1200
