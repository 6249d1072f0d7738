#!/usr/bin/env python3
"""Idle cost of USB (issue 9): host CPU time of an idle Linux guest (the boot tests' i386
kernel and busybox, host clock) over a fixed window, without USB devices, with a USB
tablet that no program reads (Linux lets it and the controller suspend), and with a tablet
whose event node a program holds open (the endpoint is polled every 8 ms, as under a
desktop). Prints the emulator's CPU use in percent of one core for each, and the difference
to the first. Figures only; nothing is asserted.
usage: bench-usb-idle.py HANGAR_RUN ASSETS_DIR [SECONDS]   (each of five windows; median)
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "usb"))
from usbguest import HID, USB, UsbGuest  # noqa: E402

WINDOW = float(sys.argv[3]) if len(sys.argv) > 3 else 6.0
WINDOWS = 5

SCRIPT = r"""
sleep 2
T=$(evnode "USB Tablet")
[ -n "$T" ] && [ "$OPEN" = 1 ] && cat /dev/input/$T > /dev/null &
echo "bench: idle"
sleep 100000
"""


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(run, assets, usb, open_node):
    script = ("OPEN=%d\n" % open_node) + SCRIPT
    args = ["--usb", usb] if usb else []
    g = UsbGuest(run, assets, script, USB + HID, args)
    # Host clock: the guest idles in real time.
    g.proc.kill()
    g.proc.wait()
    cmd = [run, "-m", "256", "--kernel", os.path.join(assets, "vmlinuz-686"), "--initrd",
           os.path.join(g.work, "initrd.gz"), "--append", "console=ttyS0 loglevel=4",
           "--serial", "file:" + g.serial] + args
    g.proc = subprocess.Popen(cmd)
    g.wait(r"^bench: idle", 300)
    # The guest settles (the boot's last work, the first device polls), then the median of
    # WINDOWS windows: one window alone moves by a whole percent with the host's load.
    time.sleep(5)
    shares = []
    for _ in range(WINDOWS):
        c0, t0 = cpu_seconds(g.proc.pid), time.monotonic()
        time.sleep(WINDOW)
        c1, t1 = cpu_seconds(g.proc.pid), time.monotonic()
        shares.append(100.0 * (c1 - c0) / (t1 - t0))
    g.proc.kill()
    g.proc.wait()
    g.cleanup()
    return statistics.median(shares)


def main():
    run, assets = sys.argv[1], sys.argv[2]
    base = measure(run, assets, None, 0)
    print("idle guest, no USB device:               %5.2f%% of a core" % base)
    closed = measure(run, assets, "tablet", 0)
    print("idle guest, tablet (nobody reads it):    %5.2f%% of a core (%+.2f)" %
          (closed, closed - base))
    opened = measure(run, assets, "tablet", 1)
    print("idle guest, tablet polled (node open):   %5.2f%% of a core (%+.2f)" %
          (opened, opened - base))


main()
