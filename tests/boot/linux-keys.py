#!/usr/bin/env python3
"""Boot test 6 of issue 3: keys sent through the monitor's sendkey reach the busybox shell
through the PS/2 keyboard (i8042, IRQ 1, the Linux keyboard driver and its VT), and the
command runs.

The initramfs script reads one line from the first virtual terminal (where the keyboard
types) and runs it with its output on the serial line. The test waits for the prompt on
the serial log, types a command key by key over the monitor's UNIX socket, and checks the
command's output. usage: linux-keys.py HANGAR_RUN ASSETS_DIR
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

run, assets = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
subprocess.run([os.path.join(here, "assets.sh"), assets], check=True)

SCRIPT = """
echo "keys: ready"
read -r line < /dev/tty1
echo "keys: got [$line]"
eval "$line"
"""
# Typed as keys: a command whose output proves it ran (arithmetic the shell does).
COMMAND = "echo sum=$((6*7))"
KEYS = {" ": "spc", "=": "equal", "$": "shift-4", "(": "shift-9", ")": "shift-0",
        "*": "shift-8"}

with tempfile.TemporaryDirectory() as work:
    script = os.path.join(work, "test.sh")
    with open(script, "w") as f:
        f.write(SCRIPT)
    initrd = os.path.join(work, "initrd.gz")
    subprocess.run([os.path.join(here, "mkinitramfs.sh"), os.path.join(assets, "busybox"),
                    script, initrd], check=True)
    serial = os.path.join(work, "serial.log")
    mon = os.path.join(work, "monitor.sock")
    proc = subprocess.Popen([run, "-m", "256", "--kernel", os.path.join(assets, "vmlinuz-686"),
                             "--initrd", initrd, "--append", "console=ttyS0",
                             "--serial", "file:" + serial, "--monitor", "unix:" + mon,
                             "--clock", "icount"])

    def log():
        try:
            with open(serial, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def fail(msg):
        proc.kill()
        print("FAIL:", msg)
        print(log()[-3000:])
        sys.exit(1)

    deadline = time.time() + 600
    while "keys: ready" not in log():
        if proc.poll() is not None:
            fail("hangar-run ended with status %d before the prompt" % proc.returncode)
        if time.time() > deadline:
            fail("no prompt within 600 s")
        time.sleep(0.5)
    time.sleep(1)
    s = socket.socket(socket.AF_UNIX)
    s.connect(mon)
    f = s.makefile("rw")
    f.readline()  # greeting
    for ch in COMMAND + "\n":
        key = "ret" if ch == "\n" else KEYS.get(ch, ch)
        f.write("sendkey %s\n" % key)
        f.flush()
        time.sleep(0.05)
    deadline = time.time() + 300
    while "reboot: Power down" not in log():
        if proc.poll() is not None:
            break
        if time.time() > deadline:
            fail("the command did not finish within 300 s")
        time.sleep(0.5)
    status = proc.wait(timeout=60)
    out = log()
    if "keys: got [%s]" % COMMAND not in out:
        fail("the shell did not receive the typed line")
    if "sum=42" not in out:
        fail("the typed command did not run")
    if status != 0:
        fail("hangar-run exited with %d after the power-off" % status)
    print("typed %r through the monitor; the shell ran it (sum=42)" % COMMAND)
