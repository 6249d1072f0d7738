#!/usr/bin/env python3
"""USB mass storage in a Linux guest (issue 9): an ext2 image made at test time (mke2fs -d)
is attached with hangar-run --usb storage:FILE. The guest's usb-storage and sd drivers must
find the disk, mount it, read a known file and a 300 KiB one (several bulk transfers),
write a file of its own and a 280 KiB one, and unmount; the test then reads them back from
the image with debugfs and compares.
usage: linux-usb-storage.py HANGAR_RUN ASSETS_DIR
"""
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from usbguest import STORAGE, USB, UsbGuest  # noqa: E402

SCRIPT = r"""
waitfor /sys/block/sda 200 || echo "usbtest: no /dev/sda"
sleep 1
mount -t ext4 /dev/sda /mnt && echo "usbtest: mounted"
echo "usbtest: hello [$(cat /mnt/hello.txt)]"
echo "usbtest: big $(md5sum < /mnt/big.bin)"
echo "written by the guest" > /mnt/out.txt
seq 1 50000 > /mnt/seq.txt
umount /mnt && echo "usbtest: unmounted"
sync
busybox dmesg | grep -i -E 'usb|sd |scsi|ext4|error' | sed 's/^/dmesg: /'
"""

HELLO = "hello from the host"

g = None
work = None


def main():
    global g
    import tempfile
    tmp = tempfile.TemporaryDirectory()
    root = os.path.join(tmp.name, "root")
    os.mkdir(root)
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write(HELLO + "\n")
    big = os.urandom(300 * 1024)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(big)
    img = os.path.join(tmp.name, "disk.img")
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-d", root, img, "8M"], check=True)
    g = UsbGuest(sys.argv[1], sys.argv[2], SCRIPT, USB + STORAGE, ["--usb", "storage:" + img])
    log = g.finish()
    if "usbtest: mounted" not in log:
        g.fail("the guest could not mount the USB disk")
    if "usbtest: hello [%s]" % HELLO not in log:
        g.fail("the guest did not read hello.txt")
    if "usbtest: big %s" % hashlib.md5(big).hexdigest() not in log:
        g.fail("the guest's md5 of big.bin differs from the host's")
    if "usbtest: unmounted" not in log:
        g.fail("the guest could not unmount the disk")

    def cat(name):
        r = subprocess.run(["debugfs", "-R", "cat /" + name, img], capture_output=True,
                           check=True)
        return r.stdout

    out = cat("out.txt")
    if out != b"written by the guest\n":
        g.fail("out.txt in the image holds %r" % out[:100])
    want = "".join("%d\n" % i for i in range(1, 50001)).encode()
    seq = cat("seq.txt")
    if seq != want:
        g.fail("seq.txt in the image differs (%d bytes, %d expected)" % (len(seq), len(want)))
    r = subprocess.run(["e2fsck", "-fn", img], capture_output=True, text=True)
    if r.returncode != 0:
        g.fail("e2fsck finds the image damaged:\n" + r.stdout[-2000:])
    g.cleanup()
    tmp.cleanup()
    print("the guest mounted the USB disk, read hello.txt and big.bin, wrote out.txt and "
          "seq.txt (%d bytes), which the host reads back; e2fsck is clean" % len(seq))


main()
