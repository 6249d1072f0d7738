"""A busybox Linux guest for the USB tests: the boot tests' i386 kernel and busybox
(tests/boot/assets.sh) with the kernel's own USB, HID, SCSI and ext4 modules in the
initramfs, started by hangar-run in the instruction-counted clock mode with its monitor on
a UNIX socket. The guest's script prints on the serial line; the test reads it and talks to
the monitor (usb_add, usb_del, sendkey, pointer).
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BOOT = os.path.join(HERE, "..", "boot")

# Modules (drivers/... below the kernel's module tree), in load order.
USB = ["drivers/usb/common/usb-common", "drivers/usb/core/usbcore",
       "drivers/usb/host/uhci-hcd"]
HID = ["drivers/hid/hid", "drivers/hid/usbhid/usbhid", "drivers/hid/hid-generic",
       "drivers/input/evdev"]
STORAGE = ["drivers/scsi/scsi_common", "drivers/scsi/scsi_mod", "crypto/crct10dif_common",
           "crypto/crct10dif_generic", "lib/crc-t10dif", "lib/crc64",
           "crypto/crc64_rocksoft_generic", "lib/crc64-rocksoft", "block/t10-pi",
           "drivers/scsi/sd_mod", "drivers/usb/storage/usb-storage", "fs/mbcache",
           "fs/jbd2/jbd2", "lib/crc16", "crypto/crc32c_generic", "fs/ext4/ext4"]

# Shell functions the scripts use: load the modules, find a device's event node.
PRELUDE = r"""
for m in %(mods)s; do insmod /lib/modules/$m.ko || echo "usbtest: insmod $m failed"; done
evnode() {
    awk -v want="$1" '/^N: /{hit = index($0, want) > 0} hit && /^H: /{
        for (i = 1; i <= NF; i++) if ($i ~ /^event/) { print $i; exit } }' \
        /proc/bus/input/devices
}
waitfor() {
    n=0
    while [ ! -e "$1" ] && [ $n -lt ${2:-100} ]; do sleep 0.1; n=$((n+1)); done
    [ -e "$1" ]
}
"""


class UsbGuest:
    def __init__(self, run, assets, script, modules, args=()):
        subprocess.run([os.path.join(BOOT, "assets.sh"), assets], check=True)
        self._tmp = tempfile.TemporaryDirectory()
        self.work = self._tmp.name
        path = os.path.join(self.work, "test.sh")
        with open(path, "w") as f:
            f.write(PRELUDE % {"mods": " ".join(modules)} + script)
        initrd = os.path.join(self.work, "initrd.gz")
        subprocess.run([os.path.join(BOOT, "mkinitramfs.sh"), os.path.join(assets, "busybox"),
                        path, initrd, os.path.join(assets, "modules")] +
                       [m + ".ko" for m in modules], check=True)
        self.serial = os.path.join(self.work, "serial.log")
        self.sock_path = os.path.join(self.work, "monitor.sock")
        self.proc = subprocess.Popen(
            [run, "-m", "256", "--kernel", os.path.join(assets, "vmlinuz-686"), "--initrd",
             initrd, "--append", "console=ttyS0 loglevel=4", "--serial", "file:" + self.serial,
             "--clock", "icount", "--monitor", "unix:" + self.sock_path] + list(args))
        self.mon = None

    def log(self):
        try:
            with open(self.serial, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def fail(self, msg):
        self.proc.kill()
        print("FAIL:", msg)
        print(self.log()[-4000:])
        sys.exit(1)

    def wait(self, pattern, timeout=600, start=0):
        """Waits until the serial log (from offset start) matches pattern; returns the
        match."""
        deadline = time.time() + timeout
        while True:
            m = re.search(pattern, self.log()[start:], re.M)
            if m:
                return m
            if self.proc.poll() is not None:
                self.fail("hangar-run ended (status %d) before %r" %
                          (self.proc.returncode, pattern))
            if time.time() > deadline:
                self.fail("nothing matched %r within %d s" % (pattern, timeout))
            time.sleep(0.2)

    def monitor(self, line):
        """Runs a monitor command and returns its reply."""
        if self.mon is None:
            deadline = time.time() + 30
            while not os.path.exists(self.sock_path):
                if time.time() > deadline:
                    self.fail("no monitor socket")
                time.sleep(0.1)
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.sock_path)
            s.settimeout(60)
            self.mon = s
            self._buf = b""
            self._read_until(b"\n")  # greeting
        self.mon.sendall(line.encode() + b"\n")
        # Replies are one or more lines; the commands used here answer in one line or none,
        # so a marker command after it ends the reply.
        self.mon.sendall(b"info status\n")
        out = self._read_until(b"VM status:")
        self._read_until(b"\n")
        return out.decode(errors="replace")

    def _read_until(self, marker):
        while marker not in self._buf:
            chunk = self.mon.recv(4096)
            if not chunk:
                self.fail("the monitor closed the connection")
            self._buf += chunk
        i = self._buf.index(marker)
        out, self._buf = self._buf[:i], self._buf[i + len(marker):]
        return out

    def finish(self, timeout=600):
        """Waits for the guest's power-off; hangar-run must exit with status 0."""
        self.wait(r"reboot: Power down|init: test script ended", timeout)
        try:
            status = self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.fail("hangar-run did not end after the guest powered off")
        if status != 0:
            self.fail("hangar-run exited with %d" % status)
        if self.mon:
            self.mon.close()
        return self.log()

    def cleanup(self):
        self._tmp.cleanup()


def events(log, tag):
    """Decodes the input events a guest printed with `od -An -v -tu2` (16-byte i386
    struct input_event: time, type, code, value) on lines starting with tag."""
    words = []
    for line in log.splitlines():
        if line.startswith(tag):
            words += [int(w) for w in line[len(tag):].split()]
    out = []
    for i in range(0, len(words) - 7, 8):
        w = words[i:i + 8]
        value = w[6] | w[7] << 16
        if value >= 1 << 31:
            value -= 1 << 32
        out.append((w[4], w[5], value))
    return out
