#!/usr/bin/env python3
"""Keys typed by a VNC client reach a Linux shell: the same busybox initramfs as
tests/boot/linux-keys.py, but the command is typed as RFB KeyEvents (rfb.py) the way a US
client sends them (Shift pressed around shifted symbols), plus a "/" the way a German
client sends it (Shift+7 gives the keysym slash, which needs no Shift on a US keyboard)
and a raw key as a QEMU Extended Key Event. Proves the keysym mapping end to end through
the i8042, Linux's atkbd driver and its VT.
usage: linux-vnc-keys.py HANGAR_RUN ASSETS_DIR
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import rfb  # noqa: E402

run, assets = sys.argv[1], sys.argv[2]
boot = os.path.join(here, "..", "boot")
subprocess.run([os.path.join(boot, "assets.sh"), assets], check=True)

SCRIPT = """
echo "keys: ready"
read -r line < /dev/tty1
echo "keys: got [$line]"
eval "$line"
"""
# Typed through VNC; the output proves the shell ran it. The "/" and the final "Z" come
# from the German-layout and the raw-key paths below.
COMMAND = 'echo "sum=$((6*7))" A_B~'
SHIFTED = set('~!@#$%^&*()_+{}|:"<>?') | set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

with tempfile.TemporaryDirectory() as work:
    script = os.path.join(work, "test.sh")
    with open(script, "w") as f:
        f.write(SCRIPT)
    initrd = os.path.join(work, "initrd.gz")
    subprocess.run([os.path.join(boot, "mkinitramfs.sh"), os.path.join(assets, "busybox"),
                    script, initrd], check=True)
    serial = os.path.join(work, "serial.log")
    vnc = os.path.join(work, "vnc.sock")
    proc = subprocess.Popen([run, "-m", "256", "--kernel", os.path.join(assets, "vmlinuz-686"),
                             "--initrd", initrd, "--append", "console=ttyS0",
                             "--serial", "file:" + serial, "--vnc", "unix:" + vnc,
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
    s.connect(vnc)
    c = rfb.Client(s)
    c.set_encodings([rfb.ENC_RAW, rfb.ENC_DESKTOP_SIZE, rfb.ENC_QEMU_EXT_KEY])
    c.update()
    for ch in COMMAND:
        if ch in SHIFTED:
            c.key(rfb.XK_SHIFT_L, True)
        c.tap(ord(ch))
        if ch in SHIFTED:
            c.key(rfb.XK_SHIFT_L, False)
        time.sleep(0.02)
    c.key(rfb.XK_SHIFT_L, True)  # German layout: Shift+7 is "/"
    c.tap(ord("/"))
    c.key(rfb.XK_SHIFT_L, False)
    c.ext_key_event(rfb.XK_SHIFT_L, 0x2A, True)  # raw keys: Shift + the US Z key
    c.ext_key_event(ord("Y"), 0x2C, True)  # (a German client's Y: the keysym is ignored)
    c.ext_key_event(ord("Y"), 0x2C, False)
    c.ext_key_event(rfb.XK_SHIFT_L, 0x2A, False)
    c.tap(rfb.XK_RETURN)
    deadline = time.time() + 300
    while "reboot: Power down" not in log():
        if proc.poll() is not None:
            break
        if time.time() > deadline:
            fail("the command did not finish within 300 s")
        time.sleep(0.5)
    s.close()
    status = proc.wait(timeout=60)
    out = log()
    typed = COMMAND + "/Z"
    if "keys: got [%s]" % typed not in out:
        fail("the shell did not receive %r" % typed)
    if "sum=42 A_B~/Z" not in out:
        fail("the typed command did not run")
    if status != 0:
        fail("hangar-run exited with %d after the power-off" % status)
    print("typed %r through VNC; the shell ran it (sum=42 A_B~/Z)" % typed)
