#!/usr/bin/env python3
"""A hangar-run killed with SIGKILL in the middle of --record leaves a playable WAV: the
header, patched every two seconds, declares the audio written up to the last patch, and
that audio is the guest's tone. (The guest plays for three seconds; the kill comes at
2.6 s of real time.)

usage: killed-recording.py HANGAR_RUN PROGRAM.bin WAVCHECK.py
"""
import os
import signal
import subprocess
import sys
import tempfile
import time


def main():
    run, prog, check = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "killed.wav")
        p = subprocess.Popen([run, "--bios", prog, "--soundhw", "sb16", "--audio", "none",
                              "--record", wav, "--debug-exit", "--serial", "none",
                              "--no-reboot"], stdout=subprocess.DEVNULL)
        time.sleep(2.6)
        p.send_signal(signal.SIGKILL)
        p.wait()
        if p.returncode != -signal.SIGKILL:
            print(f"FAIL: hangar-run ended with {p.returncode} before the kill")
            sys.exit(1)
        size = os.path.getsize(wav)
        print(f"{wav}: {size} bytes after SIGKILL")
        r = subprocess.run([sys.executable, check, wav, "--longest", "1.0",
                            "--tone", "0:1005.3314", "--tone", "1:1505.3055"])
        sys.exit(r.returncode)


main()
