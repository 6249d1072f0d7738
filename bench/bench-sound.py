#!/usr/bin/env python3
"""Sound benchmark (issue 7): host CPU cost of SB16 playback at 44.1 kHz stereo in real
time, and output underruns while the guest also keeps the CPU busy.

usage: bench-sound.py HANGAR_RUN IDLE.bin BUSY.bin SECONDS

Runs each guest under hangar-run (host clock) with --audio none and, when Debian's
pulseaudio can be started here, --audio pulse into a private daemon's null sink. Prints
CPU time / wall time (one core = 100 %) and the underruns `info audio` reports near the
end. Figures only; nothing is asserted.
"""
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def run(hangar, image, secs, output, env, tmp):
    sock = os.path.join(tmp, "mon")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.Popen([hangar, "--bios", image, "--soundhw", "sb16", "--audio", output,
                          "--debug-exit", "--serial", "none", "--no-reboot",
                          "--monitor", "unix:" + sock],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(max(secs - 1.0, 0.5))
    info = ""
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        s.settimeout(2)
        s.sendall(b"info audio\n")
        time.sleep(0.3)
        info = s.recv(4096).decode(errors="replace")
        s.close()
    except OSError as e:
        info = f"(monitor: {e})"
    p.wait(timeout=secs + 60)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    under = "?"
    for line in info.splitlines():
        if "underruns:" in line:
            under = line.split("underruns:")[1].split(",")[0].strip()
    return cpu, wall, under, p.stderr.read().decode(errors="replace").strip()


def start_pulse(tmp):
    if not shutil.which("pulseaudio"):
        return None, None
    env = dict(os.environ, XDG_RUNTIME_DIR=tmp, HOME=tmp,
               PULSE_SERVER="unix:" + os.path.join(tmp, "native"),
               PULSE_CLIENTCONFIG=os.path.join(tmp, "client.conf"))
    env.pop("DISPLAY", None)
    with open(os.path.join(tmp, "client.conf"), "w") as f:
        f.write("enable-shm = no\n")
    d = subprocess.Popen(["pulseaudio", "--daemonize=no", "-n", "--exit-idle-time=-1",
                          "--use-pid-file=no", "--disable-shm=yes", "-L",
                          "module-native-protocol-unix socket=%s/native auth-anonymous=1" % tmp,
                          "-L", "module-null-sink sink_name=bench rate=44100 channels=2"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(os.path.join(tmp, "native")):
            time.sleep(0.3)
            return d, env
        time.sleep(0.1)
    d.kill()
    return None, None


def main():
    hangar, idle, busy, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    with tempfile.TemporaryDirectory() as tmp:
        daemon, penv = start_pulse(tmp)
        outputs = [("none", dict(os.environ))]
        if daemon:
            outputs.append(("pulse", penv))
        else:
            print("pulseaudio not available: --audio none only")
        try:
            for out, env in outputs:
                for name, image in (("idle guest", idle), ("busy guest", busy)):
                    cpu, wall, under, err = run(hangar, image, secs, out, env, tmp)
                    print(f"{secs:.0f} s of 44.1 kHz stereo, --audio {out}, {name}: "
                          f"CPU {cpu:.2f} s in {wall:.1f} s = {100 * cpu / wall:.1f} % "
                          f"of a core, underruns {under}")
                    if err:
                        print("  stderr: " + err[:300])
        finally:
            if daemon:
                daemon.kill()
                daemon.wait()


main()
