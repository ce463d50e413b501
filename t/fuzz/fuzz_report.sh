#!/bin/sh
# fuzz_report.sh - replays the report reader's fuzz corpus (TAP) under
# make check: t/fuzz/fuzz_report.py --replay, Debian's python3.
here=$(dirname "$0")
exec /usr/bin/python3 "$here/fuzz_report.py" --replay "$here/corpus/report"
