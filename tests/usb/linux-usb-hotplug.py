#!/usr/bin/env python3
"""USB hot plug in a running Linux guest (issue 9): the monitor's usb_add and usb_del plug
and unplug devices ten times while the guest watches /sys/bus/usb/devices; each arrival
must be enumerated by the guest's drivers and each removal noticed, with no error in the
kernel log. Alternates a tablet on root port 1 and a storage disk, and keeps a keyboard
and a mouse attached so that the later devices go through the hub.
usage: linux-usb-hotplug.py HANGAR_RUN ASSETS_DIR
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from usbguest import HID, STORAGE, USB, UsbGuest  # noqa: E402

ROUNDS = 10

# The guest prints the USB devices it has whenever they change, until a key arrives on its
# (USB) keyboard; then its kernel log's complaints.
SCRIPT = r"""
waitfor /sys/bus/usb/devices/1-2.2/product 200
(read -r x < /dev/tty1; touch /tmp/stop) &
last=""
while [ ! -e /tmp/stop ]; do
    now=$(cd /sys/bus/usb/devices && for d in [0-9]-*; do
        case $d in
            *:*) ;;
            *) [ -f $d/product ] && printf '%s=%s,' $d "$(cat $d/product 2>/dev/null)";;
        esac
    done; for b in /sys/block/sd*; do [ -e "$b" ] && printf 'disk=%s,' "${b##*/}"; done)
    if [ "$now" != "$last" ]; then
        echo "usbtest: devices [$now]"
        last=$now
    fi
    sleep 0.2
done
busybox dmesg | grep -i -E 'usb|uhci|hid|hub|scsi|sd[a-z]' \
    | grep -i -E 'error|fail|unable|not accepting|descriptor read|timed out|reset' \
    | grep -v 'reset full-speed USB device' | sed 's/^/kerr: /'
echo "usbtest: done"
"""

tmp = tempfile.TemporaryDirectory()
img = os.path.join(tmp.name, "disk.img")
subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", img, "4M"], check=True)
# The mouse on root port 1; the keyboard and the tablet behind the hub on root port 2.
g = UsbGuest(sys.argv[1], sys.argv[2], SCRIPT, USB + HID + STORAGE,
             ["--usb", "mouse,keyboard,tablet"])
first = g.wait(r"^usbtest: devices \[(.*)\]", 600).group(1)
for want in ("1-1=USB Mouse", "1-2=Hangar USB Hub", "1-2.1=USB Keyboard", "1-2.2=USB Tablet"):
    if want not in first:
        g.fail("at start the guest has %s, without %s" % (first, want))


def state_after(offset, present, product):
    """Waits for a device list printed after offset with (or without) product."""
    while True:
        m = g.wait(r"^usbtest: devices \[(.*)\]", 300, offset)
        offset += m.end()
        if (product in m.group(1)) == present:
            return offset, m.group(1)


ids = {}
for line in g.monitor("info usb").splitlines():
    m = re.match(r"\s*Device (\d+), Port (\S+),.*ID: (\w+)", line)
    if m:
        ids[m.group(3)] = int(m.group(1))
for i in range(ROUNDS):
    # Even rounds: the mouse leaves root port 1 and comes back (root port hot plug); odd
    # rounds: a disk arrives on the hub's third port and leaves.
    offset = len(g.log())
    if i % 2 == 0:
        product, where = "USB Mouse", "1-1"
        reply = g.monitor("usb_del %d" % ids["mouse"])
        if reply.strip():
            g.fail("usb_del: %r" % reply)
        offset, seen = state_after(offset, False, product)
        reply = g.monitor("usb_add mouse")
    else:
        product, where = "Hangar USB Storage", "1-2.3"
        reply = g.monitor("usb_add storage:" + img)
    m = re.search(r"USB device (\d+) added", reply)
    if not m:
        g.fail("usb_add: %r" % reply)
    offset, seen = state_after(offset, True, product)
    if i % 2 == 1:
        # The disk leaves once the kernel has finished with it (its capacity read and its
        # block device made): pulled out in the middle of that, a real disk makes the
        # kernel complain too.
        if "disk=sd" not in seen:
            offset, seen = state_after(offset, True, "disk=sd")
    if "%s=%s" % (where, product) not in seen:
        g.fail("round %d: the %s is not at %s (%s)" % (i + 1, product, where, seen))
    if i % 2 == 0:
        ids["mouse"] = int(m.group(1))
    else:
        g.monitor("usb_del " + m.group(1))
        offset, seen = state_after(offset, False, product)
    print("round %d: %s unplugged and plugged (%s)" % (i + 1, product, where))
info = g.monitor("info usb")
g.monitor("sendkey ret")
log = g.finish()
errors = [line for line in log.splitlines() if line.startswith("kerr: ")]
if errors:
    g.fail("the kernel log has errors:\n" + "\n".join(errors))
if "usbtest: done" not in log:
    g.fail("the guest's watch loop did not end")
print(info)
g.cleanup()
tmp.cleanup()
print("%d hot plug rounds (root port and hub port), no error in the guest's kernel log" %
      ROUNDS)
