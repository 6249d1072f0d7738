#!/bin/sh
# SeaBIOS POSTs (issue 3, proof 1): its banner appears on the text screen and its debug log
# on port 0x402 (Debian's build writes there; hangar-run's --debugcon takes 0x402 and 0xE9).
# usage: seabios-post.sh EXPECT_SCREEN_PY HANGAR_RUN
set -eu
expect=$1 run=$2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
python3 "$expect" 120 'SeaBIOS \(version 1\.16' - "$run" -m 32 --serial none \
    --debugcon "file:$log" --clock icount
grep -q "^SeaBIOS (version 1.16" "$log" || { echo "FAIL: no banner in the debug log"; exit 1; }
grep -q "Found QEMU fw_cfg" "$log" || { echo "FAIL: SeaBIOS did not find fw_cfg"; exit 1; }
echo "banner on the screen and in the debug log"
