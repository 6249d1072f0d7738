#!/bin/sh
# hangar-run --audio sdl with SDL's "disk" audio driver, which plays in real time into a
# file: the SB16 guest program's stereo tones must come out of SDL at their pitch.
# Skipped (77) when this build has no SDL2.
# usage: sdl-disk.sh HANGAR_RUN PROGRAM.bin WAVCHECK.py
set -u
run=$1 bin=$2 check=$3
case $("$run" --audio sdl --soundhw sb16 --bios /nonexistent 2>&1) in
*"this build has no"*) echo "SKIP: built without SDL2 (libsdl2-dev)"; exit 77 ;;
esac
dir=$(mktemp -d) && trap 'rm -rf "$dir"' EXIT
for n in 1 2 3; do
    echo "attempt $n"
    SDL_AUDIODRIVER=disk SDL_DISKAUDIOFILE="$dir/sdl.raw" timeout 60 "$run" --bios "$bin" \
        --soundhw sb16 --audio sdl --debugcon "file:$dir/con" --debug-exit --serial none \
        --no-reboot >/dev/null 2>"$dir/err"
    status=$?
    if [ "$status" -ne 1 ]; then
        echo "FAIL: hangar-run exit status $status"
        cat "$dir/err"
        exit 1
    fi
    python3 -c 'import sys, wave
w = wave.open(sys.argv[2], "wb")
w.setnchannels(2)
w.setsampwidth(2)
w.setframerate(44100)
w.writeframes(open(sys.argv[1], "rb").read())
w.close()' "$dir/sdl.raw" "$dir/sdl.wav"
    # Real time: a starved host may break the stream, so judge the longest stretch.
    python3 "$check" "$dir/sdl.wav" --longest 0.25 --tone 0:1005.3314 --tone 1:1505.3055 &&
        exit 0
done
exit 1
