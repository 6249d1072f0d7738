#!/usr/bin/python3
"""Network benchmark (issue 8): guest-to-host TCP throughput of 64 MiB through user
networking (libslirp) with each card, the busybox Linux guest sending with nc to a server
on the host's loopback (10.0.2.2 to the guest). The time runs from the first byte the host
receives to the last. With qemu-system-i386 installed, the same guest, kernel and card on
QEMU's TCG in the same run, and the ratio (goal: Hangar no slower than QEMU). Each
emulator runs RUNS times per card, alternating so that a change in the host's load falls
on both; the figures are medians, with the range of the runs.
usage: bench-net.py HANGAR_RUN ASSETS_DIR [--runs N] [CARD...]   (N defaults to 3)
"""
import os
import shutil
import statistics
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "net"))
import netguest  # noqa: E402

TOTAL = 64 << 20
run, assets = sys.argv[1:3]
rest = sys.argv[3:]
runs = 3
if rest[:1] == ["--runs"]:
    runs = int(rest[1])
    rest = rest[2:]
cards = rest or list(netguest.CARDS)

SCRIPT = r"""
echo "net: sending"
dd if=/dev/zero bs=65536 count=1024 2>/dev/null | nc 10.0.2.2 @PORT@
echo "net: sent"
poweroff -f
"""


class Sink:
    """Accepts one connection and times the reception of TOTAL bytes."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.result = None
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.sock.accept()
        got, first = 0, None
        while got < TOTAL:
            data = conn.recv(1 << 20)
            if not data:
                break
            if first is None:
                first = time.monotonic()
            got += len(data)
        self.result = (got, time.monotonic() - first if first else None)
        conn.close()

    def wait(self, timeout):
        self.thread.join(timeout)
        self.sock.close()
        return self.result


def qemu_has(card):
    """QEMU has the same card (it has no RTL8139C: its rtl8139 is the C+)."""
    return card == "ne2k_isa" or netguest.CARDS[card][1] is not None


def qemu_args(card, kernel, initrd, serial):
    if card == "ne2k_isa":
        nic = ["-netdev", "user,id=n0", "-device", "ne2k_isa,netdev=n0,iobase=0x300,irq=7"]
    else:
        nic = ["-nic", "user,model=" + netguest.CARDS[card][1]]
    return ["qemu-system-i386", "-accel", "tcg", "-m", "128", "-display", "none",
            "-no-reboot", "-kernel", kernel, "-initrd", initrd, "-append",
            "console=ttyS0 quiet", "-serial", "file:" + serial] + nic


def measure(card, work, qemu):
    sink = Sink()
    script = SCRIPT.replace("@PORT@", str(sink.port))
    guest = netguest.Guest(run, assets, card, script, work, ["--net", "user"], start=not qemu)
    proc = guest.proc
    if qemu:
        args = qemu_args(card, guest.kernel, guest.initrd, guest.serial + ".qemu")
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res = sink.wait(600)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if not res or res[0] < TOTAL or not res[1]:
        print("  %s on %s: only %s bytes arrived" % (card, "QEMU" if qemu else "Hangar",
                                                     res[0] if res else 0))
        return None
    return TOTAL / res[1] / (1 << 20)


def summary(vals):
    """Median and range of the runs that completed, as text; None when none did."""
    vals = [v for v in vals if v]
    if not vals:
        return None, "      -"
    med = statistics.median(vals)
    if len(vals) == 1:
        return med, "%7.1f" % med
    return med, "%7.1f (%.1f-%.1f)" % (med, min(vals), max(vals))


def main():
    have_qemu = shutil.which("qemu-system-i386") is not None
    print("guest-to-host TCP, 64 MiB through user networking (MiB/s, higher is better; "
          "median of %d run(s), range in brackets)" % runs)
    with tempfile.TemporaryDirectory() as work:
        for card in cards:
            compare = have_qemu and qemu_has(card)
            ours, theirs = [], []
            for _ in range(runs):
                ours.append(measure(card, work, False))
                if compare:
                    theirs.append(measure(card, work, True))
            med_ours, text = summary(ours)
            line = "%-22s hangar %s MiB/s" % (card, text)
            if compare:
                med_theirs, text = summary(theirs)
                line += "   qemu %s MiB/s" % text
                if med_ours and med_theirs:
                    line += "   ratio %.2f" % (med_ours / med_theirs)
            elif have_qemu:
                line += "   (no QEMU equivalent)"
            print(line, flush=True)
    return 0


sys.exit(main())
