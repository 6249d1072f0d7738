#!/bin/sh
# Runs one validator over the manager's data files; exit 77 (skipped) when the tool is
# missing. Usage: validate.sh TOOL ARGS...
tool=$1
if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool not found: skipped" >&2
    exit 77
fi
exec "$@"
