#!/usr/bin/env python3
"""Two consumers of one machine's display at once (engine/display.h): hangar-run with both
an SDL window (under Xvfb) and a VNC server, SeaBIOS and a boot sector that echoes keys on
its text screen (tests/vnc/echo-boot.asm). Keys typed through the monitor change the
screen while both views are open; then the VNC client's picture (incremental updates only,
after the first) and an X screenshot of the SDL window (xwd) must both equal the monitor's
screendump pixel for pixel: each view gets every change, neither takes the other's.

Runs itself under xvfb-run -a when not already inside it; exits 77 (skip) without Xvfb,
xdotool or xwd. usage: two-views.py HANGAR_RUN
"""
import os
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
sys.path.insert(0, os.path.join(here, "..", "vnc"))
import rfb  # noqa: E402

if os.environ.get("HG_TWO_VIEWS_XVFB") != "1":
    missing = [t for t in ("xvfb-run", "Xvfb", "xdotool", "xwd") if not shutil.which(t)]
    if missing:
        print("SKIP: not installed: %s (Debian: xvfb xdotool x11-apps)" % " ".join(missing))
        sys.exit(77)
    env = dict(os.environ, HG_TWO_VIEWS_XVFB="1")
    env.pop("WAYLAND_DISPLAY", None)
    sys.exit(subprocess.call(["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24",
                              sys.executable] + sys.argv, env=env))

failures = []


def check(cond, what):
    print("%s: %s" % ("ok" if cond else "FAIL", what))
    if not cond:
        failures.append(what)
    return cond


def read_png(path):
    """Decodes an 8-bit RGB, non-interlaced PNG (what screendump writes): (w, h, [0xRRGGBB])."""
    with open(path, "rb") as f:
        data = f.read()
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
    stride, out, prev = w * 3, [], bytearray(w * 3)
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
        out += [line[i] << 16 | line[i + 1] << 8 | line[i + 2] for i in range(0, stride, 3)]
        prev = line
    return w, h, out


def read_xwd(wid, path):
    """An X screenshot of window wid (ZPixmap, 32 bits per pixel): (w, h, [0xRRGGBB])."""
    with open(path, "wb") as f:
        subprocess.run(["xwd", "-silent", "-id", str(wid)], stdout=f, check=True, timeout=30)
    data = open(path, "rb").read()
    h = struct.unpack(">25I", data[:100])
    hsize, fmt, width, height = h[0], h[2], h[4], h[5]
    byte_order, bpp, bpl, ncolors = h[7], h[11], h[12], h[19]
    if fmt != 2 or bpp != 32:
        raise RuntimeError("unexpected xwd format %d, %d bpp" % (fmt, bpp))
    pix = data[hsize + 12 * ncolors:]
    order = "<" if byte_order == 0 else ">"
    out = []
    for y in range(height):
        out += [p & 0xffffff for p in struct.unpack_from(order + "%dI" % width, pix, y * bpl)]
    return width, height, out


class Monitor:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.f = self.s.makefile("rw")
        self.f.readline()

    def cmd(self, line):
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
            time.sleep(0.2)


def differ(a, b):
    return sum(1 for x, y in zip(a, b) if x != y) + abs(len(a) - len(b))


with tempfile.TemporaryDirectory() as work:
    floppy = os.path.join(work, "fd.img")
    subprocess.run(["nasm", "-f", "bin", "-o", floppy,
                    os.path.join(here, "..", "vnc", "echo-boot.asm")], check=True)
    with open(floppy, "r+b") as f:
        f.truncate(1474560)
    vnc_path, mon_path = os.path.join(work, "vnc.sock"), os.path.join(work, "mon.sock")
    # The X pointer away from the window: motion over it is not this test's business.
    subprocess.run(["xdotool", "mousemove", "1270", "1010"], timeout=30)
    proc = subprocess.Popen([run, "-m", "32", "--serial", "none", "--fda", floppy, "--boot", "a",
                             "--display", "sdl", "--vnc", "unix:" + vnc_path,
                             "--monitor", "unix:" + mon_path])
    try:
        deadline = time.time() + 30
        while not (os.path.exists(mon_path) and os.path.exists(vnc_path)):
            if proc.poll() is not None or time.time() > deadline:
                raise SystemExit("FAIL: hangar-run did not start (status %s)" % proc.poll())
            time.sleep(0.1)
        mon = Monitor(mon_path)
        screen = mon.wait_screen("vnc>", 120)
        check("vnc>" in screen, "the boot sector's prompt is on the text screen")
        out = subprocess.run(["xdotool", "search", "--name", "^Hangar"], capture_output=True,
                             text=True, timeout=30).stdout.split()
        wid = out[0] if out else None
        check(wid is not None, "the SDL window exists")
        s = socket.socket(socket.AF_UNIX)
        s.connect(vnc_path)
        c = rfb.Client(s)
        c.set_encodings([rfb.ENC_RAW, rfb.ENC_DESKTOP_SIZE])
        c.update()
        for key in "twoviews":
            mon.cmd("sendkey " + key)
        screen = mon.wait_screen("vnc> twoviews", 30)
        check("vnc> twoviews" in screen, "the keys reached the guest's screen")
        time.sleep(0.5)  # the text drawn and both views refreshed
        mon.cmd("stop")  # the cursor blink would change the picture between the shots
        time.sleep(0.2)
        shot = os.path.join(work, "dump.png")
        mon.cmd("screendump " + shot)
        w, h, ref = read_png(shot)
        # VNC: incremental updates only, until nothing more comes.
        for _ in range(20):
            try:
                c.update(incremental=True, timeout=0.3)
            except socket.timeout:
                break
        n = differ(c.fb, ref)
        check((c.width, c.height) == (w, h) and n == 0,
              "the VNC client's picture (%dx%d, incremental updates) equals the screendump "
              "(%dx%d): %d pixels differ" % (c.width, c.height, w, h, n))
        if wid:
            xw, xh, xpix = read_xwd(wid, os.path.join(work, "window.xwd"))
            n = differ(xpix, ref)
            check((xw, xh) == (w, h) and n == 0, "the SDL window's picture (%dx%d) equals the "
                  "screendump: %d pixels differ" % (xw, xh, n))
        mon.cmd("cont")
        s.close()
        mon.cmd("quit")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
print("%d failed" % len(failures))
sys.exit(1 if failures else 0)
