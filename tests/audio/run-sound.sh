#!/bin/sh
# Runs a sound guest program (a 64 KiB firmware image) under hangar-run with the sound
# hardware given, records what it plays, and checks the recording with wavcheck.py.
# usage: run-sound.sh HANGAR_RUN PROGRAM.bin SOUNDHW WAVCHECK.py [WAVCHECK ARGS...]
set -u
run=$1 bin=$2 hw=$3 check=$4
shift 4
dir=$(mktemp -d) && trap 'rm -rf "$dir"' EXIT
timeout 60 "$run" --bios "$bin" --soundhw "$hw" --audio none --record "$dir/out.wav" \
    --debugcon "file:$dir/con" --debug-exit --serial none --no-reboot \
    --clock icount --max-insns 400000000 >/dev/null 2>"$dir/err"
status=$?
cat "$dir/con"
if [ "$status" -ne 1 ]; then
    echo "FAIL: exit status $status (the program exits with 0, which is status 1)"
    cat "$dir/err"
    exit 1
fi
python3 "$check" "$dir/out.wav" "$@"
