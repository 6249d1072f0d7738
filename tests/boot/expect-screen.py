#!/usr/bin/env python3
"""Runs hangar-run with a monitor socket and polls the text screen ("info screen") until
it matches a regular expression (and, optionally, never matched a forbidden one); then
stops the machine. For boot tests whose result is on the screen (the SeaBIOS banner,
memtest86+).

usage: expect-screen.py TIMEOUT_S REGEX FORBIDDEN_REGEX|- HANGAR_RUN ARGS...
(--monitor unix:... is added here)
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

timeout, want = float(sys.argv[1]), re.compile(sys.argv[2])
bad = None if sys.argv[3] == "-" else re.compile(sys.argv[3])
run, args = sys.argv[4], sys.argv[5:]

with tempfile.TemporaryDirectory() as work:
    mon = os.path.join(work, "monitor.sock")
    start = time.time()
    proc = subprocess.Popen([run, "--monitor", "unix:" + mon] + args)
    while not os.path.exists(mon):
        if proc.poll() is not None or time.time() - start > 30:
            print("FAIL: hangar-run did not open its monitor (status %s)" % proc.poll())
            sys.exit(1)
        time.sleep(0.1)
    s = socket.socket(socket.AF_UNIX)
    s.connect(mon)
    f = s.makefile("rw")
    f.readline()
    screen = ""

    def info_screen():
        f.write("info screen\ninfo status\n")
        f.flush()
        lines = []
        while True:
            line = f.readline()
            if not line or line.startswith("VM status:"):
                return "".join(lines)
            lines.append(line)

    status = 1
    while True:
        screen = info_screen()
        if bad and bad.search(screen):
            print("FAIL: the screen shows %r" % bad.search(screen).group(0))
            break
        if want.search(screen):
            print("matched %r after %.0f s of wall time" % (want.pattern, time.time() - start))
            status = 0
            break
        if proc.poll() is not None:
            print("FAIL: hangar-run ended with status %d" % proc.returncode)
            break
        if time.time() - start > timeout:
            print("FAIL: %r not on the screen within %.0f s" % (want.pattern, timeout))
            break
        time.sleep(1)
    f.write("quit\n")
    f.flush()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    if status:
        print(screen)
    sys.exit(status)
