#!/usr/bin/env python3
"""The monitor's wavcapture and stopcapture (and info audio) on a running machine: the
SB16 guest program plays in real time while a recording is started and stopped through
the monitor socket; the file must be a valid WAV holding the tone. Bad requests get
their messages.

usage: monitor-capture.py HANGAR_RUN PROGRAM.bin WAVCHECK.py
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time


def ask(sock, line):
    """Sends a command and returns its reply. Socket replies have no prompt (and may be
    empty), so an "info version" follows each command and marks where its reply ends."""
    sock.sendall(line.encode() + b"\ninfo version\n")
    data = b""
    sock.settimeout(10)
    while not re.search(rb"Hangar \d+\.\d+\.\d+\n$", data):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    text = data.decode(errors="replace")
    return re.sub(r"Hangar \d+\.\d+\.\d+\n$", "", text).replace(
        "Hangar monitor - type help for the commands\n", "")


def main():
    run, prog, check = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        mon = os.path.join(tmp, "mon")
        wav = os.path.join(tmp, "cap.wav")
        p = subprocess.Popen([run, "--bios", prog, "--soundhw", "sb16", "--audio", "none",
                              "--debug-exit", "--serial", "none", "--no-reboot",
                              "--monitor", "unix:" + mon],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(100):
            if os.path.exists(mon):
                break
            time.sleep(0.05)
        s = socket.socket(socket.AF_UNIX)
        s.connect(mon)
        out = ask(s, "stopcapture")
        assert "no recording in progress" in out, out
        out = ask(s, "wavcapture /nonexistent/dir/x.wav")
        assert "cannot create the recording" in out, out
        out = ask(s, "wavcapture " + wav)
        assert "wavcapture:" not in out, out
        out = ask(s, "info audio")
        print(out.strip())
        assert "sound hardware: sb16" in out and "recording: on" in out, out
        time.sleep(0.6)
        out = ask(s, "stopcapture")
        assert "no recording" not in out, out
        out = ask(s, "info audio")
        assert "recording: off" in out, out
        s.close()
        p.wait(timeout=30)
        r = subprocess.run([sys.executable, check, wav, "--longest", "0.3",
                            "--tone", "0:1005.3314", "--tone", "1:1505.3055"])
        if r.returncode:
            sys.exit(1)


main()
