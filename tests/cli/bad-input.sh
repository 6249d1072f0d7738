#!/bin/sh
# Bad input to hangar-run (issue 3, proof 7): missing or corrupt firmware, kernel or image
# files, unknown options, wrong values, an image too small to boot. Each must give a clear
# message on stderr and exit status 1, and leave every file as it was.
# usage: bad-input.sh HANGAR_RUN
set -u
run=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

printf 'not a firmware image' > "$work/short.bin"
head -c 70000 /dev/urandom > "$work/odd.bin"
head -c 4096 /dev/urandom > "$work/garbage.kernel"
printf 'MZ' > "$work/tiny.kernel"
head -c 100 /dev/zero > "$work/tiny.img"
head -c 1000000 /dev/urandom > "$work/odd.flp"
printf '[Machine]\nMemory=lots\n' > "$work/machine.ini"
mkdir "$work/noprofile"
sums() { (cd "$work" && find . -type f | sort | xargs md5sum); }
before=$(sums)

# expect DESCRIPTION PATTERN ARGS...: status 1 and PATTERN (grep -E) in the message.
expect() {
    what=$1 pattern=$2
    shift 2
    "$run" --serial none --clock icount --max-insns 50000000 "$@" >"$work/.out" 2>"$work/.err"
    status=$?
    if [ "$status" -ne 1 ]; then
        echo "FAIL: $what: status $status, not 1"
        failed=$((failed + 1))
    elif ! grep -qE "$pattern" "$work/.err"; then
        echo "FAIL: $what: message does not match /$pattern/:"
        cat "$work/.err"
        failed=$((failed + 1))
    else
        echo "ok: $what: $(head -1 "$work/.err")"
    fi
    rm -f "$work/.out" "$work/.err"
}

expect "unknown option" "Unknown option" --frobnicate
expect "missing firmware" "firmware.*No such file" --bios "$work/missing.bin"
expect "firmware too short" "multiple of 64 KiB" --bios "$work/short.bin"
expect "firmware of an odd size" "multiple of 64 KiB" --bios "$work/odd.bin"
expect "missing kernel" "kernel.*(No such file|cannot)" --kernel "$work/missing.kernel"
expect "kernel that is neither bzImage nor multiboot" "multiboot|bzImage|kernel" \
    --kernel "$work/garbage.kernel"
expect "truncated kernel" "multiboot|bzImage|kernel" --kernel "$work/tiny.kernel"
expect "memory out of range" "memory" -m 0
expect "memory too large" "memory" -m 999999
expect "bad boot order" "boot order" --boot cx
expect "bad serial" "serial" --serial frob
expect "bad clock" "clock" --clock fast
expect "bad display" "display" --display x11
expect "missing floppy image" "(No such file|cannot)" --fda "$work/missing.flp"
expect "floppy image of no known size" "size|geometry" --fda "$work/odd.flp"
expect "disk image too small to boot" "too small" --hda "$work/tiny.img"
expect "CD image too small to boot" "too small" --cdrom "$work/tiny.img"
expect "missing disk image" "(No such file|cannot)" --hda "$work/missing.img"
expect "missing CD image" "(No such file|cannot)" --cdrom "$work/missing.iso"
expect "broken profile" "Memory=lots" "$work"
expect "missing profile" "no machine profile|not a Hangar" "$work/noprofile"
expect "two profiles" "one profile" "$work" "$work"

after=$(sums)
if [ "$before" != "$after" ]; then
    echo "FAIL: a file changed:"
    echo "$before" > "$work/.b"
    echo "$after" | diff "$work/.b" - || true
    failed=$((failed + 1))
fi
[ "$failed" -eq 0 ] && echo "all bad input refused with status 1, no file changed"
[ "$failed" -eq 0 ]
