#!/bin/sh
# The engine keeps no mutable global or static state (docs/architecture.md): several
# machines run in one process. This lists every object in writable data sections (.data,
# .bss, thread-local and common symbols) of the given static libraries and fails if any
# exists. Read-only data, including .data.rel.ro (const tables holding pointers), is fine.
# usage: check-globals.sh LIBRARY.a...
set -u
found=$(for lib in "$@"; do
    objdump -t "$lib" 2>/dev/null | awk -v lib="$(basename "$lib")" '
        /:     file format/ { obj = $1; next }
        / O (\.data|\.bss|\.tdata|\.tbss)/ && !/ O \.data\.rel\.ro/ { print lib ": " obj " " $NF }
        / O \*COM\*/ { print lib ": " obj " " $NF }'
done)
if [ -n "$found" ]; then
    echo "mutable global state found:"
    echo "$found"
    exit 1
fi
echo "no mutable global state in: $*"
