#!/usr/bin/env python3
"""Boot test 6 of issue 3: keys sent through the monitor's sendkey reach the busybox shell
through the PS/2 keyboard (i8042, IRQ 1, the Linux keyboard driver and its VT), and the
command runs. The guest (shellguest.py) reads one line from its first virtual terminal; the
test types a command key by key over the monitor's UNIX socket and checks its output.
usage: linux-keys.py HANGAR_RUN ASSETS_DIR
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shellguest import ShellGuest  # noqa: E402

# Typed as keys: a command whose output proves it ran (arithmetic the shell does).
COMMAND = "echo sum=$((6*7))"
KEYS = {" ": "spc", "=": "equal", "$": "shift-4", "(": "shift-9", ")": "shift-0",
        "*": "shift-8"}

g = ShellGuest(sys.argv[1], sys.argv[2], ["--monitor", "unix:@WORK@/monitor.sock"])
g.wait_prompt()
s = socket.socket(socket.AF_UNIX)
s.connect(os.path.join(g.work, "monitor.sock"))
f = s.makefile("rw")
f.readline()  # greeting
for ch in COMMAND + "\n":
    f.write("sendkey %s\n" % ("ret" if ch == "\n" else KEYS.get(ch, ch)))
    f.flush()
    time.sleep(0.05)
g.finish(COMMAND, "sum=42")
s.close()
print("typed %r through the monitor; the shell ran it (sum=42)" % COMMAND)
