#!/bin/sh
# report.sh - runs the smtpscope-report tests (TAP) under make check with
# Debian's python3 (standard library only).
here=$(dirname "$0")
exec /usr/bin/python3 "$here/test_report.py"
