#!/bin/sh
# Start-up benchmark of the manager (issue 5, "Performance"): time from exec to the main
# window mapped, and resident memory with no machine running. Runs the real binary under
# Xvfb (through run-xvfb.sh) with an empty machines folder. Fails when the window takes
# more than 300 ms (best of 3) or the process holds more than 60 MiB.
# Usage: bench-start.sh HANGAR_BINARY
set -u
hangar=$1
command -v xdotool >/dev/null 2>&1 || { echo "xdotool not found: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" GSETTINGS_BACKEND=memory

now_ms() { date +%s%3N; }
best=999999 rss=0
for run in 1 2 3; do
    t0=$(now_ms)
    "$hangar" & pid=$!
    while ! xdotool search --onlyvisible --pid "$pid" --name '^Hangar$' >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then echo "hangar exited early"; exit 1; fi
        [ $(( $(now_ms) - t0 )) -gt 10000 ] && { echo "no window after 10 s"; kill "$pid"; exit 1; }
        sleep 0.005
    done
    t=$(( $(now_ms) - t0 ))
    sleep 0.5
    r=$(awk '/^VmRSS:/ {print int($2 / 1024)}' "/proc/$pid/status")
    kill "$pid"; wait "$pid" 2>/dev/null
    echo "run $run: main window after $t ms, $r MiB resident"
    [ "$t" -lt "$best" ] && best=$t
    [ "$r" -gt "$rss" ] && rss=$r
done
echo "best start: $best ms (limit 300); largest resident: $rss MiB (limit 60)"
[ "$best" -le 300 ] && [ "$rss" -le 60 ]
