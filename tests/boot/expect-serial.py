#!/usr/bin/env python3
"""Runs hangar-run and waits until its serial output (with terminal escape sequences
removed) matches a regular expression; then stops the machine. For boot tests whose end
is a screen, not a power-off (the Debian installer's first question).

usage: expect-serial.py TIMEOUT_S REGEX HANGAR_RUN ARGS...
(--serial file:... is added here)
"""
import os
import re
import subprocess
import sys
import tempfile
import time

timeout, pattern, run, args = float(sys.argv[1]), re.compile(sys.argv[2]), sys.argv[3], sys.argv[4:]
ESC = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\([0-9A-Za-z])")

with tempfile.TemporaryDirectory() as work:
    serial = os.path.join(work, "serial.log")
    start = time.time()
    proc = subprocess.Popen([run, "--serial", "file:" + serial] + args)
    text = ""
    while True:
        try:
            with open(serial, "rb") as f:
                text = ESC.sub("", f.read().decode("latin-1"))
        except FileNotFoundError:
            pass
        if pattern.search(text):
            proc.kill()
            proc.wait()
            print("matched %r after %.0f s of wall time" % (pattern.pattern, time.time() - start))
            sys.exit(0)
        if proc.poll() is not None:
            print("FAIL: hangar-run ended with status %d before %r appeared" %
                  (proc.returncode, pattern.pattern))
            break
        if time.time() - start > timeout:
            proc.kill()
            print("FAIL: %r did not appear within %.0f s" % (pattern.pattern, timeout))
            break
        time.sleep(0.5)
    print(text[-3000:])
    sys.exit(1)
