#!/bin/sh
# hangar-img from the command line: --help for each command, clear errors for bad input,
# and each command on real images with Debian's qemu-img and qemu-io as the oracle
# (skipped without them): create with backing files, info, check, convert [-c] both ways,
# snapshot -c/-l/-a/-d, rebase (safe and -u), resize.
# usage: hangar-img.sh HANGAR_IMG
set -eu
img=$(realpath "$1")
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
fail() {
    echo "FAIL: $*"
    exit 1
}
# expect_error WORDS CMD...: the command fails (exit 1) and says WORDS.
expect_error() {
    words=$1
    shift
    status=0
    out=$("$@" 2>&1) || status=$?
    [ "$status" -eq 1 ] || fail "'$*' exited with $status, not 1: $out"
    echo "$out" | grep -qi -- "$words" || fail "'$*' said '$out', not '$words'"
}

"$img" --help | grep -q "convert \[-c\]" || fail "no overall help"
for c in create info check convert snapshot rebase resize; do
    "$img" $c --help | grep -q "^Usage: hangar-img $c" || fail "no help for $c"
done
cd "$w"
expect_error "unknown command" "$img" frobnicate
expect_error "give the image a size" "$img" create -f qcow2 a.qcow2
expect_error "not a size" "$img" create -f qcow2 a.qcow2 12Q
expect_error "formats are raw and qcow2" "$img" create -f vmdk a.vmdk 1M
expect_error "bad -o options" "$img" create -f qcow2 -o cluster_size=1000 a.qcow2 1M
expect_error "cannot use backing file" "$img" create -f qcow2 -b missing.raw a.qcow2
expect_error "cannot open" "$img" info missing.qcow2
"$img" create -f raw plain.raw 1M >/dev/null
expect_error "only qcow2 images hold snapshots" "$img" snapshot -l plain.raw
expect_error "does not support checks" "$img" check plain.raw
expect_error "-c needs -O qcow2" "$img" convert -c -O raw plain.raw out.raw
expect_error "give one of" "$img" snapshot plain.raw
"$img" create -f qcow2 a.qcow2 1M >/dev/null
expect_error "--shrink" "$img" resize a.qcow2 -512K
expect_error "not supported" "$img" resize --shrink a.qcow2 -512K
expect_error "no snapshot named" "$img" snapshot -a nothing a.qcow2
echo "help and errors: ok"

if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
    echo "skipped the rest: qemu-img/qemu-io (qemu-utils) not installed"
    exit 0
fi
qcheck() {
    qemu-img check "$1" >/dev/null || fail "qemu-img check $1: $(qemu-img check "$1" 2>&1)"
    "$img" check "$1" >/dev/null || fail "hangar-img check $1: $("$img" check "$1")"
}
# A base with data, an overlay on it written by QEMU.
qemu-img create -q -f raw base.raw 8M
qemu-io -f raw -c 'write -P 0x61 0 2M' -c 'write -P 0x62 6M 100k' base.raw >/dev/null
"$img" create -f qcow2 -b base.raw -F raw over.qcow2 >/dev/null
"$img" info over.qcow2 | grep -q "^virtual size: 8 MiB" || fail "info: size"
"$img" info over.qcow2 | grep -q "^backing file: base.raw" || fail "info: backing file"
qemu-img info over.qcow2 | grep -q "backing file format: raw" || fail "qemu-img: backing format"
qemu-io -c 'write -P 0x71 1M 64k' -c 'write -z 6M 64k' over.qcow2 >/dev/null
qcheck over.qcow2
# An overlay larger than its base reads zeros past the base's end; a chain of three.
"$img" create -f qcow2 -b base.raw -F raw wide.qcow2 20M >/dev/null
"$img" create -f qcow2 -b wide.qcow2 top.qcow2 >/dev/null
qemu-io -c 'write -P 0x66 7M 2M' top.qcow2 >/dev/null
qemu-img convert -O raw top.qcow2 top-q.raw
"$img" convert -O raw top.qcow2 top-h.raw
cmp top-q.raw top-h.raw || fail "a chain of three reads differently from qemu-img"
qcheck top.qcow2
# Snapshots: made by us, seen and applied by QEMU and by us.
"$img" snapshot -c before over.qcow2
qemu-img snapshot -l over.qcow2 | grep -q " before " || fail "qemu-img does not list it"
qemu-io -c 'write -P 0x72 1M 64k' over.qcow2 >/dev/null
"$img" snapshot -l over.qcow2 | grep -q " before " || fail "snapshot -l"
"$img" snapshot -a before over.qcow2
qemu-io -c 'read -P 0x71 1M 64k' over.qcow2 | grep -q "verification failed" &&
    fail "snapshot -a did not bring the data back"
qcheck over.qcow2
"$img" snapshot -d before over.qcow2
qemu-img snapshot -l over.qcow2 | grep -q before && fail "snapshot -d left it"
qcheck over.qcow2
# convert both ways, compressed too.
qemu-img convert -O raw over.qcow2 want.raw
"$img" convert -O raw over.qcow2 got.raw
cmp want.raw got.raw || fail "convert to raw differs from qemu-img's"
"$img" convert -c -O qcow2 over.qcow2 comp.qcow2
qcheck comp.qcow2
qemu-img compare want.raw comp.qcow2 >/dev/null || fail "convert -c changed the data"
qemu-img info comp.qcow2 | grep -q "backing" && fail "convert kept a backing file"
"$img" convert -f qcow2 -O qcow2 -o compat=0.10,cluster_size=4096 comp.qcow2 v2.qcow2
qemu-img info v2.qcow2 | grep -q "compat: 0.10" || fail "-o compat=0.10"
qemu-img compare want.raw v2.qcow2 >/dev/null || fail "v2 convert changed the data"
# rebase: onto a different base, contents unchanged; then -u and removing the base.
cp base.raw base2.raw
qemu-io -f raw -c 'write -P 0x63 0 1M' base2.raw >/dev/null
"$img" rebase -b base2.raw -F raw over.qcow2
qemu-img info over.qcow2 | grep -q "^backing file: base2.raw" || fail "rebase: header"
qemu-img compare want.raw over.qcow2 >/dev/null || fail "rebase changed what the guest sees"
qcheck over.qcow2
"$img" rebase -b "" over.qcow2
qemu-img info over.qcow2 | grep -q "^backing file" && fail "rebase -b '' kept a backing file"
qemu-img compare want.raw over.qcow2 >/dev/null || fail "rebase -b '' changed the data"
"$img" rebase -u -b base.raw -F raw over.qcow2
qemu-img info over.qcow2 | grep -q "^backing file: base.raw" || fail "rebase -u"
qcheck over.qcow2
# resize: grow past the L1 table (512-byte clusters: one L1 entry maps 32 KiB).
"$img" create -f qcow2 -o cluster_size=512 small.qcow2 64K >/dev/null
qemu-io -c 'write -P 0x44 0 64k' small.qcow2 >/dev/null
"$img" resize small.qcow2 +10M >/dev/null
qemu-img info small.qcow2 | grep -q "virtual size: 10.1 MiB" ||
    fail "resize: $(qemu-img info small.qcow2)"
qemu-io -c 'read -P 0x44 0 64k' -c 'read -P 0 64k 10M' small.qcow2 | grep -q "failed" &&
    fail "resize lost data or grew with garbage"
qcheck small.qcow2
"$img" resize --shrink plain.raw 512K >/dev/null
[ "$(stat -c %s plain.raw)" -eq 524288 ] || fail "raw resize"
# Images QEMU made with its defaults and with options open here.
qemu-img create -q -f qcow2 -o cluster_size=2M,refcount_bits=1 big.qcow2 4G
qemu-io -c 'write -P 0x55 3G 3M' big.qcow2 >/dev/null
"$img" check big.qcow2 >/dev/null || fail "check of QEMU's 2M-cluster image"
"$img" info big.qcow2 | grep -q "refcount bits: 1" || fail "info: refcount bits"
echo "commands against qemu-img: ok"
