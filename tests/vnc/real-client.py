#!/usr/bin/env python3
"""Proof 4 of issue 4: real VNC clients from Debian against hangar-run --vnc.

hangar-run boots SeaBIOS and a boot sector (echo-boot.asm: echoes the keys the BIOS
returns on its text screen, and on Enter switches to VGA mode 13h filled with colour 4).

1. Capture: with the guest paused (monitor "stop"), the monitor's screendump (PNG) and a
   vncsnapshot capture (Debian's vncsnapshot, raw transmission with -nojpeg, written as a
   JPEG of quality 100) of the same moment have the same size and the same pixels within a
   small per-pixel tolerance for the JPEG's rounding; done for the SeaBIOS text screen
   (720x400) and, at the end, for mode 13h (320x200).
2. Keys: Debian's xtightvncviewer under Xvfb, with xdotool typing into its window (real X
   key events: the viewer sends them as RFB KeyEvents with X keysyms, Shift included), and
   the typed text shows on the guest's text screen (the monitor's info screen); Enter
   reaches the guest too (it switches mode).

Each part is skipped, with a message, when its tools are missing (Debian: vncsnapshot
libjpeg-turbo-progs; xtightvncviewer xvfb xdotool x11-utils); with neither, the test exits 77.
usage: real-client.py HANGAR_RUN
"""
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

run = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
TYPED = "Real VNC 42!"
# A pixel matches when no channel differs by more than this: JPEG at quality 100 (4:2:0
# chroma) blurs colour edges of the glyphs by a few levels, never by a glyph's contrast.
TOLERANCE = 40
GRAPHICS = "graphics mode"  # what the monitor's info screen says without a text screen

can_capture = all(shutil.which(t) for t in ("vncsnapshot", "djpeg"))
can_type = all(shutil.which(t) for t in ("xvfb-run", "Xvfb", "xtightvncviewer", "xdotool",
                                           "xwininfo"))
if not can_capture and not can_type:
    print("SKIP: not installed: vncsnapshot and djpeg, or xtightvncviewer, Xvfb and xdotool "
          "(Debian: vncsnapshot libjpeg-turbo-progs xtightvncviewer xvfb xdotool x11-utils)")
    sys.exit(77)
if can_type and os.environ.get("HG_VNC_TEST_XVFB") != "1":
    env = dict(os.environ, HG_VNC_TEST_XVFB="1")
    env.pop("WAYLAND_DISPLAY", None)
    sys.exit(subprocess.call(["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24",
                              sys.executable] + sys.argv, env=env))

failures, passed = [], []


def check(cond, what):
    print("%s: %s" % ("ok" if cond else "FAIL", what))
    (passed if cond else failures).append(what)
    return cond


def read_png(path):
    """Decodes an 8-bit RGB, non-interlaced PNG (what screendump writes) to RGB bytes."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype == 2 and interlace == 0, "unexpected PNG format"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride, out, prev = w * 3, bytearray(), bytearray(w * 3)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b, c = prev[i], prev[i - 3] if i >= 3 else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return w, h, bytes(out)


def read_jpeg(path):
    """Decodes a JPEG with djpeg into RGB bytes (binary PPM)."""
    ppm = subprocess.run(["djpeg", "-pnm", path], capture_output=True, check=True).stdout
    fields, pos = [], 0
    while len(fields) < 4:  # P6 width height maxval, separated by whitespace
        while ppm[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not ppm[end:end + 1].isspace():
            end += 1
        fields.append(ppm[pos:end])
        pos = end
    assert fields[0] == b"P6" and fields[3] == b"255", "unexpected PPM from djpeg"
    w, h = int(fields[1]), int(fields[2])
    return w, h, ppm[pos + 1:pos + 1 + w * h * 3]


class Monitor:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.f = self.s.makefile("rw")
        self.f.readline()

    def cmd(self, line):
        """Runs a command; returns its output (read up to the status line that follows)."""
        self.f.write(line + "\ninfo status\n")
        self.f.flush()
        lines = []
        while True:
            got = self.f.readline()
            if not got or got.startswith("VM status:"):
                return "".join(lines)
            lines.append(got)

    def wait_screen(self, text, timeout):
        deadline = time.time() + timeout
        while True:
            screen = self.cmd("info screen")
            if text in screen or time.time() > deadline:
                return screen
            time.sleep(0.3)


def wait_graphics(mon, timeout=30):
    """Waits until the guest left text mode (after Enter, echo-boot sets mode 13h)."""
    return GRAPHICS in mon.wait_screen(GRAPHICS, timeout)


def wait_for(path, proc, timeout=30):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None or time.time() > deadline:
            raise SystemExit("FAIL: hangar-run did not open %s (status %s)" % (path, proc.poll()))
        time.sleep(0.1)


def free_display():
    for n in range(40, 99):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", 5900 + n))
                return n
            except OSError:
                continue
    raise SystemExit("FAIL: no free TCP port from 5940 to 5998")


def compare_capture(mon, work, display, name, min_lit):
    """Pauses the guest, takes the screendump and a vncsnapshot capture, compares them."""
    mon.cmd("stop")
    try:
        png, jpg = os.path.join(work, name + ".png"), os.path.join(work, name + ".jpg")
        out = mon.cmd("screendump " + png)
        if not check(os.path.exists(png), "%s: the monitor's screendump wrote %s %s"
                     % (name, png, out.strip())):
            return
        snap = subprocess.run(["vncsnapshot", "-quiet", "-allowblank", "-nojpeg",
                               "-quality", "100", "127.0.0.1:%d" % display, jpg],
                              capture_output=True, text=True, timeout=60)
        if not check(snap.returncode == 0 and os.path.exists(jpg),
                     "%s: vncsnapshot captured the VNC desktop (status %d %s)"
                     % (name, snap.returncode, snap.stderr.strip()[-200:])):
            return
    finally:
        mon.cmd("cont")
    w, h, ref = read_png(png)
    jw, jh, got = read_jpeg(jpg)
    if not check((jw, jh) == (w, h), "%s: capture %dx%d, screendump %dx%d" % (name, jw, jh, w, h)):
        return
    lit = sum(1 for i in range(0, len(ref), 3) if ref[i:i + 3] != ref[0:3])
    check(lit >= min_lit, "%s: the screendump has a picture (%d pixels differ from the "
          "top-left one)" % (name, lit))
    bad, total_diff, worst = 0, 0, 0
    for i in range(0, len(ref), 3):
        d = max(abs(ref[i] - got[i]), abs(ref[i + 1] - got[i + 1]), abs(ref[i + 2] - got[i + 2]))
        total_diff += d
        worst = max(worst, d)
        if d > TOLERANCE:
            bad += 1
    n = w * h
    check(bad == 0 and total_diff / n < 4,
          "%s: capture matches the screendump: %d of %d pixels off by more than %d, mean "
          "difference %.2f, largest %d" % (name, bad, n, TOLERANCE, total_diff / n, worst))


def type_with_viewer(mon, display, work):
    """xtightvncviewer in Xvfb, xdotool types into it; the guest echoes on its screen."""
    wm = None
    if shutil.which("openbox"):
        wm = subprocess.Popen(["openbox"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
    # The X pointer away from where the viewer's window goes: motion over it would become
    # PS/2 packets, which this guest prints among the echoed keys.
    subprocess.run(["xdotool", "mousemove", "1270", "1010"], timeout=30)
    log = open(os.path.join(work, "viewer.log"), "w")
    viewer = subprocess.Popen(["xtightvncviewer", "-geometry", "+0+0",
                               "127.0.0.1:%d" % display], stdout=log, stderr=log)
    try:
        wid = None
        deadline = time.time() + 30
        while wid is None and time.time() < deadline and viewer.poll() is None:
            out = subprocess.run(["xdotool", "search", "--name", "Hangar"],
                                 capture_output=True, text=True, timeout=30).stdout.split()
            wid = out[0] if out else None
            time.sleep(0.3)
        if not check(wid is not None, "xtightvncviewer opened its window (desktop \"Hangar\")"):
            return
        time.sleep(1)  # the first full update drawn
        if wm:
            subprocess.run(["xdotool", "windowactivate", "--sync", wid], timeout=30)
        # The keyboard focus on the viewer's innermost window (its desktop widget, which
        # turns X key events into RFB KeyEvents): Xt does not forward keys from the shell.
        tree = subprocess.run(["xwininfo", "-tree", "-id", wid], capture_output=True,
                              text=True, timeout=30).stdout
        inner = re.findall(r"^\s+(0x[0-9a-f]+) ", tree, re.M)
        subprocess.run(["xdotool", "windowfocus", "--sync", inner[-1] if inner else wid],
                       timeout=30)
        subprocess.run(["xdotool", "type", "--delay", "80", TYPED], timeout=60)
        want = "vnc> " + TYPED  # the prompt is "vnc> "
        screen = mon.wait_screen(want, 30)
        if not check(want in screen, "the text typed into xtightvncviewer reached the guest: %r"
                     % want):
            print(screen)
            mon.cmd("sendkey ret")  # on to the mode 13h capture all the same
            return
        subprocess.run(["xdotool", "key", "Return"], timeout=30)
        check(wait_graphics(mon),
              "Enter typed into the viewer reached the guest (it left text mode)")
    finally:
        viewer.terminate()
        viewer.wait(timeout=30)
        log.close()
        if wm:
            wm.terminate()
            wm.wait(timeout=30)


def main(work):
    floppy = os.path.join(work, "floppy.img")
    subprocess.run(["nasm", "-f", "bin", "-o", floppy, os.path.join(here, "echo-boot.asm")],
                   check=True)
    with open(floppy, "r+b") as f:
        f.truncate(1474560)
    display = free_display()
    mon_path = os.path.join(work, "mon.sock")
    proc = subprocess.Popen([run, "-m", "32", "--serial", "none", "--fda", floppy, "--boot", "a",
                             "--vnc", "127.0.0.1:%d" % display, "--monitor", "unix:" + mon_path])
    try:
        wait_for(mon_path, proc)
        mon = Monitor(mon_path)
        screen = mon.wait_screen("vnc>", 120)
        if not check("SeaBIOS" in screen and "vnc>" in screen,
                     "SeaBIOS banner and the boot sector's prompt on the text screen"):
            print(screen)
            return
        if can_capture:
            compare_capture(mon, work, display, "text", 1000)
        else:
            print("skip: capture comparison (install vncsnapshot libjpeg-turbo-progs)")
        if can_type:
            type_with_viewer(mon, display, work)
        else:
            print("skip: typing through a viewer (install xtightvncviewer xvfb xdotool x11-utils)")
            mon.cmd("sendkey ret")
        if can_capture:
            wait_graphics(mon)
            time.sleep(0.5)  # the fill of the 64000 pixels done
            compare_capture(mon, work, display, "mode13h", 0)
        mon.cmd("quit")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


with tempfile.TemporaryDirectory() as work:
    main(work)
print("%d passed, %d failed" % (len(passed), len(failures)))
sys.exit(1 if failures else 0)
