#!/bin/sh
# Saved machine states through hangar-run (issue 6): the monitor's savevm, info snapshots,
# loadvm and delvm on a profile, and --loadvm at start; a state refused for a differently
# built machine or a damaged file, with exit status 1 and the reason, the machine untouched.
# usage: savevm.sh HANGAR_RUN
set -u
run=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

mkdir -p "$work/p" "$work/big"
printf '[Machine]\nName=Saver\nMemory=32\nClock=icount\n' > "$work/p/machine.ini"
printf '[Machine]\nName=Bigger\nMemory=64\nClock=icount\n' > "$work/big/machine.ini"

# The monitor reads commands as the machine runs; the pauses let SeaBIOS get going.
(sleep 1; echo "savevm first"; echo "info snapshots"; echo "savevm $work/file.hgstate";
 echo "loadvm first"; echo "loadvm nothere"; echo "delvm nothere";
 echo "info status"; echo quit) |
    timeout 60 "$run" "$work/p" --serial none --monitor stdio > "$work/out" 2>&1
grep -q 'saved the machine as "first"' "$work/out" || fail "savevm first"
grep -qE '^(\(hangar\) )?first +20[0-9-]+ [0-9:]+ +[0-9]+:[0-9]{2}:[0-9]{2}\.[0-9]{3}$' \
    "$work/out" || fail "info snapshots lists the state with its date and guest time"
[ -s "$work/p/states/first.hgstate" ] || fail "the state file is in the profile's states/"
[ -s "$work/p/states/first.png" ] || fail "the state's screenshot is beside it"
[ -s "$work/file.hgstate" ] || fail "savevm FILE.hgstate writes that file"
grep -q 'restored "first"' "$work/out" || fail "loadvm first"
grep -q 'loadvm: no saved state "nothere"' "$work/out" || fail "loadvm of a missing state"
grep -q 'delvm: cannot delete the state "nothere"' "$work/out" || fail "delvm of a missing state"
grep -q 'VM status: running' "$work/out" || fail "the machine runs after the refusals"

# --loadvm at start runs from the state (SeaBIOS already past its banner: the run
# continues without error for a while and exits by --max-insns).
"$run" "$work/p" --serial none --loadvm first --max-insns 2000000 > "$work/out2" 2>&1
[ $? -eq 1 ] && grep -q 'stopped after 2000000 instructions' "$work/out2" ||
    { fail "--loadvm first then running"; cat "$work/out2"; }

expect() {
    what=$1 pattern=$2
    shift 2
    "$run" --serial none --max-insns 1000 "$@" > "$work/out3" 2>&1
    status=$?
    if [ $status -ne 1 ] || grep -q 'stopped after' "$work/out3" ||
       ! grep -qE "$pattern" "$work/out3"; then
        fail "$what (status $status)"
        cat "$work/out3"
    else
        echo "ok: $what: $(head -1 "$work/out3")"
    fi
}
expect "a state of a machine with other memory" "memory size" "$work/big" --loadvm "$work/file.hgstate"
expect "a missing state" 'no saved state "gone"' "$work/p" --loadvm gone
head -c 5000 "$work/file.hgstate" > "$work/cut.hgstate"
expect "a truncated state" "truncated" "$work/p" --loadvm "$work/cut.hgstate"
printf 'garbage garbage garbage garbage garbage garbage' > "$work/junk.hgstate"
expect "a file that is not a state" "not a Hangar machine state" "$work/p" --loadvm "$work/junk.hgstate"
expect "a bad state name" "state name" "$work/p" --loadvm '*x'
[ -s "$work/p/states/first.hgstate" ] || fail "refusals left the state in place"

# A machine without a profile keeps named states inside its qcow2 disk (an internal
# snapshot with the machine state, QEMU's savevm layout): qemu-img lists it with its VM
# size and finds the image consistent; --loadvm NAME starts from it.
if command -v qemu-img > /dev/null; then
    qemu-img create -q -f qcow2 "$work/d.qcow2" 8M
    (sleep 1; echo "savevm inside"; echo "info snapshots"; echo "loadvm inside"; echo quit) |
        timeout 60 "$run" -m 32 --hda "$work/d.qcow2" --clock icount --serial none \
            --monitor stdio > "$work/out4" 2>&1
    grep -q 'saved the machine as "inside"' "$work/out4" || fail "savevm into the qcow2 disk"
    grep -qE '^(\(hangar\) )?inside +20[0-9-]+ ' "$work/out4" ||
        fail "info snapshots lists the state kept in the disk"
    grep -q 'restored "inside"' "$work/out4" || { fail "loadvm from the disk"; cat "$work/out4"; }
    qemu-img snapshot -l "$work/d.qcow2" > "$work/snaps"
    cat "$work/snaps"
    awk '$2 == "inside" && $3 != "0" && $3 != "0 B" { found = 1 } END { exit !found }' \
        "$work/snaps" || fail "qemu-img lists the snapshot with its machine state size"
    qemu-img check -q "$work/d.qcow2" || fail "qemu-img check after savevm into the disk"
    "$run" -m 32 --hda "$work/d.qcow2" --clock icount --serial none --loadvm inside \
        --max-insns 2000000 > "$work/out5" 2>&1
    grep -q 'stopped after 2000000 instructions' "$work/out5" ||
        { fail "--loadvm from the qcow2 disk"; cat "$work/out5"; }
fi

echo "$failed failed"
[ $failed -eq 0 ]
