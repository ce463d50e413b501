#!/bin/bash
# run-spf.sh - the SPF differential test on any seed and count, from a
# build tree: t/differential/run-spf.sh SEED COUNT (run from build/t, or
# set top_builddir to the build directory).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export srcdir=${srcdir:-$here/..}
export top_srcdir=${top_srcdir:-$here/../..}
export top_builddir=${top_builddir:-$(pwd)/..}
exec "$here/spf-diff.sh" "${1:?SEED}" "${2:?COUNT}"
