#!/bin/sh
# hangar-run --audio pulse against a PulseAudio daemon this test starts (no daemon of the
# desktop is touched): a null sink, its monitor recorded with parec while the SB16 guest
# program plays its stereo tones in real time. The recording must hold both tones at the
# right pitch, for at least 0.1 s unbroken (a loaded shared machine starves the daemon
# and parec; how well the stream holds up is bench/'s business, not this test's). Skipped (status 77) without Debian's pulseaudio and
# pulseaudio-utils packages, or when this build has no PulseAudio output.
# usage: pulse-null-sink.sh HANGAR_RUN PROGRAM.bin WAVCHECK.py
set -u
run=$1 bin=$2 check=$3
command -v pulseaudio >/dev/null && command -v parec >/dev/null || {
    echo "SKIP: pulseaudio and parec (Debian: pulseaudio, pulseaudio-utils) are missing"
    exit 77
}
case $("$run" --audio pulse --soundhw sb16 --bios /nonexistent 2>&1) in
*"this build has no"*) echo "SKIP: built without PulseAudio (libpulse-dev)"; exit 77 ;;
esac
dir=$(mktemp -d)
pa_pid= rec_pid=
cleanup() {
    [ -n "$rec_pid" ] && kill "$rec_pid" 2>/dev/null
    [ -n "$pa_pid" ] && kill "$pa_pid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
export XDG_RUNTIME_DIR="$dir" HOME="$dir" PULSE_SERVER="unix:$dir/native"
unset DISPLAY DBUS_SESSION_BUS_ADDRESS
# Plain socket transfers: memfd/shm blocks go astray in containers (PulseAudio issue 824).
echo "enable-shm = no" >"$dir/client.conf"
export PULSE_CLIENTCONFIG="$dir/client.conf"
pulseaudio --daemonize=no -n --exit-idle-time=-1 --use-pid-file=no --disable-shm=yes \
    -L "module-native-protocol-unix socket=$dir/native auth-anonymous=1" \
    -L "module-null-sink sink_name=hgnull rate=44100 channels=2" \
    --log-target=stderr 2>"$dir/pulse.log" &
pa_pid=$!
i=0
until pactl list short sinks 2>/dev/null | grep -q hgnull; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$pa_pid" 2>/dev/null; then
        echo "FAIL: the PulseAudio daemon did not start"
        cat "$dir/pulse.log"
        exit 1
    fi
    sleep 0.1
done
# Real time on a shared machine: a load spike may starve the daemon or this process for
# longer than any buffer; a working output passes at least one of four attempts (the
# first stream after the daemon starts is often lost entirely on such a machine). The
# stream gets 300 ms of buffer instead of the 30 ms default for the same reason.
attempt() {
    parec -d hgnull.monitor --format=s16le --rate=44100 --channels=2 --raw \
        --latency-msec=250 >"$dir/sink.raw" &
    rec_pid=$!
    sleep 0.5
    HANGAR_AUDIO_LATENCY_MS=300 timeout 60 "$run" --bios "$bin" --soundhw sb16 \
        --audio pulse --record "$dir/direct.wav" --debugcon "file:$dir/con" --debug-exit \
        --serial none --no-reboot >/dev/null 2>"$dir/err"
    status=$?
    sleep 0.5
    kill -INT "$rec_pid"
    wait "$rec_pid" 2>/dev/null
    rec_pid=
    cat "$dir/con"
    if [ "$status" -ne 1 ]; then
        echo "FAIL: hangar-run exit status $status"
        cat "$dir/err"
        exit 1
    fi
    echo "what the machine recorded itself:"
    python3 "$check" "$dir/direct.wav" --longest 0.25 --tone 0:1005.3314 \
        --tone 1:1505.3055 || return 1
    echo "what reached the PulseAudio sink:"
    python3 -c "$raw2wav" "$dir/sink.raw" "$dir/sink.wav"
    python3 "$check" "$dir/sink.wav" --longest 0.1 --tone 0:1005.3314 --tone 1:1505.3055
}
raw2wav='import sys, wave
w = wave.open(sys.argv[2], "wb")
w.setnchannels(2)
w.setsampwidth(2)
w.setframerate(44100)
w.writeframes(open(sys.argv[1], "rb").read())
w.close()'
for n in 1 2 3 4; do
    echo "attempt $n"
    if attempt; then
        exit 0
    fi
done
exit 1
