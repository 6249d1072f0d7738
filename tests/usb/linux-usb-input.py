#!/usr/bin/env python3
"""USB input in a Linux guest (issue 9): hangar-run --usb tablet,keyboard,mouse puts the
tablet on root port 1 and the keyboard and mouse behind a hub on root port 2. The busybox
guest loads the kernel's uhci-hcd, usbhid and hid-generic; each device must appear in
/proc/bus/input/devices and /sys/bus/usb/devices. The test then moves the tablet's pointer
through the monitor (pointer X Y) and the guest must read the same absolute coordinates
from the tablet's /dev/input/eventN, and keys typed with sendkey must reach the shell
through the USB keyboard (its event node sees them). Before that the guest lets every
device autosuspend: the tablet, keyboard, hub and root hub must all reach "suspended" (the
UHCI in global suspend), and then wake for the tablet being opened and the keyboard's
remote wakeup.
usage: linux-usb-input.py HANGAR_RUN ASSETS_DIR
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from usbguest import HID, USB, UsbGuest, events  # noqa: E402

SCRIPT = r"""
waitfor /sys/bus/usb/devices/1-2.2 100
sleep 1
sed 's/^/input: /' /proc/bus/input/devices
for d in /sys/bus/usb/devices/*; do
    [ -f $d/product ] && echo "usbdev: ${d##*/} $(cat $d/product)"
done
# Let every device suspend when idle: the hub, the root hub and the controller follow.
for d in 1-1 1-2.1 1-2.2; do echo auto > /sys/bus/usb/devices/$d/power/control; done
sleep 5
st() { cat /sys/bus/usb/devices/$1/power/runtime_status; }
echo "usbtest: power tablet=$(st 1-1) keyboard=$(st 1-2.1) hub=$(st 1-2) root=$(st usb1)"
T=$(evnode "USB Tablet"); K=$(evnode "USB Keyboard")
echo "usbtest: nodes tablet=$T keyboard=$K"
dd if=/dev/input/$T of=/tmp/tab bs=16 2>/dev/null & TP=$!
dd if=/dev/input/$K of=/tmp/kbd bs=16 2>/dev/null & KP=$!
sleep 1
echo "usbtest: ready"
read -r line < /dev/tty1
echo "usbtest: got [$line]"
sleep 1
kill $TP $KP
od -An -v -tu2 /tmp/tab | sed 's/^/tab:/'
od -An -v -tu2 /tmp/kbd | sed 's/^/kbd:/'
busybox dmesg | grep -i -E 'usb|hid' | sed 's/^/dmesg: /'
"""

EV_KEY, EV_ABS = 1, 3
KEY_CODES = {"h": 35, "e": 18, "l": 38, "o": 24, "ret": 28}

g = UsbGuest(sys.argv[1], sys.argv[2], SCRIPT, USB + HID, ["--usb", "tablet,keyboard,mouse"])
g.wait(r"^usbtest: ready", 600)
log = g.log()
power = re.search(r"^usbtest: power (.*)", log, re.M).group(1)
print("idle:", power)
# Idle, every device suspended, and with them the hub and the root hub (the controller in
# global suspend); opening the tablet and typing must wake them (resume, remote wakeup).
if power != "tablet=suspended keyboard=suspended hub=suspended root=suspended":
    g.fail("the idle devices did not all suspend: " + power)
for name in ("USB Tablet", "USB Keyboard", "USB Mouse"):
    if 'N: Name="Hangar %s"' % name not in log:
        g.fail("%s is not in /proc/bus/input/devices" % name)
for dev, product in (("1-1", "USB Tablet"), ("1-2", "Hangar USB Hub"),
                     ("1-2.1", "USB Keyboard"), ("1-2.2", "USB Mouse")):
    if "usbdev: %s %s" % (dev, product) not in log:
        g.fail("no %s at %s in /sys/bus/usb/devices" % (product, dev))

# Three positions on the 720x400 text screen, then a click at the last one.
sent = []
for x, y, b in ((100, 50, 0), (360, 200, 0), (719, 399, 0), (719, 399, 1), (719, 399, 0)):
    reply = g.monitor("pointer %d %d %d" % (x, y, b))
    words = reply.split()
    if len(words) != 3 or words[0] != "tablet":
        g.fail("pointer: unexpected reply %r" % reply)
    sent.append((int(words[1]), int(words[2]), b))
    time.sleep(0.5)  # the guest polls in between: each position is a report of its own
# Long enough for the idle keyboard (and the hub) to suspend again: the first key must come
# through the keyboard's remote wakeup.
time.sleep(4)
for key in ("h", "e", "l", "l", "o", "ret"):
    g.monitor("sendkey " + key)
log = g.finish()
if "usbtest: got [hello]" not in log:
    g.fail("the shell did not read 'hello' typed on the USB keyboard")

tab = events(log, "tab:")
xs = [v for t, c, v in tab if t == EV_ABS and c == 0]
ys = [v for t, c, v in tab if t == EV_ABS and c == 1]
clicks = [v for t, c, v in tab if t == EV_KEY and c == 272]
print("sent", sent)
print("guest read X", xs, "Y", ys, "BTN_LEFT", clicks)
if not xs or not ys or xs[-1] != sent[-1][0] or ys[-1] != sent[-1][1]:
    g.fail("the guest's last absolute position (%s, %s) is not the one sent (%d, %d)" %
           (xs[-1:], ys[-1:], sent[-1][0], sent[-1][1]))
if sorted(set(xs)) != sorted(set(s[0] for s in sent)) or \
        sorted(set(ys)) != sorted(set(s[1] for s in sent)):
    g.fail("the guest read other coordinates than the ones sent")
if clicks != [1, 0]:
    g.fail("the left button did not go down and up once (%s)" % clicks)
kbd = events(log, "kbd:")
pressed = [c for t, c, v in kbd if t == EV_KEY and v == 1]
want = [KEY_CODES[k] for k in ("h", "e", "l", "l", "o", "ret")]
if pressed != want:
    g.fail("the USB keyboard's event node saw %s, not %s" % (pressed, want))
g.cleanup()
print("tablet, keyboard and mouse enumerated (hub at 1-2); absolute positions and keys read "
      "back by the guest")
