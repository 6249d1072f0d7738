#!/bin/sh
# Builds the libFuzzer target of the image parser (fuzz-image.c with engine/block) with
# clang, AddressSanitizer and UndefinedBehaviorSanitizer, makes a seed corpus of small
# images with hangar-img (and qemu-img when installed: compressed clusters, snapshots), and
# fuzzes for SECONDS. Any crash or sanitizer report fails (libFuzzer exits non-zero and
# leaves the input as crash-* in the work folder, which is kept then).
# usage: fuzz.sh SOURCE_ROOT HANGAR_IMG SECONDS [WORKDIR]
set -eu
src=$1 img=$2 seconds=$3
work=${4:-$(mktemp -d)}
mkdir -p "$work/corpus"
if ! command -v clang >/dev/null; then
    echo "skipped: clang is not installed (scripts/install-deps adds it)"
    exit 77
fi
blk=$src/engine/block
# shellcheck disable=SC2046
if ! clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$blk" $(pkg-config --cflags glib-2.0 zlib) \
    "$src/tests/block/fuzz-image.c" "$blk/block.c" "$blk/raw.c" "$blk/qcow2.c" \
    "$blk/qcow2-check.c" "$blk/qcow2-snapshot.c" "$blk/aio.c" \
    $(pkg-config --libs glib-2.0 zlib) -o "$work/fuzz-image" 2>"$work/build.log"; then
    if grep -q "fuzzer" "$work/build.log"; then
        cat "$work/build.log"
        echo "skipped: clang lacks libFuzzer (install libclang-rt-dev)"
        exit 77
    fi
    cat "$work/build.log"
    exit 1
fi
# Seeds: tiny images (512-byte clusters) of each kind.
c=$work/corpus
head -c 20000 /dev/urandom > "$work/data.raw"
yes hangar | head -c 30000 >> "$work/data.raw"
truncate -s 64K "$work/data.raw"
"$img" create -f qcow2 -o cluster_size=512 "$c/empty.qcow2" 64K >/dev/null
"$img" create -f qcow2 -o cluster_size=512,compat=0.10 "$c/v2.qcow2" 1M >/dev/null
"$img" convert -O qcow2 -o cluster_size=512 "$work/data.raw" "$c/data.qcow2"
"$img" convert -O qcow2 -o cluster_size=1024,refcount_bits=4 "$work/data.raw" "$c/rc4.qcow2"
"$img" convert -c -O qcow2 -o cluster_size=4096 "$work/data.raw" "$c/compressed.qcow2"
cp "$c/data.qcow2" "$c/snap.qcow2"
"$img" snapshot -c one "$c/snap.qcow2"
cp "$work/data.raw" "$c/plain.raw"
if command -v qemu-img >/dev/null; then
    qemu-img convert -c -O qcow2 -o cluster_size=4096 "$work/data.raw" "$c/qemu-comp.qcow2"
    qemu-img create -q -f qcow2 -o cluster_size=512 -b plain.raw -F raw "$c/overlay.qcow2"
fi
cd "$work"
status=0
./fuzz-image -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=20 -print_final_stats=1 \
    "$c" > fuzz.log 2>&1 || status=$?
tail -15 fuzz.log
if ls crash-* leak-* timeout-* oom-* >/dev/null 2>&1; then
    echo "FAIL: the fuzzer found a problem; inputs kept in $work"
    exit 1
fi
[ $# -ge 4 ] || rm -rf "$work"
exit $status
