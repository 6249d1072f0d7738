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
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "boot"))
import rfb  # noqa: E402
from shellguest import ShellGuest  # noqa: E402

# Typed through VNC; the output proves the shell ran it. The "/" and the final "Z" come
# from the German-layout and the raw-key paths below.
COMMAND = 'echo "sum=$((6*7))" A_B~'
SHIFTED = set('~!@#$%^&*()_+{}|:"<>?') | set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

g = ShellGuest(sys.argv[1], sys.argv[2], ["--vnc", "unix:@WORK@/vnc.sock"])
g.wait_prompt()
s = socket.socket(socket.AF_UNIX)
s.connect(os.path.join(g.work, "vnc.sock"))
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
typed = COMMAND + "/Z"
g.finish(typed, "sum=42 A_B~/Z")
s.close()
print("typed %r through VNC; the shell ran it (sum=42 A_B~/Z)" % typed)
