# Shared parts of the Linux boot tests (sourced): the initramfs test script, the checks on
# what it printed, and a hangar-run invocation in the instruction-counted clock mode.

# write_test_script FILE: the script the initramfs runs (prints /proc/cpuinfo, checksums of
# generated data and a gzip round trip).
write_test_script() {
    cat > "$1" <<'SCRIPT'
echo "== cpuinfo"
cat /proc/cpuinfo
seq 1 300000 > /tmp/data
echo "data md5: $(md5sum < /tmp/data)"
gzip -c /tmp/data > /tmp/data.gz
echo "roundtrip md5: $(gunzip -c /tmp/data.gz | md5sum)"
SCRIPT
}

# check_boot STATUS LOG: the guest ran the script, its checksums equal the host's, and the
# machine powered off through ACPI (status 0).
check_boot() {
    status=$1 log=$2
    want=$(seq 1 300000 | md5sum | cut -d' ' -f1)
    fail() {
        echo "FAIL: $*"
        tail -40 "$log"
        exit 1
    }
    [ "$status" -eq 0 ] || fail "hangar-run exited with status $status, not 0 (ACPI power-off)"
    grep -q "init: hangar boot test starting" "$log" || fail "init did not start"
    grep -q "^model name.*Pentium II" "$log" || fail "no Pentium II in /proc/cpuinfo"
    grep -q "^flags.*fpu.*tsc.*cx8.*cmov.*mmx.*fxsr" "$log" ||
        fail "/proc/cpuinfo flags lack fpu/tsc/cx8/cmov/mmx/fxsr"
    grep -q "^data md5: $want" "$log" || fail "md5 of the data is not $want"
    grep -q "^roundtrip md5: $want" "$log" || fail "gzip round trip changed the data"
    grep -q "reboot: Power down" "$log" || fail "the kernel did not power down"
    echo "Linux booted, checksums match the host ($want), powered off with status 0"
}
